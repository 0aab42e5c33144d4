//! Faults, with the real binary: nothing acknowledged is ever lost, and failure is clean.
//!
//! - Crash under load (both databases): `momentum serve` under concurrent writes is killed
//!   with SIGKILL at random moments and restarted; every write that got a 2xx is in the
//!   database and the invariants hold. `FAULTS_CRASH_ROUNDS` (default 20) sets the
//!   number of kills; `FAULTS_CRASH_SEED` replays a run.
//! - Two `momentum serve` on one PostgreSQL: concurrent edits of one deal lose no update;
//!   stale ones get 409.
//! - A full disk and a read-only file system under the SQLite file (a small tmpfs; needs
//!   root to mount, skipped with a note otherwise): 503 with a clear message, never a 500,
//!   reads go on, no corruption, and writes work again once there is room.
//! - A PostgreSQL restart under load, on a private server (never the shared one): requests
//!   in the gap fail cleanly within a bound, and the server reconnects by itself.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use momentum_testkit::{both_backends, TestDb};
use serde_json::json;
use support::*;

/// Each a count of rows that break an invariant; all must be 0.
const INVARIANTS: &[(&str, &str)] = &[
    (
        "open deals without exactly one next step",
        "SELECT COUNT(*) FROM deals d WHERE d.status = 'open' AND \
         (SELECT COUNT(*) FROM next_steps n WHERE n.org_id = d.org_id AND n.deal_id = d.deal_id) <> 1",
    ),
    (
        "closed deals with a next step",
        "SELECT COUNT(*) FROM deals d WHERE d.status <> 'open' AND \
         EXISTS (SELECT 1 FROM next_steps n WHERE n.org_id = d.org_id AND n.deal_id = d.deal_id)",
    ),
    (
        "deals whose stage is not their ledger's last decision",
        "SELECT COUNT(*) FROM deals d WHERE d.stage <> COALESCE((SELECT x.to_stage FROM decisions x \
         WHERE x.org_id = d.org_id AND x.deal_id = d.deal_id ORDER BY x.seq DESC LIMIT 1), 0)",
    ),
    (
        "pipeline summary rows that no open deals back",
        "SELECT COUNT(*) FROM (SELECT org_id, owner_id, stage, currency, CAST(deals AS BIGINT), \
         CAST(value_minor AS BIGINT) FROM open_pipeline WHERE deals <> 0 EXCEPT \
         SELECT org_id, owner_id, stage, currency, CAST(COUNT(*) AS BIGINT), \
         CAST(COALESCE(SUM(value_minor), 0) AS BIGINT) FROM deals WHERE status = 'open' \
         GROUP BY org_id, owner_id, stage, currency) x",
    ),
    (
        "open deals missing from the pipeline summary",
        "SELECT COUNT(*) FROM (SELECT org_id, owner_id, stage, currency, CAST(COUNT(*) AS BIGINT), \
         CAST(COALESCE(SUM(value_minor), 0) AS BIGINT) FROM deals WHERE status = 'open' \
         GROUP BY org_id, owner_id, stage, currency EXCEPT \
         SELECT org_id, owner_id, stage, currency, CAST(deals AS BIGINT), CAST(value_minor AS BIGINT) \
         FROM open_pipeline) x",
    ),
];

fn assert_invariants(location: &str) {
    for (what, sql) in INVARIANTS {
        assert_eq!(count(location, sql, vec![]), 0, "{what}");
    }
}

fn due(hours: i64) -> String {
    (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(hours)).to_string()
}

/// A write the server acknowledged with a 2xx, to look for afterwards.
#[derive(Debug, Clone)]
enum Ack {
    Deal { title: String },
    Interaction { notes: String },
    Closed { deal: i64 },
}

/// One writer: creates deals, logs interactions (some advancing the deal through a buyer
/// decision), reschedules and closes, until the server goes away.
fn writer(
    port: u16,
    token: &str,
    id: usize,
    seq: &AtomicUsize,
    deals: &mut Vec<i64>,
    rng: &mut Rng,
    acks: &Mutex<Vec<Ack>>,
) -> Result<(), String> {
    loop {
        let n = seq.fetch_add(1, Ordering::SeqCst);
        let pick = rng.below(100);
        let timeout = Duration::from_secs(20);
        let (method, path, body, ack) = if deals.is_empty() || pick < 25 {
            let title = format!("crash-{id}-{n}");
            let body = json!({
                "title": title, "value": {"minor": 1_000 + n as i64, "currency": "USD"},
                "account": 1, "contact": 1,
                "first_step": {"next_step": {"due": due(48), "kind": "meeting", "buyer_committed": true}},
            });
            ("POST", "/api/v1/deals".to_owned(), body, Ack::Deal { title })
        } else {
            let deal = deals[rng.below(deals.len() as u64) as usize];
            let notes = format!("crash-note-{id}-{n}");
            match pick {
                25..=54 => (
                    "POST",
                    format!("/api/v1/deals/{deal}/interactions"),
                    json!({"kind": "call", "contact": 1, "result": "advanced", "notes": notes,
                           "ending": {"next_step": {"due": due(72), "kind": "call", "buyer_committed": true}}}),
                    Ack::Interaction { notes },
                ),
                55..=84 => (
                    "POST",
                    format!("/api/v1/deals/{deal}/interactions"),
                    json!({"kind": "email", "result": "stayed", "ending": "cadence", "notes": notes}),
                    Ack::Interaction { notes },
                ),
                85..=92 => (
                    "POST",
                    format!("/api/v1/deals/{deal}/reschedule"),
                    json!({"next_step": {"due": due(96), "kind": "visit", "buyer_committed": false}}),
                    Ack::Closed { deal: -1 },
                ),
                _ => (
                    "POST",
                    format!("/api/v1/deals/{deal}/close"),
                    json!({"closing": {"lost": {"reason_category": "price", "buyer_words": "Too dear"}}}),
                    Ack::Closed { deal },
                ),
            }
        };
        let reply = match request(port, method, &path, Some(token), Some(&body), timeout) {
            Ok(r) => r,
            // The server is gone: this round is over.
            Err(_) => return Ok(()),
        };
        if reply.status >= 500 {
            return Err(format!("{method} {path}: {} {}", reply.status, reply.body));
        }
        if (200..300).contains(&reply.status) {
            match &ack {
                Ack::Deal { .. } => deals.push(reply.json()["id"].as_i64().unwrap()),
                Ack::Closed { deal } if *deal > 0 => deals.retain(|d| d != deal),
                _ => {}
            }
            if !matches!(ack, Ack::Closed { deal: -1 }) {
                acks.lock().unwrap().push(ack);
            }
        } else if path.contains("/deals/") {
            // E.g. a close that committed just before a kill, unacknowledged: leave that deal.
            if let Some(d) = path.split('/').nth(4).and_then(|d| d.parse::<i64>().ok()) {
                deals.retain(|x| *x != d);
            }
        }
    }
}

fn crash_under_load(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let token = acme(&db.location);
    let rounds = knob("FAULTS_CRASH_ROUNDS", 20);
    let mut rng = Rng::from_env("FAULTS_CRASH_SEED");
    let acks = Arc::new(Mutex::new(Vec::new()));
    let seq = Arc::new(AtomicUsize::new(0));
    const WRITERS: usize = 4;
    let mut deals: Vec<Vec<i64>> = vec![Vec::new(); WRITERS];
    let started = Instant::now();
    let mut acked_before_kill = Vec::new();
    for round in 0..rounds {
        let mut server = Server::start(&db.location, dir.path(), &[]);
        let port = server.port;
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (token, acks, seq) = (token.clone(), acks.clone(), seq.clone());
                let mut mine = std::mem::take(&mut deals[w]);
                let mut rng = Rng(rng.next() | 1);
                std::thread::spawn(move || {
                    let r = writer(port, &token, w, &seq, &mut mine, &mut rng, &acks);
                    (mine, r)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100 + rng.below(700)));
        server.kill();
        for (w, h) in handles.into_iter().enumerate() {
            let (mine, r) = h.join().unwrap();
            if let Err(e) = r {
                panic!("round {round}: a server error under load: {e}\n{}", server.log_text());
            }
            deals[w] = mine;
        }
        acked_before_kill.push(acks.lock().unwrap().len());
    }
    // Every acknowledged write is there, after all those kills.
    let acks = acks.lock().unwrap().clone();
    for ack in &acks {
        match ack {
            Ack::Deal { title } => assert_eq!(
                count(
                    &db.location,
                    "SELECT COUNT(*) FROM deals WHERE title = $1",
                    vec![title.as_str().into()]
                ),
                1,
                "acknowledged deal {title} is missing"
            ),
            Ack::Interaction { notes } => assert_eq!(
                count(
                    &db.location,
                    "SELECT COUNT(*) FROM interactions WHERE notes = $1",
                    vec![notes.as_str().into()]
                ),
                1,
                "acknowledged interaction {notes} is missing"
            ),
            Ack::Closed { deal } => assert_eq!(
                count(
                    &db.location,
                    "SELECT COUNT(*) FROM deals WHERE deal_id = $1 AND status = 'lost'",
                    vec![(*deal).into()]
                ),
                1,
                "acknowledged close of deal {deal} is missing"
            ),
        }
    }
    assert_invariants(&db.location);
    // And the server starts again over what the kills left.
    let server = Server::start(&db.location, dir.path(), &[]);
    let r = server
        .request("GET", "/api/v1/deals?status=open&limit=5", Some(&token), None)
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let deals_n = acks.iter().filter(|a| matches!(a, Ack::Deal { .. })).count();
    assert!(deals_n >= rounds, "too little load: {deals_n} deals in {rounds} rounds");
    eprintln!(
        "crash under load on {}: {rounds} SIGKILLs, {} acknowledged writes ({deals_n} deals) all present, \
         invariants hold, {:.1}s",
        db.backend,
        acks.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Two app servers on one PostgreSQL database, editing the same deal with the version they
/// last read: every acknowledged edit is kept, the rest are 409.
#[test]
fn two_servers_on_one_postgres_lose_no_update() {
    let Some(db) = momentum_testkit::postgres() else { return };
    let dir = tempfile::tempdir().unwrap();
    let token = acme(&db.location);
    let a = Server::start(&db.location, dir.path(), &[]);
    let b = Server::start(&db.location, dir.path(), &[]);
    let body = json!({
        "title": "Contended", "value": {"minor": 5_000, "currency": "USD"}, "account": 1, "contact": 1,
        "first_step": {"next_step": {"due": due(48), "kind": "meeting", "buyer_committed": true}},
    });
    let created = a.request("POST", "/api/v1/deals", Some(&token), Some(&body)).unwrap();
    assert_eq!(created.status, 201, "{}", created.body);
    let deal = created.json()["id"].as_i64().unwrap();
    let ports = [a.port, b.port];
    let ok = Arc::new(AtomicUsize::new(0));
    let stale = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..6)
        .map(|t| {
            let (token, ok, stale, acked) = (token.clone(), ok.clone(), stale.clone(), acked.clone());
            std::thread::spawn(move || {
                for i in 0..15 {
                    let port = ports[(t + i) % 2];
                    let read = request(port, "GET", &format!("/api/v1/deals/{deal}"), Some(&token), None, Duration::from_secs(20)).unwrap();
                    assert_eq!(read.status, 200, "{}", read.body);
                    let version = read.json()["version"].as_i64().unwrap();
                    let notes = format!("two-servers-{t}-{i}");
                    let body = json!({"kind": "call", "result": "stayed", "ending": "cadence", "notes": notes, "version": version});
                    let other = ports[(t + i + 1) % 2];
                    let r = request(other, "POST", &format!("/api/v1/deals/{deal}/interactions"), Some(&token), Some(&body), Duration::from_secs(20)).unwrap();
                    match r.status {
                        200 => {
                            ok.fetch_add(1, Ordering::SeqCst);
                            acked.lock().unwrap().push(notes);
                        }
                        409 => {
                            stale.fetch_add(1, Ordering::SeqCst);
                        }
                        s => panic!("{s}: {}", r.body),
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let (ok, stale) = (ok.load(Ordering::SeqCst), stale.load(Ordering::SeqCst));
    let shown = a
        .request("GET", &format!("/api/v1/deals/{deal}"), Some(&token), None)
        .unwrap()
        .json();
    assert_eq!(
        shown["version"].as_i64().unwrap(),
        1 + ok as i64,
        "a lost update: {ok} acknowledged"
    );
    let stored = count(
        &db.location,
        "SELECT COUNT(*) FROM interactions WHERE notes LIKE 'two-servers-%'",
        vec![],
    );
    assert_eq!(stored, ok as i64);
    for notes in acked.lock().unwrap().iter() {
        assert_eq!(
            count(
                &db.location,
                "SELECT COUNT(*) FROM interactions WHERE notes = $1",
                vec![notes.as_str().into()]
            ),
            1
        );
    }
    assert!(stale > 0, "no edit was ever stale: the test did not contend");
    // A write based on version 1 is stale on either server.
    for s in [&a, &b] {
        let body = json!({"kind": "call", "result": "stayed", "ending": "cadence", "version": 1});
        let r = s
            .request(
                "POST",
                &format!("/api/v1/deals/{deal}/interactions"),
                Some(&token),
                Some(&body),
            )
            .unwrap();
        assert_eq!(r.status, 409, "{}", r.body);
    }
    assert_invariants(&db.location);
    eprintln!("two servers on one PostgreSQL: {ok} edits kept, {stale} stale edits refused with 409, none lost");
}

/// A tmpfs of `size`, mounted for the test and unmounted when dropped.
struct Mount {
    dir: tempfile::TempDir,
}

impl Mount {
    fn new(size: &str) -> Option<Mount> {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipping: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(Mount { dir })
    }

    fn remount(&self, mode: &str) {
        let s = std::process::Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(self.dir.path())
            .status()
            .unwrap();
        assert!(s.success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn log_call(server: &Server, token: &str, deal: i64, notes: &str) -> Reply {
    let body = json!({"kind": "call", "result": "stayed", "ending": "cadence", "notes": notes});
    server
        .request(
            "POST",
            &format!("/api/v1/deals/{deal}/interactions"),
            Some(token),
            Some(&body),
        )
        .unwrap()
}

/// SQLite's own check of the file, and the CLI still reads it.
fn integrity(location: &str) {
    let out = momentum(location)
        .args(["deal", "list", "--limit", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut store = momentum_store::Store::open(location).unwrap();
    let check = store
        .read(|tx| Ok(tx.query("PRAGMA integrity_check", &[])?[0].text(0)?.to_owned()))
        .unwrap();
    assert_eq!(check, "ok", "SQLite integrity_check");
}

#[test]
fn a_full_disk_or_read_only_file_system_is_a_clear_503_and_corrupts_nothing() {
    let Some(mount) = Mount::new("3m") else { return };
    let location = mount.dir.path().join("momentum.db").to_string_lossy().into_owned();
    let token = acme(&location);
    let logs = tempfile::tempdir().unwrap();
    let server = Server::start(&location, logs.path(), &[]);
    let body = json!({
        "title": "Disk", "value": {"minor": 5_000, "currency": "USD"}, "account": 1, "contact": 1,
        "first_step": {"next_step": {"due": due(48), "kind": "meeting", "buyer_committed": true}},
    });
    let deal = server
        .request("POST", "/api/v1/deals", Some(&token), Some(&body))
        .unwrap();
    assert_eq!(deal.status, 201, "{}", deal.body);
    let deal = deal.json()["id"].as_i64().unwrap();
    assert_eq!(log_call(&server, &token, deal, "before-full").status, 200);

    // Fill the file system, then write until a write is refused.
    let filler = mount.dir.path().join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 8 << 20]);
    let mut refused = None;
    let mut acked = vec!["before-full".to_owned()];
    for i in 0..2_000 {
        let notes = format!("while-full-{i}-{}", "x".repeat(2_000));
        let r = log_call(&server, &token, deal, &notes);
        assert!(r.status < 500 || r.status == 503, "{}: {}", r.status, r.body);
        if r.status == 503 {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status, 200, "{}", r.body);
        acked.push(notes);
    }
    let refused = refused.expect("no write was ever refused on a full disk");
    assert_eq!(refused.json()["status"], 503, "{}", refused.body);
    assert!(refused.body.contains("unavailable"), "{}", refused.body);
    // Reads still work; health says what is wrong only when the database cannot answer.
    let read = server
        .request("GET", &format!("/api/v1/deals/{deal}"), Some(&token), None)
        .unwrap();
    assert_eq!(read.status, 200, "{}", read.body);
    std::fs::remove_file(&filler).unwrap();
    let after = log_call(&server, &token, deal, "after-full");
    assert_eq!(after.status, 200, "room again, writes again: {}", after.body);
    acked.push("after-full".into());

    // Read-only (a file system cannot turn read-only under a file open for writing, so
    // the server restarts on it): it refuses to start with a clear error, or it starts
    // and refuses writes with the same 503.
    drop(server);
    mount.remount("ro");
    let mut server = Server::spawn(&location, logs.path(), &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let read_only = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(!status.success());
            let log = server.log_text();
            assert!(log.contains("opening the database"), "{log}");
            break format!("refused to start ({status})");
        }
        if server.request("GET", "/healthz", None, None).is_ok() {
            let r = log_call(&server, &token, deal, "while-read-only");
            assert_eq!(r.status, 503, "{}", r.body);
            assert!(r.body.contains("unavailable"), "{}", r.body);
            break "writes answered 503".to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "neither started nor failed: {}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(25));
    };
    assert!(!server.log_text().contains("panicked"), "{}", server.log_text());
    server.kill();
    mount.remount("rw");
    let server = Server::start(&location, logs.path(), &[]);
    assert_eq!(log_call(&server, &token, deal, "after-read-only").status, 200);
    acked.push("after-read-only".into());
    drop(server);

    integrity(&location);
    for notes in &acked {
        assert_eq!(
            count(
                &location,
                "SELECT COUNT(*) FROM interactions WHERE notes = $1",
                vec![notes.as_str().into()]
            ),
            1,
            "acknowledged {notes:.20} is missing"
        );
    }
    assert_eq!(
        count(
            &location,
            "SELECT COUNT(*) FROM interactions WHERE notes = 'while-read-only'",
            vec![]
        ),
        0
    );
    assert_invariants(&location);

    // Starting on a read-only file system: a clear error and a non-zero exit.
    let fresh = tempfile::tempdir().unwrap();
    let ro = Mount::new("1m").unwrap();
    ro.remount("ro");
    let location = ro.dir.path().join("new.db").to_string_lossy().into_owned();
    let mut s = Server::spawn(&location, fresh.path(), &[]);
    let status = s.child.wait().unwrap();
    assert!(!status.success());
    let log = s.log_text();
    assert!(log.contains("opening the database"), "{log}");
    eprintln!(
        "full disk: {} writes kept, the next refused with 503; read-only file system: {read_only}; integrity ok; \
         a new database on a read-only fs exits {status}",
        acked.len()
    );
}

/// A private PostgreSQL 15 (initdb as the `postgres` user into a temp dir, on a free port),
/// so restarting it never touches the shared server.
struct PrivatePg {
    dir: tempfile::TempDir,
    port: u16,
}

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

impl PrivatePg {
    fn start() -> Option<PrivatePg> {
        if !std::path::Path::new(PG_BIN).join("initdb").exists() {
            eprintln!("skipping: no PostgreSQL 15 binaries in {PG_BIN}");
            return None;
        }
        let dir = tempfile::Builder::new().prefix("momentum-pg-").tempdir().unwrap();
        let chown = std::process::Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status();
        if !chown.is_ok_and(|s| s.success()) {
            eprintln!("skipping: cannot hand a directory to the postgres user (needs root)");
            return None;
        }
        let pg = PrivatePg { port: free_port(), dir };
        pg.pg(&["initdb", "-D", &pg.data(), "-A", "trust", "-U", "postgres", "--no-sync"]);
        pg.ctl("start");
        Some(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn pg(&self, args: &[&str]) {
        let out = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(format!("{PG_BIN}/{}", args[0]))
            .args(&args[1..])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn ctl(&self, what: &str) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("pg.log").to_string_lossy().into_owned();
        self.pg(&[
            "pg_ctl",
            "-D",
            &self.data(),
            "-o",
            &opts,
            "-l",
            &log,
            "-w",
            "-m",
            "fast",
            what,
        ]);
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let _ = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(format!("{PG_BIN}/pg_ctl"))
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
    }
}

#[test]
fn a_postgres_restart_under_load_fails_cleanly_and_reconnects() {
    let Some(pg) = PrivatePg::start() else { return };
    let mut admin = ::postgres::Client::connect(&pg.url("postgres"), ::postgres::NoTls).unwrap();
    admin.batch_execute("CREATE DATABASE momentum").unwrap();
    drop(admin);
    let location = pg.url("momentum");
    let token = acme(&location);
    let logs = tempfile::tempdir().unwrap();
    let server = Server::start(&location, logs.path(), &[("MOMENTUM_POOL_SIZE", "4")]);
    let port = server.port;
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..3)
        .map(|t| {
            let (token, stop, outcomes) = (token.clone(), stop.clone(), outcomes.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let body = json!({"name": format!("restart-{t}-{i}")});
                    let started = Instant::now();
                    let r = request(
                        port,
                        "POST",
                        "/api/v1/accounts",
                        Some(&token),
                        Some(&body),
                        Duration::from_secs(30),
                    );
                    let took = started.elapsed();
                    outcomes
                        .lock()
                        .unwrap()
                        .push((r.map(|r| (r.status, r.body)).map_err(|e| e.to_string()), took));
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    pg.ctl("stop");
    std::thread::sleep(Duration::from_secs(3));
    pg.ctl("start");
    // The server finds the database again without a restart of its own.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = server.request("GET", "/healthz", None, None);
        if r.as_ref().is_ok_and(|r| r.status == 200) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never reconnected: {r:?}\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::SeqCst);
    for h in handles {
        h.join().unwrap();
    }
    let outcomes = outcomes.lock().unwrap();
    let mut ok_after = 0;
    let mut refused = 0;
    for (r, took) in outcomes.iter() {
        assert!(*took < Duration::from_secs(15), "a request hung for {took:?}");
        match r {
            Ok((201, _)) => ok_after += 1,
            Ok((503, body)) => {
                assert!(body.contains("unavailable"), "{body}");
                refused += 1;
            }
            other => panic!("a request in the gap was neither done nor a clean 503: {other:?}"),
        }
    }
    assert!(refused > 0, "no request fell in the gap");
    let after = request(
        port,
        "POST",
        "/api/v1/accounts",
        Some(&token),
        Some(&json!({"name": "after restart"})),
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(after.status, 201, "{}", after.body);
    let slowest = outcomes.iter().map(|(_, t)| *t).max().unwrap_or_default();
    eprintln!(
        "PostgreSQL restart under load: {} requests, {refused} in the gap answered 503, {ok_after} done, slowest {slowest:?}; reconnected",
        outcomes.len()
    );
}

both_backends!(crash_under_load);
