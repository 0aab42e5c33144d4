//! The pipeline, on SQLite and PostgreSQL: the `open_pipeline` summary stays exactly the
//! open deals summed (after commands, after the bulk demo load, after migrating existing
//! data), the pipeline honours visibility and filters, and open deals carry their
//! cholesterol flags.

use jiff::SignedDuration;
use momentum_core::cholesterol::Flag;
use momentum_core::commands::{self, Closing, Ending, FollowUp, LogInteraction, NextStepInput};
use momentum_core::model::*;
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::*;
use momentum_core::DomainError;
use momentum_store::bulk::BulkWriter;
use momentum_store::ops::{self, Session};
use momentum_store::pipeline::{self, PipelineFilter, PipelineStep};
use momentum_store::{Backend, Store};
use momentum_testkit::{both_backends, TestDb};

mod common;
use common::*;

/// A small deterministic generator (an LCG), so a failure replays exactly.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn create(w: &mut World, owner: &str, currency: Currency, minor: i64, due: Now, committed: bool) -> DealId {
    let admin = w.admin.clone();
    ops::create_deal(
        &mut w.store,
        &admin,
        ops::CreateDeal {
            owner: Some(owner),
            account: Some(w.account),
            contact: Some(w.contact),
            title: "Generated",
            value: Money::new(minor, currency),
            expected_close: None,
            first_step: FollowUp::At(NextStepInput {
                due: due.at,
                kind: InteractionKind::Call,
                aims_at: None,
                buyer_committed: committed,
            }),
        },
        at(0),
    )
    .unwrap()
    .deal
    .id
}

fn open_pipeline_stays_exact_through_random_commands(db: &TestDb) {
    let mut w = world(db);
    let admin = w.admin.clone();
    let owners = ["sam@acme.test", "sue@acme.test", "bob@acme.test"];
    let mut dice = Dice(if db.backend == "postgres" { 11 } else { 7 });
    let mut deals: Vec<DealId> = Vec::new();
    let mut hours = 1;
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..200 {
        hours += 1 + dice.roll(12) as i64;
        let now = at(hours);
        let later = |h: i64| now.at + SignedDuration::from_hours(h);
        let pick = dice.roll(20);
        if pick < 4 || deals.is_empty() {
            let owner = owners[dice.roll(3) as usize];
            let currency = if dice.roll(3) == 0 {
                Currency::EUR
            } else {
                Currency::USD
            };
            let minor = dice.roll(50) as i64 * 10_000;
            let id = ops::create_deal(
                &mut w.store,
                &admin,
                ops::CreateDeal {
                    owner: Some(owner),
                    account: Some(w.account),
                    contact: Some(w.contact),
                    title: "Generated",
                    value: Money::new(minor, currency),
                    expected_close: None,
                    first_step: FollowUp::Cadence,
                },
                now,
            )
            .unwrap()
            .deal
            .id;
            deals.push(id);
            assert_open_pipeline_is_exact(&mut w.store);
            continue;
        }
        let id = deals[dice.roll(deals.len() as u64) as usize];
        let scheduled = Ending::Scheduled(FollowUp::At(NextStepInput {
            due: later(48),
            kind: InteractionKind::Meeting,
            aims_at: None,
            buyer_committed: dice.roll(2) == 0,
        }));
        let log = |result, objective: Option<Step>, ending| LogInteraction {
            kind: InteractionKind::Meeting,
            contact: Some(w.contact),
            objective,
            result,
            reached: None,
            ending: Some(ending),
            notes: String::new(),
            occurred_at: None,
            expected_version: None,
        };
        let result = match pick {
            4..=8 => ops::log_interaction(&mut w.store, &admin, id, log(Outcome::Advanced, None, scheduled), now),
            9 | 10 => ops::log_interaction(&mut w.store, &admin, id, log(Outcome::Back, None, scheduled), now),
            11 | 12 => {
                let input = commands::RecordDecision {
                    contact: Some(w.contact),
                    to: Step(dice.roll(7) as u8),
                    decided_at: None,
                    note: None,
                    expected_version: None,
                };
                ops::record_decision(&mut w.store, &admin, id, input, now)
            }
            13 => ops::close(
                &mut w.store,
                &admin,
                id,
                Closing::Won {
                    contact: Some(w.contact),
                },
                None,
                now,
            ),
            14 => {
                let closing = Closing::Lost {
                    category: LostCategory::Price,
                    buyer_words: "Too dear, because of the tariff".into(),
                };
                ops::close(&mut w.store, &admin, id, closing, None, now)
            }
            15 => ops::disqualify(&mut w.store, &admin, id, "no compelling need", None, now),
            _ => ops::reassign(&mut w.store, &admin, id, owners[dice.roll(3) as usize], None),
        };
        match result {
            Ok(_) => ok += 1,
            Err(_) => refused += 1,
        }
        assert_open_pipeline_is_exact(&mut w.store);
    }
    assert!(ok > 60 && refused > 5, "{ok} went through, {refused} were refused");
    let (summary, _) = open_pipeline_and_fresh_count(&mut w.store);
    assert!(summary.len() > 3, "{summary:?}");
    assert_summaries_exact(&mut w.store);
}

fn demo_store(db: &TestDb) -> Store {
    let mut store = Store::open(&db.location).unwrap();
    let config = momentum_demo::DemoConfig {
        seed: 42,
        scale: momentum_demo::Scale::Small,
        today: "2026-06-01".parse().unwrap(),
    };
    let mut writer = BulkWriter::new(&mut store, "not a real hash".into());
    momentum_demo::generate(&config, &mut writer).unwrap();
    writer.finish().unwrap();
    store
}

fn open_pipeline_is_exact_after_the_bulk_demo_load(db: &TestDb) {
    let mut store = demo_store(db);
    let (summary, fresh) = open_pipeline_and_fresh_count(&mut store);
    assert!(fresh.len() > 20, "the demo has open deals on many steps: {fresh:?}");
    assert_eq!(summary, fresh);
    // The pipeline page reads it: the admin sees every open deal.
    let admin = ops::session(&mut store, None, None).unwrap();
    let steps = pipeline::pipeline(&mut store, &admin, PipelineFilter::default()).unwrap();
    let open: i64 = fresh.iter().map(|r| r.4).sum();
    assert_eq!(steps.iter().map(|s| s.deals).sum::<i64>(), open);
    // And commands after the load keep it exact.
    let deal = ops::list_deals(
        &mut store,
        &admin,
        &ops::DealFilter {
            status: Some(DealStatus::Open),
            limit: 1,
            ..Default::default()
        },
    )
    .unwrap()
    .remove(0);
    let now = ops::clock(&admin.org, jiff::Timestamp::now());
    ops::disqualify(&mut store, &admin, deal.deal.id, "no compelling need", None, now).unwrap();
    assert_open_pipeline_is_exact(&mut store);
}

/// Undoes migration 0002 by hand, so reopening the store applies it to existing deals.
fn unapply_migration_2(store: &mut Store) {
    let backend = store.backend();
    let mut sql = vec![
        "DROP TABLE sessions",
        "DROP TABLE api_tokens",
        "DROP TABLE sign_in_failures",
        "DROP TABLE open_pipeline",
        "DROP INDEX deals_by_account",
        "DROP INDEX deals_by_status",
        "CREATE INDEX deals_by_status ON deals (org_id, status, stage)",
        "DELETE FROM schema_migrations WHERE version = 2",
    ];
    sql.push(match backend {
        Backend::Sqlite => "DELETE FROM id_counters WHERE kind = 'api_token_ids'",
        Backend::Postgres => "DROP SEQUENCE api_token_ids",
    });
    store
        .write(|tx| {
            for s in &sql {
                tx.exec(s, &[])?;
            }
            Ok(())
        })
        .unwrap();
}

fn migration_2_fills_the_open_pipeline_from_existing_deals(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let bob = w.bob.clone();
    new_deal(&mut w, &sam, None, "One", 1_000, 24);
    let two = new_deal(&mut w, &sam, None, "Two", 2_000, 24);
    new_deal(&mut w, &bob, None, "Three", 3_000, 24);
    ops::log_interaction(&mut w.store, &sam, two, advance(w.contact, 1, 48), at(1)).unwrap();
    let (before, _) = open_pipeline_and_fresh_count(&mut w.store);
    unapply_migration_2(&mut w.store);
    drop(w);
    let mut store = Store::open(&db.location).unwrap();
    let (after, fresh) = open_pipeline_and_fresh_count(&mut store);
    assert_eq!(after, fresh);
    assert_eq!(after, before);
    assert_eq!(after.len(), 3, "{after:?}");
}

fn totals(steps: &[PipelineStep]) -> (i64, Vec<(String, i64)>) {
    let mut value: std::collections::BTreeMap<String, i64> = Default::default();
    for s in steps {
        for m in &s.value {
            *value.entry(m.currency.code().to_owned()).or_default() += m.minor;
        }
    }
    (steps.iter().map(|s| s.deals).sum(), value.into_iter().collect())
}

fn usd(dollars: i64) -> (String, i64) {
    ("USD".to_owned(), dollars * 100)
}

fn the_pipeline_honours_visibility_and_filters(db: &TestDb) {
    let mut w = world(db);
    let (sam, mia, max, bob, admin) = (
        w.sam.clone(),
        w.mia.clone(),
        w.max.clone(),
        w.bob.clone(),
        w.admin.clone(),
    );
    let sams = new_deal(&mut w, &sam, None, "Sam's", 1_000, 24);
    create(&mut w, "sam@acme.test", Currency::EUR, 50_000, at(24), true);
    new_deal(&mut w, &admin, Some("sue@acme.test"), "Sue's", 2_000, 24);
    new_deal(&mut w, &bob, None, "Bob's", 3_000, 24);
    new_deal(&mut w, &mia, None, "Mia's own", 4_000, 24);
    let won = new_deal(&mut w, &sam, None, "Won", 9_000, 24);
    let sold = LogInteraction {
        ending: Some(Ending::Sold),
        ..advance(w.contact, 7, 0)
    };
    ops::log_interaction(&mut w.store, &sam, won, sold, at(1)).unwrap();
    ops::log_interaction(&mut w.store, &sam, sams, advance(w.contact, 2, 48), at(1)).unwrap();

    let all = PipelineFilter::default();
    let steps = pipeline::pipeline(&mut w.store, &sam, all).unwrap();
    assert_eq!(steps.len(), 8, "steps 0 to the top");
    assert_eq!(
        (steps[0].step.step, steps[0].step.name.as_str()),
        (0, "no decision yet")
    );
    assert_eq!((steps[2].step.step, steps[2].deals), (2, 1));
    assert_eq!(steps[2].value, vec![Money::new(100_000, Currency::USD)]);
    assert_eq!(
        steps[0].value,
        vec![Money::new(50_000, Currency::EUR)],
        "one amount per currency"
    );
    assert_eq!(totals(&steps), (2, vec![("EUR".to_owned(), 50_000), usd(1_000)]));
    assert_eq!(steps[7].deals, 0, "won deals are not in the pipeline");

    // Every view through the page's one call too: the same steps and deals as the two
    // calls of the API, or the same refusal.
    let p = |w: &mut World, s: &Session, owner: Option<&str>, team: Option<&str>| {
        let filter = PipelineFilter { owner, team };
        let now = at(1);
        let steps = pipeline::pipeline(&mut w.store, s, filter);
        let deals = pipeline::pipeline_deals(&mut w.store, s, filter, None, None, 100, now, 30);
        let both = pipeline::pipeline_with_deals(&mut w.store, s, filter, None, None, 100, now, 30);
        match (&steps, &deals, both) {
            (Ok(steps), Ok(deals), Ok(both)) => assert_eq!((steps, deals), (&both.0, &both.1)),
            (Err(a), Err(b), Err(c)) => assert_eq!([b.to_string(), c.to_string()], [a.to_string(), a.to_string()]),
            (steps, deals, both) => panic!("the calls disagree: {steps:?} / {deals:?} / {both:?}"),
        }
        steps.map(|steps| totals(&steps))
    };
    let eur = ("EUR".to_owned(), 50_000);
    assert_eq!(p(&mut w, &mia, None, None).unwrap(), (4, vec![eur.clone(), usd(7_000)]));
    assert_eq!(p(&mut w, &max, None, None).unwrap(), (1, vec![usd(3_000)]));
    assert_eq!(
        p(&mut w, &admin, None, None).unwrap(),
        (5, vec![eur.clone(), usd(10_000)])
    );
    assert_eq!(
        p(&mut w, &mia, Some("sue@acme.test"), None).unwrap(),
        (1, vec![usd(2_000)])
    );
    assert_eq!(
        p(&mut w, &mia, None, Some("mia@acme.test")).unwrap(),
        p(&mut w, &mia, None, None).unwrap()
    );
    assert_eq!(
        p(&mut w, &admin, None, Some("max@acme.test")).unwrap(),
        (1, vec![usd(3_000)])
    );
    assert_eq!(
        p(&mut w, &admin, Some("sam@acme.test"), Some("mia@acme.test")).unwrap(),
        (2, vec![eur, usd(1_000)])
    );
    assert_eq!(
        p(&mut w, &admin, Some("bob@acme.test"), Some("mia@acme.test")).unwrap(),
        (0, vec![])
    );
    assert_eq!(p(&mut w, &sam, Some("sam@acme.test"), None).unwrap().0, 2);

    for (who, owner, team) in [
        (&sam, Some("sue@acme.test"), None),
        (&sam, None, Some("mia@acme.test")),
        (&mia, Some("bob@acme.test"), None),
        (&mia, None, Some("max@acme.test")),
        (&bob, Some("ada@acme.test"), None),
    ] {
        let err = p(&mut w, who, owner, team).unwrap_err();
        assert!(
            matches!(domain(err), DomainError::Forbidden(_)),
            "{} asking for {owner:?} / {team:?}",
            who.user.email
        );
    }
    assert_eq!(
        domain(p(&mut w, &admin, None, Some("sam@acme.test")).unwrap_err()).field(),
        Some("team")
    );
    assert_eq!(
        domain(p(&mut w, &admin, Some("nobody@acme.test"), None).unwrap_err()).field(),
        Some("owner")
    );
    // Another org's pipeline is empty, even for the same e-mail.
    let initech = other_org(&mut w.store);
    assert_eq!(p(&mut w, &initech, None, None).unwrap(), (0, vec![]));
}

fn pipeline_deals_carry_their_cholesterol_flags(db: &TestDb) {
    let mut w = world(db);
    let (sam, mia, bob) = (w.sam.clone(), w.mia.clone(), w.bob.clone());
    // Healthy: a need, a buyer-committed step well ahead.
    let healthy = create(&mut w, "sam@acme.test", Currency::USD, 100_000, at(24 * 60), true);
    let need = commands::NeedInput {
        kind: NeedKind::Problem,
        buyer_words: "We lose three orders a week",
        consequence: "Churn to a rival",
        matters_by: "2026-12-01".parse().unwrap(),
        cost_per_month: Money::new(500_000, Currency::USD),
        expected_version: None,
    };
    ops::set_need(&mut w.store, &sam, healthy, need, at(1)).unwrap();
    ops::log_interaction(&mut w.store, &sam, healthy, advance(w.contact, 1, 24 * 60), at(24 * 20)).unwrap();
    // Wishful: no need, no date, the seller's own step, overdue by "now".
    let wishful = create(&mut w, "sam@acme.test", Currency::USD, 100, at(24), false);
    let bobs = create(&mut w, "bob@acme.test", Currency::USD, 100, at(24), false);

    let now = at(24 * 40);
    let list = |w: &mut World, s: &Session, stage, after, limit| {
        pipeline::pipeline_deals(&mut w.store, s, PipelineFilter::default(), stage, after, limit, now, 30).unwrap()
    };
    let rows = list(&mut w, &sam, None, None, 100);
    assert_eq!(
        rows.iter().map(|r| r.deal.id).collect::<Vec<_>>(),
        vec![healthy.0, wishful.0]
    );
    assert_eq!(rows[0].flags, vec![], "a decision 20 days ago is not stale at 30");
    assert_eq!(
        rows[1].flags,
        vec![
            Flag::NoNeed,
            Flag::NoDate,
            Flag::Stale { days: 40 },
            Flag::SellerScheduledOnly,
            Flag::Overdue
        ]
    );
    let json = serde_json::to_value(&rows[1]).unwrap();
    assert_eq!(
        json["flags"],
        serde_json::json!(["no_need", "no_date", {"stale": {"days": 40}}, "seller_scheduled_only", "overdue"])
    );
    assert_eq!(json["deal"]["id"], wishful.0);

    // By stage, and a page at a time.
    let on = |w: &mut World, step| list(w, &sam, Some(Step(step)), None, 100).len();
    assert_eq!((on(&mut w, 0), on(&mut w, 1), on(&mut w, 2)), (1, 1, 0));
    let first = list(&mut w, &sam, None, None, 1);
    let second = list(&mut w, &sam, None, Some(DealId(first[0].deal.id)), 1);
    let third = list(&mut w, &sam, None, Some(DealId(second[0].deal.id)), 1);
    assert_eq!(
        (first[0].deal.id, second[0].deal.id, third.len()),
        (healthy.0, wishful.0, 0)
    );

    // Visibility and filters, as for the pipeline.
    assert_eq!(
        list(&mut w, &bob, None, None, 100)
            .iter()
            .map(|r| r.deal.id)
            .collect::<Vec<_>>(),
        vec![bobs.0]
    );
    assert_eq!(list(&mut w, &mia, None, None, 100).len(), 2);
    let only_bob = PipelineFilter {
        owner: Some("bob@acme.test"),
        team: None,
    };
    let err = pipeline::pipeline_deals(&mut w.store, &mia, only_bob, None, None, 10, now, 30).unwrap_err();
    assert!(matches!(domain(err), DomainError::Forbidden(_)));
    let admin = w.admin.clone();
    let rows = pipeline::pipeline_deals(&mut w.store, &admin, only_bob, None, None, 10, now, 30).unwrap();
    assert_eq!(rows.iter().map(|r| r.deal.id).collect::<Vec<_>>(), vec![bobs.0]);
    // Closed deals are not listed.
    ops::disqualify(&mut w.store, &sam, wishful, "no compelling need", None, at(24 * 41)).unwrap();
    assert_eq!(list(&mut w, &sam, None, None, 100).len(), 1);
}

both_backends!(
    open_pipeline_stays_exact_through_random_commands,
    open_pipeline_is_exact_after_the_bulk_demo_load,
    migration_2_fills_the_open_pipeline_from_existing_deals,
    the_pipeline_honours_visibility_and_filters,
    pipeline_deals_carry_their_cholesterol_flags,
);
