//! The pages in-process on both databases: sign-in, Today, the Deal page, the log form's
//! refusals and successes, CSRF, sign-out.

use axum::http::StatusCode;
use momentum_testkit::{both_backends, TestDb};

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
const PASSWORD: &str = "momentum-demo";

fn signing_in_leads_to_today(db: &TestDb) {
    let mut app = demo_app(db);
    block_on(async {
        let anonymous = app.get("/").await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
        assert_eq!(anonymous.headers["location"], "/sign-in");

        let wrong = app.sign_in(SAM, "not the password").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("The e-mail or the password is wrong."));

        let ok = app.sign_in(SAM, PASSWORD).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let cookie = ok
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>();
        let session = cookie
            .iter()
            .find(|c| c.starts_with("momentum_session="))
            .expect("a session cookie");
        assert!(
            session.contains("HttpOnly") && session.contains("SameSite=Lax"),
            "{session}"
        );

        let today = app.get("/").await;
        assert_eq!(today.status, StatusCode::OK);
        assert!(today.body.contains("<h1>Today</h1>"));
        assert!(
            today.body.contains("next steps due, most at stake first"),
            "{}",
            today.body
        );
        assert!(today.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'"));
    })
}

fn the_session_id_changes_at_sign_in_and_dies_at_sign_out(db: &TestDb) {
    let mut app = demo_app(db);
    block_on(async {
        app.sign_in(SAM, PASSWORD).await;
        let first = app
            .cookies
            .iter()
            .find(|(n, _)| n == "momentum_session")
            .unwrap()
            .1
            .clone();
        app.sign_in(SAM, PASSWORD).await;
        let second = app
            .cookies
            .iter()
            .find(|(n, _)| n == "momentum_session")
            .unwrap()
            .1
            .clone();
        assert_ne!(first, second);
        // The old session no longer works.
        let mut stale = app.cookies.clone();
        stale.retain(|(n, _)| n != "momentum_session");
        stale.push(("momentum_session".into(), first));
        let saved = std::mem::replace(&mut app.cookies, stale);
        assert_eq!(app.get("/").await.status, StatusCode::SEE_OTHER);
        app.cookies = saved;

        let csrf = app.csrf().await;
        let forged = app.post_form("/sign-out", &[("csrf", "forged")]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let out = app.post_form("/sign-out", &[("csrf", &csrf)]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        // Replaying the cookie after sign-out fails: the server forgot the session.
        app.cookies.push(("momentum_session".into(), second));
        assert_eq!(app.get("/").await.status, StatusCode::SEE_OTHER);
    })
}

fn the_log_form_says_why_it_refuses_and_logs_what_it_accepts(db: &TestDb) {
    let mut app = demo_app(db);
    block_on(async {
        app.sign_in(SAM, PASSWORD).await;
        let today = app.get("/").await;
        let csrf = hidden(&today.body, "csrf");
        let marker = "<select name=\"deal\" required><option value=\"";
        let start = today.body.find(marker).expect("a deal to choose") + marker.len();
        let choice = today.body[start..].split('"').next().unwrap().to_owned();
        let deal = choice.split('@').next().unwrap().to_owned();

        let refused = app
            .post_form(
                "/log",
                &[
                    ("csrf", &csrf),
                    ("deal", &deal),
                    ("result", "stayed"),
                    ("notes", "Left a voicemail"),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("next_step is missing"), "{}", refused.body);
        assert!(
            refused.body.contains("Left a voicemail"),
            "the form keeps what was typed"
        );

        let forged = app
            .post_form(
                "/log",
                &[
                    ("csrf", "x"),
                    ("deal", &deal),
                    ("result", "stayed"),
                    ("ending", "cadence"),
                ],
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);

        let due = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(72))
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .strftime("%Y-%m-%dT%H:%M")
            .to_string();
        let fields = |deal: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("deal", deal.to_owned()),
                ("result", "stayed".to_owned()),
                ("ending", "next".to_owned()),
                ("next_at", due.clone()),
                ("buyer_committed", "on".to_owned()),
                ("notes", "Booked the demo".to_owned()),
            ]
        };
        let logged = app
            .post_form(
                "/log",
                &[
                    ("csrf", &csrf),
                    ("deal", &choice),
                    ("result", "stayed"),
                    ("ending", "next"),
                    ("next_at", &due),
                    ("buyer_committed", "on"),
                    ("notes", "Booked the demo"),
                ],
            )
            .await;
        assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.body);
        let location = logged.headers["location"].to_str().unwrap().to_owned();
        assert_eq!(location, format!("/deals/{deal}?logged=1"));
        let page = app.get(&location).await;
        assert!(page.body.contains("Logged."));
        assert!(page.body.contains("buyer committed"));
        assert!(page.body.contains("Booked the demo"));

        // The same form sent again (a double click) is a stale write, not a second entry.
        let again: Vec<(&str, String)> = fields(&choice);
        let again: Vec<(&str, &str)> = again.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let twice = app.post_form("/log", &again).await;
        assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
        assert!(twice.body.contains("reload it and try again"));
        let page = app.get(&location).await;
        assert_eq!(page.body.matches("Booked the demo").count(), 1);
    })
}

fn a_seller_cannot_open_another_sellers_deal(db: &TestDb) {
    let mut app = demo_app(db);
    // A deal owned by someone else, found through the admin's eyes. (The blocking
    // PostgreSQL client must not run inside the async runtime.)
    let mut store = momentum_store::Store::open(&db.location).unwrap();
    let admin = momentum_store::ops::session(&mut store, None, None).unwrap();
    let filter = momentum_store::ops::DealFilter {
        limit: 200,
        ..Default::default()
    };
    let rows = momentum_store::ops::list_deals(&mut store, &admin, &filter).unwrap();
    let other = rows.iter().find(|r| r.owner_email != SAM).unwrap().deal.id;
    block_on(async {
        app.sign_in(SAM, PASSWORD).await;
        let page = app.get(&format!("/deals/{other}")).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("a seller acts only on their own deals"));
        assert_eq!(app.get("/deals/99999999").await.status, StatusCode::NOT_FOUND);
    })
}

fn health_and_metrics_answer(db: &TestDb) {
    let mut app = app(db);
    block_on(async {
        let health = app.get("/healthz").await;
        assert_eq!((health.status, health.body.as_str()), (StatusCode::OK, "ok"));
        app.get("/sign-in").await;
        let metrics = app.get("/metrics").await;
        assert!(
            metrics.body.contains("momentum_http_requests_total"),
            "{}",
            metrics.body
        );
        assert!(metrics.body.contains("route=\"/sign-in\""));
        assert!(metrics.body.contains("momentum_db_pool_connections"));
        assert!(health.headers.contains_key("x-request-id"));
    })
}

fn an_oversized_body_is_refused_as_a_problem(db: &TestDb) {
    let mut app = app(db);
    block_on(async {
        let big = "x".repeat(app.state.config.max_body_bytes + 1);
        let body = serde_json::json!({ "title": big }).to_string();
        let request = axum::http::Request::post("/api/v1/deals")
            .header("content-type", "application/json")
            .header("content-length", body.len())
            .body(axum::body::Body::from(body))
            .unwrap();
        let reply = app.send(request).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(reply.headers["content-type"], "application/problem+json");
        assert_eq!(reply.json()["status"], 413);
        let page = app.post_form("/sign-in", &[("email", &big)]).await;
        assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    })
}

fn an_admin_changes_a_users_team_and_access(db: &TestDb) {
    let mut app = demo_app(db);
    block_on(async {
        app.sign_in("admin@demo.momentum.test", PASSWORD).await;
        let csrf = app.csrf().await;
        let forged = app
            .post_form(
                "/settings/users/edit",
                &[("csrf", "x"), ("email", SAM), ("role", "seller")],
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let refused = app
            .post_form(
                "/settings/users/edit",
                &[
                    ("csrf", &csrf),
                    ("email", "admin@demo.momentum.test"),
                    ("role", "seller"),
                    ("active", "on"),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains("you cannot demote or deactivate yourself"),
            "{}",
            refused.body
        );
        let moved = app
            .post_form(
                "/settings/users/edit",
                &[
                    ("csrf", &csrf),
                    ("email", SAM),
                    ("role", "seller"),
                    ("manager", "mark.manager@demo.momentum.test"),
                ],
            )
            .await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
        let settings = app.get("/settings").await;
        let marks_team = settings.body.split("Mark Chen's team").nth(1).unwrap_or_default();
        let marks_team = marks_team.split("</ul>").next().unwrap_or_default();
        assert!(marks_team.contains(SAM), "Sam is now on Mark's team");
        // Unticked "Can sign in": Sam is locked out.
        app.cookies.clear();
        assert_eq!(app.sign_in(SAM, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    })
}

/// A seller with more next steps due than the page lists sees how many are due in all, and
/// the page lists 50 of them, no more.
fn today_counts_a_backlog_and_lists_the_most_at_stake(db: &TestDb) {
    let mut app = demo_app(db);
    // The demo's seller with the most due steps, counted by the store as the page counts.
    let mut store = momentum_store::Store::open(&db.location).unwrap();
    let admin = momentum_store::ops::session(&mut store, None, None).unwrap();
    let now = admin.now(jiff::Timestamp::now());
    let (seller, due) = momentum_store::ops::users(&mut store, &admin)
        .unwrap()
        .into_iter()
        .filter(|u| u.role == momentum_core::vocab::Role::Seller && u.active)
        .map(|u| {
            let s = momentum_store::ops::session(&mut store, None, Some(u.email.as_str())).unwrap();
            let due = momentum_store::ops::today(&mut store, &s, now, 1).unwrap().due;
            (u.email.as_str().to_owned(), due)
        })
        .max_by_key(|(_, due)| *due)
        .unwrap();
    assert!(
        due > 50,
        "the small demo should give some seller a backlog; the most due is {due}"
    );
    block_on(async {
        app.sign_in(&seller, PASSWORD).await;
        let today = app.get("/").await;
        assert_eq!(today.status, StatusCode::OK);
        assert!(
            today
                .body
                .contains(&format!("{due} next steps due; the 50 most at stake first.")),
            "{}",
            today.body
        );
        let rows = today.body.matches("<td><a href=\"/deals/").count();
        assert_eq!(rows, 50, "one row per listed deal");
    })
}

both_backends!(
    an_admin_changes_a_users_team_and_access,
    an_oversized_body_is_refused_as_a_problem,
    signing_in_leads_to_today,
    today_counts_a_backlog_and_lists_the_most_at_stake,
    the_session_id_changes_at_sign_in_and_dies_at_sign_out,
    the_log_form_says_why_it_refuses_and_logs_what_it_accepts,
    a_seller_cannot_open_another_sellers_deal,
    health_and_metrics_answer,
);
