//! The coaching reports on the web, in-process on both databases: a page per report with
//! its SVG chart and tables, a JSON route per report with the documented keys, the
//! coaching overview and its click-through, the monthly check-in and Today's reminder;
//! each honouring who may see what, refusing bad input by field, and escaping names.

use axum::http::StatusCode;
use jiff::Timestamp;
use momentum_core::commands::{Closing, FollowUp};
use momentum_core::money::{Currency, Money};
use momentum_core::reports::ReportName;
use momentum_core::vocab::Role;
use momentum_store::auth as store_auth;
use momentum_store::ops::{self, Session};
use momentum_store::Store;
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

const PASSWORD: &str = "momentum-demo";
const MARIA: &str = "maria.manager@demo.momentum.test";
const SAM: &str = "sam@demo.momentum.test";
const EVE: &str = "eve@demo.momentum.test";
/// A name an attacker would choose; it must come back escaped everywhere.
const EVE_NAME: &str = "<i>Eve</i> \"Evil\"";

fn session(store: &mut Store, email: &str) -> Session {
    ops::session(store, None, Some(email)).unwrap()
}

fn token(store: &mut Store, email: &str) -> String {
    let s = session(store, email);
    let (token, hash) = momentum_web::auth::new_api_token(s.org.id);
    store_auth::create_token(store, &s, "report tests", &hash, Timestamp::now()).unwrap();
    token
}

/// The demo, plus Eve: a new seller on Maria's team with one won deal and no check-in.
fn setup(db: &TestDb) -> App {
    let app = demo_app(db);
    let mut store = Store::open(&db.location).unwrap();
    let admin = session(&mut store, "admin@demo.momentum.test");
    let hash = momentum_web::password::hash(PASSWORD).unwrap();
    let input = ops::AddUser {
        email: EVE,
        name: EVE_NAME,
        role: Role::Seller,
        manager: Some(MARIA),
        password_hash: Some(&hash),
    };
    ops::add_user(&mut store, &admin, input, Timestamp::now()).unwrap();
    let now = admin.now(Timestamp::now());
    let eve = session(&mut store, EVE);
    let deal = ops::create_deal(
        &mut store,
        &eve,
        ops::CreateDeal {
            owner: None,
            account: None,
            contact: None,
            title: "Eve's first",
            value: Money::new(9_900_000, Currency::USD),
            expected_close: None,
            first_step: FollowUp::Cadence,
        },
        now,
    )
    .unwrap();
    let contact = ops::add_contact(
        &mut store,
        &eve,
        momentum_core::commands::NewContact {
            account: None,
            name: "Buyer",
            email: None,
            phone: None,
            title: None,
        },
        now.at,
    )
    .unwrap();
    let won = Closing::Won {
        contact: Some(contact.id),
    };
    ops::close(&mut store, &eve, deal.deal.id, won, None, now).unwrap();
    app
}

fn every_report_has_a_page_with_a_chart(db: &TestDb) {
    let mut app = setup(db);
    block_on(async {
        let r = app.sign_in(MARIA, PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let index = app.get("/reports").await;
        assert_eq!(index.status, StatusCode::OK);
        for name in ReportName::ALL {
            assert!(
                index.body.contains(&format!("href=\"/reports/{}\"", name.slug())),
                "{name}"
            );
            let page = app.get(&format!("/reports/{}", name.slug())).await;
            assert_eq!(page.status, StatusCode::OK, "{name}: {}", page.body);
            assert!(page.body.contains(name.title()), "{name}");
            assert!(page.body.contains("<svg"), "{name} has no chart");
            assert!(page.body.contains("<table"), "{name} has no table");
            assert!(!page.body.contains("<i>Eve</i>"), "{name} shows a name unescaped");
        }
        // Eve's won deal: her (escaped) name in the summary's table and chart.
        let summary = app.get("/reports/summary").await;
        assert!(summary.body.contains("&lt;i&gt;Eve&lt;/i&gt;"), "{}", summary.body);
        // The give-up page names the planted seller on Maria's team, and the chart is SVG text.
        let give_up = app.get("/reports/give-up").await;
        assert!(give_up.body.contains("Leo Park"));
        assert!(!give_up.body.contains("Omar Haddad"), "Omar is on Mark's team");
        // Bad input comes back as the page with the rule, 422.
        let bad = app.get("/reports/month-gap?month=November").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("a month is written YYYY-MM"), "{}", bad.body);
        assert_eq!(app.get("/reports/nonsense").await.status, StatusCode::NOT_FOUND);
        // Another manager's team is refused.
        let mark = app.get("/reports/summary?team=mark.manager%40demo.momentum.test").await;
        assert_eq!(mark.status, StatusCode::FORBIDDEN);
    });
}

fn every_report_has_an_api_route(db: &TestDb) {
    let mut app = setup(db);
    let (admin, sam) = {
        let mut store = Store::open(&db.location).unwrap();
        (token(&mut store, "admin@demo.momentum.test"), token(&mut store, SAM))
    };
    block_on(async {
        for name in ReportName::ALL {
            let r = app
                .api("GET", &format!("/api/v1/reports/{}", name.slug()), &admin, None)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
            assert!(r.json().is_object(), "{name}");
        }
        let summary = app.api("GET", "/api/v1/reports/summary", &admin, None).await.json();
        let mut keys: Vec<&str> = summary.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "by_status",
                "deals",
                "win_rate",
                "won_days_to_close",
                "won_value",
                "won_value_by_owner"
            ]
        );
        assert_eq!(summary["deals"], 2001);
        // A seller's summary is their own.
        let mine = app.api("GET", "/api/v1/reports/summary", &sam, None).await.json();
        assert_eq!(mine["won_value_by_owner"].as_array().unwrap().len(), 1);
        assert_eq!(mine["won_value_by_owner"][0]["owner"], "Sam Carter");
        // Another seller's figures are refused; bad input names the field.
        let r = app
            .api(
                "GET",
                "/api/v1/reports/give-up?seller=julia%40demo.momentum.test",
                &sam,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = app
            .api("GET", "/api/v1/reports/summary?from=yesterday", &admin, None)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["errors"][0]["field"], "from", "{}", r.body);
        let r = app
            .api("GET", "/api/v1/reports/cholesterol?limit=0", &admin, None)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let r = app.api("GET", "/api/v1/reports/summary?colour=red", &admin, None).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown parameters are refused: {}",
            r.body
        );
        assert_eq!(r.json()["errors"][0]["field"], "colour");
        assert_eq!(
            app.api("GET", "/api/v1/reports/summary", "", None).await.status,
            StatusCode::UNAUTHORIZED
        );
    });
}

fn coaching_shows_each_seller_and_clicks_through(db: &TestDb) {
    let mut app = setup(db);
    block_on(async {
        app.sign_in(MARIA, PASSWORD).await;
        let page = app.get("/coaching").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for name in [
            "Sam Carter",
            "Priya Nair",
            "Leo Park",
            "Grace Kim",
            "&lt;i&gt;Eve&lt;/i&gt;",
        ] {
            assert!(page.body.contains(name), "{name} missing from coaching");
        }
        assert!(!page.body.contains("Omar Haddad"), "Omar is on Mark's team");
        let leo_row = &page.body[page.body.find("Leo Park").unwrap()..];
        let leo_row = &leo_row[..leo_row.find("</tr>").unwrap()];
        assert!(leo_row.contains("gives up early"), "{leo_row}");
        let link = leo_row
            .split("href=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&");
        assert!(link.starts_with("/reports/give-up?seller="), "{link}");
        let curves = app.get(&link).await;
        assert_eq!(curves.status, StatusCode::OK);
        // The figures (after the filter form, which lists the team) are Leo's alone.
        let figures = &curves.body[curves.body.find("<figure").unwrap()..];
        assert!(
            figures.contains("Leo Park") && !figures.contains("Priya Nair"),
            "{figures}"
        );
        assert!(curves.body.contains("<svg"));
        // One seller by email; a seller cannot open the coaching page.
        let one = app.get("/coaching?seller=leo%40demo.momentum.test").await;
        assert!(
            one.body.contains("Leo Park") && !one.body.contains("Sam Carter"),
            "{}",
            one.body
        );
        let mut sam = app.fresh();
        sam.sign_in(SAM, PASSWORD).await;
        assert_eq!(sam.get("/coaching").await.status, StatusCode::FORBIDDEN);
    });
}

fn a_seller_is_reminded_to_check_in_and_does(db: &TestDb) {
    let mut app = setup(db);
    block_on(async {
        app.sign_in(EVE, PASSWORD).await;
        let today = app.get("/").await;
        assert!(today.body.contains("id=\"check-in-reminder\""), "{}", today.body);
        let csrf = app.csrf().await;
        let refused = app
            .post_form("/check-in", &[("csrf", &csrf), ("commitment", "11"), ("why", "Ready")])
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert!(refused.body.contains("commitment"), "{}", refused.body);
        let forged = app
            .post_form(
                "/check-in",
                &[("csrf", "forged"), ("commitment", "7"), ("why", "Ready")],
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(
            app.get("/").await.body.contains("check-in-reminder"),
            "nothing was recorded"
        );
        let done = app
            .post_form(
                "/check-in",
                &[("csrf", &csrf), ("commitment", "7"), ("why", "Ready to go")],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert!(!app.get("/").await.body.contains("check-in-reminder"));
        // Maria's coaching page shows it.
        let mut maria = app.fresh();
        maria.sign_in(MARIA, PASSWORD).await;
        let coaching = maria.get("/coaching").await.body;
        let row = &coaching[coaching.find("&lt;i&gt;Eve").unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains("7/10") && row.contains("Ready to go"), "{row}");
    });
}

both_backends!(
    every_report_has_a_page_with_a_chart,
    every_report_has_an_api_route,
    coaching_shows_each_seller_and_clicks_through,
    a_seller_is_reminded_to_check_in_and_does,
);
