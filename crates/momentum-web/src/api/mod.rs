//! The JSON API under `/api/v1`: every action the pages offer, through the same store
//! operations (and so the same core commands and rules), authenticated by Bearer tokens,
//! errors as RFC 9457 problem+json naming the field, described by an OpenAPI 3.1 document
//! at `/api/openapi.json` (generated from this code) and readable at `/api/docs`.
//!
//! [`ROUTES`] is the one list of operations: the router is built from it, the OpenAPI
//! document lists exactly it, and the tests check the two against each other.

pub mod deals;
pub mod directory;
pub mod docs;
pub mod extract;
pub mod org;
pub mod pipeline;
pub mod problems;
pub mod reports;
pub mod tokens;
pub mod types;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, MethodRouter};
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

use crate::error::{FieldError, Problem};
use crate::AppState;

/// Declares the API's operations once: `method "path" => module::handler`. Gives
/// [`ROUTES`], the router of [`routes`], and the OpenAPI document [`ApiDoc`].
macro_rules! api {
    ($($method:ident $path:literal => $module:ident :: $handler:ident),+ $(,)?) => {
        /// Every operation of the API as (lower-case method, path), in the order declared.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),+];

        fn operations() -> Router<AppState> {
            Router::new()
                $(.route($path, axum::routing::$method($module::$handler)))+
        }

        /// The OpenAPI 3.1 document of the API, generated from the handlers' annotations.
        #[derive(Debug, OpenApi)]
        #[openapi(
            info(
                title = "Momentum API",
                description = "Momentum's JSON API: the same actions and rules as the web app. A deal moves \
                               only when the buyer decides, and every conversation ends in a commitment: sell \
                               it now, or schedule the next step (or the buyer's definitive no).\n\n\
                               Authenticate with a personal API token: `Authorization: Bearer mtm_...`. \
                               Errors are RFC 9457 problem+json; a refused rule names the field in `errors`. \
                               Money is integer minor units with a currency; instants are RFC 3339 UTC; \
                               dates are YYYY-MM-DD. Lists page by opaque cursors."
            ),
            paths($($module::$handler),+),
            components(schemas(Problem, FieldError)),
            modifiers(&BearerAuth),
            security(("bearer" = [])),
            tags(
                (name = "deals", description = "Today, deals and every action on them"),
                (name = "accounts", description = "Buying organisations"),
                (name = "contacts", description = "People at buying organisations"),
                (name = "search", description = "Deals, accounts and contacts by text"),
                (name = "pipeline", description = "Open deals by ladder step, with sales-cholesterol flags"),
                (name = "org", description = "Users, settings, goals and check-ins"),
                (name = "reports", description = "Coaching reports: where each seller gives up, and the month's gap"),
                (name = "tokens", description = "Your API tokens"),
                (name = "meta", description = "This description of the API"),
            )
        )]
        pub struct ApiDoc;
    };
}

api! {
    get "/api/v1/today" => deals::today,
    get "/api/v1/deals" => deals::list,
    post "/api/v1/deals" => deals::create,
    get "/api/v1/deals/{id}" => deals::show,
    post "/api/v1/deals/{id}/interactions" => deals::log,
    post "/api/v1/deals/{id}/decisions" => deals::decide,
    put "/api/v1/deals/{id}/need" => deals::need,
    post "/api/v1/deals/{id}/disqualify" => deals::disqualify,
    post "/api/v1/deals/{id}/close" => deals::close,
    post "/api/v1/deals/{id}/reschedule" => deals::reschedule,
    post "/api/v1/deals/{id}/reassign" => deals::reassign,
    get "/api/v1/accounts" => directory::accounts,
    post "/api/v1/accounts" => directory::add_account,
    get "/api/v1/accounts/{id}" => directory::account,
    patch "/api/v1/accounts/{id}" => directory::update_account,
    get "/api/v1/contacts" => directory::contacts,
    post "/api/v1/contacts" => directory::add_contact,
    get "/api/v1/contacts/{id}" => directory::contact,
    patch "/api/v1/contacts/{id}" => directory::update_contact,
    get "/api/v1/search" => directory::search,
    get "/api/v1/pipeline" => pipeline::pipeline,
    get "/api/v1/pipeline/deals" => pipeline::deals,
    get "/api/v1/users" => org::users,
    post "/api/v1/users" => org::add_user,
    put "/api/v1/settings/ladder" => org::set_ladder,
    put "/api/v1/settings/cadence" => org::set_cadence,
    post "/api/v1/goals" => org::set_goal,
    post "/api/v1/check-ins" => org::check_in,
    get "/api/v1/reports/summary" => reports::summary,
    get "/api/v1/reports/month-gap" => reports::month_gap,
    get "/api/v1/reports/cholesterol" => reports::cholesterol,
    get "/api/v1/reports/give-up" => reports::give_up,
    get "/api/v1/reports/close-timing" => reports::close_timing,
    get "/api/v1/reports/results" => reports::results,
    get "/api/v1/reports/prospecting" => reports::prospecting,
    get "/api/v1/reports/calibration" => reports::calibration,
    get "/api/v1/reports/win-probability" => reports::win_probability,
    get "/api/v1/tokens" => tokens::list,
    post "/api/v1/tokens" => tokens::create,
    delete "/api/v1/tokens/{id}" => tokens::revoke,
    get "/api/openapi.json" => docs::openapi_json,
    get "/api/docs" => docs::page,
}

/// Adds the Bearer scheme that every `/api/v1` operation requires.
#[derive(Debug)]
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("mtm_{org}_{secret}")
                    .description(Some(
                        "A personal API token (POST /api/v1/tokens, or `momentum token create`). It acts as its \
                         user, with their role.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The API's routes, merged into the app's router.
pub fn routes() -> Router<AppState> {
    let mut router = operations();
    // A known path with another method: 405 problem+json naming the methods it takes.
    let mut paths: Vec<&str> = ROUTES.iter().map(|(_, p)| *p).collect();
    paths.sort_unstable();
    paths.dedup();
    for path in paths {
        let mut allow: Vec<String> = ROUTES
            .iter()
            .filter(|(_, p)| *p == path)
            .map(|(m, _)| m.to_ascii_uppercase())
            .collect();
        if allow.iter().any(|m| m == "GET") {
            allow.push("HEAD".into());
        }
        let allow = allow.join(", ");
        router = router.route(
            path,
            MethodRouter::new().fallback(move || async move { method_not_allowed(&allow) }),
        );
    }
    // Anything else under /api: a problem, not the HTML "no such page".
    router.route("/api/{*rest}", any(not_found))
}

fn method_not_allowed(allow: &str) -> Response {
    let mut response = extract::problem(StatusCode::METHOD_NOT_ALLOWED, format!("this resource takes {allow}"));
    if let Ok(v) = allow.parse() {
        response.headers_mut().insert(header::ALLOW, v);
    }
    response
}

async fn not_found() -> Response {
    extract::problem(
        StatusCode::NOT_FOUND,
        "no such API resource: see /api/docs for the operations",
    )
    .into_response()
}
