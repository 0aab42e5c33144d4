//! Planning an import: source rows to stored records. Users, accounts and contacts are
//! matched to what the org holds (by external id, e-mail or name) or created; each deal
//! row goes through `momentum_core::import::import_deal`, with the source's stage history;
//! completed activities become interactions, and the earliest planned activity of an open
//! deal its next step. Every problem is collected, not only the first.

use std::collections::{HashMap, HashSet};

use jiff::tz::TimeZone;
use momentum_core::commands::{self, Rules};
use momentum_core::import::{
    self as rules, AccountDigest, ContactDigest, Digests, ImportedActivity, ImportedDeal, PlannedStep, SourceDigest,
    SourceField, StageChange,
};
use momentum_core::model::*;
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::*;
use momentum_core::DomainError;
use momentum_store::import::{Batch, DealWrite, Existing, Ids, Sourced};
use momentum_store::ops::Session;
use momentum_store::StoreResult;

use crate::dates::{self, DateRule, Style, When};
use crate::mapping::{Col, Mapping, StageField, StatusField};
use crate::read::{section_of, Section, SourceFile};
use crate::{Options, Report, RowError};

/// Ids handed out in chunks: one statement per thousand records, not per record.
struct IdPool {
    kind: &'static str,
    free: Vec<i64>,
}

impl IdPool {
    fn new(kind: &'static str) -> IdPool {
        IdPool { kind, free: Vec::new() }
    }

    fn next(&mut self, ids: &mut Ids<'_>) -> StoreResult<i64> {
        if self.free.is_empty() {
            self.free = ids.take(self.kind, 1000)?;
            self.free.reverse();
        }
        Ok(self.free.pop().expect("a thousand ids were just taken"))
    }
}

/// A row's cell, trimmed; blank is `None`. The apostrophe an export puts before a cell a
/// spreadsheet would run as a formula (`'=SUM(...)`) is taken off.
fn cell(rec: &csv::StringRecord, idx: Option<usize>) -> Option<&str> {
    let v = idx.and_then(|i| rec.get(i)).map(str::trim)?;
    let v = match v.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => v,
    };
    (!v.is_empty()).then_some(v)
}

/// A stored account's or contact's field on re-import: the cell (blank is `None`) when the
/// file has the column and the source changed the value since the record's last import
/// (noted in `digest`'s `field`), else what is stored. A re-import changes only what its file
/// holds and its source changed, so an edit made in Momentum meanwhile stays.
fn reimported<'r, const N: usize>(
    rec: &'r csv::StringRecord,
    idx: Option<usize>,
    stored: Option<&'r str>,
    (field, base, digest): (usize, Option<Digests<N>>, &mut Digests<N>),
) -> Option<&'r str> {
    match idx {
        Some(_) if digest.note(field, base, cell(rec, idx)) => cell(rec, idx),
        _ => stored,
    }
}

/// The digests of a new account's or contact's source cells, in the order of its digest's
/// fields (`AccountDigest::NAME`, ...), kept for its next re-import.
fn digests_of<const N: usize>(cells: [Option<&str>; N]) -> Digests<N> {
    let mut d = Digests::default();
    for (field, value) in cells.into_iter().enumerate() {
        d.note(field, None, value);
    }
    d
}

/// The amount of a value cell written with its currency's sign ("$1,200", "€ 90"): the
/// sign must be the deal's currency's, so "£300" on a EUR deal is refused rather than read
/// as 300 EUR.
fn amount_in(cell: &str, currency: Currency) -> Result<&str, DomainError> {
    const SIGNS: &[char] = &['$', '€', '£', '¥', '₹', '₩', '₽', '₺', '₪', '₫', '฿', '₦', '₱', '₴'];
    let sign = currency.symbol();
    let amount = cell.strip_prefix(sign.as_str()).map_or(cell, str::trim_start);
    match amount.chars().next() {
        Some(c) if SIGNS.contains(&c) => Err(DomainError::invalid(
            "value",
            cell,
            format!("the amount is written in another currency than the deal's ({currency}, {sign})"),
        )),
        _ => Ok(amount),
    }
}

fn lower(s: &str) -> String {
    s.trim().to_lowercase()
}

/// How a source value that names an account or contact is matched.
#[derive(Debug, Default)]
struct Directory {
    by_external: HashMap<String, i64>,
    by_name: HashMap<String, i64>,
    by_email: HashMap<String, i64>,
    /// A file of these was read, so references are the source's ids, not names.
    by_id_only: bool,
}

struct Planner<'a> {
    report: &'a mut Report,
    session: &'a Session,
    mapping: &'a Mapping,
    tz: TimeZone,
    now: Now,
    actor: Actor,
    batch: Batch,
    users_by_email: HashMap<String, Owner>,
    users_by_name: HashMap<String, Owner>,
    source_users: HashMap<String, (Option<String>, Option<String>)>,
    accounts: Directory,
    contacts: Directory,
    /// Stored accounts and contacts that have an external id, by id: a re-imported row
    /// updates its record (once; the entry is taken when it is).
    stored_accounts: HashMap<i64, Sourced<Account, AccountDigest>>,
    stored_contacts: HashMap<i64, Sourced<Contact, ContactDigest>>,
    /// Source values already resolved: most rows repeat an owner or an account.
    owner_memo: HashMap<String, Owner>,
    account_memo: HashMap<String, Option<AccountId>>,
    user_ids: IdPool,
    account_ids: IdPool,
    contact_ids: IdPool,
    /// Deals written with the next step their source planned.
    planned_steps: HashSet<DealId>,
    /// Each deal external id read so far, with its file and line: one record appears once,
    /// in whichever file (a folder and one of its files given together).
    deals_seen: HashMap<String, (String, u64)>,
}

fn file_error(file: &SourceFile, line: u64, column: Option<usize>, value: &str, rule: impl Into<String>) -> RowError {
    RowError {
        file: file.name.clone(),
        line,
        column: column.and_then(|i| file.headers.get(i)).cloned().unwrap_or_default(),
        value: value.to_owned(),
        rule: rule.into(),
    }
}

/// The rule a core refusal states.
fn rule_of(e: DomainError) -> String {
    match e {
        DomainError::Invalid { rule, .. } => rule,
        other => other.to_string(),
    }
}

/// Turns a core refusal into a row error, naming the source column of the field and the
/// value as the file has it (the core sees it converted: an instant, minor units), unless
/// that is too long to echo.
fn domain_error(
    file: &SourceFile,
    (line, rec): (u64, &csv::StringRecord),
    e: DomainError,
    column_of: impl Fn(&str) -> Option<usize>,
) -> RowError {
    match e {
        DomainError::Invalid { field, value, rule } => {
            let column = column_of(&field);
            let as_written = cell(rec, column).filter(|v| v.chars().count() <= momentum_core::error::SHOWN_VALUE_MAX);
            RowError {
                file: file.name.clone(),
                line,
                column: column.and_then(|i| file.headers.get(i)).cloned().unwrap_or(field),
                value: as_written.map_or(value, str::to_owned),
                rule,
            }
        }
        other => file_error(file, line, None, "", other.to_string()),
    }
}

/// How `file` writes its dates: the mapping's pattern, or the style `auto` finds. When
/// `auto` cannot decide (a file mixing styles), that is reported once and each cell is read
/// in its own style, so the file's other problems are reported in the same run (nothing is
/// written: the report has an error).
fn date_rule(mapping: &Mapping, file: &SourceFile, columns: &[Option<usize>], report: &mut Report) -> DateRule {
    if mapping.format.date.trim() != "auto" {
        return DateRule::Pattern(mapping.format.date.clone());
    }
    let columns: Vec<usize> = columns.iter().flatten().copied().collect();
    let values = file
        .records
        .iter()
        .flat_map(|(_, r)| columns.iter().filter_map(move |c| r.get(*c)));
    match dates::detect(values) {
        Ok(style) => DateRule::Style(style.unwrap_or(Style::Iso)),
        Err((value, rule)) => {
            let (line, column) = file
                .records
                .iter()
                .find_map(|(line, r)| {
                    columns
                        .iter()
                        .find(|c| r.get(**c).map(str::trim) == Some(value.as_str()))
                        .map(|c| (*line, Some(*c)))
                })
                .unwrap_or((1, None));
            report.errors.push(file_error(file, line, column, &value, rule));
            DateRule::EachOwn
        }
    }
}

impl Planner<'_> {
    fn when(&self, rule: &DateRule, v: &str) -> Result<When, String> {
        dates::parse(rule, v)
    }

    fn timestamp(&self, rule: &DateRule, v: &str) -> Result<jiff::Timestamp, String> {
        self.when(rule, v)?.timestamp(&self.tz)
    }

    fn first_of_list<'v>(&self, v: &'v str) -> &'v str {
        match &self.mapping.format.list_separator {
            Some(sep) => v
                .split(sep.as_str())
                .map(str::trim)
                .find(|s| !s.is_empty())
                .unwrap_or(v),
            None => v,
        }
    }

    fn deleted(&self, file: &SourceFile, rec: &csv::StringRecord) -> bool {
        let col = self.mapping.format.deleted.as_ref().map(|c| Col::One(c.clone()));
        cell(rec, file.find(col.as_ref())).is_some_and(|v| matches!(lower(v).as_str(), "1" | "true" | "yes"))
    }

    fn add_owner(&mut self, user: &User) {
        self.users_by_email
            .insert(user.email.as_str().to_owned(), user.as_owner());
        self.users_by_name.entry(lower(&user.name)).or_insert(user.as_owner());
    }

    /// The owner a source value names: a user of the source's user file, then an e-mail,
    /// then a name; else a new inactive seller (a warning).
    fn owner(&mut self, value: Option<&str>, ids: &mut Ids<'_>) -> StoreResult<Result<Owner, String>> {
        let Some(value) = value else {
            self.report.warn("owner blank: the importing admin owns the deal");
            return Ok(Ok(self.session.user.as_owner()));
        };
        if let Some(o) = self.owner_memo.get(value) {
            return Ok(Ok(*o));
        }
        let found = self.find_or_create_owner(value, ids)?;
        if let Ok(o) = &found {
            self.owner_memo.insert(value.to_owned(), *o);
        }
        Ok(found)
    }

    fn find_or_create_owner(&mut self, value: &str, ids: &mut Ids<'_>) -> StoreResult<Result<Owner, String>> {
        let (name, email) = match self.source_users.get(value) {
            Some((n, e)) => (n.clone(), e.clone()),
            None if value.contains('@') => (None, Some(value.to_owned())),
            None => (Some(value.to_owned()), None),
        };
        if let Some(o) = email.as_deref().and_then(|e| self.users_by_email.get(&lower(e))) {
            return Ok(Ok(*o));
        }
        if let Some(o) = name.as_deref().and_then(|n| self.users_by_name.get(&lower(n))) {
            return Ok(Ok(*o));
        }
        let name = name.unwrap_or_else(|| value.split('@').next().unwrap_or(value).to_owned());
        let email = match email {
            Some(e) => e,
            None => {
                // "Sam  Carter" and "Sam Carter" are one address: runs of other characters
                // are one dot.
                let slug = name
                    .to_lowercase()
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .filter(|part| !part.is_empty())
                    .collect::<Vec<_>>()
                    .join(".");
                let mut candidate = format!("{}@imported.invalid", if slug.is_empty() { "owner" } else { &slug });
                let mut n = 2;
                while self.users_by_email.contains_key(&candidate) {
                    candidate = format!("{slug}.{n}@imported.invalid");
                    n += 1;
                }
                candidate
            }
        };
        let id = UserId(self.user_ids.next(ids)?);
        let user = commands::add_user(
            Some(&self.actor),
            id,
            commands::NewUser {
                email: &email,
                name: &name,
                role: Role::Seller,
                manager: None,
            },
            self.now.at,
        );
        match user {
            Ok(mut user) => {
                user.active = false;
                self.report.warn(format!(
                    "owner \"{value}\" is not a user: created as an inactive seller ({})",
                    user.email
                ));
                self.add_owner(&user);
                let owner = user.as_owner();
                self.report.users_created += 1;
                self.batch.users.push(user);
                Ok(Ok(owner))
            }
            Err(e) => Ok(Err(e.to_string())),
        }
    }

    /// The account a deal or contact row names, creating it by name when references are names;
    /// `Err(rule)` when the name cannot be an account's (the row is refused, not left blank).
    fn account(&mut self, value: Option<&str>, ids: &mut Ids<'_>) -> StoreResult<Result<Option<AccountId>, String>> {
        let Some(value) = value.map(|v| self.first_of_list(v)) else {
            return Ok(Ok(None));
        };
        if let Some(found) = self.account_memo.get(value) {
            if found.is_none() && self.accounts.by_id_only {
                self.report
                    .warn("account id not found in the account files: left blank");
            }
            return Ok(Ok(*found));
        }
        let found = self.find_or_create_account(value, ids)?;
        if let Ok(found) = found {
            self.account_memo.insert(value.to_owned(), found);
        }
        Ok(found)
    }

    fn find_or_create_account(
        &mut self,
        value: &str,
        ids: &mut Ids<'_>,
    ) -> StoreResult<Result<Option<AccountId>, String>> {
        if let Some(id) = self.accounts.by_external.get(value) {
            return Ok(Ok(Some(AccountId(*id))));
        }
        if let Some(id) = self.accounts.by_name.get(&lower(value)) {
            return Ok(Ok(Some(AccountId(*id))));
        }
        if self.accounts.by_id_only {
            self.report
                .warn("account id not found in the account files: left blank");
            return Ok(Ok(None));
        }
        let id = AccountId(self.account_ids.next(ids)?);
        match commands::add_account(&self.actor, id, value, None, self.now.at) {
            Ok(a) => {
                self.accounts.by_name.insert(lower(&a.name), id.0);
                self.report.accounts_created += 1;
                self.batch.accounts.push(Sourced::by_name(a));
                Ok(Ok(Some(id)))
            }
            Err(e) => Ok(Err(rule_of(e))),
        }
    }

    /// The contact a deal row names, creating it (in the deal's account) when references are
    /// names; `Err(rule)` when the name cannot be a contact's.
    fn contact(
        &mut self,
        value: Option<&str>,
        account: Option<AccountId>,
        ids: &mut Ids<'_>,
    ) -> StoreResult<Result<Option<ContactId>, String>> {
        let Some(value) = value.map(|v| self.first_of_list(v)) else {
            return Ok(Ok(None));
        };
        if let Some(id) = self
            .contacts
            .by_external
            .get(value)
            .or_else(|| self.contacts.by_email.get(&lower(value)))
            .or_else(|| self.contacts.by_name.get(&lower(value)))
        {
            return Ok(Ok(Some(ContactId(*id))));
        }
        if self.contacts.by_id_only {
            self.report
                .warn("contact id not found in the contact files: left blank");
            return Ok(Ok(None));
        }
        let id = ContactId(self.contact_ids.next(ids)?);
        let email = value.contains('@').then_some(value);
        let input = commands::NewContact {
            account,
            name: value,
            email,
            phone: None,
            title: None,
        };
        match commands::add_contact(&self.actor, id, input, self.now.at) {
            Ok(c) => {
                self.contacts.by_name.insert(lower(&c.name), id.0);
                if let Some(e) = &c.email {
                    self.contacts.by_email.insert(e.as_str().to_owned(), id.0);
                }
                self.report.contacts_created += 1;
                self.batch.contacts.push(Sourced::by_name(c));
                Ok(Ok(Some(id)))
            }
            Err(e) => Ok(Err(rule_of(e))),
        }
    }

    fn read_users(&mut self, file: &SourceFile) {
        let Some(m) = &self.mapping.user else { return };
        let (ext, name, email) = (
            file.find(m.external_id.as_ref()),
            file.find(m.name.as_ref()),
            file.find(m.email.as_ref()),
        );
        for (_, rec) in &file.records {
            if let Some(id) = cell(rec, ext) {
                let entry = (cell(rec, name).map(str::to_owned), cell(rec, email).map(str::to_owned));
                self.source_users.insert(id.to_owned(), entry);
            }
        }
    }

    /// A row's external id; one past the core's limit is the row's error (`None`: skip it).
    fn external_id<'r>(
        &mut self,
        file: &SourceFile,
        line: u64,
        rec: &'r csv::StringRecord,
        col: Option<usize>,
    ) -> Option<Option<&'r str>> {
        let id = cell(rec, col);
        match id.map(momentum_core::import::check_external_id).transpose() {
            Ok(_) => Some(id),
            Err(e) => {
                self.report.errors.push(domain_error(file, (line, rec), e, |_| col));
                None
            }
        }
    }

    fn read_accounts(&mut self, file: &SourceFile, ids: &mut Ids<'_>) -> StoreResult<()> {
        let Some(m) = self.mapping.account.clone() else {
            return Ok(());
        };
        let ext = file.find(m.external_id.as_ref());
        let (name, domain, created) = (
            file.find(m.name.as_ref()),
            file.find(m.domain.as_ref()),
            file.find(m.created.as_ref()),
        );
        self.accounts.by_id_only |= ext.is_some();
        // The column a refused field came from.
        let column_of = |f: &str| match f {
            "account.name" => name,
            "account.domain" => domain,
            _ => None,
        };
        let rule = date_rule(self.mapping, file, &[created], self.report);
        for (line, rec) in &file.records {
            self.report.rows += 1;
            if self.deleted(file, rec) {
                continue;
            }
            let Some(ext_id) = self.external_id(file, *line, rec, ext) else {
                continue;
            };
            if let Some(Sourced {
                record: stored,
                source: base,
                ..
            }) = ext_id
                .and_then(|e| self.accounts.by_external.get(e))
                .and_then(|id| self.stored_accounts.remove(id))
            {
                // A column the file lacks leaves the stored value; a blank domain clears it.
                let mut digest = base.unwrap_or_default();
                let name_value = reimported(rec, name, Some(&stored.name), (AccountDigest::NAME, base, &mut digest))
                    .unwrap_or(&stored.name);
                // Digested as cleaned: "www.acme.com" becoming "acme.com" is no change.
                let cleaned = cell(rec, domain).map(clean_domain);
                let domain_value = match domain {
                    Some(_) if digest.note(AccountDigest::DOMAIN, base, cleaned) => cleaned,
                    _ => stored.domain.as_deref(),
                };
                match commands::edit_account(&self.actor, &stored, name_value, domain_value) {
                    Ok(a) if a != stored || Some(digest) != base => {
                        self.report.accounts_updated += usize::from(a != stored);
                        self.batch.account_updates.push((a, digest));
                    }
                    Ok(_) => {}
                    Err(e) => self.report.errors.push(domain_error(file, (*line, rec), e, column_of)),
                }
                continue;
            }
            if ext_id.is_some_and(|e| self.accounts.by_external.contains_key(e))
                || (ext_id.is_none() && cell(rec, name).is_some_and(|n| self.accounts.by_name.contains_key(&lower(n))))
            {
                continue;
            }
            let created_at = match cell(rec, created).map(|v| (v, self.timestamp(&rule, v))) {
                None => self.now.at,
                Some((_, Ok(t))) => t,
                Some((v, Err(rule))) => {
                    self.report.errors.push(file_error(file, *line, created, v, rule));
                    continue;
                }
            };
            let domain_value = cell(rec, domain).map(clean_domain);
            let id = AccountId(self.account_ids.next(ids)?);
            match commands::add_account(&self.actor, id, cell(rec, name).unwrap_or(""), domain_value, created_at) {
                Ok(a) => {
                    if let Some(e) = ext_id {
                        self.accounts.by_external.insert(e.to_owned(), id.0);
                    }
                    self.accounts.by_name.entry(lower(&a.name)).or_insert(id.0);
                    self.report.accounts_created += 1;
                    self.batch.accounts.push(Sourced {
                        record: a,
                        external_id: ext_id.map(str::to_owned),
                        source: ext_id.map(|_| digests_of([cell(rec, name), cell(rec, domain).map(clean_domain)])),
                    });
                }
                Err(e) => self.report.errors.push(domain_error(file, (*line, rec), e, column_of)),
            }
        }
        Ok(())
    }

    fn read_contacts(&mut self, file: &SourceFile, ids: &mut Ids<'_>) -> StoreResult<()> {
        let Some(m) = self.mapping.contact.clone() else {
            return Ok(());
        };
        let ext = file.find(m.external_id.as_ref());
        let (name, first, last) = (
            file.find(m.name.as_ref()),
            file.find(m.first_name.as_ref()),
            file.find(m.last_name.as_ref()),
        );
        let (account, email, phone, title, created) = (
            file.find(m.account.as_ref()),
            file.find(m.email.as_ref()),
            file.find(m.phone.as_ref()),
            file.find(m.title.as_ref()),
            file.find(m.created.as_ref()),
        );
        self.contacts.by_id_only |= ext.is_some();
        // The column a refused field came from.
        let column_of = |f: &str| match f {
            "contact.name" => name.or(last),
            "contact.email" => email,
            "contact.phone" => phone,
            "contact.title" => title,
            _ => None,
        };
        let rule = date_rule(self.mapping, file, &[created], self.report);
        for (line, rec) in &file.records {
            self.report.rows += 1;
            if self.deleted(file, rec) {
                continue;
            }
            let Some(ext_id) = self.external_id(file, *line, rec, ext) else {
                continue;
            };
            let full_name = match cell(rec, name) {
                Some(n) => n.to_owned(),
                None => [cell(rec, first), cell(rec, last)]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            if let Some(Sourced {
                record: stored,
                source: base,
                ..
            }) = ext_id
                .and_then(|e| self.contacts.by_external.get(e))
                .and_then(|id| self.stored_contacts.remove(id))
            {
                // A column the file lacks leaves the stored value; a blank cell clears it.
                let mut digest = base.unwrap_or_default();
                let account_id = match account {
                    Some(_) if digest.note(ContactDigest::ACCOUNT, base, cell(rec, account)) => {
                        match self.account(cell(rec, account), ids)? {
                            Ok(a) => a,
                            Err(rule) => {
                                let value = cell(rec, account).unwrap_or("");
                                self.report.errors.push(file_error(file, *line, account, value, rule));
                                continue;
                            }
                        }
                    }
                    _ => stored.account,
                };
                let named = !full_name.is_empty() && digest.note(ContactDigest::NAME, base, Some(&full_name));
                let input = commands::NewContact {
                    account: account_id,
                    name: if named { &full_name } else { &stored.name },
                    email: reimported(
                        rec,
                        email,
                        stored.email.as_ref().map(|e| e.as_str()),
                        (ContactDigest::EMAIL, base, &mut digest),
                    ),
                    phone: reimported(
                        rec,
                        phone,
                        stored.phone.as_deref(),
                        (ContactDigest::PHONE, base, &mut digest),
                    ),
                    title: reimported(
                        rec,
                        title,
                        stored.title.as_deref(),
                        (ContactDigest::TITLE, base, &mut digest),
                    ),
                };
                match commands::edit_contact(&self.actor, &stored, input) {
                    Ok(c) if c != stored || Some(digest) != base => {
                        self.report.contacts_updated += usize::from(c != stored);
                        self.batch.contact_updates.push((c, digest));
                    }
                    Ok(_) => {}
                    Err(e) => self.report.errors.push(domain_error(file, (*line, rec), e, column_of)),
                }
                continue;
            }
            if ext_id.is_some_and(|e| self.contacts.by_external.contains_key(e)) {
                continue;
            }
            if ext_id.is_none() && self.contacts.by_name.contains_key(&lower(&full_name)) {
                continue;
            }
            let created_at = match cell(rec, created).map(|v| (v, self.timestamp(&rule, v))) {
                None => self.now.at,
                Some((_, Ok(t))) => t,
                Some((v, Err(rule))) => {
                    self.report.errors.push(file_error(file, *line, created, v, rule));
                    continue;
                }
            };
            let account_id = match self.account(cell(rec, account), ids)? {
                Ok(a) => a,
                Err(rule) => {
                    let value = cell(rec, account).unwrap_or("");
                    self.report.errors.push(file_error(file, *line, account, value, rule));
                    continue;
                }
            };
            let id = ContactId(self.contact_ids.next(ids)?);
            let input = commands::NewContact {
                account: account_id,
                name: &full_name,
                email: cell(rec, email),
                phone: cell(rec, phone),
                title: cell(rec, title),
            };
            match commands::add_contact(&self.actor, id, input, created_at) {
                Ok(c) => {
                    if let Some(e) = ext_id {
                        self.contacts.by_external.insert(e.to_owned(), id.0);
                    }
                    self.contacts.by_name.entry(lower(&c.name)).or_insert(id.0);
                    if let Some(e) = &c.email {
                        self.contacts.by_email.entry(e.as_str().to_owned()).or_insert(id.0);
                    }
                    self.report.contacts_created += 1;
                    self.batch.contacts.push(Sourced {
                        record: c,
                        external_id: ext_id.map(str::to_owned),
                        source: ext_id.map(|_| {
                            digests_of([
                                cell(rec, account),
                                Some(full_name.as_str()),
                                cell(rec, email),
                                cell(rec, phone),
                                cell(rec, title),
                            ])
                        }),
                    });
                }
                Err(e) => self.report.errors.push(domain_error(file, (*line, rec), e, column_of)),
            }
        }
        Ok(())
    }
}

/// A company's web address as a domain: no scheme, no "www.", no trailing slash.
fn clean_domain(d: &str) -> &str {
    d.trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("www.")
        .trim_end_matches('/')
}

/// Source stage values to ladder steps, from `[deal.stage]`.
fn stage_labels(mapping: &Mapping, ladder: &Ladder, errors: &mut Vec<RowError>) -> Option<HashMap<String, Step>> {
    let Some(StageField::Map(m)) = mapping.deal.as_ref().and_then(|d| d.stage.as_ref()) else {
        return None;
    };
    let mut out = HashMap::new();
    for (key, values) in &m.steps {
        // "0" lists the values that mean no buyer decision yet (Salesforce's Prospecting).
        let step = match key.trim() {
            "0" => Ok(Step(0)),
            key => ladder.parse_step("[deal.stage]", key),
        };
        match step {
            Ok(step) => {
                for v in values {
                    out.insert(lower(v), step);
                }
            }
            Err(e) => errors.push(RowError {
                file: "mapping".into(),
                line: 0,
                column: "[deal.stage]".into(),
                value: key.clone(),
                rule: rule_of(e),
            }),
        }
    }
    Some(out)
}

/// The stored deal a row updates: the one its external id names. A deal named by its own
/// id as Momentum's export names it ("momentum-12") is that deal only if the row has its
/// creation time, on every import: an export of another Momentum database names its deals
/// alike.
fn stored<'e>(existing: &'e Existing, row: &DealRow<'_>) -> Option<&'e momentum_store::import::StoredImport> {
    let id = row.external_id?;
    let s = existing.deals.get(id)?;
    let same = id != momentum_store::import::exported_id(s.deal.id) || row.created == Some(s.deal.created_at);
    same.then_some(s)
}

/// One deal row, read and checked, before matching.
struct DealRow<'f> {
    line: u64,
    rec: &'f csv::StringRecord,
    external_id: Option<&'f str>,
    title: &'f str,
    owner: Option<&'f str>,
    account: Option<&'f str>,
    contact: Option<&'f str>,
    product: Option<&'f str>,
    value_minor: Option<i64>,
    currency: Currency,
    created: Option<jiff::Timestamp>,
    expected_close: Option<jiff::civil::Date>,
    closed: Option<jiff::Timestamp>,
    status: DealStatus,
    stage: Option<(Step, &'f str)>,
    lost_category: Option<LostCategory>,
    lost_reason: Option<&'f str>,
    next_step: Option<jiff::Timestamp>,
    next_step_kind: Option<InteractionKind>,
    next_step_buyer_committed: bool,
    /// The column `closed` was read from (one of the close columns, or the expected close).
    closed_from: Option<usize>,
}

#[derive(Clone)]
struct DealCols {
    external_id: Option<usize>,
    title: Option<usize>,
    owner: Option<usize>,
    account: Option<usize>,
    contact: Option<usize>,
    product: Option<usize>,
    value: Option<usize>,
    currency: Option<usize>,
    created: Option<usize>,
    expected_close: Option<usize>,
    closed: Option<usize>,
    status: Option<usize>,
    stage: Option<usize>,
    lost_category: Option<usize>,
    lost_reason: Option<usize>,
    next_step: Option<usize>,
    next_step_kind: Option<usize>,
    next_step_buyer_committed: Option<usize>,
    /// The other `closed` columns the file has, read where the first is blank (Pipedrive's
    /// "Won time" and "Lost time" side by side).
    closed_also: Vec<usize>,
}

impl DealCols {
    fn of(field: &str, c: &DealCols) -> Option<usize> {
        match field {
            "external_id" => c.external_id,
            "title" => c.title,
            "value" => c.value,
            "created" => c.created,
            "closed" => c.closed.or(c.expected_close),
            "lost_reason" => c.lost_reason,
            "stage" => c.stage,
            "owner" => c.owner,
            "next_step" => c.next_step,
            _ => None,
        }
    }
}

pub(crate) fn plan(
    report: &mut Report,
    session: &Session,
    existing: &Existing,
    ids: &mut Ids<'_>,
    sources: &[SourceFile],
    mapping: &Mapping,
    options: &Options<'_>,
) -> StoreResult<Option<Batch>> {
    let tz = TimeZone::get(&session.org.timezone).unwrap_or(TimeZone::UTC);
    let now = session.now(options.now);
    let mut p = Planner {
        report,
        session,
        mapping,
        tz,
        now,
        actor: session.actor(),
        batch: Batch::default(),
        users_by_email: HashMap::new(),
        users_by_name: HashMap::new(),
        source_users: HashMap::new(),
        accounts: Directory::default(),
        contacts: Directory::default(),
        stored_accounts: HashMap::new(),
        stored_contacts: HashMap::new(),
        owner_memo: HashMap::new(),
        account_memo: HashMap::new(),
        user_ids: IdPool::new("user_ids"),
        account_ids: IdPool::new("account_ids"),
        contact_ids: IdPool::new("contact_ids"),
        planned_steps: HashSet::new(),
        deals_seen: HashMap::new(),
    };
    for u in &existing.users {
        p.add_owner(u);
    }
    for s in &existing.accounts {
        let a = &s.record;
        if let Some(e) = &s.external_id {
            p.accounts.by_external.insert(e.clone(), a.id.0);
            p.stored_accounts.insert(a.id.0, s.clone());
        }
        p.accounts.by_name.entry(lower(&a.name)).or_insert(a.id.0);
    }
    for s in &existing.contacts {
        let c = &s.record;
        if let Some(e) = &s.external_id {
            p.contacts.by_external.insert(e.clone(), c.id.0);
            p.stored_contacts.insert(c.id.0, s.clone());
        }
        p.contacts.by_name.entry(lower(&c.name)).or_insert(c.id.0);
        if let Some(e) = &c.email {
            p.contacts.by_email.entry(e.as_str().to_owned()).or_insert(c.id.0);
        }
    }
    let labels = stage_labels(mapping, &session.org.ladder, &mut p.report.errors);

    // Which file is which; unknown files are refused, or skipped for vendor folders.
    let mut by_section: Vec<(Section, &SourceFile)> = Vec::new();
    for f in sources {
        match section_of(mapping, f) {
            Some(s) => match twice_read(mapping, s, f) {
                Some(e) => p.report.errors.push(e),
                None => by_section.push((s, f)),
            },
            None if mapping.format.skip_unknown_files => {
                p.report
                    .notes
                    .push(format!("{}: skipped (not a file this import reads)", f.name));
            }
            None => {
                // A deals file missing the one column every deal needs says so, not "none"
                // (when the mapping reads nothing but deals, that is what the file is).
                let deals_only = mapping.account.is_none()
                    && mapping.contact.is_none()
                    && mapping.user.is_none()
                    && mapping.history.is_none()
                    && mapping.activity.is_none();
                let title = mapping
                    .deal
                    .as_ref()
                    .and_then(|d| d.title.as_ref())
                    .filter(|_| deals_only);
                let rule = match title {
                    Some(t) if !mapping.built_in && f.find(Some(t)).is_none() => format!(
                        "the mapping reads column \"{}\" for title, and the header has no such column (every deal has a title)",
                        t.names().join("\" or \"")
                    ),
                    _ if mapping.built_in => format!(
                        "this is not a file the {} import reads (a deals file has a title and a status column; give --mapping for any other)",
                        mapping.source_name()
                    ),
                    _ => "the header has none of the columns the mapping reads (give --mapping, or see --suggest-mapping)"
                        .to_owned(),
                };
                p.report.errors.push(file_error(f, 1, None, "", rule));
            }
        }
    }
    by_section.sort_by_key(|(s, _)| *s);
    for (s, f) in &by_section {
        match s {
            Section::User => p.read_users(f),
            Section::Account => p.read_accounts(f, ids)?,
            Section::Contact => p.read_contacts(f, ids)?,
            _ => {}
        }
    }
    let history = read_history(&mut p, &by_section, labels.as_ref());
    let mut done = 0u64;
    let mut deal_index: HashMap<String, usize> = HashMap::new();
    for (_, f) in by_section.iter().filter(|(s, _)| *s == Section::Deal) {
        plan_deals(
            &mut p,
            f,
            existing,
            ids,
            labels.as_ref(),
            &history,
            &mut deal_index,
            options,
            &mut done,
        )?;
    }
    let mut planned: HashMap<String, PlannedStep> = HashMap::new();
    for (_, f) in by_section.iter().filter(|(s, _)| *s == Section::Activity) {
        plan_activities(&mut p, f, existing, &mut deal_index, &mut planned);
    }
    schedule_planned(&mut p, existing, &mut deal_index, planned);
    if let Some(progress) = options.progress {
        progress(done);
    }
    let Planner {
        report,
        batch,
        planned_steps,
        ..
    } = p;
    report.next_steps_planned = planned_steps.len();
    report.decisions = batch.decisions.len();
    report.interactions = batch.interactions.len();
    Ok(report.errors.is_empty().then_some(batch))
}

/// A column the mapping reads that the header has more than once: which of them holds the
/// field cannot be told (an export with two properties of the same label does this).
fn twice_read(mapping: &Mapping, section: Section, f: &SourceFile) -> Option<RowError> {
    mapping.columns(section).into_iter().find_map(|(field, col)| {
        let i = f.find(Some(col))?;
        let name = &f.headers[i];
        let at: Vec<String> = (f.headers.iter().enumerate())
            .filter(|(_, h)| *h == name)
            .map(|(i, _)| (i + 1).to_string())
            .collect();
        (at.len() > 1).then(|| {
            file_error(
                f,
                1,
                Some(i),
                "",
                format!(
                    "the header has column \"{name}\" {} times (columns {}), and the mapping reads it for {field}: \
                     which one holds it cannot be told, so rename the others",
                    at.len(),
                    at.join(", ")
                ),
            )
        })
    })
}

fn read_history(
    p: &mut Planner<'_>,
    files: &[(Section, &SourceFile)],
    labels: Option<&HashMap<String, Step>>,
) -> HashMap<String, Vec<StageChange>> {
    let mut out: HashMap<String, Vec<StageChange>> = HashMap::new();
    let (Some(m), Some(labels)) = (p.mapping.history.clone(), labels) else {
        return out;
    };
    for (_, f) in files.iter().filter(|(s, _)| *s == Section::History) {
        let (deal, stage, at) = (f.find(m.deal.as_ref()), f.find(m.stage.as_ref()), f.find(m.at.as_ref()));
        let rule = date_rule(p.mapping, f, &[at], p.report);
        for (line, rec) in &f.records {
            p.report.rows += 1;
            if p.deleted(f, rec) {
                continue;
            }
            let (Some(d), Some(s)) = (cell(rec, deal), cell(rec, stage)) else {
                continue;
            };
            // Closed Won / Lost and "no decision yet" stages are not ladder steps.
            let Some(step) = labels.get(&lower(s)).filter(|s| s.0 > 0) else {
                continue;
            };
            let when = match cell(rec, at).map(|v| (v, p.timestamp(&rule, v))) {
                Some((_, Ok(t))) => t,
                Some((v, Err(rule))) => {
                    p.report.errors.push(file_error(f, *line, at, v, rule));
                    continue;
                }
                None => {
                    p.report
                        .errors
                        .push(file_error(f, *line, at, "", "a stage change has the date it happened"));
                    continue;
                }
            };
            out.entry(d.to_owned()).or_default().push(StageChange {
                at: when,
                step: *step,
                label: s.to_owned(),
            });
        }
    }
    for changes in out.values_mut() {
        changes.sort_by_key(|c| c.at);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn plan_deals(
    p: &mut Planner<'_>,
    f: &SourceFile,
    existing: &Existing,
    ids: &mut Ids<'_>,
    labels: Option<&HashMap<String, Step>>,
    history: &HashMap<String, Vec<StageChange>>,
    deal_index: &mut HashMap<String, usize>,
    options: &Options<'_>,
    done: &mut u64,
) -> StoreResult<()> {
    let Some(m) = p.mapping.deal.clone() else { return Ok(()) };
    let status_col = m.status.as_ref().map(|s| match s {
        StatusField::Column(c) => c.clone(),
        StatusField::Map(sm) => sm.column.clone(),
    });
    let stage_col = m.stage.as_ref().map(|s| match s {
        StageField::Column(c) => c.clone(),
        StageField::Map(sm) => sm.column.clone(),
    });
    let c = DealCols {
        external_id: f.find(m.external_id.as_ref()),
        title: f.find(m.title.as_ref()),
        owner: f.find(m.owner.as_ref()),
        account: f.find(m.account.as_ref()),
        contact: f.find(m.contact.as_ref()),
        product: f.find(m.product.as_ref()),
        value: f.find(m.value.as_ref()),
        currency: f.find(m.currency.as_ref()),
        created: f.find(m.created.as_ref()),
        expected_close: f.find(m.expected_close.as_ref()),
        closed: f.find(m.closed.as_ref()),
        closed_also: f.find_all(m.closed.as_ref()).into_iter().skip(1).collect(),
        status: f.find(status_col.as_ref()),
        stage: f.find(stage_col.as_ref()),
        lost_category: f.find(m.lost_category.as_ref()),
        lost_reason: f.find(m.lost_reason.as_ref()),
        next_step: f.find(m.next_step.as_ref()),
        next_step_kind: f.find(m.next_step_kind.as_ref()),
        next_step_buyer_committed: f.find(m.next_step_buyer_committed.as_ref()),
    };
    // A column a user's mapping names must be in the file: a typo, or another export's
    // header, would otherwise leave the field blank on every row (no external id: duplicates
    // on every re-import; no status: every deal open).
    if !p.mapping.built_in {
        let named = [
            ("external_id", m.external_id.as_ref(), c.external_id),
            ("owner", m.owner.as_ref(), c.owner),
            ("account", m.account.as_ref(), c.account),
            ("contact", m.contact.as_ref(), c.contact),
            ("product", m.product.as_ref(), c.product),
            ("value", m.value.as_ref(), c.value),
            ("currency", m.currency.as_ref(), c.currency),
            ("created", m.created.as_ref(), c.created),
            ("expected_close", m.expected_close.as_ref(), c.expected_close),
            ("closed", m.closed.as_ref(), c.closed),
            ("status", status_col.as_ref(), c.status),
            ("stage", stage_col.as_ref(), c.stage),
            ("lost_category", m.lost_category.as_ref(), c.lost_category),
            ("lost_reason", m.lost_reason.as_ref(), c.lost_reason),
            ("next_step", m.next_step.as_ref(), c.next_step),
            ("next_step_kind", m.next_step_kind.as_ref(), c.next_step_kind),
            (
                "next_step_buyer_committed",
                m.next_step_buyer_committed.as_ref(),
                c.next_step_buyer_committed,
            ),
        ];
        let errors_before = p.report.errors.len();
        for (field, col, found) in named {
            if let (Some(col), None) = (col, found) {
                p.report.errors.push(file_error(
                    f,
                    1,
                    None,
                    "",
                    format!(
                        "the mapping reads column \"{}\" for {field}, and the header has no such column",
                        col.names().join("\" or \"")
                    ),
                ));
            }
        }
        if p.report.errors.len() > errors_before {
            return Ok(());
        }
    }
    if c.title.is_none() {
        let wanted = m.title.as_ref().map_or("title".to_owned(), |t| t.names().join(" or "));
        p.report.errors.push(file_error(
            f,
            1,
            None,
            "",
            format!("the header has no title column ({wanted}): every deal has a title"),
        ));
        return Ok(());
    }
    let rule = date_rule(
        p.mapping,
        f,
        &[c.created, c.expected_close, c.closed, c.next_step]
            .into_iter()
            .chain(c.closed_also.iter().map(|i| Some(*i)))
            .collect::<Vec<_>>(),
        p.report,
    );
    let default_currency = match p.mapping.format.currency.as_deref() {
        Some(code) => match Currency::parse("[format] currency", code) {
            Ok(c) => c,
            Err(e) => {
                p.report.errors.push(RowError {
                    file: "mapping".into(),
                    line: 0,
                    column: "[format] currency".into(),
                    value: code.to_owned(),
                    rule: e.to_string(),
                });
                return Ok(());
            }
        },
        None => p.session.org.currency,
    };
    let status_map: Option<HashMap<String, DealStatus>> = match &m.status {
        Some(StatusField::Map(sm)) => {
            let mut out = HashMap::new();
            for (status, values) in [
                (DealStatus::Open, &sm.open),
                (DealStatus::Won, &sm.won),
                (DealStatus::Lost, &sm.lost),
                (DealStatus::Disqualified, &sm.disqualified),
            ] {
                for v in values {
                    out.insert(lower(v), status);
                }
            }
            Some(out)
        }
        _ => None,
    };
    let status_other = match &m.status {
        Some(StatusField::Map(sm)) => match sm.other.as_deref().map(|o| DealStatus::parse("[deal.status] other", o)) {
            None => None,
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => {
                p.report.errors.push(RowError {
                    file: "mapping".into(),
                    line: 0,
                    column: "[deal.status] other".into(),
                    value: sm.other.clone().unwrap_or_default(),
                    rule: e.to_string(),
                });
                return Ok(());
            }
        },
        _ => None,
    };

    // Read every row first: errors are collected, and the new deals counted for their ids.
    let mut rows: Vec<DealRow<'_>> = Vec::with_capacity(f.records.len());
    for (line, rec) in &f.records {
        p.report.rows += 1;
        if p.deleted(f, rec) {
            continue;
        }
        let line = *line;
        let errors_before = p.report.errors.len();
        let bad = |col: Option<usize>, value: &str, rule: String, report: &mut Report| {
            report.errors.push(file_error(f, line, col, value, rule));
        };
        let external_id = cell(rec, c.external_id);
        if let Some(e) = external_id {
            match p.deals_seen.get(e) {
                Some((file, first)) => {
                    let place = match *file == f.name {
                        true => format!("line {first}"),
                        false => format!("{file} line {first}"),
                    };
                    bad(
                        c.external_id,
                        e,
                        format!("the same id is on {place}: each record appears once"),
                        p.report,
                    );
                }
                None => {
                    p.deals_seen.insert(e.to_owned(), (f.name.clone(), line));
                }
            }
        }
        let currency = match cell(rec, c.currency) {
            None => default_currency,
            Some(code) => match Currency::parse("currency", code) {
                Ok(cur) => cur,
                Err(_) => {
                    bad(
                        c.currency,
                        code,
                        "a currency is an ISO 4217 code such as USD or EUR".into(),
                        p.report,
                    );
                    default_currency
                }
            },
        };
        let value_minor = match cell(rec, c.value) {
            None => None,
            Some(v) => match amount_in(v, currency).and_then(|a| Money::parse("value", a, currency)) {
                Ok(money) => Some(money.minor),
                Err(DomainError::Invalid { rule, .. }) => {
                    bad(c.value, v, rule, p.report);
                    None
                }
                Err(e) => {
                    bad(c.value, v, e.to_string(), p.report);
                    None
                }
            },
        };
        // A date as read, and the instant it is in the org's time zone.
        let ts = |col: Option<usize>, report: &mut Report| -> Option<(When, jiff::Timestamp)> {
            let v = cell(rec, col)?;
            match dates::parse(&rule, v).and_then(|w| Ok((w, w.timestamp(&p.tz)?))) {
                Ok(read) => Some(read),
                Err(r) => {
                    report.errors.push(file_error(f, line, col, v, r));
                    None
                }
            }
        };
        let created = ts(c.created, p.report);
        let expected_close = ts(c.expected_close, p.report);
        // One column for both (HubSpot's "Close Date") is read, and refused, once.
        let closed_col = match cell(rec, c.closed) {
            None => c
                .closed_also
                .iter()
                .copied()
                .find(|i| cell(rec, Some(*i)).is_some())
                .or(c.closed),
            Some(_) => c.closed,
        };
        let closed = match closed_col == c.expected_close {
            true => expected_close,
            false => ts(closed_col, p.report),
        };
        let next_step = ts(c.next_step, p.report);
        let status = match (cell(rec, c.status), &status_map) {
            (None, _) if c.status.is_none() => DealStatus::Open,
            (Some(v), Some(map)) => match map.get(&lower(v)).copied().or(status_other) {
                Some(s) => s,
                None => {
                    bad(c.status, v, "this value is in none of the [deal.status] lists (open, won, lost, disqualified): add it there".into(), p.report);
                    DealStatus::Open
                }
            },
            (Some(v), None) => match DealStatus::parse("status", v) {
                Ok(s) => s,
                Err(e) => {
                    let rule = match e {
                        DomainError::Invalid { rule, .. } => rule,
                        other => other.to_string(),
                    };
                    bad(
                        c.status,
                        v,
                        format!("{rule} (or map the source's values in [deal.status])"),
                        p.report,
                    );
                    DealStatus::Open
                }
            },
            (None, _) => match status_other {
                Some(s) => s,
                None => {
                    bad(
                        c.status,
                        "",
                        "a deal's status is open, won, lost or disqualified".into(),
                        p.report,
                    );
                    DealStatus::Open
                }
            },
        };
        let stage = match (cell(rec, c.stage), labels) {
            (None, _) => None,
            (Some(v), Some(labels)) => match labels.get(&lower(v)) {
                Some(s) => (s.0 > 0).then_some((*s, v)),
                None => {
                    // A value the status lists name (HubSpot's "Closed Won") is no stage;
                    // any other is one the mapping does not know (a custom pipeline's).
                    if !status_map.as_ref().is_some_and(|m| m.contains_key(&lower(v))) {
                        p.report.warn(format!(
                            "stage \"{v}\" is in no list of the mapping's [deal.stage]: the deal comes in with no buyer decision yet (list it there, under \"0\" if that is what it means)"
                        ));
                    }
                    None
                }
            },
            // Step 0: the buyer has made no decision yet.
            (Some("0"), None) => None,
            (Some(v), None) => match p.session.org.ladder.parse_step("stage", v) {
                Ok(s) => Some((s, v)),
                Err(e) => {
                    let rule = match e {
                        DomainError::Invalid { rule, .. } => rule,
                        other => other.to_string(),
                    };
                    bad(c.stage, v, rule, p.report);
                    None
                }
            },
        };
        let next_step_buyer_committed = match cell(rec, c.next_step_buyer_committed).map(lower).as_deref() {
            None | Some("false" | "no" | "0") => false,
            Some("true" | "yes" | "1") => true,
            Some(_) => {
                let v = cell(rec, c.next_step_buyer_committed).unwrap_or("");
                bad(
                    c.next_step_buyer_committed,
                    v,
                    "whether the buyer committed is true or false (yes/no, 1/0)".into(),
                    p.report,
                );
                false
            }
        };
        let lost_category = match cell(rec, c.lost_category) {
            None => None,
            Some(v) => match LostCategory::parse("lost_category", v) {
                Ok(cat) => Some(cat),
                Err(e) => {
                    bad(c.lost_category, v, e.to_string(), p.report);
                    None
                }
            },
        };
        if p.report.errors.len() > errors_before {
            continue;
        }
        let tz = &p.tz;
        let instant = |read: (When, jiff::Timestamp)| read.1;
        rows.push(DealRow {
            line,
            rec,
            external_id,
            title: cell(rec, c.title).unwrap_or(""),
            owner: cell(rec, c.owner),
            account: cell(rec, c.account),
            contact: cell(rec, c.contact),
            product: cell(rec, c.product),
            value_minor,
            currency,
            created: created.map(instant),
            expected_close: expected_close.map(|(w, _)| w.date(tz)),
            // A closed deal's date: the closed column, else its (expected) close date.
            closed: closed.or(expected_close).map(instant),
            closed_from: match closed {
                Some(_) => closed_col,
                None => c.expected_close,
            },
            status,
            stage,
            lost_category,
            lost_reason: cell(rec, c.lost_reason),
            next_step: next_step.map(instant),
            next_step_kind: cell(rec, c.next_step_kind).map(kind_of),
            next_step_buyer_committed,
        });
    }

    let new_count = rows.iter().filter(|r| stored(existing, r).is_none()).count();
    let mut new_ids = ids.take("deal_ids", new_count)?.into_iter();
    // Activities find their deal by external id; without them, no index is kept.
    let with_activities = p.mapping.activity.is_some();
    let source = p.mapping.source_name().to_owned();
    let no_history: Vec<StageChange> = Vec::new();
    let rules_of = Rules {
        ladder: &p.session.org.ladder,
        cadence: &p.session.org.cadence,
    };
    for row in rows {
        *done += 1;
        if (*done).is_multiple_of(10_000) {
            if let Some(progress) = options.progress {
                progress(*done);
            }
        }
        let before = stored(existing, &row);
        // Two deals cannot share an external id, and this one is taken by a deal made here.
        if let (None, Some(id)) = (before, row.external_id.filter(|e| existing.deals.contains_key(*e))) {
            p.report.errors.push(file_error(
                f,
                row.line,
                c.external_id,
                id,
                "this names a deal made in this org, created at another time (another database's export?): \
                 give the row an external id of its own to import it as a new deal",
            ));
            continue;
        }
        // An owner, company or contact the source names as at the deal's last import is the
        // deal's as it stands (core `import_deal` keeps it): looking the name up again would
        // miss a record renamed in Momentum since, and create a duplicate.
        let kept = |field, cell| {
            before
                .filter(|b| b.source.is_some_and(|s| s.get(field) == SourceDigest::name(cell)))
                .map(|b| &b.deal)
        };
        let owner = match kept(SourceField::Owner, row.owner) {
            Some(d) => d.owner,
            None => match p.owner(row.owner, ids)? {
                Ok(o) => o,
                Err(rule) => {
                    p.report
                        .errors
                        .push(file_error(f, row.line, c.owner, row.owner.unwrap_or(""), rule));
                    continue;
                }
            },
        };
        let account = match kept(SourceField::Account, row.account) {
            Some(d) => d.account,
            None => match p.account(row.account, ids)? {
                Ok(a) => a,
                Err(rule) => {
                    let value = row.account.unwrap_or("");
                    p.report.errors.push(file_error(f, row.line, c.account, value, rule));
                    continue;
                }
            },
        };
        let contact = match kept(SourceField::Contact, row.contact) {
            Some(d) => d.contact,
            None => match p.contact(row.contact, account, ids)? {
                Ok(c) => c,
                Err(rule) => {
                    let value = row.contact.unwrap_or("");
                    p.report.errors.push(file_error(f, row.line, c.contact, value, rule));
                    continue;
                }
            },
        };
        let id = match before {
            Some(b) => b.deal.id,
            None => DealId(new_ids.next().expect("an id was taken for each new deal")),
        };
        let input = ImportedDeal {
            external_id: row.external_id,
            owner,
            account,
            contact,
            title: row.title,
            value_minor: row.value_minor,
            currency: row.currency,
            created: row.created,
            expected_close: row.expected_close,
            closed: row.closed,
            status: row.status,
            stage: row.stage,
            lost_category: row.lost_category,
            lost_reason: row.lost_reason,
            history: row.external_id.and_then(|e| history.get(e)).unwrap_or(&no_history),
            provenance: format!("{source}:{}:{}", f.name, row.line),
            next_step: row.next_step.map(|due| PlannedStep {
                due,
                kind: row.next_step_kind,
                by: None,
                buyer_committed: row.next_step_buyer_committed,
            }),
            named: [row.owner, row.account, row.contact],
        };
        let (stored, base) = (before.map(|b| &b.deal), before.and_then(|b| b.source));
        match rules::import_deal(&p.actor, rules_of, id, stored, base, input, p.now) {
            Ok(record) => {
                if record.created_was_blank {
                    p.report
                        .warn("created date blank: the close date, or else the import time, stands in");
                }
                if record.created_after_close {
                    p.report
                        .warn("closed before its created date: taken as created on its close date");
                }
                p.report.deals_keeping_momentum_changes += usize::from(record.kept_momentum_changes);
                let product = row.product.map(str::to_owned);
                let product_changed = before.is_some_and(|b| b.product != product);
                if !record.changed && !product_changed {
                    p.report.deals_unchanged += 1;
                    continue;
                }
                let mut deal = record.deal;
                match before {
                    Some(b) => {
                        deal.version = b.deal.version + 1;
                        p.report.deals_updated += 1;
                    }
                    None => p.report.deals_created += 1,
                }
                if row.next_step.is_some() && deal.next_step().map(|s| s.due) == row.next_step {
                    p.planned_steps.insert(id);
                }
                p.batch.decisions.extend(record.decisions.into_iter().map(|d| (id, d)));
                if let (Some(e), true) = (row.external_id, with_activities) {
                    deal_index.insert(e.to_owned(), p.batch.deals.len());
                }
                p.batch.deals.push(DealWrite {
                    deal,
                    product,
                    source: Some(record.source),
                    before: stored.cloned(),
                });
            }
            Err(errors) => {
                for e in errors {
                    p.report
                        .errors
                        .push(domain_error(f, (row.line, row.rec), e, |field| match field {
                            "closed" => row.closed_from,
                            field => DealCols::of(field, &c),
                        }));
                }
            }
        }
    }
    Ok(())
}

fn plan_activities(
    p: &mut Planner<'_>,
    f: &SourceFile,
    existing: &Existing,
    deal_index: &mut HashMap<String, usize>,
    planned: &mut HashMap<String, PlannedStep>,
) {
    let Some(m) = p.mapping.activity.clone() else { return };
    let (ext, deal, deal_title, contact, user) = (
        f.find(m.external_id.as_ref()),
        f.find(m.deal.as_ref()),
        f.find(m.deal_title.as_ref()),
        f.find(m.contact.as_ref()),
        f.find(m.user.as_ref()),
    );
    let (at, kind, notes, status) = (
        f.find(m.at.as_ref()),
        f.find(m.kind.as_ref()),
        f.find(m.notes.as_ref()),
        f.find(m.status.as_ref()),
    );
    let done: HashSet<String> = m.done.iter().map(|d| lower(d)).collect();
    let rule = date_rule(p.mapping, f, &[at], p.report);
    let titles = deal_title.map(|_| deals_by_title(p, existing));
    let rules_of = Rules {
        ladder: &p.session.org.ladder,
        cadence: &p.session.org.cadence,
    };
    for (line, rec) in &f.records {
        p.report.rows += 1;
        if p.deleted(f, rec) {
            continue;
        }
        let happened = status.is_none() || cell(rec, status).is_some_and(|s| done.contains(&lower(s)));
        let Some(ext_id) = p.external_id(f, *line, rec, ext) else {
            continue;
        };
        if happened && ext_id.is_some_and(|e| existing.interactions.contains(e)) {
            continue;
        }
        let deal_ext = match (cell(rec, deal), cell(rec, deal_title), &titles) {
            (Some(e), ..) => e.to_owned(),
            (None, Some(t), Some(titles)) => match titles.get(&lower(t)) {
                Some(Some(e)) => e.clone(),
                Some(None) => {
                    p.report.warn("activity's deal title names more than one deal: skipped");
                    continue;
                }
                None => {
                    p.report.warn("activity not linked to an imported deal: skipped");
                    continue;
                }
            },
            _ => {
                p.report.warn("activity not linked to a deal: skipped");
                continue;
            }
        };
        if !deal_index.contains_key(&deal_ext) && !existing.deals.contains_key(&deal_ext) {
            p.report.warn("activity not linked to an imported deal: skipped");
            continue;
        }
        let occurred_at = match cell(rec, at).map(|v| (v, p.timestamp(&rule, v))) {
            Some((_, Ok(t))) => t,
            Some((v, Err(r))) => {
                p.report.errors.push(file_error(f, *line, at, v, r));
                continue;
            }
            None => {
                let rule = if happened {
                    "an activity has the date it happened"
                } else {
                    "a planned activity has the date it is due"
                };
                p.report.errors.push(file_error(f, *line, at, "", rule));
                continue;
            }
        };
        let kind = cell(rec, kind).map_or(InteractionKind::Call, kind_of);
        let user_id = cell(rec, user).and_then(|u| {
            let (name, email) = p.source_users.get(u).cloned().unwrap_or((Some(u.to_owned()), None));
            email
                .and_then(|e| p.users_by_email.get(&lower(&e)).copied())
                .or_else(|| name.and_then(|n| p.users_by_name.get(&lower(&n)).copied()))
                .map(|o| o.id)
        });
        if !happened {
            // The earliest planned activity is the one the deal waits on.
            let step = PlannedStep {
                due: occurred_at,
                kind: Some(kind),
                by: user_id,
                buyer_committed: false,
            };
            match planned.get(&deal_ext) {
                Some(earlier) if earlier.due <= step.due => {}
                _ => {
                    planned.insert(deal_ext, step);
                }
            }
            continue;
        }
        let index = existing_deal_in_batch(p, existing, deal_index, &deal_ext);
        let contact_id = cell(rec, contact)
            .and_then(|v| {
                p.contacts
                    .by_external
                    .get(v)
                    .or_else(|| p.contacts.by_email.get(&lower(v)))
                    .or_else(|| p.contacts.by_name.get(&lower(v)))
            })
            .map(|c| ContactId(*c));
        let deal_id = p.batch.deals[index].deal.id;
        let input = ImportedActivity {
            user: user_id.unwrap_or(p.batch.deals[index].deal.owner.id),
            contact: contact_id,
            kind,
            occurred_at,
            notes: cell(rec, notes).unwrap_or(""),
        };
        match rules::import_activity(&mut p.batch.deals[index].deal, rules_of, input, p.now) {
            Ok(i) => p.batch.interactions.push((deal_id, i, ext_id.map(str::to_owned))),
            Err(e) => p
                .report
                .errors
                .push(domain_error(f, (*line, rec), e, |field| match field {
                    "occurred_at" => at,
                    "notes" => notes,
                    _ => None,
                })),
        }
    }
}

/// The kind of interaction a source's activity type names; a call when it names none of
/// ours (a task, a deadline).
fn kind_of(source: &str) -> InteractionKind {
    match lower(source).as_str() {
        "email" | "e-mail" | "listemail" => InteractionKind::Email,
        "meeting" | "event" | "lunch" => InteractionKind::Meeting,
        "visit" => InteractionKind::Visit,
        "message" | "sms" => InteractionKind::Message,
        _ => InteractionKind::Call,
    }
}

/// The deals an activity can name by title, by lower-cased title: `None` where a title
/// names more than one deal (a guess would log the activity on the wrong deal).
fn deals_by_title(p: &Planner<'_>, existing: &Existing) -> HashMap<String, Option<String>> {
    let mut out: HashMap<String, Option<String>> = HashMap::new();
    let written = p.batch.deals.iter().map(|w| &w.deal);
    for d in written.chain(existing.deals.values().map(|s| &s.deal)) {
        let Some(e) = &d.external_id else { continue };
        out.entry(lower(&d.title))
            .and_modify(|found| {
                if found.as_ref() != Some(e) {
                    *found = None;
                }
            })
            .or_insert_with(|| Some(e.clone()));
    }
    out
}

/// The batch index of the deal with external id `ext`, adding the stored deal as its next
/// version when this import has not written it yet. The deal is in one or the other
/// (checked by the caller).
fn existing_deal_in_batch(
    p: &mut Planner<'_>,
    existing: &Existing,
    deal_index: &mut HashMap<String, usize>,
    ext: &str,
) -> usize {
    if let Some(i) = deal_index.get(ext) {
        return *i;
    }
    let stored = &existing.deals[ext];
    let mut next = stored.deal.clone();
    next.version += 1;
    p.report.deals_updated += 1;
    p.report.deals_unchanged = p.report.deals_unchanged.saturating_sub(1);
    p.batch.deals.push(DealWrite {
        deal: next,
        product: stored.product.clone(),
        source: stored.source,
        before: Some(stored.deal.clone()),
    });
    deal_index.insert(ext.to_owned(), p.batch.deals.len() - 1);
    p.batch.deals.len() - 1
}

/// Makes each deal's earliest planned activity its next step (core
/// `schedule_planned_step`), unless the source planned the same at the deal's last import
/// (the seller may have moved the step since); a stored deal is written only when its step
/// or its source digest changes.
fn schedule_planned(
    p: &mut Planner<'_>,
    existing: &Existing,
    deal_index: &mut HashMap<String, usize>,
    planned: HashMap<String, PlannedStep>,
) {
    let rules_of = Rules {
        ladder: &p.session.org.ladder,
        cadence: &p.session.org.cadence,
    };
    for (ext, step) in planned {
        let (current, source) = match deal_index.get(&ext) {
            Some(i) => (&p.batch.deals[*i].deal, p.batch.deals[*i].source),
            None => (&existing.deals[&ext].deal, existing.deals[&ext].source),
        };
        // The same plan as at the last import, on a deal this import left as it stood:
        // the step is the seller's to keep.
        let digest = SourceDigest::planned(&step);
        let stood = existing.deals.get(&ext).is_some_and(|s| s.deal.state == current.state);
        if stood && source.is_some_and(|s| s.get(SourceField::PlannedActivity) == digest) {
            continue;
        }
        if current.next_step().is_none() {
            p.report.warn("planned activity on a closed deal: skipped");
            continue;
        }
        let mut next = current.clone();
        let moved = rules::schedule_planned_step(&mut next, rules_of, &step, p.now);
        if !moved && source.is_none() {
            continue;
        }
        let index = existing_deal_in_batch(p, existing, deal_index, &ext);
        let write = &mut p.batch.deals[index];
        if let Some(s) = &mut write.source {
            s.set(SourceField::PlannedActivity, digest);
        }
        if moved {
            write.deal.state = next.state;
            p.planned_steps.insert(next.id);
        }
    }
}
