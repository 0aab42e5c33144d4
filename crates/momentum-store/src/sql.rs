//! The thin layer that lets one set of SQL statements run on both databases.
//!
//! Statements are written once with `$1, $2, ...` placeholders, which PostgreSQL takes
//! natively and SQLite takes as named parameters (bound here by name, so their order in the
//! text does not matter). Values cross the boundary as [`Val`]; each backend converts to
//! the type the column actually has, so `Val::Int` fits a BIGINT, and a NULL fits any column.

use std::error::Error as StdError;

use postgres::types::{FromSql, IsNull, ToSql, Type};
use postgres::GenericClient;

use crate::error::{StoreError, StoreResult};

/// A value bound to or read from a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}
impl From<u32> for Val {
    fn from(v: u32) -> Val {
        Val::Int(i64::from(v))
    }
}
impl From<u8> for Val {
    fn from(v: u8) -> Val {
        Val::Int(i64::from(v))
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Bool(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_owned())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map_or(Val::Null, Into::into)
    }
}

/// One result row.
#[derive(Debug)]
pub struct Row(pub Vec<Val>);

impl Row {
    fn bad(&self, i: usize, want: &str) -> StoreError {
        StoreError::Corrupt(format!("column {i} is {:?}, expected {want}", self.0.get(i)))
    }

    pub fn int(&self, i: usize) -> StoreResult<i64> {
        match self.0.get(i) {
            Some(Val::Int(v)) => Ok(*v),
            _ => Err(self.bad(i, "an integer")),
        }
    }

    pub fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        match self.0.get(i) {
            Some(Val::Null) => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    pub fn text(&self, i: usize) -> StoreResult<&str> {
        match self.0.get(i) {
            Some(Val::Text(v)) => Ok(v),
            _ => Err(self.bad(i, "text")),
        }
    }

    pub fn opt_text(&self, i: usize) -> StoreResult<Option<&str>> {
        match self.0.get(i) {
            Some(Val::Null) => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    /// SQLite keeps booleans as 0/1 integers.
    pub fn bool(&self, i: usize) -> StoreResult<bool> {
        match self.0.get(i) {
            Some(Val::Bool(v)) => Ok(*v),
            Some(Val::Int(v)) => Ok(*v != 0),
            _ => Err(self.bad(i, "a boolean")),
        }
    }
}

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The statement that allocates the next id of a kind on SQLite (a counter row).
pub(crate) const SQLITE_NEXT_ID: &str =
    "UPDATE id_counters SET last_id = last_id + 1 WHERE kind = $1 RETURNING last_id";
/// The statement that allocates the next id of a kind on PostgreSQL (a sequence).
pub(crate) const POSTGRES_NEXT_ID: &str = "SELECT nextval($1::text::regclass)";

/// A connection or transaction that runs shared SQL.
pub trait Sql {
    fn backend(&self) -> Backend;
    /// Runs a statement; returns the number of rows changed.
    fn exec(&mut self, sql: &str, params: &[Val]) -> StoreResult<u64>;
    fn query(&mut self, sql: &str, params: &[Val]) -> StoreResult<Vec<Row>>;
    /// Allocates the next id of a kind (`deal_ids`, `user_ids`, ...).
    fn next_id(&mut self, kind: &str) -> StoreResult<i64>;

    fn query_one(&mut self, sql: &str, params: &[Val]) -> StoreResult<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
}

// ---------------------------------------------------------------------------------------
// SQLite

pub(crate) struct SqliteConn<'a>(pub &'a rusqlite::Connection);

impl SqliteConn<'_> {
    fn bind(stmt: &mut rusqlite::CachedStatement<'_>, params: &[Val]) -> StoreResult<()> {
        // By each placeholder's number ($3 takes params[2]): a statement may use only some
        // of a shared parameter list, and this avoids a by-name search per value.
        for idx in 1..=stmt.parameter_count() {
            let n = stmt
                .parameter_name(idx)
                .and_then(|name| name.strip_prefix('$'))
                .and_then(|n| n.parse::<usize>().ok());
            let Some(v) = n.and_then(|n| params.get(n.checked_sub(1)?)) else {
                debug_assert!(false, "placeholder {idx} of {:?} has no value", stmt.expanded_sql());
                continue;
            };
            match v {
                Val::Null => stmt.raw_bind_parameter(idx, rusqlite::types::Null)?,
                Val::Int(x) => stmt.raw_bind_parameter(idx, x)?,
                Val::Text(x) => stmt.raw_bind_parameter(idx, x.as_str())?,
                Val::Bool(x) => stmt.raw_bind_parameter(idx, i64::from(*x))?,
            }
        }
        Ok(())
    }
}

impl Sql for SqliteConn<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> StoreResult<u64> {
        let mut stmt = self.0.prepare_cached(sql)?;
        Self::bind(&mut stmt, params)?;
        Ok(stmt.raw_execute()? as u64)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> StoreResult<Vec<Row>> {
        let mut stmt = self.0.prepare_cached(sql)?;
        Self::bind(&mut stmt, params)?;
        let n = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                use rusqlite::types::ValueRef;
                vals.push(match r.get_ref(i)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(x) => Val::Int(x),
                    ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Real(x) => Val::Text(x.to_string()),
                    ValueRef::Blob(_) => return Err(StoreError::Corrupt(format!("column {i} holds a blob"))),
                });
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn next_id(&mut self, kind: &str) -> StoreResult<i64> {
        let row = self
            .query_one(SQLITE_NEXT_ID, &[kind.into()])?
            .ok_or_else(|| StoreError::Corrupt(format!("no id counter {kind}")))?;
        row.int(0)
    }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL

pub(crate) struct PgConn<'a, C: GenericClient> {
    client: &'a mut C,
    statements: Option<&'a mut Statements>,
}

/// A connection's prepared statements by SQL text. Without them every query is two round
/// trips (parse, then bind and execute); with them, one. Named statements belong to the
/// session, not the transaction, so they outlive a rollback.
#[derive(Default)]
pub(crate) struct Statements(std::collections::HashMap<String, postgres::Statement>);

impl Statements {
    /// Generated SQL (IN lists of a team's size) could grow the map without end; past this
    /// many it starts over, which only costs a parse per statement.
    const MAX: usize = 512;

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

impl<'a, C: GenericClient> PgConn<'a, C> {
    /// A connection that parses each statement anew (one-off work: imports, backups).
    pub(crate) fn new(client: &'a mut C) -> Self {
        PgConn {
            client,
            statements: None,
        }
    }

    /// A connection that keeps its statements prepared across transactions.
    pub(crate) fn cached(client: &'a mut C, statements: &'a mut Statements) -> Self {
        PgConn {
            client,
            statements: Some(statements),
        }
    }

    fn statement(&mut self, sql: &str) -> StoreResult<postgres::Statement> {
        let Some(cache) = self.statements.as_deref_mut() else {
            return Ok(self.client.prepare(sql)?);
        };
        if let Some(s) = cache.0.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        if cache.0.len() >= Statements::MAX {
            cache.clear();
        }
        cache.0.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

impl ToSql for Val {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(v) => match *ty {
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Val::Text(v) => v.to_sql(ty, out),
            Val::Bool(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl<'a> FromSql<'a> for Val {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Val, Box<dyn StdError + Sync + Send>> {
        Ok(match *ty {
            Type::INT2 => Val::Int(i16::from_sql(ty, raw)?.into()),
            Type::INT4 => Val::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT8 => Val::Int(i64::from_sql(ty, raw)?),
            Type::BOOL => Val::Bool(bool::from_sql(ty, raw)?),
            _ => Val::Text(String::from_sql(ty, raw)?),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Val, Box<dyn StdError + Sync + Send>> {
        Ok(Val::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

impl<C: GenericClient> Sql for PgConn<'_, C> {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> StoreResult<u64> {
        let stmt = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        Ok(self.client.execute(&stmt, &refs)?)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> StoreResult<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let rows = self.client.query(&stmt, &refs)?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.try_get::<_, Val>(i).map_err(StoreError::from))
                    .collect::<StoreResult<Vec<_>>>()
                    .map(Row)
            })
            .collect()
    }

    fn next_id(&mut self, kind: &str) -> StoreResult<i64> {
        let row = self
            .query_one(POSTGRES_NEXT_ID, &[kind.into()])?
            .ok_or_else(|| StoreError::Corrupt(format!("no sequence {kind}")))?;
        row.int(0)
    }
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match self {
            Val::Null => ToSqlOutput::Owned(Value::Null),
            Val::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            Val::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Val::Bool(v) => ToSqlOutput::Owned(Value::Integer(i64::from(*v))),
        })
    }
}
