//! Export: an org's deals, interactions, decisions, accounts and contacts as flat records,
//! streamed. One read transaction (a consistent snapshot) walks each table in keyset pages
//! of [`PAGE`] rows and hands every record to the caller as it goes, so memory stays flat
//! however large the org. The deals' columns are the ones `import csv` reads by default,
//! so an export re-imports as it is.

use jiff::Timestamp;
use momentum_core::model::OrgId;
use momentum_core::money::Currency;
use momentum_core::DomainError;

use crate::error::StoreResult;
use crate::ops::Session;
use crate::sql::{Row, Sql, Val};
use crate::Store;

/// Rows fetched per query.
pub const PAGE: i64 = 5_000;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deals,
    Interactions,
    Decisions,
    Accounts,
    Contacts,
}

impl Kind {
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Deals => &[
                "deal_id",
                "external_id",
                "title",
                "owner",
                "account",
                "contact",
                "product",
                "value",
                "currency",
                "status",
                "stage",
                "stage_name",
                "created",
                "expected_close",
                "closed",
                "lost_category",
                "lost_reason",
                "next_step_due",
                "next_step_kind",
                "next_step_buyer_committed",
                "provenance",
            ],
            Kind::Interactions => &[
                "deal_id",
                "deal_external_id",
                "seq",
                "user",
                "contact",
                "kind",
                "objective",
                "result",
                "commitment",
                "notes",
                "occurred_at",
                "recorded_at",
            ],
            Kind::Decisions => &[
                "deal_id",
                "deal_external_id",
                "seq",
                "from_stage",
                "to_stage",
                "direction",
                "contact",
                "decided_at",
                "recorded_by",
                "note",
            ],
            Kind::Accounts => &["account_id", "external_id", "name", "domain", "created"],
            Kind::Contacts => &[
                "contact_id",
                "external_id",
                "account_id",
                "account",
                "name",
                "email",
                "phone",
                "title",
                "created",
            ],
        }
    }
}

/// A decimal amount in major units ("12000.50") from minor units.
pub fn decimal(minor: i64, currency: Currency) -> String {
    let exp = currency.exponent();
    if exp == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(exp);
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        m / scale as u64,
        m % scale as u64,
        width = exp as usize
    )
}

fn time(v: &Val) -> Val {
    match v {
        Val::Int(s) => Timestamp::from_second(*s).map_or(Val::Null, |t| Val::Text(t.to_string())),
        _ => Val::Null,
    }
}

/// The SQL of one page: rows after the keyset `$2` (and `$3` for per-deal entries).
fn page_sql(kind: Kind) -> String {
    match kind {
        Kind::Deals => format!(
            "SELECT d.deal_id, COALESCE(d.external_id, 'momentum-' || CAST(d.deal_id AS TEXT)), d.title, u.email, a.name, c.name, \
             d.product, d.value_minor, d.currency, d.status, d.stage, l.name, d.created_at, d.expected_close_on, d.closed_at, \
             d.lost_category, d.close_words, n.due_at, n.kind, n.buyer_committed, d.provenance \
             FROM deals d JOIN users u ON u.org_id = d.org_id AND u.user_id = d.owner_id \
             LEFT JOIN accounts a ON a.org_id = d.org_id AND a.account_id = d.account_id \
             LEFT JOIN contacts c ON c.org_id = d.org_id AND c.contact_id = d.contact_id \
             LEFT JOIN ladder_steps l ON l.org_id = d.org_id AND l.step = d.stage \
             LEFT JOIN next_steps n ON n.org_id = d.org_id AND n.deal_id = d.deal_id \
             WHERE d.org_id = $1 AND d.deal_id > $2 ORDER BY d.deal_id LIMIT {PAGE}"
        ),
        Kind::Interactions => format!(
            "SELECT i.deal_id, COALESCE(d.external_id, 'momentum-' || CAST(d.deal_id AS TEXT)), i.seq, u.email, c.name, i.kind, \
             i.objective, i.result, i.commitment, i.notes, i.occurred_at, i.recorded_at \
             FROM interactions i JOIN deals d ON d.org_id = i.org_id AND d.deal_id = i.deal_id \
             LEFT JOIN users u ON u.org_id = i.org_id AND u.user_id = i.user_id \
             LEFT JOIN contacts c ON c.org_id = i.org_id AND c.contact_id = i.contact_id \
             WHERE i.org_id = $1 AND (i.deal_id > $2 OR (i.deal_id = $2 AND i.seq > $3)) \
             ORDER BY i.deal_id, i.seq LIMIT {PAGE}"
        ),
        Kind::Decisions => format!(
            "SELECT x.deal_id, COALESCE(d.external_id, 'momentum-' || CAST(d.deal_id AS TEXT)), x.seq, x.from_stage, x.to_stage, \
             x.direction, c.name, x.decided_at, u.email, x.note \
             FROM decisions x JOIN deals d ON d.org_id = x.org_id AND d.deal_id = x.deal_id \
             LEFT JOIN users u ON u.org_id = x.org_id AND u.user_id = x.recorded_by \
             LEFT JOIN contacts c ON c.org_id = x.org_id AND c.contact_id = x.contact_id \
             WHERE x.org_id = $1 AND (x.deal_id > $2 OR (x.deal_id = $2 AND x.seq > $3)) \
             ORDER BY x.deal_id, x.seq LIMIT {PAGE}"
        ),
        Kind::Accounts => format!(
            "SELECT account_id, external_id, name, domain, created_at FROM accounts \
             WHERE org_id = $1 AND account_id > $2 ORDER BY account_id LIMIT {PAGE}"
        ),
        Kind::Contacts => format!(
            "SELECT c.contact_id, c.external_id, c.account_id, a.name, c.name, c.email, c.phone, c.title, c.created_at \
             FROM contacts c LEFT JOIN accounts a ON a.org_id = c.org_id AND a.account_id = c.account_id \
             WHERE c.org_id = $1 AND c.contact_id > $2 ORDER BY c.contact_id LIMIT {PAGE}"
        ),
    }
}

/// Turns stored values into the exported ones: times as RFC 3339 UTC, money in major units.
fn record(kind: Kind, row: Row) -> StoreResult<Vec<Val>> {
    let mut v = row.0;
    match kind {
        Kind::Deals => {
            let currency = Currency::parse("stored currency", row_text(&v[8])).map_err(crate::map::corrupt)?;
            if let Val::Int(minor) = v[7] {
                v[7] = Val::Text(decimal(minor, currency));
            }
            for i in [12, 14, 17] {
                v[i] = time(&v[i]);
            }
            v[19] = match v[19] {
                Val::Bool(b) => Val::Bool(b),
                Val::Int(i) => Val::Bool(i != 0),
                _ => Val::Null,
            };
        }
        Kind::Interactions => {
            for i in [10, 11] {
                v[i] = time(&v[i]);
            }
        }
        Kind::Decisions => v[7] = time(&v[7]),
        Kind::Accounts => v[4] = time(&v[4]),
        Kind::Contacts => v[8] = time(&v[8]),
    }
    Ok(v)
}

fn row_text(v: &Val) -> &str {
    match v {
        Val::Text(t) => t,
        _ => "",
    }
}

/// Exports are for admins: callers that write a header or an opening bracket ask first, so
/// a refused export writes nothing at all.
pub fn may_export(s: &Session) -> StoreResult<()> {
    if s.user.role == momentum_core::vocab::Role::Admin {
        return Ok(());
    }
    Err(DomainError::Forbidden(format!("exporting is for admins; you are a {}", s.user.role)).into())
}

/// Walks `kind` of the session's org in keyset pages inside one read transaction, handing
/// each record (in [`Kind::columns`] order) to `each`. Exports are for admins.
pub fn export<E: From<crate::StoreError>>(
    store: &mut Store,
    s: &Session,
    kind: Kind,
    mut each: impl FnMut(&[Val]) -> Result<(), E>,
) -> Result<u64, E> {
    may_export(s)?;
    let mut failure = None;
    let count = store
        .read(|tx| {
            let mut n = 0u64;
            walk(tx, s.org.id, kind, &mut |rec| match each(rec) {
                Ok(()) => {
                    n += 1;
                    true
                }
                Err(e) => {
                    failure = Some(e);
                    false
                }
            })?;
            Ok(n)
        })
        .map_err(E::from)?;
    match failure {
        Some(e) => Err(e),
        None => Ok(count),
    }
}

/// The paging loop; `each` returns false to stop early (a closed pipe, say).
fn walk(tx: &mut dyn Sql, org: OrgId, kind: Kind, each: &mut dyn FnMut(&[Val]) -> bool) -> StoreResult<()> {
    let sql = page_sql(kind);
    let per_deal = matches!(kind, Kind::Interactions | Kind::Decisions);
    let (mut after, mut after_seq) = (0i64, 0i64);
    loop {
        let params = [org.0.into(), after.into(), after_seq.into()];
        let rows = tx.query(&sql, &params[..if per_deal { 3 } else { 2 }])?;
        let full = rows.len() as i64 == PAGE;
        for row in rows {
            after = row.int(0)?;
            if per_deal {
                after_seq = row.int(2)?;
            }
            let rec = record(kind, row)?;
            if !each(&rec) {
                return Ok(());
            }
        }
        if !full {
            return Ok(());
        }
    }
}
