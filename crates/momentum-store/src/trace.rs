//! Recording the exact statements a write issues, for the benchmark's "raw database"
//! baseline: the harness replays them straight through the driver (rusqlite / postgres),
//! so the baseline runs the same schema and the same statements with the same values as
//! Momentum does, minus Momentum.
//!
//! While tracing is on ([`Store::start_trace`]), every [`Store::write`] runs as usual but
//! is rolled back instead of committed, and its statements are kept. The database is left
//! as it was, so traces of commands on different deals can all be replayed afterwards.

use crate::sql::{Backend, PgConn, Row, Sql, SqliteConn, Val, POSTGRES_NEXT_ID, SQLITE_NEXT_ID};
use crate::{Db, Store, StoreResult};

/// One statement as issued: its text (with `$n` placeholders) and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Val>,
}

/// The statements of one write transaction, in order.
pub type Transaction = Vec<Statement>;

impl Store {
    /// Starts recording: from now on writes are traced and rolled back.
    pub fn start_trace(&mut self) {
        self.trace = Some(Vec::new());
    }

    /// Stops recording and returns the transactions that succeeded (a refused command's
    /// statements are dropped with it).
    pub fn take_trace(&mut self) -> Vec<Transaction> {
        self.trace.take().unwrap_or_default()
    }
}

struct Traced<'a> {
    inner: &'a mut dyn Sql,
    log: Transaction,
}

impl Sql for Traced<'_> {
    fn backend(&self) -> Backend {
        self.inner.backend()
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> StoreResult<u64> {
        self.log.push(Statement {
            sql: sql.to_owned(),
            params: params.to_vec(),
        });
        self.inner.exec(sql, params)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> StoreResult<Vec<Row>> {
        self.log.push(Statement {
            sql: sql.to_owned(),
            params: params.to_vec(),
        });
        self.inner.query(sql, params)
    }

    fn next_id(&mut self, kind: &str) -> StoreResult<i64> {
        // Issued through `query` so the allocation is part of the trace.
        let sql = match self.backend() {
            Backend::Sqlite => SQLITE_NEXT_ID,
            Backend::Postgres => POSTGRES_NEXT_ID,
        };
        self.query_one(sql, &[kind.into()])?
            .ok_or_else(|| crate::StoreError::Corrupt(format!("no id counter {kind}")))?
            .int(0)
    }
}

/// [`Store::write`] while tracing: the same transaction, rolled back, its statements kept.
pub(crate) fn dry_run<T>(
    db: &mut Db,
    log: &mut Vec<Transaction>,
    f: impl FnOnce(&mut dyn Sql) -> StoreResult<T>,
) -> StoreResult<T> {
    let (out, trace) = match db {
        Db::Sqlite(conn) => {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut traced = Traced {
                inner: &mut SqliteConn(&tx),
                log: Vec::new(),
            };
            let out = f(&mut traced)?;
            let trace = traced.log;
            tx.rollback()?;
            (out, trace)
        }
        Db::Postgres(client) => {
            let mut tx = client.transaction()?;
            let mut conn = PgConn::new(&mut tx);
            let mut traced = Traced {
                inner: &mut conn,
                log: Vec::new(),
            };
            let out = f(&mut traced)?;
            let trace = traced.log;
            tx.rollback()?;
            (out, trace)
        }
    };
    log.push(trace);
    Ok(out)
}
