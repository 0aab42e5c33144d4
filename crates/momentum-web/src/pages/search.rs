//! Search across deals (only those the actor sees), accounts and contacts, each kind
//! capped, from the box in the page header.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use momentum_core::DomainError;
use momentum_store::directory::{self, SearchResults};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::with_store;
use crate::error::PageError;
use crate::pages::ui::{self, error_at, val, Posted};
use crate::pages::{layout, money};
use crate::AppState;

/// How many of each kind a search shows.
pub const SEARCH_LIMIT: u32 = 25;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
}

fn render(user: &CurrentUser, q: &SearchQuery, found: Option<&SearchResults>, error: Option<&DomainError>) -> Markup {
    layout::page(
        "Search",
        user,
        "",
        html! {
            h1 { "Search" }
            form.stack.card id="search-form" method="get" action="/search" role="search" {
                label { "Deals, accounts and contacts" input type="search" name="q" value=(val(&q.q)) minlength="2" maxlength="100" required; }
                (error_at(error, &["q"]))
                button type="submit" { "Search" }
            }
            @if let Some(r) = found {
                @if r.deals.is_empty() && r.accounts.is_empty() && r.contacts.is_empty() {
                    p.muted { "Nothing found." }
                }
                @if !r.deals.is_empty() {
                    section id="found-deals" {
                        h2 { "Deals" }
                        ul.plain {
                            @for d in &r.deals {
                                li data-deal=(d.id) { a href={"/deals/" (d.id)} { (d.title) } " · " (d.owner) " · " (money(d.value)) " · " (d.status) }
                            }
                        }
                    }
                }
                @if !r.accounts.is_empty() {
                    section id="found-accounts" {
                        h2 { "Accounts" }
                        ul.plain {
                            @for a in &r.accounts {
                                li data-account=(a.id) { a href={"/accounts/" (a.id)} { (a.name) } @if let Some(d) = &a.domain { " · " span.muted { (d) } } }
                            }
                        }
                    }
                }
                @if !r.contacts.is_empty() {
                    section id="found-contacts" {
                        h2 { "Contacts" }
                        ul.plain {
                            @for c in &r.contacts {
                                li data-contact=(c.id) { a href={"/contacts/" (c.id)} { (c.name) } @if let Some(e) = &c.email { " · " span.muted { (e) } } }
                            }
                        }
                    }
                }
                @if [r.deals.len(), r.accounts.len(), r.contacts.len()].contains(&(SEARCH_LIMIT as usize)) {
                    p.muted { "Showing the first " (SEARCH_LIMIT) " of each kind: type more to narrow it down." }
                }
            }
        },
    )
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    // An empty box is a page to search from, not a refusal.
    if q.q.is_none() {
        return Ok(render(&user, &q, None, None).into_response());
    }
    let s = user.session.clone();
    let text = val(&q.q);
    let result = with_store(&state, move |store| {
        Ok(directory::search(store, &s, &text, SEARCH_LIMIT)?)
    })
    .await;
    match ui::posted(result, "")? {
        Posted::Done(found) => Ok(render(&user, &q, Some(&found), None).into_response()),
        Posted::Refused(e) => Ok(ui::refused(&e, render(&user, &q, None, Some(&e)))),
    }
}
