//! The coaching reports as JSON: one route per report, each the same store function the
//! CLI (`momentum report NAME --format json`) and the pages call.

use axum::extract::State;
use axum::Json;
use jiff::Timestamp;
use momentum_core::reports::{self as r, Report, ReportName};
use momentum_store::reports;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::ApiQuery;
use super::problems::*;
use crate::auth::ApiUser;
use crate::db::with_store;
use crate::error::ApiError;
use crate::pages::reports::ReportQuery as PageQuery;
use crate::AppState;

/// What every report takes; each report uses the parameters that apply to it.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First day of the window (YYYY-MM-DD), in the org's calendar.
    pub from: Option<String>,
    /// Last day of the window (YYYY-MM-DD).
    pub to: Option<String>,
    /// Only this seller (user id or e-mail), within what the caller sees.
    pub seller: Option<String>,
    /// Only this manager's team (the manager's id or e-mail).
    pub team: Option<String>,
    /// month-gap: the month (YYYY-MM); this month by default.
    pub month: Option<String>,
    /// cholesterol: days without a buyer decision after which a deal is stale.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 3650)]
    pub stale_days: Option<String>,
    /// cholesterol and win-probability: how many deals to list (1 to 1000, default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

async fn run(state: AppState, user: ApiUser, name: ReportName, q: ReportQuery) -> Result<Json<Report>, ApiError> {
    let ApiUser(s) = user;
    let stale_days = state.config.stale_days;
    let q = PageQuery {
        from: q.from,
        to: q.to,
        seller: q.seller,
        team: q.team,
        month: q.month,
        stale_days: q.stale_days,
        limit: q.limit,
    };
    let report = with_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        Ok(reports::report(store, &s, name, &q.request()?, stale_days, now)?)
    })
    .await?;
    Ok(Json(report))
}

/// One handler per report, documented with its own response schema.
macro_rules! report_routes {
    ($($handler:ident: $name:ident, $path:literal, $body:ty, $summary:literal;)+) => {$(
        #[utoipa::path(
            get,
            path = $path,
            operation_id = stringify!($handler),
            tag = "reports",
            summary = $summary,
            params(ReportQuery),
            responses(
                (status = 200, description = "The report", body = $body),
                BadRequest,
                Unauthorized,
                Forbidden,
                Unprocessable,
                Unavailable,
            )
        )]
        pub async fn $handler(
            State(state): State<AppState>,
            user: ApiUser,
            ApiQuery(q): ApiQuery<ReportQuery>,
        ) -> Result<Json<Report>, ApiError> {
            run(state, user, ReportName::$name, q).await
        }
    )+};
}

report_routes! {
    summary: Summary, "/api/v1/reports/summary", r::Summary,
        "Deals by status, win rate, won value, days to close, won value by owner";
    month_gap: MonthGap, "/api/v1/reports/month-gap", r::MonthGap,
        "Each seller's and team's gap to the month's goal, with commit, best case and the burn-up";
    cholesterol: Cholesterol, "/api/v1/reports/cholesterol", r::Cholesterol,
        "Open value without need, date or buyer decision, by seller, and the deals to disqualify or requalify";
    give_up: GiveUp, "/api/v1/reports/give-up", r::GiveUp,
        "Follow-ups into silence before deals went dark, against deals won: where each seller gives up";
    close_timing: CloseTiming, "/api/v1/reports/close-timing", r::CloseTiming,
        "Asking for the sale too early, waiting too long at the last step, never asking";
    results: Results, "/api/v1/reports/results", r::Results,
        "Advanced / stayed / back mix and the sell-or-schedule rate, by seller and by step";
    prospecting: Prospecting, "/api/v1/reports/prospecting", r::Prospecting,
        "New prospects a week against revenue k weeks later, and the prospecting next month's goal needs";
    calibration: Calibration, "/api/v1/reports/calibration", r::Calibration,
        "Step-to-win rates, and self-rated commitment against attainment";
    win_probability: WinProbability, "/api/v1/reports/win-probability", r::WinProbability,
        "Each open deal's chance of being won, from the org's own history, with the model's Brier score";
}
