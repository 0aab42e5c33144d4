//! Rows to domain values and back. Timestamps are stored as UTC seconds, dates as ISO text.

use jiff::civil::Date;
use jiff::Timestamp;
use momentum_core::model::*;
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::*;

use crate::error::{StoreError, StoreResult};
use crate::sql::{Row, Val};

pub(crate) fn ts(v: Timestamp) -> Val {
    Val::Int(v.as_second())
}

pub(crate) fn opt_ts(v: Option<Timestamp>) -> Val {
    v.map_or(Val::Null, ts)
}

pub(crate) fn date(v: Date) -> Val {
    Val::Text(v.to_string())
}

pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub(crate) fn read_ts(row: &Row, i: usize) -> StoreResult<Timestamp> {
    let s = row.int(i)?;
    Timestamp::from_second(s).map_err(|e| corrupt(format!("timestamp {s}: {e}")))
}

pub(crate) fn read_opt_ts(row: &Row, i: usize) -> StoreResult<Option<Timestamp>> {
    match row.opt_int(i)? {
        None => Ok(None),
        Some(_) => read_ts(row, i).map(Some),
    }
}

pub(crate) fn read_date(row: &Row, i: usize) -> StoreResult<Date> {
    let s = row.text(i)?;
    s.parse().map_err(|e| corrupt(format!("date {s:?}: {e}")))
}

pub(crate) fn read_opt_date(row: &Row, i: usize) -> StoreResult<Option<Date>> {
    match row.opt_text(i)? {
        None => Ok(None),
        Some(_) => read_date(row, i).map(Some),
    }
}

/// Parses a stored vocabulary word; a bad one means the data was edited by hand.
pub(crate) fn word<T>(row: &Row, i: usize, parse: fn(&str, &str) -> momentum_core::Result<T>) -> StoreResult<T> {
    let s = row.text(i)?;
    parse("stored value", s).map_err(corrupt)
}

pub(crate) fn currency(row: &Row, i: usize) -> StoreResult<Currency> {
    word(row, i, Currency::parse)
}

pub(crate) fn step(row: &Row, i: usize) -> StoreResult<Step> {
    let n = row.int(i)?;
    u8::try_from(n)
        .map(Step)
        .map_err(|_| corrupt(format!("ladder step {n}")))
}

pub(crate) fn count(row: &Row, i: usize) -> StoreResult<u32> {
    let n = row.int(i)?;
    u32::try_from(n).map_err(|_| corrupt(format!("count {n}")))
}

// ---------------------------------------------------------------------------------------
// Users

pub(crate) const USER_COLS: &str = "user_id, email, name, role, manager_id, active, created_at";

pub(crate) fn user(row: &Row) -> StoreResult<User> {
    Ok(User {
        id: UserId(row.int(0)?),
        email: Email::parse("stored email", row.text(1)?).map_err(corrupt)?,
        name: row.text(2)?.to_owned(),
        role: word(row, 3, Role::parse)?,
        manager: row.opt_int(4)?.map(UserId),
        active: row.bool(5)?,
        created_at: read_ts(row, 6)?,
    })
}

// ---------------------------------------------------------------------------------------
// Deals

/// Columns of a deal with its owner, next step, need and display names, in [`deal`]'s order.
pub(crate) const DEAL_SELECT: &str = "SELECT d.deal_id, d.owner_id, u.manager_id, u.role, u.active, \
     d.account_id, d.contact_id, d.title, d.value_minor, d.currency, d.expected_close_on, \
     d.stage, d.status, d.closed_at, d.lost_category, d.close_words, d.version, d.created_at, \
     d.interaction_count, d.decision_count, d.last_touch_at, d.last_buyer_response_at, \
     d.last_decision_at, d.provenance, d.external_id, \
     n.due_at, n.kind, n.aims_at, n.buyer_committed, n.set_at, n.set_by, \
     c.kind, c.buyer_words, c.consequence, c.matters_on, c.cost_per_month_minor, c.cost_currency, \
     c.recorded_at, c.recorded_by, u.name, u.email, a.name, \
     d.peak_stage, d.unanswered, d.longest_unanswered \
     FROM deals d \
     JOIN users u ON u.org_id = d.org_id AND u.user_id = d.owner_id \
     LEFT JOIN accounts a ON a.org_id = d.org_id AND a.account_id = d.account_id \
     LEFT JOIN next_steps n ON n.org_id = d.org_id AND n.deal_id = d.deal_id \
     LEFT JOIN compelling_needs c ON c.org_id = d.org_id AND c.deal_id = d.deal_id";

/// A deal as loaded, with the names shown beside it.
#[derive(Debug, Clone)]
pub struct DealRow {
    pub deal: Deal,
    pub owner_name: String,
    pub owner_email: String,
    pub account_name: Option<String>,
}

pub(crate) fn deal(row: &Row) -> StoreResult<DealRow> {
    let id = DealId(row.int(0)?);
    let status = word(row, 12, DealStatus::parse)?;
    let closed_at = read_opt_ts(row, 13);
    let state = match status {
        DealStatus::Open => {
            if row.opt_int(25)?.is_none() {
                return Err(corrupt(format!("open deal {id} has no next step")));
            }
            DealState::Open {
                next_step: NextStep {
                    due: read_ts(row, 25)?,
                    kind: word(row, 26, InteractionKind::parse)?,
                    aims_at: step(row, 27)?,
                    buyer_committed: row.bool(28)?,
                    set_at: read_ts(row, 29)?,
                    set_by: row.opt_int(30)?.map(UserId),
                },
            }
        }
        DealStatus::Won => DealState::Won {
            at: closed_at?.ok_or_else(|| corrupt(format!("won deal {id} has no close time")))?,
        },
        DealStatus::Lost => DealState::Lost {
            at: closed_at?.ok_or_else(|| corrupt(format!("lost deal {id} has no close time")))?,
            category: word(row, 14, LostCategory::parse)?,
            buyer_words: row.opt_text(15)?.unwrap_or_default().to_owned(),
        },
        DealStatus::Disqualified => DealState::Disqualified {
            at: closed_at?.ok_or_else(|| corrupt(format!("disqualified deal {id} has no close time")))?,
            reason: row.opt_text(15)?.unwrap_or_default().to_owned(),
        },
    };
    let need = match row.opt_text(31)? {
        None => None,
        Some(_) => Some(CompellingNeed {
            kind: word(row, 31, NeedKind::parse)?,
            buyer_words: row.text(32)?.to_owned(),
            consequence: row.text(33)?.to_owned(),
            matters_by: read_date(row, 34)?,
            cost_per_month: Money::new(row.int(35)?, currency(row, 36)?),
            recorded_at: read_ts(row, 37)?,
            recorded_by: UserId(row.int(38)?),
        }),
    };
    let deal = Deal {
        id,
        owner: Owner {
            id: UserId(row.int(1)?),
            manager: row.opt_int(2)?.map(UserId),
            role: word(row, 3, Role::parse)?,
            active: row.bool(4)?,
        },
        account: row.opt_int(5)?.map(AccountId),
        contact: row.opt_int(6)?.map(ContactId),
        title: row.text(7)?.to_owned(),
        value_minor: row.opt_int(8)?,
        currency: currency(row, 9)?,
        expected_close: read_opt_date(row, 10)?,
        stage: step(row, 11)?,
        state,
        need,
        version: row.int(16)?,
        created_at: read_ts(row, 17)?,
        interaction_count: count(row, 18)?,
        decision_count: count(row, 19)?,
        last_touch_at: read_opt_ts(row, 20)?,
        last_buyer_response_at: read_opt_ts(row, 21)?,
        last_decision_at: read_opt_ts(row, 22)?,
        provenance: row.opt_text(23)?.map(str::to_owned),
        external_id: row.opt_text(24)?.map(str::to_owned),
        peak_stage: step(row, 42)?,
        unanswered: count(row, 43)?,
        longest_unanswered: count(row, 44)?,
    };
    Ok(DealRow {
        deal,
        owner_name: row.text(39)?.to_owned(),
        owner_email: row.text(40)?.to_owned(),
        account_name: row.opt_text(41)?.map(str::to_owned),
    })
}

/// The stored columns of a deal row, in [`DEAL_INSERT`]'s order.
pub(crate) fn deal_values(org: OrgId, d: &Deal) -> Vec<Val> {
    let (closed_at, lost_category, close_words) = match &d.state {
        DealState::Open { .. } => (None, None, None),
        DealState::Won { at } => (Some(*at), None, None),
        DealState::Lost {
            at,
            category,
            buyer_words,
        } => (Some(*at), Some(category.as_str()), Some(buyer_words.clone())),
        DealState::Disqualified { at, reason } => (Some(*at), None, Some(reason.clone())),
    };
    vec![
        org.0.into(),
        d.id.0.into(),
        d.owner.id.0.into(),
        d.account.map(|a| a.0).into(),
        d.contact.map(|c| c.0).into(),
        d.title.as_str().into(),
        d.value_minor.into(),
        d.currency.code().into(),
        d.expected_close.map_or(Val::Null, date),
        d.stage.0.into(),
        d.status().as_str().into(),
        opt_ts(closed_at),
        lost_category.into(),
        close_words.into(),
        d.version.into(),
        ts(d.created_at),
        d.interaction_count.into(),
        d.decision_count.into(),
        opt_ts(d.last_touch_at),
        opt_ts(d.last_buyer_response_at),
        opt_ts(d.last_decision_at),
        d.provenance.clone().into(),
        d.external_id.clone().into(),
        d.peak_stage.0.into(),
        d.unanswered.into(),
        d.longest_unanswered.into(),
        d.next_step().map_or(Val::Null, |n| ts(n.due)),
        d.next_step().map(|n| n.buyer_committed).into(),
        d.need.as_ref().map_or(Val::Null, |n| date(n.matters_by)),
        d.next_step().map(|n| n.kind.as_str()).into(),
        d.next_step().map(|n| n.aims_at.0).into(),
    ]
}

pub(crate) const DEAL_COLUMNS: &[&str] = &[
    "org_id",
    "deal_id",
    "owner_id",
    "account_id",
    "contact_id",
    "title",
    "value_minor",
    "currency",
    "expected_close_on",
    "stage",
    "status",
    "closed_at",
    "lost_category",
    "close_words",
    "version",
    "created_at",
    "interaction_count",
    "decision_count",
    "last_touch_at",
    "last_buyer_response_at",
    "last_decision_at",
    "provenance",
    "external_id",
    "peak_stage",
    "unanswered",
    "longest_unanswered",
    "next_due_at",
    "next_buyer_committed",
    "need_on",
    "next_kind",
    "next_aims_at",
];

pub(crate) const NEXT_STEP_COLUMNS: &[&str] = &[
    "org_id",
    "deal_id",
    "due_at",
    "kind",
    "aims_at",
    "buyer_committed",
    "set_at",
    "set_by",
];

pub(crate) fn next_step_values(org: OrgId, deal: DealId, n: &NextStep) -> Vec<Val> {
    vec![
        org.0.into(),
        deal.0.into(),
        ts(n.due),
        n.kind.as_str().into(),
        n.aims_at.0.into(),
        n.buyer_committed.into(),
        ts(n.set_at),
        n.set_by.map(|u| u.0).into(),
    ]
}

pub(crate) const NEED_COLUMNS: &[&str] = &[
    "org_id",
    "deal_id",
    "kind",
    "buyer_words",
    "consequence",
    "matters_on",
    "cost_per_month_minor",
    "cost_currency",
    "recorded_at",
    "recorded_by",
];

pub(crate) fn need_values(org: OrgId, deal: DealId, n: &CompellingNeed) -> Vec<Val> {
    vec![
        org.0.into(),
        deal.0.into(),
        n.kind.as_str().into(),
        n.buyer_words.as_str().into(),
        n.consequence.as_str().into(),
        date(n.matters_by),
        n.cost_per_month.minor.into(),
        n.cost_per_month.currency.code().into(),
        ts(n.recorded_at),
        n.recorded_by.0.into(),
    ]
}

pub(crate) const DECISION_COLUMNS: &[&str] = &[
    "org_id",
    "deal_id",
    "seq",
    "from_stage",
    "to_stage",
    "direction",
    "contact_id",
    "decided_at",
    "recorded_by",
    "interaction_seq",
    "note",
];

pub(crate) fn decision_values(org: OrgId, deal: DealId, d: &Decision) -> Vec<Val> {
    vec![
        org.0.into(),
        deal.0.into(),
        d.seq.into(),
        d.from.0.into(),
        d.to.0.into(),
        d.direction.as_str().into(),
        d.contact.map(|c| c.0).into(),
        ts(d.decided_at),
        d.recorded_by.map(|u| u.0).into(),
        d.interaction_seq.into(),
        d.note.clone().into(),
    ]
}

pub(crate) fn decision(row: &Row) -> StoreResult<Decision> {
    Ok(Decision {
        seq: count(row, 2)?,
        from: step(row, 3)?,
        to: step(row, 4)?,
        direction: word(row, 5, Direction::parse)?,
        contact: row.opt_int(6)?.map(ContactId),
        decided_at: read_ts(row, 7)?,
        recorded_by: row.opt_int(8)?.map(UserId),
        interaction_seq: row.opt_int(9)?.map(|n| n as u32),
        note: row.opt_text(10)?.map(str::to_owned),
    })
}

pub(crate) const INTERACTION_COLUMNS: &[&str] = &[
    "org_id",
    "deal_id",
    "seq",
    "user_id",
    "contact_id",
    "kind",
    "objective",
    "result",
    "commitment",
    "notes",
    "occurred_at",
    "recorded_at",
];

pub(crate) fn interaction_values(org: OrgId, deal: DealId, i: &Interaction) -> Vec<Val> {
    vec![
        org.0.into(),
        deal.0.into(),
        i.seq.into(),
        i.user.0.into(),
        i.contact.map(|c| c.0).into(),
        i.kind.as_str().into(),
        i.objective.0.into(),
        i.result.as_str().into(),
        i.commitment.as_str().into(),
        i.notes.as_str().into(),
        ts(i.occurred_at),
        ts(i.recorded_at),
    ]
}

pub(crate) fn interaction(row: &Row) -> StoreResult<Interaction> {
    Ok(Interaction {
        seq: count(row, 2)?,
        user: UserId(row.int(3)?),
        contact: row.opt_int(4)?.map(ContactId),
        kind: word(row, 5, InteractionKind::parse)?,
        objective: step(row, 6)?,
        result: word(row, 7, Outcome::parse)?,
        commitment: word(row, 8, Commitment::parse)?,
        notes: row.text(9)?.to_owned(),
        occurred_at: read_ts(row, 10)?,
        recorded_at: read_ts(row, 11)?,
    })
}

/// `INSERT INTO table (cols) VALUES ($1, ...)`.
pub(crate) fn insert_sql(table: &str, columns: &[&str]) -> String {
    let params: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        columns.join(", "),
        params.join(", ")
    )
}

/// An insert that replaces the row with the same key (`key` columns lead `columns`).
pub(crate) fn upsert_sql(table: &str, columns: &[&str], key: usize) -> String {
    let sets: Vec<String> = columns[key..].iter().map(|c| format!("{c} = excluded.{c}")).collect();
    format!(
        "{} ON CONFLICT ({}) DO UPDATE SET {}",
        insert_sql(table, columns),
        columns[..key].join(", "),
        sets.join(", ")
    )
}
