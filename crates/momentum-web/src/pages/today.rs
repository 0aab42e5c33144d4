//! Today: the seller's overdue and due next steps, ranked by what is at stake, each with
//! the decision it aims at; and the one form that logs how an interaction ended.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use jiff::Timestamp;
use maud::html;
use momentum_core::model::{AccountId, DealId, Month};
use momentum_core::vocab::Role;
use momentum_core::DomainError;
use momentum_store::ops::{self, DealSummary};
use momentum_store::{directory, reports, StoreError};

use crate::auth::CurrentUser;
use crate::db::{read_store, with_store};
use crate::error::{PageError, WebError};
use crate::pages::forms::{self, LogForm};
use crate::pages::{layout, money, when};
use crate::AppState;

/// The most deals the page lists: a day's work, most at stake first. The rest are counted
/// (and are on the pipeline page); listing 200 — with every contact of their accounts in
/// the log form — made the page several times dearer for no one to scroll through.
const TODAY_PAGE: u32 = 50;

struct TodayData {
    deals: Vec<DealSummary>,
    /// Next steps due in all (more than `deals` when the seller has a backlog).
    due: u64,
    contacts: Vec<(i64, String)>,
    /// The seller has not rated this month's commitment yet.
    check_in_missing: bool,
}

async fn load(state: &AppState, user: &CurrentUser) -> Result<TodayData, WebError> {
    let s = user.session.clone();
    read_store(state, move |store| {
        let now = s.now(Timestamp::now());
        // One read for the whole page, and on PostgreSQL without a transaction around it:
        // round trips were a good part of the page, and its parts need not agree to the
        // instant.
        let (ops::TodayList { rows: deals, due }, mut by_account, check_in_missing) = store.read_statements(|tx| {
            let list = ops::today_in(tx, &s, now, TODAY_PAGE)?;
            // The buyers at the due deals' accounts, each account read once, in one query:
            // per account, this was most of the page at 1M deals.
            let mut seen = std::collections::BTreeSet::new();
            let accounts: Vec<_> = list
                .rows
                .iter()
                .filter(|r| r.account.is_some())
                .filter_map(|r| r.account_id.map(AccountId))
                .filter(|a| seen.insert(*a))
                .collect();
            let contacts = directory::contact_names_of_accounts_in(tx, &s, &accounts)?;
            // A seller who has not rated this month's commitment is reminded here.
            let missing = s.user.role == Role::Seller && !reports::checked_in(tx, &s, Month::of(now.today))?;
            Ok((list, contacts, missing))
        })?;
        let mut contacts: Vec<(i64, String)> = Vec::new();
        for r in &deals {
            let (Some(account), Some(account_name)) = (r.account_id, r.account.as_deref()) else {
                continue;
            };
            for (id, name) in by_account.remove(&AccountId(account)).unwrap_or_default() {
                contacts.push((id.0, format!("{name} ({account_name})")));
            }
        }
        Ok(TodayData {
            deals,
            due,
            contacts,
            check_in_missing,
        })
    })
    .await
}

fn render(user: &CurrentUser, data: &TodayData, form: &LogForm, error: Option<&DomainError>) -> maud::Markup {
    let s = &user.session;
    let now = Timestamp::now();
    let deal_choices: Vec<(i64, i64, String)> = data
        .deals
        .iter()
        .map(|d| (d.id, d.version, format!("{} — {}", d.id, d.title)))
        .collect();
    let choices = forms::Choices {
        org: &s.org,
        deal: None,
        deals: &deal_choices,
        contacts: &data.contacts,
        default_objective: None,
    };
    layout::page(
        "Today",
        user,
        "Today",
        html! {
            h1 { "Today" }
            @if data.check_in_missing {
                p.card.reminder id="check-in-reminder" {
                    "You have not checked in this month. "
                    a href="/check-in" { "Rate your commitment to this month's goal" }
                }
            }
            @if data.deals.is_empty() {
                p.card { "Nothing due today, " (s.user.name) ". Time to prospect: people likely to have the problem you solve." }
            } @else {
                @if data.due > data.deals.len() as u64 {
                    p.muted { (data.due) " next steps due; the " (data.deals.len()) " most at stake first." }
                } @else {
                    p.muted { (data.deals.len()) " next steps due, most at stake first." }
                }
                table.responsive {
                    thead { tr { th { "Due" } th { "Deal" } th.num { "Value" } th { "Stands on" } th { "Aims at" } th { "Committed by" } } }
                    tbody {
                        @for d in &data.deals {
                            @if let Some(n) = &d.next_step {
                                tr {
                                    td { @if n.due < now { span.overdue { (when(&s.org, n.due)) " overdue" } } @else { (when(&s.org, n.due)) } " · " (n.kind) }
                                    td { a href={"/deals/" (d.id)} { (d.title) } br; span.muted { (d.account.clone().unwrap_or_default()) } }
                                    td.num { (money(d.value)) }
                                    td { (d.stage.step) ". " (d.stage.name) }
                                    td { strong { (n.aims_at.name) } }
                                    td { @if n.buyer_committed { span.tag.ok { "buyer" } } @else { span.tag { "seller only" } } }
                                }
                            }
                        }
                    }
                }
                (forms::render("/log#log", &user.csrf, form, &choices, error))
            }
        },
    )
}

pub async fn page(State(state): State<AppState>, user: CurrentUser) -> Result<Response, PageError> {
    let data = load(&state, &user).await?;
    Ok(render(&user, &data, &LogForm::default(), None).into_response())
}

pub async fn log(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<LogForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let posted = form.clone();
    let result = with_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        let id = posted.deal_id()?;
        let input = posted.to_input(&s.org, now)?;
        ops::log_interaction(store, &s, DealId(id), input, now)?;
        Ok(id)
    })
    .await;
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/deals/{id}?logged=1")).into_response()),
        Err(WebError::Store(StoreError::Domain(e))) => {
            let data = load(&state, &user).await?;
            let status = WebError::from(e.clone()).status();
            Ok((status, render(&user, &data, &form, Some(&e))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
