//! Shared setup for the storage tests: an org with a team structure and a fixed clock.
#![allow(dead_code)]

use jiff::{SignedDuration, Timestamp};
use momentum_core::commands::{self, Ending, FollowUp, LogInteraction, NextStepInput};
use momentum_core::model::*;
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::*;
use momentum_core::DomainError;
use momentum_store::ops::{self, Session};
use momentum_store::{Store, StoreError};
use momentum_testkit::TestDb;

pub fn t0() -> Timestamp {
    "2026-06-01T10:00:00Z".parse().unwrap()
}

pub fn at(hours: i64) -> Now {
    let at = t0() + SignedDuration::from_hours(hours);
    Now {
        at,
        today: at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
    }
}

/// An org with an admin, two managers, and sellers: sam (mia's team), sue (mia's team),
/// bob (max's team); an account with one contact.
pub struct World {
    pub store: Store,
    pub admin: Session,
    pub mia: Session,
    pub max: Session,
    pub sam: Session,
    pub bob: Session,
    pub contact: ContactId,
    pub account: AccountId,
}

pub fn world(db: &TestDb) -> World {
    let mut store = Store::open(&db.location).unwrap();
    let admin = ops::create_org(
        &mut store,
        commands::NewOrg {
            name: "Acme",
            currency: Currency::USD,
            timezone: "UTC",
        },
        ops::FirstAdmin {
            email: "ada@acme.test",
            name: "Ada Admin",
            password_hash: None,
        },
        t0(),
    )
    .unwrap();
    for (email, name, role, manager) in [
        ("mia@acme.test", "Mia Manager", Role::Manager, None),
        ("max@acme.test", "Max Manager", Role::Manager, None),
        ("sam@acme.test", "Sam Seller", Role::Seller, Some("mia@acme.test")),
        ("sue@acme.test", "Sue Seller", Role::Seller, Some("mia@acme.test")),
        ("bob@acme.test", "Bob Seller", Role::Seller, Some("max@acme.test")),
    ] {
        ops::add_user(
            &mut store,
            &admin,
            ops::AddUser {
                email,
                name,
                role,
                manager,
                password_hash: None,
            },
            t0(),
        )
        .unwrap();
    }
    let account = ops::add_account(&mut store, &admin, "Globex", Some("globex.test"), t0())
        .unwrap()
        .id;
    let contact = ops::add_contact(
        &mut store,
        &admin,
        commands::NewContact {
            account: Some(account),
            name: "Hank Buyer",
            email: Some("hank@globex.test"),
            phone: None,
            title: Some("COO"),
        },
        t0(),
    )
    .unwrap()
    .id;
    let mut s = |e: &str| ops::session(&mut store, None, Some(e)).unwrap();
    let (mia, max, sam, bob) = (
        s("mia@acme.test"),
        s("max@acme.test"),
        s("sam@acme.test"),
        s("bob@acme.test"),
    );
    World {
        store,
        admin,
        mia,
        max,
        sam,
        bob,
        contact,
        account,
    }
}

pub fn new_deal(
    w: &mut World,
    who: &Session,
    owner: Option<&str>,
    title: &str,
    dollars: i64,
    first_due_hours: i64,
) -> DealId {
    ops::create_deal(
        &mut w.store,
        who,
        ops::CreateDeal {
            owner,
            account: Some(w.account),
            contact: Some(w.contact),
            title,
            value: Money::new(dollars * 100, Currency::USD),
            expected_close: None,
            first_step: FollowUp::At(NextStepInput {
                due: at(first_due_hours).at,
                kind: InteractionKind::Call,
                aims_at: None,
                buyer_committed: true,
            }),
        },
        at(0),
    )
    .unwrap()
    .deal
    .id
}

pub fn advance(contact: ContactId, objective: u8, next_due_hours: i64) -> LogInteraction {
    LogInteraction {
        kind: InteractionKind::Meeting,
        contact: Some(contact),
        objective: Some(Step(objective)),
        result: Outcome::Advanced,
        reached: None,
        ending: Some(Ending::Scheduled(FollowUp::At(NextStepInput {
            due: at(next_due_hours).at,
            kind: InteractionKind::Call,
            aims_at: None,
            buyer_committed: true,
        }))),
        notes: "went well".into(),
        occurred_at: None,
        expected_version: None,
    }
}

pub fn domain(e: StoreError) -> DomainError {
    match e {
        StoreError::Domain(d) => d,
        other => panic!("expected a domain error, got {other}"),
    }
}

pub fn snapshot(w: &mut World, id: DealId) -> String {
    serde_json::to_string(&ops::show_deal(&mut w.store, &w.admin, id).unwrap()).unwrap()
}
