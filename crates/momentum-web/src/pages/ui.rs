//! Pieces the pages share: reading posted text, placing a refusal's message next to its
//! field, the status a refused form answers with, keyset "Next page" links, and query
//! strings built safely.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use momentum_core::DomainError;
use momentum_store::StoreError;

use crate::error::{PageError, WebError};

/// How many rows a listing page shows.
pub const PAGE_SIZE: u32 = 50;

/// The trimmed text of a posted field, or `None` when it is missing or blank.
pub fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A next step as the forms post it: the time (org time or relative), its kind, the
/// decision it aims at and whether the buyer committed. One reading for every form.
pub fn next_step(
    org: &momentum_core::model::Org,
    now: momentum_core::model::Now,
    at: &str,
    kind: &Option<String>,
    aims_at: &Option<String>,
    buyer_committed: &Option<String>,
) -> Result<momentum_core::commands::NextStepInput, DomainError> {
    Ok(momentum_core::commands::NextStepInput {
        due: crate::input::when("next_step.due", at, org, now)?,
        kind: momentum_core::vocab::InteractionKind::parse("next_kind", text(kind).unwrap_or("call"))?,
        aims_at: text(aims_at)
            .map(|t| org.ladder.parse_step("next_step.aims_at", t))
            .transpose()?,
        buyer_committed: text(buyer_committed).is_some(),
    })
}

/// A posted field as typed (for filling a refused form back in).
pub fn val(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// A whole number typed into `field`, if any.
pub fn number(field: &str, v: &Option<String>) -> Result<Option<i64>, DomainError> {
    text(v)
        .map(|t| {
            t.parse::<i64>()
                .map_err(|_| DomainError::invalid(field, t, "a whole number"))
        })
        .transpose()
}

/// The field a refusal is about: the one an `Invalid` names, or the kind of thing a
/// `NotFound` could not find (an account or contact chosen in a form).
pub fn field_of(e: &DomainError) -> Option<&str> {
    match e {
        DomainError::Invalid { field, .. } => Some(field),
        DomainError::NotFound { what, .. } => Some(what),
        _ => None,
    }
}

/// The message of `error` when it is about a field starting with any of `prefixes`,
/// placed next to that field's input.
pub fn error_at(error: Option<&DomainError>, prefixes: &[&str]) -> Markup {
    let message = error.filter(|e| field_of(e).is_some_and(|f| prefixes.iter().any(|p| f.starts_with(p))));
    html! {
        @if let Some(m) = message { p.field-error role="alert" { (m) } }
    }
}

/// The message of `error` when it belongs to none of the form's fields (`placed`), shown
/// at the top of the form.
pub fn error_general(error: Option<&DomainError>, placed: &[&str]) -> Markup {
    let message = error.filter(|e| !field_of(e).is_some_and(|f| placed.iter().any(|p| f.starts_with(p))));
    html! {
        @if let Some(m) = message { p.error role="alert" { (m) } }
    }
}

/// What a store call for a form returned: done, refused with a reason the form can show,
/// or failed in a way only an error page can tell.
#[derive(Debug)]
pub enum Posted<T> {
    Done(T),
    Refused(DomainError),
}

/// Splits the refusals a form shows next to its fields (bad input, a stale version, a
/// chosen account or contact that does not exist) from the failures an error page shows
/// (forbidden, database trouble; and not found for the thing the page is about, named by
/// `subject`).
pub fn posted<T>(result: Result<T, WebError>, subject: &str) -> Result<Posted<T>, PageError> {
    match result {
        Ok(v) => Ok(Posted::Done(v)),
        Err(WebError::Store(StoreError::Domain(e))) => match &e {
            DomainError::Invalid { .. } | DomainError::Conflict { .. } => Ok(Posted::Refused(e)),
            DomainError::NotFound { what, .. } if *what != subject => Ok(Posted::Refused(e)),
            _ => Err(WebError::from(e).into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// The status a refused form comes back with: 409 for a stale version, else 422.
pub fn refused_status(e: &DomainError) -> StatusCode {
    match e {
        DomainError::Conflict { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// A refused form, filled back in.
pub fn refused(e: &DomainError, page: Markup) -> Response {
    (refused_status(e), page).into_response()
}

/// Post/Redirect/Get: after a change, the browser loads `to`.
pub fn see(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Percent-encodes `s` for a query string.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `path` with the non-empty `params` as a query string.
pub fn link(path: &str, params: &[(&str, Option<String>)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| format!("{k}={}", enc(v))))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// A keyset page: at most `PAGE_SIZE` rows and, when more follow, the key to continue after.
/// Callers fetch one row more than they show.
pub fn keyset<T>(mut rows: Vec<T>, key: impl Fn(&T) -> i64) -> (Vec<T>, Option<i64>) {
    let more = rows.len() > PAGE_SIZE as usize;
    rows.truncate(PAGE_SIZE as usize);
    let next = if more { rows.last().map(key) } else { None };
    (rows, next)
}

/// The "Next page" link, when there is one. Never a total: counting every row would scan them.
pub fn pager(next: Option<String>) -> Markup {
    html! {
        @if let Some(href) = next {
            nav.pager aria-label="Pages" { a rel="next" href=(href) { "Next page" } }
        }
    }
}

/// A keyset position from the query string.
pub fn after(v: &Option<String>) -> Result<Option<i64>, WebError> {
    text(v)
        .map(|t| {
            t.parse::<i64>()
                .map_err(|_| WebError::BadRequest(format!("after is {t:?}: a page starts after a number")))
        })
        .transpose()
}

/// A notice that something was saved (after a redirect).
pub fn notice(message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message { p.notice role="status" { (m) } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_encode_their_values_and_skip_empty_ones() {
        assert_eq!(
            link(
                "/pipeline",
                &[
                    ("owner", Some("a+b@x.test".into())),
                    ("team", None),
                    ("step", Some(String::new()))
                ]
            ),
            "/pipeline?owner=a%2Bb%40x.test"
        );
        assert_eq!(link("/accounts", &[]), "/accounts");
    }

    #[test]
    fn a_keyset_page_continues_after_its_last_row_only_when_more_follow() {
        let (rows, next) = keyset((1..=PAGE_SIZE as i64 + 1).collect(), |r| *r);
        assert_eq!((rows.len(), next), (PAGE_SIZE as usize, Some(PAGE_SIZE as i64)));
        let (rows, next) = keyset(vec![1, 2], |r| *r);
        assert_eq!((rows.len(), next), (2, None));
    }

    #[test]
    fn refusals_go_next_to_their_field_or_on_top() {
        let e = DomainError::invalid("need.cost_per_month", "0", "more than zero");
        assert!(error_at(Some(&e), &["need.cost"]).into_string().contains("field-error"));
        assert!(error_at(Some(&e), &["need.kind"]).into_string().is_empty());
        assert!(error_general(Some(&e), &["need."]).into_string().is_empty());
        let nf = DomainError::not_found("account", 9);
        assert!(error_at(Some(&nf), &["account"])
            .into_string()
            .contains("account 9 not found"));
    }
}
