//! Storage side of imports: one all-or-nothing transaction that loads what the planner
//! needs (the org's users, accounts, contacts and already-imported deals), lets the caller
//! plan the records through the core's import rules, and writes them on the fast path
//! (prepared inserts on SQLite, COPY on PostgreSQL). A dry run, or a plan with errors,
//! rolls everything back, the new org included.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use jiff::Timestamp;
use momentum_core::commands;
use momentum_core::import::{AccountDigest, ContactDigest, Digests, SourceDigest};
use momentum_core::model::*;
use momentum_core::money::Currency;
use momentum_core::vocab::Role;
use momentum_core::DomainError;

use crate::bulk::USER_COLUMNS;
use crate::error::{StoreError, StoreResult};
use crate::map;
use crate::ops::{self, Session};
use crate::sql::{Backend, PgConn, Sql, SqliteConn, Statements, Val};
use crate::{Db, Store};

/// Where the records go: an existing org (as an admin's session), or a new org created in
/// the same transaction, with its first admin.
#[derive(Debug)]
pub enum Target<'a> {
    Org(&'a Session),
    NewOrg {
        name: &'a str,
        currency: Currency,
        timezone: &'a str,
        admin_email: &'a str,
        admin_name: &'a str,
        password_hash: &'a str,
    },
}

/// What the org already holds, for matching imported records to stored ones.
#[derive(Debug, Default)]
pub struct Existing {
    pub users: Vec<User>,
    pub accounts: Vec<Sourced<Account, AccountDigest>>,
    pub contacts: Vec<Sourced<Contact, ContactDigest>>,
    /// Deals that came from an import, by external id.
    pub deals: HashMap<String, StoredImport>,
    /// External ids of imported interactions.
    pub interactions: HashSet<String>,
}

/// An account or a contact with the external id it came from, if any, and what its source
/// said of it at its last import.
#[derive(Debug, Clone)]
pub struct Sourced<T, D> {
    pub record: T,
    pub external_id: Option<String>,
    pub source: Option<D>,
}

impl<T, D> Sourced<T, D> {
    /// A record a deal row created from a name alone: no external id, so nothing a later
    /// import compares.
    pub fn by_name(record: T) -> Self {
        Sourced {
            record,
            external_id: None,
            source: None,
        }
    }
}

/// A stored deal that came from an import.
#[derive(Debug, Clone)]
pub struct StoredImport {
    pub deal: Deal,
    pub product: Option<String>,
    /// What the source said of it at its last import (`None` for deals imported before
    /// Momentum kept that).
    pub source: Option<SourceDigest>,
}

/// Hands out new ids inside the import's transaction.
pub struct Ids<'a>(&'a mut dyn Sql);

impl std::fmt::Debug for Ids<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ids")
    }
}

impl Ids<'_> {
    /// `n` new ids of `kind` (`deal_ids`, `account_ids`, ...).
    pub fn take(&mut self, kind: &str, n: usize) -> StoreResult<Vec<i64>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        match self.0.backend() {
            Backend::Sqlite => {
                let last = self
                    .0
                    .query_one(
                        "UPDATE id_counters SET last_id = last_id + $2 WHERE kind = $1 RETURNING last_id",
                        &[kind.into(), (n as i64).into()],
                    )?
                    .ok_or_else(|| StoreError::Corrupt(format!("no id counter {kind}")))?
                    .int(0)?;
                Ok((last - n as i64 + 1..=last).collect())
            }
            Backend::Postgres => self
                .0
                .query(
                    "SELECT nextval($1::text::regclass) FROM generate_series(1, $2::bigint)",
                    &[kind.into(), (n as i64).into()],
                )?
                .iter()
                .map(|r| r.int(0))
                .collect(),
        }
    }
}

/// A deal to write, with the product the source named.
#[derive(Debug, Clone)]
pub struct DealWrite {
    pub deal: Deal,
    pub product: Option<String>,
    /// What the source said of it, kept for the next import.
    pub source: Option<SourceDigest>,
    /// The stored deal this replaces (a re-import), or `None` for a new one.
    pub before: Option<Deal>,
}

/// Everything an import writes.
#[derive(Debug, Default)]
pub struct Batch {
    pub users: Vec<User>,
    pub accounts: Vec<Sourced<Account, AccountDigest>>,
    pub contacts: Vec<Sourced<Contact, ContactDigest>>,
    pub deals: Vec<DealWrite>,
    /// Stored accounts and contacts a re-import changed (matched by external id), with what
    /// their source now says.
    pub account_updates: Vec<(Account, AccountDigest)>,
    pub contact_updates: Vec<(Contact, ContactDigest)>,
    pub decisions: Vec<(DealId, Decision)>,
    pub interactions: Vec<(DealId, Interaction, Option<String>)>,
}

/// How an import ended.
#[derive(Debug)]
pub struct Done {
    /// The org written to (new or existing) and the admin who imported.
    pub session: Session,
    /// Whether the records were committed (not a dry run, no errors).
    pub committed: bool,
}

const ACCOUNT_COLUMNS: &[&str] = &[
    "org_id",
    "account_id",
    "name",
    "domain",
    "created_at",
    "external_id",
    "source_digest",
];
const CONTACT_COLUMNS: &[&str] = &[
    "org_id",
    "contact_id",
    "account_id",
    "name",
    "email",
    "phone",
    "title",
    "created_at",
    "external_id",
    "source_digest",
];

fn interaction_columns() -> Vec<&'static str> {
    let mut c = map::INTERACTION_COLUMNS.to_vec();
    c.push("external_id");
    c
}

fn deal_columns() -> Vec<&'static str> {
    let mut c = map::DEAL_COLUMNS.to_vec();
    c.extend(["product", "source_digest"]);
    c
}

/// Runs one import in one transaction: creates the org if asked, loads what exists, lets
/// `plan` decide the records (returning `None` when it found errors), and writes them
/// unless this is a dry run. Nothing is written unless everything is. `exported` are the
/// ids of deals made in Momentum that the files name as Momentum's export does
/// ("momentum-12"): they are loaded as the stored deals of those external ids, so an
/// export edited and imported again updates them.
pub fn run(
    store: &mut Store,
    target: Target<'_>,
    exported: &[i64],
    dry_run: bool,
    now: Timestamp,
    plan: impl FnOnce(&Session, &Existing, &mut Ids<'_>) -> StoreResult<Option<Batch>>,
) -> StoreResult<Done> {
    match &mut store.db {
        Db::Sqlite(conn) => {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut sql = SqliteConn(&tx);
            let session = open_target(&mut sql, &target, now)?;
            let existing = load_existing(&mut sql, session.org.id, exported)?;
            let batch = plan(&session, &existing, &mut Ids(&mut sql))?;
            let committed = match batch {
                Some(batch) if !dry_run => {
                    write_sqlite(&tx, session.org.id, &batch)?;
                    recount(&mut SqliteConn(&tx), &session.org, now)?;
                    tx.commit()?;
                    true
                }
                _ => false,
            };
            Ok(Done { session, committed })
        }
        Db::Postgres(client) => {
            let mut tx = client.transaction()?;
            let session = open_target(&mut PgConn::new(&mut tx), &target, now)?;
            let existing = load_existing(&mut PgConn::new(&mut tx), session.org.id, exported)?;
            let mut statements = Statements::default();
            let batch = plan(
                &session,
                &existing,
                &mut Ids(&mut PgConn::cached(&mut tx, &mut statements)),
            )?;
            let committed = match batch {
                Some(batch) if !dry_run => {
                    write_postgres(&mut tx, &mut statements, session.org.id, &batch)?;
                    recount(&mut PgConn::new(&mut tx), &session.org, now)?;
                    tx.commit()?;
                    true
                }
                _ => false,
            };
            Ok(Done { session, committed })
        }
    }
}

/// The summaries the pipeline and the reports read, rebuilt for the org from its rows (an
/// import writes rows in bulk and may update existing deals).
fn recount(tx: &mut dyn Sql, org: &Org, now: Timestamp) -> StoreResult<()> {
    for sql in ops::RECOUNT_OPEN_PIPELINE {
        tx.exec(sql, &[org.id.0.into()])?;
    }
    crate::reports::recount(tx, org, now)
}

fn open_target(tx: &mut dyn Sql, target: &Target<'_>, now: Timestamp) -> StoreResult<Session> {
    match *target {
        Target::Org(s) => {
            s.actor().ensure_admin_for("importing")?;
            Ok(s.clone())
        }
        Target::NewOrg {
            name,
            currency,
            timezone,
            admin_email,
            admin_name,
            password_hash,
        } => {
            if jiff::tz::TimeZone::get(timezone).is_err() {
                return Err(DomainError::invalid(
                    "timezone",
                    timezone,
                    "a time zone is an IANA name such as Europe/Berlin or UTC",
                )
                .into());
            }
            if tx
                .query_one("SELECT 1 FROM orgs WHERE name = $1", &[name.trim().into()])?
                .is_some()
            {
                return Err(DomainError::invalid(
                    "org",
                    name,
                    "an org of that name already exists: import into it with --as an admin",
                )
                .into());
            }
            let org = commands::create_org(
                OrgId(tx.next_id("org_ids")?),
                commands::NewOrg {
                    name,
                    currency,
                    timezone,
                },
                now,
            )?;
            let user = commands::add_user(
                None,
                UserId(tx.next_id("user_ids")?),
                commands::NewUser {
                    email: admin_email,
                    name: admin_name,
                    role: Role::Admin,
                    manager: None,
                },
                now,
            )?;
            ops::insert_org(tx, &org)?;
            ops::insert_user(tx, org.id, &user, Some(password_hash))?;
            Ok(Session { org, user })
        }
    }
}

trait EnsureAdmin {
    fn ensure_admin_for(&self, action: &str) -> momentum_core::Result<()>;
}

impl EnsureAdmin for Actor {
    fn ensure_admin_for(&self, action: &str) -> momentum_core::Result<()> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(DomainError::Forbidden(format!(
                "{action} is for admins; you are a {}",
                self.role
            )))
        }
    }
}

/// How Momentum's export names a deal made in Momentum: this, then its id (the export's
/// SQL writes the same).
pub const EXPORTED_ID_PREFIX: &str = "momentum-";

/// The external id Momentum's export gives a deal made in Momentum.
pub fn exported_id(deal: DealId) -> String {
    format!("{EXPORTED_ID_PREFIX}{}", deal.0)
}

fn load_existing(tx: &mut dyn Sql, org: OrgId, exported: &[i64]) -> StoreResult<Existing> {
    let o = [Val::from(org.0)];
    let users = tx
        .query(
            &format!(
                "SELECT {} FROM users WHERE org_id = $1 ORDER BY user_id",
                map::USER_COLS
            ),
            &o,
        )?
        .iter()
        .map(map::user)
        .collect::<StoreResult<Vec<_>>>()?;
    let accounts = tx
        .query(
            "SELECT account_id, name, domain, created_at, external_id, source_digest FROM accounts \
             WHERE org_id = $1 ORDER BY account_id",
            &o,
        )?
        .iter()
        .map(|r| {
            Ok(Sourced {
                record: Account {
                    id: AccountId(r.int(0)?),
                    name: r.text(1)?.to_owned(),
                    domain: r.opt_text(2)?.map(str::to_owned),
                    created_at: map::read_ts(r, 3)?,
                },
                external_id: r.opt_text(4)?.map(str::to_owned),
                source: read_digest(r, 5)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let contacts = tx
        .query(
            "SELECT contact_id, account_id, name, email, phone, title, created_at, external_id, source_digest FROM contacts \
             WHERE org_id = $1 ORDER BY contact_id",
            &o,
        )?
        .iter()
        .map(|r| {
            Ok(Sourced {
                record: Contact {
                    id: ContactId(r.int(0)?),
                    account: r.opt_int(1)?.map(AccountId),
                    name: r.text(2)?.to_owned(),
                    email: r
                        .opt_text(3)?
                        .map(|e| Email::parse("stored email", e).map_err(map::corrupt))
                        .transpose()?,
                    phone: r.opt_text(4)?.map(str::to_owned),
                    title: r.opt_text(5)?.map(str::to_owned),
                    created_at: map::read_ts(r, 6)?,
                },
                external_id: r.opt_text(7)?.map(str::to_owned),
                source: read_digest(r, 8)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let mut sources: HashMap<i64, (Option<String>, Option<SourceDigest>)> = tx
        .query(
            "SELECT deal_id, product, source_digest FROM deals WHERE org_id = $1 AND external_id IS NOT NULL \
             AND (product IS NOT NULL OR source_digest IS NOT NULL)",
            &o,
        )?
        .iter()
        .map(|r| Ok((r.int(0)?, (r.opt_text(1)?.map(str::to_owned), read_digest(r, 2)?))))
        .collect::<StoreResult<_>>()?;
    let mut deals = HashMap::new();
    for row in tx.query(
        &format!("{} WHERE d.org_id = $1 AND d.external_id IS NOT NULL", map::DEAL_SELECT),
        &o,
    )? {
        let deal = map::deal(&row)?.deal;
        let (product, source) = sources.remove(&deal.id.0).unwrap_or_default();
        if let Some(ext) = deal.external_id.clone() {
            deals.insert(ext, StoredImport { deal, product, source });
        }
    }
    // Deals made here, named by an export: in pages, within the bind limits of both backends.
    for ids in exported.chunks(1_000) {
        let list: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let mut params = vec![Val::from(org.0)];
        params.extend(ids.iter().map(|id| Val::from(*id)));
        let which = format!(
            "d.org_id = $1 AND d.external_id IS NULL AND d.deal_id IN ({})",
            list.join(", ")
        );
        let mut products: HashMap<i64, Option<String>> = tx
            .query(
                &format!("SELECT d.deal_id, d.product FROM deals d WHERE {which}"),
                &params,
            )?
            .iter()
            .map(|r| Ok((r.int(0)?, r.opt_text(1)?.map(str::to_owned))))
            .collect::<StoreResult<_>>()?;
        for row in tx.query(&format!("{} WHERE {which}", map::DEAL_SELECT), &params)? {
            let deal = map::deal(&row)?.deal;
            let product = products.remove(&deal.id.0).flatten();
            // A deal imported under that very id (from another database's export) keeps it.
            deals.entry(exported_id(deal.id)).or_insert(StoredImport {
                deal,
                product,
                source: None,
            });
        }
    }
    let interactions = tx
        .query(
            "SELECT external_id FROM interactions WHERE org_id = $1 AND external_id IS NOT NULL",
            &o,
        )?
        .iter()
        .map(|r| r.text(0).map(str::to_owned))
        .collect::<StoreResult<_>>()?;
    Ok(Existing {
        users,
        accounts,
        contacts,
        deals,
        interactions,
    })
}

/// A stored source digest; one that does not read (written by a version with other fields)
/// counts as none, so the next re-import takes the source as it is and writes a new one.
fn read_digest<const N: usize>(r: &crate::sql::Row, i: usize) -> StoreResult<Option<Digests<N>>> {
    Ok(r.opt_text(i)?.and_then(|t| t.parse().ok()))
}

fn digest_value<const N: usize>(d: Option<Digests<N>>) -> Val {
    d.map(|d| d.to_string()).into()
}

fn user_values(org: OrgId, u: &User) -> Vec<Val> {
    vec![
        org.0.into(),
        u.id.0.into(),
        u.email.as_str().into(),
        u.name.as_str().into(),
        u.role.as_str().into(),
        u.manager.map(|m| m.0).into(),
        u.active.into(),
        Val::Null,
        map::ts(u.created_at),
    ]
}

fn account_values(org: OrgId, s: &Sourced<Account, AccountDigest>) -> Vec<Val> {
    let a = &s.record;
    vec![
        org.0.into(),
        a.id.0.into(),
        a.name.as_str().into(),
        a.domain.clone().into(),
        map::ts(a.created_at),
        s.external_id.clone().into(),
        digest_value(s.source),
    ]
}

fn contact_values(org: OrgId, s: &Sourced<Contact, ContactDigest>) -> Vec<Val> {
    let c = &s.record;
    vec![
        org.0.into(),
        c.id.0.into(),
        c.account.map(|a| a.0).into(),
        c.name.as_str().into(),
        c.email.as_ref().map(|e| e.as_str()).into(),
        c.phone.clone().into(),
        c.title.clone().into(),
        map::ts(c.created_at),
        s.external_id.clone().into(),
        digest_value(s.source),
    ]
}

fn deal_row(org: OrgId, w: &DealWrite) -> Vec<Val> {
    let mut v = map::deal_values(org, &w.deal);
    v.push(w.product.clone().into());
    v.push(digest_value(w.source));
    v
}

/// Inserts in dependency order: users, accounts, contacts, deals, then what hangs off deals.
/// A table's name, its columns, and its rows, made one at a time as they are written (so
/// a large import never holds a second copy of itself as rows).
type TableRows<'b> = (&'static str, Vec<&'static str>, Box<dyn Iterator<Item = Vec<Val>> + 'b>);

/// Inserts in dependency order: users, accounts, contacts, deals, then what hangs off deals.
fn insert_tables(org: OrgId, batch: &Batch) -> Vec<TableRows<'_>> {
    let new_deals = move || batch.deals.iter().filter(|w| w.before.is_none());
    vec![
        (
            "users",
            USER_COLUMNS.to_vec(),
            Box::new(batch.users.iter().map(move |u| user_values(org, u))),
        ),
        (
            "accounts",
            ACCOUNT_COLUMNS.to_vec(),
            Box::new(batch.accounts.iter().map(move |a| account_values(org, a))),
        ),
        (
            "contacts",
            CONTACT_COLUMNS.to_vec(),
            Box::new(batch.contacts.iter().map(move |c| contact_values(org, c))),
        ),
        (
            "deals",
            deal_columns(),
            Box::new(new_deals().map(move |w| deal_row(org, w))),
        ),
        (
            "next_steps",
            map::NEXT_STEP_COLUMNS.to_vec(),
            Box::new(
                new_deals().filter_map(move |w| w.deal.next_step().map(|n| map::next_step_values(org, w.deal.id, n))),
            ),
        ),
        (
            "decisions",
            map::DECISION_COLUMNS.to_vec(),
            Box::new(
                batch
                    .decisions
                    .iter()
                    .map(move |(d, x)| map::decision_values(org, *d, x)),
            ),
        ),
        (
            "interactions",
            interaction_columns(),
            Box::new(batch.interactions.iter().map(move |(d, i, ext)| {
                let mut v = map::interaction_values(org, *d, i);
                v.push(ext.clone().into());
                v
            })),
        ),
    ]
}

fn update_deal_sql() -> String {
    let cols = deal_columns();
    let sets: Vec<String> = cols[2..]
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 3))
        .collect();
    format!(
        "UPDATE deals SET {} WHERE org_id = $1 AND deal_id = $2 AND version = ${}",
        sets.join(", "),
        cols.len() + 1
    )
}

/// Updates re-imported deals: the row (if still at the version read), and its next step.
fn update_deals(tx: &mut dyn Sql, org: OrgId, batch: &Batch, insert_next_step: bool) -> StoreResult<()> {
    let sql = update_deal_sql();
    let next_sql = map::insert_sql("next_steps", map::NEXT_STEP_COLUMNS);
    for w in batch.deals.iter() {
        let Some(before) = &w.before else { continue };
        let mut values = deal_row(org, w);
        values.push(before.version.into());
        if tx.exec(&sql, &values)? == 0 {
            return Err(DomainError::Conflict {
                deal: w.deal.id.0,
                expected: before.version,
                actual: before.version + 1,
            }
            .into());
        }
        if w.deal.next_step() != before.next_step() {
            tx.exec(
                "DELETE FROM next_steps WHERE org_id = $1 AND deal_id = $2",
                &[org.0.into(), w.deal.id.0.into()],
            )?;
            if let (Some(n), true) = (w.deal.next_step(), insert_next_step) {
                tx.exec(&next_sql, &map::next_step_values(org, w.deal.id, n))?;
            }
        }
    }
    Ok(())
}

/// Writes the re-imported changes to stored accounts and contacts, after the inserts (a
/// contact may have moved to an account this import creates).
fn update_directory(tx: &mut dyn Sql, org: OrgId, batch: &Batch) -> StoreResult<()> {
    for (a, digest) in &batch.account_updates {
        tx.exec(
            "UPDATE accounts SET name = $3, domain = $4, source_digest = $5 WHERE org_id = $1 AND account_id = $2",
            &[
                org.0.into(),
                a.id.0.into(),
                a.name.as_str().into(),
                a.domain.clone().into(),
                digest_value(Some(*digest)),
            ],
        )?;
    }
    for (c, digest) in &batch.contact_updates {
        tx.exec(
            "UPDATE contacts SET account_id = $3, name = $4, email = $5, phone = $6, title = $7, source_digest = $8 \
             WHERE org_id = $1 AND contact_id = $2",
            &[
                org.0.into(),
                c.id.0.into(),
                c.account.map(|a| a.0).into(),
                c.name.as_str().into(),
                c.email.as_ref().map(|e| e.as_str().to_owned()).into(),
                c.phone.clone().into(),
                c.title.clone().into(),
                digest_value(Some(*digest)),
            ],
        )?;
    }
    Ok(())
}

/// The fewest new rows for which an import builds a table's indexes after loading it.
const BULK_LOAD: usize = 2_000;

/// The tables this batch loads in bulk: those it adds at least [`BULK_LOAD`] rows to, and
/// no fewer than they hold already. Building an index afterwards costs about half of
/// keeping it through each insert, but per row of the whole table, so it pays when the
/// import is most of the table: a team bringing its history in.
fn bulk_loaded(tx: &mut dyn Sql, batch: &Batch) -> StoreResult<Vec<&'static str>> {
    let new_deals = || batch.deals.iter().filter(|w| w.before.is_none());
    let adding = [
        ("deals", new_deals().count()),
        (
            "next_steps",
            new_deals().filter(|w| w.deal.next_step().is_some()).count(),
        ),
        ("interactions", batch.interactions.len()),
    ];
    let mut tables = Vec::new();
    for (table, n) in adding {
        if n >= BULK_LOAD {
            let held = tx
                .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])?
                .map_or(Ok(0), |r| r.int(0))?;
            if n as i64 >= held {
                tables.push(table);
            }
        }
    }
    Ok(tables)
}

/// SQLite takes the new rows by prepared inserts; the indexes of a table the import is
/// most of are built once after. (PostgreSQL does not get that: dropping an index locks
/// its table against every reader, of every org, until the import commits.)
fn write_sqlite(tx: &rusqlite::Transaction<'_>, org: OrgId, batch: &Batch) -> StoreResult<()> {
    let tables = bulk_loaded(&mut SqliteConn(tx), batch)?;
    let dropped = crate::bulk::drop_indexes(&mut SqliteConn(tx), &tables)?;
    for (table, columns, rows) in insert_tables(org, batch) {
        let mut rows = rows.peekable();
        if rows.peek().is_none() {
            continue;
        }
        let mut stmt = tx.prepare_cached(&map::insert_sql(table, &columns))?;
        for row in rows {
            stmt.execute(rusqlite::params_from_iter(row.iter()))?;
        }
    }
    crate::bulk::build_indexes(&mut SqliteConn(tx), &dropped)?;
    update_directory(&mut SqliteConn(tx), org, batch)?;
    update_deals(&mut SqliteConn(tx), org, batch, true)
}

fn write_postgres(
    tx: &mut postgres::Transaction<'_>,
    statements: &mut Statements,
    org: OrgId,
    batch: &Batch,
) -> StoreResult<()> {
    let mut line = String::new();
    // Updated deals first: their next steps go in by statement, before the COPYs.
    update_deals(&mut PgConn::cached(tx, statements), org, batch, true)?;
    for (table, columns, rows) in insert_tables(org, batch) {
        let mut rows = rows.peekable();
        if rows.peek().is_none() {
            continue;
        }
        let mut copy = tx.copy_in(&format!("COPY {table} ({}) FROM STDIN", columns.join(", ")))?;
        let mut buf = Vec::with_capacity(1 << 16);
        for row in rows {
            line.clear();
            crate::bulk::copy_line(&mut line, &row);
            buf.extend_from_slice(line.as_bytes());
            if buf.len() > 1 << 16 {
                copy.write_all(&buf).map_err(|e| StoreError::Database(e.to_string()))?;
                buf.clear();
            }
        }
        copy.write_all(&buf).map_err(|e| StoreError::Database(e.to_string()))?;
        copy.finish()?;
    }
    update_directory(&mut PgConn::cached(tx, statements), org, batch)
}
