//! Who is asking. Pages use a session cookie (`{org}.{secret}`: HttpOnly, SameSite=Lax,
//! Secure behind HTTPS; the database keeps only the secret's SHA-256, so a stolen
//! database yields no live session) with a per-session CSRF token on every form POST.
//! The API takes personal tokens as `Authorization: Bearer mtm_{org}_{secret}`, also
//! stored hashed. Role rules are not decided here: the extracted [`ops::Session`] carries
//! the actor, and every store operation applies the core's rules.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use momentum_core::model::OrgId;
use momentum_store::ops::Session;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::{read_store, with_store};
use crate::error::{ApiError, PageError, WebError};
use crate::AppState;

pub const SESSION_COOKIE: &str = "momentum_session";
/// The double-submit CSRF cookie of the sign-in form (there is no session yet).
pub const SIGN_IN_CSRF_COOKIE: &str = "momentum_csrf";
const TOKEN_PREFIX: &str = "mtm_";

/// 32 random bytes as hex: session ids, CSRF tokens, API token secrets.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new API token for `org`: what the user is shown once, and what is stored.
pub fn new_api_token(org: OrgId) -> (String, String) {
    let token = format!("{TOKEN_PREFIX}{}_{}", org.0, random_secret());
    let hash = sha256_hex(&token);
    (token, hash)
}

/// The org an API token names, and the token: `None` unless it reads `mtm_{org}_{secret}`.
pub fn split_token(token: &str) -> Option<(OrgId, &str)> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (org, _) = rest.split_once('_')?;
    Some((OrgId(org.parse().ok()?), token))
}

/// The org and the secret of a session cookie's value, `{org}.{secret}`.
pub fn split_session_cookie(value: &str) -> Option<(OrgId, &str)> {
    let (org, secret) = value.split_once('.')?;
    Some((OrgId(org.parse().ok()?), secret))
}

pub fn session_cookie(state: &AppState, org: OrgId, secret: &str) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, format!("{}.{secret}", org.0)))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .path("/")
        .max_age(cookie_days(state.config.session_days))
        .build()
}

pub fn sign_in_csrf_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build((SIGN_IN_CSRF_COOKIE, token.to_owned()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .path("/sign-in")
        .build()
}

fn cookie_days(days: u32) -> cookie::time::Duration {
    cookie::time::Duration::days(i64::from(days))
}

/// A signed-in person using the pages.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub session: Session,
    pub csrf: String,
    pub session_hash: String,
}

impl CurrentUser {
    /// Refuses a form POST whose CSRF token is not this session's.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), WebError> {
        match sent {
            Some(t) if same_secret(t, &self.csrf) => Ok(()),
            _ => Err(WebError::Csrf),
        }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let cookie = jar.get(SESSION_COOKIE).ok_or(WebError::Unauthorized)?;
        let (org, secret) = split_session_cookie(cookie.value()).ok_or(WebError::Unauthorized)?;
        let session_hash = sha256_hex(secret);
        let hash = session_hash.clone();
        let now = jiff::Timestamp::now();
        let found = read_store(state, move |store| {
            Ok(momentum_store::auth::session_by_hash(store, org, &hash, now)?)
        })
        .await?;
        let (session, csrf) = found.ok_or(WebError::Unauthorized)?;
        Ok(CurrentUser {
            session,
            csrf,
            session_hash,
        })
    }
}

/// An API client, authenticated by its Bearer token.
#[derive(Debug, Clone)]
pub struct ApiUser(pub Session);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(WebError::Unauthorized)?;
        let token = header.strip_prefix("Bearer ").ok_or(WebError::Unauthorized)?.trim();
        let (org, token) = split_token(token).ok_or(WebError::Unauthorized)?;
        let hash = sha256_hex(token);
        let now = jiff::Timestamp::now();
        let found = read_store(state, move |store| {
            Ok(momentum_store::auth::token_session(store, org, &hash, now)?)
        })
        .await?
        .ok_or(WebError::Unauthorized)?;
        // At most once a minute per token: a write, so on a blocking thread.
        if let Some(token) = found.touch {
            with_store(state, move |store| {
                Ok(momentum_store::auth::touch_token(store, org, token, now)?)
            })
            .await?;
        }
        Ok(ApiUser(found.session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_org_and_are_stored_hashed() {
        let (token, hash) = new_api_token(OrgId(42));
        assert!(token.starts_with("mtm_42_"));
        assert_eq!(split_token(&token).map(|(o, _)| o), Some(OrgId(42)));
        assert_eq!(hash, sha256_hex(&token));
        assert!(!hash.contains(&token[7..]));
        assert_ne!(new_api_token(OrgId(42)).0, token);
        assert!(split_token("mtm_x_abc").is_none());
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("abc", "ab"));
    }
}
