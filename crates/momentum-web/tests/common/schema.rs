//! What the OpenAPI document says about request bodies, for tests that must cover every
//! field a client can send (XSS payloads, length limits).

use std::collections::BTreeSet;

use serde_json::{json, Value};

/// Every free-text string property of the API's request bodies, as `Schema.property`
/// (strings with an enum or a format are left out: they are not free text).
pub fn text_fields(doc: &Value) -> BTreeSet<String> {
    fn walk(doc: &Value, name: &str, schema: &Value, out: &mut BTreeSet<String>, seen: &mut BTreeSet<String>) {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let target = r.rsplit('/').next().unwrap();
            if seen.insert(target.to_owned()) {
                walk(doc, target, &doc["components"]["schemas"][target], out, seen);
            }
            return;
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            for s in schema[key].as_array().into_iter().flatten() {
                walk(doc, name, s, out, seen);
            }
        }
        if let Some(items) = schema.get("items") {
            walk(doc, name, items, out, seen);
        }
        for (prop, s) in schema["properties"].as_object().into_iter().flatten() {
            let is_string = s["type"] == "string" || s["type"].as_array().is_some_and(|t| t.contains(&json!("string")));
            let items_string = s["items"]["type"] == "string";
            if (is_string || items_string) && s.get("enum").is_none() && s.get("format").is_none() {
                out.insert(format!("{name}.{prop}"));
            }
            walk(doc, name, s, out, seen);
        }
    }
    let mut out = BTreeSet::new();
    for (_, ops) in doc["paths"].as_object().unwrap() {
        for (_, op) in ops.as_object().unwrap() {
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                walk(doc, "", schema, &mut out, &mut BTreeSet::new());
            }
        }
    }
    out
}
