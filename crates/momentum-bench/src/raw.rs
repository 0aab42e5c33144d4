//! The limit: the database doing Momentum's log-interaction transaction without Momentum.
//!
//! The transactions are recorded from the store itself ([`momentum_store::trace`]: each
//! command runs and is rolled back, its statements kept), one per open deal, then replayed
//! straight through the driver: same schema, same statements, same values, BEGIN ... COMMIT
//! each (or 16 to a commit). What is left out is exactly Momentum: HTTP, auth, JSON, the
//! domain rules and the mapping to and from rows.

use std::time::Instant;

use anyhow::Context;
use momentum_core::commands::{Ending, FollowUp, LogInteraction};
use momentum_core::vocab::{InteractionKind, Outcome};
use momentum_store::sql::Val;
use momentum_store::trace::Transaction;
use momentum_store::{ops, Store};

/// The command every benchmark logs: a call where the buyer made no decision, followed up
/// by the org's cadence. It leaves the deal open, so it can be logged again and again.
pub fn stayed_call() -> LogInteraction {
    LogInteraction {
        kind: InteractionKind::Call,
        contact: None,
        objective: None,
        result: Outcome::Stayed,
        reached: None,
        ending: Some(Ending::Scheduled(FollowUp::Cadence)),
        notes: "benchmark".into(),
        occurred_at: None,
        expected_version: None,
    }
}

/// Records one log-interaction transaction for each of `deals` (id, owner email).
pub fn record(store: &mut Store, deals: &[(i64, String)]) -> anyhow::Result<Vec<Transaction>> {
    let mut sessions = std::collections::HashMap::new();
    store.start_trace();
    for (id, owner) in deals {
        if !sessions.contains_key(owner) {
            sessions.insert(owner.clone(), ops::session(store, None, Some(owner))?);
        }
        let s = &sessions[owner];
        let now = s.now(jiff::Timestamp::now());
        ops::log_interaction(store, s, momentum_core::model::DealId(*id), stayed_call(), now)
            .with_context(|| format!("logging on deal {id}"))?;
    }
    Ok(store.take_trace())
}

fn sqlite_conn(path: &str) -> anyhow::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    // The pragmas the store opens every connection with.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
    )?;
    Ok(conn)
}

fn sqlite_run(conn: &rusqlite::Connection, tx: &Transaction) -> anyhow::Result<()> {
    for st in tx {
        let mut stmt = conn.prepare_cached(&st.sql)?;
        for (i, v) in st.params.iter().enumerate() {
            if let Some(idx) = stmt.parameter_index(&format!("${}", i + 1))? {
                stmt.raw_bind_parameter(idx, v)?;
            }
        }
        let mut rows = stmt.raw_query();
        while rows.next()?.is_some() {}
    }
    Ok(())
}

/// Replays `txs` on a SQLite file, `group` transactions to a commit; returns commands/s.
pub fn sqlite_replay(path: &str, txs: &[Transaction], group: usize) -> anyhow::Result<f64> {
    let conn = sqlite_conn(path)?;
    let start = Instant::now();
    for chunk in txs.chunks(group) {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        for tx in chunk {
            sqlite_run(&conn, tx)?;
        }
        conn.execute_batch("COMMIT")?;
    }
    Ok(txs.len() as f64 / start.elapsed().as_secs_f64())
}

/// Replays `txs` on PostgreSQL over `connections` connections, one commit each, each
/// statement prepared once per connection as the store does per call; returns commands/s.
pub fn postgres_replay(url: &str, txs: Vec<Transaction>, connections: usize) -> anyhow::Result<f64> {
    let mut parts: Vec<Vec<Transaction>> = (0..connections).map(|_| Vec::new()).collect();
    let n = txs.len();
    for (i, tx) in txs.into_iter().enumerate() {
        parts[i % connections].push(tx);
    }
    let clients = parts
        .iter()
        .map(|_| postgres::Client::connect(url, postgres::NoTls))
        .collect::<Result<Vec<_>, _>>()?;
    let start = Instant::now();
    let threads: Vec<_> = parts
        .into_iter()
        .zip(clients)
        .map(|(part, mut client)| {
            std::thread::spawn(move || -> anyhow::Result<()> {
                for t in part {
                    let mut tx = client.transaction()?;
                    for st in &t {
                        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = st
                            .params
                            .iter()
                            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
                            .collect();
                        // `query(&str)` as the store calls it: parse, bind, execute.
                        tx.query(st.sql.as_str(), &refs)?;
                    }
                    tx.commit()?;
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a replay thread panicked")?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Bulk insert rows/s into a temporary copy of `interactions` (no indexes): SQLite prepared
/// inserts in one transaction, PostgreSQL COPY. Rows are the recorded interaction inserts,
/// repeated with fresh keys.
pub fn bulk(location: &str, txs: &[Transaction], rows: usize) -> anyhow::Result<f64> {
    let insert = txs
        .iter()
        .flatten()
        .find(|s| s.sql.starts_with("INSERT INTO interactions"))
        .context("no interaction insert recorded")?;
    if momentum_store::is_postgres_url(location) {
        let mut client = postgres::Client::connect(location, postgres::NoTls)?;
        client.batch_execute("CREATE TEMP TABLE bulk_rows (LIKE interactions)")?;
        // The columns the store writes (the table has more, filled by imports only).
        let columns = insert
            .sql
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(c, _)| c.to_owned())
            .context("the recorded insert names its columns")?;
        let line = copy_line(&insert.params);
        let start = Instant::now();
        let mut w = client.copy_in(&format!("COPY bulk_rows ({columns}) FROM STDIN"))?;
        use std::io::Write;
        for i in 0..rows {
            // The second column is the deal: a fresh key per row.
            let mut fields: Vec<&str> = line.split('\t').collect();
            let id = (i as i64 + 1).to_string();
            if fields.len() > 1 {
                fields[1] = &id;
            }
            w.write_all(fields.join("\t").as_bytes())?;
            w.write_all(b"\n")?;
        }
        w.finish()?;
        Ok(rows as f64 / start.elapsed().as_secs_f64())
    } else {
        let conn = sqlite_conn(location)?;
        conn.execute_batch("CREATE TEMP TABLE bulk_rows AS SELECT * FROM interactions WHERE 0")?;
        let sql = insert
            .sql
            .replacen("INSERT INTO interactions", "INSERT INTO bulk_rows", 1);
        let start = Instant::now();
        conn.execute_batch("BEGIN")?;
        {
            let mut stmt = conn.prepare(&sql)?;
            for i in 0..rows {
                for (k, v) in insert.params.iter().enumerate() {
                    if let Some(idx) = stmt.parameter_index(&format!("${}", k + 1))? {
                        if k == 1 {
                            stmt.raw_bind_parameter(idx, i as i64 + 1)?;
                        } else {
                            stmt.raw_bind_parameter(idx, v)?;
                        }
                    }
                }
                stmt.raw_execute()?;
            }
        }
        conn.execute_batch("COMMIT")?;
        Ok(rows as f64 / start.elapsed().as_secs_f64())
    }
}

fn copy_line(params: &[Val]) -> String {
    params
        .iter()
        .map(|v| match v {
            Val::Null => "\\N".to_owned(),
            Val::Int(x) => x.to_string(),
            Val::Bool(b) => if *b { "t" } else { "f" }.to_owned(),
            Val::Text(t) => t.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n"),
        })
        .collect::<Vec<_>>()
        .join("\t")
}
