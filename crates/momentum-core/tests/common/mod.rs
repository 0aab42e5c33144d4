//! A small org shared by the core's tests: an admin, two managers with their teams, and
//! helpers to build inputs the way a seller would enter them.
#![allow(dead_code)]

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use momentum_core::commands::*;
use momentum_core::model::*;
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::*;
use momentum_core::DomainError;

/// The instant every test starts from.
pub fn t0() -> Timestamp {
    "2026-10-01T09:00:00Z".parse().unwrap()
}

/// The clock at `at`, counting days in UTC.
pub fn now_at(at: Timestamp) -> Now {
    Now {
        at,
        today: at.to_zoned_datetime(TimeZone::UTC).date(),
    }
}

pub fn hours(n: i64) -> SignedDuration {
    SignedDuration::from_hours(n)
}

pub fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

pub fn mins(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

pub fn after(at: Timestamp, d: SignedDuration) -> Timestamp {
    at.checked_add(d).unwrap()
}

pub const BUYER: ContactId = ContactId(501);

/// An org's people: `admin`, `manager_a` with sellers `seller_a1`, `seller_a2` and the
/// inactive `former_a3`, and `manager_b` with seller `seller_b1`.
#[derive(Debug, Clone)]
pub struct World {
    pub ladder: Ladder,
    pub cadence: Cadence,
    pub admin: User,
    pub manager_a: User,
    pub manager_b: User,
    pub seller_a1: User,
    pub seller_a2: User,
    pub seller_b1: User,
    pub former_a3: User,
}

impl World {
    pub fn new() -> World {
        let at = t0();
        let admin = add_user(
            None,
            UserId(1),
            NewUser {
                email: "ada@example.com",
                name: "Ada Admin",
                role: Role::Admin,
                manager: None,
            },
            at,
        )
        .unwrap();
        let by_admin = actor(&admin);
        let user = |id: i64, email: &str, role: Role, manager: Option<&User>| {
            add_user(
                Some(&by_admin),
                UserId(id),
                NewUser {
                    email,
                    name: email.split('@').next().unwrap(),
                    role,
                    manager,
                },
                at,
            )
            .unwrap()
        };
        let manager_a = user(2, "mona@example.com", Role::Manager, None);
        let manager_b = user(3, "milo@example.com", Role::Manager, None);
        let seller_a1 = user(10, "sam@example.com", Role::Seller, Some(&manager_a));
        let seller_a2 = user(11, "sue@example.com", Role::Seller, Some(&manager_a));
        let seller_b1 = user(12, "bob@example.com", Role::Seller, Some(&manager_b));
        let mut former_a3 = user(13, "fred@example.com", Role::Seller, Some(&manager_a));
        former_a3.active = false;
        World {
            ladder: Ladder::default_steps(),
            cadence: Cadence::default(),
            admin,
            manager_a,
            manager_b,
            seller_a1,
            seller_a2,
            seller_b1,
            former_a3,
        }
    }

    pub fn rules(&self) -> Rules<'_> {
        Rules {
            ladder: &self.ladder,
            cadence: &self.cadence,
        }
    }

    pub fn top(&self) -> Step {
        self.ladder.top()
    }

    /// Everyone, in a fixed order: admin, managers, sellers, the inactive seller.
    pub fn users(&self) -> Vec<User> {
        vec![
            self.admin.clone(),
            self.manager_a.clone(),
            self.manager_b.clone(),
            self.seller_a1.clone(),
            self.seller_a2.clone(),
            self.seller_b1.clone(),
            self.former_a3.clone(),
        ]
    }

    /// An open deal of `owner`, worth 10,000.00 USD, created at `t0()` with a cadence
    /// follow-up as its first step.
    pub fn deal_of(&self, owner: &User) -> Deal {
        create_deal(
            &actor(owner),
            self.rules(),
            DealId(7),
            NewDeal {
                owner: owner.as_owner(),
                account: Some(AccountId(3)),
                contact: Some(BUYER),
                title: "Acme rollout",
                value: Money::new(1_000_000, Currency::USD),
                expected_close: None,
                first_step: FollowUp::Cadence,
            },
            now_at(t0()),
        )
        .unwrap()
    }

    /// `seller_a1`'s deal, brought to `stage` by buyer decisions recorded at `t0()`.
    pub fn deal_at(&self, stage: u8) -> Deal {
        let mut deal = self.deal_of(&self.seller_a1);
        if stage > 0 {
            let change = record_decision(
                &actor(&self.seller_a1),
                self.rules(),
                &deal,
                RecordDecision {
                    contact: Some(BUYER),
                    to: Step(stage),
                    decided_at: None,
                    note: None,
                    expected_version: None,
                },
                now_at(t0()),
            )
            .unwrap();
            deal = change.deal;
        }
        assert_eq!(deal.stage, Step(stage));
        deal
    }
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

pub fn actor(user: &User) -> Actor {
    Actor {
        user: user.id,
        role: user.role,
    }
}

/// A buyer-committed appointment at `due`, aiming at the next decision.
pub fn appointment(due: Timestamp) -> Ending {
    Ending::Scheduled(FollowUp::At(NextStepInput {
        due,
        kind: InteractionKind::Meeting,
        aims_at: None,
        buyer_committed: true,
    }))
}

/// A call with the deal's buyer asking for `objective`, with `result` and `ending`.
pub fn call(objective: u8, result: Outcome, ending: Option<Ending>) -> LogInteraction {
    LogInteraction {
        kind: InteractionKind::Call,
        contact: Some(BUYER),
        objective: Some(Step(objective)),
        result,
        reached: None,
        ending,
        notes: "talked it through".into(),
        occurred_at: None,
        expected_version: None,
    }
}

/// Asserts `err` is `Invalid` about `field`, with `value` (as the user entered it; "" for
/// missing), and that its message names the field, the value and a rule containing `rule`.
#[track_caller]
pub fn assert_invalid(err: &DomainError, field: &str, value: &str, rule: &str) {
    assert_eq!(err.field(), Some(field), "wrong field in {err:?}");
    let DomainError::Invalid { value: v, rule: r, .. } = err else {
        panic!("expected Invalid, got {err:?}");
    };
    assert_eq!(v, value, "wrong value in {err:?}");
    assert!(r.contains(rule), "rule {r:?} does not say {rule:?}");
    let shown = if value.is_empty() {
        "missing".to_owned()
    } else {
        format!("{value:?}")
    };
    let msg = err.to_string();
    assert_eq!(msg, format!("{field} is {shown}: {r}"));
}

#[track_caller]
pub fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, DomainError>) {
    match result {
        Err(DomainError::Forbidden(msg)) => assert!(!msg.is_empty()),
        other => panic!("expected Forbidden, got {other:?}"),
    }
}
