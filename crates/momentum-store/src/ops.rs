//! One function per user action, for every caller (CLI now; web, API and import later).
//! Each loads what the core command needs, calls it, and writes the result in one
//! transaction. Reads apply the actor's visibility (invariant 5) in the query itself, and
//! every query is bounded by `org_id`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use jiff::Timestamp;
use momentum_core::commands::{self, Rules};
use momentum_core::model::*;
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::*;
use momentum_core::DomainError;
use serde::Serialize;

use crate::error::StoreResult;
use crate::map::{self, corrupt, DealRow};
use crate::sql::{Backend, Row, Sql, Val};
use crate::Store;

pub use crate::map::DealRow as LoadedDeal;

/// Who is acting, in which org.
#[derive(Debug, Clone)]
pub struct Session {
    pub org: Org,
    pub user: User,
}

impl Session {
    pub fn actor(&self) -> Actor {
        Actor {
            user: self.user.id,
            role: self.user.role,
        }
    }

    fn rules(&self) -> Rules<'_> {
        Rules {
            ladder: &self.org.ladder,
            cadence: &self.org.cadence,
        }
    }

    /// The clock as this org counts days.
    pub fn now(&self, at: Timestamp) -> Now {
        clock(&self.org, at)
    }
}

/// `at`, with the date it falls on in the org's time zone.
pub fn clock(org: &Org, at: Timestamp) -> Now {
    let tz = jiff::tz::TimeZone::get(&org.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    Now {
        at,
        today: at.to_zoned_datetime(tz).date(),
    }
}

// ---------------------------------------------------------------------------------------
// Orgs and sessions

/// Names of the orgs in this database, oldest first.
pub fn org_names(store: &mut Store) -> StoreResult<Vec<String>> {
    store.read(|tx| {
        tx.query("SELECT name FROM orgs ORDER BY org_id", &[])?
            .iter()
            .map(|r| r.text(0).map(str::to_owned))
            .collect()
    })
}

/// The org's columns, as `o.`: [`org_from`] reads them from the front of a row (or from an
/// offset, when a query reads the org with the session that names it).
pub(crate) const ORG_COLS_O: &str = "o.org_id, o.name, o.currency, o.timezone, o.cadence_first_every_days, \
     o.cadence_first_for_days, o.cadence_then_every_days, o.created_at";

/// The org with its ladder and cadence.
pub(crate) fn load_org(tx: &mut dyn Sql, id: OrgId) -> StoreResult<Org> {
    let row = tx
        .query_one(
            &format!("SELECT {ORG_COLS_O} FROM orgs o WHERE o.org_id = $1"),
            &[id.0.into()],
        )?
        .ok_or_else(|| DomainError::not_found("org", id))?;
    let steps = tx.query(
        "SELECT name FROM ladder_steps WHERE org_id = $1 ORDER BY step",
        &[id.0.into()],
    )?;
    let names = steps
        .iter()
        .map(|r| r.text(0).map(str::to_owned))
        .collect::<StoreResult<Vec<_>>>()?;
    org_from(&row, 0, names)
}

/// The org whose [`ORG_COLS_O`] start at column `at` of `row`, with its ladder's step names.
pub(crate) fn org_from(row: &Row, at: usize, ladder: Vec<String>) -> StoreResult<Org> {
    let days = |i| map::count(row, at + i);
    Ok(Org {
        id: OrgId(row.int(at)?),
        name: row.text(at + 1)?.to_owned(),
        currency: map::currency(row, at + 2)?,
        timezone: row.text(at + 3)?.to_owned(),
        ladder: Ladder::new(ladder).map_err(corrupt)?,
        cadence: Cadence::new(days(4)?, days(5)?, days(6)?).map_err(corrupt)?,
        created_at: map::read_ts(row, at + 7)?,
    })
}

/// Opens a session: the org (by name, or the only one), acting as the user with `email`
/// (or, without one, the org's first admin: whoever holds the database holds it all).
pub fn session(store: &mut Store, org_name: Option<&str>, email: Option<&str>) -> StoreResult<Session> {
    store.read(|tx| {
        let org_id = match org_name {
            Some(name) => tx
                .query_one("SELECT org_id FROM orgs WHERE name = $1", &[name.into()])?
                .ok_or_else(|| DomainError::invalid("org", name, "no org of that name in this database"))?
                .int(0)?,
            None => {
                let rows = tx.query("SELECT org_id FROM orgs ORDER BY org_id LIMIT 2", &[])?;
                match rows.as_slice() {
                    [] => {
                        return Err(DomainError::missing(
                            "org",
                            "this database has no org yet: run `momentum org create` or `momentum demo`",
                        )
                        .into())
                    }
                    [one] => one.int(0)?,
                    _ => {
                        return Err(DomainError::missing("org", "this database holds several orgs: name one with --org").into())
                    }
                }
            }
        };
        let org = load_org(tx, OrgId(org_id))?;
        let user = match email {
            Some(e) => {
                let email = Email::parse("as", e)?;
                find_user(tx, org.id, &email)?.ok_or_else(|| DomainError::invalid("as", e, "no user with that e-mail in this org"))?
            }
            None => {
                let row = tx
                    .query_one(
                        &format!("SELECT {} FROM users WHERE org_id = $1 AND role = 'admin' AND active ORDER BY user_id LIMIT 1", map::USER_COLS),
                        &[org.id.0.into()],
                    )?
                    .ok_or_else(|| corrupt("the org has no active admin"))?;
                map::user(&row)?
            }
        };
        if !user.active {
            return Err(DomainError::invalid("as", user.email.as_str(), "the user is inactive").into());
        }
        Ok(Session { org, user })
    })
}

/// A user of the org by id, active or not.
pub(crate) fn user_by_id(tx: &mut dyn Sql, org: OrgId, id: UserId) -> StoreResult<Option<User>> {
    tx.query_one(
        &format!(
            "SELECT {} FROM users WHERE org_id = $1 AND user_id = $2",
            map::USER_COLS
        ),
        &[org.0.into(), id.0.into()],
    )?
    .map(|r| map::user(&r))
    .transpose()
}

fn find_user(tx: &mut dyn Sql, org: OrgId, email: &Email) -> StoreResult<Option<User>> {
    tx.query_one(
        &format!("SELECT {} FROM users WHERE org_id = $1 AND email = $2", map::USER_COLS),
        &[org.0.into(), email.as_str().into()],
    )?
    .map(|r| map::user(&r))
    .transpose()
}

pub(crate) fn user_by_email(tx: &mut dyn Sql, org: OrgId, field: &str, email: &str) -> StoreResult<User> {
    let parsed = Email::parse(field, email)?;
    find_user(tx, org, &parsed)?
        .ok_or_else(|| DomainError::invalid(field, email, "no user with that e-mail in this org").into())
}

pub(crate) fn insert_user(tx: &mut dyn Sql, org: OrgId, user: &User, password_hash: Option<&str>) -> StoreResult<()> {
    if find_user(tx, org, &user.email)?.is_some() {
        return Err(
            DomainError::invalid("email", user.email.as_str(), "another user of this org has that e-mail").into(),
        );
    }
    tx.exec(
        "INSERT INTO users (org_id, user_id, email, name, role, manager_id, active, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            org.0.into(),
            user.id.0.into(),
            user.email.as_str().into(),
            user.name.as_str().into(),
            user.role.as_str().into(),
            user.manager.map(|m| m.0).into(),
            user.active.into(),
            password_hash.into(),
            map::ts(user.created_at),
        ],
    )?;
    Ok(())
}

pub(crate) fn insert_org(tx: &mut dyn Sql, org: &Org) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO orgs (org_id, name, currency, timezone, cadence_first_every_days, cadence_first_for_days, \
         cadence_then_every_days, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            org.id.0.into(),
            org.name.as_str().into(),
            org.currency.code().into(),
            org.timezone.as_str().into(),
            org.cadence.first_every_days.into(),
            org.cadence.first_for_days.into(),
            org.cadence.then_every_days.into(),
            map::ts(org.created_at),
        ],
    )?;
    write_ladder(tx, org.id, &org.ladder)
}

fn write_ladder(tx: &mut dyn Sql, org: OrgId, ladder: &Ladder) -> StoreResult<()> {
    tx.exec("DELETE FROM ladder_steps WHERE org_id = $1", &[org.0.into()])?;
    for (i, name) in ladder.names().iter().enumerate() {
        tx.exec(
            "INSERT INTO ladder_steps (org_id, step, name) VALUES ($1, $2, $3)",
            &[org.0.into(), (i as i64 + 1).into(), name.as_str().into()],
        )?;
    }
    Ok(())
}

/// The first admin of a new org.
#[derive(Debug)]
pub struct FirstAdmin<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: Option<&'a str>,
}

/// Creates an org and its first admin.
pub fn create_org(
    store: &mut Store,
    input: commands::NewOrg<'_>,
    admin: FirstAdmin<'_>,
    now: Timestamp,
) -> StoreResult<Session> {
    if jiff::tz::TimeZone::get(input.timezone).is_err() {
        return Err(DomainError::invalid(
            "timezone",
            input.timezone,
            "a time zone is an IANA name such as Europe/Berlin or UTC",
        )
        .into());
    }
    store.write(|tx| {
        if tx
            .query_one("SELECT 1 FROM orgs WHERE name = $1", &[input.name.trim().into()])?
            .is_some()
        {
            return Err(DomainError::invalid("org.name", input.name, "an org of that name already exists").into());
        }
        let org = commands::create_org(OrgId(tx.next_id("org_ids")?), input, now)?;
        let user_id = UserId(tx.next_id("user_ids")?);
        let user = commands::add_user(
            None,
            user_id,
            commands::NewUser {
                email: admin.email,
                name: admin.name,
                role: Role::Admin,
                manager: None,
            },
            now,
        )?;
        insert_org(tx, &org)?;
        insert_user(tx, org.id, &user, admin.password_hash)?;
        Ok(Session { org, user })
    })
}

/// A user as an admin adds them; the manager is named by e-mail.
#[derive(Debug)]
pub struct AddUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub manager: Option<&'a str>,
    pub password_hash: Option<&'a str>,
}

pub fn add_user(store: &mut Store, s: &Session, input: AddUser<'_>, now: Timestamp) -> StoreResult<User> {
    store.write(|tx| {
        let manager = match input.manager {
            Some(m) => Some(user_by_email(tx, s.org.id, "manager", m)?),
            None => None,
        };
        let id = UserId(tx.next_id("user_ids")?);
        let user = commands::add_user(
            Some(&s.actor()),
            id,
            commands::NewUser {
                email: input.email,
                name: input.name,
                role: input.role,
                manager: manager.as_ref(),
            },
            now,
        )?;
        insert_user(tx, s.org.id, &user, input.password_hash)?;
        Ok(user)
    })
}

/// Changes a user's role, team or access, by e-mail. A manager losing the role keeps
/// no team: their sellers' `manager_id` must be moved first (refused otherwise).
pub fn edit_user(
    store: &mut Store,
    s: &Session,
    email: &str,
    role: Role,
    manager_email: Option<&str>,
    active: bool,
) -> StoreResult<User> {
    store.write(|tx| {
        let user = user_by_email(tx, s.org.id, "email", email)?;
        let manager = match manager_email {
            Some(m) => Some(user_by_email(tx, s.org.id, "manager", m)?),
            None => None,
        };
        let change = commands::UserChange {
            role,
            manager: manager.as_ref(),
            active,
        };
        let edited = commands::edit_user(&s.actor(), &user, change)?;
        if user.role == Role::Manager && edited.role != Role::Manager {
            let team = tx.query_one(
                "SELECT COUNT(*) FROM users WHERE org_id = $1 AND manager_id = $2",
                &[s.org.id.0.into(), user.id.0.into()],
            )?;
            if team.map_or(Ok(0), |r| r.int(0))? > 0 {
                return Err(DomainError::invalid(
                    "role",
                    edited.role,
                    "this manager still has a team: move their sellers to another manager first",
                )
                .into());
            }
        }
        tx.exec(
            "UPDATE users SET role = $3, manager_id = $4, active = $5 WHERE org_id = $1 AND user_id = $2",
            &[
                s.org.id.0.into(),
                user.id.0.into(),
                edited.role.as_str().into(),
                edited.manager.map(|m| m.0).into(),
                edited.active.into(),
            ],
        )?;
        Ok(edited)
    })
}

/// The org's users, by id.
pub fn users(store: &mut Store, s: &Session) -> StoreResult<Vec<User>> {
    store.read(|tx| {
        tx.query(
            &format!(
                "SELECT {} FROM users WHERE org_id = $1 ORDER BY user_id",
                map::USER_COLS
            ),
            &[s.org.id.0.into()],
        )?
        .iter()
        .map(map::user)
        .collect()
    })
}

pub fn set_ladder(store: &mut Store, s: &Session, names: Vec<String>) -> StoreResult<Ladder> {
    store.write(|tx| {
        // Every step the org's deals, next steps and history name must stay on the ladder.
        // (A rare admin action: the scans are acceptable here.)
        let row = tx.query_one(
            "SELECT MAX(m) FROM ( \
                 SELECT COALESCE(MAX(stage), 0) AS m FROM deals WHERE org_id = $1 \
                 UNION ALL SELECT COALESCE(MAX(aims_at), 0) FROM next_steps WHERE org_id = $1 \
                 UNION ALL SELECT COALESCE(MAX(objective), 0) FROM interactions WHERE org_id = $1 \
                 UNION ALL SELECT COALESCE(MAX(to_stage), 0) FROM decisions WHERE org_id = $1) AS steps",
            &[s.org.id.0.into()],
        )?;
        let highest = row.map_or(Ok(Step(0)), |r| map::step(&r, 0))?;
        let ladder = commands::set_ladder(&s.actor(), names, highest)?;
        write_ladder(tx, s.org.id, &ladder)?;
        Ok(ladder)
    })
}

pub fn set_cadence(
    store: &mut Store,
    s: &Session,
    first_every: u32,
    first_for: u32,
    then_every: u32,
) -> StoreResult<Cadence> {
    let cadence = commands::set_cadence(&s.actor(), first_every, first_for, then_every)?;
    store.write(|tx| {
        tx.exec(
            "UPDATE orgs SET cadence_first_every_days = $2, cadence_first_for_days = $3, cadence_then_every_days = $4 WHERE org_id = $1",
            &[
                s.org.id.0.into(),
                cadence.first_every_days.into(),
                cadence.first_for_days.into(),
                cadence.then_every_days.into(),
            ],
        )?;
        Ok(cadence)
    })
}

// ---------------------------------------------------------------------------------------
// Buyers

pub fn add_account(
    store: &mut Store,
    s: &Session,
    name: &str,
    domain: Option<&str>,
    now: Timestamp,
) -> StoreResult<Account> {
    store.write(|tx| {
        let account = commands::add_account(&s.actor(), AccountId(tx.next_id("account_ids")?), name, domain, now)?;
        tx.exec(
            "INSERT INTO accounts (org_id, account_id, name, domain, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[
                s.org.id.0.into(),
                account.id.0.into(),
                account.name.as_str().into(),
                account.domain.clone().into(),
                map::ts(account.created_at),
            ],
        )?;
        Ok(account)
    })
}

pub(crate) fn ensure_exists(
    tx: &mut dyn Sql,
    org: OrgId,
    table: &str,
    key: &str,
    what: &'static str,
    id: Option<i64>,
) -> StoreResult<()> {
    if let Some(id) = id {
        let sql = format!("SELECT 1 FROM {table} WHERE org_id = $1 AND {key} = $2");
        if tx.query_one(&sql, &[org.0.into(), id.into()])?.is_none() {
            return Err(DomainError::not_found(what, id).into());
        }
    }
    Ok(())
}

pub fn add_contact(
    store: &mut Store,
    s: &Session,
    input: commands::NewContact<'_>,
    now: Timestamp,
) -> StoreResult<Contact> {
    store.write(|tx| {
        ensure_exists(
            tx,
            s.org.id,
            "accounts",
            "account_id",
            "account",
            input.account.map(|a| a.0),
        )?;
        let c = commands::add_contact(&s.actor(), ContactId(tx.next_id("contact_ids")?), input, now)?;
        tx.exec(
            "INSERT INTO contacts (org_id, contact_id, account_id, name, email, phone, title, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                s.org.id.0.into(),
                c.id.0.into(),
                c.account.map(|a| a.0).into(),
                c.name.as_str().into(),
                c.email.as_ref().map(|e| e.as_str()).into(),
                c.phone.clone().into(),
                c.title.clone().into(),
                map::ts(c.created_at),
            ],
        )?;
        Ok(c)
    })
}

// ---------------------------------------------------------------------------------------
// Deals: writes

/// A new deal as the caller names it.
#[derive(Debug)]
pub struct CreateDeal<'a> {
    /// The owner's e-mail; by default the acting user.
    pub owner: Option<&'a str>,
    pub account: Option<AccountId>,
    pub contact: Option<ContactId>,
    pub title: &'a str,
    pub value: Money,
    pub expected_close: Option<jiff::civil::Date>,
    pub first_step: commands::FollowUp,
}

pub fn create_deal(store: &mut Store, s: &Session, input: CreateDeal<'_>, now: Now) -> StoreResult<DealRow> {
    let id = store.write(|tx| {
        let owner = match input.owner {
            Some(e) => user_by_email(tx, s.org.id, "owner", e)?,
            None => s.user.clone(),
        };
        ensure_exists(
            tx,
            s.org.id,
            "accounts",
            "account_id",
            "account",
            input.account.map(|a| a.0),
        )?;
        ensure_exists(
            tx,
            s.org.id,
            "contacts",
            "contact_id",
            "contact",
            input.contact.map(|c| c.0),
        )?;
        let id = DealId(tx.next_id("deal_ids")?);
        let deal = commands::create_deal(
            &s.actor(),
            s.rules(),
            id,
            commands::NewDeal {
                owner: owner.as_owner(),
                account: input.account,
                contact: input.contact,
                title: input.title,
                value: input.value,
                expected_close: input.expected_close,
                first_step: input.first_step,
            },
            now,
        )?;
        insert_deal(tx, &s.org, &deal)?;
        Ok(id)
    })?;
    show_row(store, s, id)
}

pub(crate) fn insert_deal(tx: &mut dyn Sql, org: &Org, deal: &Deal) -> StoreResult<()> {
    crate::reports::count_deal(tx, org, None, deal)?;
    let org = org.id;
    tx.exec(
        &map::insert_sql("deals", map::DEAL_COLUMNS),
        &map::deal_values(org, deal),
    )?;
    if let Some(n) = deal.next_step() {
        tx.exec(
            &map::insert_sql("next_steps", map::NEXT_STEP_COLUMNS),
            &map::next_step_values(org, deal.id, n),
        )?;
    }
    if let Some(need) = &deal.need {
        tx.exec(
            &map::insert_sql("compelling_needs", map::NEED_COLUMNS),
            &map::need_values(org, deal.id, need),
        )?;
    }
    update_open_pipeline(tx, org, None, deal)
}

/// What an open deal adds to its `open_pipeline` row: the row's key, and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PipelineShare {
    owner: UserId,
    stage: Step,
    currency: &'static str,
    value_minor: i64,
}

impl PipelineShare {
    fn of(deal: &Deal) -> Option<PipelineShare> {
        (deal.status() == DealStatus::Open).then(|| PipelineShare {
            owner: deal.owner.id,
            stage: deal.stage,
            currency: deal.currency.code(),
            value_minor: deal.value_minor.unwrap_or(0),
        })
    }

    fn key(&self) -> (UserId, Step, &'static str) {
        (self.owner, self.stage, self.currency)
    }
}

/// Adds `$5` deals worth `$6` to an `open_pipeline` row (negative numbers subtract).
const ADD_TO_OPEN_PIPELINE: &str = "INSERT INTO open_pipeline (org_id, owner_id, stage, currency, deals, value_minor) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, owner_id, stage, currency) DO UPDATE SET \
     deals = open_pipeline.deals + excluded.deals, value_minor = open_pipeline.value_minor + excluded.value_minor";

/// Rebuilds the org's `open_pipeline` rows from its deals (after bulk writes).
pub(crate) const RECOUNT_OPEN_PIPELINE: [&str; 2] = [
    "DELETE FROM open_pipeline WHERE org_id = $1",
    "INSERT INTO open_pipeline (org_id, owner_id, stage, currency, deals, value_minor) \
     SELECT org_id, owner_id, stage, currency, COUNT(*), COALESCE(SUM(value_minor), 0) FROM deals \
     WHERE org_id = $1 AND status = 'open' GROUP BY org_id, owner_id, stage, currency",
];

/// Moves a deal's contribution to the open pipeline summary from what it was (`before`,
/// `None` for a new deal) to what it is: subtracts the old share if the deal was open,
/// adds the new one if it is open. Rows are touched in key order, so concurrent writers
/// never wait on each other's rows in a cycle.
fn update_open_pipeline(tx: &mut dyn Sql, org: OrgId, before: Option<&Deal>, after: &Deal) -> StoreResult<()> {
    let was = before.and_then(PipelineShare::of);
    let is = PipelineShare::of(after);
    let mut deltas: Vec<(PipelineShare, i64, i64)> = match (was, is) {
        (Some(w), Some(i)) if w == i => return Ok(()),
        (Some(w), Some(i)) if w.key() == i.key() => vec![(i, 0, i.value_minor - w.value_minor)],
        (w, i) => w
            .map(|w| (w, -1, -w.value_minor))
            .into_iter()
            .chain(i.map(|i| (i, 1, i.value_minor)))
            .collect(),
    };
    deltas.sort_by_key(|(share, _, _)| share.key());
    for (share, deals, value) in deltas {
        tx.exec(
            ADD_TO_OPEN_PIPELINE,
            &[
                org.0.into(),
                share.owner.0.into(),
                share.stage.0.into(),
                share.currency.into(),
                deals.into(),
                value.into(),
            ],
        )?;
    }
    Ok(())
}

static UPDATE_DEAL: LazyLock<String> = LazyLock::new(|| {
    // Columns 1 and 2 (org_id, deal_id) are the key; the read version is bound last.
    let sets: Vec<String> = map::DEAL_COLUMNS[2..]
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 3))
        .collect();
    format!(
        "UPDATE deals SET {} WHERE org_id = $1 AND deal_id = $2 AND version = ${}",
        sets.join(", "),
        map::DEAL_COLUMNS.len() + 1
    )
});
static UPSERT_NEXT_STEP: LazyLock<String> = LazyLock::new(|| map::upsert_sql("next_steps", map::NEXT_STEP_COLUMNS, 2));
static UPSERT_NEED: LazyLock<String> = LazyLock::new(|| map::upsert_sql("compelling_needs", map::NEED_COLUMNS, 2));
static INSERT_INTERACTION: LazyLock<String> =
    LazyLock::new(|| map::insert_sql("interactions", map::INTERACTION_COLUMNS));
static INSERT_DECISION: LazyLock<String> = LazyLock::new(|| map::insert_sql("decisions", map::DECISION_COLUMNS));

fn load_deal(tx: &mut dyn Sql, org: OrgId, id: DealId) -> StoreResult<DealRow> {
    let sql = format!("{} WHERE d.org_id = $1 AND d.deal_id = $2", map::DEAL_SELECT);
    let row = tx
        .query_one(&sql, &[org.0.into(), id.0.into()])?
        .ok_or_else(|| DomainError::not_found("deal", id))?;
    map::deal(&row)
}

/// Writes what a core command decided about a deal: the row (if its version is still
/// the one read), its next step and need, and the entries it appends. The caller's
/// transaction makes it all or nothing.
fn apply(tx: &mut dyn Sql, org: &Org, before: &Deal, change: &DealChange) -> StoreResult<()> {
    crate::reports::count_interaction(tx, org, change)?;
    crate::reports::count_deal(tx, org, Some(before), &change.deal)?;
    let org = org.id;
    let deal = &change.deal;
    for contact in [
        change.interaction.as_ref().and_then(|i| i.contact),
        change.decision.as_ref().and_then(|d| d.contact),
    ] {
        ensure_exists(tx, org, "contacts", "contact_id", "contact", contact.map(|c| c.0))?;
    }
    let mut values = map::deal_values(org, deal);
    values.push(change.read_version.into());
    if tx.exec(&UPDATE_DEAL, &values)? == 0 {
        let actual = tx
            .query_one(
                "SELECT version FROM deals WHERE org_id = $1 AND deal_id = $2",
                &[org.0.into(), deal.id.0.into()],
            )?
            .ok_or_else(|| DomainError::not_found("deal", deal.id))?
            .int(0)?;
        return Err(DomainError::Conflict {
            deal: deal.id.0,
            expected: change.read_version,
            actual,
        }
        .into());
    }
    match (deal.next_step(), before.next_step()) {
        (Some(now), Some(was)) if now == was => {}
        (Some(now), _) => {
            tx.exec(&UPSERT_NEXT_STEP, &map::next_step_values(org, deal.id, now))?;
        }
        (None, Some(_)) => {
            tx.exec(
                "DELETE FROM next_steps WHERE org_id = $1 AND deal_id = $2",
                &[org.0.into(), deal.id.0.into()],
            )?;
        }
        (None, None) => {}
    }
    if let Some(need) = deal.need.as_ref().filter(|n| Some(*n) != before.need.as_ref()) {
        tx.exec(&UPSERT_NEED, &map::need_values(org, deal.id, need))?;
    }
    if let Some(i) = &change.interaction {
        tx.exec(&INSERT_INTERACTION, &map::interaction_values(org, deal.id, i))?;
    }
    if let Some(d) = &change.decision {
        tx.exec(&INSERT_DECISION, &map::decision_values(org, deal.id, d))?;
    }
    update_open_pipeline(tx, org, Some(before), deal)
}

/// Loads a deal, lets `command` decide the change, and writes it, in one transaction.
fn change_deal(
    store: &mut Store,
    s: &Session,
    id: DealId,
    command: impl FnOnce(&Deal) -> momentum_core::Result<DealChange>,
) -> StoreResult<DealChange> {
    store.write(|tx| {
        let before = load_deal(tx, s.org.id, id)?.deal;
        let change = command(&before)?;
        apply(tx, &s.org, &before, &change)?;
        Ok(change)
    })
}

pub fn log_interaction(
    store: &mut Store,
    s: &Session,
    id: DealId,
    input: commands::LogInteraction,
    now: Now,
) -> StoreResult<DealChange> {
    change_deal(store, s, id, |d| {
        commands::log_interaction(&s.actor(), s.rules(), d, input, now)
    })
}

pub fn record_decision(
    store: &mut Store,
    s: &Session,
    id: DealId,
    input: commands::RecordDecision,
    now: Now,
) -> StoreResult<DealChange> {
    change_deal(store, s, id, |d| {
        commands::record_decision(&s.actor(), s.rules(), d, input, now)
    })
}

pub fn set_need(
    store: &mut Store,
    s: &Session,
    id: DealId,
    input: commands::NeedInput<'_>,
    now: Now,
) -> StoreResult<DealChange> {
    change_deal(store, s, id, |d| commands::set_need(&s.actor(), d, input, now))
}

pub fn disqualify(
    store: &mut Store,
    s: &Session,
    id: DealId,
    reason: &str,
    expected_version: Option<i64>,
    now: Now,
) -> StoreResult<DealChange> {
    change_deal(store, s, id, |d| {
        commands::disqualify(&s.actor(), d, reason, expected_version, now)
    })
}

pub fn close(
    store: &mut Store,
    s: &Session,
    id: DealId,
    closing: commands::Closing,
    expected_version: Option<i64>,
    now: Now,
) -> StoreResult<DealChange> {
    change_deal(store, s, id, |d| {
        commands::close(&s.actor(), s.rules(), d, closing, expected_version, now)
    })
}

pub fn reschedule(
    store: &mut Store,
    s: &Session,
    id: DealId,
    step: commands::NextStepInput,
    expected_version: Option<i64>,
    now: Now,
) -> StoreResult<DealChange> {
    change_deal(store, s, id, |d| {
        commands::reschedule(&s.actor(), s.rules(), d, step, expected_version, now)
    })
}

pub fn reassign(
    store: &mut Store,
    s: &Session,
    id: DealId,
    new_owner_email: &str,
    expected_version: Option<i64>,
) -> StoreResult<DealChange> {
    store.write(|tx| {
        let owner = user_by_email(tx, s.org.id, "owner", new_owner_email)?;
        let before = load_deal(tx, s.org.id, id)?.deal;
        let change = commands::reassign(&s.actor(), &before, owner.as_owner(), expected_version)?;
        apply(tx, &s.org, &before, &change)?;
        Ok(change)
    })
}

// ---------------------------------------------------------------------------------------
// Deals: reads

/// Which deals to list.
#[derive(Debug, Default, Clone)]
pub struct DealFilter<'a> {
    pub owner: Option<&'a str>,
    pub status: Option<DealStatus>,
    /// Only deals whose next step is due before this instant.
    pub due_before: Option<Timestamp>,
    /// Keyset pagination: deals with an id above this one.
    pub after: Option<DealId>,
    pub limit: u32,
}

/// A query's WHERE clause and parameters, built up condition by condition, over a table
/// with `org_id` and `owner_id` columns (aliased `d` by default) joined to its owner's
/// `users` row aliased `u`.
pub(crate) struct Where {
    pub(crate) sql: String,
    pub(crate) params: Vec<Val>,
    alias: &'static str,
}

impl Where {
    /// Conditions on deals aliased `d`, bounded by the org.
    pub(crate) fn new(org: OrgId) -> Where {
        Where::on("d", org)
    }

    /// Conditions on the table aliased `alias`, bounded by the org.
    pub(crate) fn on(alias: &'static str, org: OrgId) -> Where {
        Where {
            sql: format!(" WHERE {alias}.org_id = $1"),
            params: vec![org.0.into()],
            alias,
        }
    }

    /// The alias of the table the conditions are on.
    pub(crate) fn alias(&self) -> &'static str {
        self.alias
    }

    /// Adds `condition`, in which `?` stands for `value`'s placeholder.
    pub(crate) fn and(&mut self, condition: &str, value: impl Into<Val>) {
        self.params.push(value.into());
        let placeholder = format!("${}", self.params.len());
        self.sql.push_str(" AND ");
        self.sql.push_str(&condition.replace('?', &placeholder));
    }

    /// Only rows owned by the actor, their team (a manager) or anyone (an admin).
    pub(crate) fn visible_to(&mut self, actor: &Actor) {
        let a = self.alias;
        match actor.visibility() {
            Visibility::Org => {}
            // As an IN over the team's few ids, so the owner index serves it.
            Visibility::Team { manager } => self.and(
                &format!(
                    "{a}.owner_id IN (SELECT tm.user_id FROM users tm \
                     WHERE tm.org_id = {a}.org_id AND (tm.user_id = ? OR tm.manager_id = ?))"
                ),
                manager.0,
            ),
            Visibility::Own { user } => self.and(&format!("{a}.owner_id = ?"), user.0),
        }
    }
}

pub fn list_deals(store: &mut Store, s: &Session, filter: &DealFilter<'_>) -> StoreResult<Vec<DealRow>> {
    store.read(|tx| {
        let mut w = Where::new(s.org.id);
        w.visible_to(&s.actor());
        if let Some(e) = filter.owner {
            let owner = user_by_email(tx, s.org.id, "owner", e)?;
            w.and("d.owner_id = ?", owner.id.0);
        }
        if let Some(status) = filter.status {
            w.and("d.status = ?", status.as_str());
        }
        if let Some(due) = filter.due_before {
            w.and("n.due_at < ?", due.as_second());
        }
        if let Some(after) = filter.after {
            w.and("d.deal_id > ?", after.0);
        }
        let sql = format!(
            "{}{} ORDER BY d.deal_id LIMIT {}",
            map::DEAL_SELECT,
            w.sql,
            filter.limit.clamp(1, 10_000)
        );
        tx.query(&sql, &w.params)?.iter().map(map::deal).collect()
    })
}

fn show_row(store: &mut Store, s: &Session, id: DealId) -> StoreResult<DealRow> {
    let row = store.read(|tx| load_deal(tx, s.org.id, id))?;
    s.actor()
        .ensure_may_act_for(&row.deal.owner, format_args!("deal {id}"))?;
    Ok(row)
}

/// A deal with everything the deal page shows.
#[derive(Debug, Clone, Serialize)]
pub struct DealView {
    #[serde(flatten)]
    pub summary: DealSummary,
    pub need: Option<CompellingNeed>,
    pub decisions: Vec<Decision>,
    pub interactions: Vec<Interaction>,
    /// Names of the contacts mentioned above, by id.
    pub contacts: BTreeMap<i64, String>,
    /// The next logical buyer decision to prepare for.
    pub prepare_for: Option<StepRef>,
}

/// A ladder step with its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRef {
    pub step: u8,
    pub name: String,
}

impl StepRef {
    pub fn new(ladder: &Ladder, step: Step) -> StepRef {
        StepRef {
            step: step.0,
            name: ladder.name(step).to_owned(),
        }
    }
}

/// A deal as listed: what a seller scans in a row. Stable JSON for scripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DealSummary {
    pub id: i64,
    pub title: String,
    pub owner: String,
    pub owner_email: String,
    pub account_id: Option<i64>,
    pub account: Option<String>,
    /// The buyer the seller mainly works with.
    pub contact_id: Option<i64>,
    pub value: Option<Money>,
    pub currency: Currency,
    pub status: DealStatus,
    pub stage: StepRef,
    pub expected_close: Option<jiff::civil::Date>,
    pub next_step: Option<NextStepView>,
    pub has_need: bool,
    pub closed_at: Option<Timestamp>,
    pub close_reason: Option<String>,
    pub lost_category: Option<LostCategory>,
    pub created_at: Timestamp,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextStepView {
    pub due: Timestamp,
    pub kind: InteractionKind,
    pub aims_at: StepRef,
    pub buyer_committed: bool,
}

impl DealSummary {
    pub fn new(row: &DealRow, ladder: &Ladder) -> DealSummary {
        let d = &row.deal;
        let (close_reason, lost_category) = match &d.state {
            DealState::Lost {
                category, buyer_words, ..
            } => (Some(buyer_words.clone()), Some(*category)),
            DealState::Disqualified { reason, .. } => (Some(reason.clone()), None),
            _ => (None, None),
        };
        DealSummary {
            id: d.id.0,
            title: d.title.clone(),
            owner: row.owner_name.clone(),
            owner_email: row.owner_email.clone(),
            account_id: d.account.map(|a| a.0),
            account: row.account_name.clone(),
            contact_id: d.contact.map(|c| c.0),
            value: d.value(),
            currency: d.currency,
            status: d.status(),
            stage: StepRef::new(ladder, d.stage),
            expected_close: d.expected_close,
            next_step: d.next_step().map(|n| NextStepView {
                due: n.due,
                kind: n.kind,
                aims_at: StepRef::new(ladder, n.aims_at),
                buyer_committed: n.buyer_committed,
            }),
            has_need: d.need.is_some(),
            closed_at: d.state.closed_at(),
            close_reason,
            lost_category,
            created_at: d.created_at,
            version: d.version,
        }
    }
}

pub fn show_deal(store: &mut Store, s: &Session, id: DealId) -> StoreResult<DealView> {
    let row = show_row(store, s, id)?;
    store.read(|tx| {
        let key = [s.org.id.0.into(), id.0.into()];
        let decisions = tx
            .query(
                &format!(
                    "SELECT {} FROM decisions WHERE org_id = $1 AND deal_id = $2 ORDER BY seq",
                    map::DECISION_COLUMNS.join(", ")
                ),
                &key,
            )?
            .iter()
            .map(map::decision)
            .collect::<StoreResult<Vec<_>>>()?;
        let interactions = tx
            .query(
                &format!(
                    "SELECT {} FROM interactions WHERE org_id = $1 AND deal_id = $2 ORDER BY seq",
                    map::INTERACTION_COLUMNS.join(", ")
                ),
                &key,
            )?
            .iter()
            .map(map::interaction)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut contacts = BTreeMap::new();
        let mentioned = decisions
            .iter()
            .filter_map(|d| d.contact)
            .chain(interactions.iter().filter_map(|i| i.contact))
            .chain(row.deal.contact);
        for c in mentioned {
            if let std::collections::btree_map::Entry::Vacant(slot) = contacts.entry(c.0) {
                let name = tx.query_one(
                    "SELECT name FROM contacts WHERE org_id = $1 AND contact_id = $2",
                    &[s.org.id.0.into(), c.0.into()],
                )?;
                slot.insert(name.map_or(Ok(String::new()), |r| r.text(0).map(str::to_owned))?);
            }
        }
        let ladder = &s.org.ladder;
        let d = &row.deal;
        Ok(DealView {
            summary: DealSummary::new(&row, ladder),
            need: d.need.clone(),
            decisions,
            interactions,
            contacts,
            prepare_for: (d.status() == DealStatus::Open && d.stage < ladder.top())
                .then(|| StepRef::new(ladder, ladder.next_after(d.stage))),
        })
    })
}

/// The most next steps Today lists: the ones most at stake come first, and a seller
/// with more due than this has a backlog to clear, not a list to scroll.
pub const TODAY_MAX: u32 = 200;

/// The first instant of tomorrow in the org's time zone: "due today" means due before it.
pub fn end_of_today(org: &Org, now: Now) -> StoreResult<Timestamp> {
    let tz = jiff::tz::TimeZone::get(&org.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    now.today
        .tomorrow()
        .and_then(|d| d.to_zoned_datetime(tz))
        .map(|z| z.timestamp())
        .map_err(|e| corrupt(format!("end of {}: {e}", now.today)))
}

/// Today's deals, the top `$4` in Today's order, read from `deals_today` alone: the index
/// holds a seller's open deals in that order and covers every column selected here
/// (migration 8), so neither database touches a deal row, its next step or its need —
/// at 1M deals those scattered rows were most of the page — only each account's name,
/// from an index that covers it too. SQLite's planner prefers the primary-key index for
/// that join (a second page read per deal, for the table), hence its `INDEXED BY`.
/// The `+` keeps the due-time test off `deals_open`, whose range scan would read every
/// due step and sort them: without statistics, SQLite would take it.
fn today_sql(backend: Backend) -> &'static str {
    const SQL: &str = "SELECT d.deal_id, d.title, d.value_minor, d.currency, d.stage, d.version, \
         d.account_id, d.contact_id, d.expected_close_on, d.created_at, \
         d.next_due_at, d.next_kind, d.next_aims_at, d.next_buyer_committed, d.need_on, a.name \
         FROM deals d LEFT JOIN accounts a ON a.org_id = d.org_id AND a.account_id = d.account_id \
         WHERE d.org_id = $1 AND d.owner_id = $2 AND d.status = 'open' AND +d.next_due_at < $3 \
         ORDER BY COALESCE(d.value_minor, 0) DESC, d.next_due_at, d.deal_id LIMIT $4";
    static SQLITE: LazyLock<String> =
        LazyLock::new(|| SQL.replacen("accounts a ON", "accounts a INDEXED BY accounts_names ON", 1));
    match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => SQL,
    }
}

/// The acting user's due next steps: the `limit` (at most [`TODAY_MAX`]) most at stake,
/// and how many are due in all.
#[derive(Debug)]
pub struct TodayList {
    pub rows: Vec<DealSummary>,
    pub due: u64,
}

/// The acting user's overdue and due next steps (due before the end of their day),
/// ranked by what is at stake: the first `limit`, and the count of all of them.
pub fn today(store: &mut Store, s: &Session, now: Now, limit: u32) -> StoreResult<TodayList> {
    store.read(|tx| today_in(tx, s, now, limit))
}

/// [`today`] inside a caller's read, so a page can ask it with its other reads.
pub fn today_in(tx: &mut dyn Sql, s: &Session, now: Now, limit: u32) -> StoreResult<TodayList> {
    let end_of_day = end_of_today(&s.org, now)?;
    let params = [
        s.org.id.0.into(),
        s.user.id.0.into(),
        end_of_day.as_second().into(),
        i64::from(limit.clamp(1, TODAY_MAX)).into(),
    ];
    let rows = tx.query(today_sql(tx.backend()), &params)?;
    // From the same index, without touching a row.
    let due = tx
        .query_one(
            "SELECT COUNT(*) FROM deals WHERE org_id = $1 AND owner_id = $2 AND status = 'open' AND next_due_at < $3",
            &params[..3],
        )?
        .map_or(Ok(0), |r| r.int(0))?;
    let mut rows = rows.iter().map(|r| today_row(r, s)).collect::<StoreResult<Vec<_>>>()?;
    commands::rank_today(&mut rows, |d| commands::AtStake {
        deal: DealId(d.id),
        value_minor: d.value.map(|v| v.minor),
        due: d.next_step.as_ref().map_or(Timestamp::MIN, |n| n.due),
    });
    Ok(TodayList {
        rows,
        due: u64::try_from(due).unwrap_or(0),
    })
}

/// A row of [`today_sql`]: an open deal of the acting user's, so the owner is the session's
/// user and nothing about a close applies.
fn today_row(row: &Row, s: &Session) -> StoreResult<DealSummary> {
    let ladder = &s.org.ladder;
    let id = row.int(0)?;
    let currency = map::currency(row, 3)?;
    let value_minor = row.opt_int(2)?;
    if row.opt_int(10)?.is_none() {
        return Err(map::corrupt(format!("open deal {id} has no next step")));
    }
    Ok(DealSummary {
        id,
        title: row.text(1)?.to_owned(),
        owner: s.user.name.clone(),
        owner_email: s.user.email.as_str().to_owned(),
        account_id: row.opt_int(6)?,
        account: row.opt_text(15)?.map(str::to_owned),
        contact_id: row.opt_int(7)?,
        value: value_minor.map(|minor| Money::new(minor, currency)),
        currency,
        status: DealStatus::Open,
        stage: StepRef::new(ladder, map::step(row, 4)?),
        expected_close: map::read_opt_date(row, 8)?,
        next_step: Some(NextStepView {
            due: map::read_ts(row, 10)?,
            kind: map::word(row, 11, InteractionKind::parse)?,
            aims_at: StepRef::new(ladder, map::step(row, 12)?),
            buyer_committed: row.bool(13)?,
        }),
        has_need: row.opt_text(14)?.is_some(),
        closed_at: None,
        close_reason: None,
        lost_category: None,
        created_at: map::read_ts(row, 9)?,
        version: row.int(5)?,
    })
}

// ---------------------------------------------------------------------------------------
// Goals and check-ins

pub fn set_goal(
    store: &mut Store,
    s: &Session,
    seller_email: &str,
    month: Month,
    amount: Money,
    now: Timestamp,
) -> StoreResult<Goal> {
    store.write(|tx| {
        let seller = user_by_email(tx, s.org.id, "seller", seller_email)?;
        let goal = commands::set_goal(&s.actor(), &seller.as_owner(), month, amount, now)?;
        tx.exec(&GOAL_UPSERT, &goal_values(s.org.id, &goal))?;
        Ok(goal)
    })
}

pub(crate) const GOAL_COLUMNS: &[&str] = &[
    "org_id",
    "user_id",
    "month",
    "amount_minor",
    "currency",
    "set_by",
    "set_at",
];
static GOAL_UPSERT: LazyLock<String> = LazyLock::new(|| map::upsert_sql("goals", GOAL_COLUMNS, 3));

pub(crate) fn goal_values(org: OrgId, g: &Goal) -> Vec<Val> {
    vec![
        org.0.into(),
        g.user.0.into(),
        g.month.to_string().into(),
        g.amount.minor.into(),
        g.amount.currency.code().into(),
        g.set_by.0.into(),
        map::ts(g.set_at),
    ]
}

pub fn check_in(store: &mut Store, s: &Session, input: commands::CheckInInput<'_>, now: Now) -> StoreResult<CheckIn> {
    store.write(|tx| {
        let c = commands::check_in(&s.actor(), CheckInId(tx.next_id("check_in_ids")?), input, now)?;
        tx.exec(
            &map::insert_sql("check_ins", CHECK_IN_COLUMNS),
            &check_in_values(s.org.id, &c),
        )?;
        Ok(c)
    })
}

pub(crate) const CHECK_IN_COLUMNS: &[&str] = &[
    "org_id",
    "check_in_id",
    "user_id",
    "checked_on",
    "commitment",
    "why",
    "obstacle",
    "recorded_at",
];

pub(crate) fn check_in_values(org: OrgId, c: &CheckIn) -> Vec<Val> {
    vec![
        org.0.into(),
        c.id.0.into(),
        c.user.0.into(),
        map::date(c.on),
        c.commitment.into(),
        c.why.as_str().into(),
        c.obstacle.clone().into(),
        map::ts(c.recorded_at),
    ]
}

/// Whether the database holds any org at all (the demo refuses to overwrite data).
pub fn is_empty(store: &mut Store) -> StoreResult<bool> {
    Ok(org_names(store)?.is_empty())
}
