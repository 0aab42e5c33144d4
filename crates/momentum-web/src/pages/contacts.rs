//! Contacts, the people at the buying organisations: listed a page at a time (keyset, by
//! id), created, shown, and edited. Like accounts, they are shared by the whole org.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use jiff::Timestamp;
use maud::{html, Markup};
use momentum_core::commands::NewContact;
use momentum_core::model::{AccountId, ContactId};
use momentum_core::DomainError;
use momentum_store::directory;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::{read_store, with_store};
use crate::error::{PageError, WebError};
use crate::pages::deal_new::ACCOUNT_CHOICES;
use crate::pages::ui::{self, error_at, error_general, number, text, val, Posted, PAGE_SIZE};
use crate::pages::{layout, when};
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub after: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let after = ui::after(&q.after)?;
    let s = user.session.clone();
    let rows = read_store(&state, move |store| {
        Ok(directory::contacts(store, &s, after.map(ContactId), PAGE_SIZE + 1)?)
    })
    .await?;
    let (contacts, next) = ui::keyset(rows, |c| c.id.0);
    let body = html! {
        h1 { "Contacts" }
        p.actions { a href="/contacts/new" { "New contact" } }
        @if contacts.is_empty() { p.muted { "No contacts here." } } @else {
            table.responsive id="contacts" {
                thead { tr { th { "Contact" } th { "Title" } th { "E-mail" } th { "Phone" } } }
                tbody {
                    @for c in &contacts {
                        tr data-contact=(c.id) {
                            td { a href={"/contacts/" (c.id)} { (c.name) } }
                            td { (c.title.clone().unwrap_or_default()) }
                            td { @if let Some(e) = &c.email { a href={"mailto:" (e)} { (e) } } }
                            td { (c.phone.clone().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        (ui::pager(next.map(|n| format!("/contacts?after={n}"))))
    };
    Ok(layout::page("Contacts", &user, "Contacts", body).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    pub saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(flash): Query<Flash>,
) -> Result<Response, PageError> {
    let s = user.session.clone();
    let (contact, account) = read_store(&state, move |store| {
        let c = directory::contact(store, &s, ContactId(id))?;
        let account = match c.account {
            Some(a) => Some(directory::account(store, &s, a)?),
            None => None,
        };
        Ok((c, account))
    })
    .await?;
    let org = &user.session.org;
    let body = html! {
        (ui::notice(flash.saved.is_some().then_some("Saved.")))
        p.muted { a href="/contacts" { "← Contacts" } }
        h1 { (contact.name) }
        dl.facts {
            dt { "Account" }
            dd { @match &account { Some(a) => a href={"/accounts/" (a.account.id)} { (a.account.name) }, None => "—" } }
            dt { "Title" } dd { (contact.title.clone().unwrap_or_else(|| "—".into())) }
            dt { "E-mail" } dd { @match &contact.email { Some(e) => a href={"mailto:" (e)} { (e) }, None => "—" } }
            dt { "Phone" } dd { (contact.phone.clone().unwrap_or_else(|| "—".into())) }
            dt { "Since" } dd { (when(org, contact.created_at)) }
        }
        p.actions { a href={"/contacts/" (contact.id) "/edit"} { "Edit" } }
        @if let Some(a) = &account {
            section id="account-deals" {
                h2 { "Deals at " (a.account.name) }
                @if a.deals.is_empty() { p.muted { "No deals you see." } }
                ul.plain {
                    @for d in &a.deals {
                        li { a href={"/deals/" (d.id)} { (d.title) } " · " (d.status) " · " (d.stage.name) }
                    }
                }
            }
        }
    };
    Ok(layout::page(&contact.name, &user, "Contacts", body).into_response())
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ContactForm {
    pub csrf: Option<String>,
    pub account: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
}

impl ContactForm {
    fn to_input(&self) -> Result<NewContact<'_>, DomainError> {
        Ok(NewContact {
            account: number("account", &self.account)?.map(AccountId),
            name: self.name.as_deref().unwrap_or_default(),
            email: text(&self.email),
            phone: text(&self.phone),
            title: text(&self.title),
        })
    }
}

/// (id, name) of the accounts the form offers: the first ones, and the chosen one.
async fn account_choices(
    state: &AppState,
    user: &CurrentUser,
    chosen: Option<i64>,
) -> Result<Vec<(i64, String)>, WebError> {
    let s = user.session.clone();
    read_store(state, move |store| {
        let mut accounts: Vec<(i64, String)> = directory::accounts(store, &s, None, ACCOUNT_CHOICES)?
            .into_iter()
            .map(|a| (a.id.0, a.name))
            .collect();
        if let Some(id) = chosen.filter(|id| !accounts.iter().any(|(a, _)| a == id)) {
            if let Ok(v) = directory::account(store, &s, AccountId(id)) {
                accounts.insert(0, (id, v.account.name));
            }
        }
        Ok(accounts)
    })
    .await
}

fn form_page(
    user: &CurrentUser,
    id: Option<i64>,
    accounts: &[(i64, String)],
    form: &ContactForm,
    error: Option<&DomainError>,
) -> Markup {
    let (title, action) = match id {
        Some(id) => ("Edit contact".to_owned(), format!("/contacts/{id}/edit")),
        None => ("New contact".to_owned(), "/contacts/new".to_owned()),
    };
    let chosen = text(&form.account);
    layout::page(
        &title,
        user,
        "Contacts",
        html! {
            p.muted { @match id { Some(id) => a href={"/contacts/" (id)} { "← The contact" }, None => a href="/contacts" { "← Contacts" } } }
            h1 { (title) }
            form.stack.card id="contact-form" method="post" action=(action) {
                (error_general(error, &["contact.", "account"]))
                input type="hidden" name="csrf" value=(user.csrf);
                label { "Name" input type="text" name="name" value=(val(&form.name)) required maxlength="200"; }
                (error_at(error, &["contact.name"]))
                label { "Account"
                    select name="account" {
                        option value="" { "(none)" }
                        @for (aid, name) in accounts {
                            option value=(aid) selected[chosen == Some(aid.to_string().as_str())] { (name) }
                        }
                    }
                }
                (error_at(error, &["account"]))
                p.muted { "Not listed? Open the account and choose “New contact” there." }
                label { "Title " span.muted { "(optional)" } input type="text" name="title" value=(val(&form.title)); }
                (error_at(error, &["contact.title"]))
                label { "E-mail " span.muted { "(optional)" } input type="email" name="email" value=(val(&form.email)); }
                (error_at(error, &["contact.email"]))
                label { "Phone " span.muted { "(optional)" } input type="tel" name="phone" value=(val(&form.phone)); }
                (error_at(error, &["contact.phone"]))
                button type="submit" { "Save" }
            }
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    pub account: Option<String>,
}

pub async fn new_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    let chosen = number("account", &q.account).map_err(WebError::from)?;
    let accounts = account_choices(&state, &user, chosen).await?;
    let form = ContactForm {
        account: chosen.map(|a| a.to_string()),
        ..ContactForm::default()
    };
    Ok(form_page(&user, None, &accounts, &form, None).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ContactForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let posted = form.clone();
    let result = with_store(&state, move |store| {
        let input = posted.to_input()?;
        Ok(momentum_store::ops::add_contact(store, &s, input, Timestamp::now())?
            .id
            .0)
    })
    .await;
    match ui::posted(result, "")? {
        Posted::Done(id) => Ok(ui::see(&format!("/contacts/{id}?saved=1"))),
        Posted::Refused(e) => {
            let accounts = account_choices(&state, &user, number("account", &form.account).ok().flatten()).await?;
            Ok(ui::refused(&e, form_page(&user, None, &accounts, &form, Some(&e))))
        }
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let s = user.session.clone();
    let c = read_store(&state, move |store| Ok(directory::contact(store, &s, ContactId(id))?)).await?;
    let accounts = account_choices(&state, &user, c.account.map(|a| a.0)).await?;
    let form = ContactForm {
        csrf: None,
        account: c.account.map(|a| a.0.to_string()),
        name: Some(c.name),
        email: c.email.map(|e| e.as_str().to_owned()),
        phone: c.phone,
        title: c.title,
    };
    Ok(form_page(&user, Some(id), &accounts, &form, None).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ContactForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let posted = form.clone();
    let result: Result<(), WebError> = with_store(&state, move |store| {
        let input = posted.to_input()?;
        directory::update_contact(store, &s, ContactId(id), input, Timestamp::now())?;
        Ok(())
    })
    .await;
    match ui::posted(result, "contact")? {
        Posted::Done(()) => Ok(ui::see(&format!("/contacts/{id}?saved=1"))),
        Posted::Refused(e) => {
            let accounts = account_choices(&state, &user, number("account", &form.account).ok().flatten()).await?;
            Ok(ui::refused(&e, form_page(&user, Some(id), &accounts, &form, Some(&e))))
        }
    }
}
