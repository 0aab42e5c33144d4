//! The org's buyers: accounts and contacts (listed a page at a time, shown, added,
//! changed), and search across deals, accounts and contacts.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use momentum_core::commands;
use momentum_core::model::{AccountId, ContactId};
use momentum_store::{directory, ops};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{self, ApiJson, ApiQuery, Id};
use super::problems::*;
use super::types;
use crate::auth::ApiUser;
use crate::db::{read_store, with_store};
use crate::error::ApiError;
use crate::AppState;

/// Paging of a listing by id.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page: 1 to 500, by default 50.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
}

fn created<T: serde::Serialize>(location: String, body: &T) -> Response {
    (StatusCode::CREATED, [(header::LOCATION, location)], Json(body)).into_response()
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts",
    operation_id = "list_accounts",
    tag = "accounts",
    summary = "List accounts",
    description = "The org's accounts by id, a page at a time.",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of accounts", body = types::AccountPage),
        BadRequest,
        Unauthorized,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn accounts(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<types::AccountPage>, ApiError> {
    let limit = extract::limit(q.limit.as_deref(), super::deals::PAGE_DEFAULT, super::deals::PAGE_MAX)?;
    let after = extract::after("accounts", q.cursor.as_deref())?;
    let page = read_store(&state, move |store| {
        let mut items: Vec<types::Account> = directory::accounts(store, &s, after.map(AccountId), limit + 1)?
            .into_iter()
            .map(types::Account::from)
            .collect();
        let next_cursor = extract::next_cursor("accounts", &mut items, limit, |a| a.id);
        Ok(types::AccountPage { items, next_cursor })
    })
    .await?;
    Ok(Json(page))
}

#[utoipa::path(
    post,
    path = "/api/v1/accounts",
    operation_id = "add_account",
    tag = "accounts",
    summary = "Add an account",
    request_body = types::NewAccount,
    responses(
        (status = 201, description = "The new account", body = types::Account,
            headers(("Location" = String, description = "The account's URL"))),
        BadRequest,
        Unauthorized,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn add_account(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiJson(body): ApiJson<types::NewAccount>,
) -> Result<Response, ApiError> {
    let account = with_store(&state, move |store| {
        let a = ops::add_account(store, &s, &body.name, body.domain.as_deref(), Timestamp::now())?;
        Ok(types::Account::from(a))
    })
    .await?;
    Ok(created(format!("/api/v1/accounts/{}", account.id), &account))
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts/{id}",
    operation_id = "show_account",
    tag = "accounts",
    summary = "Show an account",
    description = "The account with its contacts and the newest deals (at most 50) the caller may see.",
    params(("id" = i64, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The account", body = types::AccountDetail),
        Unauthorized,
        NotFound,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn account(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    Id(id): Id,
) -> Result<Json<types::AccountDetail>, ApiError> {
    let view = read_store(&state, move |store| Ok(directory::account(store, &s, AccountId(id))?)).await?;
    Ok(Json(view.into()))
}

#[utoipa::path(
    patch,
    path = "/api/v1/accounts/{id}",
    operation_id = "update_account",
    tag = "accounts",
    summary = "Change an account",
    description = "Renames the account or changes its domain: an absent field stays as it is; \
                   `\"domain\": null` clears the domain.",
    params(("id" = i64, Path, description = "The account's id")),
    request_body = types::AccountPatch,
    responses(
        (status = 200, description = "The account as changed", body = types::Account),
        BadRequest,
        Unauthorized,
        NotFound,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn update_account(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    Id(id): Id,
    ApiJson(patch): ApiJson<types::AccountPatch>,
) -> Result<Json<types::Account>, ApiError> {
    let account = with_store(&state, move |store| {
        let before = directory::account(store, &s, AccountId(id))?.account;
        let name = patch.name.unwrap_or(before.name);
        let domain = patch.domain.unwrap_or(before.domain);
        let a = directory::update_account(store, &s, AccountId(id), &name, domain.as_deref(), Timestamp::now())?;
        Ok(types::Account::from(a))
    })
    .await?;
    Ok(Json(account))
}

#[utoipa::path(
    get,
    path = "/api/v1/contacts",
    operation_id = "list_contacts",
    tag = "contacts",
    summary = "List contacts",
    description = "The org's contacts by id, a page at a time.",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of contacts", body = types::ContactPage),
        BadRequest,
        Unauthorized,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn contacts(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<types::ContactPage>, ApiError> {
    let limit = extract::limit(q.limit.as_deref(), super::deals::PAGE_DEFAULT, super::deals::PAGE_MAX)?;
    let after = extract::after("contacts", q.cursor.as_deref())?;
    let page = read_store(&state, move |store| {
        let mut items: Vec<types::Contact> = directory::contacts(store, &s, after.map(ContactId), limit + 1)?
            .into_iter()
            .map(types::Contact::from)
            .collect();
        let next_cursor = extract::next_cursor("contacts", &mut items, limit, |c| c.id);
        Ok(types::ContactPage { items, next_cursor })
    })
    .await?;
    Ok(Json(page))
}

#[utoipa::path(
    post,
    path = "/api/v1/contacts",
    operation_id = "add_contact",
    tag = "contacts",
    summary = "Add a contact",
    request_body = types::NewContact,
    responses(
        (status = 201, description = "The new contact", body = types::Contact,
            headers(("Location" = String, description = "The contact's URL"))),
        BadRequest,
        Unauthorized,
        NotFound,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn add_contact(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiJson(body): ApiJson<types::NewContact>,
) -> Result<Response, ApiError> {
    let contact = with_store(&state, move |store| {
        let input = commands::NewContact {
            account: body.account.map(AccountId),
            name: &body.name,
            email: body.email.as_deref(),
            phone: body.phone.as_deref(),
            title: body.title.as_deref(),
        };
        Ok(types::Contact::from(ops::add_contact(
            store,
            &s,
            input,
            Timestamp::now(),
        )?))
    })
    .await?;
    Ok(created(format!("/api/v1/contacts/{}", contact.id), &contact))
}

#[utoipa::path(
    get,
    path = "/api/v1/contacts/{id}",
    operation_id = "show_contact",
    tag = "contacts",
    summary = "Show a contact",
    params(("id" = i64, Path, description = "The contact's id")),
    responses(
        (status = 200, description = "The contact", body = types::Contact),
        Unauthorized,
        NotFound,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn contact(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    Id(id): Id,
) -> Result<Json<types::Contact>, ApiError> {
    let c = read_store(&state, move |store| Ok(directory::contact(store, &s, ContactId(id))?)).await?;
    Ok(Json(c.into()))
}

#[utoipa::path(
    patch,
    path = "/api/v1/contacts/{id}",
    operation_id = "update_contact",
    tag = "contacts",
    summary = "Change a contact",
    description = "An absent field stays as it is; `null` clears it (the name cannot be cleared).",
    params(("id" = i64, Path, description = "The contact's id")),
    request_body = types::ContactPatch,
    responses(
        (status = 200, description = "The contact as changed", body = types::Contact),
        BadRequest,
        Unauthorized,
        NotFound,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn update_contact(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    Id(id): Id,
    ApiJson(patch): ApiJson<types::ContactPatch>,
) -> Result<Json<types::Contact>, ApiError> {
    let contact = with_store(&state, move |store| {
        let before = directory::contact(store, &s, ContactId(id))?;
        let name = patch.name.unwrap_or(before.name);
        let account = patch.account.unwrap_or(before.account.map(|a| a.0));
        let email = patch
            .email
            .unwrap_or_else(|| before.email.map(|e| e.as_str().to_owned()));
        let phone = patch.phone.unwrap_or(before.phone);
        let title = patch.title.unwrap_or(before.title);
        let input = commands::NewContact {
            account: account.map(AccountId),
            name: &name,
            email: email.as_deref(),
            phone: phone.as_deref(),
            title: title.as_deref(),
        };
        let c = directory::update_contact(store, &s, ContactId(id), input, Timestamp::now())?;
        Ok(types::Contact::from(c))
    })
    .await?;
    Ok(Json(contact))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What to look for: 2 to 100 characters, matched anywhere, case-insensitively.
    #[param(required = true)]
    pub q: Option<String>,
    /// At most this many of each kind: 1 to 500, by default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/search",
    operation_id = "search",
    tag = "search",
    summary = "Search deals, accounts and contacts",
    description = "Deals by title (only those the caller may see), accounts by name or domain, contacts by \
                   name or e-mail.",
    params(SearchQuery),
    responses(
        (status = 200, description = "What was found", body = types::SearchResults),
        BadRequest,
        Unauthorized,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn search(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<types::SearchResults>, ApiError> {
    let limit = extract::limit(q.limit.as_deref(), 20, super::deals::PAGE_MAX)?;
    let text = q.q.unwrap_or_default();
    let found = with_store(&state, move |store| Ok(directory::search(store, &s, &text, limit)?)).await?;
    Ok(Json(found.into()))
}
