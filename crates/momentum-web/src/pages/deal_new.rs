//! A new deal: title, value, the buying account and contact, the expected close, its owner
//! (a manager or admin may create one for someone they see), and its first next step: an
//! appointment, or a seller follow-up placed by the cadence. An open deal always has one.
//!
//! The account list offers the first accounts only (the store work stays bounded); the
//! account's page opens this form with its account chosen and its contacts offered.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use jiff::Timestamp;
use maud::{html, Markup};
use momentum_core::commands::FollowUp;
use momentum_core::model::{AccountId, ContactId, Now, Org, User};
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::InteractionKind;
use momentum_core::DomainError;
use momentum_store::{directory, ops};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::{read_store, with_store};
use crate::error::{PageError, WebError};
use crate::pages::layout;
use crate::pages::ui::{self, error_at, error_general, number, text, val, Posted};
use crate::AppState;

/// How many accounts the account list offers.
pub const ACCOUNT_CHOICES: u32 = 200;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct NewDealForm {
    pub csrf: Option<String>,
    pub title: Option<String>,
    pub value: Option<String>,
    pub currency: Option<String>,
    pub account: Option<String>,
    pub contact: Option<String>,
    pub owner: Option<String>,
    pub expected_close: Option<String>,
    pub next_at: Option<String>,
    pub next_kind: Option<String>,
    pub aims_at: Option<String>,
    pub buyer_committed: Option<String>,
}

/// What the form offers to choose from.
struct Choices {
    /// (id, name); the chosen account among them.
    accounts: Vec<(i64, String)>,
    /// The chosen account's contacts: (id, name).
    contacts: Vec<(i64, String)>,
    /// Users the actor may create deals for (only themselves, for a seller).
    owners: Vec<User>,
}

async fn choices(state: &AppState, user: &CurrentUser, account: Option<i64>) -> Result<Choices, WebError> {
    let s = user.session.clone();
    read_store(state, move |store| {
        let mut accounts: Vec<(i64, String)> = directory::accounts(store, &s, None, ACCOUNT_CHOICES)?
            .into_iter()
            .map(|a| (a.id.0, a.name))
            .collect();
        let mut contacts = Vec::new();
        if let Some(id) = account {
            match directory::account(store, &s, AccountId(id)) {
                Ok(view) => {
                    if !accounts.iter().any(|(a, _)| *a == id) {
                        accounts.insert(0, (id, view.account.name.clone()));
                    }
                    contacts = view.contacts.into_iter().map(|c| (c.id.0, c.name)).collect();
                }
                // A chosen account that is gone: the form says so when posted.
                Err(momentum_store::StoreError::Domain(DomainError::NotFound { .. })) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let actor = s.actor();
        let owners = if s.user.role == momentum_core::vocab::Role::Seller {
            vec![s.user.clone()]
        } else {
            ops::users(store, &s)?
                .into_iter()
                .filter(|u| u.active && actor.may_act_for(&u.as_owner()))
                .collect()
        };
        Ok(Choices {
            accounts,
            contacts,
            owners,
        })
    })
    .await
}

impl NewDealForm {
    fn to_input<'a>(&'a self, org: &Org, now: Now) -> Result<ops::CreateDeal<'a>, DomainError> {
        let currency = match text(&self.currency) {
            Some(c) => Currency::parse("currency", c)?,
            None => org.currency,
        };
        let value = text(&self.value).ok_or_else(|| {
            DomainError::missing(
                "value",
                "what is the deal worth? An amount such as 12500.50 (0 if not known yet)",
            )
        })?;
        let first_step = match text(&self.next_at) {
            None => FollowUp::Cadence,
            Some(at) => FollowUp::At(ui::next_step(
                org,
                now,
                at,
                &self.next_kind,
                &self.aims_at,
                &self.buyer_committed,
            )?),
        };
        Ok(ops::CreateDeal {
            owner: text(&self.owner),
            account: number("account", &self.account)?.map(AccountId),
            contact: number("contact", &self.contact)?.map(ContactId),
            title: self.title.as_deref().unwrap_or_default(),
            value: Money::parse("value", value, currency)?,
            expected_close: text(&self.expected_close)
                .map(|d| crate::input::date("expected_close", d))
                .transpose()?,
            first_step,
        })
    }
}

fn render(user: &CurrentUser, choices: &Choices, form: &NewDealForm, error: Option<&DomainError>) -> Markup {
    let s = &user.session;
    let ladder = &s.org.ladder;
    let selected = |v: &Option<String>, option: &str| text(v) == Some(option);
    let owner = text(&form.owner).unwrap_or(s.user.email.as_str());
    let fields = [
        "title",
        "value",
        "currency",
        "account",
        "contact",
        "owner",
        "expected_close",
        "next_step",
        "next_kind",
    ];
    layout::page(
        "New deal",
        user,
        "",
        html! {
            h1 { "New deal" }
            p { "A deal is one pursuit of one buyer decision after another. It starts with a next step: the buyer's appointment, or your own follow-up by the cadence." }
            form.stack.card id="new-deal" method="post" action="/deals/new" {
                (error_general(error, &fields))
                input type="hidden" name="csrf" value=(user.csrf);
                label { "Title" input type="text" name="title" value=(val(&form.title)) required maxlength="200"; }
                (error_at(error, &["title"]))
                div.steps {
                    label { "Value" input type="text" inputmode="decimal" name="value" value=(val(&form.value)) placeholder="12500.00" required; }
                    label { "Currency" input type="text" name="currency" value=(text(&form.currency).unwrap_or(s.org.currency.code())) maxlength="3" size="4"; }
                }
                (error_at(error, &["value", "currency"]))
                label { "Account"
                    select name="account" {
                        option value="" { "(no account)" }
                        @for (id, name) in &choices.accounts {
                            option value=(id) selected[selected(&form.account, &id.to_string())] { (name) }
                        }
                    }
                }
                (error_at(error, &["account"]))
                p.muted { "Not listed? Open the account (Accounts, or search) and choose “New deal” there." }
                @if choices.contacts.is_empty() {
                    input type="hidden" name="contact" value=(val(&form.contact));
                } @else {
                    label { "Buyer"
                        select name="contact" {
                            option value="" { "(nobody yet)" }
                            @for (id, name) in &choices.contacts {
                                option value=(id) selected[selected(&form.contact, &id.to_string())] { (name) }
                            }
                        }
                    }
                }
                (error_at(error, &["contact"]))
                @if choices.owners.len() > 1 {
                    label { "Owner"
                        select name="owner" {
                            @for u in &choices.owners {
                                option value=(u.email.as_str()) selected[u.email.as_str() == owner] { (u.name) " (" (u.role) ")" }
                            }
                        }
                    }
                    (error_at(error, &["owner"]))
                }
                label { "Expected close" input type="date" name="expected_close" value=(val(&form.expected_close)); }
                (error_at(error, &["expected_close"]))
                fieldset {
                    legend { "First next step" }
                    p.muted { "Leave the time empty to follow up by the org's cadence." }
                    div.steps {
                        label { "At" input type="datetime-local" name="next_at" value=(val(&form.next_at)); }
                        label { "Kind"
                            select name="next_kind" {
                                @for k in InteractionKind::ALL {
                                    option value=(k.as_str()) selected[selected(&form.next_kind, k.as_str())] { (k.as_str()) }
                                }
                            }
                        }
                        label { "Aims at decision"
                            select name="aims_at" {
                                option value="" { "(the first one)" }
                                @for (i, name) in ladder.names().iter().enumerate() {
                                    @let n = (i + 1).to_string();
                                    option value=(n) selected[selected(&form.aims_at, &n)] { (n) ". " (name) }
                                }
                            }
                        }
                    }
                    label.inline { input type="checkbox" name="buyer_committed" value="on" checked[text(&form.buyer_committed).is_some()]; "The buyer committed to it" }
                    (error_at(error, &["next_step", "next_kind"]))
                }
                button type="submit" { "Create the deal" }
            }
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct NewDealQuery {
    account: Option<String>,
}

pub async fn form(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<NewDealQuery>,
) -> Result<Response, PageError> {
    let account = number("account", &q.account).map_err(WebError::from)?;
    let choices = choices(&state, &user, account).await?;
    let form = NewDealForm {
        account: account.map(|a| a.to_string()),
        ..NewDealForm::default()
    };
    Ok(render(&user, &choices, &form, None).into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<NewDealForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let posted = form.clone();
    let result = with_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        let input = posted.to_input(&s.org, now)?;
        Ok(ops::create_deal(store, &s, input, now)?.deal.id.0)
    })
    .await;
    match ui::posted(result, "")? {
        Posted::Done(id) => Ok(ui::see(&format!("/deals/{id}?done=created"))),
        Posted::Refused(e) => {
            let account = number("account", &form.account).ok().flatten();
            let choices = choices(&state, &user, account).await?;
            Ok(ui::refused(&e, render(&user, &choices, &form, Some(&e))))
        }
    }
}
