//! Cross-site scripting, on both databases: a script payload in every text field a user
//! can set (the free-text fields of the API's request bodies, taken from the OpenAPI
//! document, so a new field without a case here fails the test; and what the pages echo
//! back: search terms, refused form values, the sign-in e-mail), then every page route
//! (`pages::ROUTES`) over those rows, as the owner and as the admin: the payload is always
//! escaped, every field's payload is seen (escaped) on some page, and every response
//! carries a Content-Security-Policy without 'unsafe-inline'.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use momentum_store::{auth as store_auth, ops, Store};
use momentum_testkit::{both_backends, TestDb};
use serde_json::{json, Value};

mod common;
use common::*;

const SAM: &str = "sam@demo.momentum.test";
const ADMIN: &str = "admin@demo.momentum.test";
const PASSWORD: &str = "momentum-demo";

/// The payload for `field`: it breaks out of text, of a quoted attribute and of a tag.
fn payload(field: &str) -> String {
    format!("\"'><script>alert('X:{field}')</script><img src=x onerror=alert(1)>")
}

/// A payload that fits a 40-character field.
fn short(field: &str) -> String {
    format!("<script>X:{field}</script>")
}

/// What must never reach a page unescaped (no page has a script element of its own).
const RAW: [&str; 3] = ["<script", "<img src=x", "'><"];

/// The free-text fields of request bodies, as `Schema.property`, that no page shows
/// (yet), with the reason; every other one must be seen escaped on some page.
const NOT_SHOWN: &[(&str, &str)] = &[
    ("NewCheckIn.why", "check-ins have no page yet (the coaching view)"),
    ("NewCheckIn.obstacle", "check-ins have no page yet (the coaching view)"),
    (
        "NewApiToken.name",
        "the API refuses to mint tokens; the page's form is covered separately",
    ),
    ("NewUser.password", "never shown"),
    (
        "RecordDecision.note",
        "the deal page's decision timeline does not show notes",
    ),
];

fn token(db: &TestDb, email: &str) -> String {
    let mut store = Store::open(&db.location).unwrap();
    let s = ops::session(&mut store, None, Some(email)).unwrap();
    let (token, hash) = momentum_web::auth::new_api_token(s.org.id);
    store_auth::create_token(&mut store, &s, &payload("token.page"), &hash, Timestamp::now()).unwrap();
    token
}

fn in_hours(hours: i64) -> String {
    (Timestamp::now() + SignedDuration::from_hours(hours)).to_string()
}

fn created(r: &Reply) -> i64 {
    assert!(r.status.is_success(), "{}: {}", r.status, r.body);
    r.json()["id"].as_i64().unwrap_or(0)
}

thread_local! {
    /// Page answers checked by this test (block_on polls the test on its own thread).
    static CHECKED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Checks one HTML answer; returns the fields whose payload it shows (escaped).
fn check_page(what: &str, r: &Reply, failures: &mut Vec<String>) -> BTreeSet<String> {
    CHECKED.with(|c| c.set(c.get() + 1));
    let csp = r
        .headers
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    if !csp.contains("script-src 'self'") || csp.contains("unsafe-inline") || csp.contains("unsafe-eval") {
        failures.push(format!("{what}: CSP {csp:?}"));
    }
    if r.status.is_server_error() {
        failures.push(format!("{what}: {}", r.status));
    }
    for raw in RAW {
        if r.body.contains(raw) {
            let at = r.body.find(raw).unwrap();
            let around: String = r.body[at.saturating_sub(80)..].chars().take(200).collect();
            failures.push(format!("{what}: unescaped {raw:?} in …{around}…"));
        }
    }
    let mut seen = BTreeSet::new();
    let mut rest = r.body.as_str();
    while let Some(i) = rest.find("X:") {
        rest = &rest[i + 2..];
        let field: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '.' || *c == '_')
            .collect();
        seen.insert(field);
    }
    seen
}

fn every_text_field_is_escaped_on_every_page(db: &TestDb) {
    let mut app = demo_app(db);
    let (sam, admin) = (token(db, SAM), token(db, ADMIN));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut failures = Vec::new();
    let mut shown: BTreeSet<String> = BTreeSet::new();
    rt.block_on(async {
        let doc = app.get("/api/openapi.json").await.json();
        let fields = schema::text_fields(&doc);
        let p = |f: &str| payload(f);
        let mut covered = BTreeSet::new();
        let mut api = async |app: &mut App, method: &str, path: &str, who: &str, body: Value, fields: &[&str]| {
            covered.extend(fields.iter().map(|f| f.to_string()));
            app.api(method, path, who, Some(body)).await
        };
        // Settings first, so the ladder's names show on every deal page.
        let ladder: Vec<String> = (0..7).map(|i| format!("{} {i}", p("SetLadder.steps"))).collect();
        let r = api(&mut app, "PUT", "/api/v1/settings/ladder", &admin, json!({"steps": ladder}), &["SetLadder.steps"]).await;
        assert!(r.status.is_success(), "{}", r.body);
        let r = api(
            &mut app,
            "POST",
            "/api/v1/users",
            &admin,
            json!({"email": "xss@demo.momentum.test", "name": p("NewUser.name"), "role": "manager", "password": "a long enough password"}),
            &["NewUser.name", "NewUser.password", "NewUser.email", "NewUser.manager"],
        )
        .await;
        created(&r);
        let account = created(
            &api(
                &mut app,
                "POST",
                "/api/v1/accounts",
                &sam,
                json!({"name": p("NewAccount.name"), "domain": p("NewAccount.domain")}),
                &["NewAccount.name", "NewAccount.domain"],
            )
            .await,
        );
        let patched = created(
            &api(
                &mut app,
                "POST",
                "/api/v1/accounts",
                &sam,
                json!({"name": "Patched Inc"}),
                &[],
            )
            .await,
        );
        let r = api(
            &mut app,
            "PATCH",
            &format!("/api/v1/accounts/{patched}"),
            &sam,
            json!({"name": p("AccountPatch.name"), "domain": p("AccountPatch.domain")}),
            &["AccountPatch.name", "AccountPatch.domain"],
        )
        .await;
        assert!(r.status.is_success(), "{}", r.body);
        let contact = created(
            &api(
                &mut app,
                "POST",
                "/api/v1/contacts",
                &sam,
                json!({"name": p("NewContact.name"), "account": account, "title": p("NewContact.title"),
                       "phone": short("NewContact.phone"), "email": "xss@buyer.test"}),
                &["NewContact.name", "NewContact.title", "NewContact.phone", "NewContact.email"],
            )
            .await,
        );
        let other = created(&api(&mut app, "POST", "/api/v1/contacts", &sam, json!({"name": "Patched Person"}), &[]).await);
        let r = api(
            &mut app,
            "PATCH",
            &format!("/api/v1/contacts/{other}"),
            &sam,
            json!({"name": p("ContactPatch.name"), "title": p("ContactPatch.title"), "phone": short("ContactPatch.phone"), "account": account}),
            &["ContactPatch.name", "ContactPatch.title", "ContactPatch.phone", "ContactPatch.email"],
        )
        .await;
        assert!(r.status.is_success(), "{}", r.body);
        let deal = created(
            &api(
                &mut app,
                "POST",
                "/api/v1/deals",
                &sam,
                json!({"title": p("CreateDeal.title"), "value": {"minor": 100, "currency": "USD"}, "account": account, "contact": contact,
                       "first_step": {"next_step": {"due": in_hours(3), "kind": "call", "buyer_committed": true}}}),
                &["CreateDeal.title", "CreateDeal.owner"],
            )
            .await,
        );
        let d = format!("/api/v1/deals/{deal}");
        for (method, path, body, fs) in [
            (
                "POST",
                format!("{d}/interactions"),
                json!({"kind": "call", "contact": contact, "result": "advanced", "notes": p("LogInteraction.notes"),
                       "ending": {"next_step": {"due": in_hours(5), "kind": "call", "buyer_committed": true}}}),
                vec!["LogInteraction.notes"],
            ),
            (
                "POST",
                format!("{d}/decisions"),
                json!({"to": 2, "contact": contact, "note": p("RecordDecision.note")}),
                vec!["RecordDecision.note"],
            ),
            (
                "PUT",
                format!("{d}/need"),
                json!({"kind": "problem", "buyer_words": p("SetNeed.buyer_words"), "consequence": p("SetNeed.consequence"),
                       "matters_by": "2099-01-01", "cost_per_month": {"minor": 100, "currency": "USD"}}),
                vec!["SetNeed.buyer_words", "SetNeed.consequence"],
            ),
        ] {
            let r = api(&mut app, method, &path, &sam, body, &fs).await;
            assert!(r.status.is_success(), "{path}: {}", r.body);
        }
        // Closings, each on its own deal.
        let mut closed = Vec::new();
        for (suffix, body, fs) in [
            ("disqualify", json!({"reason": p("Disqualify.reason")}), vec!["Disqualify.reason"]),
            (
                "close",
                json!({"closing": {"lost": {"reason_category": "price", "buyer_words": p("DefinitiveNo.buyer_words")}}}),
                vec!["DefinitiveNo.buyer_words"],
            ),
        ] {
            let id = created(
                &app.api("POST", "/api/v1/deals", &sam, Some(json!({"title": format!("Closing {suffix}"), "value": {"minor": 1, "currency": "USD"}})))
                    .await,
            );
            let r = api(&mut app, "POST", &format!("/api/v1/deals/{id}/{suffix}"), &sam, body, &fs).await;
            assert!(r.status.is_success(), "{suffix}: {}", r.body);
            closed.push(id);
        }
        let r = api(
            &mut app,
            "POST",
            "/api/v1/check-ins",
            &sam,
            json!({"commitment": 7, "why": p("NewCheckIn.why"), "obstacle": p("NewCheckIn.obstacle")}),
            &["NewCheckIn.why", "NewCheckIn.obstacle"],
        )
        .await;
        assert!(r.status.is_success(), "{}", r.body);
        // Identifiers and words from a fixed vocabulary, not free text shown back as such.
        covered.extend(
            ["Reassign.owner", "SetGoal.seller", "SetGoal.month", "NewApiToken.name", "Money.currency"].map(String::from),
        );
        let missing: Vec<_> = fields.difference(&covered).collect();
        assert!(missing.is_empty(), "text fields without an XSS case: {missing:?}");

        // Every page route, as the owner and as the admin, over those rows; and what the
        // pages echo back: a search, a refused form, a refused sign-in.
        let tokens_page_id = 0;
        for who in [SAM, ADMIN] {
            let mut browser = App {
                router: app.router.clone(),
                state: app.state.clone(),
                cookies: Vec::new(),
            };
            let r = browser.sign_in(who, PASSWORD).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER);
            let csrf = browser.csrf().await;
            for (method, template) in momentum_web::pages::ROUTES {
                if *method != "get" {
                    continue;
                }
                let ids: Vec<i64> = match *template {
                    t if t.starts_with("/deals/{id}") => [deal].into_iter().chain(closed.iter().copied()).collect(),
                    t if t.starts_with("/accounts/{id}") => vec![account, patched],
                    t if t.starts_with("/contacts/{id}") => vec![contact, other],
                    t if t.contains("{id}") => vec![tokens_page_id],
                    _ => vec![0],
                };
                for id in ids {
                    let path = template.replace("{id}", &id.to_string());
                    let r = browser.get(&path).await;
                    shown.extend(check_page(&format!("{who} GET {path}"), &r, &mut failures));
                }
            }
            for path in [
                format!("/search?q={}", urlenc(&p("search.q"))),
                format!("/pipeline?owner={}", urlenc(&p("pipeline.owner"))),
                format!("/deals/{deal}?x={}", urlenc(&p("query"))),
            ] {
                let r = browser.get(&path).await;
                shown.extend(check_page(&format!("{who} GET {path}"), &r, &mut failures));
            }
            // Refused forms come back with what was typed.
            for (path, fields) in [
                (format!("/deals/{deal}/reschedule"), vec![("next_at", p("form.next_at")), ("version", "x".into())]),
                (
                    format!("/deals/{deal}/need"),
                    vec![("kind", p("form.kind")), ("buyer_words", p("form.buyer_words")), ("matters_by", p("form.matters_by"))],
                ),
                ("/deals/new".into(), vec![("title", p("form.title")), ("value", p("form.value"))]),
                ("/accounts/new".into(), vec![("name", p("form.account")), ("domain", p("form.domain"))]),
                ("/contacts/new".into(), vec![("name", p("form.contact")), ("email", p("form.email"))]),
                ("/tokens".into(), vec![("name", p("form.token"))]),
                (
                    "/settings/users".into(),
                    vec![("email", p("form.user_email")), ("name", p("form.user_name")), ("role", p("form.role"))],
                ),
                ("/settings/ladder".into(), vec![("steps", p("form.ladder"))]),
                ("/log".into(), vec![("deal", deal.to_string()), ("result", p("form.result")), ("notes", p("form.notes"))]),
            ] {
                let mut f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                f.push(("csrf", &csrf));
                let r = browser.post_form(&path, &f).await;
                shown.extend(check_page(&format!("{who} POST {path}"), &r, &mut failures));
            }
        }
        let mut anonymous = App {
            router: app.router.clone(),
            state: app.state.clone(),
            cookies: Vec::new(),
        };
        let r = anonymous.sign_in(&p("sign_in.email"), "whatever it is").await;
        shown.extend(check_page("sign-in", &r, &mut failures));
        for f in &fields {
            if !shown.contains(f) && !NOT_SHOWN.iter().any(|(n, _)| n == f) && !f.ends_with(".email") && !f.ends_with(".manager") && !f.ends_with(".owner") && !f.ends_with(".seller") && !f.ends_with(".month") && !f.ends_with(".currency") {
                failures.push(format!("{f}: its payload was never seen on a page, so no page was checked for it"));
            }
        }
    });
    eprintln!(
        "XSS on {}: {} page answers checked, {} payload fields seen escaped, {} problems",
        db.backend,
        CHECKED.with(std::cell::Cell::get),
        shown.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

both_backends!(every_text_field_is_escaped_on_every_page);
