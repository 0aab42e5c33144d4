//! Accounts, the buying organisations: listed a page at a time (keyset, by id), created,
//! shown with their contacts and the deals the actor sees, and edited. Accounts are shared
//! by the whole org; deals beside them are only those the actor may see.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use jiff::Timestamp;
use maud::{html, Markup};
use momentum_core::model::AccountId;
use momentum_core::DomainError;
use momentum_store::directory::{self, AccountView};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::{read_store, with_store};
use crate::error::{PageError, WebError};
use crate::pages::ui::{self, error_at, error_general, text, val, Posted, PAGE_SIZE};
use crate::pages::{layout, money, when};
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub after: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    pub saved: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let after = ui::after(&q.after)?;
    let s = user.session.clone();
    let rows = read_store(&state, move |store| {
        Ok(directory::accounts(store, &s, after.map(AccountId), PAGE_SIZE + 1)?)
    })
    .await?;
    let (accounts, next) = ui::keyset(rows, |a| a.id.0);
    let body = html! {
        h1 { "Accounts" }
        p.actions { a href="/accounts/new" { "New account" } }
        @if accounts.is_empty() { p.muted { "No accounts here." } } @else {
            table.responsive id="accounts" {
                thead { tr { th { "Account" } th { "Domain" } } }
                tbody {
                    @for a in &accounts {
                        tr data-account=(a.id) {
                            td { a href={"/accounts/" (a.id)} { (a.name) } }
                            td { (a.domain.clone().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        (ui::pager(next.map(|n| format!("/accounts?after={n}"))))
    };
    Ok(layout::page("Accounts", &user, "Accounts", body).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(flash): Query<Flash>,
) -> Result<Response, PageError> {
    let s = user.session.clone();
    let view: AccountView = read_store(&state, move |store| Ok(directory::account(store, &s, AccountId(id))?)).await?;
    let org = &user.session.org;
    let a = &view.account;
    let body = html! {
        (ui::notice(flash.saved.is_some().then_some("Saved.")))
        p.muted { a href="/accounts" { "← Accounts" } }
        h1 { (a.name) }
        p.muted { @if let Some(d) = &a.domain { (d) " · " } "since " (when(org, a.created_at)) }
        p.actions {
            a href={"/accounts/" (a.id) "/edit"} { "Edit" }
            a href={"/contacts/new?account=" (a.id)} { "New contact" }
            a href={"/deals/new?account=" (a.id)} { "New deal" }
        }
        section id="account-contacts" {
            h2 { "Contacts" }
            @if view.contacts.is_empty() { p.muted { "No contacts yet." } }
            ul.plain {
                @for c in &view.contacts {
                    li {
                        a href={"/contacts/" (c.id)} { (c.name) }
                        @if let Some(t) = &c.title { " · " (t) }
                        @if let Some(e) = &c.email { " · " span.muted { (e) } }
                    }
                }
            }
        }
        section id="account-deals" {
            h2 { "Deals" }
            p.muted { "The newest " (directory::ACCOUNT_DEALS) " at most, of those you see." }
            @if view.deals.is_empty() { p.muted { "No deals you see." } } @else {
                table.responsive {
                    thead { tr { th { "Deal" } th { "Owner" } th.num { "Value" } th { "Status" } th { "Stands on" } } }
                    tbody {
                        @for d in &view.deals {
                            tr data-deal=(d.id) {
                                td { a href={"/deals/" (d.id)} { (d.title) } }
                                td { (d.owner) }
                                td.num { (money(d.value)) }
                                td { (d.status) }
                                td { (d.stage.step) ". " (d.stage.name) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&a.name, &user, "Accounts", body).into_response())
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct AccountForm {
    pub csrf: Option<String>,
    pub name: Option<String>,
    pub domain: Option<String>,
}

/// The create or edit form; `id` is the account being edited.
fn form_page(user: &CurrentUser, id: Option<i64>, form: &AccountForm, error: Option<&DomainError>) -> Markup {
    let (title, action) = match id {
        Some(id) => ("Edit account".to_owned(), format!("/accounts/{id}/edit")),
        None => ("New account".to_owned(), "/accounts/new".to_owned()),
    };
    layout::page(
        &title,
        user,
        "Accounts",
        html! {
            p.muted { @match id { Some(id) => a href={"/accounts/" (id)} { "← The account" }, None => a href="/accounts" { "← Accounts" } } }
            h1 { (title) }
            form.stack.card id="account-form" method="post" action=(action) {
                (error_general(error, &["account."]))
                input type="hidden" name="csrf" value=(user.csrf);
                label { "Name" input type="text" name="name" value=(val(&form.name)) required maxlength="200"; }
                (error_at(error, &["account.name"]))
                label { "Domain " span.muted { "(optional)" } input type="text" name="domain" value=(val(&form.domain)) placeholder="globex.test"; }
                (error_at(error, &["account.domain"]))
                button type="submit" { "Save" }
            }
        },
    )
}

pub async fn new_form(user: CurrentUser) -> Response {
    form_page(&user, None, &AccountForm::default(), None).into_response()
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<AccountForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let posted = form.clone();
    let result = with_store(&state, move |store| {
        let name = posted.name.as_deref().unwrap_or_default();
        Ok(
            momentum_store::ops::add_account(store, &s, name, text(&posted.domain), Timestamp::now())?
                .id
                .0,
        )
    })
    .await;
    match ui::posted(result, "")? {
        Posted::Done(id) => Ok(ui::see(&format!("/accounts/{id}?saved=1"))),
        Posted::Refused(e) => Ok(ui::refused(&e, form_page(&user, None, &form, Some(&e)))),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let s = user.session.clone();
    let view = read_store(&state, move |store| Ok(directory::account(store, &s, AccountId(id))?)).await?;
    let form = AccountForm {
        csrf: None,
        name: Some(view.account.name),
        domain: view.account.domain,
    };
    Ok(form_page(&user, Some(id), &form, None).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<AccountForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let posted = form.clone();
    let result: Result<(), WebError> = with_store(&state, move |store| {
        let name = posted.name.as_deref().unwrap_or_default();
        directory::update_account(store, &s, AccountId(id), name, text(&posted.domain), Timestamp::now())?;
        Ok(())
    })
    .await;
    match ui::posted(result, "account")? {
        Posted::Done(()) => Ok(ui::see(&format!("/accounts/{id}?saved=1"))),
        Posted::Refused(e) => Ok(ui::refused(&e, form_page(&user, Some(id), &form, Some(&e)))),
    }
}
