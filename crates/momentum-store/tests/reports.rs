//! The coaching reports on SQLite and PostgreSQL: a small history whose every figure is
//! worked out by hand below, the reports' visibility rules, and the demo's planted truths
//! found by the reports (early give-up, no compelling need, asking too early).
//!
//! The history (t0 = Monday 2026-06-01 10:00 UTC; the reports run on day 70, 2026-08-10):
//! - A: Sam, $1,000, won on day 63 (Aug 3): 63 days to close, peak step 7.
//! - B: Sam, $2,000, lost on day 20: peak step 0.
//! - C: Bob, $4,000, won on day 30 (Jul 1): 30 days to close.
//! - D: Bob, $500, no need: three unanswered follow-ups on days 1-3 (Jun 2-4), then
//!   silence; its cadence step lapsed in June. Dark: 3 follow-ups into silence, step 0,
//!   last touched on the 4th.
//! - E: Sam, $3,000, need dated Aug 25, a buyer-committed meeting on Aug 20: August commit.
//! - F: Sam, $100, no need: advanced to step 2 on day 0, then Sam asked for the signature
//!   (stage 2 < the decision process) and the buyer went back to step 1; next meeting
//!   Aug 30, buyer-committed.
//!
//! Sam's goals: $10,000 for August, $8,000 for September; Sam checks in at 8/10 on day 70.

use jiff::civil::date;
use momentum_core::commands::{self, Closing, Ending, FollowUp, LogInteraction, NextStepInput};
use momentum_core::model::*;
use momentum_core::money::{Currency, Money};
use momentum_core::reports::*;
use momentum_core::vocab::*;
use momentum_core::DomainError;
use momentum_store::bulk::BulkWriter;
use momentum_store::ops::{self, Session};
use momentum_store::reports;
use momentum_store::Store;
use momentum_testkit::{both_backends, TestDb};
use serde_json::json;

mod common;
use common::*;

const DAY: i64 = 24;

fn today() -> Now {
    at(70 * DAY)
}

fn deal(w: &mut World, owner: &str, title: &str, dollars: i64, first: FollowUp) -> DealId {
    let admin = w.admin.clone();
    ops::create_deal(
        &mut w.store,
        &admin,
        ops::CreateDeal {
            owner: Some(owner),
            account: Some(w.account),
            contact: Some(w.contact),
            title,
            value: Money::new(dollars * 100, Currency::USD),
            expected_close: None,
            first_step: first,
        },
        at(0),
    )
    .unwrap()
    .deal
    .id
}

fn committed(hours: i64) -> FollowUp {
    FollowUp::At(NextStepInput {
        due: at(hours).at,
        kind: InteractionKind::Meeting,
        aims_at: None,
        buyer_committed: true,
    })
}

fn log(contact: ContactId, objective: u8, result: Outcome, reached: Option<u8>, ending: Ending) -> LogInteraction {
    LogInteraction {
        kind: InteractionKind::Call,
        contact: Some(contact),
        objective: Some(Step(objective)),
        result,
        reached: reached.map(Step),
        ending: Some(ending),
        notes: String::new(),
        occurred_at: None,
        expected_version: None,
    }
}

struct History {
    w: World,
}

fn history(db: &TestDb) -> History {
    let mut w = world(db);
    let (admin, sam, bob) = (w.admin.clone(), w.sam.clone(), w.bob.clone());
    let c = w.contact;
    let a = deal(&mut w, "sam@acme.test", "A", 1_000, committed(5 * DAY));
    let b = deal(&mut w, "sam@acme.test", "B", 2_000, committed(5 * DAY));
    let cc = deal(&mut w, "bob@acme.test", "C", 4_000, committed(5 * DAY));
    let d = deal(&mut w, "bob@acme.test", "D", 500, FollowUp::Cadence);
    let e = deal(&mut w, "sam@acme.test", "E", 3_000, committed(80 * DAY));
    let f = deal(&mut w, "sam@acme.test", "F", 100, committed(5 * DAY));
    let s = &mut w.store;
    let won = Closing::Won { contact: Some(c) };
    ops::close(s, &sam, a, won.clone(), None, at(63 * DAY)).unwrap();
    let no = Closing::Lost {
        category: LostCategory::Price,
        buyer_words: "Too expensive for us this year".into(),
    };
    ops::close(s, &sam, b, no, None, at(20 * DAY)).unwrap();
    ops::close(s, &bob, cc, won, None, at(30 * DAY)).unwrap();
    for day in 1..=3 {
        let silence = log(c, 1, Outcome::Stayed, None, Ending::Scheduled(FollowUp::Cadence));
        ops::log_interaction(s, &bob, d, silence, at(day * DAY)).unwrap();
    }
    let need = commands::NeedInput {
        kind: NeedKind::Problem,
        buyer_words: "Our audit fails in September",
        consequence: "A fine",
        matters_by: date(2026, 8, 25),
        cost_per_month: Money::new(1_000_000, Currency::USD),
        expected_version: None,
    };
    ops::set_need(s, &sam, e, need, at(1)).unwrap();
    let up = log(c, 1, Outcome::Advanced, Some(2), Ending::Scheduled(committed(6 * DAY)));
    ops::log_interaction(s, &sam, f, up, at(2)).unwrap();
    let early = log(c, 7, Outcome::Back, Some(1), Ending::Scheduled(committed(90 * DAY)));
    ops::log_interaction(s, &sam, f, early, at(5)).unwrap();
    for (month, dollars) in [
        (Month { year: 2026, month: 8 }, 10_000),
        (Month { year: 2026, month: 9 }, 8_000),
    ] {
        let amount = Money::new(dollars * 100, Currency::USD);
        ops::set_goal(s, &admin, "sam@acme.test", month, amount, t0()).unwrap();
    }
    let check = commands::CheckInInput {
        commitment: 8,
        why: "Two big meetings booked",
        obstacle: None,
    };
    ops::check_in(s, &sam, check, today()).unwrap();
    assert_summaries_exact(&mut w.store);
    History { w }
}

fn run(h: &mut History, who: &Session, name: ReportName, req: ReportRequest<'_>) -> serde_json::Value {
    let r = reports::report(&mut h.w.store, who, name, &req, 21, today()).unwrap();
    serde_json::to_value(r).unwrap()
}

fn admin_report(h: &mut History, name: ReportName) -> serde_json::Value {
    let admin = h.w.admin.clone();
    run(h, &admin, name, ReportRequest::default())
}

/// The row of `rows` whose `key` is `value`.
fn row<'a>(rows: &'a serde_json::Value, key: &str, value: &str) -> &'a serde_json::Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row with {key} = {value} in {rows}"))
}

fn summary_counts_the_history_by_hand(db: &TestDb) {
    let mut h = history(db);
    assert_eq!(
        admin_report(&mut h, ReportName::Summary),
        json!({
            "deals": 6,
            "by_status": { "open": 3, "won": 2, "lost": 1, "disqualified": 0 },
            "win_rate": 0.6667,
            "won_value": 5000.0,
            "won_days_to_close": { "median": 46.5, "mean": 46.5 },
            "won_value_by_owner": [
                { "owner": "Bob Seller", "value": 4000.0 },
                { "owner": "Sam Seller", "value": 1000.0 },
            ],
        })
    );
    // A window over creation dates that holds none of them.
    let admin = h.w.admin.clone();
    let later = ReportRequest {
        from: Some("2026-07-01"),
        ..Default::default()
    };
    assert_eq!(run(&mut h, &admin, ReportName::Summary, later)["deals"], 0);
}

fn month_gap_sums_goal_won_commit_and_the_weighted_pipeline(db: &TestDb) {
    let mut h = history(db);
    let admin = h.w.admin.clone();
    let august = ReportRequest {
        month: Some("2026-08"),
        ..Default::default()
    };
    let r = run(&mut h, &admin, ReportName::MonthGap, august);
    let sam = row(&r["sellers"], "name", "Sam Seller");
    // Step-to-win rates: 3 closed deals reached step 0, 2 won (0.6667); steps 1-6: 2 of 2.
    // Sam's open value: E $3,000 at step 0, F $100 at step 1.
    assert_eq!(
        sam,
        &json!({
            "id": h.w.sam.user.id.0, "name": "Sam Seller", "goal": 10000.0, "won": 1000.0, "commit": 3000.0,
            "commit_deals": 1, "best_case": 4000.0, "weighted_pipeline": 2100.1, "gap": 9000.0,
            "gap_after_commit": 6000.0,
        })
    );
    let bob = row(&r["sellers"], "name", "Bob Seller");
    assert_eq!(bob["goal"], serde_json::Value::Null);
    assert_eq!(bob["won"], 0.0, "Bob's win was in July");
    assert_eq!(bob["weighted_pipeline"], 333.35);
    let mia_team = row(&r["teams"], "name", "Mia Manager's team");
    assert_eq!(
        (mia_team["goal"].clone(), mia_team["won"].clone()),
        (json!(10000.0), json!(1000.0))
    );
    // The burn-up runs to today, the 10th; A was won on the 3rd.
    let burn = r["burn_up"].as_array().unwrap();
    assert_eq!(burn.len(), 10);
    assert_eq!(burn[1]["won_to_date"], 0.0);
    assert_eq!(burn[2]["won_to_date"], 1000.0);
    assert_eq!(burn[9]["won_plus_commit"], 4000.0);
}

fn cholesterol_finds_the_wishful_value(db: &TestDb) {
    let mut h = history(db);
    let r = admin_report(&mut h, ReportName::Cholesterol);
    let sam = row(&r["sellers"], "seller", "Sam Seller");
    assert_eq!(
        (sam["open_deals"].clone(), sam["open_value"].clone()),
        (json!(2), json!(3100.0))
    );
    assert_eq!(sam["no_need"]["value"], 100.0, "F has no need");
    assert_eq!(sam["no_date"]["value"], 100.0);
    // E has had no buyer decision since it was created, F none since day 0: both stale.
    assert_eq!(sam["stale"]["value"], 3100.0);
    assert_eq!(sam["seller_scheduled_only"]["deals"], 0);
    assert_eq!(sam["overdue"]["deals"], 0);
    let bob = row(&r["sellers"], "seller", "Bob Seller");
    for flag in ["no_need", "no_date", "stale", "seller_scheduled_only", "overdue"] {
        assert_eq!(bob[flag]["value"], 500.0, "{flag}");
        assert_eq!(bob[flag]["share_of_value"], 1.0, "{flag}");
    }
    let list: Vec<&str> = r["to_disqualify_or_requalify"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    assert_eq!(list, ["D", "F"], "no-need deals, largest first");
}

fn give_up_counts_follow_ups_into_silence(db: &TestDb) {
    let mut h = history(db);
    let r = admin_report(&mut h, ReportName::GiveUp);
    assert_eq!(r["dark_after_days"], 28);
    let bob = row(&r["sellers"], "seller", "Bob Seller");
    assert_eq!(bob["deals"], 2);
    assert_eq!(bob["dark_deals"], 1);
    assert_eq!(bob["followups_into_silence"], json!({ "median": 3.0, "mean": 3.0 }));
    assert_eq!(bob["dark_by_followups"], json!([{ "x": 3, "deals": 1 }]));
    assert_eq!(bob["dark_by_day_of_month"], json!([{ "x": 4, "deals": 1 }]));
    assert_eq!(bob["dark_by_step"][0]["step"], 0);
    assert_eq!(bob["won_deals"], 1);
    assert_eq!(bob["gives_up_early"], false, "one dark deal is not a habit");
    let sam = row(&r["sellers"], "seller", "Sam Seller");
    assert_eq!(sam["dark_deals"], 0, "E and F have buyer-committed steps ahead");
}

fn close_timing_and_results_read_the_interaction_summary(db: &TestDb) {
    let mut h = history(db);
    let r = admin_report(&mut h, ReportName::CloseTiming);
    assert_eq!(r["decision_process_step"], "agreed the decision process");
    let sam = row(&r["sellers"], "seller", "Sam Seller");
    assert_eq!(
        (
            &sam["interactions"],
            &sam["asked_for_sale"],
            &sam["asked_early"],
            &sam["too_early"]
        ),
        (&json!(2), &json!(1), &json!(1), &json!(1))
    );
    assert_eq!(sam["too_early_share"], 0.5);
    let bob = row(&r["sellers"], "seller", "Bob Seller");
    assert_eq!(bob["asked_for_sale"], 0);

    let r = admin_report(&mut h, ReportName::Results);
    let sam = row(&r["sellers"], "name", "Sam Seller");
    assert_eq!(
        (&sam["advanced"], &sam["back"], &sam["sell_or_schedule_rate"]),
        (&json!(0.5), &json!(0.5), &json!(1.0))
    );
    let bob = row(&r["sellers"], "name", "Bob Seller");
    assert_eq!(
        (&bob["stayed"], &bob["sell_or_schedule_rate"]),
        (&json!(1.0), &json!(0.0))
    );
    assert_eq!(r["total"]["interactions"], 5);
    assert_eq!(r["total"]["sell_or_schedule_rate"], 0.4);
    let step0 = row(&r["steps"], "name", "no decision yet");
    assert_eq!((&step0["interactions"], &step0["advanced"]), (&json!(4), &json!(0.25)));
}

fn prospecting_calibration_and_win_probability(db: &TestDb) {
    let mut h = history(db);
    let r = admin_report(&mut h, ReportName::Prospecting);
    let sam = row(&r["sellers"], "seller", "Sam Seller");
    assert_eq!((&sam["new_prospects"], &sam["won_value"]), (&json!(4), &json!(1000.0)));
    assert_eq!(sam["won_per_prospect"], 250.0);
    // September's $8,000 at $250 a prospect is 32 prospects over 30/7 weeks.
    assert_eq!(sam["prospects_needed_per_week"], 7.5);
    assert_eq!(row(&r["sellers"], "seller", "Bob Seller")["won_per_prospect"], 2000.0);

    let r = admin_report(&mut h, ReportName::Calibration);
    let rates: Vec<f64> = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rate"].as_f64().unwrap())
        .collect();
    assert_eq!(rates, [0.6667, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    assert_eq!(
        (&r["steps"][0]["reached"], &r["steps"][1]["reached"]),
        (&json!(3), &json!(2))
    );
    let sam = row(&r["sellers"], "seller", "Sam Seller");
    let august = row(&sam["months"], "month", "2026-08");
    assert_eq!(
        (&august["commitment"], &august["attainment"]),
        (&json!(8.0), &json!(0.1))
    );

    let r = admin_report(&mut h, ReportName::WinProbability);
    let order: Vec<(&str, f64)> = r["deals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["title"].as_str().unwrap(), d["probability"].as_f64().unwrap()))
        .collect();
    assert_eq!(order, [("E", 0.6667), ("D", 0.6667), ("F", 1.0)]);
    assert_eq!(r["held_back_deals"], 0, "no closed deal has an id divisible by 5");
    assert_eq!(r["brier"], serde_json::Value::Null);
}

fn reports_honour_who_may_see_what(db: &TestDb) {
    let mut h = history(db);
    let (sam, mia, max) = (h.w.sam.clone(), h.w.mia.clone(), h.w.max.clone());
    // A seller's report covers only themself.
    let r = run(&mut h, &sam, ReportName::Summary, ReportRequest::default());
    assert_eq!(r["deals"], 4);
    // Asking for someone else is refused, not answered empty.
    let bob_id = h.w.bob.user.id.0.to_string();
    let asked = ReportRequest {
        seller: Some(&bob_id),
        ..Default::default()
    };
    let refused = reports::report(&mut h.w.store, &sam, ReportName::Summary, &asked, 21, today()).unwrap_err();
    assert!(matches!(domain(refused), DomainError::Forbidden(_)));
    // A manager sees their team; another manager's team is refused; by email works too.
    let r = run(&mut h, &max, ReportName::Summary, ReportRequest::default());
    assert_eq!(
        r["won_value_by_owner"],
        json!([{ "owner": "Bob Seller", "value": 4000.0 }])
    );
    let other = ReportRequest {
        team: Some("max@acme.test"),
        ..Default::default()
    };
    let refused = reports::report(&mut h.w.store, &mia, ReportName::GiveUp, &other, 21, today()).unwrap_err();
    assert!(matches!(domain(refused), DomainError::Forbidden(_)));
    // Bad input names the field.
    let bad = ReportRequest {
        month: Some("August"),
        ..Default::default()
    };
    let refused = reports::report(&mut h.w.store, &mia, ReportName::MonthGap, &bad, 21, today()).unwrap_err();
    assert!(matches!(domain(refused), DomainError::Invalid { field, .. } if field == "month"));
}

fn index_names(store: &mut Store) -> Vec<String> {
    let sql = match store.backend() {
        momentum_store::Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name",
        momentum_store::Backend::Postgres => {
            "SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1"
        }
    };
    store
        .read(|tx| {
            tx.query(sql, &[])?
                .iter()
                .map(|r| r.text(0).map(str::to_owned))
                .collect()
        })
        .unwrap()
}

/// Migration 3 on a database that already holds history (as an upgrade meets it): the
/// summaries it backfills give the same reports as those kept write by write.
fn migration_3_backfills_what_the_reports_read(db: &TestDb) {
    let mut h = history(db);
    let names = [
        ReportName::Summary,
        ReportName::MonthGap,
        ReportName::Cholesterol,
        ReportName::GiveUp,
        ReportName::CloseTiming,
        ReportName::Results,
        ReportName::Calibration,
        ReportName::WinProbability,
    ];
    let before: Vec<_> = names.iter().map(|n| admin_report(&mut h, *n)).collect();
    h.w.store
        .write(|tx| {
            for sql in [
                "DROP INDEX deals_for_summary",
                "DROP INDEX deals_by_close",
                "DROP INDEX deals_open",
                // Migration 7's, on a column migration 3 added.
                "DROP INDEX deals_today",
                "DROP TABLE interaction_facts",
                "DROP TABLE deal_days",
                "DROP TABLE closed_peaks",
                "ALTER TABLE deals DROP COLUMN peak_stage",
                "ALTER TABLE deals DROP COLUMN unanswered",
                "ALTER TABLE deals DROP COLUMN longest_unanswered",
                "ALTER TABLE deals DROP COLUMN next_due_at",
                "ALTER TABLE deals DROP COLUMN next_buyer_committed",
                "ALTER TABLE deals DROP COLUMN need_on",
                "DELETE FROM schema_migrations WHERE version = 3",
            ] {
                tx.exec(sql, &[])?;
            }
            Ok(())
        })
        .unwrap();
    h.w.store = Store::open(&db.location).unwrap();
    assert_summaries_exact(&mut h.w.store);
    for (name, was) in names.iter().zip(&before) {
        assert_eq!(
            &admin_report(&mut h, *name),
            was,
            "{name} after migrating existing history"
        );
    }
}

/// The small demo, loaded in bulk (indexes deferred, as `momentum demo` does), as the reports see it on `today`.
fn demo(db: &TestDb) -> (Store, Session, Now) {
    let mut store = Store::open(&db.location).unwrap();
    let day = date(2026, 11, 24);
    let config = momentum_demo::DemoConfig {
        seed: 42,
        scale: momentum_demo::Scale::Small,
        today: day,
    };
    let before = index_names(&mut store);
    let mut writer = BulkWriter::new(&mut store, "demo-hash".into());
    writer.defer_indexes().unwrap();
    momentum_demo::generate(&config, &mut writer).unwrap();
    writer.finish().unwrap();
    assert_eq!(
        index_names(&mut store),
        before,
        "every index deferred by the load is back"
    );
    let s = ops::session(&mut store, None, Some("admin@demo.momentum.test")).unwrap();
    let now = s.now("2026-11-24T12:00:00Z".parse().unwrap());
    (store, s, now)
}

fn the_demos_planted_truths_stand_out(db: &TestDb) {
    let (mut store, s, now) = demo(db);
    let truths = momentum_demo::planted_truths();
    let report = |store: &mut Store, name| {
        serde_json::to_value(reports::report(store, &s, name, &ReportRequest::default(), 21, now).unwrap()).unwrap()
    };
    let email_of = |name: &str| {
        let first = name.split(' ').next().unwrap().to_lowercase();
        format!("{first}@demo.momentum.test")
    };
    let flagged = |r: &serde_json::Value, flag: &str| -> Vec<String> {
        let mut v: Vec<String> = r["sellers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x[flag] == true)
            .map(|x| email_of(x["seller"].as_str().unwrap()))
            .collect();
        v.sort();
        v
    };
    let sorted = |v: Vec<&str>| {
        let mut v: Vec<String> = v.into_iter().map(str::to_owned).collect();
        v.sort();
        v
    };
    assert_eq!(
        flagged(&report(&mut store, ReportName::GiveUp), "gives_up_early"),
        sorted(truths.early_give_up_sellers.clone())
    );
    assert_eq!(
        flagged(&report(&mut store, ReportName::CloseTiming), "asks_too_early"),
        sorted(truths.too_early_closers.clone())
    );
    // Every open deal without a need is flagged; they are about a fifth of open value.
    let chol = report(&mut store, ReportName::Cholesterol);
    let open_without_need: i64 = store
        .read(|tx| {
            tx.query_one(
                "SELECT COUNT(*) FROM deals d WHERE d.status = 'open' AND NOT EXISTS \
                 (SELECT 1 FROM compelling_needs c WHERE c.org_id = d.org_id AND c.deal_id = d.deal_id)",
                &[],
            )?
            .unwrap()
            .int(0)
        })
        .unwrap();
    assert!(open_without_need > 50, "{open_without_need}");
    assert_summaries_exact(&mut store);
    assert_eq!(chol["total"]["no_need"]["deals"], open_without_need);
    // The interaction summary written by the bulk load counts every interaction.
    let interactions: i64 = store
        .read(|tx| tx.query_one("SELECT COUNT(*) FROM interactions", &[])?.unwrap().int(0))
        .unwrap();
    assert_eq!(
        report(&mut store, ReportName::Results)["total"]["interactions"],
        interactions
    );
}

both_backends!(
    migration_3_backfills_what_the_reports_read,
    summary_counts_the_history_by_hand,
    month_gap_sums_goal_won_commit_and_the_weighted_pipeline,
    cholesterol_finds_the_wishful_value,
    give_up_counts_follow_ups_into_silence,
    close_timing_and_results_read_the_interaction_summary,
    prospecting_calibration_and_win_probability,
    reports_honour_who_may_see_what,
    the_demos_planted_truths_stand_out,
);
