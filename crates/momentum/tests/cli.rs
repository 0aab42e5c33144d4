//! The CLI as a user meets it: the real binary, a fresh database per test, both backends.

use assert_cmd::Command;
use momentum_testkit::{both_backends, TestDb};

fn momentum(db: &TestDb) -> Command {
    let mut c = Command::cargo_bin("momentum").unwrap();
    c.env_remove("MOMENTUM_AS")
        .env_remove("MOMENTUM_ORG")
        .env("MOMENTUM_DB", &db.location);
    c
}

/// Runs and returns stdout, asserting success.
fn ok(db: &TestDb, args: &[&str]) -> String {
    let out = momentum(db).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs, asserts exit code 2, and returns stderr.
fn refused(db: &TestDb, args: &[&str]) -> String {
    let out = momentum(db).args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).unwrap()
}

/// An org with a seller who owns deal 1 (with contact 1) and another seller.
fn setup(db: &TestDb) {
    ok(
        db,
        &[
            "org",
            "create",
            "Acme",
            "--admin-email",
            "ada@acme.test",
            "--admin-name",
            "Ada",
        ],
    );
    ok(
        db,
        &[
            "user",
            "add",
            "--email",
            "sam@acme.test",
            "--name",
            "Sam",
            "--role",
            "seller",
        ],
    );
    ok(
        db,
        &[
            "user",
            "add",
            "--email",
            "bob@acme.test",
            "--name",
            "Bob",
            "--role",
            "seller",
        ],
    );
    ok(db, &["account", "add", "Globex"]);
    ok(db, &["contact", "add", "Hank Buyer", "--account", "1"]);
    ok(
        db,
        &[
            "--as",
            "sam@acme.test",
            "deal",
            "create",
            "--title",
            "Rollout",
            "--value",
            "25000",
            "--account",
            "1",
            "--contact",
            "1",
            "--next-at",
            "+2d",
        ],
    );
}

fn deal_json(db: &TestDb) -> String {
    ok(db, &["--format", "json", "deal", "show", "1"])
}

fn bad_commands_exit_2_and_change_nothing(db: &TestDb) {
    setup(db);
    let before = deal_json(db);
    let sam = ["--as", "sam@acme.test"];
    let cases: &[(&[&str], &str)] = &[
        // No sale, no future next step, no definitive no.
        (
            &["log", "1", "--result", "stayed", "--contact", "1"],
            "next_step is missing",
        ),
        (
            &["log", "1", "--result", "stayed", "--next-at", "2020-01-01"],
            "next_step.due is \"2020-01-01T09:00:00Z\": a next step must be in the future",
        ),
        // A stage change without a buyer decision (no contact who decided).
        (
            &["log", "1", "--result", "advanced", "--next-at", "+3d"],
            "contact is missing",
        ),
        (&["decide", "1", "--to", "2"], "contact is missing"),
        // Lost without the buyer's words.
        (
            &["close", "1", "--lost", "--reason-category", "price"],
            "buyer_words is missing",
        ),
        (
            &[
                "log",
                "1",
                "--result",
                "stayed",
                "--definitive-no",
                "--reason-category",
                "price",
            ],
            "buyer_words is missing",
        ),
        (
            &["log", "1", "--result", "won", "--sold"],
            "result is \"won\": must be one of: advanced, stayed, back",
        ),
        (
            &[
                "need",
                "1",
                "--kind",
                "problem",
                "--buyer-words",
                "x",
                "--consequence",
                "y",
                "--by",
                "2020-01-01",
                "--cost-per-month",
                "10",
            ],
            "need.matters_by",
        ),
        (&["deal", "create", "--title", "X", "--value=-5"], "value is \"-5\""),
        (
            &["checkin", "--commitment", "11", "--why", "x"],
            "commitment is \"11\": commitment is rated from 1 to 10",
        ),
    ];
    for (args, message) in cases {
        let all: Vec<&str> = sam.iter().chain(args.iter()).copied().collect();
        let err = refused(db, &all);
        assert!(err.contains(message), "{args:?}: {err}");
    }
    // Another seller's deal.
    let err = refused(
        db,
        &["--as", "bob@acme.test", "log", "1", "--result", "stayed", "--follow-up"],
    );
    assert!(err.contains("a seller acts only on their own deals"), "{err}");
    let err = refused(
        db,
        &["--as", "bob@acme.test", "disqualify", "1", "--reason", "mine now"],
    );
    assert!(err.contains("a seller acts only on their own deals"), "{err}");
    assert_eq!(deal_json(db), before, "a refused command changed the deal");
}

fn the_method_works_end_to_end(db: &TestDb) {
    setup(db);
    let sam = |args: &[&str]| ok(db, &[&["--as", "sam@acme.test"][..], args].concat());
    let out = sam(&[
        "log",
        "1",
        "--kind",
        "meeting",
        "--contact",
        "1",
        "--result",
        "advanced",
        "--next-at",
        "+7d",
        "--buyer-committed",
        "--aims-at",
        "3",
    ]);
    assert!(out.contains("stage 1 agreed to meet"), "{out}");
    sam(&[
        "need",
        "1",
        "--kind",
        "threat",
        "--buyer-words",
        "Audit in March",
        "--consequence",
        "Fines",
        "--by",
        "2099-03-01",
        "--cost-per-month",
        "1200.50",
    ]);
    let show = sam(&["deal", "show", "1"]);
    for expected in [
        "advance 0 → 1 (agreed to meet)  by Hank Buyer",
        "aiming at \"agreed the cost of inaction and the date\" (buyer committed)",
        "costs 1200.50 USD a month",
        "Prepare for the buyer's next decision: 2",
    ] {
        assert!(show.contains(expected), "missing {expected:?} in\n{show}");
    }
    let json: serde_json::Value = serde_json::from_str(&sam(&["--format", "json", "deal", "show", "1"])).unwrap();
    assert_eq!(json["decisions"].as_array().unwrap().len(), 1);
    assert_eq!(json["need"]["cost_per_month"]["minor"], 120_050);
    sam(&["log", "1", "--contact", "1", "--result", "advanced", "--sold"]);
    let list: serde_json::Value =
        serde_json::from_str(&sam(&["--format", "json", "deal", "list", "--status", "won"])).unwrap();
    assert_eq!(list[0]["stage"]["name"], "signed");
    assert_eq!(list[0]["next_step"], serde_json::Value::Null);
}

fn a_closed_pipe_is_not_an_error(db: &TestDb) {
    setup(db);
    for i in 0..30 {
        ok(
            db,
            &["deal", "create", "--title", &format!("Deal {i}"), "--value", "100"],
        );
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{}' deal list | head -1", env!("CARGO_BIN_EXE_momentum")))
        .env("MOMENTUM_DB", &db.location)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn the_demo_refuses_a_database_with_data(db: &TestDb) {
    setup(db);
    let err = refused(db, &["demo", "--today", "2026-11-24"]);
    assert!(err.contains("--force"), "{err}");
    assert!(ok(db, &["deal", "list"]).contains("Rollout"));
}

/// The "done when": `momentum demo && momentum report give-up` shows the sellers
/// planted as giving up early; every report prints as a table, JSON and CSV.
fn the_demo_report_shows_the_planted_sellers(db: &TestDb) {
    ok(db, &["demo"]);
    let table = ok(db, &["report", "give-up"]);
    let flagged: Vec<&str> = table
        .lines()
        .filter(|l| l.trim_end_matches(['│', ' ']).ends_with("yes"))
        .map(|l| l.trim_start_matches(['│', ' ']).split("  ").next().unwrap())
        .collect();
    assert_eq!(flagged, ["Leo Park", "Julia Santos"], "{table}");
    for name in [
        "summary",
        "month-gap",
        "cholesterol",
        "give-up",
        "close-timing",
        "results",
        "prospecting",
        "calibration",
        "win-probability",
    ] {
        let json: serde_json::Value = serde_json::from_str(&ok(db, &["--format", "json", "report", name])).unwrap();
        assert!(json.is_object(), "{name}");
        let csv = ok(db, &["--format", "csv", "report", name]);
        assert!(csv.lines().count() > 1, "{name}: {csv}");
    }
    let csv = ok(db, &["--format", "csv", "report", "summary"]);
    assert!(csv.starts_with("figure,value\ndeals,2000\n"), "{csv}");
    let grace = ok(
        db,
        &[
            "--format",
            "json",
            "report",
            "close-timing",
            "--seller",
            "grace@demo.momentum.test",
        ],
    );
    let grace: serde_json::Value = serde_json::from_str(&grace).unwrap();
    assert_eq!(grace["sellers"][0]["asks_too_early"], true, "{grace}");
    assert!(refused(db, &["report", "nonsense"]).contains("report is \"nonsense\": must be one of"));
    assert!(refused(db, &["report", "summary", "--from", "last week"]).contains("from is \"last week\""));
    let other = refused(
        db,
        &[
            "--as",
            "sam@demo.momentum.test",
            "report",
            "summary",
            "--seller",
            "leo@demo.momentum.test",
        ],
    );
    assert!(other.contains("Leo Park"), "{other}");
}

both_backends!(
    the_demo_report_shows_the_planted_sellers,
    bad_commands_exit_2_and_change_nothing,
    the_method_works_end_to_end,
    a_closed_pipe_is_not_an_error,
    the_demo_refuses_a_database_with_data,
);

/// The same seed gives the same demo on both databases, down to ids and timestamps.
#[test]
fn the_demo_is_identical_on_sqlite_and_postgres() {
    let lite = momentum_testkit::sqlite();
    let Some(pg) = momentum_testkit::postgres() else { return };
    let mut outputs = Vec::new();
    for db in [&lite, &pg] {
        let summary = ok(
            db,
            &["--format", "json", "demo", "--seed", "7", "--today", "2026-11-24"],
        );
        let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
        assert_eq!(summary["deals"], 2000, "{summary}");
        let list = ok(db, &["--format", "json", "deal", "list", "--limit", "10000"]);
        let shows: Vec<String> = ["1", "2", "777", "2000"]
            .iter()
            .map(|id| ok(db, &["--format", "json", "deal", "show", id]))
            .collect();
        let sam_today = ok(db, &["--as", "sam@demo.momentum.test", "--format", "json", "today"]);
        outputs.push((list, shows, sam_today));
    }
    let list: serde_json::Value = serde_json::from_str(&outputs[0].0).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2000);
    assert!(outputs[0] == outputs[1], "SQLite and PostgreSQL demos differ");
}

/// `momentum serve` answers, and on SIGTERM finishes and exits cleanly.
#[test]
fn serve_starts_answers_and_stops_on_sigterm() {
    let db = momentum_testkit::sqlite();
    ok(
        &db,
        &[
            "org",
            "create",
            "Acme",
            "--admin-email",
            "ada@acme.test",
            "--admin-name",
            "Ada",
        ],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_momentum"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("MOMENTUM_DB", &db.location)
        .env_remove("MOMENTUM_AS")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut answered = false;
    for _ in 0..100 {
        if let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut reply = String::new();
            conn.read_to_string(&mut reply).unwrap();
            assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
            answered = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(answered, "the server never answered");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server.wait().unwrap();
    let mut log = String::new();
    std::io::Read::read_to_string(server.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert!(status.success(), "{status}: {log}");
    assert!(log.contains("shutting down"), "{log}");
}
