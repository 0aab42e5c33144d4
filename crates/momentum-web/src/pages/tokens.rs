//! The signed-in user's API tokens: create one (its secret is shown once, on the page that
//! answers the creation, and kept only as a hash), list them, revoke one.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Form;
use jiff::Timestamp;
use maud::{html, Markup};
use momentum_core::model::ApiTokenId;
use momentum_core::DomainError;
use momentum_store::auth::{self as store_auth, ApiToken};
use serde::Deserialize;

use crate::auth::{self, CurrentUser};
use crate::db::{read_store, with_store};
use crate::error::{PageError, WebError};
use crate::pages::ui::{self, error_at, error_general, val, Posted};
use crate::pages::{layout, when};
use crate::AppState;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct TokenForm {
    pub csrf: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    pub revoked: Option<String>,
}

/// A token just made: its name and its secret, shown this once.
struct Created {
    name: String,
    secret: String,
}

fn render(
    user: &CurrentUser,
    tokens: &[ApiToken],
    form: &TokenForm,
    error: Option<&DomainError>,
    created: Option<&Created>,
    notice: Option<&str>,
) -> Markup {
    let org = &user.session.org;
    layout::page(
        "API tokens",
        user,
        "",
        html! {
            (ui::notice(notice))
            h1 { "API tokens" }
            p { "A token lets a script or another tool use the JSON API as you, with your rights: send it as " code { "Authorization: Bearer …" } ". Revoke a token as soon as it is no longer used." }
            @if let Some(c) = created {
                section.card.created id="new-token" {
                    h2 { "Your new token “" (c.name) "”" }
                    p { strong { "Copy it now: it is shown only this once." } " Momentum keeps only its hash." }
                    p { code.secret { (c.secret) } }
                }
            }
            form.stack.card id="token-form" method="post" action="/tokens" {
                h2 { "New token" }
                (error_general(error, &["name"]))
                input type="hidden" name="csrf" value=(user.csrf);
                label { "Name it after where it is used" input type="text" name="name" value=(val(&form.name)) placeholder="spreadsheet export" required maxlength="100"; }
                (error_at(error, &["name"]))
                button type="submit" { "Create the token" }
            }
            section id="tokens" {
                h2 { "Your tokens" }
                @if tokens.is_empty() { p.muted { "None yet." } } @else {
                    table.responsive {
                        thead { tr { th { "Name" } th { "Created" } th { "Last used" } th { "" } } }
                        tbody {
                            @for t in tokens {
                                tr data-token=(t.id) {
                                    td { (t.name) }
                                    td { (when(org, t.created_at)) }
                                    td { @match t.last_used_at { Some(at) => { "used " (when(org, at)) }, None => "never used" } }
                                    td {
                                        @match t.revoked_at {
                                            Some(at) => span.tag { "revoked " (when(org, at)) },
                                            None => form method="post" action={"/tokens/" (t.id) "/revoke"} {
                                                input type="hidden" name="csrf" value=(user.csrf);
                                                button.danger type="submit" { "Revoke" }
                                            },
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

async fn tokens(state: &AppState, user: &CurrentUser) -> Result<Vec<ApiToken>, WebError> {
    let s = user.session.clone();
    read_store(state, move |store| Ok(store_auth::tokens(store, &s)?)).await
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(flash): Query<Flash>,
) -> Result<Response, PageError> {
    let list = tokens(&state, &user).await?;
    let notice = flash
        .revoked
        .is_some()
        .then_some("The token is revoked: it opens nothing any more.");
    Ok(render(&user, &list, &TokenForm::default(), None, None, notice).into_response())
}

/// Creates a token and answers with the page that shows it once (not a redirect: the
/// secret must not travel in a URL or be shown again), marked not to be stored.
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let name = val(&form.name);
    let result = with_store(&state, move |store| {
        let (secret, hash) = auth::new_api_token(s.org.id);
        let t = store_auth::create_token(store, &s, &name, &hash, Timestamp::now())?;
        Ok(Created { name: t.name, secret })
    })
    .await;
    match ui::posted(result, "")? {
        Posted::Done(created) => {
            let list = tokens(&state, &user).await?;
            let page = render(&user, &list, &TokenForm::default(), None, Some(&created), None);
            Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
        }
        Posted::Refused(e) => {
            let list = tokens(&state, &user).await?;
            Ok(ui::refused(&e, render(&user, &list, &form, Some(&e), None, None)))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

pub async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    with_store(&state, move |store| {
        store_auth::revoke_token(store, &s, ApiTokenId(id), Timestamp::now())?;
        Ok(())
    })
    .await?;
    Ok(ui::see("/tokens?revoked=1"))
}
