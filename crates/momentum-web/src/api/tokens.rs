//! The caller's API tokens: list, create (the secret is shown once; only its hash is
//! kept), revoke.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use momentum_core::model::ApiTokenId;
use momentum_store::auth as store_auth;

use super::extract::{ApiJson, Id};
use super::problems::*;
use super::types;
use crate::auth::{new_api_token, ApiUser};
use crate::db::with_store;
use crate::error::ApiError;
use crate::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    operation_id = "list_tokens",
    tag = "tokens",
    summary = "List your API tokens",
    description = "The caller's own tokens, revoked ones included, newest first; never their secrets.",
    responses(
        (status = 200, description = "The caller's tokens", body = types::ApiTokens),
        Unauthorized,
        Unavailable,
    )
)]
pub async fn list(State(state): State<AppState>, ApiUser(s): ApiUser) -> Result<Json<types::ApiTokens>, ApiError> {
    let tokens = with_store(&state, move |store| Ok(store_auth::tokens(store, &s)?)).await?;
    Ok(Json(types::ApiTokens {
        items: tokens.into_iter().map(types::ApiToken::from).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    operation_id = "create_token",
    tag = "tokens",
    summary = "Create an API token",
    description = "A new token acting as the caller. The answer holds its secret, shown this once: the \
                   server keeps only a hash.",
    request_body = types::NewApiToken,
    responses(
        (status = 201, description = "The new token with its secret", body = types::CreatedApiToken),
        BadRequest,
        Unauthorized,
        UnsupportedMediaType,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    ApiJson(body): ApiJson<types::NewApiToken>,
) -> Result<Response, ApiError> {
    let created = with_store(&state, move |store| {
        let (secret, hash) = new_api_token(s.org.id);
        let token = store_auth::create_token(store, &s, &body.name, &hash, Timestamp::now())?;
        Ok(types::CreatedApiToken {
            token: token.into(),
            secret,
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    operation_id = "revoke_token",
    tag = "tokens",
    summary = "Revoke an API token",
    description = "Revokes one of the caller's tokens (an admin: any of the org's). It opens nothing from \
                   now on. Revoking again keeps the first revocation.",
    params(("id" = i64, Path, description = "The token's id")),
    responses(
        (status = 200, description = "The revoked token", body = types::ApiToken),
        Unauthorized,
        NotFound,
        Unprocessable,
        Unavailable,
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    ApiUser(s): ApiUser,
    Id(id): Id,
) -> Result<Json<types::ApiToken>, ApiError> {
    let token = with_store(&state, move |store| {
        Ok(store_auth::revoke_token(store, &s, ApiTokenId(id), Timestamp::now())?)
    })
    .await?;
    Ok(Json(token.into()))
}
