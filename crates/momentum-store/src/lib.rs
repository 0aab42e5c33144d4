//! Momentum's storage: the same tables, queries and behaviour on a SQLite file (the
//! embedded default) and on PostgreSQL (for teams).
//!
//! - [`Store::open`] picks the backend from the location (`postgres://...` or a file path)
//!   and applies migrations.
//! - [`ops`] holds one function per user action: load what the core needs, call the core
//!   command, write its result in one transaction (with the deal's version checked).
//! - [`bulk`] writes the demo generator's output fast (multi-row inserts, COPY).
//!
//! SQLite is reached through rusqlite (in-process, no thread hop: ~8x sqlx's one-row
//! transaction rate here), PostgreSQL through the synchronous `postgres` client.

#![forbid(unsafe_code)]

pub mod auth;
pub mod backup;
pub mod bulk;
pub mod calendar;
pub mod directory;
mod error;
pub mod export;
mod group;
pub mod import;
mod map;
pub mod ops;
pub mod pipeline;
pub mod reports;
mod schema;
pub mod sql;
pub mod trace;

pub use error::{StoreError, StoreResult};
pub use group::WriteStats;
pub use sql::Backend;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use postgres::NoTls;
use sql::{PgConn, Sql, SqliteConn};

/// A connection to one Momentum database.
pub struct Store {
    db: Db,
    /// When set, write transactions are recorded and rolled back (see [`trace`]).
    trace: Option<Vec<trace::Transaction>>,
    /// SQLite: the file's writers in this process, who share their commits ([`group`]).
    group: Option<Arc<group::Group>>,
    /// PostgreSQL: this connection's prepared statements (SQLite keeps its own cache).
    statements: sql::Statements,
    /// Inside [`Store::reading`]: writes are refused.
    reads_only: bool,
}

pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the location: a PostgreSQL URL may carry a password.
        write!(f, "Store({:?})", self.backend())
    }
}

/// The page cache of each SQLite connection opened from now on, in MiB.
static SQLITE_CACHE_MIB: AtomicU32 = AtomicU32::new(64);

/// Sets the page cache of SQLite connections opened from now on. The CLI's bulk work (the
/// demo load, imports) keeps the 64 MiB default; the server, with a connection per pooled
/// worker, sets less (its `sqlite_cache_mb`), since the OS caches the file for all of them.
pub fn set_sqlite_cache_mib(mib: u32) {
    SQLITE_CACHE_MIB.store(mib.max(1), Ordering::Relaxed);
}

/// A connection to a SQLite file, set up as every Momentum connection is.
fn open_sqlite(path: &str) -> StoreResult<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    // WAL lets readers run beside the writer; NORMAL sync in WAL mode survives a process
    // crash (only power loss can drop the last commits); the busy timeout makes concurrent
    // CLI runs wait instead of failing.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;
         PRAGMA temp_store = MEMORY;",
    )?;
    let kib = i64::from(SQLITE_CACHE_MIB.load(Ordering::Relaxed)) * 1024;
    conn.execute_batch(&format!("PRAGMA cache_size = -{kib};"))?;
    // rusqlite keeps 16 prepared statements by default; a page runs more distinct ones
    // than that, and re-parsing them was a tenth of a request's CPU.
    conn.set_prepared_statement_cache_capacity(256);
    // The query planner's stability guarantee: a cached statement keeps its plan whatever
    // values are bound. Without it SQLite re-plans a statement whenever a bound value it
    // looked at while planning changes (a seller's id, today's date), which was a tenth of
    // the Today page's CPU; our plans come from the indexes, not from the values.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(conn)
}

/// The file a SQLite location names (`sqlite://` taken off), or `None` for a PostgreSQL URL.
pub fn sqlite_file(location: &str) -> Option<&std::path::Path> {
    match is_postgres_url(location) {
        true => None,
        false => Some(std::path::Path::new(
            location.strip_prefix("sqlite://").unwrap_or(location),
        )),
    }
}

/// Whether a location names a PostgreSQL server rather than a SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

impl Store {
    /// Opens (creating if needed) the database at `location` and brings its schema up to date.
    pub fn open(location: &str) -> StoreResult<Store> {
        let mut store = if is_postgres_url(location) {
            let mut client = postgres::Client::connect(location, NoTls)?;
            // Prepared statements (`PgConn::cached`) keep one generic plan. By default
            // PostgreSQL re-plans a statement for each set of values while it guesses a
            // custom plan might be cheaper, and for the Today query that guess never settles:
            // planning its five-table join was 1.3-2 ms of every Today page. Our queries pick
            // their rows by indexed keys, so a value-blind plan is the right one (the reports
            // at the large demo measured the same either way).
            client.batch_execute("SET plan_cache_mode = force_generic_plan")?;
            Store {
                db: Db::Postgres(Box::new(client)),
                trace: None,
                group: None,
                statements: sql::Statements::default(),
                reads_only: false,
            }
        } else {
            let path = location.strip_prefix("sqlite://").unwrap_or(location);
            Store {
                db: Db::Sqlite(open_sqlite(path)?),
                trace: None,
                group: Some(group::of(path, || open_sqlite(path))?),
                statements: sql::Statements::default(),
                reads_only: false,
            }
        };
        schema::migrate(&mut store)?;
        Ok(store)
    }

    /// Whether the connection is known dead (the PostgreSQL server closed it), so a pool
    /// should discard it. SQLite connections do not break this way.
    pub fn is_broken(&self) -> bool {
        match &self.db {
            Db::Sqlite(_) => false,
            Db::Postgres(client) => client.is_closed(),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// SQLite: the commands this process has committed to this file, and in how many
    /// commits (concurrent writers share them). `None` on PostgreSQL.
    pub fn write_stats(&self) -> Option<WriteStats> {
        self.group.as_ref().map(|g| g.stats())
    }

    /// Runs `f` in one transaction: everything it writes commits together or not at all.
    /// On SQLite, concurrent callers in this process may share the commit (see [`group`]);
    /// each still sees only its own change kept or refused.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut dyn Sql) -> StoreResult<T>) -> StoreResult<T> {
        if self.reads_only {
            return Err(StoreError::Corrupt(
                "a write inside Store::reading, whose caller promised only reads".into(),
            ));
        }
        if let Some(log) = &mut self.trace {
            return trace::dry_run(&mut self.db, log, f);
        }
        match &mut self.db {
            Db::Sqlite(_) => match &self.group {
                Some(group) => group.write(f),
                None => Err(StoreError::Corrupt("a SQLite store without its writer group".into())),
            },
            Db::Postgres(client) => {
                let mut tx = client.transaction()?;
                let out = f(&mut PgConn::cached(&mut tx, &mut self.statements))?;
                tx.commit()?;
                Ok(out)
            }
        }
    }

    /// Runs `f` with every [`Store::write`] refused (an error, and nothing written): for
    /// callers that promise to only read. The web server runs such reads on its async
    /// threads, where a write waiting for the lock would hold up every other request.
    pub fn reading<T>(&mut self, f: impl FnOnce(&mut Store) -> T) -> T {
        self.reads_only = true;
        // Reset even if `f` panics: a pooled store outlives the request that panicked.
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self)));
        self.reads_only = false;
        out.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    /// Runs `f` in a read transaction, so multi-statement reads see one snapshot.
    pub fn read<T>(&mut self, f: impl FnOnce(&mut dyn Sql) -> StoreResult<T>) -> StoreResult<T> {
        match &mut self.db {
            Db::Sqlite(conn) => {
                let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
                let out = f(&mut SqliteConn(&tx))?;
                tx.commit()?;
                Ok(out)
            }
            Db::Postgres(client) => {
                let mut tx = client
                    .build_transaction()
                    .isolation_level(postgres::IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()?;
                let out = f(&mut PgConn::cached(&mut tx, &mut self.statements))?;
                tx.commit()?;
                Ok(out)
            }
        }
    }

    /// Reads that need not share one snapshot: on PostgreSQL each statement runs on its own,
    /// with no BEGIN and COMMIT around them (two round trips of the few a page takes), so
    /// each sees the latest commit; on SQLite, where a transaction costs no round trip,
    /// they share one as in [`Store::read`]. For what every request reads (the session
    /// with its user and org: one statement) and pages whose parts need not agree to the
    /// instant (Today's list, its contacts, the check-in reminder).
    pub fn read_statements<T>(&mut self, f: impl FnOnce(&mut dyn Sql) -> StoreResult<T>) -> StoreResult<T> {
        match &mut self.db {
            Db::Sqlite(_) => self.read(f),
            Db::Postgres(client) => f(&mut PgConn::cached(client.as_mut(), &mut self.statements)),
        }
    }

    /// Drops every Momentum table and rebuilds an empty schema (`demo --force`).
    pub fn reset(&mut self) -> StoreResult<()> {
        let drop = match self.backend() {
            Backend::Sqlite => "DROP TABLE IF EXISTS interaction_facts; DROP TABLE IF EXISTS deal_days; DROP TABLE IF EXISTS closed_peaks; DROP TABLE IF EXISTS calendar_feeds; DROP TABLE IF EXISTS sessions; DROP TABLE IF EXISTS api_tokens; \
                DROP TABLE IF EXISTS sign_in_failures; DROP TABLE IF EXISTS open_pipeline; DROP TABLE IF EXISTS check_ins; DROP TABLE IF EXISTS goals; DROP TABLE IF EXISTS interactions; \
                DROP TABLE IF EXISTS decisions; DROP TABLE IF EXISTS compelling_needs; DROP TABLE IF EXISTS next_steps; \
                DROP TABLE IF EXISTS deals; DROP TABLE IF EXISTS contacts; DROP TABLE IF EXISTS accounts; \
                DROP TABLE IF EXISTS users; DROP TABLE IF EXISTS ladder_steps; DROP TABLE IF EXISTS orgs; \
                DROP TABLE IF EXISTS id_counters; DROP TABLE IF EXISTS schema_migrations;",
            Backend::Postgres => "DROP TABLE IF EXISTS interaction_facts, deal_days, closed_peaks, calendar_feeds, sessions, api_tokens, sign_in_failures, open_pipeline, check_ins, goals, interactions, decisions, compelling_needs, next_steps, \
                deals, contacts, accounts, users, ladder_steps, orgs, schema_migrations CASCADE; \
                DROP SEQUENCE IF EXISTS org_ids, user_ids, account_ids, contact_ids, deal_ids, check_in_ids, api_token_ids; \
                DROP FUNCTION IF EXISTS momentum_append_only();",
        };
        self.batch(drop)?;
        // Prepared statements name the dropped tables.
        self.statements.clear();
        schema::migrate(self)
    }

    /// Runs a batch of statements outside any transaction (migrations, maintenance).
    pub(crate) fn batch(&mut self, sql: &str) -> StoreResult<()> {
        match &mut self.db {
            Db::Sqlite(conn) => conn.execute_batch(sql)?,
            Db::Postgres(client) => client.batch_execute(sql)?,
        }
        Ok(())
    }
}
