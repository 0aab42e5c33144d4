//! Tracing, on SQLite and PostgreSQL: a traced write leaves the database as it was and
//! keeps exactly the statements that, replayed, make the same change (the benchmark's raw
//! baseline depends on both); a refused command leaves no trace.

use momentum_store::ops;
use momentum_testkit::{both_backends, TestDb};

mod common;
use common::*;

fn replayed_trace_makes_the_change_a_traced_write_did_not(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let id = new_deal(&mut w, &sam, None, "Traced", 1_000, 24);
    let before = snapshot(&mut w, id);

    w.store.start_trace();
    ops::log_interaction(&mut w.store, &sam, id, advance(w.contact, 1, 48), at(1)).unwrap();
    let mut refused = advance(w.contact, 1, 48);
    refused.ending = None;
    assert!(ops::log_interaction(&mut w.store, &sam, id, refused, at(1)).is_err());
    let trace = w.store.take_trace();

    assert_eq!(snapshot(&mut w, id), before, "a traced write is rolled back");
    assert_eq!(trace.len(), 1, "only the command that succeeded is kept");
    assert!(trace[0].iter().any(|s| s.sql.starts_with("INSERT INTO interactions")));
    assert!(trace[0].iter().any(|s| s.sql.starts_with("UPDATE deals")));

    w.store
        .write(|tx| {
            for st in &trace[0] {
                tx.query(&st.sql, &st.params)?;
            }
            Ok(())
        })
        .unwrap();
    let after = ops::show_deal(&mut w.store, &w.admin, id).unwrap();
    assert_eq!(after.interactions.len(), 1);
    assert_eq!(after.summary.stage.step, 1);
    assert_eq!(after.summary.version, 2);
    assert_summaries_exact(&mut w.store);
}

both_backends!(replayed_trace_makes_the_change_a_traced_write_did_not);
