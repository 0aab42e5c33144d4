//! Imports as a user meets them, on both databases: generic CSV through a mapping, the
//! three vendors' exports, dry runs, every bad row reported with nothing written, and
//! re-imports that update instead of duplicating.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use momentum_core::commands::{self, NewOrg};
use momentum_core::model::*;
use momentum_core::money::Currency;
use momentum_core::vocab::*;
use momentum_import::{Mapping, Options, Report, Vendor};
use momentum_store::import::Target;
use momentum_store::ops::{self, DealFilter, Session};
use momentum_store::{Store, StoreError};
use momentum_testkit::{both_backends, TestDb};

/// The issue's example, with `status` moved into its table as `column` (TOML cannot hold
/// both `status = "Stage"` and a `[deal.status]` table).
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
"agreed to meet" = ["Qualification"]
"5" = ["Proposal"]

[format]
date = "auto"
currency = "USD"
"#;

const DEALS: &str = "Opportunity ID,Opportunity Name,Owner,Company,Amount,Created Date,Close Date,Stage
OPP-1,Acme rollout,ada@acme.test,Acme,\"12,000.50\",3/1/2026,,Qualification
OPP-2,Globex renewal,Sam Seller,Globex,48000,2/11/2026,5/30/2026,Closed Won
OPP-3,Initech pilot,,,,,6/2/2026,Closed Lost
OPP-4,Umbrella deal,ada@acme.test,Acme,900,1/5/2026,,Proposal
";

fn now() -> Timestamp {
    "2026-11-01T12:00:00Z".parse().unwrap()
}

fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn org(store: &mut Store) -> Session {
    ops::create_org(
        store,
        NewOrg {
            name: "Acme",
            currency: Currency::USD,
            timezone: "UTC",
        },
        ops::FirstAdmin {
            email: "ada@acme.test",
            name: "Ada",
            password_hash: None,
        },
        now(),
    )
    .unwrap()
}

fn run(store: &mut Store, s: &Session, files: &[PathBuf], mapping: &Mapping, dry_run: bool) -> Report {
    momentum_import::import(
        store,
        Target::Org(s),
        files,
        mapping,
        &Options {
            dry_run,
            now: now(),
            progress: None,
        },
    )
    .unwrap()
}

fn deals(store: &mut Store, s: &Session) -> Vec<Deal> {
    ops::list_deals(
        store,
        s,
        &DealFilter {
            limit: 1000,
            ..DealFilter::default()
        },
    )
    .unwrap()
    .into_iter()
    .map(|r| r.deal)
    .collect()
}

/// A report's errors as the CLI prints them.
fn errors_of(report: &Report) -> Vec<String> {
    report.errors.iter().map(ToString::to_string).collect()
}

/// Imports one file of `text`, named `name`, through `mapping`.
fn import_text(store: &mut Store, s: &Session, dir: &Path, name: &str, text: &str, mapping: &Mapping) -> Report {
    run(store, s, &[file(dir, name, text)], mapping, false)
}

fn by_external<'a>(deals: &'a [Deal], id: &str) -> &'a Deal {
    deals.iter().find(|d| d.external_id.as_deref() == Some(id)).unwrap()
}

fn generic_csv_records_history_as_it_was(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let mapping = Mapping::parse(MAPPING).unwrap();
    let report = import_text(&mut store, &s, dir.path(), "deals.csv", DEALS, &mapping);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.committed);
    assert_eq!(
        (report.deals_created, report.users_created, report.accounts_created),
        (4, 1, 2)
    );
    assert_eq!(
        report.warnings["created date blank: the close date, or else the import time, stands in"],
        1
    );
    assert_eq!(report.warnings["owner blank: the importing admin owns the deal"], 1);
    assert!(
        report
            .warnings
            .keys()
            .any(|w| w.contains("\"Sam Seller\" is not a user")),
        "{:?}",
        report.warnings
    );

    let all = deals(&mut store, &s);
    let open = by_external(&all, "OPP-1");
    assert_eq!(open.value_minor, Some(1_200_050));
    assert_eq!(open.stage, Step(1));
    assert_eq!(open.provenance.as_deref(), Some("csv:deals.csv:2"));
    let step = open.next_step().expect("an open deal has its next step");
    assert!(
        !step.buyer_committed,
        "the cadence's follow-up is the seller's, not a buyer appointment"
    );
    assert!(step.due > now());
    assert_eq!(step.aims_at, Step(2));

    let won = by_external(&all, "OPP-2");
    assert_eq!(won.status(), DealStatus::Won);
    assert_eq!(won.state.closed_at(), Some("2026-05-30T00:00:00Z".parse().unwrap()));
    assert_eq!(won.created_at, "2026-02-11T00:00:00Z".parse().unwrap());
    let sam = ops::users(&mut store, &s)
        .unwrap()
        .into_iter()
        .find(|u| u.name == "Sam Seller")
        .unwrap();
    assert!(
        !sam.active && sam.role == Role::Seller,
        "an unknown owner becomes an inactive seller"
    );
    assert_eq!(won.owner.id, sam.id);
    assert_eq!(sam.email.as_str(), "sam.seller@imported.invalid");

    let lost = by_external(&all, "OPP-3");
    match &lost.state {
        DealState::Lost {
            category, buyer_words, ..
        } => {
            assert_eq!(*category, LostCategory::NotRecorded);
            assert_eq!(buyer_words, "not recorded in source");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!((lost.account, lost.value_minor), (None, None), "blank stays blank");
    assert_eq!(
        lost.created_at,
        "2026-06-02T00:00:00Z".parse().unwrap(),
        "a closed deal's blank creation date is its close date: it existed by then"
    );
    let open = by_external(&all, "OPP-1");
    assert_eq!(open.created_at, "2026-03-01T00:00:00Z".parse().unwrap());
    assert_eq!(lost.stage, Step(0), "no stage in the source, no decision invented");

    let view = ops::show_deal(&mut store, &s, by_external(&all, "OPP-4").id).unwrap();
    assert_eq!(view.decisions.len(), 1);
    assert_eq!(view.decisions[0].to, Step(5));
    assert_eq!(
        view.decisions[0].contact, None,
        "the source did not say which buyer decided"
    );
}

/// Amounts as spreadsheets write them: thousands grouped with commas and the deal's own
/// currency sign are read exactly; a decimal comma or another currency's sign is refused,
/// never stored as a different amount.
fn amounts_are_read_exactly_or_refused(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let mapping = Mapping::parse(MAPPING).unwrap();
    let header = "Opportunity ID,Opportunity Name,Owner,Company,Amount,Created Date,Close Date,Stage\n";
    let bad = format!(
        "{header}OPP-1,Decimal comma,,Acme,\"12,50\",3/1/2026,,Qualification
OPP-2,Pounds,,Acme,£300,3/1/2026,,Qualification
OPP-3,Euros,,Acme,€ 90,3/1/2026,,Qualification
OPP-4,Too much,,Acme,92233720368547758.07,3/1/2027,,Qualification
"
    );
    let report = import_text(&mut store, &s, dir.path(), "bad.csv", &bad, &mapping);
    let shown = errors_of(&report);
    assert_eq!(shown.len(), 5, "{shown:#?}");
    // The core's refusals show the cells as the file has them, not as converted.
    assert!(
        shown[3].starts_with("bad.csv:5: column \"Amount\" = \"92233720368547758.07\""),
        "{shown:#?}"
    );
    assert!(
        shown[4].starts_with(
            "bad.csv:5: column \"Created Date\" = \"3/1/2027\": a deal's creation date cannot lie in the future"
        ),
        "{shown:#?}"
    );
    assert!(
        shown[0].starts_with("bad.csv:2: column \"Amount\" = \"12,50\": an amount is")
            && shown[0].contains("a comma only groups thousands"),
        "{shown:#?}"
    );
    assert!(
        shown[1].contains("\"£300\": the amount is written in another currency than the deal's (USD, $)"),
        "{shown:#?}"
    );
    assert!(shown[2].contains("\"€ 90\""), "{shown:#?}");
    assert!(deals(&mut store, &s).is_empty());

    let good = format!(
        "{header}OPP-1,Dollars,,Acme,\"$1,200.50\",3/1/2026,,Qualification
OPP-2,Grouped,,Acme,\"1,000,000\",3/1/2026,,Qualification
OPP-3,Spaced sign,,Acme,$ 75,3/1/2026,,Qualification
"
    );
    let report = import_text(&mut store, &s, dir.path(), "good.csv", &good, &mapping);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let all = deals(&mut store, &s);
    let values: Vec<_> = ["OPP-1", "OPP-2", "OPP-3"]
        .iter()
        .map(|e| by_external(&all, e).value_minor)
        .collect();
    assert_eq!(values, [Some(120_050), Some(100_000_000), Some(7_500)]);
}

/// A company name no account can have is the row's error, named by line and column, not
/// a deal quietly left without its account; so is an "id" no source system writes.
fn a_company_name_past_the_limit_refuses_its_row(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let long = "A".repeat(5000);
    let id = "9".repeat(256);
    let text = format!(
        "Opportunity ID,Opportunity Name,Owner,Company,Amount,Created Date,Close Date,Stage
OPP-1,Fine,,Acme,100,3/1/2026,,Qualification
OPP-2,Long company,,{long},100,3/1/2026,,Qualification
{id},Long id,,Acme,100,3/1/2026,,Qualification
"
    );
    let report = run(
        &mut store,
        &s,
        &[file(dir.path(), "long.csv", &text)],
        &Mapping::parse(MAPPING).unwrap(),
        false,
    );
    let shown = errors_of(&report);
    assert_eq!(shown.len(), 2, "{shown:#?}");
    assert!(
        shown[0].starts_with("long.csv:3: column \"Company\" = \"AAAA"),
        "{shown:#?}"
    );
    assert!(
        shown[1].starts_with("long.csv:4: column \"Opportunity ID\" = \"9999")
            && shown[1].ends_with("at most 255 characters (this has 256)"),
        "{shown:#?}"
    );
    assert!(!report.committed && deals(&mut store, &s).is_empty());
}

/// A company or contact whose "Record ID" is no id is its row's error, as a deal's is.
fn an_id_past_the_limit_refuses_its_row(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let long = "5".repeat(300);
    let mut files = Vec::new();
    for f in fixtures("hubspot") {
        let text = std::fs::read_to_string(&f).unwrap();
        let name = f.file_name().unwrap().to_str().unwrap().to_owned();
        let text = text.replace("\"501\",\"Acme Corp\"", &format!("\"{long}\",\"Acme Corp\""));
        let text = text.replace("\"702\",\"Hank\"", &format!("\"{long}\",\"Hank\""));
        files.push(file(dir.path(), &name, &text));
    }
    let report = run(&mut store, &s, &files, &Mapping::vendor(Vendor::Hubspot), false);
    let shown = errors_of(&report);
    assert_eq!(shown.len(), 2, "{shown:#?}");
    for (e, at) in shown
        .iter()
        .zip(["companies-2024-08-27.csv:2", "contacts-2024-08-27.csv:3"])
    {
        assert!(
            e.starts_with(&format!("hubspot-crm-exports-all-{at}: column \"Record ID\" = \"5555")),
            "{e}"
        );
        assert!(e.ends_with("at most 255 characters (this has 300)"), "{e}");
    }
    assert!(!report.committed && deals(&mut store, &s).is_empty());
}

/// One deal in two files of one run (a folder and one of its files, say) is one record
/// given twice: refused like a repeat within a file, naming both places. A date no CRM
/// means ("never" as 12/31/9999) is its row's error, not a blank.
fn one_record_in_two_files_is_refused(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let header = DEALS.lines().next().unwrap();
    let files = [
        file(dir.path(), "a.csv", DEALS),
        file(
            dir.path(),
            "b.csv",
            &format!(
                "{header}\nOPP-9,New,,Acme,1,3/1/2026,,Qualification\nOPP-2,Again,,Acme,1,12/31/9999,,Qualification\n"
            ),
        ),
    ];
    let report = run(&mut store, &s, &files, &Mapping::parse(MAPPING).unwrap(), false);
    let shown = errors_of(&report);
    assert_eq!(
        shown,
        [
            "b.csv:3: column \"Opportunity ID\" = \"OPP-2\": the same id is on a.csv line 3: each record appears once",
            "b.csv:3: column \"Created Date\" = \"12/31/9999\": a date's year is from 1900 to 2199",
        ]
    );
    assert!(deals(&mut store, &s).is_empty(), "nothing written");
}

/// A file Excel wrote on Windows (byte-order mark, CRLF line ends), with a title over two
/// lines and a blank line: errors and provenance name the lines an editor shows.
fn crlf_files_name_their_lines_as_an_editor_does(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let mapping = Mapping::parse(MAPPING).unwrap();
    let header = DEALS.lines().next().unwrap();
    let text = |third_amount: &str| {
        format!(
            "\u{feff}{header}\r\nOPP-1,One,,Acme,1,3/1/2026,,Qualification\r\nOPP-2,\"Two\r\nlines\",,Acme,1,3/1/2026,,Qualification\r\n\r\nOPP-3,Three,,Acme,{third_amount},3/1/2026,,Qualification\r\n"
        )
    };
    let bad = import_text(&mut store, &s, dir.path(), "crlf.csv", &text("1.505"), &mapping);
    let shown = errors_of(&bad);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].starts_with("crlf.csv:6: column \"Amount\" = \"1.505\""),
        "{shown:?}"
    );

    let good = import_text(&mut store, &s, dir.path(), "crlf.csv", &text("2"), &mapping);
    assert!(good.errors.is_empty(), "{:?}", good.errors);
    let all = deals(&mut store, &s);
    let lines: Vec<_> = ["OPP-1", "OPP-2", "OPP-3"]
        .iter()
        .map(|id| by_external(&all, id).provenance.clone().unwrap())
        .collect();
    assert_eq!(lines, ["csv:crlf.csv:2", "csv:crlf.csv:3", "csv:crlf.csv:6"]);
    assert_eq!(by_external(&all, "OPP-2").title, "Two\r\nlines");
}

/// Salesforce's Data Loader writes the API names in capitals (`ID,NAME,STAGENAME`).
fn headers_are_read_in_any_case(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let files: Vec<PathBuf> = fixtures("salesforce-devorg")
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let (header, rest) = text.split_once('\n').unwrap();
            let name = f.file_name().unwrap().to_str().unwrap();
            file(dir.path(), name, &format!("{}\n{rest}", header.to_uppercase()))
        })
        .collect();
    let report = run(&mut store, &s, &files, &Mapping::vendor(Vendor::Salesforce), false);
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(
        (report.deals_created, report.accounts_created, report.contacts_created),
        (36, 18, 25)
    );
}

/// Excel writes semicolons where the decimal mark is a comma, and some tools tabs: the
/// header tells. A folder with no CSV file in it is a problem, not an empty import.
fn separators_are_told_by_the_header(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let mapping = Mapping::parse(MAPPING).unwrap();
    let header = DEALS.lines().next().unwrap();
    // A quoted column name may hold a comma: only separators outside quotes count.
    let semi = format!(
        "{};\"Notes (internal, short)\"\nOPP-1;\"Acme; phase 2\";;Acme;100;3/1/2026;;Qualification;x\n",
        header.replace(',', ";")
    );
    let tabs = format!(
        "{}\nOPP-2\tGlobex\t\tGlobex\t200\t3/1/2026\t\tProposal\nOPP-3\t'=HYPERLINK(\"x\")\t\tGlobex\t1\t3/1/2026\t\tProposal\n",
        header.replace(',', "\t")
    );
    let files = [file(dir.path(), "semi.csv", &semi), file(dir.path(), "tabs.csv", &tabs)];
    let report = run(&mut store, &s, &files, &mapping, false);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let all = deals(&mut store, &s);
    assert_eq!(by_external(&all, "OPP-1").title, "Acme; phase 2");
    assert_eq!(by_external(&all, "OPP-2").value_minor, Some(20_000));
    assert_eq!(
        by_external(&all, "OPP-3").title,
        "=HYPERLINK(\"x\")",
        "the apostrophe an export puts before a formula is taken off"
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let report = run(&mut store, &s, &momentum_import::files_in(&[empty]), &mapping, false);
    let shown = errors_of(&report);
    assert_eq!(shown, ["empty: a folder with no CSV file in it"]);
}

/// A Pipedrive export with "Won time" and "Lost time" beside each other, and no "Deal
/// closed on": each closed deal's date is the one its row has.
fn pipedrive_won_and_lost_times_are_each_read(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let text = "\"Deal - ID\",\"Deal - Title\",\"Deal - Owner\",\"Deal - Value\",\"Deal - Currency of Value\",\"Deal - Status\",\"Deal - Deal created\",\"Deal - Expected close date\",\"Deal - Won time\",\"Deal - Lost time\"
\"1\",\"Won one\",\"\",\"10\",\"EUR\",\"Won\",\"2024-03-02 11:20:00\",\"2024-09-30\",\"2024-04-10 10:00:00\",\"\"
\"2\",\"Lost one\",\"\",\"10\",\"EUR\",\"Lost\",\"2024-03-02 11:20:00\",\"2024-09-30\",\"\",\"2024-04-19 10:00:00\"
";
    let files = [file(dir.path(), "deals-export.csv", text)];
    let report = run(&mut store, &s, &files, &Mapping::vendor(Vendor::Pipedrive), false);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let all = deals(&mut store, &s);
    let closed = |id| by_external(&all, id).state.closed_at();
    assert_eq!(closed("1"), Some("2024-04-10T10:00:00Z".parse().unwrap()));
    assert_eq!(closed("2"), Some("2024-04-19T10:00:00Z".parse().unwrap()));
}

/// A stage of a custom pipeline, which the built-in mapping cannot know, comes in open with
/// no buyer decision, and the summary says so: it is not silently dropped.
fn an_unknown_stage_is_a_warning(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let files: Vec<PathBuf> = fixtures("hubspot")
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap().replace(
                "\"Acme rollout\",\"Appointment Scheduled\"",
                "\"Acme rollout\",\"Negotiation\"",
            );
            file(dir.path(), f.file_name().unwrap().to_str().unwrap(), &text)
        })
        .collect();
    let report = run(&mut store, &s, &files, &Mapping::vendor(Vendor::Hubspot), false);
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(
        report.warnings.get(
            "stage \"Negotiation\" is in no list of the mapping's [deal.stage]: the deal comes in with no buyer decision yet (list it there, under \"0\" if that is what it means)"
        ),
        Some(&1),
        "{:#?}",
        report.warnings
    );
    let acme = by_external(&deals(&mut store, &s), "9001").clone();
    assert_eq!((acme.status(), acme.stage), (DealStatus::Open, Step(0)));
}

/// A hand-written mapping and a file that disagree are refused before any row is read: a
/// mapped column the header lacks would leave that field blank on every row (without the
/// external id, every re-import would duplicate the deals). Rows of the wrong shape are
/// each refused on their line.
fn a_mapping_and_a_file_that_disagree_are_refused(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let mapping = Mapping::parse(MAPPING).unwrap();
    let errors = |store: &mut Store, name: &str, text: &str| -> Vec<String> {
        let report = import_text(store, &s, dir.path(), name, text, &mapping);
        assert!(!report.committed);
        errors_of(&report)
    };

    // The same file without its first column, the external id.
    let no_id: String = DEALS
        .lines()
        .map(|l| format!("{}\n", l.split_once(',').unwrap().1))
        .collect();
    assert_eq!(
        errors(&mut store, "noid.csv", &no_id),
        ["noid.csv:1: the mapping reads column \"Opportunity ID\" for external_id, and the header has no such column"]
    );
    let no_title = DEALS.replace("Opportunity Name", "Name");
    assert_eq!(
        errors(&mut store, "notitle.csv", &no_title),
        ["notitle.csv:1: the mapping reads column \"Opportunity Name\" for title, and the header has no such column (every deal has a title)"]
    );
    let ragged = format!("{DEALS}OPP-5,Short row,,Acme,100,3/1/2026,Qualification\nOPP-6,Long row,,Acme,100,3/1/2026,,Qualification,extra\n");
    let shown = errors(&mut store, "ragged.csv", &ragged);
    assert_eq!(
        shown,
        [
            "ragged.csv:6: the row has 7 fields where the header has 8 (a missing or extra comma, or an unclosed quote?)",
            "ragged.csv:7: the row has 9 fields where the header has 8 (a missing or extra comma, or an unclosed quote?)",
        ]
    );
    // Two columns of one name: which holds the amount cannot be told. One the mapping does
    // not read is no matter.
    let amount_twice = DEALS
        .lines()
        .map(|l| format!("{l},{}\n", if l.starts_with("Opportunity ID") { "Amount" } else { "7" }))
        .collect::<String>();
    assert_eq!(
        errors(&mut store, "twice.csv", &amount_twice),
        ["twice.csv:1: column \"Amount\": the header has column \"Amount\" 2 times (columns 5, 9), and the mapping reads it for value: which one holds it cannot be told, so rename the others"]
    );
    assert!(deals(&mut store, &s).is_empty(), "nothing written");
    let notes_twice: String = DEALS
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("Notes,{l},Notes\n")
            } else {
                format!("x,{l},y\n")
            }
        })
        .collect();
    // Excel on Windows saves "CSV" in its own code page: say what to do about it.
    let latin1 = dir.path().join("latin1.csv");
    let mut bytes = DEALS.lines().next().unwrap().as_bytes().to_vec();
    bytes.extend(b"\nOPP-1,Caf\xe9,,Acme,1,3/1/2026,,Qualification\n");
    std::fs::write(&latin1, bytes).unwrap();
    let report = run(&mut store, &s, &[latin1], &mapping, false);
    let shown = errors_of(&report);
    assert_eq!(
        shown,
        ["latin1.csv:2: this line is not UTF-8 text: save the file as \"CSV UTF-8\" (Excel), or convert it (iconv -f WINDOWS-1252 -t UTF-8)"]
    );

    let report = import_text(&mut store, &s, dir.path(), "notes.csv", &notes_twice, &mapping);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.deals_created, 4);
}

/// HubSpot's one "Close Date" column is both the expected and the actual close: a bad
/// value there is one problem, reported once.
fn a_column_read_for_two_fields_is_one_problem(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let files: Vec<PathBuf> = fixtures("hubspot")
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f)
                .unwrap()
                .replace("\"2024-10-30\"", "\"2024-13-45\"");
            file(dir.path(), f.file_name().unwrap().to_str().unwrap(), &text)
        })
        .collect();
    let report = run(&mut store, &s, &files, &Mapping::vendor(Vendor::Hubspot), false);
    let shown = errors_of(&report);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert!(
        shown[0].contains("column \"Close Date\" = \"2024-13-45\""),
        "{shown:#?}"
    );
}

fn every_bad_row_is_reported_and_nothing_is_written(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let bad = "Opportunity ID,Opportunity Name,Owner,Company,Amount,Created Date,Close Date,Stage
OPP-1,Fine deal,,Acme,100,3/1/2026,,Qualification
OPP-2,Bad amount,,Acme,12.345,3/1/2026,,Qualification
OPP-3,Bad stage,,Acme,100,3/1/2026,,Maybe
OPP-4,Bad date,,Acme,100,2/30/2026,,Qualification
OPP-5,,,Acme,100,3/1/2026,,Qualification
OPP-1,Twice,,Acme,100,3/1/2026,,Qualification
";
    let mapping = Mapping::parse(MAPPING).unwrap();
    let report = import_text(&mut store, &s, dir.path(), "bad.csv", bad, &mapping);
    assert!(!report.committed);
    let shown = errors_of(&report);
    assert_eq!(shown.len(), 5, "{shown:#?}");
    assert!(
        shown[0].starts_with("bad.csv:3: column \"Amount\" = \"12.345\": an amount is"),
        "{shown:#?}"
    );
    assert!(shown[1]
        .starts_with("bad.csv:4: column \"Stage\" = \"Maybe\": this value is in none of the [deal.status] lists"));
    assert!(
        shown[2].starts_with("bad.csv:5: column \"Created Date\" = \"2/30/2026\""),
        "{shown:#?}"
    );
    assert!(
        shown[3].starts_with("bad.csv:7: column \"Opportunity ID\" = \"OPP-1\": the same id is on line 2"),
        "{shown:#?}"
    );
    assert_eq!(
        shown[4],
        "bad.csv:6: column \"Opportunity Name\" is blank: a deal has a title"
    );
    assert!(
        deals(&mut store, &s).is_empty(),
        "all or nothing: the good row is not written either"
    );
    assert_eq!(ops::users(&mut store, &s).unwrap().len(), 1);

    // A row past the size limit (an unclosed quote swallowing the file) is named by line.
    let huge = format!(
        "Opportunity ID,Opportunity Name,Owner,Company,Amount,Created Date,Close Date,Stage\nOPP-1,\"{}\n",
        "x".repeat(momentum_import::ROW_MAX_BYTES + 10)
    );
    let report = import_text(&mut store, &s, dir.path(), "huge.csv", &huge, &mapping);
    let shown = errors_of(&report);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert!(
        shown[0].starts_with("huge.csv:2") && shown[0].contains("a row is at most 1024 KiB"),
        "{shown:#?}"
    );
    assert!(deals(&mut store, &s).is_empty());
}

fn dry_run_writes_nothing_and_a_new_org_appears_only_with_its_data(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let files = [file(dir.path(), "deals.csv", DEALS)];
    let mapping = Mapping::parse(MAPPING).unwrap();
    let target = || Target::NewOrg {
        name: "Newco",
        currency: Currency::EUR,
        timezone: "Europe/Berlin",
        admin_email: "boss@newco.test",
        admin_name: "Boss",
        password_hash: "x",
    };
    let options = |dry_run| Options {
        dry_run,
        now: now(),
        progress: None,
    };
    let report = momentum_import::import(&mut store, target(), &files, &mapping, &options(true)).unwrap();
    assert_eq!(
        (report.deals_created, report.committed, report.org.as_str()),
        (4, false, "Newco")
    );
    assert!(ops::is_empty(&mut store).unwrap(), "a dry run creates no org");

    let bad = [file(dir.path(), "bad.csv", &DEALS.replace("48000", "lots"))];
    let report = momentum_import::import(&mut store, target(), &bad, &mapping, &options(false)).unwrap();
    assert_eq!(report.errors.len(), 1);
    assert!(ops::is_empty(&mut store).unwrap(), "a refused import creates no org");

    let report = momentum_import::import(&mut store, target(), &files, &mapping, &options(false)).unwrap();
    assert!(report.committed);
    let s = ops::session(&mut store, Some("Newco"), Some("boss@newco.test")).unwrap();
    assert_eq!(s.user.role, Role::Admin);
    assert_eq!(deals(&mut store, &s).len(), 4);
    // Dates without a zone are read in the org's: 2026-02-11 starts at 23:00 UTC the day before.
    let all = deals(&mut store, &s);
    assert_eq!(
        by_external(&all, "OPP-2").created_at,
        "2026-02-10T23:00:00Z".parse().unwrap()
    );
}

fn reimport_updates_instead_of_duplicating(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let mapping = Mapping::parse(MAPPING).unwrap();
    let files = [file(dir.path(), "deals.csv", DEALS)];
    run(&mut store, &s, &files, &mapping, false);
    let first = deals(&mut store, &s);

    let again = run(&mut store, &s, &files, &mapping, false);
    assert_eq!(
        (again.deals_created, again.deals_updated, again.deals_unchanged),
        (0, 0, 4)
    );
    assert_eq!(again.deals_keeping_momentum_changes, 0, "nobody changed anything");
    assert_eq!((again.users_created, again.accounts_created), (0, 0));
    assert_eq!(
        deals(&mut store, &s),
        first,
        "re-importing the same file changes nothing"
    );

    let changed = DEALS.replace("Acme,900,1/5/2026,,Proposal", "Acme,950,1/5/2026,10/1/2026,Closed Lost");
    let files = [file(dir.path(), "deals.csv", &changed)];
    let report = run(&mut store, &s, &files, &mapping, false);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        (report.deals_created, report.deals_updated, report.deals_unchanged),
        (0, 1, 3)
    );
    let all = deals(&mut store, &s);
    assert_eq!(all.len(), 4);
    let d = by_external(&all, "OPP-4");
    assert_eq!(
        (d.value_minor, d.status(), d.version),
        (Some(95_000), DealStatus::Lost, 2)
    );
    assert!(d.next_step().is_none());
    let view = ops::show_deal(&mut store, &s, d.id).unwrap();
    assert_eq!(
        view.decisions.len(),
        1,
        "the ledger keeps its entry; no stage, no new decision"
    );
}

/// The same export imported again after sellers worked the deals in Momentum: what the
/// source did not change since the last import stays as the sellers left it (a stage the
/// buyer decided, a rescheduled next step, a sale); what the source did change comes in.
fn reimport_keeps_what_sellers_did_since(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let mapping = Mapping::parse(MAPPING).unwrap();
    let files = [file(dir.path(), "deals.csv", DEALS)];
    run(&mut store, &s, &files, &mapping, false);
    let imported = deals(&mut store, &s);
    let (opp1, opp4) = (by_external(&imported, "OPP-1").id, by_external(&imported, "OPP-4").id);

    // A week later the seller works both deals.
    let later = ops::clock(&s.org, "2026-11-08T10:00:00Z".parse().unwrap());
    let buyer = ops::add_contact(
        &mut store,
        &s,
        commands::NewContact {
            account: by_external(&imported, "OPP-1").account,
            name: "Wile Coyote",
            email: None,
            phone: None,
            title: None,
        },
        later.at,
    )
    .unwrap();
    ops::record_decision(
        &mut store,
        &s,
        opp1,
        commands::RecordDecision {
            contact: Some(buyer.id),
            to: Step(3),
            decided_at: None,
            note: Some("buyer agreed to a trial".into()),
            expected_version: None,
        },
        later,
    )
    .unwrap();
    let call: Timestamp = "2026-11-20T15:00:00Z".parse().unwrap();
    ops::reschedule(
        &mut store,
        &s,
        opp1,
        commands::NextStepInput {
            due: call,
            kind: InteractionKind::Meeting,
            aims_at: None,
            buyer_committed: true,
        },
        None,
        later,
    )
    .unwrap();
    ops::close(
        &mut store,
        &s,
        opp4,
        commands::Closing::Won {
            contact: Some(buyer.id),
        },
        None,
        later,
    )
    .unwrap();
    // And the account gets its full name, which the old system never had.
    let acme = buyer.account.unwrap();
    momentum_store::directory::update_account(&mut store, &s, acme, "Acme Incorporated", None, later.at).unwrap();
    let worked = deals(&mut store, &s);

    let again = run(&mut store, &s, &files, &mapping, false);
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert_eq!(
        (again.deals_created, again.deals_updated, again.deals_unchanged),
        (0, 0, 4),
        "the source changed nothing"
    );
    assert_eq!(
        again.deals_keeping_momentum_changes, 2,
        "OPP-1's stage and step, OPP-4's sale"
    );
    assert_eq!(
        (again.accounts_created, again.users_created),
        (0, 0),
        "\"Acme\" in the file is still the account renamed in Momentum, not a new one"
    );
    assert_eq!(deals(&mut store, &s), worked, "the sellers' work stands");

    // The source then changes OPP-1's amount and nothing else.
    let changed = DEALS.replace("\"12,000.50\"", "13000");
    let report = import_text(&mut store, &s, dir.path(), "deals.csv", &changed, &mapping);
    assert_eq!((report.deals_updated, report.deals_unchanged), (1, 3));
    assert_eq!(report.deals_keeping_momentum_changes, 2);
    let all = deals(&mut store, &s);
    let d = by_external(&all, "OPP-1");
    assert_eq!(d.value_minor, Some(1_300_000), "the source's new amount comes in");
    assert_eq!(d.stage, Step(3), "the stage the buyer decided in Momentum stays");
    let step = d.next_step().expect("still open");
    assert_eq!(
        (step.due, step.kind, step.buyer_committed),
        (call, InteractionKind::Meeting, true)
    );
    assert_eq!(by_external(&all, "OPP-4").status(), DealStatus::Won);
    let view = ops::show_deal(&mut store, &s, opp1).unwrap();
    assert!(
        view.decisions.iter().all(|d| d.direction == Direction::Advance),
        "no re-import moved the deal back: {:?}",
        view.decisions
    );

    // And when the source moves the stage itself, its stage is taken.
    let moved = changed.replace("13000,3/1/2026,,Qualification", "13000,3/1/2026,,Proposal");
    let report = import_text(&mut store, &s, dir.path(), "deals.csv", &moved, &mapping);
    assert_eq!((report.deals_updated, report.decisions), (1, 1));
    assert_eq!(by_external(&deals(&mut store, &s), "OPP-1").stage, Step(5));
}

/// A companies or contacts export taken again later: the records it names by id take its
/// new values (a rename, a new address, a move to another company), no duplicates, and
/// columns the file lacks are left as they were.
fn reimport_updates_accounts_and_contacts(db: &TestDb) {
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let mapping = Mapping::vendor(Vendor::Hubspot);
    let first = run(&mut store, &s, &fixtures("hubspot"), &mapping, false);
    assert!(first.errors.is_empty(), "{:#?}", first.errors);
    let same = run(&mut store, &s, &fixtures("hubspot"), &mapping, false);
    assert_eq!(
        (
            same.accounts_created,
            same.accounts_updated,
            same.contacts_created,
            same.contacts_updated
        ),
        (0, 0, 0, 0),
        "the same files change nothing"
    );

    // Edited in Momentum since: Acme's domain and Wile's phone. The same files again leave
    // both as edited, since the source did not change them.
    let accounts = momentum_store::directory::accounts(&mut store, &s, None, 100).unwrap();
    let acme = accounts.iter().find(|a| a.name == "Acme Corp").unwrap().clone();
    momentum_store::directory::update_account(&mut store, &s, acme.id, &acme.name, Some("acme-corp.example"), now())
        .unwrap();
    let contacts = momentum_store::directory::contacts(&mut store, &s, None, 100).unwrap();
    let wile = contacts.iter().find(|c| c.name == "Wile Coyote").unwrap().clone();
    let wile_edit = commands::NewContact {
        account: wile.account,
        name: &wile.name,
        email: wile.email.as_ref().map(|e| e.as_str()),
        phone: Some("+1 555 0199"),
        title: wile.title.as_deref(),
    };
    momentum_store::directory::update_contact(&mut store, &s, wile.id, wile_edit, now()).unwrap();
    let same = run(&mut store, &s, &fixtures("hubspot"), &mapping, false);
    assert_eq!(
        (same.accounts_updated, same.contacts_updated),
        (0, 0),
        "the source changed nothing"
    );
    let phone_of_wile = |store: &mut Store| {
        let contacts = momentum_store::directory::contacts(store, &s, None, 100).unwrap();
        contacts.iter().find(|c| c.id == wile.id).unwrap().phone.clone()
    };
    assert_eq!(phone_of_wile(&mut store).as_deref(), Some("+1 555 0199"));

    let dir = tempfile::tempdir().unwrap();
    let later: Vec<PathBuf> = fixtures("hubspot")
        .iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_str().unwrap();
            let text = std::fs::read_to_string(f)
                .unwrap()
                .replace("\"502\",\"Globex\"", "\"502\",\"Globex Corporation\"")
                .replace("\"globex.example\"", "\"https://www.globex.example.com/\"")
                .replace(
                    "\"702\",\"Hank\",\"Scorpio\",\"hank@globex.example\",\"\",\"Dana Seller\",\"502\"",
                    "\"702\",\"Hank\",\"Scorpio\",\"hank@acme.example\",\"\",\"Dana Seller\",\"501\"",
                )
                .replace("\"2024-02-02 10:00\",\"Globex\"", "\"2024-02-02 10:00\",\"Acme Corp\"");
            file(dir.path(), name, &text)
        })
        .collect();
    let report = run(&mut store, &s, &later, &mapping, false);
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(
        (
            report.accounts_created,
            report.accounts_updated,
            report.contacts_created,
            report.contacts_updated
        ),
        (0, 1, 0, 1)
    );
    let accounts = momentum_store::directory::accounts(&mut store, &s, None, 100).unwrap();
    assert_eq!(accounts.len(), 4, "no duplicates");
    let globex = accounts
        .iter()
        .find(|a| a.name == "Globex Corporation")
        .expect("renamed");
    assert_eq!(globex.domain.as_deref(), Some("globex.example.com"));
    let acme = accounts.iter().find(|a| a.name == "Acme Corp").unwrap();
    assert_eq!(
        acme.domain.as_deref(),
        Some("acme-corp.example"),
        "unchanged in the source: as edited in Momentum"
    );
    assert_eq!(phone_of_wile(&mut store).as_deref(), Some("+1 555 0199"));
    let contacts = momentum_store::directory::contacts(&mut store, &s, None, 100).unwrap();
    assert_eq!(contacts.len(), 2, "no duplicates");
    let hank = contacts.iter().find(|c| c.name == "Hank Scorpio").unwrap();
    assert_eq!(
        (hank.email.as_ref().map(|e| e.as_str()), hank.account),
        (Some("hank@acme.example"), Some(acme.id)),
        "a new address and a move to Acme"
    );
    let deal = by_external(&deals(&mut store, &s), "9002").clone();
    let view = ops::show_deal(&mut store, &s, deal.id).unwrap();
    assert_eq!(view.summary.account.as_deref(), Some("Globex Corporation"));
}

fn a_seller_cannot_import(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let admin = org(&mut store);
    ops::add_user(
        &mut store,
        &admin,
        ops::AddUser {
            email: "sam@acme.test",
            name: "Sam",
            role: Role::Seller,
            manager: None,
            password_hash: None,
        },
        now(),
    )
    .unwrap();
    let seller = ops::session(&mut store, None, Some("sam@acme.test")).unwrap();
    let err = momentum_import::import(
        &mut store,
        Target::Org(&seller),
        &[file(dir.path(), "deals.csv", DEALS)],
        &Mapping::parse(MAPPING).unwrap(),
        &Options {
            dry_run: false,
            now: now(),
            progress: None,
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, StoreError::Domain(momentum_core::DomainError::Forbidden(_))),
        "{err}"
    );
}

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    files
}

fn salesforce_exports_keep_their_stage_history(db: &TestDb) {
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let mapping = Mapping::vendor(Vendor::Salesforce);
    let report = run(&mut store, &s, &fixtures("salesforce-devorg"), &mapping, false);
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(
        (report.deals_created, report.accounts_created, report.contacts_created),
        (36, 18, 25)
    );
    assert!(report.notes.iter().any(|n| n.starts_with("Lead.csv: skipped")));
    assert!(
        report.warnings.keys().all(|w| !w.starts_with("stage")),
        "every stage of the default picklist is mapped, Prospecting as no decision yet: {:?}",
        report.warnings
    );
    let all = deals(&mut store, &s);
    let count = |st| all.iter().filter(|d| d.status() == st).count();
    assert_eq!(
        (count(DealStatus::Won), count(DealStatus::Lost), count(DealStatus::Open)),
        (12, 8, 16)
    );
    let won_total: i64 = all
        .iter()
        .filter(|d| d.status() == DealStatus::Won)
        .filter_map(|d| d.value_minor)
        .sum();
    assert_eq!(won_total, 281_500_000, "SOURCE.txt: won Amount total 2,815,000");
    // United Oil Office Portable Generators: Negotiation/Review in OpportunityHistory.
    let d = by_external(&all, "006bm00000LKJNOAA5");
    assert_eq!(d.stage, Step(6));
    assert!(d.account.is_some());
    let view = ops::show_deal(&mut store, &s, d.id).unwrap();
    assert_eq!(view.decisions.len(), 1);
    assert_eq!(view.decisions[0].decided_at, "2026-02-23T20:55:00Z".parse().unwrap());
    assert_eq!(
        view.decisions[0].note.as_deref(),
        Some("imported stage \"Negotiation/Review\"")
    );
    // M/D/YY close dates: 02/03/24 is 3 February 2024.
    assert_eq!(d.expected_close, Some("2024-02-03".parse().unwrap()));

    let again = run(&mut store, &s, &fixtures("salesforce-devorg"), &mapping, false);
    assert_eq!((again.deals_created, again.deals_updated, again.decisions), (0, 0, 0));

    // The Data Export shape: BOM, ISO datetimes with +0000, one owner id without a User file.
    let report = run(&mut store, &s, &fixtures("salesforce-workshop"), &mapping, false);
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(
        (report.deals_created, report.accounts_created, report.contacts_created),
        (50, 22, 102)
    );
    let all = deals(&mut store, &s);
    let d = by_external(&all, "006Ec00000AieKGIAZ");
    assert_eq!(d.title, "Hill Group - Business Loans - June 2023");
    assert_eq!((d.status(), d.value_minor), (DealStatus::Won, Some(165_199_336)));
    // Loaded into Salesforce on 2024-01-22, seven months after its close: created by then.
    assert_eq!(d.created_at, "2023-06-17T00:00:00Z".parse().unwrap());
    assert_eq!(
        report.warnings["closed before its created date: taken as created on its close date"],
        15
    );
    // Its tasks are linked to accounts or nothing, not to deals: none is logged or planned.
    assert_eq!(report.warnings["activity not linked to a deal: skipped"], 45);
    assert_eq!(report.warnings["activity not linked to an imported deal: skipped"], 30);
    assert_eq!((report.interactions, report.next_steps_planned), (0, 0));

    // The coaching reports see the imported history: the summary counts the 86 deals and
    // the won value, from the summaries the import rebuilt.
    let r = momentum_store::reports::report(
        &mut store,
        &s,
        momentum_core::reports::ReportName::Summary,
        &Default::default(),
        21,
        s.now(now()),
    )
    .unwrap();
    let momentum_core::reports::Report::Summary(r) = r else {
        panic!("the summary report")
    };
    let all = deals(&mut store, &s);
    assert_eq!(r.deals as usize, all.len());
    let won: i64 = all
        .iter()
        .filter(|d| d.status() == DealStatus::Won && d.currency == s.org.currency)
        .filter_map(|d| d.value_minor)
        .sum();
    assert_eq!(r.won_value, won as f64 / 100.0);
    let days: i64 = store
        .read(|tx| {
            tx.query_one("SELECT CAST(SUM(created) AS BIGINT) FROM deal_days", &[])?
                .unwrap()
                .int(0)
        })
        .unwrap();
    assert_eq!(days as usize, all.len(), "deal_days counts every imported deal once");
}

fn salesforce_users_tasks_footers_and_deleted_rows(db: &TestDb) {
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    ops::add_user(
        &mut store,
        &s,
        ops::AddUser {
            email: "dana@example.com",
            name: "Dana",
            role: Role::Seller,
            manager: None,
            password_hash: None,
        },
        now(),
    )
    .unwrap();
    let mapping = Mapping::vendor(Vendor::Salesforce);
    let report = run(&mut store, &s, &fixtures("salesforce-report"), &mapping, false);
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(
        (report.deals_created, report.users_created, report.interactions),
        (1, 0, 2)
    );
    assert_eq!(report.next_steps_planned, 1, "the task not started is the next step");
    let all = deals(&mut store, &s);
    assert_eq!(all.len(), 1, "the deleted row and the report footer are not deals");
    let d = &all[0];
    let dana = ops::session(&mut store, None, Some("dana@example.com")).unwrap().user;
    assert_eq!(
        d.owner.id, dana.id,
        "OwnerId is matched through User.csv to the user's e-mail"
    );
    assert_eq!(d.created_at, "2026-03-02T09:15:00Z".parse().unwrap());
    let view = ops::show_deal(&mut store, &s, d.id).unwrap();
    let logged: Vec<_> = view
        .interactions
        .iter()
        .map(|i| (i.kind, i.notes.as_str(), i.result))
        .collect();
    assert_eq!(
        logged,
        [
            (InteractionKind::Call, "Discovery call", Outcome::Stayed),
            (InteractionKind::Email, "Sent the deck", Outcome::Stayed)
        ]
    );
    let step = d.next_step().expect("an open deal has a next step");
    assert_eq!(
        (step.due, step.kind, step.set_by, step.buyer_committed),
        (
            "2026-12-01T00:00:00Z".parse().unwrap(),
            InteractionKind::Email,
            Some(dana.id),
            false
        ),
        "the open task \"Send proposal\" due 12/1/26, not a follow-up from the cadence"
    );
    let again = run(&mut store, &s, &fixtures("salesforce-report"), &mapping, false);
    assert_eq!(
        (again.deals_updated, again.interactions, again.next_steps_planned),
        (0, 0, 0),
        "tasks are not logged or planned twice"
    );
    assert_eq!(ops::show_deal(&mut store, &s, d.id).unwrap().interactions.len(), 2);

    // Dana moves the step in Momentum; the same export taken again leaves it where she put it.
    let moved: Timestamp = "2026-12-04T14:00:00Z".parse().unwrap();
    let dana_s = ops::session(&mut store, None, Some("dana@example.com")).unwrap();
    ops::reschedule(
        &mut store,
        &dana_s,
        d.id,
        commands::NextStepInput {
            due: moved,
            kind: InteractionKind::Meeting,
            aims_at: None,
            buyer_committed: true,
        },
        None,
        ops::clock(&s.org, "2026-11-10T09:00:00Z".parse().unwrap()),
    )
    .unwrap();
    let again = run(&mut store, &s, &fixtures("salesforce-report"), &mapping, false);
    assert_eq!((again.deals_updated, again.next_steps_planned), (0, 0));
    let step = deals(&mut store, &s)[0].next_step().cloned().unwrap();
    assert_eq!(
        (step.due, step.kind, step.buyer_committed),
        (moved, InteractionKind::Meeting, true),
        "the open task, unchanged in the source, does not undo Dana's step"
    );
}

fn hubspot_and_pipedrive_exports_import(db: &TestDb) {
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let report = run(
        &mut store,
        &s,
        &fixtures("hubspot"),
        &Mapping::vendor(Vendor::Hubspot),
        false,
    );
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(
        (report.deals_created, report.accounts_created, report.contacts_created),
        (5, 4, 2)
    );
    assert!(
        report.warnings.keys().all(|w| !w.starts_with("stage")),
        "\"Closed Won\" is a status, not an unknown stage: {:?}",
        report.warnings
    );
    let all = deals(&mut store, &s);
    let globex = by_external(&all, "9002");
    let view = ops::show_deal(&mut store, &s, globex.id).unwrap();
    assert_eq!(
        view.summary.account.as_deref(),
        Some("Globex"),
        "the first of an association list"
    );
    let contact = view.summary.contact_id.map(|c| view.contacts[&c].as_str());
    assert_eq!(contact, Some("Hank Scorpio"));
    assert_eq!((globex.stage, globex.value_minor), (Step(6), Some(4_800_050)));
    match &by_external(&all, "9004").state {
        DealState::Lost {
            category, buyer_words, ..
        } => assert_eq!(
            (*category, buyer_words.as_str()),
            (LostCategory::Other, "Chose a competitor on price")
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        by_external(&all, "9005").status(),
        DealStatus::Lost,
        "internal stage values are read too"
    );

    // Pipedrive: deals, people and organizations first, then with the activities export.
    let pipedrive = Mapping::vendor(Vendor::Pipedrive);
    let all_files = fixtures("pipedrive");
    let without_activities: Vec<PathBuf> = all_files
        .iter()
        .filter(|p| !p.ends_with("activities-export.csv"))
        .cloned()
        .collect();
    let report = run(&mut store, &s, &without_activities, &pipedrive, false);
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(
        (report.deals_created, report.accounts_created, report.contacts_created),
        (3, 3, 2)
    );
    let all = deals(&mut store, &s);
    let d = by_external(&all, "101");
    assert_eq!(
        (d.currency, d.value_minor, d.stage),
        (Currency::EUR, Some(1_500_000), Step(5))
    );
    let planned_due: Timestamp = "2026-11-12T00:00:00Z".parse().unwrap();
    let step = d.next_step().unwrap();
    assert_eq!(
        (step.due, step.kind, report.next_steps_planned),
        (planned_due, InteractionKind::Call, 1),
        "\"Deal - Next activity date\" is the open deal's next step"
    );
    let won = by_external(&all, "102");
    assert_eq!(won.state.closed_at(), Some("2024-06-18T16:00:00Z".parse().unwrap()));

    let report = run(&mut store, &s, &all_files, &pipedrive, false);
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(
        (report.deals_created, report.deals_updated, report.interactions),
        (0, 1, 1),
        "the done activity is logged on the deal its title names"
    );
    assert_eq!(report.warnings["planned activity on a closed deal: skipped"], 1);
    assert_eq!(report.warnings["activity not linked to a deal: skipped"], 1);
    let view = ops::show_deal(&mut store, &s, d.id).unwrap();
    let logged: Vec<_> = view.interactions.iter().map(|i| (i.kind, i.notes.as_str())).collect();
    assert_eq!(logged, [(InteractionKind::Call, "Intro call")]);
    let d = by_external(&deals(&mut store, &s), "101").clone();
    let step = d.next_step().unwrap();
    assert_eq!(
        (step.due, step.kind),
        (planned_due, InteractionKind::Meeting),
        "the earliest \"To do\" activity (a meeting on the 12th, not the e-mail on the 20th)"
    );
    assert_eq!(step.set_by, Some(d.owner.id), "assigned to Elaine, the deal's owner");
    assert!(!step.buyer_committed);

    let again = run(&mut store, &s, &all_files, &pipedrive, false);
    assert_eq!(
        (again.deals_updated, again.interactions, again.next_steps_planned),
        (0, 0, 0),
        "a re-import logs and plans nothing twice"
    );
}

fn auto_dates_refuse_an_ambiguous_file(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let mapping = Mapping::parse(MAPPING).unwrap();
    let mixed = DEALS.replace("2/11/2026", "2026-02-11");
    let report = import_text(&mut store, &s, dir.path(), "mixed.csv", &mixed, &mapping);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let e = &report.errors[0];
    assert_eq!(
        (e.line, e.column.as_str(), e.value.as_str()),
        (3, "Created Date", "2026-02-11")
    );
    assert!(e.rule.contains("mixes date styles"), "{}", e.rule);

    // The file's other problems are reported in the same run, each on its line.
    let more = mixed
        .replace("3/1/2026,,Qualification", "yesterday,,Qualification")
        .replace("Acme,900,1/5/2026", "Acme,900,1/45/2026")
        .replace("Initech pilot,,,,", "Initech pilot,,,abc,");
    let report = import_text(&mut store, &s, dir.path(), "mixed.csv", &more, &mapping);
    let shown: Vec<(u64, &str)> = report.errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(
        shown,
        [
            (3, "Close Date"),
            (2, "Created Date"),
            (4, "Amount"),
            (5, "Created Date")
        ],
        "{:#?}",
        report.errors
    );
    assert!(
        report.errors[1].rule.contains("not a date in a style"),
        "{:?}",
        report.errors[1]
    );

    let day_first = DEALS.replace("5/30/2026", "30/5/2026");
    let report = import_text(&mut store, &s, dir.path(), "dmy.csv", &day_first, &mapping);
    assert!(report.errors[0].rule.contains("%d/%m/%Y"), "{:?}", report.errors);
    let explicit = Mapping::parse(&MAPPING.replace("date = \"auto\"", "date = \"%d/%m/%Y\"")).unwrap();
    let swapped = DEALS
        .replace("3/1/2026", "1/3/2026")
        .replace("2/11/2026", "11/2/2026")
        .replace("5/30/2026", "30/5/2026")
        .replace("6/2/2026", "2/6/2026")
        .replace("1/5/2026", "5/1/2026");
    let report = import_text(&mut store, &s, dir.path(), "dmy.csv", &swapped, &explicit);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let all = deals(&mut store, &s);
    assert_eq!(
        by_external(&all, "OPP-2").created_at,
        "2026-02-11T00:00:00Z".parse().unwrap()
    );
}

/// The definitions of the deal tables' indexes, as the database reports them.
fn deal_indexes(store: &mut Store) -> Vec<String> {
    let sql = match store.backend() {
        momentum_store::Backend::Sqlite => {
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ('deals', 'next_steps', 'interactions') ORDER BY name"
        }
        momentum_store::Backend::Postgres => {
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() \
             AND tablename IN ('deals', 'next_steps', 'interactions') ORDER BY indexname"
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

fn many_deals(first: usize, n: usize) -> String {
    let mut csv = DEALS.lines().next().unwrap().to_owned() + "\n";
    for i in first..first + n {
        let stage = ["Qualification", "Proposal", "Closed Won"][i % 3];
        let closed = if i % 3 == 2 { "5/30/2026" } else { "" };
        csv += &format!(
            "OPP-{i},Deal {i},ada@acme.test,Company {},{i}00,3/1/2026,{closed},{stage}\n",
            i / 7
        );
    }
    csv
}

/// A team bringing its history in is most of the deal table: SQLite builds its indexes
/// once after the rows instead of keeping them through each insert. Whatever the path,
/// the database keeps every index it had, and the import reads as any other.
fn a_large_import_keeps_every_index(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let s = org(&mut store);
    let mapping = Mapping::parse(MAPPING).unwrap();
    let indexes = deal_indexes(&mut store);
    assert!(indexes.len() >= 8, "{indexes:?}");

    let files = [file(dir.path(), "history.csv", &many_deals(0, 3_000))];
    let report = run(&mut store, &s, &files, &mapping, false);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!((report.deals_created, report.accounts_created), (3_000, 429));
    assert_eq!(deal_indexes(&mut store), indexes, "every index is back, as it was");

    let again = run(&mut store, &s, &files, &mapping, false);
    assert_eq!((again.deals_created, again.deals_unchanged), (0, 3_000));
    let more = [file(dir.path(), "more.csv", &many_deals(3_000, 3_000))];
    let report = run(&mut store, &s, &more, &mapping, false);
    assert_eq!(report.deals_created, 3_000);
    assert_eq!(deal_indexes(&mut store), indexes);

    let open = ops::list_deals(
        &mut store,
        &s,
        &DealFilter {
            status: Some(DealStatus::Open),
            limit: 10_000,
            ..DealFilter::default()
        },
    )
    .unwrap();
    assert_eq!(open.len(), 4_000, "two in three of the 6,000 deals are open");
    assert!(open.iter().all(|r| r.deal.next_step().is_some()));
}

#[test]
fn the_built_in_mappings_parse() {
    for v in [Vendor::Salesforce, Vendor::Hubspot, Vendor::Pipedrive] {
        let m = Mapping::vendor(v);
        assert!(m.deal.is_some());
    }
    assert_eq!(Mapping::momentum_export().source_name(), "momentum");
    let e = Mapping::parse("[deal]\ntitel = \"Name\"").unwrap_err();
    assert!(e.contains("titel"), "{e}");
    let e = Mapping::parse("[deal.status]\ncolumn = \"Stage\"\nwonn = [\"Won\"]").unwrap_err();
    assert!(e.contains("unknown field `wonn`"), "a typo in a table is named: {e}");
    let e = Mapping::parse("[deal.status]\ncolumn = \"S\"\nopen = [\"Open\", \"Won\"]\nwon = [\"won\"]").unwrap_err();
    assert_eq!(
        e,
        "[deal.status]: \"won\" is listed under both open and won; a source value means one of them"
    );
    let e = Mapping::parse("[format]\ndate = \"%Q\"").unwrap_err();
    assert!(e.starts_with("[format] date = \"%Q\" is not a date pattern"), "{e}");
    assert!(Mapping::parse("[format]\ndate = \"%d.%m.%Y\"").is_ok());
    let e = Mapping::parse("[deal]\nstatus = 5").unwrap_err();
    assert!(e.contains("a column is the header's name for it"), "{e}");
}

both_backends!(
    generic_csv_records_history_as_it_was,
    amounts_are_read_exactly_or_refused,
    a_company_name_past_the_limit_refuses_its_row,
    an_id_past_the_limit_refuses_its_row,
    an_unknown_stage_is_a_warning,
    one_record_in_two_files_is_refused,
    crlf_files_name_their_lines_as_an_editor_does,
    headers_are_read_in_any_case,
    separators_are_told_by_the_header,
    pipedrive_won_and_lost_times_are_each_read,
    a_mapping_and_a_file_that_disagree_are_refused,
    a_column_read_for_two_fields_is_one_problem,
    every_bad_row_is_reported_and_nothing_is_written,
    dry_run_writes_nothing_and_a_new_org_appears_only_with_its_data,
    reimport_updates_instead_of_duplicating,
    reimport_updates_accounts_and_contacts,
    reimport_keeps_what_sellers_did_since,
    a_seller_cannot_import,
    salesforce_exports_keep_their_stage_history,
    salesforce_users_tasks_footers_and_deleted_rows,
    hubspot_and_pipedrive_exports_import,
    auto_dates_refuse_an_ambiguous_file,
    a_large_import_keeps_every_index,
);
