//! The seller's calendar feed, read back by an independent iCalendar parser (the `ical`
//! crate, not the writer): stable UIDs, the org's time zone, updates, revocation.

use axum::http::StatusCode;
use ical::parser::ical::component::IcalCalendar;
use jiff::Timestamp;
use momentum_core::commands::{FollowUp, NewOrg, NextStepInput};
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::{InteractionKind, Role};
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

fn parse(body: &str) -> IcalCalendar {
    let mut parser = ical::IcalParser::new(body.as_bytes());
    let cal = parser
        .next()
        .expect("one calendar")
        .expect("a valid iCalendar document");
    assert!(parser.next().is_none());
    cal
}

fn prop<'a>(props: &'a [ical::property::Property], name: &str) -> &'a ical::property::Property {
    props
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

fn value(props: &[ical::property::Property], name: &str) -> String {
    prop(props, name).value.clone().unwrap_or_default()
}

fn param(p: &ical::property::Property, name: &str) -> Option<String> {
    p.params
        .as_ref()?
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.join(","))
}

/// A Berlin org with a seller who has one deal with a buyer appointment; returns the
/// seller's session and the deal id.
fn setup(db: &TestDb) -> (Session, i64) {
    let mut store = Store::open(&db.location).unwrap();
    let admin = ops::create_org(
        &mut store,
        NewOrg {
            name: "Acme",
            currency: Currency::EUR,
            timezone: "Europe/Berlin",
        },
        ops::FirstAdmin {
            email: "ada@acme.test",
            name: "Ada",
            password_hash: None,
        },
        Timestamp::now(),
    )
    .unwrap();
    ops::add_user(
        &mut store,
        &admin,
        ops::AddUser {
            email: "sam@acme.test",
            name: "Sam",
            role: Role::Seller,
            manager: None,
            password_hash: None,
        },
        Timestamp::now(),
    )
    .unwrap();
    let sam = ops::session(&mut store, None, Some("sam@acme.test")).unwrap();
    let deal = ops::create_deal(
        &mut store,
        &sam,
        ops::CreateDeal {
            owner: None,
            account: None,
            contact: None,
            title: "Globex, rollout; phase 2",
            value: Money::new(1_000_000, Currency::EUR),
            expected_close: None,
            first_step: FollowUp::At(NextStepInput {
                due: "2030-07-01T08:00:00Z".parse().unwrap(),
                kind: InteractionKind::Meeting,
                aims_at: None,
                buyer_committed: true,
            }),
        },
        sam.now(Timestamp::now()),
    )
    .unwrap();
    (sam, deal.deal.id.0)
}

fn the_feed_is_valid_icalendar_that_updates_in_place(db: &TestDb) {
    let (sam, deal) = setup(db);
    let (token, hash) = momentum_web::calendar::new_token(sam.org.id);
    let mut store = Store::open(&db.location).unwrap();
    momentum_store::calendar::new_feed(&mut store, &sam, &hash, Timestamp::now()).unwrap();
    let mut app = app(db);
    let path = format!("/calendar/{token}.ics");

    let reply = block_on(app.get(&path));
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "text/calendar; charset=utf-8");
    assert!(reply.body.lines().all(|l| l.len() <= 76), "lines fold at 75 octets");
    let cal = parse(&reply.body);
    assert_eq!(value(&cal.properties, "VERSION"), "2.0");
    assert_eq!(cal.timezones.len(), 1);
    let tz = &cal.timezones[0];
    assert_eq!(value(&tz.properties, "TZID"), "Europe/Berlin");
    let offsets: Vec<String> = tz
        .transitions
        .iter()
        .map(|t| value(&t.properties, "TZOFFSETTO"))
        .collect();
    assert!(
        offsets.contains(&"+0100".to_owned()) && offsets.contains(&"+0200".to_owned()),
        "{offsets:?}"
    );

    assert_eq!(cal.events.len(), 1);
    let e = &cal.events[0].properties;
    let uid = value(e, "UID");
    assert_eq!(uid, format!("deal-{deal}-next-step@org-{}.momentum", sam.org.id));
    let start = prop(e, "DTSTART");
    assert_eq!(param(start, "TZID").as_deref(), Some("Europe/Berlin"));
    assert_eq!(
        start.value.as_deref(),
        Some("20300701T100000"),
        "08:00 UTC is 10:00 summer time in Berlin"
    );
    assert_eq!(value(e, "DTEND"), "20300701T110000");
    assert_eq!(value(e, "STATUS"), "CONFIRMED");
    assert_eq!(
        value(e, "SUMMARY"),
        "Meeting: Globex\\, rollout\\; phase 2 → agreed to meet"
    );
    assert_eq!(value(e, "SEQUENCE"), "1");
    assert!(value(e, "DTSTAMP").ends_with('Z'));

    // The buyer moves the meeting: the same event, a higher SEQUENCE, the new time.
    let mut store = Store::open(&db.location).unwrap();
    ops::reschedule(
        &mut store,
        &sam,
        momentum_core::model::DealId(deal),
        NextStepInput {
            due: "2030-12-02T09:30:00Z".parse().unwrap(),
            kind: InteractionKind::Call,
            aims_at: None,
            buyer_committed: false,
        },
        None,
        sam.now(Timestamp::now()),
    )
    .unwrap();
    let cal = parse(&block_on(app.get(&path)).body);
    let e = &cal.events[0].properties;
    assert_eq!(value(e, "UID"), uid);
    assert_eq!(value(e, "SEQUENCE"), "2");
    assert_eq!(value(e, "DTSTART"), "20301202T103000", "winter time: UTC+1");
    assert_eq!(
        value(e, "STATUS"),
        "TENTATIVE",
        "a seller follow-up, not a buyer appointment"
    );

    // A new feed revokes the old URL; revoking closes the new one; strangers get 404.
    let (token2, hash2) = momentum_web::calendar::new_token(sam.org.id);
    momentum_store::calendar::new_feed(&mut store, &sam, &hash2, Timestamp::now()).unwrap();
    assert_eq!(block_on(app.get(&path)).status, StatusCode::NOT_FOUND);
    let path2 = format!("/calendar/{token2}.ics");
    assert_eq!(block_on(app.get(&path2)).status, StatusCode::OK);
    momentum_store::calendar::revoke_feed(&mut store, &sam, Timestamp::now()).unwrap();
    assert_eq!(block_on(app.get(&path2)).status, StatusCode::NOT_FOUND);
    assert_eq!(
        block_on(app.get("/calendar/cal_1_nope.ics")).status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        block_on(app.get(&format!("/calendar/{token2}"))).status,
        StatusCode::NOT_FOUND
    );
}

/// The page a seller uses instead of the CLI: make the address (shown once, not cached),
/// subscribe to it, revoke it.
fn a_seller_makes_and_revokes_the_feed_on_its_page(db: &TestDb) {
    let mut app = demo_app(db);
    block_on(async {
        app.sign_in("sam@demo.momentum.test", "momentum-demo").await;
        let page = app.get("/calendar").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("You have no calendar feed."), "{}", page.body);
        let csrf = hidden(&page.body, "csrf");

        let made = app.post_form("/calendar", &[("csrf", &csrf)]).await;
        assert_eq!(made.status, StatusCode::OK, "{}", made.body);
        assert_eq!(made.headers["cache-control"], "no-store");
        let start = made.body.find("/calendar/cal_").expect("the feed address on the page");
        let end = start + made.body[start..].find(".ics").expect("an .ics address") + 4;
        let path = made.body[start..end].to_owned();
        assert!(made.body.contains("Your feed is live"), "{}", made.body);

        let feed = app.get(&path).await;
        assert_eq!(feed.status, StatusCode::OK);
        let cal = parse(&feed.body);
        assert!(!cal.events.is_empty(), "Sam's open deals are in his calendar");

        // Coming back later, the address is not shown again.
        let later = app.get("/calendar").await;
        assert!(!later.body.contains(&path) && later.body.contains("Your feed is live"));

        let revoked = app.post_form("/calendar/revoke", &[("csrf", &csrf)]).await;
        assert_eq!(revoked.status, StatusCode::SEE_OTHER);
        assert_eq!(revoked.headers["location"], "/calendar?revoked=1");
        assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
        let after = app.get("/calendar?revoked=1").await;
        assert!(after.body.contains("Your feed is revoked") && after.body.contains("You have no calendar feed."));

        // Without the form's CSRF token nothing is made.
        assert_eq!(app.post_form("/calendar", &[]).await.status, StatusCode::FORBIDDEN);
        assert!(app.get("/calendar").await.body.contains("You have no calendar feed."));
    })
}

both_backends!(
    the_feed_is_valid_icalendar_that_updates_in_place,
    a_seller_makes_and_revokes_the_feed_on_its_page
);
