//! Import speed: generic CSV through a mapping, end to end (read, map, the core's import
//! rules, one transaction on the fast path), against the raw bulk-insert rate of the same
//! database measured in the same run (the same records written with no CSV, mapping or
//! rules). Prints rows/s and the ratios; never asserts a time.
//!
//! `cargo run --release -p momentum-import --example bench_import [ROWS]` (or scripts/bench-import).

use std::io::Write;
use std::time::Instant;

use jiff::Timestamp;
use momentum_core::commands::NewOrg;
use momentum_core::import::SourceDigest;
use momentum_core::model::*;
use momentum_core::money::Currency;
use momentum_core::vocab::*;
use momentum_import::{Mapping, Options};
use momentum_store::import::{Batch, DealWrite, Target};
use momentum_store::ops::{self, Session};
use momentum_store::Store;

const TARGET: f64 = 200_000.0;
const SELLERS: usize = 20;

const MAPPING: &str = r#"
[deal]
external_id = "Opportunity ID"
title = "Opportunity Name"
owner = "Owner"
account = "Company"
value = "Amount"
created = "Created Date"
closed = "Close Date"

[deal.status]
column = "Stage"
won = ["Closed Won"]
lost = ["Closed Lost"]
open = ["Qualification", "Proposal"]

[deal.stage]
column = "Stage"
"1" = ["Qualification"]
"5" = ["Proposal"]

[format]
date = "auto"
currency = "USD"
"#;

fn now() -> Timestamp {
    "2026-11-01T12:00:00Z".parse().unwrap()
}

fn write_csv(path: &std::path::Path, rows: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        f,
        "Opportunity ID,Opportunity Name,Owner,Company,Amount,Created Date,Close Date,Stage"
    )
    .unwrap();
    for i in 0..rows {
        let stage = [
            "Qualification",
            "Proposal",
            "Qualification",
            "Closed Won",
            "Closed Lost",
        ][i % 5];
        let closed = if stage.starts_with("Closed") { "2026-05-30" } else { "" };
        writeln!(
            f,
            "OPP-{i},Deal number {i} for Company {},seller{}@bench.test,Company {},{}.{:02},2026-0{}-{:02},{closed},{stage}",
            i / 10,
            i % SELLERS,
            i / 10,
            1000 + i % 90_000,
            i % 100,
            1 + i % 9,
            1 + i % 28,
        )
        .unwrap();
    }
}

fn setup(location: &str) -> (Store, Session) {
    let mut store = Store::open(location).unwrap();
    let s = ops::create_org(
        &mut store,
        NewOrg {
            name: "Bench",
            currency: Currency::USD,
            timezone: "UTC",
        },
        ops::FirstAdmin {
            email: "admin@bench.test",
            name: "Admin",
            password_hash: None,
        },
        now(),
    )
    .unwrap();
    for i in 0..SELLERS {
        ops::add_user(
            &mut store,
            &s,
            ops::AddUser {
                email: &format!("seller{i}@bench.test"),
                name: &format!("Seller {i}"),
                role: Role::Seller,
                manager: None,
                password_hash: None,
            },
            now(),
        )
        .unwrap();
    }
    (store, s)
}

/// The same deals as plain records: what the raw bulk path writes.
fn raw_batch(s: &Session, users: &[User], rows: usize, first_id: i64) -> Batch {
    let mut batch = Batch::default();
    for i in 0..rows {
        let open = i % 5 < 3;
        let state = if open {
            DealState::Open {
                next_step: NextStep {
                    due: now(),
                    kind: InteractionKind::Call,
                    aims_at: Step(1),
                    buyer_committed: false,
                    set_at: now(),
                    set_by: Some(s.user.id),
                },
            }
        } else {
            DealState::Won { at: now() }
        };
        batch.deals.push(DealWrite {
            deal: Deal {
                id: DealId(first_id + i as i64),
                owner: users[i % users.len()].as_owner(),
                account: None,
                contact: None,
                title: format!("Deal number {i}"),
                value_minor: Some(100_000 + i as i64),
                currency: Currency::USD,
                expected_close: None,
                stage: Step(0),
                state,
                need: None,
                version: 1,
                created_at: now(),
                interaction_count: 0,
                decision_count: 0,
                last_touch_at: None,
                last_buyer_response_at: None,
                last_decision_at: None,
                peak_stage: Step(0),
                unanswered: 0,
                longest_unanswered: 0,
                provenance: Some(format!("csv:bench.csv:{}", i + 2)),
                external_id: Some(format!("OPP-{i}")),
            },
            product: None,
            // The import keeps one beside every deal; the raw records carry one as well.
            source: Some(SourceDigest::default()),
            before: None,
        });
    }
    batch
}

/// This process's CPU seconds (user + system), from /proc: the machine is shared, so wall
/// time alone can hide what the import itself costs.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, r)| r)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat (utime, stime), counted after the command name; 100 ticks/s.
    (ticks(11) + ticks(12)) / 100.0
}

fn bench(name: &str, fresh: impl Fn() -> String, csv: &std::path::Path, rows: usize) {
    let mapping = Mapping::parse(MAPPING).unwrap();
    // Raw: the records alone, through the same transaction and insert path.
    let (mut store, s) = setup(&fresh());
    let users = ops::users(&mut store, &s).unwrap();
    let batch = raw_batch(&s, &users, rows, 1);
    let next_steps = batch.deals.iter().filter(|d| d.deal.next_step().is_some()).count();
    let (start, cpu0) = (Instant::now(), cpu_seconds());
    momentum_store::import::run(&mut store, Target::Org(&s), &[], false, now(), |_, _, _| {
        Ok(Some(batch))
    })
    .unwrap();
    let raw = start.elapsed().as_secs_f64();
    let raw_cpu = cpu_seconds() - cpu0;
    let raw_rate = rows as f64 / raw;

    // Reading, mapping and planning alone (a dry run writes nothing).
    let (mut store, s) = setup(&fresh());
    let start = Instant::now();
    let options = Options {
        dry_run: true,
        now: now(),
        progress: None,
    };
    momentum_import::import(&mut store, Target::Org(&s), &[csv.to_path_buf()], &mapping, &options).unwrap();
    let plan = start.elapsed().as_secs_f64();
    println!(
        "{name:<10} dry run (read, map, plan; no writes): {plan:.2} s = {:>9.0} rows/s",
        rows as f64 / plan
    );

    // End to end: CSV file to committed records.
    let (mut store, s) = setup(&fresh());
    let (start, cpu0) = (Instant::now(), cpu_seconds());
    let report = momentum_import::import(
        &mut store,
        Target::Org(&s),
        &[csv.to_path_buf()],
        &mapping,
        &Options {
            dry_run: false,
            now: now(),
            progress: None,
        },
    )
    .unwrap();
    let e2e = start.elapsed().as_secs_f64();
    let e2e_cpu = cpu_seconds() - cpu0;
    assert!(
        report.committed && report.errors.is_empty(),
        "{:?}",
        report.errors.first()
    );
    let rate = rows as f64 / e2e;
    println!(
        "{name:<10} raw bulk insert: {rows} deals + {next_steps} next steps in {raw:.2} s = {raw_rate:>9.0} rows/s (this process used {raw_cpu:.2} s of CPU)"
    );
    println!(
        "{name:<10} import end to end: {rows} rows ({} deals, {} accounts, {} stage changes) in {e2e:.2} s = {rate:>9.0} rows/s; {:.2} of the 200,000 rows/s target, {:.2} of the raw insert rate (this process used {e2e_cpu:.2} s of CPU)",
        report.deals_created,
        report.accounts_created,
        report.decisions,
        rate / TARGET,
        rate / raw_rate
    );
}

fn main() {
    let rows: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bench.csv");
    write_csv(&csv, rows);
    let n = std::sync::atomic::AtomicU32::new(0);
    if std::env::args().nth(2).as_deref() != Some("postgres") {
        bench(
            "sqlite",
            || {
                let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                dir.path().join(format!("bench{i}.db")).to_string_lossy().into_owned()
            },
            &csv,
            rows,
        );
    }
    let keep = std::cell::RefCell::new(Vec::new());
    let which = std::env::args().nth(2).unwrap_or_else(|| "both".into());
    if which != "sqlite" && momentum_testkit::postgres().is_some() {
        bench(
            "postgresql",
            || {
                let db = momentum_testkit::postgres().unwrap();
                let location = db.location.clone();
                keep.borrow_mut().push(db);
                location
            },
            &csv,
            rows,
        );
    }
}
