//! The signed-in user's calendar feed page: make the private `/calendar/<token>.ics` URL a
//! calendar app subscribes to (shown once, on the page that answers the creation; a new one
//! revokes the old), or revoke it. The feed itself is served by [`crate::calendar`].

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Form;
use jiff::Timestamp;
use maud::{html, Markup};
use momentum_store::calendar as store_calendar;
use momentum_store::StoreError;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::{read_store, with_store};
use crate::error::{PageError, WebError};
use crate::pages::tokens::CsrfForm;
use crate::pages::{layout, ui, when};
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    pub revoked: Option<String>,
}

fn render(user: &CurrentUser, live_since: Option<Timestamp>, created: Option<&str>, notice: Option<&str>) -> Markup {
    let org = &user.session.org;
    layout::page(
        "Calendar feed",
        user,
        "",
        html! {
            (ui::notice(notice))
            h1 { "Your next steps in your calendar" }
            p { "Subscribe to a private address in your calendar app (Google Calendar: “From URL”; Outlook: “Subscribe from web”; Apple Calendar: “New Calendar Subscription”) and every open deal's next step appears there: buyer appointments as confirmed events, your follow-ups as tentative ones. A moved step moves its event." }
            @if let Some(url) = created {
                section.card.created id="new-feed" {
                    h2 { "Your feed address" }
                    p { strong { "Copy it now: it is shown only this once." } " Anyone holding it sees your next steps; Momentum keeps only its hash." }
                    p { code.secret { (url) } }
                }
            }
            section.card id="feed" {
                @match live_since {
                    Some(at) => {
                        p { "Your feed is live, made " (when(org, at)) ". A new address revokes this one." }
                    }
                    None => p.muted { "You have no calendar feed." },
                }
                form method="post" action="/calendar" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    button type="submit" { @if live_since.is_some() { "Make a new address" } @else { "Make my feed address" } }
                }
                @if live_since.is_some() {
                    form method="post" action="/calendar/revoke" {
                        input type="hidden" name="csrf" value=(user.csrf);
                        button.danger type="submit" { "Revoke the feed" }
                    }
                }
            }
        },
    )
}

async fn live(state: &AppState, user: &CurrentUser) -> Result<Option<Timestamp>, WebError> {
    let s = user.session.clone();
    read_store(state, move |store| Ok(store_calendar::live_feed(store, &s)?)).await
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(flash): Query<Flash>,
) -> Result<Response, PageError> {
    let since = live(&state, &user).await?;
    let notice = flash
        .revoked
        .is_some()
        .then_some("Your feed is revoked: its address shows nothing any more.");
    Ok(render(&user, since, None, notice).into_response())
}

/// This server's address as the browser reached it, for a URL a calendar app can fetch;
/// `None` when the Host header is missing or not a plain host[:port].
fn base_url(headers: &HeaderMap, https: bool) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    plain.then(|| format!("{}://{host}", if https { "https" } else { "http" }))
}

/// Makes a new feed (revoking the old) and answers with the page that shows its address
/// once (not a redirect: the secret must not travel in a URL), marked not to be stored.
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let now = Timestamp::now();
    let path = with_store(&state, move |store| {
        let (token, hash) = crate::calendar::new_token(s.org.id);
        store_calendar::new_feed(store, &s, &hash, now)?;
        Ok(format!("/calendar/{token}.ics"))
    })
    .await?;
    let url = match base_url(&headers, state.config.secure_cookies) {
        Some(base) => format!("{base}{path}"),
        None => path,
    };
    // The feed just made is the live one: no second read to say so.
    let page = render(&user, Some(now), Some(&url), None);
    Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let result = with_store(&state, move |store| {
        Ok(store_calendar::revoke_feed(store, &s, Timestamp::now())?)
    })
    .await;
    match result {
        // Revoking a feed that is already gone leaves the user where they wanted to be.
        Ok(()) | Err(WebError::Store(StoreError::Domain(momentum_core::DomainError::NotFound { .. }))) => {
            Ok(ui::see("/calendar?revoked=1"))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, value.parse().unwrap());
        h
    }

    #[test]
    fn the_feed_address_uses_the_host_the_browser_reached() {
        assert_eq!(
            base_url(&host("crm.acme.test:8080"), false).as_deref(),
            Some("http://crm.acme.test:8080")
        );
        assert_eq!(
            base_url(&host("crm.acme.test"), true).as_deref(),
            Some("https://crm.acme.test")
        );
        assert_eq!(base_url(&host("evil.test/<x>"), false), None);
        assert_eq!(base_url(&HeaderMap::new(), false), None);
    }
}
