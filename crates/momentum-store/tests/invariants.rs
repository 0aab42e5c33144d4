//! The method's invariants, checked in the stored data after random command sequences
//! driven through the storage operations, on both databases: an open deal has exactly one
//! next step row, a closed deal none; the stage is the last ledger entry's; a lost deal
//! has the buyer's words; stored ledger and log entries never change; a refused command
//! leaves the deal exactly as it was.

use jiff::SignedDuration;
use momentum_core::commands::{self, Closing, Ending, FollowUp, LogInteraction, NextStepInput};
use momentum_core::model::*;
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::*;
use momentum_store::ops::{self, Session};
use momentum_store::sql::Row;
use momentum_testkit::{both_backends, TestDb};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

mod common;
use common::*;

#[derive(Debug, Clone)]
enum Op {
    Log {
        result: Outcome,
        objective: u8,
        ending: u8,
        contact: bool,
        hours: i64,
    },
    Decide {
        to: u8,
        contact: bool,
    },
    Need,
    Disqualify {
        reason: bool,
    },
    CloseWon,
    CloseLost {
        words: bool,
    },
    Reschedule {
        hours: i64,
    },
    Reassign {
        to_bob: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let outcome = prop_oneof![Just(Outcome::Advanced), Just(Outcome::Stayed), Just(Outcome::Back)];
    prop_oneof![
        6 => (outcome, 1u8..=7, 0u8..5, any::<bool>(), -24i64..400).prop_map(|(result, objective, ending, contact, hours)| Op::Log { result, objective, ending, contact, hours }),
        2 => (0u8..=7, any::<bool>()).prop_map(|(to, contact)| Op::Decide { to, contact }),
        1 => Just(Op::Need),
        1 => any::<bool>().prop_map(|reason| Op::Disqualify { reason }),
        1 => Just(Op::CloseWon),
        1 => any::<bool>().prop_map(|words| Op::CloseLost { words }),
        1 => (-10i64..300).prop_map(|hours| Op::Reschedule { hours }),
        1 => any::<bool>().prop_map(|to_bob| Op::Reassign { to_bob }),
    ]
}

/// Everything stored about one deal, in a comparable form.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    deal: Vec<String>,
    next_steps: usize,
    decisions: Vec<Vec<String>>,
    interactions: Vec<Vec<String>>,
}

fn text(rows: Vec<Row>) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.0.iter().map(|v| format!("{v:?}")).collect())
        .collect()
}

fn stored(w: &mut World, id: DealId) -> Stored {
    let key = [w.admin.org.id.0.into(), id.0.into()];
    w.store
        .read(|tx| {
            let deal = text(tx.query("SELECT * FROM deals WHERE org_id = $1 AND deal_id = $2", &key)?).remove(0);
            let next_steps = tx
                .query("SELECT 1 FROM next_steps WHERE org_id = $1 AND deal_id = $2", &key)?
                .len();
            let decisions = text(tx.query(
                "SELECT * FROM decisions WHERE org_id = $1 AND deal_id = $2 ORDER BY seq",
                &key,
            )?);
            let interactions = text(tx.query(
                "SELECT * FROM interactions WHERE org_id = $1 AND deal_id = $2 ORDER BY seq",
                &key,
            )?);
            Ok(Stored {
                deal,
                next_steps,
                decisions,
                interactions,
            })
        })
        .unwrap()
}

fn run_op(w: &mut World, actor: &Session, id: DealId, op: &Op, now: Now) -> Result<(), momentum_store::StoreError> {
    let contact = |yes: bool| yes.then_some(w.contact);
    let due = |hours: i64| now.at + SignedDuration::from_hours(hours);
    match op.clone() {
        Op::Log {
            result,
            objective,
            ending,
            contact: c,
            hours,
        } => {
            let ending = match ending {
                0 => None,
                1 => Some(Ending::Sold),
                2 => Some(Ending::DefinitiveNo {
                    category: LostCategory::Timing,
                    buyer_words: if hours % 2 == 0 {
                        "Not this year, because budgets froze".into()
                    } else {
                        String::new()
                    },
                }),
                3 => Some(Ending::Scheduled(FollowUp::Cadence)),
                _ => Some(Ending::Scheduled(FollowUp::At(NextStepInput {
                    due: due(hours),
                    kind: InteractionKind::Call,
                    aims_at: None,
                    buyer_committed: hours % 3 == 0,
                }))),
            };
            let input = LogInteraction {
                kind: InteractionKind::Call,
                contact: contact(c),
                objective: Some(Step(objective)),
                result,
                reached: None,
                ending,
                notes: String::new(),
                occurred_at: None,
                expected_version: None,
            };
            ops::log_interaction(&mut w.store, actor, id, input, now).map(drop)
        }
        Op::Decide { to, contact: c } => {
            let input = commands::RecordDecision {
                contact: contact(c),
                to: Step(to),
                decided_at: None,
                note: None,
                expected_version: None,
            };
            ops::record_decision(&mut w.store, actor, id, input, now).map(drop)
        }
        Op::Need => {
            let input = commands::NeedInput {
                kind: NeedKind::Problem,
                buyer_words: "We lose orders",
                consequence: "Churn",
                matters_by: now.today.tomorrow().unwrap(),
                cost_per_month: Money::new(10_000, Currency::USD),
                expected_version: None,
            };
            ops::set_need(&mut w.store, actor, id, input, now).map(drop)
        }
        Op::Disqualify { reason } => {
            ops::disqualify(&mut w.store, actor, id, if reason { "no date" } else { "" }, None, now).map(drop)
        }
        Op::CloseWon => ops::close(
            &mut w.store,
            actor,
            id,
            Closing::Won {
                contact: Some(w.contact),
            },
            None,
            now,
        )
        .map(drop),
        Op::CloseLost { words } => {
            let closing = Closing::Lost {
                category: LostCategory::Price,
                buyer_words: if words {
                    "Too dear, because of the new tariff".into()
                } else {
                    " ".into()
                },
            };
            ops::close(&mut w.store, actor, id, closing, None, now).map(drop)
        }
        Op::Reschedule { hours } => {
            let step = NextStepInput {
                due: due(hours),
                kind: InteractionKind::Email,
                aims_at: None,
                buyer_committed: false,
            };
            ops::reschedule(&mut w.store, actor, id, step, None, now).map(drop)
        }
        Op::Reassign { to_bob } => {
            let to = if to_bob { "bob@acme.test" } else { "sue@acme.test" };
            ops::reassign(&mut w.store, actor, id, to, None).map(drop)
        }
    }
}

fn check(before: &Stored, after: &Stored, ok: bool, op: &Op) -> Result<(), TestCaseError> {
    if !ok {
        prop_assert_eq!(before, after, "a refused {:?} changed the stored deal", op);
        return Ok(());
    }
    // Columns: see the deals table; status is column 10, stage 9, close_words 13.
    let status = &after.deal[10];
    let open = status.contains("open");
    prop_assert_eq!(
        after.next_steps,
        usize::from(open),
        "status {} with {} next steps",
        status,
        after.next_steps
    );
    let stage = &after.deal[9];
    let last_to = after.decisions.last().map_or("Int(0)".to_owned(), |d| d[4].clone());
    prop_assert_eq!(stage, &last_to, "the stage is not the last decision's");
    if status.contains("lost") {
        prop_assert!(!after.deal[13].contains("Null") && after.deal[13].len() > "Text(\"\")".len());
    }
    prop_assert!(
        after.decisions.starts_with(&before.decisions),
        "a stored decision changed"
    );
    prop_assert!(
        after.interactions.starts_with(&before.interactions),
        "a stored interaction changed"
    );
    prop_assert!(after.decisions.len() <= before.decisions.len() + 1);
    prop_assert!(after.interactions.len() <= before.interactions.len() + 1);
    if before.deal[9] != after.deal[9] {
        prop_assert_eq!(
            after.decisions.len(),
            before.decisions.len() + 1,
            "the stage moved without a decision"
        );
    }
    Ok(())
}

fn random_sequences_keep_the_stored_invariants(db: &TestDb) {
    let w = world(db);
    let cases = if db.backend == "postgres" { 24 } else { 48 };
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = proptest::collection::vec((op(), 0usize..4, 1i64..200), 1..25);
    // The runner's closure is `Fn`; the world is borrowed mutably inside each case.
    let world = std::cell::RefCell::new(w);
    runner
        .run(&strategy, |ops_| {
            let mut guard = world.borrow_mut();
            let w = &mut *guard;
            let sam = w.sam.clone();
            let actors = [w.sam.clone(), w.bob.clone(), w.mia.clone(), w.admin.clone()];
            let id = new_deal(w, &sam, None, "Random", 10_000, 24);
            let mut hours = 1;
            for (op, who, step) in &ops_ {
                hours += step;
                let before = stored(w, id);
                let ok = run_op(w, &actors[*who], id, op, at(hours)).is_ok();
                let after = stored(w, id);
                check(&before, &after, ok, op)?;
            }
            Ok(())
        })
        .unwrap();
    let mut w = world.into_inner();
    // The runs did reach closed deals of every kind, so the checks above were exercised.
    let statuses: Vec<String> = w
        .store
        .read(|tx| Ok(text(tx.query("SELECT DISTINCT status FROM deals ORDER BY status", &[])?).concat()))
        .unwrap();
    assert!(statuses.len() >= 3, "{statuses:?}");
    // Every deal write kept the open pipeline summary exact.
    assert_open_pipeline_is_exact(&mut w.store);
}

both_backends!(random_sequences_keep_the_stored_invariants);
