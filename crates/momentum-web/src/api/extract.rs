//! Reading requests without ever answering bad input with a 500 or with plain text: JSON
//! bodies, query strings and path ids whose problems come back as problem+json naming the
//! field; the deal version a write is based on (body `version` or `If-Match`); cursors.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use momentum_core::DomainError;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ApiError, Problem, WebError};

/// A problem+json answer for statuses the shared [`WebError`] does not name (405, 413, 415).
pub fn problem(status: StatusCode, detail: impl Into<String>) -> Response {
    let body = Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail: detail.into(),
        errors: Vec::new(),
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        serde_json::to_string(&body).unwrap_or_default(),
    )
        .into_response()
}

/// 422 for `field` holding `value`, which breaks `rule`.
pub fn invalid(field: &str, value: impl std::fmt::Display, rule: impl Into<String>) -> ApiError {
    ApiError::from(DomainError::invalid(field, value, rule))
}

fn bad_request(detail: impl Into<String>) -> ApiError {
    ApiError(WebError::BadRequest(detail.into()))
}

/// A JSON request body. Unreadable JSON is a 400; JSON of the wrong shape (a missing or
/// unknown field, a wrong type, a word outside the vocabulary) is a 422 naming the field by
/// its path in the body, e.g. `ending.next_step.due`.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body as JSON, with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                problem(status, "the body is too large")
            } else {
                bad_request(format!("the body could not be read: {}", e.body_text())).into_response()
            }
        })?;
        from_json(&bytes).map(ApiJson).map_err(IntoResponse::into_response)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| m == "application/json" || (m.starts_with("application/") && m.ends_with("+json")))
}

/// Parses `bytes` as JSON, then as `T`, with errors that name the field.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| bad_request(format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(invalid("body", shown(&value), "the body is a JSON object"));
    }
    from_value(&value, "body")
}

/// Reads `value` as `T`; `root` names the whole value in errors.
fn from_value<T: DeserializeOwned>(value: &Value, root: &str) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path();
        let at = (!path.iter().all(|s| matches!(s, serde_path_to_error::Segment::Unknown)))
            .then(|| path.to_string())
            .filter(|p| p != ".");
        let message = e.inner().to_string();
        let found = lookup(value, path);
        // A missing or unknown field is reported at its container, or at itself.
        let named = |name: &str| {
            let last = path.iter().next_back();
            if matches!(last, Some(serde_path_to_error::Segment::Map { key }) if key == name) {
                (at.clone().unwrap_or_else(|| name.to_owned()), found)
            } else {
                let field = at.as_ref().map_or_else(|| name.to_owned(), |p| format!("{p}.{name}"));
                (field, found.and_then(|v| v.get(name)))
            }
        };
        if let Some(name) = quoted_after(&message, "missing field `") {
            return invalid(&named(name).0, "", "this field is required");
        }
        if let Some(name) = quoted_after(&message, "unknown field `") {
            let (field, found) = named(name);
            let expected = message.split_once(", ").map_or("", |(_, rest)| rest);
            return invalid(
                &field,
                found.map_or_else(String::new, shown),
                format!("not a field here; {expected}"),
            );
        }
        let field = at.unwrap_or_else(|| root.to_owned());
        invalid(&field, found.map_or_else(String::new, shown), cut_quoted(&message))
    })
}

/// serde's message with each `quoted` value cut short: it quotes what was sent ("unknown
/// variant `...`"), which may be as long as the body allows.
fn cut_quoted(message: &str) -> String {
    message
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 && part.chars().count() > 80 {
                format!("{}…", part.chars().take(80).collect::<String>())
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// The text between `prefix` and the next backtick in `message`.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    rest.split('`').next()
}

/// The value at `path` in `value`, if the path leads anywhere.
fn lookup<'a>(value: &'a Value, path: &serde_path_to_error::Path) -> Option<&'a Value> {
    use serde_path_to_error::Segment;
    path.iter().try_fold(value, |v, segment| match segment {
        Segment::Seq { index } => v.get(index),
        // A unit variant of an externally tagged enum is the bare string.
        Segment::Map { key } | Segment::Enum { variant: key } => v.get(key.as_str()).or(v.is_string().then_some(v)),
        Segment::Unknown => None,
    })
}

/// A value as shown in an error: strings as they are, anything else as JSON, cut short.
fn shown(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

/// A query string read into `T` (whose fields are optional text, parsed by the handler):
/// an unknown parameter, one given twice or one left empty is a 422 naming it.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|e| bad_request(format!("the query string could not be read: {}", e.body_text())))?;
        let mut object = serde_json::Map::new();
        for (key, value) in pairs {
            if object.contains_key(&key) {
                return Err(invalid(&key, value, "give this parameter once"));
            }
            // `?limit=` is neither a number nor absent: say so rather than guess.
            if value.trim().is_empty() {
                return Err(invalid(&key, value, "give this parameter a value, or leave it out"));
            }
            object.insert(key, Value::String(value));
        }
        from_value(&Value::Object(object), "query").map(ApiQuery)
    }
}

/// The numeric id in the path (`/api/v1/deals/{id}`).
#[derive(Debug, Clone, Copy)]
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| bad_request(e.body_text()))?;
        raw.parse()
            .map(Id)
            .map_err(|_| invalid("id", raw, "an id is a whole number"))
    }
}

/// The deal version a write is based on: the body's `version`, or the `If-Match` header
/// (an ETag of `GET /api/v1/deals/{id}`, `"7"`; `*` matches any). Both may be sent if
/// they agree. Neither: the write applies to whatever version is current.
pub fn expected_version(headers: &HeaderMap, body: Option<i64>) -> Result<Option<i64>, ApiError> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Ok(body);
    };
    let text = raw.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(body);
    }
    let tag = text.strip_prefix("W/").unwrap_or(text);
    let version = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| {
            invalid(
                "If-Match",
                text,
                "an ETag the API gave for the deal, such as \"7\" (with the quotes)",
            )
        })?;
    match body {
        Some(b) if b != version => Err(invalid(
            "version",
            b,
            format!("the body's version and If-Match ({version}) disagree"),
        )),
        _ => Ok(Some(version)),
    }
}

/// The ETag of a deal version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The page size: `limit` (1 to `max`), or `default`.
pub fn limit(raw: Option<&str>, default: u32, max: u32) -> Result<u32, ApiError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(default),
        Some(t) => t
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| invalid("limit", t, format!("a page holds 1 to {max} items"))),
    }
}

/// An opaque cursor for the listing `kind`, after the item with id `id`.
pub fn cursor(kind: &str, id: i64) -> String {
    hex::encode(format!("{kind}:{id}"))
}

/// The id a cursor of the listing `kind` stands after.
pub fn after(kind: &str, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    hex::decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.strip_prefix(kind)?.strip_prefix(':')?.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            invalid(
                "cursor",
                raw,
                "pass the next_cursor of the previous page of this listing, as given",
            )
        })
}

/// The next page's cursor: given when the page came back full (one more row was asked for
/// than is shown, so a full page is known to have a successor).
pub fn next_cursor<T>(kind: &str, items: &mut Vec<T>, limit: u32, id: impl Fn(&T) -> i64) -> Option<String> {
    if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|last| cursor(kind, id(last)))
    } else {
        None
    }
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`) for `field`.
pub fn flag(field: &str, raw: Option<&str>) -> Result<bool, ApiError> {
    match raw.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(invalid(field, other, "true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types;

    fn field(e: ApiError) -> (String, String) {
        let f = e.0.field_errors().into_iter().next().expect("a field error");
        (f.field, f.value)
    }

    #[test]
    fn shape_errors_name_the_field_by_its_path() {
        let missing = from_json::<types::LogInteraction>(br#"{"kind": "call"}"#).unwrap_err();
        assert_eq!(field(missing), ("result".into(), "".into()));
        let nested = from_json::<types::LogInteraction>(
            br#"{"kind": "call", "result": "stayed", "ending": {"next_step": {"kind": "call", "buyer_committed": true}}}"#,
        )
        .unwrap_err();
        assert_eq!(field(nested).0, "ending.next_step.due");
        let word = from_json::<types::LogInteraction>(br#"{"kind": "fax", "result": "stayed"}"#).unwrap_err();
        assert_eq!(field(word), ("kind".into(), "fax".into()));
        let unknown = from_json::<types::Disqualify>(br#"{"reason": "x", "verison": 3}"#).unwrap_err();
        assert_eq!(field(unknown), ("verison".into(), "3".into()));
        let steps = from_json::<types::SetLadder>(br#"{"steps": ["a", 2]}"#).unwrap_err();
        assert_eq!(field(steps), ("steps[1]".into(), "2".into()));
        let root = from_json::<types::Disqualify>(b"[]").unwrap_err();
        assert_eq!(field(root).0, "body");
        let syntax = from_json::<types::Disqualify>(b"{").unwrap_err();
        assert_eq!(syntax.0.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn cursors_are_opaque_and_belong_to_their_listing() {
        let c = cursor("deals", 42);
        assert_eq!(after("deals", Some(&c)).unwrap(), Some(42));
        assert!(after("accounts", Some(&c)).is_err());
        assert!(after("deals", Some("42")).is_err());
        assert_eq!(after("deals", None).unwrap(), None);
    }

    #[test]
    fn if_match_and_body_version_agree_or_refuse() {
        let mut h = HeaderMap::new();
        assert_eq!(expected_version(&h, Some(3)).unwrap(), Some(3));
        h.insert(header::IF_MATCH, "\"4\"".parse().unwrap());
        assert_eq!(expected_version(&h, None).unwrap(), Some(4));
        assert_eq!(expected_version(&h, Some(4)).unwrap(), Some(4));
        assert_eq!(field(expected_version(&h, Some(3)).unwrap_err()).0, "version");
        h.insert(header::IF_MATCH, "4".parse().unwrap());
        assert_eq!(field(expected_version(&h, None).unwrap_err()).0, "If-Match");
        h.insert(header::IF_MATCH, "*".parse().unwrap());
        assert_eq!(expected_version(&h, None).unwrap(), None);
    }
}
