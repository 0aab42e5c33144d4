//! The org: its users, its settings (decision ladder, follow-up cadence), sellers' goals
//! and their commitment check-ins. Who may do what is the core's rule, not this module's.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use momentum_core::commands;
use momentum_core::model::Month;
use momentum_core::vocab::Role;
use momentum_core::DomainError;
use momentum_store::ops;

use super::extract::ApiJson;
use super::problems::*;
use super::types;
use crate::auth::ApiUser;
use crate::db::{read_store, with_store};
use crate::error::{ApiError, WebError};
use crate::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/users",
    operation_id = "list_users",
    tag = "org",
    summary = "List the org's users",
    responses(
        (status = 200, description = "The org's users, by id", body = types::Users),
        Unauthorized,
        Unavailable,
    )
)]
pub async fn users(State(state): State<AppState>, ApiUser(s): ApiUser) -> Result<Json<types::Users>, ApiError> {
    let users = read_store(&state, move |store| Ok(ops::users(store, &s)?)).await?;
    Ok(Json(types::Users {
        items: users.into_iter().map(types::User::from).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/users",
    operation_id = "add_user",
    tag = "org",
    summary = "Add a user (admins)",
    description = "A seller (on a manager's team, named by e-mail), a manager or an admin. With a \
                   password, the user can sign in to the web app.",
    request_body = types::NewUser,
    responses(
        (status = 201, description = "The new user", body = types::User),
        BadRequest,
        Unauthorized,
        Forbidden,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn add_user(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiJson(body): ApiJson<types::NewUser>,
) -> Result<Response, ApiError> {
    // Refuse a non-admin before any argon2 work: the same answer the store would give.
    if s.user.role != Role::Admin {
        return Err(DomainError::Forbidden(format!("adding users is for admins; you are a {}", s.user.role)).into());
    }
    if let Some(p) = &body.password {
        crate::password::check(p)?;
    }
    let user = with_store(&state, move |store| {
        // Hashing is slow on purpose: only once the rest is known to be acceptable to the caller.
        let hash = match &body.password {
            Some(p) => Some(crate::password::hash(p).map_err(|e| WebError::Internal(e.to_string()))?),
            None => None,
        };
        let u = ops::add_user(
            store,
            &s,
            ops::AddUser {
                email: &body.email,
                name: &body.name,
                role: body.role.into(),
                manager: body.manager.as_deref(),
                password_hash: hash.as_deref(),
            },
            Timestamp::now(),
        )?;
        Ok(types::User::from(u))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

#[utoipa::path(
    put,
    path = "/api/v1/settings/ladder",
    operation_id = "set_ladder",
    tag = "org",
    summary = "Replace the decision ladder (admins)",
    description = "The org's ordered buyer decisions, the last one the signing. Steps that deals stand on \
                   cannot be removed.",
    request_body = types::SetLadder,
    responses(
        (status = 200, description = "The new ladder", body = types::LadderSteps),
        BadRequest,
        Unauthorized,
        Forbidden,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn set_ladder(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiJson(body): ApiJson<types::SetLadder>,
) -> Result<Json<types::LadderSteps>, ApiError> {
    let ladder = with_store(&state, move |store| Ok(ops::set_ladder(store, &s, body.steps)?)).await?;
    Ok(Json((&ladder).into()))
}

#[utoipa::path(
    put,
    path = "/api/v1/settings/cadence",
    operation_id = "set_cadence",
    tag = "org",
    summary = "Set the follow-up cadence (admins)",
    description = "How often sellers follow up on deals that went quiet, with no end short of the buyer's \
                   definitive no.",
    request_body = types::Cadence,
    responses(
        (status = 200, description = "The new cadence", body = types::Cadence),
        BadRequest,
        Unauthorized,
        Forbidden,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn set_cadence(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiJson(body): ApiJson<types::Cadence>,
) -> Result<Json<types::Cadence>, ApiError> {
    let cadence = with_store(&state, move |store| {
        Ok(ops::set_cadence(
            store,
            &s,
            body.first_every_days,
            body.first_for_days,
            body.then_every_days,
        )?)
    })
    .await?;
    Ok(Json(cadence.into()))
}

#[utoipa::path(
    post,
    path = "/api/v1/goals",
    operation_id = "set_goal",
    tag = "org",
    summary = "Set a seller's goal for a month",
    description = "A seller sets their own; a manager their team's; an admin anyone's. Setting it again \
                   replaces it.",
    request_body = types::SetGoal,
    responses(
        (status = 200, description = "The goal", body = types::Goal),
        BadRequest,
        Unauthorized,
        Forbidden,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn set_goal(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiJson(body): ApiJson<types::SetGoal>,
) -> Result<Json<types::Goal>, ApiError> {
    let month = Month::parse("month", &body.month)?;
    let amount = body.amount.to_core("amount")?;
    let goal = with_store(&state, move |store| {
        Ok(ops::set_goal(store, &s, &body.seller, month, amount, Timestamp::now())?)
    })
    .await?;
    Ok(Json(goal.into()))
}

#[utoipa::path(
    post,
    path = "/api/v1/check-ins",
    operation_id = "check_in",
    tag = "org",
    summary = "Check in: rate your own commitment",
    description = "The caller's dated self-rating of commitment (1 to 10), their why, and their obstacle. \
                   Nobody checks in for someone else.",
    request_body = types::NewCheckIn,
    responses(
        (status = 201, description = "The check-in", body = types::CheckIn),
        BadRequest,
        Unauthorized,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn check_in(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiJson(body): ApiJson<types::NewCheckIn>,
) -> Result<Response, ApiError> {
    let c = with_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        let input = commands::CheckInInput {
            commitment: body.commitment,
            why: &body.why,
            obstacle: body.obstacle.as_deref(),
        };
        Ok(ops::check_in(store, &s, input, now)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(types::CheckIn::from(c))).into_response())
}
