//! The bulk path: writes generated (demo) data far faster than one command at a time.
//! SQLite gets prepared inserts in one transaction per batch; PostgreSQL gets COPY.
//! Used only for data produced by the core's commands (the demo), so no rule is skipped.

use std::io::Write;

use momentum_core::model::*;
use momentum_demo::{DealHistory, People, Sink};

use crate::error::{StoreError, StoreResult};
use crate::map;
use crate::ops;
use crate::sql::Val;
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

const USER_COLUMNS: &[&str] = &[
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
}

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
        }
    }

    /// Moves the id counters past the ids the bulk rows used, and sums the open deals
    /// into the pipeline summary.
    pub fn finish(self) -> StoreResult<()> {
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
        self.store.write(|tx| {
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
        })
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

/// One row in COPY's text format: tab-separated, `\N` for NULL, backslash escapes.
fn copy_line(out: &mut String, row: &[Val]) {
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
        }
        self.write_tables(&[deals, next_steps, needs, interactions, decisions])
    }
}
