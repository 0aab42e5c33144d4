//! The problem+json responses operations declare, one type per status, so each operation
//! lists exactly the ones it can answer.

#![allow(dead_code)] // Only their OpenAPI descriptions are used; the bodies are `error::Problem`.

use utoipa::IntoResponses;

use crate::error::Problem;

/// The JSON body could not be read (bad JSON) or the query string could not be parsed.
#[derive(Debug, IntoResponses)]
#[response(
    status = 400,
    description = "The request could not be read: bad JSON, or a query string that cannot be parsed",
    content_type = "application/problem+json"
)]
pub struct BadRequest(Problem);

#[derive(Debug, IntoResponses)]
#[response(
    status = 401,
    description = "No valid API token: send `Authorization: Bearer <token>`",
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer`"))
)]
pub struct Unauthorized(Problem);

#[derive(Debug, IntoResponses)]
#[response(
    status = 403,
    description = "Not allowed: a seller acts on their own deals, a manager on their team's; settings are for admins",
    content_type = "application/problem+json"
)]
pub struct Forbidden(Problem);

#[derive(Debug, IntoResponses)]
#[response(
    status = 404,
    description = "No such thing in your org",
    content_type = "application/problem+json"
)]
pub struct NotFound(Problem);

#[derive(Debug, IntoResponses)]
#[response(
    status = 409,
    description = "The deal changed since the version the write was based on: reload it and try again",
    content_type = "application/problem+json"
)]
pub struct Conflict(Problem);

#[derive(Debug, IntoResponses)]
#[response(
    status = 415,
    description = "The body is not sent as `application/json`",
    content_type = "application/problem+json"
)]
pub struct UnsupportedMediaType(Problem);

#[derive(Debug, IntoResponses)]
#[response(
    status = 422,
    description = "A rule refused the input: `errors` names the field, the value and the rule",
    content_type = "application/problem+json"
)]
pub struct Unprocessable(Problem);

#[derive(Debug, IntoResponses)]
#[response(
    status = 503,
    description = "The database is unavailable; try again shortly",
    content_type = "application/problem+json"
)]
pub struct Unavailable(Problem);
