//! Backup and restore.
//!
//! - SQLite: `VACUUM INTO` writes a consistent copy of the live database (readers and the
//!   server keep running; WAL mode lets it read one snapshot) as a SQLite file.
//! - PostgreSQL: a logical dump, read in one repeatable-read snapshot and streamed row by
//!   row: a JSON-lines file (a header line, then per table its columns and one JSON array
//!   per row).
//!
//! `restore` reads either kind into an *empty* database of either backend (so a SQLite
//! backup can seed a PostgreSQL server), all tables in one transaction, then moves the id
//! counters past the restored ids.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use postgres::fallible_iterator::FallibleIterator;

use crate::error::{StoreError, StoreResult};
use crate::sql::{Backend, PgConn, Sql, SqliteConn, Val};
use crate::{Db, Store};

/// Tables in an order that satisfies their foreign keys; tables added later by other
/// migrations follow, in name order.
const ORDER: &[&str] = &[
    "orgs",
    "ladder_steps",
    "users",
    "accounts",
    "contacts",
    "deals",
    "next_steps",
    "compelling_needs",
    "decisions",
    "interactions",
    "goals",
    "check_ins",
    "sessions",
    "api_tokens",
    "sign_in_failures",
    "open_pipeline",
    "calendar_feeds",
];

/// Id counters (SQLite) / sequences (PostgreSQL) and the column each hands out.
const COUNTERS: &[(&str, &str, &str)] = &[
    ("org_ids", "orgs", "org_id"),
    ("user_ids", "users", "user_id"),
    ("account_ids", "accounts", "account_id"),
    ("contact_ids", "contacts", "contact_id"),
    ("deal_ids", "deals", "deal_id"),
    ("check_in_ids", "check_ins", "check_in_id"),
    ("api_token_ids", "api_tokens", "token_id"),
];

const MAGIC: &str = "momentum-backup";
/// 2: the dump ends with a line counting its rows (version 1 dumps have none).
const DUMP_VERSION: u64 = 2;

fn io(e: std::io::Error) -> StoreError {
    StoreError::Database(format!("backup file: {e}"))
}

fn tables(tx: &mut dyn Sql) -> StoreResult<Vec<String>> {
    let sql = match tx.backend() {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        Backend::Postgres => "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    };
    let mut names: Vec<String> = tx
        .query(sql, &[])?
        .iter()
        .map(|r| r.text(0).map(str::to_owned))
        .collect::<StoreResult<_>>()?;
    names.retain(|n| n != "schema_migrations" && n != "id_counters");
    names.sort_by_key(|n| (ORDER.iter().position(|o| o == n).unwrap_or(ORDER.len()), n.clone()));
    Ok(names)
}

fn columns(tx: &mut dyn Sql, table: &str) -> StoreResult<Vec<String>> {
    let rows = match tx.backend() {
        Backend::Sqlite => tx.query("SELECT name FROM pragma_table_info($1) ORDER BY cid", &[table.into()])?,
        Backend::Postgres => tx.query(
            "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name = $1 ORDER BY ordinal_position",
            &[table.into()],
        )?,
    };
    rows.iter().map(|r| r.text(0).map(str::to_owned)).collect()
}

fn json(v: &Val) -> serde_json::Value {
    match v {
        Val::Null => serde_json::Value::Null,
        Val::Int(i) => (*i).into(),
        Val::Text(t) => t.as_str().into(),
        Val::Bool(b) => (*b).into(),
    }
}

fn val(v: serde_json::Value) -> StoreResult<Val> {
    Ok(match v {
        serde_json::Value::Null => Val::Null,
        serde_json::Value::Bool(b) => Val::Bool(b),
        serde_json::Value::Number(n) => Val::Int(
            n.as_i64()
                .ok_or_else(|| StoreError::Corrupt(format!("backup number {n}")))?,
        ),
        serde_json::Value::String(s) => Val::Text(s),
        other => return Err(StoreError::Corrupt(format!("backup value {other}"))),
    })
}

/// Writes a consistent backup of the whole database to `path` (which must not exist).
pub fn backup(store: &mut Store, path: &Path) -> StoreResult<()> {
    if path.exists() {
        return Err(momentum_core::DomainError::invalid(
            "file",
            path.display(),
            "a backup never overwrites a file: name a new one",
        )
        .into());
    }
    match &mut store.db {
        Db::Sqlite(conn) => {
            conn.execute("VACUUM INTO ?1", [path.to_string_lossy().as_ref()])?;
            Ok(())
        }
        Db::Postgres(client) => {
            let mut out = BufWriter::new(std::fs::File::create_new(path).map_err(io)?);
            let mut tx = client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let version = PgConn::new(&mut tx)
                .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])?
                .map_or(Ok(0), |r| r.int(0))?;
            writeln!(
                out,
                "{}",
                serde_json::json!({ MAGIC: DUMP_VERSION, "schema_version": version })
            )
            .map_err(io)?;
            let mut rows_written = 0u64;
            let names = tables(&mut PgConn::new(&mut tx))?;
            for table in names {
                let cols = columns(&mut PgConn::new(&mut tx), &table)?;
                writeln!(out, "{}", serde_json::json!({ "table": table, "columns": cols })).map_err(io)?;
                let sql = format!("SELECT {} FROM {table}", cols.join(", "));
                let mut rows =
                    tx.query_raw(sql.as_str(), std::iter::empty::<&(dyn postgres::types::ToSql + Sync)>())?;
                while let Some(row) = rows.next()? {
                    let values: Vec<serde_json::Value> = (0..row.len())
                        .map(|i| row.try_get::<_, Val>(i).map(|v| json(&v)))
                        .collect::<Result<_, _>>()?;
                    serde_json::to_writer(&mut out, &values).map_err(|e| io(e.into()))?;
                    out.write_all(b"\n").map_err(io)?;
                    rows_written += 1;
                }
            }
            // The last line says the dump is whole: a copy cut short is refused by restore.
            writeln!(out, "{}", serde_json::json!({ "end": { "rows": rows_written } })).map_err(io)?;
            out.flush().map_err(io)?;
            tx.commit()?;
            Ok(())
        }
    }
}

/// A backup holds every org's records and every password hash: it is for admins.
pub fn may_back_up(s: &crate::ops::Session) -> StoreResult<()> {
    if s.user.role == momentum_core::vocab::Role::Admin {
        return Ok(());
    }
    Err(momentum_core::DomainError::Forbidden(format!("backing up is for admins; you are a {}", s.user.role)).into())
}

/// One table's rows on their way into the target.
struct Sink {
    table: String,
    columns: Vec<String>,
    rows: Vec<Vec<Val>>,
    written: u64,
}

const CHUNK: usize = 10_000;

fn flush(target: &mut Target<'_, '_>, sink: &mut Sink) -> StoreResult<()> {
    if sink.rows.is_empty() {
        return Ok(());
    }
    sink.written += sink.rows.len() as u64;
    match target {
        Target::Sqlite(tx) => {
            let cols: Vec<&str> = sink.columns.iter().map(String::as_str).collect();
            let mut stmt = tx.prepare_cached(&crate::map::insert_sql(&sink.table, &cols))?;
            for row in &sink.rows {
                stmt.execute(rusqlite::params_from_iter(row.iter()))?;
            }
        }
        Target::Postgres(tx) => {
            let mut copy = tx.copy_in(&format!("COPY {} ({}) FROM STDIN", sink.table, sink.columns.join(", ")))?;
            let mut line = String::new();
            for row in &sink.rows {
                line.clear();
                crate::bulk::copy_line(&mut line, row);
                copy.write_all(line.as_bytes()).map_err(io)?;
            }
            copy.finish()?;
        }
    }
    sink.rows.clear();
    Ok(())
}

enum Target<'t, 'c> {
    Sqlite(&'t rusqlite::Transaction<'c>),
    Postgres(&'t mut postgres::Transaction<'c>),
}

impl Target<'_, '_> {
    fn sql(&mut self) -> Box<dyn Sql + '_> {
        match self {
            Target::Sqlite(tx) => Box::new(SqliteConn(tx)),
            Target::Postgres(tx) => Box::new(PgConn::new(&mut **tx)),
        }
    }
}

/// Restores a backup into this (empty) database; returns the number of rows restored.
pub fn restore(store: &mut Store, path: &Path) -> StoreResult<u64> {
    if !crate::ops::is_empty(store)? {
        return Err(momentum_core::DomainError::invalid(
            "db",
            "not empty",
            "restore goes into an empty database, so nothing is mixed or lost",
        )
        .into());
    }
    let mut head = [0u8; 16];
    let is_sqlite = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head == b"SQLite format 3\0";
    let mut count = 0u64;
    let run = |target: &mut Target<'_, '_>, count: &mut u64| -> StoreResult<()> {
        {
            // The empty schema's own rows (migrations seed open_pipeline from deals, none).
            let mut sql = target.sql();
            for t in tables(&mut *sql)? {
                sql.exec(&format!("DELETE FROM {t}"), &[])?;
            }
        }
        if is_sqlite {
            restore_from_sqlite(target, path, count)
        } else {
            restore_from_dump(target, path, count)
        }?;
        let mut sql = target.sql();
        for (kind, table, column) in COUNTERS {
            let max = format!("(SELECT COALESCE(MAX({column}), 0) FROM {table})");
            match sql.backend() {
                Backend::Sqlite => sql.exec(
                    &format!("UPDATE id_counters SET last_id = {max} WHERE kind = '{kind}'"),
                    &[],
                )?,
                Backend::Postgres => {
                    sql.query(&format!("SELECT setval('{kind}', {max} + 1, false)"), &[])?;
                    0
                }
            };
        }
        Ok(())
    };
    match &mut store.db {
        Db::Sqlite(conn) => {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            // Rows arrive table by table, not in key order (a manager after their seller):
            // check the foreign keys at commit, as PostgreSQL's COPY does per statement.
            tx.execute_batch("PRAGMA defer_foreign_keys = ON")?;
            run(&mut Target::Sqlite(&tx), &mut count)?;
            tx.commit()?;
        }
        Db::Postgres(client) => {
            let mut tx = client.transaction()?;
            run(&mut Target::Postgres(&mut tx), &mut count)?;
            tx.commit()?;
        }
    }
    Ok(count)
}

fn restore_from_sqlite(target: &mut Target<'_, '_>, path: &Path, count: &mut u64) -> StoreResult<()> {
    let source = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let names = tables(&mut SqliteConn(&source))?;
    for table in names {
        let cols = columns(&mut SqliteConn(&source), &table)?;
        let mut sink = Sink {
            table: table.clone(),
            columns: cols.clone(),
            rows: Vec::with_capacity(CHUNK),
            written: 0,
        };
        let mut stmt = source.prepare(&format!("SELECT {} FROM {table}", cols.join(", ")))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let mut values = Vec::with_capacity(cols.len());
            for i in 0..cols.len() {
                use rusqlite::types::ValueRef;
                values.push(match r.get_ref(i)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(x) => Val::Int(x),
                    ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Real(x) => Val::Text(x.to_string()),
                    ValueRef::Blob(_) => return Err(StoreError::Corrupt(format!("{table} holds a blob"))),
                });
            }
            sink.rows.push(values);
            if sink.rows.len() == CHUNK {
                flush(target, &mut sink)?;
            }
        }
        flush(target, &mut sink)?;
        *count += sink.written;
    }
    Ok(())
}

fn restore_from_dump(target: &mut Target<'_, '_>, path: &Path, count: &mut u64) -> StoreResult<()> {
    let file = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?);
    let mut lines = file.lines();
    let header: serde_json::Value = match lines.next() {
        Some(l) => serde_json::from_str(&l.map_err(io)?).unwrap_or_default(),
        None => serde_json::Value::Null,
    };
    let Some(version) = header
        .get(MAGIC)
        .and_then(serde_json::Value::as_u64)
        .filter(|v| *v <= DUMP_VERSION)
    else {
        return Err(momentum_core::DomainError::invalid(
            "file",
            path.display(),
            "a backup is a SQLite file or a dump written by `momentum backup`",
        )
        .into());
    };
    let cut_short = || {
        StoreError::from(momentum_core::DomainError::invalid(
            "file",
            path.display(),
            "the backup ends before its last line: the copy was cut short, so nothing was restored",
        ))
    };
    let mut sink: Option<Sink> = None;
    let mut end: Option<u64> = None;
    for (n, line) in lines.enumerate() {
        let line = line.map_err(io)?;
        if end.is_some() {
            return Err(StoreError::Corrupt(format!(
                "backup line {}: after the dump's end",
                n + 2
            )));
        }
        let value = serde_json::from_str::<serde_json::Value>(&line).map_err(|e| match e.is_eof() {
            true => cut_short(),
            false => StoreError::Corrupt(format!("backup line {}: {e}", n + 2)),
        })?;
        if let Some(rows) = value.get("end") {
            end = Some(rows.get("rows").and_then(serde_json::Value::as_u64).unwrap_or(u64::MAX));
            continue;
        }
        match value {
            serde_json::Value::Array(values) => {
                let s = sink
                    .as_mut()
                    .ok_or_else(|| StoreError::Corrupt("backup row before its table".into()))?;
                s.rows.push(values.into_iter().map(val).collect::<StoreResult<_>>()?);
                if s.rows.len() == CHUNK {
                    flush(target, s)?;
                }
            }
            serde_json::Value::Object(o) => {
                if let Some(mut s) = sink.take() {
                    flush(target, &mut s)?;
                    *count += s.written;
                }
                let table = o.get("table").and_then(|t| t.as_str()).unwrap_or_default().to_owned();
                let columns = o
                    .get("columns")
                    .and_then(|c| c.as_array())
                    .map(|c| c.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default();
                sink = Some(Sink {
                    table,
                    columns,
                    rows: Vec::with_capacity(CHUNK),
                    written: 0,
                });
            }
            other => return Err(StoreError::Corrupt(format!("backup line {other}"))),
        }
    }
    if let Some(mut s) = sink.take() {
        flush(target, &mut s)?;
        *count += s.written;
    }
    match end {
        None if version >= 2 => Err(cut_short()),
        Some(rows) if rows != *count => Err(StoreError::Corrupt(format!(
            "the backup's last line counts {rows} rows and {count} were read"
        ))),
        _ => Ok(()),
    }
}
