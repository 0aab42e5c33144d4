//! Deals: Today, the list, one deal, and every action on a deal, each through the same
//! store operation (and so the same core command) as the pages and the CLI.
//!
//! Every write may carry the deal version it is based on (body `version` or `If-Match`);
//! a stale one is refused with 409. Each answers the deal as it now stands, with its ETag.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use momentum_core::commands;
use momentum_core::model::{ContactId, DealId, Now, Step};
use momentum_core::vocab::DealStatus;
use momentum_store::ops::{self, Session};
use momentum_store::Store;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{self, ApiJson, ApiQuery, Id};
use super::problems::*;
use super::types;
use crate::auth::ApiUser;
use crate::db::{read_store, with_store};
use crate::error::{ApiError, WebError};
use crate::AppState;

/// Deals per page unless `limit` says otherwise, and the most a page holds.
pub const PAGE_DEFAULT: u32 = 50;
pub const PAGE_MAX: u32 = 500;

/// A deal with its ETag (the version), as every deal endpoint answers it.
fn deal_response(status: StatusCode, deal: types::DealDetail) -> Response {
    let mut response = (status, Json(&deal)).into_response();
    if let Ok(etag) = extract::etag(deal.summary.version).parse() {
        response.headers_mut().insert(header::ETAG, etag);
    }
    if status == StatusCode::CREATED {
        if let Ok(location) = format!("/api/v1/deals/{}", deal.summary.id).parse() {
            response.headers_mut().insert(header::LOCATION, location);
        }
    }
    response
}

/// Runs `write` on deal `id`, then reads the deal back, in the caller's session.
async fn write_deal<F>(state: &AppState, s: Session, id: i64, write: F) -> Result<Response, ApiError>
where
    F: FnOnce(&mut Store, &Session, Now) -> Result<(), WebError> + Send + 'static,
{
    let deal = with_store(state, move |store| {
        let now = s.now(Timestamp::now());
        write(store, &s, now)?;
        let view = ops::show_deal(store, &s, DealId(id))?;
        Ok(types::DealDetail::of(view, &s.org.ladder))
    })
    .await?;
    Ok(deal_response(StatusCode::OK, deal))
}

/// Today: the caller's overdue and due next steps.
#[utoipa::path(
    get,
    path = "/api/v1/today",
    operation_id = "today",
    tag = "deals",
    summary = "Today: your overdue and due next steps",
    description = "The caller's open deals whose next step is due before the end of today (org time), \
                   most at stake first: by value, then by how long the step has waited.",
    responses(
        (status = 200, description = "Due and overdue next steps", body = types::Today),
        Unauthorized,
        Unavailable,
    )
)]
pub async fn today(State(state): State<AppState>, ApiUser(s): ApiUser) -> Result<Json<types::Today>, ApiError> {
    let items = read_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        let today = ops::today(store, &s, now, ops::TODAY_MAX)?;
        Ok(today.rows.into_iter().map(Into::into).collect())
    })
    .await?;
    Ok(Json(types::Today { items }))
}

/// Filters and paging of the deal list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DealQuery {
    /// Only this owner's deals (their e-mail).
    pub owner: Option<String>,
    /// Only deals with this status.
    #[param(value_type = Option<types::DealStatus>)]
    pub status: Option<String>,
    /// `true`: only deals whose next step is due before the end of today (org time).
    #[param(value_type = Option<bool>)]
    pub due: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Deals per page: 1 to 500, by default 50.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
}

/// The deals the caller may see, by id, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/deals",
    operation_id = "list_deals",
    tag = "deals",
    summary = "List deals",
    description = "The deals the caller may see (a seller their own, a manager their team's, an admin \
                   the org's), by id, a page at a time: pass `next_cursor` back as `cursor` until it is null.",
    params(DealQuery),
    responses(
        (status = 200, description = "A page of deals", body = types::DealPage),
        BadRequest,
        Unauthorized,
        Forbidden,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiQuery(q): ApiQuery<DealQuery>,
) -> Result<Json<types::DealPage>, ApiError> {
    let limit = extract::limit(q.limit.as_deref(), PAGE_DEFAULT, PAGE_MAX)?;
    let after = extract::after("deals", q.cursor.as_deref())?;
    let status = q
        .status
        .as_deref()
        .map(|t| DealStatus::parse("status", t))
        .transpose()?;
    let due = extract::flag("due", q.due.as_deref())?;
    let page = read_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        let filter = ops::DealFilter {
            owner: q.owner.as_deref(),
            status,
            due_before: if due {
                Some(ops::end_of_today(&s.org, now)?)
            } else {
                None
            },
            after: after.map(DealId),
            limit: limit + 1,
        };
        let mut items: Vec<types::DealSummary> = ops::list_deals(store, &s, &filter)?
            .iter()
            .map(|r| types::DealSummary::from_row(r, &s.org.ladder))
            .collect();
        let next_cursor = extract::next_cursor("deals", &mut items, limit, |d| d.id);
        Ok(types::DealPage { items, next_cursor })
    })
    .await?;
    Ok(Json(page))
}

/// Creates a deal.
#[utoipa::path(
    post,
    path = "/api/v1/deals",
    operation_id = "create_deal",
    tag = "deals",
    summary = "Create a deal",
    description = "A new open deal on step 0, with its first next step (by default a seller follow-up \
                   placed by the cadence). Answers 201 with the deal, its ETag and its Location.",
    request_body = types::CreateDeal,
    responses(
        (status = 201, description = "The new deal", body = types::DealDetail,
            headers(("Location" = String, description = "The deal's URL"), ("ETag" = String, description = "The deal's version"))),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiJson(body): ApiJson<types::CreateDeal>,
) -> Result<Response, ApiError> {
    let deal = with_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        let row = ops::create_deal(
            store,
            &s,
            ops::CreateDeal {
                owner: body.owner.as_deref(),
                account: body.account.map(momentum_core::model::AccountId),
                contact: body.contact.map(ContactId),
                title: &body.title,
                value: body.value.to_core("value")?,
                expected_close: body.expected_close,
                first_step: body
                    .first_step
                    .as_ref()
                    .map_or(commands::FollowUp::Cadence, types::FollowUp::to_core),
            },
            now,
        )?;
        let view = ops::show_deal(store, &s, row.deal.id)?;
        Ok(types::DealDetail::of(view, &s.org.ladder))
    })
    .await?;
    Ok(deal_response(StatusCode::CREATED, deal))
}

/// One deal.
#[utoipa::path(
    get,
    path = "/api/v1/deals/{id}",
    operation_id = "show_deal",
    tag = "deals",
    summary = "Show a deal",
    description = "The deal with its decision timeline, compelling need, interactions and next step. \
                   The ETag is its version: send it back as `If-Match` on a write to refuse a stale one; \
                   `If-None-Match` answers 304 when the deal has not changed.",
    params(("id" = i64, Path, description = "The deal's id")),
    responses(
        (status = 200, description = "The deal", body = types::DealDetail,
            headers(("ETag" = String, description = "The deal's version, quoted"))),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        Unauthorized,
        Forbidden,
        NotFound,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    Id(id): Id,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let deal = read_store(&state, move |store| {
        let view = ops::show_deal(store, &s, DealId(id))?;
        Ok(types::DealDetail::of(view, &s.org.ladder))
    })
    .await?;
    let etag = extract::etag(deal.summary.version);
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok(deal_response(StatusCode::OK, deal))
}

/// Logs an interaction.
#[utoipa::path(
    post,
    path = "/api/v1/deals/{id}/interactions",
    operation_id = "log_interaction",
    tag = "deals",
    summary = "Log an interaction",
    description = "What happened when the seller talked to the buyer: the decision asked for, the result \
                   (advanced, stayed, back) and how it ended: `sold`, a `next_step` (buyer-committed or the \
                   seller's own), a `cadence` follow-up, or the buyer's `definitive_no` with their words. \
                   Without an ending it is refused (422, field `next_step`): sell it or schedule it.",
    params(
        ("id" = i64, Path, description = "The deal's id"),
        ("If-Match" = Option<String>, Header, description = "The deal's ETag, instead of `version`"),
    ),
    request_body = types::LogInteraction,
    responses(
        (status = 200, description = "The deal after the interaction", body = types::DealDetail,
            headers(("ETag" = String, description = "The deal's new version"))),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn log(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    Id(id): Id,
    headers: HeaderMap,
    ApiJson(body): ApiJson<types::LogInteraction>,
) -> Result<Response, ApiError> {
    let version = extract::expected_version(&headers, body.version)?;
    let input = body.to_core(version);
    write_deal(&state, s, id, move |store, s, now| {
        ops::log_interaction(store, s, DealId(id), input, now)?;
        Ok(())
    })
    .await
}

/// Records a buyer decision.
#[utoipa::path(
    post,
    path = "/api/v1/deals/{id}/decisions",
    operation_id = "record_decision",
    tag = "deals",
    summary = "Record a buyer decision",
    description = "A decision the buyer made outside an interaction (an e-mail, say): the step the deal \
                   now stands on, and who decided. Only a buyer decision moves a deal; signing is a sale, \
                   logged as an interaction ending in `sold` or closed as won.",
    params(
        ("id" = i64, Path, description = "The deal's id"),
        ("If-Match" = Option<String>, Header, description = "The deal's ETag, instead of `version`"),
    ),
    request_body = types::RecordDecision,
    responses(
        (status = 200, description = "The deal after the decision", body = types::DealDetail),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn decide(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    Id(id): Id,
    headers: HeaderMap,
    ApiJson(body): ApiJson<types::RecordDecision>,
) -> Result<Response, ApiError> {
    let version = extract::expected_version(&headers, body.version)?;
    let input = commands::RecordDecision {
        contact: body.contact.map(ContactId),
        to: Step(body.to),
        decided_at: body.decided_at,
        note: body.note,
        expected_version: version,
    };
    write_deal(&state, s, id, move |store, s, now| {
        ops::record_decision(store, s, DealId(id), input, now)?;
        Ok(())
    })
    .await
}

/// Records or replaces the compelling need.
#[utoipa::path(
    put,
    path = "/api/v1/deals/{id}/need",
    operation_id = "set_need",
    tag = "deals",
    summary = "Record the compelling need",
    description = "The buyer's need in their own words, the consequence of doing nothing, the date it \
                   matters by and what inaction costs per month (in the deal's currency). Replaces any \
                   need recorded before.",
    params(
        ("id" = i64, Path, description = "The deal's id"),
        ("If-Match" = Option<String>, Header, description = "The deal's ETag, instead of `version`"),
    ),
    request_body = types::SetNeed,
    responses(
        (status = 200, description = "The deal with its need", body = types::DealDetail),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn need(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    Id(id): Id,
    headers: HeaderMap,
    ApiJson(body): ApiJson<types::SetNeed>,
) -> Result<Response, ApiError> {
    let version = extract::expected_version(&headers, body.version)?;
    let cost = body.cost_per_month.to_core("cost_per_month")?;
    write_deal(&state, s, id, move |store, s, now| {
        let input = commands::NeedInput {
            kind: body.kind.into(),
            buyer_words: &body.buyer_words,
            consequence: &body.consequence,
            matters_by: body.matters_by,
            cost_per_month: cost,
            expected_version: version,
        };
        ops::set_need(store, s, DealId(id), input, now)?;
        Ok(())
    })
    .await
}

/// Disqualifies a deal.
#[utoipa::path(
    post,
    path = "/api/v1/deals/{id}/disqualify",
    operation_id = "disqualify_deal",
    tag = "deals",
    summary = "Disqualify a deal",
    description = "Closes a deal in which the seller found no compelling need, with the reason, so the \
                   pipeline tells the truth.",
    params(
        ("id" = i64, Path, description = "The deal's id"),
        ("If-Match" = Option<String>, Header, description = "The deal's ETag, instead of `version`"),
    ),
    request_body = types::Disqualify,
    responses(
        (status = 200, description = "The disqualified deal", body = types::DealDetail),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn disqualify(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    Id(id): Id,
    headers: HeaderMap,
    ApiJson(body): ApiJson<types::Disqualify>,
) -> Result<Response, ApiError> {
    let version = extract::expected_version(&headers, body.version)?;
    write_deal(&state, s, id, move |store, s, now| {
        ops::disqualify(store, s, DealId(id), &body.reason, version, now)?;
        Ok(())
    })
    .await
}

/// Closes a deal as won or lost.
#[utoipa::path(
    post,
    path = "/api/v1/deals/{id}/close",
    operation_id = "close_deal",
    tag = "deals",
    summary = "Close a deal: won or lost",
    description = "`{\"won\": {\"contact\": 12}}`: the buyer signed (recorded as their decision to sign). \
                   `{\"lost\": {\"reason_category\": \"price\", \"buyer_words\": \"...\"}}`: the buyer's \
                   definitive no, in their own words. Going quiet is not a way to close.",
    params(
        ("id" = i64, Path, description = "The deal's id"),
        ("If-Match" = Option<String>, Header, description = "The deal's ETag, instead of `version`"),
    ),
    request_body = types::Close,
    responses(
        (status = 200, description = "The closed deal", body = types::DealDetail),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn close(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    Id(id): Id,
    headers: HeaderMap,
    ApiJson(body): ApiJson<types::Close>,
) -> Result<Response, ApiError> {
    let version = extract::expected_version(&headers, body.version)?;
    let closing = body.to_core();
    write_deal(&state, s, id, move |store, s, now| {
        ops::close(store, s, DealId(id), closing, version, now)?;
        Ok(())
    })
    .await
}

/// Moves the next step.
#[utoipa::path(
    post,
    path = "/api/v1/deals/{id}/reschedule",
    operation_id = "reschedule_deal",
    tag = "deals",
    summary = "Reschedule the next step",
    description = "Moves the deal's one next step (the buyer rescheduled, say).",
    params(
        ("id" = i64, Path, description = "The deal's id"),
        ("If-Match" = Option<String>, Header, description = "The deal's ETag, instead of `version`"),
    ),
    request_body = types::Reschedule,
    responses(
        (status = 200, description = "The deal with its new next step", body = types::DealDetail),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn reschedule(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    Id(id): Id,
    headers: HeaderMap,
    ApiJson(body): ApiJson<types::Reschedule>,
) -> Result<Response, ApiError> {
    let version = extract::expected_version(&headers, body.version)?;
    let step = body.next_step.to_core();
    write_deal(&state, s, id, move |store, s, now| {
        ops::reschedule(store, s, DealId(id), step, version, now)?;
        Ok(())
    })
    .await
}

/// Hands a deal to another owner.
#[utoipa::path(
    post,
    path = "/api/v1/deals/{id}/reassign",
    operation_id = "reassign_deal",
    tag = "deals",
    summary = "Reassign a deal",
    description = "Hands the deal to another active owner the caller may act for (a manager within their \
                   team, an admin anyone).",
    params(
        ("id" = i64, Path, description = "The deal's id"),
        ("If-Match" = Option<String>, Header, description = "The deal's ETag, instead of `version`"),
    ),
    request_body = types::Reassign,
    responses(
        (status = 200, description = "The deal with its new owner", body = types::DealDetail),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn reassign(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    Id(id): Id,
    headers: HeaderMap,
    ApiJson(body): ApiJson<types::Reassign>,
) -> Result<Response, ApiError> {
    let version = extract::expected_version(&headers, body.version)?;
    write_deal(&state, s, id, move |store, s, _| {
        ops::reassign(store, s, DealId(id), &body.owner, version)?;
        Ok(())
    })
    .await
}
