//! `momentum-bench`: one benchmark run against one database, printing each figure with
//! its target and ratio as rows of a Markdown table (BENCHMARKS.md).
//!
//! Usage: `momentum-bench --momentum target/release/momentum --db LOCATION [--quick]
//! [--only reads|writes|capacity] [--seconds N] [--sellers N]`
//!
//! In order: the raw database limit (recorded log-interaction transactions replayed
//! through the driver, bulk rows), then the real `momentum serve` on a loopback port:
//! start to first 200, writes at 1 and 16 clients, reads, the capacity search with a
//! mixed seller workload, and the server's memory. `scripts/bench` drives it on both
//! databases and adds the reports and import benchmarks. The run writes to the database
//! (interactions and deals logged through the API), so it is meant for demo databases.
//! `--only` runs one phase against the server and skips the raw limit (for profiling one
//! figure under `perf`, or comparing a change); `--seconds` sets each figure's duration;
//! `--sellers N` runs the capacity workload once at N sellers instead of searching.

mod http;
mod load;
mod raw;

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use momentum_store::sql::{Row, Val};
use momentum_store::{ops, Store};

use http::{Client, Request};

#[derive(Debug)]
struct Args {
    momentum: String,
    db: String,
    quick: bool,
    only: Option<Phase>,
    seconds: Option<u64>,
    /// Run the capacity workload once at this many sellers, for `--seconds`.
    sellers: Option<f64>,
}

/// The server phases `--only` picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Writes,
    Reads,
    Capacity,
}

impl Args {
    fn runs(&self, phase: Phase) -> bool {
        self.only.is_none_or(|p| p == phase)
    }
}

fn args() -> anyhow::Result<Args> {
    let mut it = std::env::args().skip(1);
    let usage =
        "usage: momentum-bench --momentum BIN --db LOCATION [--quick] [--only reads|writes|capacity] [--seconds N] [--sellers N]";
    let (mut momentum, mut db, mut quick, mut only, mut seconds, mut sellers) = (None, None, false, None, None, None);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--momentum" => momentum = it.next(),
            "--db" => db = it.next(),
            "--quick" => quick = true,
            "--help" | "-h" => {
                println!("{usage}");
                std::process::exit(0);
            }
            "--only" => {
                only = Some(match it.next().as_deref() {
                    Some("reads") => Phase::Reads,
                    Some("writes") => Phase::Writes,
                    Some("capacity") => Phase::Capacity,
                    other => bail!("--only {other:?}: one of reads, writes, capacity; {usage}"),
                })
            }
            "--seconds" => {
                let v = it.next();
                seconds = Some(
                    v.as_deref()
                        .and_then(|v| v.parse().ok())
                        .filter(|n| *n > 0)
                        .with_context(|| format!("--seconds {v:?}: a whole number of seconds above 0; {usage}"))?,
                )
            }
            "--sellers" => {
                let v = it.next();
                sellers = Some(
                    v.as_deref()
                        .and_then(|v| v.parse::<u32>().ok())
                        .filter(|n| *n > 0)
                        .with_context(|| format!("--sellers {v:?}: a whole number of sellers above 0; {usage}"))?
                        .into(),
                )
            }
            _ => bail!("unknown argument {a:?}; {usage}"),
        }
    }
    Ok(Args {
        momentum: momentum.context("--momentum BIN is required")?,
        db: db.context("--db LOCATION is required")?,
        quick,
        only,
        seconds,
        sellers,
    })
}

/// A seller the load acts as: an API token, a signed-in session, and open deals.
#[derive(Debug, Clone)]
struct Seller {
    bearer: String,
    cookie: String,
    deals: Vec<i64>,
}

/// Builds a read request as a seller, the `i`-th of a run.
type MakeRead = Box<dyn Fn(&Seller, usize) -> Request + Send + Sync>;

/// Prints one row of the results table.
struct Table {
    /// The database and its size: "SQLite, 1M deals".
    backend: String,
}

impl Table {
    fn row(&self, what: &str, figure: String, target: &str, ratio: Option<f64>) {
        let ratio = ratio.map_or(String::new(), |r| format!("{r:.2}"));
        println!("| {} | {what} | {figure} | {target} | {ratio} |", self.backend);
    }

    /// A rate against a floor: the ratio is figure / floor (≥ 1 meets it).
    fn rate(&self, what: &str, rate: f64, floor: Option<(f64, &str)>) {
        match floor {
            Some((f, label)) => self.row(what, format!("{rate:.0}/s"), label, Some(rate / f)),
            None => self.row(what, format!("{rate:.0}/s"), "", None),
        }
    }

    /// Latencies against a ceiling: the ratio is p99 / ceiling (≤ 1 meets it).
    fn latency(&self, what: &str, out: &mut load::Outcome, ceiling_ms: Option<f64>) {
        let (p50, p99) = (ms(out.quantile(0.5)), ms(out.quantile(0.99)));
        let errors = if out.errors > 0 {
            format!(
                ", {} errors ({})",
                out.errors,
                out.first_error
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .take(120)
                    .collect::<String>()
            )
        } else {
            String::new()
        };
        let figure = format!("{:.0} req/s, p50 {p50:.2} ms, p99 {p99:.2} ms{errors}", out.rate());
        match ceiling_ms {
            Some(c) => self.row(what, figure, &format!("p99 < {c} ms"), Some(p99 / c)),
            None => self.row(what, figure, "", None),
        }
    }
}

/// `x` rounded to two significant figures (a readable seller count).
fn two_figures(x: f64) -> f64 {
    let unit = 10f64.powf(x.log10().floor() - 1.0);
    (x / unit).round() * unit
}

/// 2,000 as "2k", 100,000 as "100k", 1,000,000 as "1M".
fn short_count(n: i64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{}M", two_figures(n as f64) / 1e6),
        n if n >= 1_000 => format!("{}k", two_figures(n as f64) / 1e3),
        n => n.to_string(),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn rows(store: &mut Store, sql: &str, params: &[Val]) -> anyhow::Result<Vec<Row>> {
    Ok(store.read(|tx| tx.query(sql, params))?)
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    let pg = momentum_store::is_postgres_url(&args.db);
    let secs = Duration::from_secs(args.seconds.unwrap_or(if args.quick { 1 } else { 5 }));
    let mut store = Store::open(&args.db).context("opening the database")?;
    let deals = rows(&mut store, "SELECT COUNT(*) FROM deals", &[])?
        .first()
        .map_or(Ok(0), |r| r.int(0))?;
    let t = Table {
        backend: format!(
            "{}, {} deals",
            if pg { "PostgreSQL" } else { "SQLite" },
            short_count(deals)
        ),
    };

    // ---- The limit: the same transaction straight through the driver.
    let want = match (args.only, args.quick) {
        (Some(_), _) => 0,
        (None, true) => 2_000,
        (None, false) => 40_000,
    };
    let open: Vec<(i64, String)> = rows(
        &mut store,
        "SELECT d.deal_id, u.email FROM deals d JOIN users u ON u.org_id = d.org_id AND u.user_id = d.owner_id \
         WHERE d.status = 'open' ORDER BY d.deal_id DESC LIMIT $1",
        &[Val::Int(want)],
    )?
    .iter()
    .map(|r| Ok((r.int(0)?, r.text(1)?.to_owned())))
    .collect::<anyhow::Result<_>>()?;
    let started = Instant::now();
    let txs = raw::record(&mut store, &open)?;
    eprintln!(
        "recorded {} log-interaction transactions in {:.1} s",
        txs.len(),
        started.elapsed().as_secs_f64()
    );
    let raw_single;
    if args.only.is_some() {
        raw_single = 0.0;
    } else if pg {
        raw_single = raw::postgres_replay(&args.db, txs.clone(), 16)?;
        t.rate("raw log-interaction, 16 connections, one commit each", raw_single, None);
    } else {
        let (a, b) = txs.split_at(txs.len() / 2);
        raw_single = raw::sqlite_replay(&args.db, a, 1)?;
        t.rate("raw log-interaction, one commit each", raw_single, None);
        let grouped = raw::sqlite_replay(&args.db, b, 16)?;
        t.rate("raw log-interaction, 16 to a commit", grouped, None);
    }
    if args.only.is_none() {
        let bulk = raw::bulk(&args.db, &txs, if args.quick { 100_000 } else { 1_000_000 })?;
        t.rate("raw bulk insert, interaction rows", bulk, None);
    }

    // ---- Who the load acts as.
    let sellers = sellers(&mut store, if args.quick { 4 } else { 16 })?;
    let manager = manager_cookie(&mut store)?;
    let currency = rows(&mut store, "SELECT currency FROM deals ORDER BY deal_id LIMIT 1", &[])?
        .first()
        .map(|r| r.text(0).map(str::to_owned))
        .transpose()?
        .unwrap_or_else(|| "EUR".into());
    drop(store);

    // ---- Start to first 200.
    let (mut server, addr, start_ms) = start_server(&args)?;
    t.row(
        "start to first 200 on /healthz",
        format!("{start_ms:.0} ms"),
        "< 200 ms",
        Some(start_ms / 200.0),
    );
    let result = run_load(
        &t,
        &args,
        addr,
        &sellers,
        &manager,
        &currency,
        raw_single,
        secs,
        server.id(),
    );
    stop(&mut server);
    result
}

#[allow(clippy::too_many_arguments)]
fn run_load(
    t: &Table,
    args: &Args,
    addr: SocketAddr,
    sellers: &[Seller],
    manager: &str,
    currency: &str,
    raw_single: f64,
    secs: Duration,
    pid: u32,
) -> anyhow::Result<()> {
    let sellers = Arc::new(sellers.to_vec());
    let pg = momentum_store::is_postgres_url(&args.db);

    // ---- Writes over HTTP.
    let write_clients: &[usize] = if args.runs(Phase::Writes) { &[1, 16] } else { &[] };
    for &clients in write_clients {
        let s = sellers.clone();
        let mut out = load::closed(addr, clients, secs, move |c, i| {
            // Client c logs on its own deals only, so no two clients touch one deal.
            let seller = &s[c % s.len()];
            let (k, stride) = (c / s.len(), clients.div_ceil(s.len()));
            let mine: Vec<i64> = seller.deals.iter().copied().skip(k).step_by(stride).collect();
            let deal = mine[i % mine.len()];
            Request::post_json(
                format!("/api/v1/deals/{deal}/interactions"),
                &seller.bearer,
                r#"{"kind":"call","result":"stayed","ending":"cadence","notes":"benchmark"}"#.into(),
            )
        });
        let what = format!("HTTP log-interaction, {clients} client(s)");
        t.latency(&what, &mut out, None);
        if clients == 16 && raw_single > 0.0 {
            let rate = out.rate();
            t.rate(
                &format!("{what}: vs 60% of raw"),
                rate,
                Some((0.6 * raw_single, "≥ 60% of raw single")),
            );
            if !pg {
                t.rate(&format!("{what}: vs 10,000/s"), rate, Some((10_000.0, "≥ 10,000/s")));
            }
        }
    }
    for &clients in write_clients {
        let s = sellers.clone();
        let body = format!(r#"{{"title":"Benchmark deal","value":{{"minor":250000,"currency":"{currency}"}}}}"#);
        let mut out = load::closed(addr, clients, secs, move |c, _| {
            Request::post_json("/api/v1/deals", &s[c % s.len()].bearer, body.clone())
        });
        t.latency(&format!("HTTP create-deal, {clients} client(s)"), &mut out, None);
    }

    // ---- Reads over HTTP, one client at a time.
    let reads: [(&str, MakeRead, Option<f64>); 4] = [
        ("Today page", Box::new(|s, _| Request::get("/", &s.cookie)), Some(5.0)),
        (
            "pipeline page",
            Box::new(|s, _| Request::get("/pipeline", &s.cookie)),
            Some(5.0),
        ),
        (
            "deal page",
            Box::new(|s, i| Request::get(format!("/deals/{}", s.deals[i % s.deals.len()]), &s.cookie)),
            None,
        ),
        (
            "JSON deal list (/api/v1/deals)",
            Box::new(|s, _| Request::get("/api/v1/deals", &s.bearer)),
            None,
        ),
    ];
    for (what, make, ceiling) in reads.into_iter().filter(|_| args.runs(Phase::Reads)) {
        let s = sellers.clone();
        let mut out = load::closed(addr, 1, secs, move |_, i| make(&s[i % s.len()], i / s.len()));
        t.latency(&format!("HTTP {what}, 1 client"), &mut out, ceiling);
    }

    // ---- Capacity: the mixed workload at rising seller counts until p99 crosses 100 ms.
    let step = match (args.sellers, args.quick) {
        (Some(_), _) => secs,
        (None, true) => Duration::from_secs(1),
        (None, false) => Duration::from_secs(4),
    };
    let mut sellers_ok: Option<(f64, load::Outcome)> = None;
    let mut bad: Option<f64> = None;
    let mut n = args.sellers.unwrap_or(5_000.0);
    let mut tries = 0;
    let max_tries = match (args.runs(Phase::Capacity), args.sellers, args.quick) {
        (false, ..) => 0,
        (true, Some(_), _) => 1,
        (true, None, true) => 5,
        (true, None, false) => 9,
    };
    while tries < max_tries {
        tries += 1;
        let mut out = mixed(addr, &sellers, manager, n, step);
        let p99 = ms(out.quantile(0.99));
        let ok = p99 < 100.0 && (out.errors as f64) < 0.01 * out.latencies.len() as f64;
        eprintln!(
            "capacity: {n:.0} sellers, {:.0} req/s, p50 {:.1} ms, p99 {p99:.1} ms, {} errors: {}",
            out.rate(),
            ms(out.quantile(0.5)),
            out.errors,
            if ok { "ok" } else { "over" }
        );
        if ok {
            sellers_ok = Some((n, out));
        } else {
            bad = Some(n);
        }
        n = match (sellers_ok.as_ref().map(|s| s.0), bad) {
            (Some(good), None) => good * 2.0,
            (None, Some(b)) if b > 600.0 => (b / 4.0 / 100.0).round() * 100.0,
            (None, Some(_)) => break,
            (Some(good), Some(b)) if b / good > 1.15 => two_figures((good * b).sqrt()),
            _ => break,
        };
    }
    match sellers_ok {
        _ if max_tries == 0 => {}
        Some((n, mut out)) => t.row(
            "capacity: active sellers at p99 < 100 ms (mixed workload)",
            format!(
                "{n:.0} sellers ({:.0} req/s, p50 {:.1} ms, p99 {:.1} ms)",
                out.rate(),
                ms(out.quantile(0.5)),
                ms(out.quantile(0.99))
            ),
            "≥ 100,000 sellers (SQLite)",
            Some(n / 100_000.0),
        ),
        None => t.row("capacity", "p99 ≥ 100 ms even at the smallest step".into(), "", None),
    }

    // ---- Memory, after everything above.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let (hwm, rss) = (kb("VmHWM:") / 1024.0, kb("VmRSS:") / 1024.0);
    t.row(
        "server memory: peak RSS (VmHWM) under the load above",
        format!("{hwm:.0} MB (now {rss:.0} MB)"),
        "< 150 MB",
        Some(hwm / 150.0),
    );
    Ok(())
}

/// The mixed workload of `n` active sellers for `duration`. Per seller per minute: 1 Today
/// view, 0.5 deal views, 0.3 interactions logged, 0.1 pipeline views; and a manager's
/// report now and then (one manager per 10 sellers, a report every 20 minutes: 0.005).
fn mixed(addr: SocketAddr, sellers: &Arc<Vec<Seller>>, manager: &str, n: f64, duration: Duration) -> load::Outcome {
    const MIX: [f64; 5] = [1.0, 0.5, 0.3, 0.1, 0.005];
    let per_minute: f64 = MIX.iter().sum();
    let rate = n * per_minute / 60.0;
    let s = sellers.clone();
    let manager = manager.to_owned();
    load::open(addr, rate, 64, duration, move |i| {
        // A fixed pseudo-random draw per request number: the same mix every run.
        let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^= x >> 29;
        let u = (x % 1_000_000) as f64 / 1_000_000.0 * per_minute;
        let seller = &s[i % s.len()];
        let deal = seller.deals[(i / s.len()) % seller.deals.len()];
        let mut acc = 0.0;
        let mut pick = 0;
        for (k, w) in MIX.iter().enumerate() {
            acc += w;
            if u < acc {
                pick = k;
                break;
            }
        }
        match pick {
            0 => Request::get("/", &seller.cookie),
            1 => Request::get(format!("/deals/{deal}"), &seller.cookie),
            2 => Request::post_json(
                format!("/api/v1/deals/{deal}/interactions"),
                &seller.bearer,
                r#"{"kind":"call","result":"stayed","ending":"cadence","notes":"benchmark"}"#.into(),
            ),
            3 => Request::get("/pipeline", &seller.cookie),
            _ => Request::get("/reports/month-gap", &manager),
        }
    })
}

/// Up to `count` active sellers with a fresh API token, a fresh session and their open deals.
fn sellers(store: &mut Store, count: i64) -> anyhow::Result<Vec<Seller>> {
    let emails: Vec<(String, i64)> = rows(
        store,
        "SELECT u.email, u.user_id FROM users u WHERE u.role = 'seller' AND u.active \
         AND EXISTS (SELECT 1 FROM deals d WHERE d.org_id = u.org_id AND d.owner_id = u.user_id AND d.status = 'open') \
         ORDER BY u.user_id LIMIT $1",
        &[Val::Int(count)],
    )?
    .iter()
    .map(|r| Ok((r.text(0)?.to_owned(), r.int(1)?)))
    .collect::<anyhow::Result<_>>()?;
    if emails.is_empty() {
        bail!("no seller with open deals: run `momentum demo` on this database first");
    }
    let now = jiff::Timestamp::now();
    let mut out = Vec::new();
    for (email, id) in emails {
        let s = ops::session(store, None, Some(&email))?;
        let (token, hash) = momentum_web::auth::new_api_token(s.org.id);
        momentum_store::auth::create_token(store, &s, "benchmark", &hash, now)?;
        let deals = rows(
            store,
            "SELECT deal_id FROM deals WHERE org_id = $1 AND owner_id = $2 AND status = 'open' ORDER BY deal_id LIMIT 400",
            &[Val::Int(s.org.id.0), Val::Int(id)],
        )?
        .iter()
        .map(|r| r.int(0))
        .collect::<Result<Vec<_>, _>>()?;
        out.push(Seller {
            bearer: format!("Authorization: Bearer {token}\r\n"),
            cookie: session_cookie(store, &s)?,
            deals,
        });
    }
    Ok(out)
}

fn session_cookie(store: &mut Store, s: &ops::Session) -> anyhow::Result<String> {
    let now = jiff::Timestamp::now();
    let secret = momentum_web::auth::random_secret();
    let csrf = momentum_web::auth::random_secret();
    let expires = now + jiff::SignedDuration::from_hours(24);
    momentum_store::auth::create_session(
        store,
        s.org.id,
        s.user.id,
        &momentum_web::auth::sha256_hex(&secret),
        &csrf,
        expires,
        now,
    )?;
    Ok(format!(
        "Cookie: {}={}.{secret}\r\n",
        momentum_web::auth::SESSION_COOKIE,
        s.org.id.0
    ))
}

fn manager_cookie(store: &mut Store) -> anyhow::Result<String> {
    let email = rows(
        store,
        "SELECT email FROM users WHERE role = 'manager' AND active ORDER BY user_id LIMIT 1",
        &[],
    )?
    .first()
    .map(|r| r.text(0).map(str::to_owned))
    .transpose()?
    .context("no manager in this database")?;
    let s = ops::session(store, None, Some(&email))?;
    session_cookie(store, &s)
}

/// Starts `momentum serve` on a free loopback port; returns it with the time from spawn
/// to the first 200 on /healthz.
fn start_server(args: &Args) -> anyhow::Result<(Child, SocketAddr, f64)> {
    let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let log = std::fs::File::create(std::env::temp_dir().join(format!("momentum-bench-{}.log", addr.port())))?;
    let started = Instant::now();
    let mut child = Command::new(&args.momentum)
        .args(["--db", &args.db, "serve", "--bind", &addr.to_string()])
        .env("MOMENTUM_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("starting momentum serve")?;
    let health = Request::get("/healthz", "");
    loop {
        if let Ok((200, _)) = Client::new(addr).send(&health) {
            return Ok((child, addr, ms(started.elapsed())));
        }
        if started.elapsed() > Duration::from_secs(60) || child.try_wait()?.is_some() {
            stop(&mut child);
            bail!("momentum serve did not answer /healthz within 60 s");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn stop(child: &mut Child) {
    // SIGTERM lets the server finish what is in flight; it is our own child.
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}
