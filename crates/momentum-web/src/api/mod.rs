//! The JSON API under `/api/v1`: the same store operations as the pages, authenticated
//! by Bearer tokens, errors as problem+json, described at `/api/openapi.json`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jiff::Timestamp;
use momentum_core::model::DealId;
use momentum_store::ops::{self, DealSummary};

use crate::auth::ApiUser;
use crate::db::with_store;
use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/today", get(today))
        .route("/api/v1/deals/{id}", get(deal))
}

/// The caller's overdue and due next steps, most at stake first.
async fn today(State(state): State<AppState>, ApiUser(s): ApiUser) -> Result<Json<Vec<DealSummary>>, ApiError> {
    let deals = with_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        let rows = ops::today(store, &s, now)?;
        Ok(rows.iter().map(|r| DealSummary::new(r, &s.org.ladder)).collect())
    })
    .await?;
    Ok(Json(deals))
}

/// One deal with its timeline, need, interactions and next step. The ETag is its version.
async fn deal(State(state): State<AppState>, ApiUser(s): ApiUser, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let view = with_store(&state, move |store| Ok(ops::show_deal(store, &s, DealId(id))?)).await?;
    let etag = format!("\"{}\"", view.summary.version);
    Ok(([(header::ETAG, etag)], Json(view)).into_response())
}
