//! The API's description: the OpenAPI 3.1 document as JSON, and the same document as a
//! page a person can read (rendered on the server, no script, our own stylesheet).

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use maud::{html, Markup, DOCTYPE};
use serde_json::Value;
use utoipa::OpenApi;

use super::ApiDoc;

/// The document, serialized once.
static DOCUMENT: LazyLock<Value> =
    LazyLock::new(|| serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes"));
static DOCUMENT_JSON: LazyLock<String> = LazyLock::new(|| DOCUMENT.to_string());
/// The OpenAPI document as JSON (what `/api/openapi.json` serves and `momentum openapi` prints).
pub fn document_json() -> &'static str {
    DOCUMENT_JSON.as_str()
}

static PAGE: LazyLock<String> = LazyLock::new(|| render(&DOCUMENT).into_string());

#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "openapi_document",
    tag = "meta",
    summary = "The OpenAPI 3.1 document",
    description = "This document. No token needed.",
    security(()),
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
pub async fn openapi_json() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        DOCUMENT_JSON.as_str(),
    )
}

#[utoipa::path(
    get,
    path = "/api/docs",
    operation_id = "api_docs",
    tag = "meta",
    summary = "The API described for people",
    description = "Every operation with its parameters, request and response schemas, from the OpenAPI \
                   document. No token needed.",
    security(()),
    responses((status = 200, description = "An HTML page", content_type = "text/html"))
)]
pub async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        PAGE.as_str(),
    )
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The last segment of a `$ref`: `#/components/schemas/Deal` → `Deal`.
fn ref_name(r: &str) -> &str {
    r.rsplit('/').next().unwrap_or(r)
}

/// An anchor id for an operation.
fn op_id(method: &str, path: &str) -> String {
    let mut id = format!("op-{method}");
    for c in path.chars() {
        id.push(if c.is_ascii_alphanumeric() { c } else { '-' });
    }
    id
}

/// A schema in a few words: a link to a named schema, a type, a list of words.
fn schema_type(s: &Value) -> Markup {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = ref_name(r);
        return html! { a href={"#schema-" (name)} { code { (name) } } };
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(alts) = s.get(key).and_then(Value::as_array) {
            let sep = if key == "allOf" { " & " } else { " | " };
            return html! {
                @for (i, a) in alts.iter().enumerate() {
                    @if i > 0 { (sep) }
                    (schema_type(a))
                }
            };
        }
    }
    if let Some(words) = s.get("enum").and_then(Value::as_array) {
        return html! {
            @for (i, w) in words.iter().enumerate() {
                @if i > 0 { " | " }
                code { (w.as_str().map_or_else(|| w.to_string(), |t| format!("\"{t}\""))) }
            }
        };
    }
    let types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let format = text(s, "format");
    html! {
        @for (i, t) in types.iter().enumerate() {
            @if i > 0 { " | " }
            @if *t == "array" {
                "array of " (s.get("items").map_or_else(|| html! { "any" }, schema_type))
            } @else if *t == "object" {
                @if let Some(props) = s.get("properties").and_then(Value::as_object) {
                    "{ "
                    @for (i, (field, p)) in props.iter().enumerate() {
                        @if i > 0 { ", " }
                        code { (field) } ": " (schema_type(p))
                    }
                    " }"
                } @else if let Some(v) = s.get("additionalProperties").filter(|v| v.is_object()) {
                    "map of " (schema_type(v))
                } @else { "object" }
            } @else {
                (t)
                @if !format.is_empty() && *t != "null" { " (" (format) ")" }
            }
        }
        @if types.is_empty() {
            @if let Some(props) = s.get("properties").and_then(Value::as_object) {
                "{ "
                @for (i, (field, p)) in props.iter().enumerate() {
                    @if i > 0 { ", " }
                    code { (field) } ": " (schema_type(p))
                }
                " }"
            }
        }
    }
}

/// Text with `code` in backticks, as the document's descriptions write it.
fn prose(text: &str) -> Markup {
    html! {
        @for (i, part) in text.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

/// The schemas of a request body's or a response's content, by media type.
fn content(c: &Value) -> Markup {
    html! {
        @if let Some(media) = c.get("content").and_then(Value::as_object) {
            @for (media_type, m) in media {
                span.muted { (media_type) } " "
                @if let Some(s) = m.get("schema") { (schema_type(s)) }
                " "
            }
        }
    }
}

/// A response, resolving a reference to a shared one.
fn response<'a>(doc: &'a Value, r: &'a Value) -> &'a Value {
    match r.get("$ref").and_then(Value::as_str) {
        Some(name) => doc
            .pointer(&format!("/components/responses/{}", ref_name(name)))
            .unwrap_or(r),
        None => r,
    }
}

fn operation(doc: &Value, method: &str, path: &str, op: &Value) -> Markup {
    let params = op
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let open = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|r| r.as_object().is_some_and(serde_json::Map::is_empty)));
    html! {
        section.card.operation id=(op_id(method, path)) {
            h3 { code { (method.to_ascii_uppercase()) " " (path) } }
            p { strong { (text(op, "summary")) } @if open { " " span.tag { "no token needed" } } }
            @if !text(op, "description").is_empty() { p { (prose(text(op, "description"))) } }
            @if !params.is_empty() {
                h4 { "Parameters" }
                table {
                    thead { tr { th { "Name" } th { "In" } th { "Type" } th { "Required" } th { "Description" } } }
                    tbody {
                        @for p in &params {
                            tr {
                                td { code { (text(p, "name")) } }
                                td { (text(p, "in")) }
                                td { @if let Some(s) = p.get("schema") { (schema_type(s)) } }
                                td { @if p.get("required").and_then(Value::as_bool).unwrap_or(false) { "yes" } @else { "no" } }
                                td { (prose(text(p, "description"))) }
                            }
                        }
                    }
                }
            }
            @if let Some(body) = op.get("requestBody") {
                h4 { "Request body" }
                p { (content(body)) }
            }
            h4 { "Responses" }
            dl {
                @if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                    @for (status, r) in responses {
                        @let r = response(doc, r);
                        dt { code { (status) } " " (prose(text(r, "description"))) }
                        dd { (content(r)) }
                    }
                }
            }
        }
    }
}

fn fields(s: &Value) -> Markup {
    let required: Vec<&str> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    html! {
        @if let Some(props) = s.get("properties").and_then(Value::as_object) {
            table {
                thead { tr { th { "Field" } th { "Type" } th { "Required" } th { "Description" } } }
                tbody {
                    @for (field, p) in props {
                        tr {
                            td { code { (field) } }
                            td { (schema_type(p)) }
                            td { @if required.contains(&field.as_str()) { "yes" } @else { "no" } }
                            td { (prose(text(p, "description"))) }
                        }
                    }
                }
            }
        }
    }
}

fn schema(name: &str, s: &Value) -> Markup {
    html! {
        section.card.schema id={"schema-" (name)} {
            h3 { code { (name) } }
            @if !text(s, "description").is_empty() { p { (prose(text(s, "description"))) } }
            @if s.get("properties").is_some() {
                (fields(s))
            } @else if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
                @for part in parts {
                    @if part.get("$ref").is_some() {
                        p { "Every field of " (schema_type(part)) ", and:" }
                    } @else {
                        (fields(part))
                    }
                }
            } @else if let Some(alts) = s.get("oneOf").and_then(Value::as_array) {
                p { "One of:" }
                ul {
                    @for a in alts {
                        li {
                            (schema_type(a))
                            @if !text(a, "description").is_empty() { ": " (prose(text(a, "description"))) }
                        }
                    }
                }
            } @else {
                p { (schema_type(s)) }
            }
        }
    }
}

/// The page for the OpenAPI document `doc`.
pub fn render(doc: &Value) -> Markup {
    let info = doc.get("info").cloned().unwrap_or_default();
    let paths = doc.get("paths").and_then(Value::as_object).cloned().unwrap_or_default();
    let operations: Vec<(&str, &str, &Value)> = paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter_map(move |m| item.get(*m).map(|op| (*m, path.as_str(), op)))
        })
        .collect();
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (text(&info, "title")) " · Momentum" }
                link rel="stylesheet" href="/assets/style.css";
            }
            body {
                main.api-docs {
                    h1 { (text(&info, "title")) " " span.muted { (text(&info, "version")) } }
                    @for para in text(&info, "description").split("\n\n") { p { (prose(para)) } }
                    p {
                        "OpenAPI " (text(doc, "openapi")) " document: "
                        a href="/api/openapi.json" { "/api/openapi.json" }
                        " · " a href="/" { "Momentum" }
                    }
                    nav aria-label="Operations" {
                        h2 { "Operations" }
                        table.responsive {
                            thead { tr { th { "Method" } th { "Path" } th { "Summary" } } }
                            tbody {
                                @for (method, path, op) in &operations {
                                    tr {
                                        td { code { (method.to_ascii_uppercase()) } }
                                        td { a href={"#" (op_id(method, path))} { code { (path) } } }
                                        td { (text(op, "summary")) }
                                    }
                                }
                            }
                        }
                    }
                    @for (method, path, op) in &operations { (operation(doc, method, path, op)) }
                    h2 { "Schemas" }
                    @for (name, s) in &schemas { (schema(name, s)) }
                }
            }
        }
    }
}
