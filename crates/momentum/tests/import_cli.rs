//! `momentum import` as a user meets it: the real binary, both databases.

use std::path::Path;

use assert_cmd::Command;
use momentum_testkit::{both_backends, TestDb};

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

[format]
date = "auto"
currency = "USD"
"#;

const DEALS: &str = "Opportunity ID,Opportunity Name,Owner,Company,Amount,Created Date,Close Date,Stage
OPP-1,Acme rollout,Sam Seller,Acme,12000,2026-03-01,,Qualification
OPP-2,Globex renewal,Sam Seller,Globex,48000,2026-02-11,2026-05-30,Closed Won
";

fn momentum(db: &TestDb, dir: &Path) -> Command {
    let mut c = Command::cargo_bin("momentum").unwrap();
    c.env_remove("MOMENTUM_AS")
        .env_remove("MOMENTUM_ORG")
        .env("MOMENTUM_DB", &db.location)
        .current_dir(dir);
    c
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn into_an_empty_database_creates_the_org_and_prints_the_admin_once(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "m.toml", MAPPING);
    write(dir.path(), "deals.csv", DEALS);
    let args = ["import", "csv", "deals.csv", "--mapping", "m.toml"];
    let out = momentum(db, dir.path()).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--org NAME"));

    let out = momentum(db, dir.path())
        .args(args)
        .args(["--org", "Acme Co", "--dry-run"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("Dry run (nothing written) into Acme Co"), "{text}");
    assert!(!text.contains("password"), "a dry run creates no admin: {text}");

    let out = momentum(db, dir.path())
        .args(["--format", "json"])
        .args(args)
        .args(["--org", "Acme Co"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["report"]["deals_created"], 2);
    assert_eq!(json["admin"]["email"], "admin@acme-co.momentum.local");
    assert_eq!(json["admin"]["password"].as_str().unwrap().len(), 20);

    let out = momentum(db, dir.path())
        .args([
            "--as",
            "admin@acme-co.momentum.local",
            "--format",
            "json",
            "deal",
            "list",
        ])
        .output()
        .unwrap();
    let deals: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(deals.as_array().unwrap().len(), 2);

    // Again, as the admin: the same file changes nothing.
    let out = momentum(db, dir.path())
        .args(["--as", "admin@acme-co.momentum.local"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("deals 0 created, 0 updated, 2 unchanged"), "{text}");
    assert!(!text.contains("password"), "credentials are shown once: {text}");
}

fn bad_rows_are_each_reported_with_exit_2(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "m.toml", MAPPING);
    write(
        dir.path(),
        "bad.csv",
        &format!("{DEALS}OPP-3,Third,Sam Seller,Acme,abc,2026-03-01,,Qualification\nOPP-4,Fourth,Sam Seller,Acme,10,2026-03-01,,Stalled\n"),
    );
    let out = momentum(db, dir.path())
        .args(["import", "csv", "bad.csv", "--mapping", "m.toml", "--org", "Acme"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bad.csv:4: column \"Amount\" = \"abc\": an amount is"),
        "{err}"
    );
    assert!(err.contains("bad.csv:5: column \"Stage\" = \"Stalled\""), "{err}");
    assert!(err.contains("2 problems in the files: nothing was written"), "{err}");
    // Nothing written: the org was not created either, so the database is still empty.
    let out = momentum(db, dir.path()).args(["deal", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no org yet"));

    write(
        dir.path(),
        "broken.toml",
        "[deal]\nstatus = \"Stage\"\n[deal.status]\nwon = [\"Won\"]\n",
    );
    let out = momentum(db, dir.path())
        .args(["import", "csv", "bad.csv", "--mapping", "broken.toml", "--org", "Acme"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mapping broken.toml"));

    // A mapping file that is not there is bad input too.
    let out = momentum(db, dir.path())
        .args(["import", "csv", "bad.csv", "--mapping", "missing.toml", "--org", "Acme"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mapping missing.toml: cannot read it"), "{err}");
}

fn suggest_mapping_starts_from_the_header(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "deals.csv", DEALS);
    let out = momentum(db, dir.path())
        .args(["import", "csv", "deals.csv", "--suggest-mapping"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let m = momentum_import::Mapping::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let deal = m.deal.unwrap();
    assert!(
        matches!(deal.title, Some(momentum_import::mapping::Col::One(ref t)) if t == "Opportunity Name"),
        "{text}"
    );
    assert!(text.contains("won = [\"Closed Won\"]"), "{text}");
    assert!(text.contains("open = [\"Qualification\"]"), "{text}");
}

/// A dry run writes nothing, not even the database file it was pointed at.
#[test]
fn a_dry_run_into_a_new_file_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "m.toml", MAPPING);
    write(dir.path(), "deals.csv", DEALS);
    let db = dir.path().join("team.db");
    let out = Command::cargo_bin("momentum")
        .unwrap()
        .env_remove("MOMENTUM_AS")
        .env_remove("MOMENTUM_ORG")
        .current_dir(dir.path())
        .args(["--db", db.to_str().unwrap()])
        .args([
            "import",
            "csv",
            "deals.csv",
            "--mapping",
            "m.toml",
            "--org",
            "Acme Co",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("Dry run (nothing written) into Acme Co (a new org): 2 rows read; deals 2 created"),
        "{text}"
    );
    assert!(text.contains("1 user created"), "Sam Seller is not a user yet: {text}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("team.db"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A real Salesforce export folder, as unzipped (its licence and notes beside the CSVs).
fn a_salesforce_export_folder_imports_whole(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../momentum-import/tests/fixtures/salesforce-devorg");
    assert!(folder.join("SOURCE.txt").exists() && folder.join("LICENSE").exists());
    let out = momentum(db, dir.path())
        .args(["import", "salesforce", folder.to_str().unwrap(), "--org", "Dev Org"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("Imported into Dev Org (a new org)"), "{text}");
    assert!(text.contains("Note: OpportunityHistoryGroup.csv: skipped"), "{text}");
    assert!(!text.contains("SOURCE") && !text.contains("LICENSE"), "{text}");
}

both_backends!(
    into_an_empty_database_creates_the_org_and_prints_the_admin_once,
    a_salesforce_export_folder_imports_whole,
    bad_rows_are_each_reported_with_exit_2,
    suggest_mapping_starts_from_the_header,
);
