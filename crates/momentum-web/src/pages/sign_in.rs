//! Sign in and out. Failed attempts are counted per account and per address in the
//! database (so every app server sees them); past the limit, sign-in waits out the window.
//! An account is locked after `sign_in_attempts` failures; an address only after ten times
//! that, so one office behind a proxy or NAT is not locked out by one person's typos.
//! Unknown e-mails cost the same argon2 work as known ones, so timing reveals no accounts.
//! A successful sign-in always starts a new session id (and drops the old one).

use std::net::SocketAddr;
use std::sync::LazyLock;

use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::Cookie;
use axum_extra::extract::CookieJar;
use jiff::{SignedDuration, Timestamp};
use maud::html;
use serde::Deserialize;

use crate::auth::{self, CurrentUser, SESSION_COOKIE, SIGN_IN_CSRF_COOKIE};
use crate::db::with_store;
use crate::error::{PageError, WebError};
use crate::pages::layout;
use crate::AppState;

/// A hash of no one's password, verified when the account or its password is missing so
/// that such a sign-in takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| crate::password::hash("momentum: no such account, no such password").expect("hashing a constant"));

/// How many failures lock an address out, given the per-account limit.
const ADDRESS_LIMIT_FACTOR: i64 = 10;

#[derive(Debug, Default, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    csrf: String,
}

fn render(state: &AppState, jar: CookieJar, email: &str, org: &str, message: Option<&str>) -> Response {
    let csrf = auth::random_secret();
    let jar = jar.add(auth::sign_in_csrf_cookie(state, &csrf));
    let body = layout::bare(
        "Sign in",
        html! {
            h1 { "Sign in to Momentum" }
            @if let Some(m) = message { p.error role="alert" { (m) } }
            form.stack.card method="post" action="/sign-in" {
                input type="hidden" name="csrf" value=(csrf);
                label { "E-mail" input type="email" name="email" value=(email) required autofocus autocomplete="username"; }
                label { "Password" input type="password" name="password" required autocomplete="current-password"; }
                label { "Org " span.muted { "(only if this server holds several)" } input type="text" name="org" value=(org); }
                button type="submit" { "Sign in" }
            }
        },
    );
    (jar, body).into_response()
}

pub async fn form(State(state): State<AppState>, jar: CookieJar) -> Response {
    render(&state, jar, "", "", None)
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Form(f): Form<SignInForm>,
) -> Result<Response, PageError> {
    let sent_csrf = jar.get(SIGN_IN_CSRF_COOKIE).map(|c| c.value().to_owned());
    if !sent_csrf.is_some_and(|c| auth::same_secret(&c, &f.csrf)) {
        return Err(WebError::Csrf.into());
    }
    let now = Timestamp::now();
    let window = SignedDuration::from_mins(i64::from(state.config.sign_in_window_minutes));
    let limit = i64::from(state.config.sign_in_attempts);
    let email = f.email.trim().to_lowercase();
    let keys = [
        (format!("account:{email}"), limit),
        (
            format!("address:{}", addr.ip()),
            limit.saturating_mul(ADDRESS_LIMIT_FACTOR),
        ),
    ];
    let org_name = f.org.trim().to_owned();
    let password = f.password.clone();
    let days = i64::from(state.config.session_days);
    let old_session = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned());
    // 1. Which org, whether this account or address is throttled, and its credentials.
    let looked_up = with_store(&state, move |store| {
        use momentum_store::auth as a;
        let org = if org_name.is_empty() {
            a::only_org(store)?
        } else {
            a::org_id_by_name(store, &org_name)?
        };
        let Some(org) = org else {
            return Ok(Err(SignIn::NeedOrg));
        };
        for (key, limit) in &keys {
            if a::sign_in_failures(store, org, key, now - window)? >= *limit {
                return Ok(Err(SignIn::Throttled));
            }
        }
        let user = a::credentials(store, org, &email)?;
        Ok(Ok((org, keys, user)))
    })
    .await?;
    let (org, keys, user) = match looked_up {
        Ok(found) => found,
        Err(outcome) => return Ok(answer(&state, jar, &f, outcome)),
    };
    // 2. One argon2 verification, whether or not the account (or its password) exists, on a
    // blocking thread that holds no database connection.
    let (active, phc) = match &user {
        Some((u, Some(h))) => (u.active, h.clone()),
        _ => (false, DUMMY_HASH.clone()),
    };
    let verified = crate::password::verify_in_turn(password, phc).await? && active;
    // 3. Count the failure, or start a new session (ending whatever this browser had).
    let user = user.filter(|_| verified).map(|(u, _)| u.id);
    let outcome = with_store(&state, move |store| {
        use momentum_store::auth as a;
        let Some(user) = user else {
            for (key, _) in &keys {
                a::record_sign_in_failure(store, org, key, now, window)?;
            }
            return Ok(SignIn::Wrong);
        };
        for (key, _) in &keys {
            a::clear_sign_in_failures(store, org, key)?;
        }
        if let Some((old_org, old_secret)) = old_session.as_deref().and_then(|v| v.split_once('.')) {
            if let Ok(old_org) = old_org.parse() {
                a::delete_session(
                    store,
                    momentum_core::model::OrgId(old_org),
                    &auth::sha256_hex(old_secret),
                )?;
            }
        }
        let secret = auth::random_secret();
        let csrf = auth::random_secret();
        let expires = now + SignedDuration::from_hours(24 * days);
        a::create_session(store, org, user, &auth::sha256_hex(&secret), &csrf, expires, now)?;
        Ok(SignIn::Ok { org, secret })
    })
    .await?;
    Ok(answer(&state, jar, &f, outcome))
}

fn answer(state: &AppState, jar: CookieJar, f: &SignInForm, outcome: SignIn) -> Response {
    match outcome {
        SignIn::Ok { org, secret } => {
            let jar = jar
                .remove(Cookie::build(SIGN_IN_CSRF_COOKIE).path("/sign-in"))
                .add(auth::session_cookie(state, org, &secret));
            (jar, Redirect::to("/")).into_response()
        }
        SignIn::Wrong => with_status(
            render(
                state,
                jar,
                &f.email,
                &f.org,
                Some("The e-mail or the password is wrong."),
            ),
            401,
        ),
        SignIn::Throttled => with_status(
            render(
                state,
                jar,
                &f.email,
                &f.org,
                Some("Too many failed sign-ins: wait a few minutes and try again."),
            ),
            429,
        ),
        SignIn::NeedOrg => with_status(
            render(
                state,
                jar,
                &f.email,
                &f.org,
                Some("Name your org: this server holds several, or none by that name."),
            ),
            422,
        ),
    }
}

enum SignIn {
    Ok {
        org: momentum_core::model::OrgId,
        secret: String,
    },
    Wrong,
    Throttled,
    NeedOrg,
}

fn with_status(mut r: Response, status: u16) -> Response {
    *r.status_mut() = axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
    r
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

pub async fn sign_out(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(f.csrf.as_deref())?;
    let org = user.session.org.id;
    let hash = user.session_hash.clone();
    with_store(&state, move |store| {
        Ok(momentum_store::auth::delete_session(store, org, &hash)?)
    })
    .await?;
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to("/sign-in")).into_response())
}
