//! The bulk path: writes generated (demo) data far faster than one command at a time.
//! SQLite gets prepared inserts in one transaction per batch; PostgreSQL gets COPY.
//! Used only for data produced by the core's commands (the demo), so no rule is skipped.

use std::io::Write;

use momentum_core::model::*;
use momentum_demo::{DealHistory, People, Sink};

use crate::error::{StoreError, StoreResult};
use crate::map;
use crate::ops;
use crate::sql::{Backend, Sql, Val};
use crate::{Db, Store};

/// Rows for one table, in the order of `columns`.
struct Table {
    name: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<Val>>,
}

impl Table {
    fn new(name: &'static str, columns: &'static [&'static str]) -> Table {
        Table {
            name,
            columns,
            rows: Vec::new(),
        }
    }
}

/// A user row's columns, as the bulk load and imports write them.
pub(crate) const USER_COLUMNS: &[&str] = &[
    "org_id",
    "user_id",
    "email",
    "name",
    "role",
    "manager_id",
    "active",
    "password_hash",
    "created_at",
];
const ACCOUNT_COLUMNS: &[&str] = &["org_id", "account_id", "name", "domain", "created_at"];
const CONTACT_COLUMNS: &[&str] = &[
    "org_id",
    "contact_id",
    "account_id",
    "name",
    "email",
    "phone",
    "title",
    "created_at",
];

/// Writes the demo generator's output into a store.
pub struct BulkWriter<'a> {
    store: &'a mut Store,
    org: Option<OrgId>,
    /// Every demo user signs in with the same password; the caller hashes it once.
    password_hash: String,
    /// The interaction summary of everything written, stored by [`BulkWriter::finish`].
    facts: crate::reports::FactTally,
    days: crate::reports::DayTally,
    peaks: crate::reports::PeakTally,
    tz: jiff::tz::TimeZone,
    currency: Option<momentum_core::money::Currency>,
    /// Secondary indexes dropped for the load, (name, definition), rebuilt by `finish`.
    deferred: Vec<(String, String)>,
}

/// Tables a bulk load fills row by row: their secondary indexes can be built once at the end.
const BULK_TABLES: &[&str] = &["deals", "next_steps", "compelling_needs", "interactions", "decisions"];

impl std::fmt::Debug for BulkWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkWriter")
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

impl<'a> BulkWriter<'a> {
    pub fn new(store: &'a mut Store, password_hash: String) -> BulkWriter<'a> {
        BulkWriter {
            store,
            org: None,
            password_hash,
            facts: Default::default(),
            days: Default::default(),
            peaks: Default::default(),
            tz: jiff::tz::TimeZone::UTC,
            currency: None,
            deferred: Vec::new(),
        }
    }

    /// For a load into an empty database: drops the secondary indexes of the bulk tables
    /// now and builds each once in [`BulkWriter::finish`], instead of maintaining a dozen
    /// indexes row by row through ten million inserts.
    pub fn defer_indexes(&mut self) -> StoreResult<()> {
        self.deferred = self.store.write(|tx| drop_indexes(tx, BULK_TABLES))?;
        Ok(())
    }

    /// Moves the id counters past the ids the bulk rows used, and writes the summaries:
    /// open deals into the pipeline's, interactions into the reports'.
    pub fn finish(mut self) -> StoreResult<()> {
        if let Some(org) = self.org {
            let mut facts = Table::new("interaction_facts", crate::reports::FACT_COLUMNS);
            facts.rows = self.facts.rows(org);
            let mut days = Table::new("deal_days", crate::reports::DAY_COLUMNS);
            days.rows = self.days.rows(org);
            let mut peaks = Table::new("closed_peaks", crate::reports::PEAK_COLUMNS);
            peaks.rows = self.peaks.rows(org);
            self.write_tables(&[facts, days, peaks])?;
        }
        let kinds = [
            ("org_ids", "orgs", "org_id"),
            ("user_ids", "users", "user_id"),
            ("account_ids", "accounts", "account_id"),
            ("contact_ids", "contacts", "contact_id"),
            ("deal_ids", "deals", "deal_id"),
            ("check_in_ids", "check_ins", "check_in_id"),
        ];
        let backend = self.store.backend();
        let org = self.org;
        let deferred = std::mem::take(&mut self.deferred);
        self.store.write(|tx| {
            build_indexes(tx, &deferred)?;
            for (kind, table, column) in kinds {
                let sql = match backend {
                    crate::Backend::Sqlite => format!(
                        "UPDATE id_counters SET last_id = (SELECT COALESCE(MAX({column}), 0) FROM {table}) WHERE kind = '{kind}'"
                    ),
                    crate::Backend::Postgres => {
                        format!("SELECT setval('{kind}', (SELECT COALESCE(MAX({column}), 0) FROM {table}) + 1, false)")
                    }
                };
                tx.query(&sql, &[])?;
            }
            if let Some(org) = org {
                for sql in ops::RECOUNT_OPEN_PIPELINE {
                    tx.exec(sql, &[org.0.into()])?;
                }
            }
            Ok(())
        })?;
        if backend == crate::Backend::Postgres {
            // Fresh statistics, so the planner sees a million deals rather than none until
            // autovacuum gets round to it.
            self.store.batch("ANALYZE")?;
        }
        Ok(())
    }

    fn org(&self) -> StoreResult<OrgId> {
        self.org
            .ok_or_else(|| StoreError::Corrupt("deals written before the org".into()))
    }

    fn write_tables(&mut self, tables: &[Table]) -> StoreResult<()> {
        match &mut self.store.db {
            Db::Sqlite(conn) => {
                let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                for t in tables {
                    let mut stmt = tx.prepare_cached(&map::insert_sql(t.name, t.columns))?;
                    for row in &t.rows {
                        stmt.execute(rusqlite::params_from_iter(row.iter()))?;
                    }
                }
                tx.commit()?;
            }
            Db::Postgres(client) => {
                let mut tx = client.transaction()?;
                let mut line = String::new();
                for t in tables.iter().filter(|t| !t.rows.is_empty()) {
                    let mut copy = tx.copy_in(&format!("COPY {} ({}) FROM STDIN", t.name, t.columns.join(", ")))?;
                    for row in &t.rows {
                        line.clear();
                        copy_line(&mut line, row);
                        copy.write_all(line.as_bytes())
                            .map_err(|e| StoreError::Database(e.to_string()))?;
                    }
                    copy.finish()?;
                }
                tx.commit()?;
            }
        }
        Ok(())
    }
}

/// Drops the secondary indexes of `tables` for a load and returns them as (name,
/// definition), for [`build_indexes`] to build once the rows are in: an index built from
/// sorted rows costs a fraction of one kept in order through every insert. The definitions
/// come from the database itself, so the migrations stay their only source; indexes that
/// back a constraint (primary keys) stay.
pub(crate) fn drop_indexes(tx: &mut dyn Sql, tables: &[&str]) -> StoreResult<Vec<(String, String)>> {
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let tables: Vec<String> = tables.iter().map(|t| format!("'{t}'")).collect();
    let sql = match tx.backend() {
        Backend::Sqlite => format!(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({})",
            tables.join(", ")
        ),
        Backend::Postgres => format!(
            "SELECT CAST(i.indexname AS TEXT), i.indexdef FROM pg_indexes i \
             WHERE i.schemaname = current_schema() AND i.tablename IN ({}) \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            tables.join(", ")
        ),
    };
    let found: Vec<(String, String)> = tx
        .query(&sql, &[])?
        .iter()
        .map(|r| Ok((r.text(0)?.to_owned(), r.text(1)?.to_owned())))
        .collect::<StoreResult<_>>()?;
    for (name, _) in &found {
        tx.exec(&format!("DROP INDEX {name}"), &[])?;
    }
    Ok(found)
}

/// Builds the indexes [`drop_indexes`] dropped.
pub(crate) fn build_indexes(tx: &mut dyn Sql, dropped: &[(String, String)]) -> StoreResult<()> {
    for (_, definition) in dropped {
        tx.exec(definition, &[])?;
    }
    Ok(())
}

/// One row in COPY's text format: tab-separated, `\N` for NULL, backslash escapes.
pub(crate) fn copy_line(out: &mut String, row: &[Val]) {
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match v {
            Val::Null => out.push_str("\\N"),
            Val::Int(x) => out.push_str(&x.to_string()),
            Val::Bool(x) => out.push(if *x { 't' } else { 'f' }),
            Val::Text(s) => {
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
        }
    }
    out.push('\n');
}

impl Sink for BulkWriter<'_> {
    type Error = StoreError;

    fn people(&mut self, people: &People) -> StoreResult<()> {
        let org = people.org.id;
        self.store.write(|tx| ops::insert_org(tx, &people.org))?;
        self.org = Some(org);
        self.tz = crate::reports::org_tz(&people.org);
        self.currency = Some(people.org.currency);
        let mut users = Table::new("users", USER_COLUMNS);
        // Managers first: a seller's row refers to their manager's.
        let mut ordered: Vec<&User> = people.users.iter().collect();
        ordered.sort_by_key(|u| (u.manager.is_some(), u.id));
        for u in ordered {
            users.rows.push(vec![
                org.0.into(),
                u.id.0.into(),
                u.email.as_str().into(),
                u.name.as_str().into(),
                u.role.as_str().into(),
                u.manager.map(|m| m.0).into(),
                u.active.into(),
                self.password_hash.as_str().into(),
                map::ts(u.created_at),
            ]);
        }
        let mut accounts = Table::new("accounts", ACCOUNT_COLUMNS);
        for a in &people.accounts {
            accounts.rows.push(vec![
                org.0.into(),
                a.id.0.into(),
                a.name.as_str().into(),
                a.domain.clone().into(),
                map::ts(a.created_at),
            ]);
        }
        let mut contacts = Table::new("contacts", CONTACT_COLUMNS);
        for c in &people.contacts {
            contacts.rows.push(vec![
                org.0.into(),
                c.id.0.into(),
                c.account.map(|a| a.0).into(),
                c.name.as_str().into(),
                c.email.as_ref().map(|e| e.as_str()).into(),
                c.phone.clone().into(),
                c.title.clone().into(),
                map::ts(c.created_at),
            ]);
        }
        let mut goals = Table::new("goals", ops::GOAL_COLUMNS);
        goals.rows = people.goals.iter().map(|g| ops::goal_values(org, g)).collect();
        let mut check_ins = Table::new("check_ins", ops::CHECK_IN_COLUMNS);
        check_ins.rows = people.check_ins.iter().map(|c| ops::check_in_values(org, c)).collect();
        self.write_tables(&[users, accounts, contacts, goals, check_ins])
    }

    fn deals(&mut self, batch: Vec<DealHistory>) -> StoreResult<()> {
        let org = self.org()?;
        let mut deals = Table::new("deals", map::DEAL_COLUMNS);
        let mut next_steps = Table::new("next_steps", map::NEXT_STEP_COLUMNS);
        let mut needs = Table::new("compelling_needs", map::NEED_COLUMNS);
        let mut interactions = Table::new("interactions", map::INTERACTION_COLUMNS);
        let mut decisions = Table::new("decisions", map::DECISION_COLUMNS);
        for h in &batch {
            let d = &h.deal;
            deals.rows.push(map::deal_values(org, d));
            if let Some(n) = d.next_step() {
                next_steps.rows.push(map::next_step_values(org, d.id, n));
            }
            if let Some(n) = &d.need {
                needs.rows.push(map::need_values(org, d.id, n));
            }
            interactions
                .rows
                .extend(h.interactions.iter().map(|i| map::interaction_values(org, d.id, i)));
            decisions
                .rows
                .extend(h.decisions.iter().map(|x| map::decision_values(org, d.id, x)));
            self.peaks.add(momentum_core::reports::closed_peak(None, d));
            if let Some(currency) = self.currency {
                self.days
                    .add(momentum_core::reports::day_counts(None, d, &self.tz, currency));
            }
            self.facts.add(momentum_core::reports::history_facts(
                &h.interactions,
                &h.decisions,
                &self.tz,
            ));
        }
        self.write_tables(&[deals, next_steps, needs, interactions, decisions])
    }
}
