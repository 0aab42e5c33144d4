//! Server-rendered pages. Every page works with JavaScript off; forms POST with the
//! session's CSRF token and, when a rule refuses the input, come back filled in with the
//! message next to the field.

pub mod accounts;
pub mod calendar_feed;
pub mod contacts;
pub mod deal;
pub mod deal_actions;
pub mod deal_new;
pub mod forms;
pub mod layout;
pub mod pipeline;
pub mod reports;
pub mod search;
pub mod settings;
pub mod sign_in;
pub mod today;
pub mod tokens;
pub mod ui;

use axum::http::header;
use axum::response::IntoResponse;
use axum::Router;

use crate::AppState;

/// Declares the pages once: `method "path" => module::handler`. Gives [`ROUTES`] (which the
/// authorization, CSRF and XSS tests walk, so a new page cannot escape them) and the router.
macro_rules! pages {
    ($($method:ident $path:literal => $($handler:ident)::+),+ $(,)?) => {
        /// Every page route as (lower-case method, path), in the order declared.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),+];

        pub fn routes() -> Router<AppState> {
            Router::new()
                $(.route($path, axum::routing::$method($($handler)::+)))+
        }
    };
}

pages! {
    get "/" => today::page,
    post "/log" => today::log,
    get "/deals/new" => deal_new::form,
    post "/deals/new" => deal_new::submit,
    get "/deals/{id}" => deal::page,
    post "/deals/{id}/log" => deal::log,
    get "/deals/{id}/need" => deal_actions::need_form,
    post "/deals/{id}/need" => deal_actions::need_submit,
    get "/deals/{id}/disqualify" => deal_actions::disqualify_form,
    post "/deals/{id}/disqualify" => deal_actions::disqualify_submit,
    get "/deals/{id}/close" => deal_actions::close_form,
    post "/deals/{id}/close" => deal_actions::close_submit,
    get "/deals/{id}/reschedule" => deal_actions::reschedule_form,
    post "/deals/{id}/reschedule" => deal_actions::reschedule_submit,
    get "/pipeline" => pipeline::page,
    get "/reports" => reports::index,
    get "/reports/{name}" => reports::page,
    get "/coaching" => reports::coaching,
    get "/check-in" => reports::check_in_form,
    post "/check-in" => reports::check_in_submit,
    get "/accounts" => accounts::list,
    get "/accounts/new" => accounts::new_form,
    post "/accounts/new" => accounts::create,
    get "/accounts/{id}" => accounts::show,
    get "/accounts/{id}/edit" => accounts::edit_form,
    post "/accounts/{id}/edit" => accounts::update,
    get "/contacts" => contacts::list,
    get "/contacts/new" => contacts::new_form,
    post "/contacts/new" => contacts::create,
    get "/contacts/{id}" => contacts::show,
    get "/contacts/{id}/edit" => contacts::edit_form,
    post "/contacts/{id}/edit" => contacts::update,
    get "/search" => search::page,
    get "/settings" => settings::page,
    post "/settings/ladder" => settings::ladder,
    post "/settings/cadence" => settings::cadence,
    post "/settings/users" => settings::add_user,
    post "/settings/users/edit" => settings::edit_user,
    get "/tokens" => tokens::page,
    post "/tokens" => tokens::create,
    post "/tokens/{id}/revoke" => tokens::revoke,
    get "/calendar" => calendar_feed::page,
    post "/calendar" => calendar_feed::create,
    post "/calendar/revoke" => calendar_feed::revoke,
    get "/sign-in" => sign_in::form,
    post "/sign-in" => sign_in::submit,
    post "/sign-out" => sign_in::sign_out,
    get "/assets/style.css" => style,
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
