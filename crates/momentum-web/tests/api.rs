//! The JSON API in-process on both databases, over the demo org: authentication, every
//! endpoint's happy path, the method's refusals naming the field, stale versions, roles,
//! malformed input as problem+json, cursor pagination, and the OpenAPI document and its
//! page against the routes actually served.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use jiff::{SignedDuration, Timestamp};
use momentum_store::{auth as store_auth, ops, Store};
use momentum_testkit::{both_backends, TestDb};
use serde_json::{json, Value};

mod common;
use common::*;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

const SAM: &str = "sam@demo.momentum.test";
const PRIYA: &str = "priya@demo.momentum.test";
const OMAR: &str = "omar@demo.momentum.test";
const MARIA: &str = "maria.manager@demo.momentum.test";
const ADMIN: &str = "admin@demo.momentum.test";

/// A token for `email`, made through the store as `momentum token create` would.
/// Blocking store work: call it outside the runtime.
fn token(db: &TestDb, email: &str) -> String {
    let mut store = Store::open(&db.location).unwrap();
    let s = ops::session(&mut store, None, Some(email)).unwrap();
    let (token, hash) = momentum_web::auth::new_api_token(s.org.id);
    store_auth::create_token(&mut store, &s, "api tests", &hash, Timestamp::now()).unwrap();
    token
}

/// The demo org and tokens for a seller (Sam), his manager (Maria), another seller
/// (Omar, on Mark's team) and the admin.
struct World {
    app: App,
    sam: String,
    maria: String,
    omar: String,
    admin: String,
}

fn world(db: &TestDb) -> World {
    let app = demo_app(db);
    World {
        app,
        sam: token(db, SAM),
        maria: token(db, MARIA),
        omar: token(db, OMAR),
        admin: token(db, ADMIN),
    }
}

/// An instant `hours` from now, RFC 3339.
fn in_hours(hours: i64) -> String {
    (Timestamp::now() + SignedDuration::from_hours(hours)).to_string()
}

/// The date `days` from today (UTC, the demo org's zone).
fn in_days(days: i64) -> String {
    let today = Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    today.checked_add(jiff::Span::new().days(days)).unwrap().to_string()
}

/// A request with any headers and a raw body.
async fn raw(app: &mut App, method: &str, path: &str, token: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut request = Request::builder().method(method).uri(path);
    if !token.is_empty() {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::from(body.to_owned())).unwrap()).await
}

/// Asserts a problem+json answer with `status`, and returns the problem.
#[track_caller]
fn problem(r: &Reply, status: StatusCode) -> Value {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "application/problem+json",
        "{}",
        r.body
    );
    let p = r.json();
    assert_eq!(p["status"], status.as_u16(), "{p}");
    assert!(p["title"].is_string() && p["detail"].is_string(), "{p}");
    p
}

/// The field a 422 problem names first.
#[track_caller]
fn field(r: &Reply) -> String {
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY);
    p["errors"][0]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("no field in {p}"))
        .to_owned()
}

#[track_caller]
fn ok(r: &Reply, status: StatusCode) -> Value {
    assert_eq!(r.status, status, "{}", r.body);
    r.json()
}

/// A new account, contact and open deal of the caller's, for the tests that change deals.
/// Returns (deal id, contact id).
async fn new_deal(app: &mut App, token: &str, title: &str) -> (i64, i64) {
    let account = ok(
        &app.api(
            "POST",
            "/api/v1/accounts",
            token,
            Some(json!({"name": format!("{title} Inc")})),
        )
        .await,
        StatusCode::CREATED,
    );
    let contact = ok(
        &app.api(
            "POST",
            "/api/v1/contacts",
            token,
            Some(json!({"name": "Hank Buyer", "account": account["id"], "email": "hank@buyer.test"})),
        )
        .await,
        StatusCode::CREATED,
    );
    let deal = ok(
        &app.api(
            "POST",
            "/api/v1/deals",
            token,
            Some(json!({
                "title": title,
                "value": {"minor": 2_500_000, "currency": "USD"},
                "account": account["id"],
                "contact": contact["id"],
                "first_step": {"next_step": {"due": in_hours(48), "kind": "meeting", "buyer_committed": true}},
            })),
        )
        .await,
        StatusCode::CREATED,
    );
    (deal["id"].as_i64().unwrap(), contact["id"].as_i64().unwrap())
}

/// Every page of a listing, following `next_cursor`; the items' ids.
async fn walk(app: &mut App, token: &str, path: &str, id: impl Fn(&Value) -> i64) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    let sep = if path.contains('?') { '&' } else { '?' };
    for _ in 0..10_000 {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}cursor={c}"),
            None => path.to_owned(),
        };
        let page = ok(&app.api("GET", &url, token, None).await, StatusCode::OK);
        ids.extend(page["items"].as_array().unwrap().iter().map(&id));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
    panic!("{path} never ended");
}

// ---------------------------------------------------------------------------------------

fn requests_without_a_valid_token_get_401_problems(db: &TestDb) {
    let mut w = world(db);
    let spare = token(db, SAM);
    block_on(async {
        let app = &mut w.app;
        for token in ["", "not-a-token", "mtm_1_0000", "mtm_x_abc", "mtm_999_abc"] {
            let r = app.api("GET", "/api/v1/today", token, None).await;
            problem(&r, StatusCode::UNAUTHORIZED);
            assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer", "{token}");
        }
        let basic = raw(
            app,
            "GET",
            "/api/v1/deals",
            "",
            &[("authorization", "Basic c2FtOnB3")],
            "",
        )
        .await;
        problem(&basic, StatusCode::UNAUTHORIZED);
        // A write without a token is refused before its body is even read.
        let write = app.api("POST", "/api/v1/deals", "", Some(json!({"title": 1}))).await;
        problem(&write, StatusCode::UNAUTHORIZED);

        // Revoked: the spare token works, is revoked, and then opens nothing.
        assert_eq!(
            app.api("GET", "/api/v1/today", &spare, None).await.status,
            StatusCode::OK
        );
        let mine = ok(&app.api("GET", "/api/v1/tokens", &w.sam, None).await, StatusCode::OK);
        let ids: Vec<i64> = mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len(), 2, "{mine}");
        let newest = ids[0];
        let revoked = ok(
            &app.api("DELETE", &format!("/api/v1/tokens/{newest}"), &spare, None)
                .await,
            StatusCode::OK,
        );
        assert!(revoked["revoked_at"].is_string(), "{revoked}");
        let r = app.api("GET", "/api/v1/today", &spare, None).await;
        problem(&r, StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(
            app.api("GET", "/api/v1/today", &w.sam, None).await.status,
            StatusCode::OK
        );
    })
}

fn a_seller_works_deals_end_to_end(db: &TestDb) {
    let mut w = world(db);
    block_on(async {
        let (sam, maria) = (w.sam.clone(), w.maria.clone());
        let app = &mut w.app;

        let today = ok(&app.api("GET", "/api/v1/today", &sam, None).await, StatusCode::OK);
        let items = today["items"].as_array().unwrap();
        assert!(!items.is_empty(), "the demo plants due steps: {today}");
        for d in items {
            assert_eq!(
                (d["owner_email"].as_str(), d["status"].as_str()),
                (Some(SAM), Some("open"))
            );
            assert!(d["next_step"]["due"].as_str().unwrap().ends_with('Z'), "{d}");
            assert!(d["value"]["minor"].is_i64() && d["value"]["currency"] == "USD", "{d}");
        }

        // Create: 201 with Location and ETag.
        let account = ok(
            &app.api(
                "POST",
                "/api/v1/accounts",
                &sam,
                Some(json!({"name": "Globex", "domain": "globex.test"})),
            )
            .await,
            StatusCode::CREATED,
        );
        let hank = ok(
            &app.api(
                "POST",
                "/api/v1/contacts",
                &sam,
                Some(json!({"name": "Hank Scorpio", "account": account["id"], "title": "CEO"})),
            )
            .await,
            StatusCode::CREATED,
        );
        let contact = hank["id"].as_i64().unwrap();
        let created = app
            .api(
                "POST",
                "/api/v1/deals",
                &sam,
                Some(json!({
                    "title": "Globex rollout",
                    "value": {"minor": 2_500_000, "currency": "USD"},
                    "account": account["id"],
                    "contact": contact,
                    "expected_close": in_days(40),
                    "first_step": {"next_step": {"due": in_hours(48), "kind": "meeting", "buyer_committed": true}},
                })),
            )
            .await;
        let deal = ok(&created, StatusCode::CREATED);
        let id = deal["id"].as_i64().unwrap();
        assert_eq!(created.headers[header::LOCATION], format!("/api/v1/deals/{id}"));
        assert_eq!(created.headers[header::ETAG], "\"1\"");
        assert_eq!(
            (
                &deal["status"],
                &deal["stage"]["step"],
                &deal["version"],
                &deal["account"]
            ),
            (&json!("open"), &json!(0), &json!(1), &json!("Globex"))
        );
        assert_eq!(deal["next_step"]["buyer_committed"], true);
        assert_eq!(deal["next_step"]["aims_at"]["step"], 1);
        assert_eq!(deal["expected_close"], in_days(40));
        let url = format!("/api/v1/deals/{id}");

        // Show, with its ETag; If-None-Match answers 304.
        let shown = app.api("GET", &url, &sam, None).await;
        assert_eq!(ok(&shown, StatusCode::OK)["title"], "Globex rollout");
        assert_eq!(shown.headers[header::ETAG], "\"1\"");
        let same = raw(app, "GET", &url, &sam, &[("if-none-match", "\"1\"")], "").await;
        assert_eq!(same.status, StatusCode::NOT_MODIFIED);

        // Log: the buyer agreed to meet and booked the next step.
        let logged = app
            .api(
                "POST",
                &format!("{url}/interactions"),
                &sam,
                Some(json!({
                    "kind": "meeting", "contact": contact, "objective": 1, "result": "advanced",
                    "ending": {"next_step": {"due": in_hours(72), "kind": "call", "aims_at": 2, "buyer_committed": true}},
                    "notes": "Hank wants numbers", "version": 1,
                })),
            )
            .await;
        let d = ok(&logged, StatusCode::OK);
        assert_eq!(logged.headers[header::ETAG], "\"2\"");
        assert_eq!((&d["stage"]["step"], &d["version"]), (&json!(1), &json!(2)));
        let i = &d["interactions"][0];
        assert_eq!(
            (&i["result"], &i["commitment"], &i["notes"], &i["contact"]),
            (
                &json!("advanced"),
                &json!("scheduled"),
                &json!("Hank wants numbers"),
                &json!(contact)
            )
        );
        assert_eq!(d["decisions"][0]["direction"], "advance");
        assert_eq!(d["contacts"][contact.to_string()], "Hank Scorpio");
        assert_eq!(d["prepare_for"]["step"], 2);

        // A buyer decision by e-mail.
        let d = ok(
            &app.api(
                "POST",
                &format!("{url}/decisions"),
                &sam,
                Some(json!({"to": 2, "contact": contact, "note": "Agreed by e-mail", "version": 2})),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!(
            (&d["stage"]["step"], &d["decisions"][1]["to"]["step"]),
            (&json!(2), &json!(2))
        );
        assert_eq!(
            d["next_step"]["aims_at"]["step"], 3,
            "the next step re-aims above the new stage"
        );

        // The compelling need, versioned by If-Match.
        let need = json!({
            "kind": "problem", "buyer_words": "We lose three orders a week", "consequence": "Churn to a rival",
            "matters_by": in_days(60), "cost_per_month": {"minor": 1_200_000, "currency": "USD"},
        });
        let r = raw(
            app,
            "PUT",
            &format!("{url}/need"),
            &sam,
            &[("content-type", "application/json"), ("if-match", "\"3\"")],
            &need.to_string(),
        )
        .await;
        let d = ok(&r, StatusCode::OK);
        assert_eq!((&d["has_need"], &d["need"]["kind"]), (&json!(true), &json!("problem")));
        assert_eq!(
            d["need"]["cost_per_month"],
            json!({"minor": 1_200_000, "currency": "USD"})
        );
        assert_eq!(d["need"]["matters_by"], in_days(60));

        // Reschedule, then a quiet follow-up placed by the cadence.
        let d = ok(
            &app.api(
                "POST",
                &format!("{url}/reschedule"),
                &sam,
                Some(json!({"next_step": {"due": in_hours(120), "kind": "visit", "buyer_committed": true}})),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!(d["next_step"]["kind"], "visit");
        let d = ok(
            &app.api(
                "POST",
                &format!("{url}/interactions"),
                &sam,
                Some(json!({"kind": "email", "result": "stayed", "ending": "cadence"})),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!(d["interactions"][1]["commitment"], "none");
        assert_eq!(d["next_step"]["buyer_committed"], false);

        // Sam's manager hands it to Priya and back; Sam closes it as won.
        let d = ok(
            &app.api(
                "POST",
                &format!("{url}/reassign"),
                &maria,
                Some(json!({"owner": PRIYA})),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!(d["owner_email"], PRIYA);
        let forbidden = app.api("GET", &url, &sam, None).await;
        problem(&forbidden, StatusCode::FORBIDDEN);
        ok(
            &app.api("POST", &format!("{url}/reassign"), &maria, Some(json!({"owner": SAM})))
                .await,
            StatusCode::OK,
        );
        let won = ok(
            &app.api(
                "POST",
                &format!("{url}/close"),
                &sam,
                Some(json!({"closing": {"won": {"contact": contact}}})),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!((&won["status"], &won["next_step"]), (&json!("won"), &Value::Null));
        assert_eq!(won["stage"]["step"], 7, "signing is the top decision");

        // Disqualify (a deal with the default first step: the cadence's), and two ways of losing.
        let plain = ok(
            &app.api(
                "POST",
                "/api/v1/deals",
                &sam,
                Some(json!({"title": "Wishful", "value": {"minor": 100, "currency": "USD"}})),
            )
            .await,
            StatusCode::CREATED,
        );
        assert_eq!(plain["next_step"]["buyer_committed"], false);
        let d = ok(
            &app.api(
                "POST",
                &format!("/api/v1/deals/{}/disqualify", plain["id"]),
                &sam,
                Some(json!({"reason": "No budget owner, no pain", "version": 1})),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!(
            (&d["status"], &d["close_reason"]),
            (&json!("disqualified"), &json!("No budget owner, no pain"))
        );

        let (lost, _) = new_deal(app, &sam, "Initech").await;
        let d = ok(
            &app.api(
                "POST",
                &format!("/api/v1/deals/{lost}/close"),
                &sam,
                Some(json!({"closing": {"lost": {"reason_category": "price", "buyer_words": "Too dear this year"}}})),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!(
            (&d["status"], &d["lost_category"], &d["close_reason"]),
            (&json!("lost"), &json!("price"), &json!("Too dear this year"))
        );
        let (no, c) = new_deal(app, &sam, "Umbrella").await;
        let d = ok(
            &app.api(
                "POST",
                &format!("/api/v1/deals/{no}/interactions"),
                &sam,
                Some(json!({"kind": "call", "contact": c, "result": "stayed",
                    "ending": {"definitive_no": {"reason_category": "competitor", "buyer_words": "We chose Hooli"}}})),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!(
            (&d["status"], &d["interactions"][0]["commitment"]),
            (&json!("lost"), &json!("definitive_no"))
        );

        // The list's filters: Sam's open deals due today are his Today list.
        let due = ok(
            &app.api(
                "GET",
                &format!("/api/v1/deals?owner={SAM}&status=open&due=true&limit=500"),
                &sam,
                None,
            )
            .await,
            StatusCode::OK,
        );
        let due: BTreeSet<i64> = due["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_i64().unwrap())
            .collect();
        let today = ok(&app.api("GET", "/api/v1/today", &sam, None).await, StatusCode::OK);
        let today: BTreeSet<i64> = today["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_i64().unwrap())
            .collect();
        assert_eq!(due, today);
        let won_list = ok(
            &app.api("GET", "/api/v1/deals?status=won&limit=500", &sam, None).await,
            StatusCode::OK,
        );
        assert!(won_list["items"].as_array().unwrap().iter().any(|d| d["id"] == id));
        assert!(won_list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "won"));
    })
}

fn the_method_refuses_with_the_field_and_writes_nothing(db: &TestDb) {
    let mut w = world(db);
    block_on(async {
        let sam = w.sam.clone();
        let app = &mut w.app;
        let (id, contact) = new_deal(app, &sam, "Refusals").await;
        let log = format!("/api/v1/deals/{id}/interactions");

        // Neither sold, nor scheduled, nor a definitive no.
        let r = app
            .api(
                "POST",
                &log,
                &sam,
                Some(json!({"kind": "call", "result": "stayed", "notes": "Voicemail"})),
            )
            .await;
        assert_eq!(field(&r), "next_step");
        assert!(
            r.json()["detail"].as_str().unwrap().contains("next_step is missing"),
            "{}",
            r.body
        );

        // A next step in the past.
        let r = app
            .api(
                "POST",
                &log,
                &sam,
                Some(json!({"kind": "call", "result": "stayed",
                    "ending": {"next_step": {"due": in_hours(-2), "kind": "call", "buyer_committed": true}}})),
            )
            .await;
        assert_eq!(field(&r), "next_step.due");

        // Lost without the buyer's words: blank, or left out.
        let blank = json!({"kind": "call", "result": "stayed", "contact": contact,
            "ending": {"definitive_no": {"reason_category": "price", "buyer_words": "  "}}});
        assert_eq!(field(&app.api("POST", &log, &sam, Some(blank)).await), "buyer_words");
        let left_out = json!({"kind": "call", "result": "stayed",
            "ending": {"definitive_no": {"reason_category": "price"}}});
        assert_eq!(
            field(&app.api("POST", &log, &sam, Some(left_out)).await),
            "ending.definitive_no.buyer_words"
        );
        let close = json!({"closing": {"lost": {"reason_category": "timing", "buyer_words": ""}}});
        assert_eq!(
            field(
                &app.api("POST", &format!("/api/v1/deals/{id}/close"), &sam, Some(close))
                    .await
            ),
            "buyer_words"
        );
        // Only a buyer decides: an advance names who decided.
        let r = app
            .api(
                "POST",
                &log,
                &sam,
                Some(json!({"kind": "call", "result": "advanced", "ending": "cadence"})),
            )
            .await;
        assert_eq!(field(&r), "contact");
        // Imported history's "not recorded" is no reason for a live no.
        let r = app
            .api(
                "POST",
                &format!("/api/v1/deals/{id}/close"),
                &sam,
                Some(json!({"closing": {"lost": {"reason_category": "not_recorded", "buyer_words": "?"}}})),
            )
            .await;
        assert_eq!(field(&r), "reason_category");
        // The cost of inaction is quantified, in the deal's currency.
        let need = json!({"kind": "threat", "buyer_words": "x", "consequence": "y", "matters_by": in_days(10),
            "cost_per_month": {"minor": 100, "currency": "EUR"}});
        assert_eq!(
            field(
                &app.api("PUT", &format!("/api/v1/deals/{id}/need"), &sam, Some(need))
                    .await
            ),
            "need.cost_per_month"
        );

        let d = ok(
            &app.api("GET", &format!("/api/v1/deals/{id}"), &sam, None).await,
            StatusCode::OK,
        );
        assert_eq!(
            (&d["version"], &d["status"]),
            (&json!(1), &json!("open")),
            "nothing was written"
        );
        assert_eq!(d["interactions"], json!([]));
    })
}

fn stale_versions_conflict_by_body_or_if_match(db: &TestDb) {
    let mut w = world(db);
    block_on(async {
        let sam = w.sam.clone();
        let app = &mut w.app;
        let (id, _) = new_deal(app, &sam, "Versions").await;
        let log = format!("/api/v1/deals/{id}/interactions");
        let body = |version: Option<i64>| {
            let mut b = json!({"kind": "call", "result": "stayed", "ending": "cadence"});
            if let Some(v) = version {
                b["version"] = json!(v);
            }
            b.to_string()
        };
        let json_type = ("content-type", "application/json");

        let first = raw(app, "POST", &log, &sam, &[json_type], &body(Some(1))).await;
        assert_eq!(first.headers[header::ETAG], "\"2\"");
        let stale = raw(app, "POST", &log, &sam, &[json_type], &body(Some(1))).await;
        let p = problem(&stale, StatusCode::CONFLICT);
        assert!(p["detail"].as_str().unwrap().contains("changed since version 1"), "{p}");
        let stale = raw(
            app,
            "POST",
            &log,
            &sam,
            &[json_type, ("if-match", "\"1\"")],
            &body(None),
        )
        .await;
        problem(&stale, StatusCode::CONFLICT);
        let stale = raw(
            app,
            "POST",
            &format!("/api/v1/deals/{id}/disqualify"),
            &sam,
            &[json_type, ("if-match", "\"1\"")],
            r#"{"reason": "stale"}"#,
        )
        .await;
        problem(&stale, StatusCode::CONFLICT);

        // Body and header must agree; an ETag is quoted.
        let r = raw(
            app,
            "POST",
            &log,
            &sam,
            &[json_type, ("if-match", "\"2\"")],
            &body(Some(1)),
        )
        .await;
        assert_eq!(field(&r), "version");
        let r = raw(app, "POST", &log, &sam, &[json_type, ("if-match", "2")], &body(None)).await;
        assert_eq!(field(&r), "If-Match");

        let current = raw(
            app,
            "POST",
            &log,
            &sam,
            &[json_type, ("if-match", "\"2\"")],
            &body(None),
        )
        .await;
        assert_eq!(ok(&current, StatusCode::OK)["version"], 3);
        let any = raw(app, "POST", &log, &sam, &[json_type, ("if-match", "*")], &body(None)).await;
        assert_eq!(ok(&any, StatusCode::OK)["version"], 4);
    })
}

fn roles_and_visibility_hold(db: &TestDb) {
    let mut w = world(db);
    block_on(async {
        let (sam, maria, omar, admin) = (w.sam.clone(), w.maria.clone(), w.omar.clone(), w.admin.clone());
        let app = &mut w.app;
        let omars = ok(
            &app.api(
                "GET",
                &format!("/api/v1/deals?owner={OMAR}&status=open&limit=1"),
                &admin,
                None,
            )
            .await,
            StatusCode::OK,
        );
        let omars = omars["items"][0]["id"].as_i64().unwrap();
        let (sams, _) = new_deal(app, &sam, "Sam's own").await;

        // A seller on another seller's deal.
        problem(
            &app.api("GET", &format!("/api/v1/deals/{omars}"), &sam, None).await,
            StatusCode::FORBIDDEN,
        );
        let r = app
            .api(
                "POST",
                &format!("/api/v1/deals/{omars}/interactions"),
                &sam,
                Some(json!({"kind": "call", "result": "stayed", "ending": "cadence"})),
            )
            .await;
        problem(&r, StatusCode::FORBIDDEN);
        problem(
            &app.api(
                "POST",
                &format!("/api/v1/deals/{sams}/reassign"),
                &sam,
                Some(json!({"owner": OMAR})),
            )
            .await,
            StatusCode::FORBIDDEN,
        );
        // A manager sees their team's deals, not another team's; the admin sees all.
        ok(
            &app.api("GET", &format!("/api/v1/deals/{sams}"), &maria, None).await,
            StatusCode::OK,
        );
        problem(
            &app.api("GET", &format!("/api/v1/deals/{omars}"), &maria, None).await,
            StatusCode::FORBIDDEN,
        );
        ok(
            &app.api("GET", &format!("/api/v1/deals/{omars}"), &omar, None).await,
            StatusCode::OK,
        );
        ok(
            &app.api("GET", &format!("/api/v1/deals/{sams}"), &admin, None).await,
            StatusCode::OK,
        );
        problem(
            &app.api("GET", &format!("/api/v1/pipeline?owner={OMAR}"), &sam, None)
                .await,
            StatusCode::FORBIDDEN,
        );

        // Settings and users are the admin's.
        let ladder = json!({"steps": ["met", "problem", "cost and date", "evaluate", "process", "terms", "signed"]});
        let cadence = json!({"first_every_days": 5, "first_for_days": 20, "then_every_days": 10});
        problem(
            &app.api("PUT", "/api/v1/settings/ladder", &sam, Some(ladder.clone()))
                .await,
            StatusCode::FORBIDDEN,
        );
        problem(
            &app.api("PUT", "/api/v1/settings/cadence", &maria, Some(cadence.clone()))
                .await,
            StatusCode::FORBIDDEN,
        );
        problem(
            &app.api("PUT", "/api/v1/settings/cadence", &sam, Some(cadence.clone()))
                .await,
            StatusCode::FORBIDDEN,
        );
        let new_user = json!({"email": "neo@demo.momentum.test", "name": "Neo", "role": "seller", "manager": MARIA});
        problem(
            &app.api("POST", "/api/v1/users", &sam, Some(new_user.clone())).await,
            StatusCode::FORBIDDEN,
        );

        // Unknown things are 404; an id that is no number names the field.
        problem(
            &app.api("GET", "/api/v1/deals/987654321", &sam, None).await,
            StatusCode::NOT_FOUND,
        );
        problem(
            &app.api(
                "POST",
                "/api/v1/deals/987654321/disqualify",
                &sam,
                Some(json!({"reason": "x"})),
            )
            .await,
            StatusCode::NOT_FOUND,
        );
        problem(
            &app.api("GET", "/api/v1/accounts/987654321", &sam, None).await,
            StatusCode::NOT_FOUND,
        );
        problem(
            &app.api("GET", "/api/v1/contacts/987654321", &sam, None).await,
            StatusCode::NOT_FOUND,
        );
        problem(
            &app.api("DELETE", "/api/v1/tokens/987654321", &sam, None).await,
            StatusCode::NOT_FOUND,
        );
        assert_eq!(
            field(&app.api("GET", "/api/v1/deals/seventeen", &sam, None).await),
            "id"
        );
        problem(
            &app.api("GET", "/api/v1/no-such-thing", &sam, None).await,
            StatusCode::NOT_FOUND,
        );
        let r = app.api("DELETE", "/api/v1/today", &sam, None).await;
        problem(&r, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers[header::ALLOW], "GET, HEAD");
    })
}

fn bad_input_is_a_problem_never_a_500(db: &TestDb) {
    let mut w = world(db);
    block_on(async {
        let sam = w.sam.clone();
        let app = &mut w.app;
        let (id, _) = new_deal(app, &sam, "Bad input").await;
        let log = format!("/api/v1/deals/{id}/interactions");
        let json_type = ("content-type", "application/json");

        // Not JSON at all: 400.
        for body in [r#"{"kind": "call", "#, "", "nonsense", r#"{"kind": "call"}}"#] {
            let p = problem(
                &raw(app, "POST", &log, &sam, &[json_type], body).await,
                StatusCode::BAD_REQUEST,
            );
            assert!(p["detail"].as_str().unwrap().contains("not valid JSON"), "{p}");
        }
        // JSON, but not JSON the API takes: 415 without the content type.
        let r = raw(
            app,
            "POST",
            &log,
            &sam,
            &[("content-type", "text/plain")],
            r#"{"kind": "call"}"#,
        )
        .await;
        problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let r = raw(app, "POST", &log, &sam, &[], r#"{"kind": "call"}"#).await;
        problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE);

        // The wrong shape: 422, naming the field by its path.
        let cases = [
            (json!({"kind": "call"}), "result"),
            (json!({"result": "stayed"}), "kind"),
            (json!({"kind": "fax", "result": "stayed"}), "kind"),
            (json!({"kind": "call", "result": "won"}), "result"),
            (json!({"kind": "call", "result": "stayed", "ending": "maybe"}), "ending"),
            (
                json!({"kind": "call", "result": "stayed", "version": "three"}),
                "version",
            ),
            (json!({"kind": "call", "result": "stayed", "contact": 1.5}), "contact"),
            (
                json!({"kind": "call", "result": "stayed", "objective": 300}),
                "objective",
            ),
            (
                json!({"kind": "call", "result": "stayed", "notes": "x", "ntoes": "y"}),
                "ntoes",
            ),
            (
                json!({"kind": "call", "result": "stayed", "ending": {"next_step": {"due": "tomorrow", "kind": "call", "buyer_committed": true}}}),
                "ending.next_step.due",
            ),
            (
                json!({"kind": "call", "result": "stayed", "ending": {"next_step": {"kind": "call", "buyer_committed": true}}}),
                "ending.next_step.due",
            ),
            (json!([1, 2]), "body"),
        ];
        for (body, expected) in cases {
            let r = app.api("POST", &log, &sam, Some(body.clone())).await;
            assert_eq!(field(&r), expected, "{body}");
        }
        let r = app
            .api(
                "POST",
                "/api/v1/deals",
                &sam,
                Some(json!({"title": "x", "value": {"minor": "lots", "currency": "USD"}})),
            )
            .await;
        assert_eq!(field(&r), "value.minor");
        let p = r.json();
        assert_eq!(p["errors"][0]["value"], "lots", "{p}");
        let r = app
            .api(
                "POST",
                "/api/v1/deals",
                &sam,
                Some(json!({"title": "x", "value": {"minor": 5, "currency": "XYZ"}})),
            )
            .await;
        assert_eq!(field(&r), "value.currency");
        let r = app
            .api(
                "PUT",
                "/api/v1/settings/ladder",
                &sam,
                Some(json!({"steps": ["met", 2]})),
            )
            .await;
        assert_eq!(field(&r), "steps[1]");
        let r = app
            .api(
                "PUT",
                "/api/v1/settings/cadence",
                &sam,
                Some(json!({"first_every_days": -1, "first_for_days": 1, "then_every_days": 1})),
            )
            .await;
        assert_eq!(field(&r), "first_every_days");

        // Query strings: every parameter is checked and named.
        for (query, expected) in [
            ("limit=0", "limit"),
            ("limit=501", "limit"),
            ("limit=many", "limit"),
            ("status=maybe", "status"),
            ("due=perhaps", "due"),
            ("cursor=zz", "cursor"),
            ("stauts=open", "stauts"),
            ("limit=5&limit=6", "limit"),
        ] {
            let r = app.api("GET", &format!("/api/v1/deals?{query}"), &sam, None).await;
            assert_eq!(field(&r), expected, "{query}");
        }
        let accounts = ok(
            &app.api("GET", "/api/v1/accounts?limit=1", &sam, None).await,
            StatusCode::OK,
        );
        let account_cursor = accounts["next_cursor"].as_str().unwrap().to_owned();
        let r = app
            .api("GET", &format!("/api/v1/deals?cursor={account_cursor}"), &sam, None)
            .await;
        assert_eq!(field(&r), "cursor", "a cursor belongs to its listing");
        assert_eq!(
            field(&app.api("GET", "/api/v1/pipeline/deals?stage=99", &sam, None).await),
            "stage"
        );
        assert_eq!(field(&app.api("GET", "/api/v1/search?q=a", &sam, None).await), "q");
        assert_eq!(field(&app.api("GET", "/api/v1/search", &sam, None).await), "q");

        let d = ok(
            &app.api("GET", &format!("/api/v1/deals/{id}"), &sam, None).await,
            StatusCode::OK,
        );
        assert_eq!(d["version"], 1, "nothing was written");
    })
}

fn cursor_pages_return_every_deal_exactly_once(db: &TestDb) {
    let mut w = world(db);
    // What the store holds, read directly: every deal the admin sees, and Sam's.
    let (all, sams, open) = {
        let mut store = Store::open(&db.location).unwrap();
        let mut ids = |email: &str, status: Option<momentum_core::vocab::DealStatus>| {
            let s = ops::session(&mut store, None, Some(email)).unwrap();
            let filter = ops::DealFilter {
                status,
                limit: 10_000,
                ..Default::default()
            };
            ops::list_deals(&mut store, &s, &filter)
                .unwrap()
                .iter()
                .map(|r| r.deal.id.0)
                .collect::<Vec<_>>()
        };
        (
            ids(ADMIN, None),
            ids(SAM, None),
            ids(ADMIN, Some(momentum_core::vocab::DealStatus::Open)),
        )
    };
    assert!(all.len() > 500, "enough deals for several full pages: {}", all.len());
    block_on(async {
        let (sam, admin) = (w.sam.clone(), w.admin.clone());
        let app = &mut w.app;
        let id = |d: &Value| d["id"].as_i64().unwrap();

        let paged = walk(app, &admin, "/api/v1/deals?limit=97", id).await;
        assert_eq!(paged, all, "every deal once, by id");
        let paged = walk(app, &admin, "/api/v1/deals?limit=500", id).await;
        assert_eq!(paged, all);
        let paged = walk(app, &sam, "/api/v1/deals", id).await;
        assert_eq!(paged, sams, "default pages of 50, only Sam's");
        let paged = walk(app, &admin, "/api/v1/deals?status=open&limit=200", id).await;
        assert_eq!(paged, open);
        // A page exactly as long as what is left is the last page.
        let exact = format!("/api/v1/deals?limit={}", sams.len());
        let page = ok(&app.api("GET", &exact, &sam, None).await, StatusCode::OK);
        assert_eq!(
            (page["items"].as_array().unwrap().len(), &page["next_cursor"]),
            (sams.len(), &Value::Null)
        );

        let pipeline = walk(app, &admin, "/api/v1/pipeline/deals?limit=150", |d| {
            d["deal"]["id"].as_i64().unwrap()
        })
        .await;
        assert_eq!(pipeline, open, "the pipeline's deals are the open ones");
        let accounts = walk(app, &sam, "/api/v1/accounts?limit=7", id).await;
        let contacts = walk(app, &sam, "/api/v1/contacts?limit=500", id).await;
        for ids in [&accounts, &contacts] {
            assert!(
                !ids.is_empty() && ids.windows(2).all(|p| p[0] < p[1]),
                "ascending, no repeats"
            );
        }
        let all_accounts = walk(app, &sam, "/api/v1/accounts?limit=500", id).await;
        assert_eq!(accounts, all_accounts);
    })
}

fn accounts_contacts_search_and_pipeline(db: &TestDb) {
    let mut w = world(db);
    block_on(async {
        let (sam, admin) = (w.sam.clone(), w.admin.clone());
        let app = &mut w.app;

        let created = app
            .api(
                "POST",
                "/api/v1/accounts",
                &sam,
                Some(json!({"name": "Zorblax Ltd", "domain": "zorblax.test"})),
            )
            .await;
        let account = ok(&created, StatusCode::CREATED);
        let aid = account["id"].as_i64().unwrap();
        assert_eq!(created.headers[header::LOCATION], format!("/api/v1/accounts/{aid}"));
        assert_eq!(
            field(
                &app.api("POST", "/api/v1/accounts", &sam, Some(json!({"name": " "})))
                    .await
            ),
            "account.name"
        );

        let a = ok(
            &app.api(
                "PATCH",
                &format!("/api/v1/accounts/{aid}"),
                &sam,
                Some(json!({"name": "Zorblax plc"})),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!(
            (&a["name"], &a["domain"]),
            (&json!("Zorblax plc"), &json!("zorblax.test"))
        );
        let a = ok(
            &app.api(
                "PATCH",
                &format!("/api/v1/accounts/{aid}"),
                &sam,
                Some(json!({"domain": null})),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!((&a["name"], &a["domain"]), (&json!("Zorblax plc"), &Value::Null));

        let created = app
            .api(
                "POST",
                "/api/v1/contacts",
                &sam,
                Some(
                    json!({"name": "Zed Zorblax", "account": aid, "email": "ZED@zorblax.test", "phone": "+1 555 0100"}),
                ),
            )
            .await;
        let contact = ok(&created, StatusCode::CREATED);
        let cid = contact["id"].as_i64().unwrap();
        assert_eq!(created.headers[header::LOCATION], format!("/api/v1/contacts/{cid}"));
        assert_eq!(contact["email"], "zed@zorblax.test");
        let r = app
            .api(
                "POST",
                "/api/v1/contacts",
                &sam,
                Some(json!({"name": "Nobody", "account": 987_654_321})),
            )
            .await;
        problem(&r, StatusCode::NOT_FOUND);
        let c = ok(
            &app.api("GET", &format!("/api/v1/contacts/{cid}"), &sam, None).await,
            StatusCode::OK,
        );
        assert_eq!((&c["account"], &c["phone"]), (&json!(aid), &json!("+1 555 0100")));
        let c = ok(
            &app.api(
                "PATCH",
                &format!("/api/v1/contacts/{cid}"),
                &sam,
                Some(json!({"phone": null, "title": "CTO"})),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!(
            (&c["name"], &c["email"], &c["phone"], &c["title"]),
            (
                &json!("Zed Zorblax"),
                &json!("zed@zorblax.test"),
                &Value::Null,
                &json!("CTO")
            )
        );
        assert_eq!(
            field(
                &app.api(
                    "PATCH",
                    &format!("/api/v1/contacts/{cid}"),
                    &sam,
                    Some(json!({"email": "nope"}))
                )
                .await
            ),
            "contact.email"
        );

        // The account page: its contacts, and the deals the caller sees.
        let deal = ok(
            &app.api(
                "POST",
                "/api/v1/deals",
                &sam,
                Some(json!({"title": "Zorblax pilot", "value": {"minor": 990_000, "currency": "USD"}, "account": aid, "contact": cid})),
            )
            .await,
            StatusCode::CREATED,
        );
        let detail = ok(
            &app.api("GET", &format!("/api/v1/accounts/{aid}"), &sam, None).await,
            StatusCode::OK,
        );
        assert_eq!(detail["name"], "Zorblax plc");
        assert_eq!(detail["contacts"][0]["id"], cid);
        assert_eq!(detail["deals"][0]["id"], deal["id"]);

        // Search finds deals, accounts and contacts.
        let found = ok(
            &app.api("GET", "/api/v1/search?q=zorblax", &sam, None).await,
            StatusCode::OK,
        );
        assert_eq!(found["deals"][0]["title"], "Zorblax pilot");
        assert_eq!(found["accounts"][0]["id"], aid);
        assert_eq!(found["contacts"][0]["id"], cid);
        let found = ok(
            &app.api("GET", "/api/v1/search?q=zorblax&limit=1", &admin, None).await,
            StatusCode::OK,
        );
        assert_eq!(found["deals"].as_array().unwrap().len(), 1);

        // The pipeline: every ladder step, counts that add up to the open deals.
        let p = ok(&app.api("GET", "/api/v1/pipeline", &sam, None).await, StatusCode::OK);
        let steps = p["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 8, "steps 0 to 7");
        assert_eq!(
            (&steps[0]["step"]["step"], &steps[7]["step"]["name"]),
            (&json!(0), &json!("signed"))
        );
        let open: i64 = steps.iter().map(|s| s["deals"].as_i64().unwrap()).sum();
        let listed = ok(
            &app.api(
                "GET",
                &format!("/api/v1/deals?status=open&owner={SAM}&limit=500"),
                &sam,
                None,
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!(open as usize, listed["items"].as_array().unwrap().len());
        assert!(steps.iter().any(|s| s["value"][0]["currency"] == "USD"));
        let team = ok(
            &app.api("GET", &format!("/api/v1/pipeline?team={MARIA}"), &admin, None)
                .await,
            StatusCode::OK,
        );
        assert_eq!(team["steps"].as_array().unwrap().len(), 8);

        let zero = ok(
            &app.api("GET", "/api/v1/pipeline/deals?stage=0&limit=500", &sam, None)
                .await,
            StatusCode::OK,
        );
        let zero = zero["items"].as_array().unwrap();
        assert!(zero.iter().any(|d| d["deal"]["id"] == deal["id"]));
        for d in zero {
            assert_eq!(
                (&d["deal"]["stage"]["step"], &d["deal"]["status"]),
                (&json!(0), &json!("open"))
            );
        }
        let pilot = zero.iter().find(|d| d["deal"]["id"] == deal["id"]).unwrap();
        assert_eq!(pilot["flags"], json!(["no_need", "no_date", "seller_scheduled_only"]));
    })
}

fn users_settings_goals_check_ins_and_tokens(db: &TestDb) {
    let mut w = world(db);
    // Tokens are made in the app or by `momentum token create`, never through the API.
    let spare = token(db, SAM);
    block_on(async {
        let (sam, maria, admin) = (w.sam.clone(), w.maria.clone(), w.admin.clone());
        let app = &mut w.app;

        let users = ok(&app.api("GET", "/api/v1/users", &sam, None).await, StatusCode::OK);
        let users = users["items"].as_array().unwrap();
        assert_eq!(users.len(), 11);
        let sam_user = users.iter().find(|u| u["email"] == SAM).unwrap();
        assert_eq!(
            (&sam_user["role"], &sam_user["active"]),
            (&json!("seller"), &json!(true))
        );
        let maria_id = users.iter().find(|u| u["email"] == MARIA).unwrap()["id"].clone();
        assert_eq!(sam_user["manager"], maria_id);

        let added = ok(
            &app.api(
                "POST",
                "/api/v1/users",
                &admin,
                Some(json!({"email": "Neo@demo.momentum.test", "name": "Neo", "role": "seller", "manager": MARIA, "password": "long enough!"})),
            )
            .await,
            StatusCode::CREATED,
        );
        assert_eq!(
            (&added["email"], &added["manager"]),
            (&json!("neo@demo.momentum.test"), &maria_id)
        );
        let r = app
            .api(
                "POST",
                "/api/v1/users",
                &admin,
                Some(json!({"email": "trin@demo.momentum.test", "name": "Trinity", "role": "manager", "password": "short"})),
            )
            .await;
        assert_eq!(field(&r), "password");
        let r = app
            .api(
                "POST",
                "/api/v1/users",
                &admin,
                Some(json!({"email": "x", "name": "X", "role": "seller"})),
            )
            .await;
        assert_eq!(field(&r), "email");

        // Settings, by the admin.
        let cadence = ok(
            &app.api(
                "PUT",
                "/api/v1/settings/cadence",
                &admin,
                Some(json!({"first_every_days": 5, "first_for_days": 20, "then_every_days": 10})),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!(
            cadence,
            json!({"first_every_days": 5, "first_for_days": 20, "then_every_days": 10})
        );
        let r = app
            .api(
                "PUT",
                "/api/v1/settings/cadence",
                &admin,
                Some(json!({"first_every_days": 0, "first_for_days": 20, "then_every_days": 10})),
            )
            .await;
        assert_eq!(field(&r), "cadence.first_every_days");
        let names = [
            "met",
            "problem worth solving",
            "cost and date",
            "evaluate",
            "process",
            "terms",
            "signed",
        ];
        let ladder = ok(
            &app.api("PUT", "/api/v1/settings/ladder", &admin, Some(json!({"steps": names})))
                .await,
            StatusCode::OK,
        );
        assert_eq!(ladder["steps"][0], json!({"step": 1, "name": "met"}));
        assert_eq!(ladder["steps"].as_array().unwrap().len(), 7);
        let r = app
            .api(
                "PUT",
                "/api/v1/settings/ladder",
                &admin,
                Some(json!({"steps": ["met", "signed"]})),
            )
            .await;
        assert_eq!(field(&r), "ladder", "steps that deals stand on stay");
        // The new names show at once, through a new request's session.
        let p = ok(&app.api("GET", "/api/v1/pipeline", &sam, None).await, StatusCode::OK);
        assert_eq!(p["steps"][1]["step"]["name"], "met");

        // Goals: a seller their own, a manager their team's.
        let month = Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .strftime("%Y-%m")
            .to_string();
        let goal = ok(
            &app.api(
                "POST",
                "/api/v1/goals",
                &sam,
                Some(json!({"seller": SAM, "month": month, "amount": {"minor": 5_000_000, "currency": "USD"}})),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!((&goal["seller"], &goal["month"]), (&sam_user["id"], &json!(month)));
        assert_eq!(goal["amount"], json!({"minor": 5_000_000, "currency": "USD"}));
        let r = app
            .api(
                "POST",
                "/api/v1/goals",
                &sam,
                Some(json!({"seller": OMAR, "month": month, "amount": {"minor": 1, "currency": "USD"}})),
            )
            .await;
        problem(&r, StatusCode::FORBIDDEN);
        ok(
            &app.api(
                "POST",
                "/api/v1/goals",
                &maria,
                Some(json!({"seller": SAM, "month": month, "amount": {"minor": 6_000_000, "currency": "USD"}})),
            )
            .await,
            StatusCode::OK,
        );
        let r = app
            .api(
                "POST",
                "/api/v1/goals",
                &maria,
                Some(json!({"seller": SAM, "month": "2026-13", "amount": {"minor": 1, "currency": "USD"}})),
            )
            .await;
        assert_eq!(field(&r), "month");

        // Check-ins: the caller's own commitment, 1 to 10.
        let c = ok(
            &app.api(
                "POST",
                "/api/v1/check-ins",
                &sam,
                Some(json!({"commitment": 8, "why": "My sister's studies", "obstacle": "Too few first meetings"})),
            )
            .await,
            StatusCode::CREATED,
        );
        assert_eq!((&c["commitment"], &c["user"]), (&json!(8), &sam_user["id"]));
        let r = app
            .api(
                "POST",
                "/api/v1/check-ins",
                &sam,
                Some(json!({"commitment": 11, "why": "x"})),
            )
            .await;
        assert_eq!(field(&r), "commitment");

        // Tokens: an API token cannot mint another; only the hash of a secret is kept.
        let refused = problem(
            &app.api(
                "POST",
                "/api/v1/tokens",
                &sam,
                Some(json!({"name": "spreadsheet export"})),
            )
            .await,
            StatusCode::FORBIDDEN,
        );
        assert!(
            refused["detail"].as_str().unwrap().contains("momentum token create"),
            "{refused}"
        );
        let secret = spare;
        assert!(secret.starts_with("mtm_1_"));
        assert_eq!(
            app.api("GET", "/api/v1/today", &secret, None).await.status,
            StatusCode::OK
        );
        let list = app.api("GET", "/api/v1/tokens", &sam, None).await;
        let listed = ok(&list, StatusCode::OK);
        assert!(!list.body.contains(&secret[6..]), "the secret is never listed");
        assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");
        assert!(listed["items"][0]["last_used_at"].is_string(), "{listed}");
        let tid = listed["items"][0]["id"].as_i64().unwrap();
        problem(
            &app.api("DELETE", &format!("/api/v1/tokens/{tid}"), &maria, None).await,
            StatusCode::NOT_FOUND,
        );
        let revoked = ok(
            &app.api("DELETE", &format!("/api/v1/tokens/{tid}"), &sam, None).await,
            StatusCode::OK,
        );
        assert!(revoked["revoked_at"].is_string());
        problem(
            &app.api("GET", "/api/v1/today", &secret, None).await,
            StatusCode::UNAUTHORIZED,
        );
    })
}

/// A concrete URL for a route's path (`{id}` → 1).
fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
}

fn the_openapi_document_describes_every_route_served(db: &TestDb) {
    let mut app = app(db);
    block_on(async {
        let r = app.api("GET", "/api/openapi.json", "", None).await;
        let doc = ok(&r, StatusCode::OK);
        assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1."),
            "{}",
            doc["openapi"]
        );
        assert_eq!(doc["security"], json!([{"bearer": []}]));
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
        assert!(doc["components"]["schemas"]["Problem"].is_object());

        // The document lists exactly the routes of the one route list, and no other.
        let routes: BTreeSet<(String, String)> = momentum_web::api::ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(routes.len(), momentum_web::api::ROUTES.len(), "no route twice");
        let mut documented = BTreeSet::new();
        let mut operation_ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                documented.insert((method.clone(), path.clone()));
                let id = op["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
                assert!(operation_ids.insert(id.to_owned()), "operationId {id} twice");
                assert!(op["summary"].is_string(), "{method} {path}: no summary");
                let responses = op["responses"].as_object().unwrap();
                // Creating a token through the API is always refused (403): no 2xx.
                assert!(
                    id == "create_token" || responses.keys().any(|s| s.starts_with('2')),
                    "{method} {path}: no 2xx response"
                );
                if path.starts_with("/api/v1/") {
                    let problems: Vec<&String> = responses
                        .iter()
                        .filter(|(_, r)| {
                            r["content"]["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem"
                        })
                        .map(|(s, _)| s)
                        .collect();
                    assert!(!problems.is_empty(), "{method} {path}: no problem response");
                    assert!(problems.iter().any(|s| *s == "401"), "{method} {path}: no 401 problem");
                    assert!(op.get("security").is_none(), "{method} {path} takes the Bearer token");
                } else {
                    assert_eq!(op["security"], json!([{}]), "{method} {path} needs no token");
                }
            }
        }
        assert_eq!(documented, routes);

        // Every route is served: without a token, an API operation is a 401 (not a 404 or
        // 405); the description is open.
        for (method, path) in &routes {
            let url = concrete(path);
            let body = if method == "get" || method == "delete" {
                None
            } else {
                Some(json!({}))
            };
            let r = app.api(&method.to_ascii_uppercase(), &url, "", body).await;
            if path.starts_with("/api/v1/") {
                problem(&r, StatusCode::UNAUTHORIZED);
            } else {
                assert_eq!(r.status, StatusCode::OK, "{method} {path}");
            }
        }
    })
}

fn the_docs_page_renders_the_document(db: &TestDb) {
    let mut app = app(db);
    block_on(async {
        let r = app.get("/api/docs").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(r.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("script-src 'self'"));
        let html = &r.body;
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains(r#"<link rel="stylesheet" href="/assets/style.css">"#));
        assert!(
            !html.contains("<script") && !html.contains("style="),
            "no inline script or style"
        );
        assert!(html.contains("Momentum API") && html.contains("/api/openapi.json"));
        for (method, path) in momentum_web::api::ROUTES {
            let heading = format!("<code>{} {}</code>", method.to_ascii_uppercase(), path);
            assert!(html.contains(&heading), "{heading} is not on the page");
        }
        // Parameters, request and response schemas by name.
        for needle in [
            "<code>cursor</code>",
            "<code>If-Match</code>",
            "href=\"#schema-LogInteraction\"",
            "href=\"#schema-DealDetail\"",
            "href=\"#schema-Problem\"",
            "id=\"schema-Ending\"",
            "application/problem+json",
        ] {
            assert!(html.contains(needle), "{needle} is not on the page");
        }
    })
}

both_backends!(
    requests_without_a_valid_token_get_401_problems,
    a_seller_works_deals_end_to_end,
    the_method_refuses_with_the_field_and_writes_nothing,
    stale_versions_conflict_by_body_or_if_match,
    roles_and_visibility_hold,
    bad_input_is_a_problem_never_a_500,
    cursor_pages_return_every_deal_exactly_once,
    accounts_contacts_search_and_pipeline,
    users_settings_goals_check_ins_and_tokens,
    the_openapi_document_describes_every_route_served,
    the_docs_page_renders_the_document,
);
