//! Errors of the web layer. Policy: a rule broken by the caller keeps its domain meaning
//! (422 Invalid with the field, 403, 404, 409); database trouble is 503 and its cause is
//! logged, never shown. API routes answer RFC 9457 problem+json ([`ApiError`]); pages
//! answer HTML ([`PageError`]), and send an anonymous visitor to the sign-in page.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use momentum_core::DomainError;
use momentum_store::StoreError;
use serde::Serialize;

#[derive(Debug)]
pub enum WebError {
    Store(StoreError),
    /// No valid session or token.
    Unauthorized,
    /// A form POST without the session's CSRF token.
    Csrf,
    TooManyAttempts,
    /// Input that cannot even be read (bad JSON, a missing field).
    BadRequest(String),
    NotFound,
    /// A request body over the configured limit.
    TooLarge(String),
    Internal(String),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        WebError::Store(e)
    }
}

impl From<DomainError> for WebError {
    fn from(e: DomainError) -> Self {
        WebError::Store(StoreError::Domain(e))
    }
}

/// One field's problem, for forms and API clients.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub value: String,
    pub rule: String,
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Store(StoreError::Domain(d)) => match d {
                DomainError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                DomainError::Forbidden(_) => StatusCode::FORBIDDEN,
                DomainError::NotFound { .. } => StatusCode::NOT_FOUND,
                DomainError::Conflict { .. } => StatusCode::CONFLICT,
            },
            WebError::Store(StoreError::Database(_)) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Store(StoreError::Corrupt(_)) | WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// What the user may read: domain messages as they are, internal causes hidden.
    pub fn detail(&self) -> String {
        match self {
            WebError::Store(StoreError::Domain(d)) => d.to_string(),
            WebError::Store(StoreError::Database(_)) => "the database is unavailable; try again shortly".into(),
            WebError::Store(StoreError::Corrupt(_)) | WebError::Internal(_) => {
                "something went wrong on our side".into()
            }
            WebError::Unauthorized => "sign in, or send a valid API token as Bearer".into(),
            WebError::Csrf => "the form is stale or forged (missing CSRF token): reload the page and try again".into(),
            WebError::TooManyAttempts => "too many failed sign-ins: wait a few minutes and try again".into(),
            WebError::BadRequest(m) | WebError::TooLarge(m) => m.clone(),
            WebError::NotFound => "no such page".into(),
        }
    }

    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            WebError::Store(StoreError::Domain(d @ DomainError::Invalid { field, value, rule })) => vec![FieldError {
                field: field.clone(),
                value: value.clone(),
                rule: rule.clone(),
                message: d.to_string(),
            }],
            _ => Vec::new(),
        }
    }

    fn log(&self) {
        match self {
            WebError::Store(StoreError::Database(cause) | StoreError::Corrupt(cause)) | WebError::Internal(cause) => {
                tracing::error!(%cause, "request failed")
            }
            _ => {}
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: self.detail(),
            errors: self.field_errors(),
        }
    }
}

/// An error answered as problem+json.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl ApiError {
    /// The problem+json answer without logging: for an error that was already logged
    /// where it first answered (a panic caught outside the API's handlers).
    pub fn answer_logged(self) -> Response {
        let body = serde_json::to_string(&self.0.problem()).unwrap_or_default();
        let mut response = (
            self.0.status(),
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if matches!(self.0, WebError::Unauthorized) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        self.answer_logged()
    }
}

/// An error answered as an HTML page.
#[derive(Debug)]
pub struct PageError(pub WebError);

impl<E: Into<WebError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if matches!(self.0, WebError::Unauthorized) {
            return Redirect::to("/sign-in").into_response();
        }
        self.0.log();
        let status = self.0.status();
        let page = crate::pages::layout::bare(
            status.canonical_reason().unwrap_or("Error"),
            html! {
                h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("Error")) }
                p.error { (self.0.detail()) }
                p { a href="/" { "Back to Today" } }
            },
        );
        (status, page).into_response()
    }
}
