//! Limits, on both databases: every free-text field of the API's request bodies (from the
//! OpenAPI document, so a new field without a case here fails the test) refuses a value of
//! 20,000 characters with a 4xx naming the field and the rule, and writes nothing; the
//! pages' forms refuse the same; a body over `max_body_bytes` is a 413 (pages and API).

use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use momentum_store::{auth as store_auth, ops, Store};
use momentum_testkit::{both_backends, TestDb};
use serde_json::{json, Value};

mod common;
use common::*;

const SAM: &str = "sam@demo.momentum.test";
const ADMIN: &str = "admin@demo.momentum.test";
const LONG_LEN: usize = 20_000;

fn token(db: &TestDb, email: &str) -> String {
    let mut store = Store::open(&db.location).unwrap();
    let s = ops::session(&mut store, None, Some(email)).unwrap();
    let (token, hash) = momentum_web::auth::new_api_token(s.org.id);
    store_auth::create_token(&mut store, &s, "limits", &hash, Timestamp::now()).unwrap();
    token
}

/// Each field's request, with `LONG` where the long value goes.
fn cases(deal: i64, contact: i64, account: i64) -> Vec<(&'static str, &'static str, String, &'static str, Value)> {
    let due = (Timestamp::now() + SignedDuration::from_hours(48)).to_string();
    let d = format!("/api/v1/deals/{deal}");
    let usd = json!({"minor": 100, "currency": "USD"});
    vec![
        (
            "SetLadder.steps",
            "PUT",
            "/api/v1/settings/ladder".into(),
            ADMIN,
            json!({"steps": ["a", "LONG", "c"]}),
        ),
        (
            "NewUser.name",
            "POST",
            "/api/v1/users".into(),
            ADMIN,
            json!({"email": "l@demo.momentum.test", "name": "LONG", "role": "manager"}),
        ),
        (
            "NewUser.email",
            "POST",
            "/api/v1/users".into(),
            ADMIN,
            json!({"email": "LONG", "name": "L", "role": "manager"}),
        ),
        (
            "NewUser.manager",
            "POST",
            "/api/v1/users".into(),
            ADMIN,
            json!({"email": "l@demo.momentum.test", "name": "L", "role": "seller", "manager": "LONG"}),
        ),
        (
            "NewUser.password",
            "POST",
            "/api/v1/users".into(),
            ADMIN,
            json!({"email": "l@demo.momentum.test", "name": "L", "role": "manager", "password": "LONG"}),
        ),
        (
            "NewAccount.name",
            "POST",
            "/api/v1/accounts".into(),
            SAM,
            json!({"name": "LONG"}),
        ),
        (
            "NewAccount.domain",
            "POST",
            "/api/v1/accounts".into(),
            SAM,
            json!({"name": "L", "domain": "LONG"}),
        ),
        (
            "AccountPatch.name",
            "PATCH",
            format!("/api/v1/accounts/{account}"),
            SAM,
            json!({"name": "LONG"}),
        ),
        (
            "AccountPatch.domain",
            "PATCH",
            format!("/api/v1/accounts/{account}"),
            SAM,
            json!({"domain": "LONG"}),
        ),
        (
            "NewContact.name",
            "POST",
            "/api/v1/contacts".into(),
            SAM,
            json!({"name": "LONG"}),
        ),
        (
            "NewContact.title",
            "POST",
            "/api/v1/contacts".into(),
            SAM,
            json!({"name": "L", "title": "LONG"}),
        ),
        (
            "NewContact.phone",
            "POST",
            "/api/v1/contacts".into(),
            SAM,
            json!({"name": "L", "phone": "LONG"}),
        ),
        (
            "NewContact.email",
            "POST",
            "/api/v1/contacts".into(),
            SAM,
            json!({"name": "L", "email": "LONG"}),
        ),
        (
            "ContactPatch.name",
            "PATCH",
            format!("/api/v1/contacts/{contact}"),
            SAM,
            json!({"name": "LONG"}),
        ),
        (
            "ContactPatch.title",
            "PATCH",
            format!("/api/v1/contacts/{contact}"),
            SAM,
            json!({"title": "LONG"}),
        ),
        (
            "ContactPatch.phone",
            "PATCH",
            format!("/api/v1/contacts/{contact}"),
            SAM,
            json!({"phone": "LONG"}),
        ),
        (
            "ContactPatch.email",
            "PATCH",
            format!("/api/v1/contacts/{contact}"),
            SAM,
            json!({"email": "LONG"}),
        ),
        (
            "CreateDeal.title",
            "POST",
            "/api/v1/deals".into(),
            SAM,
            json!({"title": "LONG", "value": usd}),
        ),
        (
            "CreateDeal.owner",
            "POST",
            "/api/v1/deals".into(),
            ADMIN,
            json!({"title": "L", "value": usd, "owner": "LONG"}),
        ),
        (
            "Money.currency",
            "POST",
            "/api/v1/deals".into(),
            SAM,
            json!({"title": "L", "value": {"minor": 1, "currency": "LONG"}}),
        ),
        (
            "LogInteraction.notes",
            "POST",
            format!("{d}/interactions"),
            SAM,
            json!({"kind": "call", "result": "stayed", "ending": "cadence", "notes": "LONG"}),
        ),
        (
            "RecordDecision.note",
            "POST",
            format!("{d}/decisions"),
            SAM,
            json!({"to": 1, "contact": contact, "note": "LONG"}),
        ),
        (
            "SetNeed.buyer_words",
            "PUT",
            format!("{d}/need"),
            SAM,
            json!({"kind": "problem", "buyer_words": "LONG", "consequence": "c", "matters_by": "2099-01-01", "cost_per_month": usd}),
        ),
        (
            "SetNeed.consequence",
            "PUT",
            format!("{d}/need"),
            SAM,
            json!({"kind": "problem", "buyer_words": "b", "consequence": "LONG", "matters_by": "2099-01-01", "cost_per_month": usd}),
        ),
        (
            "Disqualify.reason",
            "POST",
            format!("{d}/disqualify"),
            SAM,
            json!({"reason": "LONG"}),
        ),
        (
            "DefinitiveNo.buyer_words",
            "POST",
            format!("{d}/close"),
            SAM,
            json!({"closing": {"lost": {"reason_category": "price", "buyer_words": "LONG"}}}),
        ),
        (
            "Reassign.owner",
            "POST",
            format!("{d}/reassign"),
            ADMIN,
            json!({"owner": "LONG"}),
        ),
        (
            "SetGoal.seller",
            "POST",
            "/api/v1/goals".into(),
            ADMIN,
            json!({"seller": "LONG", "month": "2027-01", "amount": usd}),
        ),
        (
            "SetGoal.month",
            "POST",
            "/api/v1/goals".into(),
            ADMIN,
            json!({"seller": SAM, "month": "LONG", "amount": usd}),
        ),
        (
            "NewCheckIn.why",
            "POST",
            "/api/v1/check-ins".into(),
            SAM,
            json!({"commitment": 7, "why": "LONG"}),
        ),
        (
            "NewCheckIn.obstacle",
            "POST",
            "/api/v1/check-ins".into(),
            SAM,
            json!({"commitment": 7, "why": "w", "obstacle": "LONG"}),
        ),
        (
            "NewApiToken.name",
            "POST",
            "/api/v1/tokens".into(),
            SAM,
            json!({"name": "LONG"}),
        ),
        (
            "next_step (reschedule)",
            "POST",
            format!("{d}/reschedule"),
            SAM,
            json!({"next_step": {"due": due, "kind": "LONG", "buyer_committed": true}}),
        ),
    ]
}

fn every_text_field_has_a_length_limit(db: &TestDb) {
    let mut app = demo_app(db);
    let (sam, admin) = (token(db, SAM), token(db, ADMIN));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let long = "x".repeat(LONG_LEN);
    let refused = rt.block_on(async {
        let doc = app.get("/api/openapi.json").await.json();
        let id = |r: &Reply| {
            assert!(r.status.is_success(), "{}", r.body);
            r.json()["id"].as_i64().unwrap()
        };
        let account = id(&app.api("POST", "/api/v1/accounts", &sam, Some(json!({"name": "Limits Inc"}))).await);
        let contact = id(&app.api("POST", "/api/v1/contacts", &sam, Some(json!({"name": "Lim", "account": account}))).await);
        let deal = id(&app
            .api("POST", "/api/v1/deals", &sam, Some(json!({"title": "Limits", "value": {"minor": 1, "currency": "USD"}, "account": account, "contact": contact})))
            .await);
        let cases = cases(deal, contact, account);
        let covered: std::collections::BTreeSet<String> = cases.iter().map(|c| c.0.to_owned()).collect();
        let missing: Vec<_> = schema::text_fields(&doc).into_iter().filter(|f| !covered.contains(f)).collect();
        assert!(missing.is_empty(), "text fields without a length case: {missing:?}");
        let before = app.api("GET", &format!("/api/v1/deals/{deal}"), &sam, None).await.body;
        let mut refused = 0;
        for (field, method, path, who, body) in cases {
            let token = if who == ADMIN { &admin } else { &sam };
            let body: Value = serde_json::from_str(&body.to_string().replace("\"LONG\"", &format!("\"{long}\""))).unwrap();
            let r = app.api(method, &path, token, Some(body)).await;
            assert!(r.status.is_client_error(), "{field}: {} {:.300}", r.status, r.body);
            assert_eq!(r.headers["content-type"], "application/problem+json", "{field}");
            let p = r.json();
            if r.status == StatusCode::UNPROCESSABLE_ENTITY {
                let e = &p["errors"][0];
                assert!(e["field"].is_string() && e["rule"].is_string(), "{field}: {p}");
                // The value is shown cut short, never the whole 20,000 characters.
                assert!(r.body.len() < 2_000, "{field}: {} bytes of answer", r.body.len());
            } else {
                assert_eq!((field, r.status), ("NewApiToken.name", StatusCode::FORBIDDEN));
            }
            refused += 1;
        }
        // An empty query parameter is refused, not read as absent (schemathesis found
        // `?limit=` and `?due=` accepted against the document's integer and boolean).
        for path in ["/api/v1/deals?limit=", "/api/v1/deals?due=", "/api/v1/search?q=acme&limit="] {
            let r = app.api("GET", path, &sam, None).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", r.body);
            assert!(r.body.contains("give this parameter a value"), "{path}: {}", r.body);
        }
        let after = app.api("GET", &format!("/api/v1/deals/{deal}"), &sam, None).await.body;
        assert_eq!(before, after, "a refused write changed the deal");
        let accounts = app.api("GET", "/api/v1/accounts?limit=200", &sam, None).await.body;
        assert!(!accounts.contains(&long[..300]));
        refused
    });
    eprintln!(
        "limits on {}: {refused} over-long fields refused with 4xx problem+json",
        db.backend
    );
}

fn the_forms_refuse_over_long_fields_and_big_bodies(db: &TestDb) {
    let mut app = demo_app(db);
    let sam = token(db, SAM);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = app.sign_in(SAM, "momentum-demo").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let csrf = app.csrf().await;
        let long = "y".repeat(LONG_LEN);
        for (path, field) in [
            ("/accounts/new", "name"),
            ("/contacts/new", "name"),
            ("/deals/new", "title"),
            ("/tokens", "name"),
        ] {
            let r = app
                .post_form(path, &[("csrf", &csrf), (field, &long), ("value", "1")])
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {:.300}", r.body);
            assert!(r.body.contains("at most"), "{path}");
        }
        // Past max_body_bytes (256 KiB): 413 before any handler, on pages and the API.
        let huge = "z".repeat(300 * 1024);
        let r = app
            .post_form("/accounts/new", &[("csrf", &csrf), ("name", &huge)])
            .await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        let r = app
            .api("POST", "/api/v1/accounts", &sam, Some(json!({"name": huge})))
            .await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{:.200}", r.body);
        assert_eq!(r.headers["content-type"], "application/problem+json");
    });
}

both_backends!(
    every_text_field_has_a_length_limit,
    the_forms_refuse_over_long_fields_and_big_bodies
);
