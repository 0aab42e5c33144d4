//! Data out and back in, through the real binary on both databases: exports re-import,
//! a backup restores to identical exports, a closed pipe is not an error.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use assert_cmd::Command;
use momentum_testkit::{both_backends, TestDb};

const KINDS: [&str; 5] = ["deals", "interactions", "decisions", "accounts", "contacts"];

fn momentum(location: &str, dir: &Path) -> Command {
    let mut c = Command::cargo_bin("momentum").unwrap();
    c.env_remove("MOMENTUM_AS")
        .env_remove("MOMENTUM_ORG")
        .env("MOMENTUM_DB", location)
        .current_dir(dir);
    c
}

fn ok(location: &str, dir: &Path, args: &[&str]) -> String {
    let out = momentum(location, dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command that must be refused as bad input (exit 2), saying `why`.
fn refused(location: &str, dir: &Path, args: &[&str], why: &str) {
    let out = momentum(location, dir).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(why), "{args:?}: {stderr}");
}

fn demo(db: &TestDb, dir: &Path) {
    ok(&db.location, dir, &["demo", "--today", "2026-11-24"]);
}

/// A second, empty database of the same backend.
fn another(db: &TestDb) -> TestDb {
    match db.backend {
        "sqlite" => momentum_testkit::sqlite(),
        _ => momentum_testkit::postgres().expect("PostgreSQL was there a moment ago"),
    }
}

fn columns(csv_text: &str, keep: &[&str]) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = r.headers().unwrap().clone();
    let idx: Vec<usize> = keep
        .iter()
        .map(|k| headers.iter().position(|h| h == *k).unwrap())
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            idx.iter().map(|i| rec[*i].to_owned()).collect()
        })
        .collect()
}

/// A HubSpot export imported, a deal won in Momentum, the same export imported again: the
/// sale stands, and the summary says one deal kept what was done in Momentum.
fn a_reimport_keeps_a_sale_and_says_so(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../momentum-import/tests/fixtures/hubspot");
    let mut files: Vec<String> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let import = |extra: &[&str]| {
        let mut args = vec!["import", "hubspot"];
        args.extend(files.iter().map(String::as_str));
        args.extend(extra);
        ok(&db.location, dir.path(), &args)
    };
    import(&["--org", "Acme"]);
    let shown = ok(&db.location, dir.path(), &["deal", "show", "1"]);
    assert!(
        shown.contains("Acme rollout") && shown.contains("Status: open"),
        "{shown}"
    );
    ok(&db.location, dir.path(), &["close", "1", "--won", "--contact", "1"]);

    // The export's folder, as a user has it, rather than its files one by one.
    let mut args = vec!["import", "hubspot"];
    let folder = fixtures.to_string_lossy().into_owned();
    args.push(&folder);
    let again = ok(&db.location, dir.path(), &args);
    assert!(
        again.contains("5 unchanged (1 keeps what was changed in Momentum since the last import"),
        "{again}"
    );
    let shown = ok(&db.location, dir.path(), &["deal", "show", "1"]);
    assert!(shown.contains("Status: won"), "{shown}");
}

fn an_export_reimports_as_it_was(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    demo(db, dir.path());
    let exported = ok(&db.location, dir.path(), &["export", "deals"]);
    std::fs::write(dir.path().join("deals.csv"), &exported).unwrap();
    let copy = another(db);
    let report = ok(
        &copy.location,
        dir.path(),
        &["import", "csv", "deals.csv", "--org", "Copy"],
    );
    assert!(report.contains("deals 2000 created"), "{report}");
    let again = ok(&copy.location, dir.path(), &["export", "deals"]);
    let keep = [
        "external_id",
        "title",
        "owner",
        "account",
        "contact",
        "value",
        "currency",
        "status",
        "stage",
        "created",
        "expected_close",
        "closed",
        "lost_category",
        "lost_reason",
        "next_step_due",
        "next_step_kind",
        "next_step_buyer_committed",
    ];
    assert!(exported.contains(",true,"), "some demo steps are buyer-committed");
    assert_eq!(columns(&exported, &keep), columns(&again, &keep));
    // And once more into the copy: nothing changes.
    let report = ok(&copy.location, dir.path(), &["import", "csv", "deals.csv"]);
    assert!(
        report.contains("deals 0 created, 0 updated, 2000 unchanged"),
        "{report}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&ok(&db.location, dir.path(), &["--format", "json", "export", "deals"])).unwrap();
    let deals = json.as_array().unwrap();
    assert_eq!(deals.len(), 2000);
    assert!(deals[0]["deal_id"].is_i64() && deals[0]["value"].is_string());

    let out = momentum(&db.location, dir.path())
        .args(["--as", "sam@demo.momentum.test", "export", "deals"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exporting is for admins"));
    assert!(
        out.stdout.is_empty(),
        "a refused export writes nothing, not even the header: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The spreadsheet round trip: export the deals, edit one in the file, import it into the
/// same org. The deal made in Momentum is updated, not imported a second time.
fn an_edited_export_updates_the_same_deals(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    demo(db, dir.path());
    let exported = ok(&db.location, dir.path(), &["export", "deals"]);
    let mut lines: Vec<String> = exported.lines().map(str::to_owned).collect();
    let first = columns(&exported, &["deal_id", "title"])[0].clone();
    lines[1] = lines[1].replacen(&first[1], "Renamed in a spreadsheet", 1);
    std::fs::write(dir.path().join("edited.csv"), lines.join("\n") + "\n").unwrap();

    let report = ok(&db.location, dir.path(), &["import", "csv", "edited.csv"]);
    assert!(report.contains("deals 0 created"), "{report}");
    let again = ok(&db.location, dir.path(), &["export", "deals"]);
    let ids = columns(&again, &["external_id"]);
    assert_eq!(ids.len(), 2000, "no deal twice");
    let shown = ok(&db.location, dir.path(), &["deal", "show", &first[0]]);
    assert!(shown.contains("Renamed in a spreadsheet"), "{shown}");
    // Once more: the deals now carry the export's ids and what it said of them.
    let report = ok(&db.location, dir.path(), &["import", "csv", "edited.csv"]);
    assert!(
        report.contains("deals 0 created, 0 updated, 2000 unchanged"),
        "{report}"
    );

    // Another database's export names its deals alike: a row "momentum-<id>" created at
    // another time is another deal, which cannot take the id this org's deal has.
    let mut reader = csv::Reader::from_reader(again.as_bytes());
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut row: Vec<String> = reader
        .records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    row[at("title")] = "Another database's deal".into();
    row[at("created")] = "2020-01-01T00:00:00Z".into();
    let mut foreign = csv::Writer::from_writer(Vec::new());
    foreign.write_record(&header).unwrap();
    foreign.write_record(&row).unwrap();
    std::fs::write(dir.path().join("foreign.csv"), foreign.into_inner().unwrap()).unwrap();
    refused(
        &db.location,
        dir.path(),
        &["import", "csv", "foreign.csv"],
        "this names a deal made in this org, created at another time",
    );
    let shown = ok(&db.location, dir.path(), &["deal", "show", &first[0]]);
    assert!(shown.contains("Renamed in a spreadsheet"), "untouched: {shown}");

    // The contacts export is not a deals file, though it has a "title" column.
    let contacts = ok(&db.location, dir.path(), &["export", "contacts"]);
    std::fs::write(dir.path().join("contacts.csv"), contacts).unwrap();
    refused(
        &db.location,
        dir.path(),
        &["import", "csv", "contacts.csv"],
        "contacts.csv:1: this is not a file the momentum import reads",
    );
}

fn a_closed_pipe_ends_an_export_quietly(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    demo(db, dir.path());
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("momentum"))
        .args(["export", "interactions"])
        .env("MOMENTUM_DB", &db.location)
        .env_remove("MOMENTUM_AS")
        .env_remove("MOMENTUM_ORG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("deal_id,deal_external_id,seq"), "{first}");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// A backup of a database that is not there is refused, not an empty one passed off.
#[test]
fn a_backup_of_no_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = momentum("missing.db", dir.path())
        .args(["backup", "nightly.backup"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no database here to back up"));
    assert!(!dir.path().join("missing.db").exists() && !dir.path().join("nightly.backup").exists());
}

fn a_backup_restores_to_identical_exports(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    demo(db, dir.path());
    ok(&db.location, dir.path(), &["backup", "snapshot.backup"]);
    let out = momentum(&db.location, dir.path())
        .args(["backup", "snapshot.backup"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a backup never overwrites a file");

    let out = momentum(&db.location, dir.path())
        .args(["--as", "sam@demo.momentum.test", "backup", "sam.backup"])
        .output()
        .unwrap();
    assert_ne!(
        out.status.code(),
        Some(0),
        "a seller does not take every org's records home"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("backing up is for admins"));
    assert!(!dir.path().join("sam.backup").exists());

    // A copy cut short restores nothing, whichever kind of backup it is.
    let whole = std::fs::read(dir.path().join("snapshot.backup")).unwrap();
    let half = &whole[..whole.len() / 2];
    let half = &half[..half.iter().rposition(|b| *b == b'\n').unwrap_or(half.len())];
    std::fs::write(dir.path().join("cut.backup"), half).unwrap();
    let cut = another(db);
    let out = momentum(&cut.location, dir.path())
        .args(["restore", "cut.backup"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    if db.backend == "postgres" {
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("the copy was cut short, so nothing was restored"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let org = momentum(&cut.location, dir.path())
        .args(["export", "deals"])
        .output()
        .unwrap();
    assert!(!org.status.success(), "no org came back: nothing to export");

    let copy = another(db);
    let restored = ok(&copy.location, dir.path(), &["restore", "snapshot.backup"]);
    assert!(restored.starts_with("Restored "), "{restored}");
    for kind in KINDS {
        let a = ok(&db.location, dir.path(), &["export", kind]);
        let b = ok(&copy.location, dir.path(), &["export", kind]);
        assert!(a.lines().count() > 1, "{kind} is not empty");
        assert!(a == b, "export {kind} differs after restore");
    }
    // The restored database goes on handing out ids after the restored ones.
    let created = ok(
        &copy.location,
        dir.path(),
        &["--format", "json", "account", "add", "After Restore"],
    );
    let id = serde_json::from_str::<serde_json::Value>(&created).unwrap()["id"]
        .as_i64()
        .unwrap();
    let accounts = columns(
        &ok(&copy.location, dir.path(), &["export", "accounts"]),
        &["account_id"],
    );
    assert_eq!(id, accounts.len() as i64);

    let out = momentum(&copy.location, dir.path())
        .args(["restore", "snapshot.backup"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("restore goes into an empty database"));
}

fn a_seller_gets_a_calendar_feed_and_file(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    demo(db, dir.path());
    let sam = ["--as", "sam@demo.momentum.test"];
    let ics = ok(&db.location, dir.path(), &[&sam[..], &["calendar", "export"]].concat());
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"), "{}", &ics[..40]);
    assert!(
        ics.ends_with("\r\nEND:VCALENDAR\r\n"),
        "every line ends CRLF, the last too"
    );
    assert!(!ics.replace("\r\n", "").contains('\n'), "no bare line feed");
    let open = ok(
        &db.location,
        dir.path(),
        &[
            &sam[..],
            &[
                "--format",
                "json",
                "deal",
                "list",
                "--status",
                "open",
                "--owner",
                "sam@demo.momentum.test",
                "--limit",
                "1000",
            ],
        ]
        .concat(),
    );
    let open = serde_json::from_str::<serde_json::Value>(&open)
        .unwrap()
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        ics.matches("BEGIN:VEVENT").count(),
        open,
        "one event per open deal's next step"
    );

    let feed = ok(
        &db.location,
        dir.path(),
        &[&sam[..], &["--format", "json", "calendar", "feed"]].concat(),
    );
    let url = serde_json::from_str::<serde_json::Value>(&feed).unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:8080/calendar/cal_1_") && url.ends_with(".ics"),
        "{url}"
    );
    ok(&db.location, dir.path(), &[&sam[..], &["calendar", "revoke"]].concat());
    let out = momentum(&db.location, dir.path())
        .args(sam)
        .args(["calendar", "revoke"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "nothing left to revoke");
}

both_backends!(
    a_seller_gets_a_calendar_feed_and_file,
    an_export_reimports_as_it_was,
    an_edited_export_updates_the_same_deals,
    a_reimport_keeps_a_sale_and_says_so,
    a_closed_pipe_ends_an_export_quietly,
    a_backup_restores_to_identical_exports,
);
