//! Server-rendered pages. Every page works with JavaScript off; forms POST with the
//! session's CSRF token and, when a rule refuses the input, come back filled in with the
//! message next to the field.

pub mod deal;
pub mod forms;
pub mod layout;
pub mod sign_in;
pub mod today;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(today::page))
        .route("/log", post(today::log))
        .route("/deals/{id}", get(deal::page))
        .route("/deals/{id}/log", post(deal::log))
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
