//! Server-rendered pages. Every page works with JavaScript off; forms POST with the
//! session's CSRF token and, when a rule refuses the input, come back filled in with the
//! message next to the field.

pub mod accounts;
pub mod contacts;
pub mod deal;
pub mod deal_actions;
pub mod deal_new;
pub mod forms;
pub mod layout;
pub mod pipeline;
pub mod search;
pub mod settings;
pub mod sign_in;
pub mod today;
pub mod tokens;
pub mod ui;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(today::page))
        .route("/log", post(today::log))
        .route("/deals/new", get(deal_new::form).post(deal_new::submit))
        .route("/deals/{id}", get(deal::page))
        .route("/deals/{id}/log", post(deal::log))
        .route(
            "/deals/{id}/need",
            get(deal_actions::need_form).post(deal_actions::need_submit),
        )
        .route(
            "/deals/{id}/disqualify",
            get(deal_actions::disqualify_form).post(deal_actions::disqualify_submit),
        )
        .route(
            "/deals/{id}/close",
            get(deal_actions::close_form).post(deal_actions::close_submit),
        )
        .route(
            "/deals/{id}/reschedule",
            get(deal_actions::reschedule_form).post(deal_actions::reschedule_submit),
        )
        .route("/pipeline", get(pipeline::page))
        .route("/accounts", get(accounts::list))
        .route("/accounts/new", get(accounts::new_form).post(accounts::create))
        .route("/accounts/{id}", get(accounts::show))
        .route("/accounts/{id}/edit", get(accounts::edit_form).post(accounts::update))
        .route("/contacts", get(contacts::list))
        .route("/contacts/new", get(contacts::new_form).post(contacts::create))
        .route("/contacts/{id}", get(contacts::show))
        .route("/contacts/{id}/edit", get(contacts::edit_form).post(contacts::update))
        .route("/search", get(search::page))
        .route("/settings", get(settings::page))
        .route("/settings/ladder", post(settings::ladder))
        .route("/settings/cadence", post(settings::cadence))
        .route("/settings/users", post(settings::add_user))
        .route("/settings/users/edit", post(settings::edit_user))
        .route("/tokens", get(tokens::page).post(tokens::create))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/assets/style.css", get(style))
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/style.css"),
    )
}

/// Money as people read it, or a dash when the deal has no value.
pub fn money(m: Option<momentum_core::money::Money>) -> String {
    m.map_or_else(|| "—".to_owned(), |m| m.to_string())
}

/// An instant in the org's time zone, to the minute.
pub fn when(org: &momentum_core::model::Org, at: jiff::Timestamp) -> String {
    let tz = jiff::tz::TimeZone::get(&org.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    at.to_zoned_datetime(tz).strftime("%a %Y-%m-%d %H:%M").to_string()
}
