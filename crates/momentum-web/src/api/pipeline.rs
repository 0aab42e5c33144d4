//! The pipeline: open deals by ladder step, and the deals of a step with their
//! sales-cholesterol flags.

use axum::extract::State;
use axum::Json;
use jiff::Timestamp;
use momentum_core::model::{DealId, Step};
use momentum_store::pipeline::{self, PipelineFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{self, invalid, ApiQuery};
use super::problems::*;
use super::types;
use crate::auth::ApiUser;
use crate::db::read_store;
use crate::error::ApiError;
use crate::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PipelineQuery {
    /// Only this owner's deals (their e-mail), within what the caller sees.
    pub owner: Option<String>,
    /// Only this team's deals (the manager's e-mail), within what the caller sees.
    pub team: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/pipeline",
    operation_id = "pipeline",
    tag = "pipeline",
    summary = "The pipeline by ladder step",
    description = "Open deals and their value (per currency) on every ladder step from 0 (no decision \
                   yet) to the top, for the deals the caller sees.",
    params(PipelineQuery),
    responses(
        (status = 200, description = "The pipeline", body = types::Pipeline),
        BadRequest,
        Unauthorized,
        Forbidden,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn pipeline(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiQuery(q): ApiQuery<PipelineQuery>,
) -> Result<Json<types::Pipeline>, ApiError> {
    let steps = read_store(&state, move |store| {
        let filter = PipelineFilter {
            owner: q.owner.as_deref(),
            team: q.team.as_deref(),
        };
        Ok(pipeline::pipeline(store, &s, filter)?)
    })
    .await?;
    Ok(Json(steps.into()))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PipelineDealsQuery {
    /// Only deals standing on this ladder step (0: no decision yet).
    #[param(value_type = Option<u8>)]
    pub stage: Option<String>,
    /// Only this owner's deals (their e-mail).
    pub owner: Option<String>,
    /// Only this team's deals (the manager's e-mail).
    pub team: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Deals per page: 1 to 500, by default 50.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/pipeline/deals",
    operation_id = "pipeline_deals",
    tag = "pipeline",
    summary = "Open deals with their cholesterol flags",
    description = "Open deals the caller sees, by id, a page at a time, each with its sales-cholesterol \
                   flags: no compelling need, no date, no buyer decision for too long, seller-scheduled \
                   steps only, overdue.",
    params(PipelineDealsQuery),
    responses(
        (status = 200, description = "A page of open deals", body = types::PipelineDealPage),
        BadRequest,
        Unauthorized,
        Forbidden,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn deals(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiQuery(q): ApiQuery<PipelineDealsQuery>,
) -> Result<Json<types::PipelineDealPage>, ApiError> {
    let limit = extract::limit(q.limit.as_deref(), super::deals::PAGE_DEFAULT, super::deals::PAGE_MAX)?;
    let after = extract::after("pipeline", q.cursor.as_deref())?;
    let top = s.org.ladder.top().0;
    let stage = match q.stage.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(
            t.parse::<u8>()
                .ok()
                .filter(|n| *n <= top)
                .map(Step)
                .ok_or_else(|| invalid("stage", t, format!("a ladder step is a number from 0 to {top}")))?,
        ),
    };
    let stale_days = state.config.stale_days;
    let page = read_store(&state, move |store| {
        let filter = PipelineFilter {
            owner: q.owner.as_deref(),
            team: q.team.as_deref(),
        };
        let now = s.now(Timestamp::now());
        let rows = pipeline::pipeline_deals(store, &s, filter, stage, after.map(DealId), limit + 1, now, stale_days)?;
        let mut items: Vec<types::PipelineDeal> = rows.into_iter().map(types::PipelineDeal::from).collect();
        let next_cursor = extract::next_cursor("pipeline", &mut items, limit, |d| d.deal.id);
        Ok(types::PipelineDealPage { items, next_cursor })
    })
    .await?;
    Ok(Json(page))
}
