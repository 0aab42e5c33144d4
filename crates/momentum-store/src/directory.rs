//! The org's buyers for the pages and the API: accounts and contacts, listed a page at a
//! time (keyset pagination by id), shown, edited, and searched together with deals.
//!
//! Accounts and contacts are shared by the whole org; deals shown beside them are only
//! those the actor may see (invariant 5). Every query is bounded by `org_id`.

use jiff::Timestamp;
use momentum_core::commands;
use momentum_core::model::*;
use momentum_core::DomainError;
use serde::Serialize;

use crate::error::StoreResult;
use crate::map::{self, read_ts};
use crate::ops::{self, DealSummary, Session, Where};
use crate::sql::{Row, Sql, Val};
use crate::Store;

/// The largest page a listing returns.
pub const PAGE_MAX: u32 = 1_000;

/// How many deals an account's page shows (the newest).
pub const ACCOUNT_DEALS: u32 = 50;

fn page(limit: u32) -> u32 {
    limit.clamp(1, PAGE_MAX)
}

// ---------------------------------------------------------------------------------------
// Accounts

const ACCOUNT_COLS: &str = "a.account_id, a.name, a.domain, a.created_at";

fn account_row(row: &Row) -> StoreResult<Account> {
    Ok(Account {
        id: AccountId(row.int(0)?),
        name: row.text(1)?.to_owned(),
        domain: row.opt_text(2)?.map(str::to_owned),
        created_at: read_ts(row, 3)?,
    })
}

fn load_account(tx: &mut dyn Sql, org: OrgId, id: AccountId) -> StoreResult<Account> {
    let row = tx
        .query_one(
            &format!("SELECT {ACCOUNT_COLS} FROM accounts a WHERE a.org_id = $1 AND a.account_id = $2"),
            &[org.0.into(), id.0.into()],
        )?
        .ok_or_else(|| DomainError::not_found("account", id))?;
    account_row(&row)
}

/// The org's accounts by id: the first `limit` after `after`.
pub fn accounts(store: &mut Store, s: &Session, after: Option<AccountId>, limit: u32) -> StoreResult<Vec<Account>> {
    store.read(|tx| {
        let sql = format!(
            "SELECT {ACCOUNT_COLS} FROM accounts a WHERE a.org_id = $1 AND a.account_id > $2 \
             ORDER BY a.account_id LIMIT {}",
            page(limit)
        );
        tx.query(&sql, &[s.org.id.0.into(), after.map_or(0, |a| a.0).into()])?
            .iter()
            .map(account_row)
            .collect()
    })
}

/// An account with its contacts and the newest deals the actor may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountView {
    pub account: Account,
    /// By id.
    pub contacts: Vec<Contact>,
    /// Newest first, at most [`ACCOUNT_DEALS`], only deals visible to the actor.
    pub deals: Vec<DealSummary>,
}

pub fn account(store: &mut Store, s: &Session, id: AccountId) -> StoreResult<AccountView> {
    store.read(|tx| {
        let account = load_account(tx, s.org.id, id)?;
        let contacts = contacts_of(tx, s, id)?;
        let mut w = Where::new(s.org.id);
        w.and("d.account_id = ?", id.0);
        w.visible_to(&s.actor());
        let sql = format!(
            "{}{} ORDER BY d.created_at DESC, d.deal_id DESC LIMIT {ACCOUNT_DEALS}",
            map::DEAL_SELECT,
            w.sql
        );
        let deals = tx
            .query(&sql, &w.params)?
            .iter()
            .map(|r| map::deal(r).map(|d| DealSummary::new(&d, &s.org.ladder)))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(AccountView {
            account,
            contacts,
            deals,
        })
    })
}

/// The buyers at an account, for choosing who took part in an interaction.
pub fn account_contacts(store: &mut Store, s: &Session, id: AccountId) -> StoreResult<Vec<Contact>> {
    store.read(|tx| contacts_of(tx, s, id))
}

/// The buyers' names at several accounts in one query (the Today page's log form offers
/// the contacts of every due deal's account: one round trip instead of one per account),
/// grouped by account, each account's in id order. `contacts_by_account` covers these
/// columns, so the contact rows themselves are not read.
pub fn contact_names_of_accounts_in(
    tx: &mut dyn Sql,
    s: &Session,
    ids: &[AccountId],
) -> StoreResult<std::collections::BTreeMap<AccountId, Vec<(ContactId, String)>>> {
    let mut out = std::collections::BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let list: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    let mut params: Vec<Val> = vec![s.org.id.0.into()];
    params.extend(ids.iter().map(|a| a.0.into()));
    let rows = tx.query(
        &format!(
            "SELECT account_id, contact_id, name FROM contacts WHERE org_id = $1 AND account_id IN ({}) \
             ORDER BY account_id, contact_id",
            list.join(", ")
        ),
        &params,
    )?;
    for row in &rows {
        out.entry(AccountId(row.int(0)?))
            .or_insert_with(Vec::new)
            .push((ContactId(row.int(1)?), row.text(2)?.to_owned()));
    }
    Ok(out)
}

fn contacts_of(tx: &mut dyn Sql, s: &Session, id: AccountId) -> StoreResult<Vec<Contact>> {
    tx.query(
        &format!(
            "SELECT {CONTACT_COLS} FROM contacts c WHERE c.org_id = $1 AND c.account_id = $2 ORDER BY c.contact_id"
        ),
        &[s.org.id.0.into(), id.0.into()],
    )?
    .iter()
    .map(contact_row)
    .collect()
}

/// Renames an account or changes its domain, by the rules that apply when adding one.
/// (`now` is taken for symmetry with the other edits; accounts keep only their creation time.)
pub fn update_account(
    store: &mut Store,
    s: &Session,
    id: AccountId,
    name: &str,
    domain: Option<&str>,
    _now: Timestamp,
) -> StoreResult<Account> {
    store.write(|tx| {
        let before = load_account(tx, s.org.id, id)?;
        let after = commands::edit_account(&s.actor(), &before, name, domain)?;
        tx.exec(
            "UPDATE accounts SET name = $3, domain = $4 WHERE org_id = $1 AND account_id = $2",
            &[
                s.org.id.0.into(),
                id.0.into(),
                after.name.as_str().into(),
                after.domain.clone().into(),
            ],
        )?;
        Ok(after)
    })
}

// ---------------------------------------------------------------------------------------
// Contacts

const CONTACT_COLS: &str = "c.contact_id, c.account_id, c.name, c.email, c.phone, c.title, c.created_at";

fn contact_row(row: &Row) -> StoreResult<Contact> {
    Ok(Contact {
        id: ContactId(row.int(0)?),
        account: row.opt_int(1)?.map(AccountId),
        name: row.text(2)?.to_owned(),
        email: row
            .opt_text(3)?
            .map(|e| Email::parse("stored email", e).map_err(map::corrupt))
            .transpose()?,
        phone: row.opt_text(4)?.map(str::to_owned),
        title: row.opt_text(5)?.map(str::to_owned),
        created_at: read_ts(row, 6)?,
    })
}

fn load_contact(tx: &mut dyn Sql, org: OrgId, id: ContactId) -> StoreResult<Contact> {
    let row = tx
        .query_one(
            &format!("SELECT {CONTACT_COLS} FROM contacts c WHERE c.org_id = $1 AND c.contact_id = $2"),
            &[org.0.into(), id.0.into()],
        )?
        .ok_or_else(|| DomainError::not_found("contact", id))?;
    contact_row(&row)
}

/// The org's contacts by id: the first `limit` after `after`.
pub fn contacts(store: &mut Store, s: &Session, after: Option<ContactId>, limit: u32) -> StoreResult<Vec<Contact>> {
    store.read(|tx| {
        let sql = format!(
            "SELECT {CONTACT_COLS} FROM contacts c WHERE c.org_id = $1 AND c.contact_id > $2 \
             ORDER BY c.contact_id LIMIT {}",
            page(limit)
        );
        tx.query(&sql, &[s.org.id.0.into(), after.map_or(0, |c| c.0).into()])?
            .iter()
            .map(contact_row)
            .collect()
    })
}

pub fn contact(store: &mut Store, s: &Session, id: ContactId) -> StoreResult<Contact> {
    store.read(|tx| load_contact(tx, s.org.id, id))
}

/// Changes a contact, by the rules that apply when adding one; the account must exist.
/// (`now` is taken for symmetry with the other edits; contacts keep only their creation time.)
pub fn update_contact(
    store: &mut Store,
    s: &Session,
    id: ContactId,
    input: commands::NewContact<'_>,
    _now: Timestamp,
) -> StoreResult<Contact> {
    store.write(|tx| {
        let before = load_contact(tx, s.org.id, id)?;
        ops::ensure_exists(
            tx,
            s.org.id,
            "accounts",
            "account_id",
            "account",
            input.account.map(|a| a.0),
        )?;
        let c = commands::edit_contact(&s.actor(), &before, input)?;
        tx.exec(
            "UPDATE contacts SET account_id = $3, name = $4, email = $5, phone = $6, title = $7 \
             WHERE org_id = $1 AND contact_id = $2",
            &[
                s.org.id.0.into(),
                id.0.into(),
                c.account.map(|a| a.0).into(),
                c.name.as_str().into(),
                c.email.as_ref().map(|e| e.as_str()).into(),
                c.phone.clone().into(),
                c.title.clone().into(),
            ],
        )?;
        Ok(c)
    })
}

// ---------------------------------------------------------------------------------------
// Search

/// What a search found, each kind at most `limit` long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchResults {
    /// Only deals the actor may see; newest (highest id) first.
    pub deals: Vec<DealSummary>,
    /// By name.
    pub accounts: Vec<Account>,
    /// By name.
    pub contacts: Vec<Contact>,
}

/// A LIKE pattern matching `text` anywhere, with the user's `\`, `%` and `_` taken
/// literally (the statements say `ESCAPE '\'`).
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Finds deals by title, accounts by name or domain, and contacts by name or e-mail:
/// case-insensitive substrings of `query` (trimmed, 2 to 100 characters; field `q`).
pub fn search(store: &mut Store, s: &Session, query: &str, limit: u32) -> StoreResult<SearchResults> {
    let q = commands::search_query(query)?;
    let pattern = contains_pattern(&q);
    let limit = page(limit);
    store.read(|tx| {
        let mut w = Where::new(s.org.id);
        w.visible_to(&s.actor());
        w.and("LOWER(d.title) LIKE LOWER(?) ESCAPE '\\'", pattern.as_str());
        let sql = format!("{}{} ORDER BY d.deal_id DESC LIMIT {limit}", map::DEAL_SELECT, w.sql);
        let deals = tx
            .query(&sql, &w.params)?
            .iter()
            .map(|r| map::deal(r).map(|d| DealSummary::new(&d, &s.org.ladder)))
            .collect::<StoreResult<Vec<_>>>()?;
        let params: [Val; 2] = [s.org.id.0.into(), pattern.as_str().into()];
        let accounts = tx
            .query(
                &format!(
                    "SELECT {ACCOUNT_COLS} FROM accounts a WHERE a.org_id = $1 AND \
                     (LOWER(a.name) LIKE LOWER($2) ESCAPE '\\' OR LOWER(a.domain) LIKE LOWER($2) ESCAPE '\\') \
                     ORDER BY a.name, a.account_id LIMIT {limit}"
                ),
                &params,
            )?
            .iter()
            .map(account_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let contacts = tx
            .query(
                &format!(
                    "SELECT {CONTACT_COLS} FROM contacts c WHERE c.org_id = $1 AND \
                     (LOWER(c.name) LIKE LOWER($2) ESCAPE '\\' OR LOWER(c.email) LIKE LOWER($2) ESCAPE '\\') \
                     ORDER BY c.name, c.contact_id LIMIT {limit}"
                ),
                &params,
            )?
            .iter()
            .map(contact_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(SearchResults {
            deals,
            accounts,
            contacts,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn patterns_take_the_users_wildcards_literally() {
        assert_eq!(contains_pattern("ab"), "%ab%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
