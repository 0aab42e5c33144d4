//! The Deal page: the decision timeline, the compelling-need card (or the prompt to record
//! one or disqualify), the interactions, the next step, the next buyer decision to prepare
//! for, and the log form.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use jiff::Timestamp;
use maud::html;
use momentum_core::model::{DealId, Step};
use momentum_core::vocab::{DealStatus, Direction};
use momentum_core::DomainError;
use momentum_store::ops::{self, DealView};
use momentum_store::StoreError;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::{read_store, with_store};
use crate::error::{PageError, WebError};
use crate::pages::forms::{self, LogForm};
use crate::pages::{layout, money, ui, when};
use crate::AppState;

/// A deal as its pages show it: the view, its account's id, and the buyers there.
pub(crate) struct DealData {
    pub view: DealView,
    pub account: Option<i64>,
    pub contacts: Vec<(i64, String)>,
}

pub(crate) async fn load(state: &AppState, user: &CurrentUser, id: i64) -> Result<DealData, WebError> {
    let s = user.session.clone();
    read_store(state, move |store| {
        let view = ops::show_deal(store, &s, DealId(id))?;
        let account = view.summary.account_id.map(momentum_core::model::AccountId);
        let contacts = match account {
            Some(a) => momentum_store::directory::account_contacts(store, &s, a)?
                .into_iter()
                .map(|c| (c.id.0, c.name))
                .collect(),
            None => Vec::new(),
        };
        Ok(DealData {
            view,
            account: account.map(|a| a.0),
            contacts,
        })
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct Flash {
    logged: Option<String>,
    /// Set after another change to the deal: need, rescheduled, won, lost, disqualified, created.
    done: Option<String>,
}

/// The notice shown after a change, by what was done.
fn done_notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "need" => "Compelling need recorded.",
        "rescheduled" => "Rescheduled. The new next step is below.",
        "won" => "Closed won: the buyer signed.",
        "lost" => "Closed lost, on the buyer's definitive no.",
        "disqualified" => "Disqualified: the pipeline no longer counts this deal.",
        "created" => "Deal created. Its first next step is below.",
        _ => return None,
    })
}

fn render(
    user: &CurrentUser,
    data: &DealData,
    form: &LogForm,
    error: Option<&DomainError>,
    logged: bool,
    done: Option<&str>,
) -> maud::Markup {
    let s = &user.session;
    let v = &data.view;
    let d = &v.summary;
    let name = |c: Option<momentum_core::model::ContactId>| {
        c.and_then(|c| v.contacts.get(&c.0).cloned())
            .unwrap_or_else(|| "—".into())
    };
    let ladder = &s.org.ladder;
    let open = d.status == DealStatus::Open;
    let choices = forms::Choices {
        org: &s.org,
        deal: Some((d.id, d.version)),
        deals: &[],
        contacts: &data.contacts,
        default_objective: Some(ladder.next_after(Step(d.stage.step))),
    };
    layout::page(
        &d.title,
        user,
        "",
        html! {
            @if logged { p.notice role="status" { "Logged. The deal's next step is below." } }
            (ui::notice(done_notice(done)))
            h1 { (d.title) }
            p.muted {
                @match (data.account, &d.account) {
                    (Some(a), Some(name)) => a href={"/accounts/" (a)} { (name) },
                    _ => "No account",
                }
                " · owner " (d.owner) " · " (money(d.value))
                " · " (d.status) " · stands on " (d.stage.step) ". " (d.stage.name)
                @if let Some(c) = d.expected_close { " · expected close " (c) }
            }
            @if let Some(reason) = &d.close_reason { p.card { "Closed: " (reason) } }
            section.card id="next-step" {
                h2 { "Next step" }
                @match &d.next_step {
                    Some(n) => p {
                        strong { (when(&s.org, n.due)) } " · " (n.kind) " · aims at “" (n.aims_at.name) "” · "
                        @if n.buyer_committed { span.tag.ok { "buyer committed" } } @else { span.tag { "seller scheduled" } }
                    },
                    None => p.muted { "None: the deal is closed." },
                }
                @if let Some(p) = &v.prepare_for { p { "Prepare for the buyer's next decision: " strong { (p.step) ". " (p.name) } } }
                @if open {
                    p.actions {
                        a href={"/deals/" (d.id) "/reschedule"} { "Reschedule" }
                        a href={"/deals/" (d.id) "/close"} { "Close: won or lost" }
                    }
                }
            }
            @match &v.need {
                Some(n) => section.card id="need" {
                    h2 { "Compelling need" }
                    p { span.tag.ok { (n.kind) } " “" (n.buyer_words) "”" }
                    p { "If nothing changes: " (n.consequence) }
                    p { "Matters by " strong { (n.matters_by) } " · costs " strong { (n.cost_per_month) } " a month" }
                    @if open {
                        p.actions {
                            a href={"/deals/" (d.id) "/need"} { "Change the need" }
                            a href={"/deals/" (d.id) "/disqualify"} { "Disqualify" }
                        }
                    }
                },
                None => section.card.warn id="need" {
                    h2 { "No compelling need recorded" }
                    p { "Work deals where the buyer has a dated, quantified reason to act. Record the need in the buyer's words, or disqualify the deal so the pipeline tells the truth." }
                    @if open {
                        p.actions {
                            a href={"/deals/" (d.id) "/need"} { "Record the need" }
                            a href={"/deals/" (d.id) "/disqualify"} { "Disqualify" }
                        }
                    }
                },
            }
            section id="timeline" {
                h2 { "Decision timeline" }
                @if v.decisions.is_empty() { p.muted { "No buyer decision yet." } }
                ol.timeline {
                    @for x in &v.decisions {
                        li {
                            (when(&s.org, x.decided_at)) " · "
                            @if x.direction == Direction::Advance { span.tag.ok { "advanced" } } @else { span.tag { "went back" } }
                            " " (x.from.0) " → " (x.to.0) " " strong { (ladder.name(x.to)) } " · " (name(x.contact))
                        }
                    }
                }
            }
            section id="interactions" {
                h2 { "Interactions" }
                @if v.interactions.is_empty() { p.muted { "None yet." } }
                ol.timeline {
                    @for i in v.interactions.iter().rev() {
                        li {
                            (when(&s.org, i.occurred_at)) " · " (i.kind) " with " (name(i.contact))
                            " · asked for “" (ladder.name(i.objective)) "” → " strong { (i.result) } ", " (i.commitment)
                            @if !i.notes.is_empty() { br; span.muted { (i.notes) } }
                        }
                    }
                }
            }
            @if d.status == DealStatus::Open {
                (forms::render(&format!("/deals/{}/log#log", d.id), &user.csrf, form, &choices, error))
            }
        },
    )
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(flash): Query<Flash>,
) -> Result<Response, PageError> {
    let data = load(&state, &user, id).await?;
    Ok(render(
        &user,
        &data,
        &LogForm::default(),
        None,
        flash.logged.is_some(),
        flash.done.as_deref(),
    )
    .into_response())
}

pub async fn log(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<LogForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let posted = form.clone();
    let result = with_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        let input = posted.to_input(&s.org, now)?;
        ops::log_interaction(store, &s, DealId(id), input, now)?;
        Ok(())
    })
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/deals/{id}?logged=1")).into_response()),
        Err(WebError::Store(StoreError::Domain(e))) => {
            let data = load(&state, &user, id).await?;
            let status = WebError::from(e.clone()).status();
            Ok((status, render(&user, &data, &form, Some(&e), false, None)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
