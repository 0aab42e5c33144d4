//! The storage contract: one suite, written once, run against SQLite and PostgreSQL.
//! Each test gets a fresh database; the clock is passed explicitly, so runs are exact.

use momentum_core::commands::{self, Ending, FollowUp, LogInteraction, NextStepInput};
use momentum_core::model::*;
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::*;
use momentum_core::DomainError;
use momentum_store::ops::{self, DealFilter, Session};
use momentum_store::{Store, StoreError};
use momentum_testkit::{both_backends, TestDb};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------

fn a_logged_interaction_moves_the_deal_and_is_kept(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let id = new_deal(&mut w, &sam, None, "Rollout", 25_000, 24);
    let input = advance(w.contact, 1, 48);
    let change = ops::log_interaction(&mut w.store, &sam, id, input, at(1)).unwrap();
    assert_eq!(change.deal.version, 2);

    let view = ops::show_deal(&mut w.store, &sam, id).unwrap();
    assert_eq!(view.summary.stage.step, 1);
    assert_eq!(view.summary.stage.name, "agreed to meet");
    assert_eq!(view.summary.version, 2);
    assert_eq!(view.decisions.len(), 1);
    assert_eq!(view.decisions[0].direction, Direction::Advance);
    assert_eq!(view.decisions[0].contact, Some(w.contact));
    assert_eq!(view.interactions.len(), 1);
    assert_eq!(view.interactions[0].notes, "went well");
    assert_eq!(view.interactions[0].commitment, Commitment::Scheduled);
    let next = view.summary.next_step.unwrap();
    assert_eq!(next.due, at(48).at);
    assert_eq!(next.aims_at.step, 2);
    assert_eq!(view.contacts.get(&w.contact.0).map(String::as_str), Some("Hank Buyer"));
    assert_eq!(view.summary.value, Some(Money::new(2_500_000, Currency::USD)));
}

fn refused_commands_write_nothing(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let bob = w.bob.clone();
    let id = new_deal(&mut w, &sam, None, "Rollout", 25_000, 24);
    let before = snapshot(&mut w, id);

    let no_ending = LogInteraction {
        ending: None,
        ..advance(w.contact, 1, 48)
    };
    assert_eq!(
        domain(ops::log_interaction(&mut w.store, &sam, id, no_ending, at(1)).unwrap_err()).field(),
        Some("next_step")
    );

    let past = advance(w.contact, 1, -5);
    assert_eq!(
        domain(ops::log_interaction(&mut w.store, &sam, id, past, at(1)).unwrap_err()).field(),
        Some("next_step.due")
    );

    let closing = commands::Closing::Lost {
        category: LostCategory::Price,
        buyer_words: "  ".into(),
    };
    assert_eq!(
        domain(ops::close(&mut w.store, &sam, id, closing, None, at(1)).unwrap_err()).field(),
        Some("buyer_words")
    );

    let not_his = advance(w.contact, 1, 48);
    assert!(matches!(
        domain(ops::log_interaction(&mut w.store, &bob, id, not_his, at(1)).unwrap_err()),
        DomainError::Forbidden(_)
    ));

    let no_contact = commands::RecordDecision {
        contact: None,
        to: Step(2),
        decided_at: None,
        note: None,
        expected_version: None,
    };
    assert_eq!(
        domain(ops::record_decision(&mut w.store, &sam, id, no_contact, at(1)).unwrap_err()).field(),
        Some("contact")
    );

    assert_eq!(snapshot(&mut w, id), before, "a refused command changed the deal");
}

fn a_stale_version_is_a_conflict(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let mia = w.mia.clone();
    let id = new_deal(&mut w, &sam, None, "Rollout", 25_000, 24);
    // Sam's manager logs first; Sam then writes based on the version he saw (1).
    ops::log_interaction(&mut w.store, &mia, id, advance(w.contact, 1, 48), at(1)).unwrap();
    let stale = LogInteraction {
        expected_version: Some(1),
        ..advance(w.contact, 2, 72)
    };
    let err = domain(ops::log_interaction(&mut w.store, &sam, id, stale, at(2)).unwrap_err());
    assert_eq!(
        err,
        DomainError::Conflict {
            deal: id.0,
            expected: 1,
            actual: 2
        }
    );
    assert_eq!(ops::show_deal(&mut w.store, &sam, id).unwrap().interactions.len(), 1);
}

fn concurrent_writers_never_lose_an_update(db: &TestDb) {
    // Two connections (two app servers) read the same version; the second write loses.
    let mut w = world(db);
    let sam = w.sam.clone();
    let id = new_deal(&mut w, &sam, None, "Rollout", 25_000, 24);
    let mut other = Store::open(&db.location).unwrap();
    let seen = ops::show_deal(&mut other, &sam, id).unwrap().summary.version;
    ops::log_interaction(&mut w.store, &sam, id, advance(w.contact, 1, 48), at(1)).unwrap();
    let late = LogInteraction {
        expected_version: Some(seen),
        ..advance(w.contact, 1, 48)
    };
    assert!(matches!(
        domain(ops::log_interaction(&mut other, &sam, id, late, at(1)).unwrap_err()),
        DomainError::Conflict { .. }
    ));
}

/// Eight app-server threads, each with its own store, log interactions at once; every
/// third command carries a stale version and is refused. Each acknowledged command is
/// kept, each refused one leaves nothing, whatever else shared its commit; on SQLite the
/// concurrent commands did share commits.
fn concurrent_commands_share_commits_but_not_fates(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let deals: Vec<DealId> = (0..8)
        .map(|i| new_deal(&mut w, &sam, None, &format!("Deal {i}"), 1_000, 24))
        .collect();
    let before = w.store.write_stats();
    let contact = w.contact;
    let results: Vec<(usize, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = deals
            .iter()
            .map(|&id| {
                let (location, sam) = (db.location.clone(), sam.clone());
                scope.spawn(move || {
                    let mut store = Store::open(&location).unwrap();
                    let (mut kept, mut refused) = (0, 0);
                    for i in 0..30 {
                        let stale = i % 3 == 2;
                        let input = LogInteraction {
                            result: Outcome::Stayed,
                            expected_version: stale.then_some(1),
                            ..advance(contact, 1, 48)
                        };
                        match ops::log_interaction(&mut store, &sam, id, input, at(1)) {
                            Ok(_) => kept += 1,
                            Err(e) => {
                                assert!(stale, "a current command was refused: {e}");
                                assert!(matches!(domain(e), DomainError::Conflict { .. }));
                                refused += 1;
                            }
                        }
                    }
                    (kept, refused)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (&id, (kept, refused)) in deals.iter().zip(&results) {
        assert_eq!((*kept, *refused), (20, 10));
        let view = ops::show_deal(&mut w.store, &sam, id).unwrap();
        assert_eq!(view.interactions.len(), 20, "deal {id:?} lost or gained an interaction");
        assert_eq!(view.summary.version, 21);
    }
    assert_open_pipeline_is_exact(&mut w.store);
    if let (Some(before), Some(after)) = (before, w.store.write_stats()) {
        let (commands, commits) = (after.commands - before.commands, after.commits - before.commits);
        assert_eq!(commands, 160, "every kept command is counted once");
        assert!(
            commits < commands,
            "no commit was shared: {commits} commits for {commands} commands"
        );
    }
}

fn a_failed_write_rolls_back_the_whole_command(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let id = new_deal(&mut w, &sam, None, "Rollout", 25_000, 24);
    // Occupy the interaction slot the command will write, so its insert fails after the
    // deal row was already updated in the same transaction.
    w.store
        .write(|tx| {
            tx.exec(
                "INSERT INTO interactions (org_id, deal_id, seq, user_id, contact_id, kind, objective, result, commitment, notes, occurred_at, recorded_at) \
                 VALUES ($1, $2, 1, $3, NULL, 'call', 1, 'stayed', 'none', 'planted', 0, 0)",
                &[w.sam.org.id.0.into(), id.0.into(), w.sam.user.id.0.into()],
            )
        })
        .unwrap();
    let before = snapshot(&mut w, id);
    let err = ops::log_interaction(&mut w.store, &sam, id, advance(w.contact, 1, 48), at(1)).unwrap_err();
    assert!(matches!(err, StoreError::Database(_)), "{err}");
    assert_eq!(
        snapshot(&mut w, id),
        before,
        "the deal row, decision or next step survived a failed command"
    );
}

fn the_ledger_and_log_are_append_only_in_the_database(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let id = new_deal(&mut w, &sam, None, "Rollout", 25_000, 24);
    ops::log_interaction(&mut w.store, &sam, id, advance(w.contact, 1, 48), at(1)).unwrap();
    for sql in [
        "UPDATE decisions SET to_stage = 5",
        "DELETE FROM decisions",
        "UPDATE interactions SET notes = 'rewritten'",
        "DELETE FROM interactions",
    ] {
        let r = w.store.write(|tx| tx.exec(sql, &[]));
        let msg = r.expect_err(sql).to_string();
        assert!(msg.contains("append-only"), "{sql}: {msg}");
    }
    let view = ops::show_deal(&mut w.store, &sam, id).unwrap();
    assert_eq!(
        (view.decisions[0].to, view.interactions[0].notes.as_str()),
        (Step(1), "went well")
    );
}

fn each_role_sees_exactly_its_deals(db: &TestDb) {
    let mut w = world(db);
    let (sam, bob, admin) = (w.sam.clone(), w.bob.clone(), w.admin.clone());
    let sams = new_deal(&mut w, &sam, None, "Sam's", 1_000, 24);
    let sues = new_deal(&mut w, &admin, Some("sue@acme.test"), "Sue's", 2_000, 24);
    let bobs = new_deal(&mut w, &bob, None, "Bob's", 3_000, 24);
    let mut ids = |s: &Session| {
        let f = DealFilter {
            limit: 100,
            ..Default::default()
        };
        ops::list_deals(&mut w.store, s, &f)
            .unwrap()
            .iter()
            .map(|r| r.deal.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&w.sam.clone()), vec![sams]);
    assert_eq!(ids(&w.mia.clone()), vec![sams, sues]);
    assert_eq!(ids(&w.max.clone()), vec![bobs]);
    assert_eq!(ids(&w.admin.clone()), vec![sams, sues, bobs]);
    assert!(matches!(
        domain(ops::show_deal(&mut w.store, &bob, sams).unwrap_err()),
        DomainError::Forbidden(_)
    ));
    // A seller cannot create a deal for someone else; a manager can for their team only.
    let err = ops::create_deal(
        &mut w.store,
        &sam,
        ops::CreateDeal {
            owner: Some("bob@acme.test"),
            account: None,
            contact: None,
            title: "x",
            value: Money::new(1, Currency::USD),
            expected_close: None,
            first_step: FollowUp::Cadence,
        },
        at(0),
    )
    .unwrap_err();
    assert!(matches!(domain(err), DomainError::Forbidden(_)));
}

fn no_row_is_visible_across_orgs(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let id = new_deal(&mut w, &sam, None, "Acme's secret", 9_000, 24);
    let other = ops::create_org(
        &mut w.store,
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
    .unwrap();
    let all = DealFilter {
        limit: 100,
        ..Default::default()
    };
    assert!(ops::list_deals(&mut w.store, &other, &all).unwrap().is_empty());
    assert!(matches!(
        domain(ops::show_deal(&mut w.store, &other, id).unwrap_err()),
        DomainError::NotFound { .. }
    ));
    let err = ops::log_interaction(&mut w.store, &other, id, advance(w.contact, 1, 48), at(1)).unwrap_err();
    assert!(matches!(domain(err), DomainError::NotFound { .. }));
    // With two orgs, a session must name its org.
    assert_eq!(
        domain(ops::session(&mut w.store, None, None).unwrap_err()).field(),
        Some("org")
    );
    let acme = ops::session(&mut w.store, Some("Acme"), Some("ada@acme.test")).unwrap();
    assert_eq!(acme.user.name, "Ada Admin");
}

fn today_lists_due_steps_by_what_is_at_stake(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let small = new_deal(&mut w, &sam, None, "Small, overdue", 1_000, 2);
    let big = new_deal(&mut w, &sam, None, "Big, due today", 90_000, 6);
    let _later = new_deal(&mut w, &sam, None, "Next week", 500_000, 24 * 7);
    // The big deal's meeting advances it and sets a new step of another kind, due today.
    let mut met = advance(w.contact, 1, 5);
    met.ending = Some(Ending::Scheduled(FollowUp::At(NextStepInput {
        due: at(5).at,
        kind: InteractionKind::Email,
        aims_at: None,
        buyer_committed: false,
    })));
    ops::log_interaction(&mut w.store, &sam, big, met, at(1)).unwrap();
    let today = ops::today(&mut w.store, &sam, at(4), ops::TODAY_MAX).unwrap();
    let ids: Vec<DealId> = today.rows.iter().map(|r| DealId(r.id)).collect();
    assert_eq!(ids, vec![big, small]);
    assert_eq!(today.due, 2);
    // Today reads its rows from an index that copies the deal's columns: each must show
    // what the deal's own page shows, the moved step included.
    for row in &today.rows {
        assert_eq!(
            row,
            &ops::show_deal(&mut w.store, &sam, DealId(row.id)).unwrap().summary
        );
    }
    let step = today.rows[0].next_step.as_ref().unwrap();
    assert_eq!(
        (step.kind, step.aims_at.step, step.buyer_committed),
        (InteractionKind::Email, 2, false)
    );
    // A shorter list keeps the most at stake and still counts everything due.
    let top = ops::today(&mut w.store, &sam, at(4), 1).unwrap();
    assert_eq!(top.rows.iter().map(|r| DealId(r.id)).collect::<Vec<_>>(), vec![big]);
    assert_eq!(top.due, 2);
}

fn closing_and_disqualifying_clear_the_next_step(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let won = new_deal(&mut w, &sam, None, "Won", 1_000, 24);
    let lost = new_deal(&mut w, &sam, None, "Lost", 1_000, 24);
    let dq = new_deal(&mut w, &sam, None, "No need", 1_000, 24);
    let sold = LogInteraction {
        ending: Some(Ending::Sold),
        ..advance(w.contact, 7, 0)
    };
    ops::log_interaction(&mut w.store, &sam, won, sold, at(1)).unwrap();
    let no = LogInteraction {
        result: Outcome::Stayed,
        ending: Some(Ending::DefinitiveNo {
            category: LostCategory::Competitor,
            buyer_words: "We signed with Initech, because they were already in".into(),
        }),
        ..advance(w.contact, 1, 0)
    };
    ops::log_interaction(&mut w.store, &sam, lost, no, at(1)).unwrap();
    ops::disqualify(&mut w.store, &sam, dq, "no budget owner, no date", None, at(1)).unwrap();
    let open = DealFilter {
        status: Some(DealStatus::Open),
        limit: 100,
        ..Default::default()
    };
    assert!(ops::list_deals(&mut w.store, &sam, &open).unwrap().is_empty());
    let v = ops::show_deal(&mut w.store, &sam, won).unwrap();
    assert_eq!(
        (v.summary.status, v.summary.stage.step, v.summary.next_step.is_none()),
        (DealStatus::Won, 7, true)
    );
    let v = ops::show_deal(&mut w.store, &sam, lost).unwrap();
    assert_eq!(v.summary.lost_category, Some(LostCategory::Competitor));
    assert!(v.summary.close_reason.unwrap().contains("Initech"));
    let rows: i64 = w
        .store
        .read(|tx| {
            tx.query_one("SELECT COUNT(*) FROM next_steps", &[])
                .map(|r| r.unwrap().int(0).unwrap())
        })
        .unwrap();
    assert_eq!(rows, 0, "closed deals keep no next step");
}

fn need_goal_and_check_in_are_kept(db: &TestDb) {
    let mut w = world(db);
    let (sam, mia, bob) = (w.sam.clone(), w.mia.clone(), w.bob.clone());
    let id = new_deal(&mut w, &sam, None, "Rollout", 25_000, 24);
    let need = commands::NeedInput {
        kind: NeedKind::Threat,
        buyer_words: "The auditor fails us in March",
        consequence: "Fines",
        matters_by: "2026-09-30".parse().unwrap(),
        cost_per_month: Money::new(1_200_000, Currency::USD),
        expected_version: None,
    };
    ops::set_need(&mut w.store, &sam, id, need, at(1)).unwrap();
    let v = ops::show_deal(&mut w.store, &sam, id).unwrap();
    assert_eq!(v.need.unwrap().cost_per_month.minor, 1_200_000);

    let month = Month::parse("month", "2026-06").unwrap();
    let goal = Money::new(5_000_000, Currency::USD);
    ops::set_goal(&mut w.store, &mia, "sam@acme.test", month, goal, t0()).unwrap();
    ops::set_goal(
        &mut w.store,
        &mia,
        "sam@acme.test",
        month,
        Money::new(6_000_000, Currency::USD),
        t0(),
    )
    .unwrap();
    let err = ops::set_goal(&mut w.store, &mia, "bob@acme.test", month, goal, t0()).unwrap_err();
    assert!(matches!(domain(err), DomainError::Forbidden(_)));
    let goals: Vec<i64> = w
        .store
        .read(|tx| {
            Ok(tx
                .query("SELECT amount_minor FROM goals", &[])?
                .iter()
                .map(|r| r.int(0).unwrap())
                .collect())
        })
        .unwrap();
    assert_eq!(goals, vec![6_000_000], "setting a goal again replaces it");

    let bad = commands::CheckInInput {
        commitment: 11,
        why: "x",
        obstacle: None,
    };
    assert_eq!(
        domain(ops::check_in(&mut w.store, &bob, bad, at(0)).unwrap_err()).field(),
        Some("commitment")
    );
    let ok = commands::CheckInInput {
        commitment: 8,
        why: "My family's summer",
        obstacle: Some("Too few first meetings"),
    };
    assert_eq!(ops::check_in(&mut w.store, &bob, ok, at(0)).unwrap().commitment, 8);
}

fn user_rules_hold(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let admin = w.admin.clone();
    let err = ops::add_user(
        &mut w.store,
        &sam,
        ops::AddUser {
            email: "new@acme.test",
            name: "New",
            role: Role::Seller,
            manager: None,
            password_hash: None,
        },
        t0(),
    )
    .unwrap_err();
    assert!(matches!(domain(err), DomainError::Forbidden(_)));
    let err = ops::add_user(
        &mut w.store,
        &admin,
        ops::AddUser {
            email: "SAM@acme.test",
            name: "Dup",
            role: Role::Seller,
            manager: None,
            password_hash: None,
        },
        t0(),
    )
    .unwrap_err();
    assert_eq!(domain(err).field(), Some("email"));
    let err = ops::add_user(
        &mut w.store,
        &admin,
        ops::AddUser {
            email: "x@acme.test",
            name: "X",
            role: Role::Seller,
            manager: Some("sam@acme.test"),
            password_hash: None,
        },
        t0(),
    )
    .unwrap_err();
    assert_eq!(domain(err).field(), Some("manager"));
    assert_eq!(ops::users(&mut w.store, &admin).unwrap().len(), 6);
}

fn ladder_and_cadence_are_configurable(db: &TestDb) {
    let mut w = world(db);
    let admin = w.admin.clone();
    let sam = w.sam.clone();
    let names: Vec<String> = ["met", "agreed need", "trialled", "signed"].map(String::from).to_vec();
    ops::set_ladder(&mut w.store, &admin, names).unwrap();
    ops::set_cadence(&mut w.store, &admin, 3, 9, 10).unwrap();
    let s = ops::session(&mut w.store, None, Some("sam@acme.test")).unwrap();
    assert_eq!(s.org.ladder.top(), Step(4));
    assert_eq!(s.org.cadence, Cadence::new(3, 9, 10).unwrap());
    assert!(matches!(
        domain(ops::set_cadence(&mut w.store, &sam, 1, 1, 1).unwrap_err()),
        DomainError::Forbidden(_)
    ));
    let id = new_deal(&mut w, &s, None, "On the new ladder", 100, 24);
    let cadence_step = LogInteraction {
        result: Outcome::Stayed,
        ending: Some(Ending::Scheduled(FollowUp::Cadence)),
        ..advance(w.contact, 1, 0)
    };
    let c = ops::log_interaction(&mut w.store, &s, id, cadence_step, at(1)).unwrap();
    let next = c.deal.next_step().unwrap();
    assert_eq!((next.due, next.buyer_committed), (at(1 + 3 * 24).at, false));
}

fn reassigning_moves_the_deal_to_the_new_owner(db: &TestDb) {
    let mut w = world(db);
    let (sam, mia, admin) = (w.sam.clone(), w.mia.clone(), w.admin.clone());
    let id = new_deal(&mut w, &sam, None, "Handover", 1_000, 24);
    let err = ops::reassign(&mut w.store, &mia, id, "bob@acme.test", None).unwrap_err();
    assert!(
        matches!(domain(err), DomainError::Forbidden(_)),
        "a manager hands deals only within the team"
    );
    ops::reassign(&mut w.store, &mia, id, "sue@acme.test", None).unwrap();
    ops::reassign(&mut w.store, &admin, id, "bob@acme.test", Some(2)).unwrap();
    let v = ops::show_deal(&mut w.store, &admin, id).unwrap();
    assert_eq!(
        (v.summary.owner_email.as_str(), v.summary.version),
        ("bob@acme.test", 3)
    );
}

fn the_ladder_keeps_every_step_a_deal_or_its_next_step_names(db: &TestDb) {
    let mut w = world(db);
    let (admin, sam) = (w.admin.clone(), w.sam.clone());
    let id = new_deal(&mut w, &sam, None, "Aims high", 1_000, 24);
    let aim_at_five = NextStepInput {
        due: at(48).at,
        kind: InteractionKind::Call,
        aims_at: Some(Step(5)),
        buyer_committed: true,
    };
    ops::reschedule(&mut w.store, &sam, id, aim_at_five, None, at(1)).unwrap();
    let four: Vec<String> = ["met", "agreed need", "trialled", "signed"].map(String::from).to_vec();
    let err = domain(ops::set_ladder(&mut w.store, &admin, four).unwrap_err());
    assert_eq!(err.field(), Some("ladder"), "{err}");
    let s = ops::session(&mut w.store, None, Some("sam@acme.test")).unwrap();
    assert_eq!(s.org.ladder.top(), Step(7), "a refused ladder change wrote nothing");
}

fn an_admin_moves_sellers_between_teams_and_locks_users_out(db: &TestDb) {
    let mut w = world(db);
    let (admin, sam, mia, max) = (w.admin.clone(), w.sam.clone(), w.mia.clone(), w.max.clone());
    let id = new_deal(&mut w, &sam, None, "Moves teams", 1_000, 24);
    let sees = |w: &mut World, s: &Session| ops::show_deal(&mut w.store, s, id).is_ok();
    assert!(sees(&mut w, &mia) && !sees(&mut w, &max));
    ops::edit_user(
        &mut w.store,
        &admin,
        "sam@acme.test",
        Role::Seller,
        Some("max@acme.test"),
        true,
    )
    .unwrap();
    assert!(
        !sees(&mut w, &mia) && sees(&mut w, &max),
        "the deal follows its owner's team"
    );

    ops::edit_user(&mut w.store, &admin, "bob@acme.test", Role::Seller, None, false).unwrap();
    assert_eq!(
        domain(ops::session(&mut w.store, None, Some("bob@acme.test")).unwrap_err()).field(),
        Some("as")
    );

    let err = ops::edit_user(&mut w.store, &admin, "ada@acme.test", Role::Manager, None, true).unwrap_err();
    assert_eq!(domain(err).field(), Some("role"), "an admin cannot demote themselves");
    let err = ops::edit_user(&mut w.store, &admin, "mia@acme.test", Role::Seller, None, true).unwrap_err();
    assert!(domain(err).to_string().contains("still has a team"));
    let err = ops::edit_user(&mut w.store, &sam, "sue@acme.test", Role::Admin, None, true).unwrap_err();
    assert!(matches!(domain(err), DomainError::Forbidden(_)));
    let err = ops::edit_user(
        &mut w.store,
        &admin,
        "sue@acme.test",
        Role::Seller,
        Some("sam@acme.test"),
        true,
    )
    .unwrap_err();
    assert_eq!(domain(err).field(), Some("manager"));
}

/// `Store::reading` (the web server's reads on its async threads) refuses a write and
/// writes nothing, still reads, and leaves the store writing again afterwards.
fn a_write_inside_reading_is_refused(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let id = new_deal(&mut w, &sam, None, "Rollout", 25_000, 24);
    let input = advance(w.contact, 1, 48);
    let err = w
        .store
        .reading(|store| ops::log_interaction(store, &sam, id, input, at(1)))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt(m) if m.contains("Store::reading")),
        "{err:?}"
    );
    let view = w.store.reading(|store| ops::show_deal(store, &sam, id)).unwrap();
    assert_eq!((view.summary.version, view.interactions.len()), (1, 0));
    let input = advance(w.contact, 1, 48);
    let change = ops::log_interaction(&mut w.store, &sam, id, input, at(1)).unwrap();
    assert_eq!(change.deal.version, 2);
}

both_backends!(
    a_write_inside_reading_is_refused,
    an_admin_moves_sellers_between_teams_and_locks_users_out,
    the_ladder_keeps_every_step_a_deal_or_its_next_step_names,
    a_logged_interaction_moves_the_deal_and_is_kept,
    refused_commands_write_nothing,
    a_stale_version_is_a_conflict,
    concurrent_writers_never_lose_an_update,
    concurrent_commands_share_commits_but_not_fates,
    a_failed_write_rolls_back_the_whole_command,
    the_ledger_and_log_are_append_only_in_the_database,
    each_role_sees_exactly_its_deals,
    no_row_is_visible_across_orgs,
    today_lists_due_steps_by_what_is_at_stake,
    closing_and_disqualifying_clear_the_next_step,
    need_goal_and_check_in_are_kept,
    user_rules_hold,
    ladder_and_cadence_are_configurable,
    reassigning_moves_the_deal_to_the_new_owner,
);
