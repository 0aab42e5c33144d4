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

/// One row of the open pipeline: (org, owner, stage, currency, deals, value_minor).
pub type PipelineRow = (i64, i64, i64, String, i64, i64);

/// The `open_pipeline` summary (rows that hold deals) and a fresh count of the open deals,
/// both in key order: they must be equal. Also checks that emptied rows hold no value.
pub fn open_pipeline_and_fresh_count(store: &mut Store) -> (Vec<PipelineRow>, Vec<PipelineRow>) {
    let rows = |sql: &str, store: &mut Store| -> Vec<PipelineRow> {
        store
            .read(|tx| {
                Ok(tx
                    .query(sql, &[])?
                    .iter()
                    .map(|r| {
                        (
                            r.int(0).unwrap(),
                            r.int(1).unwrap(),
                            r.int(2).unwrap(),
                            r.text(3).unwrap().to_owned(),
                            r.int(4).unwrap(),
                            r.int(5).unwrap(),
                        )
                    })
                    .collect())
            })
            .unwrap()
    };
    let summary = rows(
        "SELECT org_id, owner_id, stage, currency, deals, value_minor FROM open_pipeline \
         ORDER BY org_id, owner_id, stage, currency",
        store,
    );
    for r in &summary {
        assert!(r.4 >= 0, "a negative deal count: {r:?}");
        assert!(r.4 > 0 || r.5 == 0, "an emptied row keeps a value: {r:?}");
    }
    let fresh = rows(
        "SELECT org_id, owner_id, stage, currency, COUNT(*), CAST(COALESCE(SUM(value_minor), 0) AS BIGINT) \
         FROM deals WHERE status = 'open' GROUP BY org_id, owner_id, stage, currency \
         ORDER BY org_id, owner_id, stage, currency",
        store,
    );
    (summary.into_iter().filter(|r| r.4 != 0).collect(), fresh)
}

/// Asserts that the open pipeline summary equals a fresh count of the open deals.
pub fn assert_open_pipeline_is_exact(store: &mut Store) {
    let (summary, fresh) = open_pipeline_and_fresh_count(store);
    assert_eq!(
        summary, fresh,
        "open_pipeline (left) differs from a fresh count of open deals (right)"
    );
}

/// Sets a user's `active` flag by hand (no command deactivates users yet).
pub fn set_active(store: &mut Store, user: &User, org: OrgId, active: bool) {
    store
        .write(|tx| {
            tx.exec(
                "UPDATE users SET active = $3 WHERE org_id = $1 AND user_id = $2",
                &[org.0.into(), user.id.0.into(), active.into()],
            )
        })
        .unwrap();
}

/// A second org, "Initech", with its admin.
pub fn other_org(store: &mut Store) -> Session {
    ops::create_org(
        store,
        commands::NewOrg {
            name: "Initech",
            currency: Currency::EUR,
            timezone: "Europe/Berlin",
        },
        ops::FirstAdmin {
            email: "ada@acme.test",
            name: "Same e-mail, other org",
            password_hash: None,
        },
        t0(),
    )
    .unwrap()
}

/// The summaries the reports read agree with the rows they summarise: deals created and
/// won per day, interactions counted, each deal's copy of its next step and need date.
pub fn assert_summaries_exact(store: &mut Store) {
    let one = |store: &mut Store, sql: &str| -> Vec<i64> {
        store
            .read(|tx| {
                let r = tx.query_one(sql, &[])?.unwrap();
                (0..r.0.len()).map(|i| r.opt_int(i).map(|v| v.unwrap_or(0))).collect()
            })
            .unwrap()
    };
    let kept = one(
        store,
        "SELECT CAST(SUM(created) AS BIGINT), CAST(SUM(won) AS BIGINT), CAST(SUM(won_value_minor) AS BIGINT) FROM deal_days",
    );
    let fresh = one(
        store,
        "SELECT COUNT(*), CAST(SUM(CASE WHEN d.status = 'won' THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN d.status = 'won' AND d.currency = o.currency THEN d.value_minor ELSE 0 END) AS BIGINT) \
         FROM deals d JOIN orgs o ON o.org_id = d.org_id",
    );
    assert_eq!(kept, fresh, "deal_days");
    // And day by day (the test orgs count days in UTC): deals created per day (credited to
    // their first owner, so summed over owners: reassigning moves no history), deals won
    // per seller and day.
    let rows = |store: &mut Store, sql: &str| -> Vec<Vec<i64>> {
        store
            .read(|tx| {
                tx.query(sql, &[])?
                    .iter()
                    .map(|r| (0..r.0.len()).map(|i| r.int(i)).collect())
                    .collect()
            })
            .unwrap()
    };
    let kept = rows(
        store,
        "SELECT day, CAST(SUM(created) AS BIGINT) FROM deal_days GROUP BY day HAVING SUM(created) > 0 ORDER BY 1",
    );
    let fresh = rows(
        store,
        "SELECT created_at / 86400, COUNT(*) FROM deals GROUP BY created_at / 86400 ORDER BY 1",
    );
    assert_eq!(kept, fresh, "deal_days: created, day by day");
    let kept = rows(
        store,
        "SELECT owner_id, day, won, won_value_minor FROM deal_days WHERE won <> 0 ORDER BY 1, 2",
    );
    let fresh = rows(
        store,
        "SELECT d.owner_id, d.closed_at / 86400, COUNT(*), \
         CAST(SUM(CASE WHEN d.currency = o.currency THEN COALESCE(d.value_minor, 0) ELSE 0 END) AS BIGINT) \
         FROM deals d JOIN orgs o ON o.org_id = d.org_id WHERE d.status = 'won' GROUP BY 1, 2 ORDER BY 1, 2",
    );
    assert_eq!(kept, fresh, "deal_days: won, seller by seller and day by day");
    let kept = rows(
        store,
        "SELECT owner_id, peak_stage, won, held_back, deals FROM closed_peaks WHERE deals <> 0 ORDER BY 1, 2, 3, 4",
    );
    let fresh = rows(
        store,
        "SELECT owner_id, peak_stage, CASE WHEN status = 'won' THEN 1 ELSE 0 END, \
         CASE WHEN deal_id % 5 = 0 THEN 1 ELSE 0 END, COUNT(*) FROM deals WHERE status <> 'open' \
         GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
    );
    assert_eq!(kept, fresh, "closed_peaks");
    let kept = one(store, "SELECT CAST(SUM(interactions) AS BIGINT) FROM interaction_facts");
    assert_eq!(
        kept,
        one(store, "SELECT COUNT(*) FROM interactions"),
        "interaction_facts"
    );
    let astray = one(
        store,
        "SELECT COUNT(*) FROM deals d LEFT JOIN next_steps n ON n.org_id = d.org_id AND n.deal_id = d.deal_id \
         LEFT JOIN compelling_needs c ON c.org_id = d.org_id AND c.deal_id = d.deal_id \
         WHERE NOT (COALESCE(n.due_at, -1) = COALESCE(d.next_due_at, -1) AND COALESCE(c.matters_on, '') = COALESCE(d.need_on, '') \
         AND COALESCE(n.kind, '') = COALESCE(d.next_kind, '') AND COALESCE(n.aims_at, -1) = COALESCE(d.next_aims_at, -1))",
    );
    assert_eq!(astray, [0], "deals whose copy of the next step or need date differs");
}
