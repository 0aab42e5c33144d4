//! The caller's API tokens: list and revoke. Creating one is refused here (403): tokens
//! are made in the app or with `momentum token create`, never by another token.

use axum::extract::State;
use axum::Json;
use jiff::Timestamp;
use momentum_core::model::ApiTokenId;
use momentum_core::DomainError;
use momentum_store::auth as store_auth;

use super::extract::Id;
use super::problems::*;
use super::types;
use crate::auth::ApiUser;
use crate::db::{read_store, with_store};
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
    let tokens = read_store(&state, move |store| Ok(store_auth::tokens(store, &s)?)).await?;
    Ok(Json(types::ApiTokens {
        items: tokens.into_iter().map(types::ApiToken::from).collect(),
    }))
}

/// Why the API mints no tokens: a leaked token could otherwise create children that
/// outlive its revocation.
pub const CREATE_REFUSED: &str = "API tokens are not created through the API: create one in the app \
                                  (the /tokens page) or with `momentum token create`";

/// The 403 every token-creation request gets.
#[allow(dead_code)] // Only its OpenAPI description is used; the body is `error::Problem`.
#[derive(Debug, utoipa::IntoResponses)]
#[response(
    status = 403,
    description = "Always: tokens are created in the app (the /tokens page) or with `momentum token create`",
    content_type = "application/problem+json"
)]
pub struct MadeElsewhere(crate::error::Problem);

#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    operation_id = "create_token",
    tag = "tokens",
    summary = "Create an API token (refused)",
    description = "Always refused with 403: a request authenticated by an API token cannot mint new \
                   tokens, so a leaked token cannot create children that survive its revocation. \
                   Create tokens in the app (the /tokens page) or with `momentum token create`.",
    responses(Unauthorized, MadeElsewhere, Unavailable,)
)]
pub async fn create(_caller: ApiUser) -> ApiError {
    DomainError::Forbidden(CREATE_REFUSED.into()).into()
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
