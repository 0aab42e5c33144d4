//! Times every report over a database (the large demo: 1M deals, ~10M interactions) and
//! prints each figure with its ratio to the 1-second limit, measured in this run.
//! `cargo run --release -p momentum-store --example bench_reports -- DB [RUNS]`
//! (scripts/bench-reports makes the database and runs this on SQLite and PostgreSQL).
//!
//! Each report runs as the org's admin (the whole org: the largest scope) and as one
//! seller; the figure is the median of RUNS runs (default 5), after one warm-up run.

use std::time::{Duration, Instant};

use momentum_core::reports::{ReportName, ReportRequest};
use momentum_store::{ops, reports, Store};

const LIMIT: Duration = Duration::from_secs(1);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let location = args.next().ok_or("usage: bench_reports DB [RUNS]")?;
    let runs: usize = args.next().map_or(Ok(5), |r| r.parse())?;
    let mut store = Store::open(&location)?;
    let admin = ops::session(&mut store, None, Some("admin@demo.momentum.test"))?;
    let seller = ops::session(&mut store, None, Some("sam@demo.momentum.test"))?;
    let now = admin.now(jiff::Timestamp::now());
    println!(
        "{:<16} {:>10} {:>8} {:>10} {:>8}",
        "report", "org (ms)", "ratio", "seller (ms)", "ratio"
    );
    let mut worst = Duration::ZERO;
    for name in ReportName::ALL {
        let mut time = |s: &ops::Session| -> Result<Duration, Box<dyn std::error::Error>> {
            let request = ReportRequest::default();
            reports::report(&mut store, s, *name, &request, 21, now)?;
            let mut times = Vec::with_capacity(runs);
            for _ in 0..runs {
                let start = Instant::now();
                reports::report(&mut store, s, *name, &request, 21, now)?;
                times.push(start.elapsed());
            }
            times.sort();
            Ok(times[times.len() / 2])
        };
        let (org, one) = (time(&admin)?, time(&seller)?);
        worst = worst.max(org).max(one);
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let ratio = |d: Duration| d.as_secs_f64() / LIMIT.as_secs_f64();
        println!(
            "{:<16} {:>10.1} {:>8.3} {:>10.1} {:>8.3}",
            name.slug(),
            ms(org),
            ratio(org),
            ms(one),
            ratio(one)
        );
    }
    println!(
        "slowest: {:.1} ms = {:.3} of the {} ms limit",
        worst.as_secs_f64() * 1000.0,
        worst.as_secs_f64() / LIMIT.as_secs_f64(),
        LIMIT.as_millis()
    );
    Ok(())
}
