//! A CSV file as another CRM exports it, through the whole import (reading, dates, the
//! plan against a real SQLite database) as a dry run, with the generic, Salesforce,
//! HubSpot and Pipedrive mappings. Never a panic: rows are imported or refused row by row.
#![no_main]

use std::sync::{LazyLock, Mutex};

use libfuzzer_sys::fuzz_target;
use momentum_core::commands::NewOrg;
use momentum_core::money::Currency;
use momentum_import::{Mapping, Options, Vendor};
use momentum_store::import::Target;
use momentum_store::ops::{self, Session};
use momentum_store::Store;

struct World {
    dir: tempfile::TempDir,
    store: Store,
    admin: Session,
}

static WORLD: LazyLock<Mutex<World>> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("fuzz.db").to_str().unwrap()).unwrap();
    let org = NewOrg {
        name: "Fuzz",
        currency: Currency::USD,
        timezone: "UTC",
    };
    let admin = ops::FirstAdmin {
        email: "ada@fuzz.test",
        name: "Ada",
        password_hash: None,
    };
    let admin = ops::create_org(&mut store, org, admin, jiff::Timestamp::now()).unwrap();
    Mutex::new(World { dir, store, admin })
});

fuzz_target!(|data: &[u8]| {
    let mut world = WORLD.lock().unwrap();
    let w = &mut *world;
    let mappings = [
        ("Opportunity.csv", Mapping::vendor(Vendor::Salesforce)),
        ("hubspot-crm-exports-deals.csv", Mapping::vendor(Vendor::Hubspot)),
        ("deals.csv", Mapping::vendor(Vendor::Pipedrive)),
        ("export.csv", Mapping::momentum_export()),
    ];
    for (name, mapping) in &mappings {
        let path = w.dir.path().join(name);
        std::fs::write(&path, data).unwrap();
        let options = Options {
            dry_run: true,
            now: jiff::Timestamp::now(),
            progress: None,
        };
        // Err is a database failure, which a dry run over any input must not cause.
        momentum_import::import(&mut w.store, Target::Org(&w.admin), &[path], mapping, &options).unwrap();
    }
});
