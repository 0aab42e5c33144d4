//! The counting behind the coaching reports: each report's GROUP BY queries, run in one
//! read transaction, with the counts handed to `momentum_core::reports` for meaning.
//!
//! Reports must answer in under a second over a million deals and ten million
//! interactions, so nothing here reads the interaction log or loads every deal: activity
//! reports read `interaction_facts` (a count per seller, month, stage, objective, result
//! and ending, kept in the transaction of every logged interaction), deal reports group
//! deal rows through covering indexes (migration 0003) and read the per-deal counters the
//! core keeps (peak stage, unanswered follow-ups).

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use momentum_core::cholesterol;
use momentum_core::model::*;
use momentum_core::reports::{self as core, *};
use momentum_core::vocab::{Commitment, DealStatus, Outcome};
use momentum_core::DomainError;

use crate::error::StoreResult;
use crate::map::{self, corrupt};
use crate::ops::{self, Session};
use crate::sql::{Sql, Val};
use crate::Store;

// ---------------------------------------------------------------------------------------
// The maintained interaction summary

const FACT_UPSERT: &str = "INSERT INTO interaction_facts \
    (org_id, user_id, month, stage_before, objective, result, commitment, interactions) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
    ON CONFLICT (org_id, user_id, month, stage_before, objective, result, commitment) \
    DO UPDATE SET interactions = interaction_facts.interactions + EXCLUDED.interactions";

pub(crate) const FACT_COLUMNS: &[&str] = &[
    "org_id",
    "user_id",
    "month",
    "stage_before",
    "objective",
    "result",
    "commitment",
    "interactions",
];

pub(crate) fn fact_values(org: OrgId, f: &InteractionFact, n: i64) -> Vec<Val> {
    vec![
        org.0.into(),
        f.user.0.into(),
        f.month.to_string().into(),
        f.stage_before.0.into(),
        f.objective.0.into(),
        f.result.as_str().into(),
        f.commitment.as_str().into(),
        n.into(),
    ]
}

pub(crate) fn org_tz(org: &Org) -> TimeZone {
    TimeZone::get(&org.timezone).unwrap_or(TimeZone::UTC)
}

/// Counts the interaction `change` logs (if any), in the command's transaction.
pub(crate) fn count_interaction(tx: &mut dyn Sql, org: &Org, change: &DealChange) -> StoreResult<()> {
    if let Some(fact) = interaction_fact(change, &org_tz(org)) {
        tx.exec(FACT_UPSERT, &fact_values(org.id, &fact, 1))?;
    }
    Ok(())
}

const DAY_UPSERT: &str = "INSERT INTO deal_days (org_id, owner_id, day, created, won, won_value_minor) \
    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, owner_id, day) DO UPDATE SET \
    created = deal_days.created + EXCLUDED.created, won = deal_days.won + EXCLUDED.won, \
    won_value_minor = deal_days.won_value_minor + EXCLUDED.won_value_minor";

pub(crate) const DAY_COLUMNS: &[&str] = &["org_id", "owner_id", "day", "created", "won", "won_value_minor"];

fn day_values(org: OrgId, c: &DayCount) -> Vec<Val> {
    vec![
        org.0.into(),
        c.owner.0.into(),
        c.day.into(),
        c.created.into(),
        c.won.into(),
        c.won_value_minor.into(),
    ]
}

const PEAK_UPSERT: &str = "INSERT INTO closed_peaks (org_id, owner_id, peak_stage, won, held_back, deals) \
    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, owner_id, peak_stage, won, held_back) \
    DO UPDATE SET deals = closed_peaks.deals + EXCLUDED.deals";

pub(crate) const PEAK_COLUMNS: &[&str] = &["org_id", "owner_id", "peak_stage", "won", "held_back", "deals"];

fn peak_values(org: OrgId, p: &ClosedPeak, deals: i64) -> Vec<Val> {
    vec![
        org.0.into(),
        p.owner.0.into(),
        p.peak.0.into(),
        i64::from(p.won).into(),
        i64::from(p.held_back).into(),
        deals.into(),
    ]
}

/// Counts what this write of a deal adds to the deal summaries: its creation or win into
/// its seller's day, its close into the closed deals by peak step.
pub(crate) fn count_deal(tx: &mut dyn Sql, org: &Org, before: Option<&Deal>, after: &Deal) -> StoreResult<()> {
    for c in day_counts(before, after, &org_tz(org), org.currency) {
        tx.exec(DAY_UPSERT, &day_values(org.id, &c))?;
    }
    if let Some(p) = closed_peak(before, after) {
        tx.exec(PEAK_UPSERT, &peak_values(org.id, &p, 1))?;
    }
    Ok(())
}

/// Closed deals of a bulk load by peak, summed before they are written once.
#[derive(Debug, Default)]
pub(crate) struct PeakTally(HashMap<ClosedPeak, i64>);

impl PeakTally {
    pub(crate) fn add(&mut self, peak: Option<ClosedPeak>) {
        if let Some(p) = peak {
            *self.0.entry(p).or_default() += 1;
        }
    }

    pub(crate) fn rows(&self, org: OrgId) -> Vec<Vec<Val>> {
        let mut peaks: Vec<_> = self.0.iter().collect();
        peaks.sort();
        peaks.into_iter().map(|(p, n)| peak_values(org, p, *n)).collect()
    }
}

/// Day counts of bulk-written deals, summed before they are written once.
#[derive(Debug, Default)]
pub(crate) struct DayTally(HashMap<(UserId, i64), DayCount>);

impl DayTally {
    pub(crate) fn add(&mut self, counts: Vec<DayCount>) {
        for c in counts {
            let t = self.0.entry((c.owner, c.day)).or_insert(DayCount {
                created: 0,
                won: 0,
                won_value_minor: 0,
                ..c
            });
            t.created += c.created;
            t.won += c.won;
            t.won_value_minor += c.won_value_minor;
        }
    }

    pub(crate) fn rows(&self, org: OrgId) -> Vec<Vec<Val>> {
        let mut keys: Vec<_> = self.0.keys().collect();
        keys.sort();
        keys.into_iter().map(|k| day_values(org, &self.0[k])).collect()
    }
}

/// Rebuilds the org's report summaries from its rows, in the caller's transaction: after a
/// write path that does not go through the per-command counting (an import, which may
/// also update existing deals). Days and months use the org's UTC offset at `now`.
pub(crate) fn recount(tx: &mut dyn Sql, org: &Org, now: jiff::Timestamp) -> StoreResult<()> {
    let id = org.id.0;
    let offset = i64::from(org_tz(org).to_offset(now).seconds());
    let month = match tx.backend() {
        crate::Backend::Sqlite => format!("strftime('%Y-%m', i.occurred_at + {offset}, 'unixepoch')"),
        crate::Backend::Postgres => {
            format!("to_char(to_timestamp(i.occurred_at + {offset}) AT TIME ZONE 'UTC', 'YYYY-MM')")
        }
    };
    let currency = org.currency.code();
    for sql in [
        format!("DELETE FROM interaction_facts WHERE org_id = {id}"),
        format!("DELETE FROM deal_days WHERE org_id = {id}"),
        format!("DELETE FROM closed_peaks WHERE org_id = {id}"),
        format!(
            "INSERT INTO interaction_facts \
             SELECT i.org_id, i.user_id, {month}, \
                COALESCE( \
                    (SELECT d.from_stage FROM decisions d \
                     WHERE d.org_id = i.org_id AND d.deal_id = i.deal_id AND d.interaction_seq = i.seq), \
                    (SELECT d.to_stage FROM decisions d \
                     WHERE d.org_id = i.org_id AND d.deal_id = i.deal_id AND d.decided_at <= i.occurred_at \
                     ORDER BY d.seq DESC LIMIT 1), \
                    0), \
                i.objective, i.result, i.commitment, COUNT(*) \
             FROM interactions i WHERE i.org_id = {id} GROUP BY 1, 2, 3, 4, 5, 6, 7"
        ),
        format!(
            "INSERT INTO deal_days (org_id, owner_id, day, created, won, won_value_minor) \
             SELECT org_id, owner_id, day, SUM(created), SUM(won), SUM(v) FROM ( \
                SELECT org_id, owner_id, (created_at + {offset}) / 86400 AS day, 1 AS created, 0 AS won, 0 AS v \
                FROM deals WHERE org_id = {id} \
                UNION ALL \
                SELECT org_id, owner_id, (closed_at + {offset}) / 86400, 0, 1, \
                    CASE WHEN currency = '{currency}' THEN COALESCE(value_minor, 0) ELSE 0 END \
                FROM deals WHERE org_id = {id} AND status = 'won' \
             ) x GROUP BY org_id, owner_id, day"
        ),
        format!(
            "INSERT INTO closed_peaks (org_id, owner_id, peak_stage, won, held_back, deals) \
             SELECT org_id, owner_id, peak_stage, CASE WHEN status = 'won' THEN 1 ELSE 0 END, \
                CASE WHEN deal_id % {HELD_BACK_EVERY} = 0 THEN 1 ELSE 0 END, COUNT(*) \
             FROM deals WHERE org_id = {id} AND status <> 'open' GROUP BY 1, 2, 3, 4, 5"
        ),
    ] {
        tx.exec(&sql, &[])?;
    }
    Ok(())
}

/// Facts of bulk-written histories, summed before they are written once.
#[derive(Debug, Default)]
pub(crate) struct FactTally(HashMap<InteractionFact, i64>);

impl FactTally {
    pub(crate) fn add(&mut self, facts: Vec<InteractionFact>) {
        for f in facts {
            *self.0.entry(f).or_default() += 1;
        }
    }

    pub(crate) fn rows(&self, org: OrgId) -> Vec<Vec<Val>> {
        let mut facts: Vec<_> = self.0.iter().collect();
        facts.sort();
        facts.into_iter().map(|(f, n)| fact_values(org, f, *n)).collect()
    }
}

// ---------------------------------------------------------------------------------------
// Running a report

/// Runs report `name` for the session's user: checks the request (defaults from `now`;
/// `stale_days` is the org's cholesterol threshold), resolves who is covered, counts in
/// one read transaction.
pub fn report(
    store: &mut Store,
    s: &Session,
    name: ReportName,
    request: &ReportRequest<'_>,
    stale_days: u32,
    now: Now,
) -> StoreResult<Report> {
    let params = request.check(now.today, stale_days)?;
    let users = ops::users(store, s)?;
    let scope = core::scope(&s.actor(), &users, request.seller, request.team)?;
    let ctx = Context {
        ladder: &s.org.ladder,
        cadence: &s.org.cadence,
        currency: s.org.currency,
        today: now.today,
    };
    let q = Q::new(s, &scope, now);
    store.read(|tx| {
        Ok(match name {
            ReportName::Summary => Report::Summary(summary(tx, &q, &ctx, &scope, &params)?),
            ReportName::MonthGap => Report::MonthGap(month_gap(tx, &q, &ctx, &scope, &params)?),
            ReportName::Cholesterol => Report::Cholesterol(cholesterol(tx, &q, &ctx, &scope, &params)?),
            ReportName::GiveUp => Report::GiveUp(give_up(tx, &q, &ctx, &scope, &params)?),
            ReportName::CloseTiming => Report::CloseTiming(close_timing(tx, &q, &ctx, &scope, &params)?),
            ReportName::Results => {
                let facts = facts(tx, &q, &params.window)?;
                Report::Results(core::results(&ctx, &scope, &params.window, &facts))
            }
            ReportName::Prospecting => Report::Prospecting(prospecting(tx, &q, &ctx, &scope, &params)?),
            ReportName::Calibration => Report::Calibration(calibration(tx, &q, &ctx, &scope, &params)?),
            ReportName::WinProbability => Report::WinProbability(win_probability(tx, &q, &ctx, &scope, &params)?),
        })
    })
}

/// What every query of one report run shares.
struct Q {
    org: OrgId,
    currency: String,
    tz: TimeZone,
    now: Now,
    /// The org's UTC offset now, in seconds: timestamps are grouped into the org's days.
    offset: i64,
    /// `IN (...)` over the covered users, or `None` for the whole org.
    owners: Option<String>,
}

impl Q {
    fn new(s: &Session, scope: &Scope, now: Now) -> Q {
        let tz = org_tz(&s.org);
        let offset = i64::from(tz.to_offset(now.at).seconds());
        let owners = (!scope.whole_org).then(|| {
            let ids: Vec<String> = scope.users.iter().map(|u| u.id.0.to_string()).collect();
            // An empty scope matches no one (user ids start at 1).
            format!("IN ({})", if ids.is_empty() { "0".to_owned() } else { ids.join(", ") })
        });
        Q {
            org: s.org.id,
            currency: s.org.currency.code().to_owned(),
            tz,
            now,
            offset,
            owners,
        }
    }

    /// ` AND {column} IN (...)` when the report covers only some users.
    fn owned(&self, column: &str) -> String {
        self.owners
            .as_ref()
            .map_or_else(String::new, |ids| format!(" AND {column} {ids}"))
    }

    /// The first instant of `date` in the org's time zone, as stored.
    fn start_of(&self, date: Date) -> StoreResult<i64> {
        date.to_zoned_datetime(self.tz.clone())
            .map(|z| z.timestamp().as_second())
            .map_err(|e| corrupt(format!("start of {date}: {e}")))
    }

    /// The date of a day number (days since 1970-01-01 in the org's calendar).
    fn date_of_day(day: i64) -> Date {
        jiff::civil::date(1970, 1, 1) + jiff::Span::new().days(day)
    }

    /// `expr` (a stored timestamp) as a day number in the org's calendar.
    fn day(&self, expr: &str) -> String {
        format!("(({expr} + {}) / 86400)", self.offset)
    }

    /// The value of a deal in the org currency (other currencies count as no value).
    fn value(&self, alias: &str) -> String {
        format!(
            "(CASE WHEN {alias}.currency = '{}' THEN COALESCE({alias}.value_minor, 0) ELSE 0 END)",
            self.currency
        )
    }
}

/// Query parameters numbered as they are pushed.
struct Params(Vec<Val>);

impl Params {
    fn new(org: OrgId) -> Params {
        Params(vec![org.0.into()])
    }

    fn p(&mut self, v: impl Into<Val>) -> String {
        self.0.push(v.into());
        format!("${}", self.0.len())
    }
}

/// ` AND {column} >= $a AND {column} < $b` for a window over a stored timestamp.
fn window_sql(q: &Q, p: &mut Params, column: &str, w: &Window) -> StoreResult<String> {
    let mut sql = String::new();
    if let Some(from) = w.from {
        sql += &format!(" AND {column} >= {}", p.p(q.start_of(from)?));
    }
    if let Some(to) = w.to {
        let next = to.tomorrow().map_err(corrupt)?;
        sql += &format!(" AND {column} < {}", p.p(q.start_of(next)?));
    }
    Ok(sql)
}

fn uid(v: i64) -> UserId {
    UserId(v)
}

fn step(v: i64) -> StoreResult<Step> {
    u8::try_from(v).map(Step).map_err(|_| corrupt(format!("step {v}")))
}

// ---------------------------------------------------------------------------------------
// The reports

fn summary(tx: &mut dyn Sql, q: &Q, ctx: &Context<'_>, scope: &Scope, params: &ReportParams) -> StoreResult<Summary> {
    // Two passes, each over one covering index in its own order: by seller and status
    // (deals_for_summary), and won deals' days to close (deals_by_close).
    let mut p = Params::new(q.org);
    let window = window_sql(q, &mut p, "d.created_at", &params.window)?;
    let sql = format!(
        "SELECT d.owner_id, d.status, COUNT(*), CAST(SUM({}) AS BIGINT) FROM deals d \
         WHERE d.org_id = $1{}{window} GROUP BY d.owner_id, d.status",
        q.value("d"),
        q.owned("d.owner_id"),
    );
    let counts = tx
        .query(&sql, &p.0)?
        .iter()
        .map(|r| {
            Ok(SummaryCount {
                owner: uid(r.int(0)?),
                status: DealStatus::parse("status", r.text(1)?)?,
                tally: Tally {
                    deals: r.int(2)?,
                    value_minor: r.int(3)?,
                },
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let sql = format!(
        "SELECT (d.closed_at - d.created_at) / 86400, COUNT(*) FROM deals d \
         WHERE d.org_id = $1 AND d.status = 'won'{}{window} GROUP BY 1",
        q.owned("d.owner_id"),
    );
    let mut days = Histogram::new();
    for r in tx.query(&sql, &p.0)? {
        days.insert(r.int(0)?, r.int(1)?);
    }
    Ok(core::summary(ctx, scope, &counts, &days))
}

/// Open deals, read from their covering index (`deals_open`), which holds each one's next
/// step (`next_due_at`, `next_buyer_committed`) and need date (`need_on`).
const OPEN_DEALS: &str = "FROM deals d WHERE d.org_id = $1 AND d.status = 'open'";

fn cholesterol(
    tx: &mut dyn Sql,
    q: &Q,
    ctx: &Context<'_>,
    scope: &Scope,
    params: &ReportParams,
) -> StoreResult<Cholesterol> {
    let mut p = Params::new(q.org);
    // cholesterol::flags: stale when more than `stale_days` whole days have passed.
    let stale_before = p.p(q.now.at.as_second() - (i64::from(params.stale_days) + 1) * 86_400 + 1);
    let now = p.p(q.now.at.as_second());
    let v = q.value("d");
    let part = |cond: &str| {
        format!(", SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), CAST(SUM(CASE WHEN {cond} THEN {v} ELSE 0 END) AS BIGINT)")
    };
    let sql = format!(
        "SELECT d.owner_id, COUNT(*), CAST(SUM({v}) AS BIGINT){}{}{}{}{} {OPEN_DEALS}{} GROUP BY d.owner_id",
        part("d.need_on IS NULL"),
        part("d.need_on IS NULL AND d.expected_close_on IS NULL"),
        part(&format!("COALESCE(d.last_decision_at, d.created_at) < {stale_before}")),
        part("NOT d.next_buyer_committed"),
        part(&format!("d.next_due_at < {now}")),
        q.owned("d.owner_id"),
    );
    let mut counts = BTreeMap::new();
    for r in tx.query(&sql, &p.0)? {
        let t = |i: usize| -> StoreResult<Tally> {
            Ok(Tally {
                deals: r.int(i)?,
                value_minor: r.int(i + 1)?,
            })
        };
        counts.insert(
            uid(r.int(0)?),
            CholesterolCount {
                open: t(1)?,
                no_need: t(3)?,
                no_date: t(5)?,
                stale: t(7)?,
                seller_scheduled_only: t(9)?,
                overdue: t(11)?,
            },
        );
    }
    let ids = tx.query(
        &format!(
            "SELECT d.deal_id {OPEN_DEALS} AND d.need_on IS NULL{} ORDER BY {v} DESC, d.deal_id LIMIT {}",
            q.owned("d.owner_id"),
            params.limit
        ),
        &[q.org.0.into()],
    )?;
    let flagged = load_deals(
        tx,
        q.org,
        &ids.iter().map(|r| r.int(0)).collect::<StoreResult<Vec<_>>>()?,
    )?
    .into_iter()
    .map(|d| FlaggedDeal {
        flags: cholesterol::flags(&d, q.now, params.stale_days),
        id: d.id,
        title: d.title,
        owner: d.owner.id,
        stage: d.stage,
        value_minor: d.value_minor,
    })
    .collect::<Vec<_>>();
    Ok(core::cholesterol(ctx, scope, params.stale_days, &counts, &flagged))
}

/// The deals with these ids, in the order given.
fn load_deals(tx: &mut dyn Sql, org: OrgId, ids: &[i64]) -> StoreResult<Vec<Deal>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let sql = format!(
        "{} WHERE d.org_id = $1 AND d.deal_id IN ({})",
        map::DEAL_SELECT,
        list.join(", ")
    );
    let mut by_id: HashMap<i64, Deal> = tx
        .query(&sql, &[org.0.into()])?
        .iter()
        .map(|r| map::deal(r).map(|d| (d.deal.id.0, d.deal)))
        .collect::<StoreResult<_>>()?;
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

fn give_up(tx: &mut dyn Sql, q: &Q, ctx: &Context<'_>, scope: &Scope, params: &ReportParams) -> StoreResult<GiveUp> {
    let dark_after = i64::from(dark_after_days(ctx.cadence));
    let mut counts = BTreeMap::<UserId, GiveUpCounts>::new();

    let mut p = Params::new(q.org);
    let cutoff = p.p(q.now.at.as_second() - dark_after * 86_400);
    let touched = "COALESCE(d.last_touch_at, d.created_at)";
    let window = window_sql(q, &mut p, touched, &params.window)?;
    let now = p.p(q.now.at.as_second());
    // Dark: untouched that long, and no buyer commitment ahead: the step lapsed, or it is
    // only the seller's (a buyer-committed meeting weeks away is not silence).
    let sql = format!(
        "SELECT d.owner_id, d.unanswered, d.stage, {}, COUNT(*) {OPEN_DEALS} \
         AND {touched} < {cutoff} AND (d.next_due_at < {now} OR NOT d.next_buyer_committed){}{window} \
         GROUP BY 1, 2, 3, 4",
        q.day(touched),
        q.owned("d.owner_id"),
    );
    for r in tx.query(&sql, &p.0)? {
        let c = counts.entry(uid(r.int(0)?)).or_default();
        let n = r.int(4)?;
        *c.dark_by_followups.entry(r.int(1)?).or_default() += n;
        *c.dark_by_step.entry(step(r.int(2)?)?).or_default() += n;
        *c.dark_by_day.entry(r.int(3)?).or_default() += n;
    }

    let mut p = Params::new(q.org);
    let window = window_sql(q, &mut p, "d.closed_at", &params.window)?;
    let sql = format!(
        "SELECT d.owner_id, d.longest_unanswered, COUNT(*) FROM deals d \
         WHERE d.org_id = $1 AND d.status = 'won'{}{window} GROUP BY 1, 2",
        q.owned("d.owner_id"),
    );
    for r in tx.query(&sql, &p.0)? {
        let c = counts.entry(uid(r.int(0)?)).or_default();
        *c.won_by_longest_run.entry(r.int(1)?).or_default() += r.int(2)?;
    }

    let sql = format!(
        "SELECT d.owner_id, COUNT(*) FROM deals d WHERE d.org_id = $1{} GROUP BY 1",
        q.owned("d.owner_id")
    );
    for r in tx.query(&sql, &[q.org.0.into()])? {
        counts.entry(uid(r.int(0)?)).or_default().deals = r.int(1)?;
    }
    Ok(core::give_up(ctx, scope, &counts))
}

/// The interaction summary's counts for the covered users and the window's months.
fn facts(tx: &mut dyn Sql, q: &Q, window: &Window) -> StoreResult<Vec<FactCount>> {
    let mut p = Params::new(q.org);
    let mut sql = format!(
        "SELECT user_id, month, stage_before, objective, result, commitment, interactions \
         FROM interaction_facts WHERE org_id = $1{}",
        q.owned("user_id")
    );
    if let Some(from) = window.from {
        sql += &format!(" AND month >= {}", p.p(Month::of(from).to_string()));
    }
    if let Some(to) = window.to {
        sql += &format!(" AND month <= {}", p.p(Month::of(to).to_string()));
    }
    tx.query(&sql, &p.0)?
        .iter()
        .map(|r| {
            Ok(FactCount {
                fact: InteractionFact {
                    user: uid(r.int(0)?),
                    month: Month::parse("month", r.text(1)?)?,
                    stage_before: step(r.int(2)?)?,
                    objective: step(r.int(3)?)?,
                    result: Outcome::parse("result", r.text(4)?)?,
                    commitment: Commitment::parse("commitment", r.text(5)?)?,
                },
                interactions: r.int(6)?,
            })
        })
        .collect()
}

fn close_timing(
    tx: &mut dyn Sql,
    q: &Q,
    ctx: &Context<'_>,
    scope: &Scope,
    params: &ReportParams,
) -> StoreResult<CloseTiming> {
    let facts = facts(tx, q, &params.window)?;
    let mut p = Params::new(q.org);
    let now = p.p(q.now.at.as_second());
    let today = p.p(q.now.today.to_string());
    let last = p.p(last_step_before_signing(ctx.ladder).0);
    let sql = format!(
        "SELECT d.owner_id, COUNT(*), CAST(SUM(({now} - COALESCE(d.last_decision_at, d.created_at)) / 86400) AS BIGINT), \
         SUM(CASE WHEN COALESCE(d.expected_close_on, d.need_on) < {today} THEN 1 ELSE 0 END) \
         {OPEN_DEALS} AND d.stage = {last}{} GROUP BY 1",
        q.owned("d.owner_id")
    );
    let waits = tx
        .query(&sql, &p.0)?
        .iter()
        .map(|r| {
            Ok((
                uid(r.int(0)?),
                LastStepWait {
                    waiting: r.int(1)?,
                    days_waiting: r.int(2)?,
                    never: r.int(3)?,
                },
            ))
        })
        .collect::<StoreResult<BTreeMap<_, _>>>()?;
    Ok(core::close_timing(ctx, scope, &params.window, &facts, &waits))
}

/// Deals created and won, with won value, by seller and day (org calendar) in
/// `[from, to)` (day numbers), from the maintained `deal_days`.
fn deal_days(tx: &mut dyn Sql, q: &Q, from: Option<i64>, to: Option<i64>) -> StoreResult<Vec<DayCount>> {
    let mut p = Params::new(q.org);
    let mut sql = format!(
        "SELECT owner_id, day, created, won, won_value_minor FROM deal_days WHERE org_id = $1{}",
        q.owned("owner_id")
    );
    if let Some(f) = from {
        sql += &format!(" AND day >= {}", p.p(f));
    }
    if let Some(t) = to {
        sql += &format!(" AND day < {}", p.p(t));
    }
    tx.query(&sql, &p.0)?
        .iter()
        .map(|r| {
            Ok(DayCount {
                owner: uid(r.int(0)?),
                day: r.int(1)?,
                created: r.int(2)?,
                won: r.int(3)?,
                won_value_minor: r.int(4)?,
            })
        })
        .collect()
}

fn goals(tx: &mut dyn Sql, q: &Q, month: Option<Month>) -> StoreResult<Vec<(UserId, Month, i64)>> {
    let mut p = Params::new(q.org);
    let currency = p.p(q.currency.clone());
    let mut sql = format!(
        "SELECT user_id, month, amount_minor FROM goals WHERE org_id = $1 AND currency = {currency}{}",
        q.owned("user_id")
    );
    if let Some(m) = month {
        sql += &format!(" AND month = {}", p.p(m.to_string()));
    }
    tx.query(&sql, &p.0)?
        .iter()
        .map(|r| Ok((uid(r.int(0)?), Month::parse("month", r.text(1)?)?, r.int(2)?)))
        .collect()
}

/// Closed deals by peak step, outcome and whether they are held back (from the maintained
/// `closed_peaks`), for the whole org (`scoped`: only the covered users).
fn peaks(tx: &mut dyn Sql, q: &Q, scoped: bool) -> StoreResult<Vec<SplitPeakCount>> {
    let sql = format!(
        "SELECT peak_stage, won, held_back, CAST(SUM(deals) AS BIGINT) FROM closed_peaks \
         WHERE org_id = $1{} GROUP BY 1, 2, 3",
        if scoped { q.owned("owner_id") } else { String::new() }
    );
    tx.query(&sql, &[q.org.0.into()])?
        .iter()
        .map(|r| {
            Ok(SplitPeakCount {
                held_back: r.int(2)? == 1,
                count: PeakCount {
                    peak: step(r.int(0)?)?,
                    won: r.int(1)? == 1,
                    deals: r.int(3)?,
                },
            })
        })
        .collect()
}

fn all_closed(split: &[SplitPeakCount]) -> Vec<PeakCount> {
    split.iter().map(|s| s.count).collect()
}

fn month_gap(
    tx: &mut dyn Sql,
    q: &Q,
    ctx: &Context<'_>,
    scope: &Scope,
    params: &ReportParams,
) -> StoreResult<MonthGap> {
    let month = params.month;
    let first = month.first_day();
    let last = first.last_of_month();
    let end = q.start_of(last.tomorrow().map_err(corrupt)?)?;
    let mut counts = MonthGapCounts::default();
    for (user, _, amount) in goals(tx, q, Some(month))? {
        counts.goals.insert(user, amount);
    }
    for c in deal_days(tx, q, Some(epoch_day(first)), Some(epoch_day(last) + 1))? {
        if c.won > 0 {
            let dom = Q::date_of_day(c.day).day();
            *counts.won_by_day.entry((c.owner, dom)).or_default() += c.won_value_minor;
        }
    }

    let mut p = Params::new(q.org);
    let end_p = p.p(end);
    let (first_p, last_p) = (p.p(first.to_string()), p.p(last.to_string()));
    let v = q.value("d");
    let need_in_month = format!("(d.need_on >= {first_p} AND d.need_on <= {last_p})");
    let commit = format!("d.next_buyer_committed AND {need_in_month}");
    let upside = format!("({need_in_month} OR (d.expected_close_on >= {first_p} AND d.expected_close_on <= {last_p}))");
    let sql = format!(
        "SELECT d.owner_id, SUM(CASE WHEN {commit} THEN 1 ELSE 0 END), \
         CAST(SUM(CASE WHEN {commit} THEN {v} ELSE 0 END) AS BIGINT), \
         SUM(CASE WHEN {upside} THEN 1 ELSE 0 END), CAST(SUM(CASE WHEN {upside} THEN {v} ELSE 0 END) AS BIGINT) \
         {OPEN_DEALS} AND d.next_due_at < {end_p}{} GROUP BY 1",
        q.owned("d.owner_id")
    );
    for r in tx.query(&sql, &p.0)? {
        let user = uid(r.int(0)?);
        let tally = |i: usize| -> StoreResult<Tally> {
            Ok(Tally {
                deals: r.int(i)?,
                value_minor: r.int(i + 1)?,
            })
        };
        counts.commit.insert(user, tally(1)?);
        counts.upside.insert(user, tally(3)?);
    }

    let sql = format!(
        "SELECT owner_id, stage, CAST(SUM(value_minor) AS BIGINT) FROM open_pipeline \
         WHERE org_id = $1 AND currency = $2{} GROUP BY 1, 2",
        q.owned("owner_id")
    );
    for r in tx.query(&sql, &[q.org.0.into(), q.currency.clone().into()])? {
        counts.open_by_stage.push((uid(r.int(0)?), step(r.int(1)?)?, r.int(2)?));
    }
    let rates = step_rates(ctx, &all_closed(&peaks(tx, q, false)?));
    Ok(core::month_gap(ctx, scope, month, &counts, &rates))
}

fn prospecting(
    tx: &mut dyn Sql,
    q: &Q,
    ctx: &Context<'_>,
    scope: &Scope,
    params: &ReportParams,
) -> StoreResult<Prospecting> {
    // By default the 26 weeks up to this one.
    let this_week = week_of_day(epoch_day(q.now.today));
    let last_week = params.window.to.map_or(this_week, |d| week_of_day(epoch_day(d)));
    let first_week = params.window.from.map_or(last_week - 25, |d| week_of_day(epoch_day(d)));
    if last_week - first_week >= MAX_PROSPECTING_WEEKS {
        return Err(DomainError::invalid(
            "from",
            week_start(first_week),
            format!("the prospecting window is at most {MAX_PROSPECTING_WEEKS} weeks"),
        )
        .into());
    }
    let mut counts = ProspectingCounts::default();
    let (from, to) = (epoch_day(week_start(first_week)), epoch_day(week_start(last_week + 1)));
    for c in deal_days(tx, q, Some(from), Some(to))? {
        let week = week_of_day(c.day);
        if c.created > 0 {
            *counts.created.entry((c.owner, week)).or_default() += c.created;
        }
        if c.won > 0 {
            *counts.won.entry((c.owner, week)).or_default() += c.won_value_minor;
        }
    }
    let next_month = Month::of(
        Month::of(q.now.today)
            .first_day()
            .last_of_month()
            .tomorrow()
            .map_err(corrupt)?,
    );
    for (user, _, amount) in goals(tx, q, Some(next_month))? {
        counts.next_month_goals.insert(user, amount);
    }
    Ok(core::prospecting(
        ctx, scope, first_week, last_week, next_month, &counts,
    ))
}

fn calibration(
    tx: &mut dyn Sql,
    q: &Q,
    ctx: &Context<'_>,
    scope: &Scope,
    params: &ReportParams,
) -> StoreResult<Calibration> {
    let peaks = all_closed(&peaks(tx, q, true)?);
    let in_window = |m: Month| {
        params.window.from.is_none_or(|f| m >= Month::of(f)) && params.window.to.is_none_or(|t| m <= Month::of(t))
    };
    let mut months = BTreeMap::<(UserId, Month), (Option<i64>, i64, Vec<u8>)>::new();
    for (user, month, amount) in goals(tx, q, None)? {
        months.entry((user, month)).or_default().0 = Some(amount);
    }
    let sql = format!(
        "SELECT user_id, checked_on, commitment FROM check_ins WHERE org_id = $1{}",
        q.owned("user_id")
    );
    for r in tx.query(&sql, &[q.org.0.into()])? {
        let on: Date = r.text(1)?.parse().map_err(|e| corrupt(format!("check-in date: {e}")))?;
        let c = u8::try_from(r.int(2)?).map_err(|_| corrupt("check-in commitment"))?;
        months.entry((uid(r.int(0)?), Month::of(on))).or_default().2.push(c);
    }
    // Months with a goal or a check-in, and the value won in each.
    for c in deal_days(tx, q, None, None)? {
        if let Some(m) = months.get_mut(&(c.owner, Month::of(Q::date_of_day(c.day)))) {
            m.1 += c.won_value_minor;
        }
    }
    let rows: Vec<SellerMonth> = months
        .into_iter()
        .filter(|((_, m), _)| in_window(*m))
        .map(|((user, month), (goal, won, checks))| SellerMonth {
            user,
            month,
            goal_minor: goal,
            won_minor: won,
            commitment: (!checks.is_empty())
                .then(|| checks.iter().map(|c| f64::from(*c)).sum::<f64>() / checks.len() as f64),
        })
        .collect();
    Ok(core::calibration(ctx, scope, &peaks, &rows))
}

fn win_probability(
    tx: &mut dyn Sql,
    q: &Q,
    ctx: &Context<'_>,
    scope: &Scope,
    params: &ReportParams,
) -> StoreResult<WinProbability> {
    let split = peaks(tx, q, false)?;
    let rates = step_rates(ctx, &all_closed(&split));
    // The rates are our own numbers, not input: safe to write into the ordering.
    let rate_case: String = rates
        .iter()
        .map(|r| format!(" WHEN {} THEN {:.6}", r.step, r.rate))
        .collect();
    // The order comes from the open deals' index alone; only the listed deals are read.
    let sql = format!(
        "SELECT d.deal_id {OPEN_DEALS}{} ORDER BY {} * (CASE d.stage{rate_case} ELSE 1 END) DESC, d.deal_id LIMIT {}",
        q.owned("d.owner_id"),
        q.value("d"),
        params.limit
    );
    let ids = tx
        .query(&sql, &[q.org.0.into()])?
        .iter()
        .map(|r| r.int(0))
        .collect::<StoreResult<Vec<_>>>()?;
    let open: Vec<OpenDeal> = load_deals(tx, q.org, &ids)?
        .into_iter()
        .map(|d| OpenDeal {
            id: d.id,
            title: d.title,
            owner: d.owner.id,
            stage: d.stage,
            // Listed values are in the org currency; a deal in another shows none.
            value_minor: d.value_minor.filter(|_| d.currency.code() == q.currency),
        })
        .collect();
    Ok(core::win_probability(ctx, scope, &split, rates, &open))
}

/// The latest check-in of each user the session sees, in `month` (coaching rows, and the
/// reminder on Today when the user's own is missing).
/// Whether the acting user has checked in for `month` (Today's reminder): one index probe,
/// where [`month_check_ins`] reads the whole team's month.
pub fn has_checked_in(store: &mut Store, s: &Session, month: Month) -> StoreResult<bool> {
    store.read(|tx| checked_in(tx, s, month))
}

/// [`has_checked_in`] inside a caller's read, so a page can ask it with its other reads.
pub fn checked_in(tx: &mut dyn Sql, s: &Session, month: Month) -> StoreResult<bool> {
    let first = month.first_day();
    let last = first.last_of_month();
    Ok(tx
        .query_one(
            "SELECT 1 FROM check_ins WHERE org_id = $1 AND user_id = $2 AND checked_on >= $3 AND checked_on <= $4 LIMIT 1",
            &[
                s.org.id.0.into(),
                s.user.id.0.into(),
                first.to_string().into(),
                last.to_string().into(),
            ],
        )?
        .is_some())
}

pub fn month_check_ins(store: &mut Store, s: &Session, month: Month) -> StoreResult<BTreeMap<UserId, CheckIn>> {
    let first = month.first_day();
    let last = first.last_of_month();
    let actor = s.actor();
    let users: BTreeMap<UserId, User> = ops::users(store, s)?
        .into_iter()
        .filter(|u| actor.may_act_for(&u.as_owner()))
        .map(|u| (u.id, u))
        .collect();
    store.read(|tx| {
        let rows = tx.query(
            "SELECT check_in_id, user_id, checked_on, commitment, why, obstacle, recorded_at FROM check_ins \
             WHERE org_id = $1 AND checked_on >= $2 AND checked_on <= $3 ORDER BY check_in_id",
            &[s.org.id.0.into(), first.to_string().into(), last.to_string().into()],
        )?;
        let mut out = BTreeMap::new();
        for r in rows {
            let user = uid(r.int(1)?);
            if !users.contains_key(&user) {
                continue;
            }
            let c = CheckIn {
                id: CheckInId(r.int(0)?),
                user,
                on: r.text(2)?.parse().map_err(|e| corrupt(format!("check-in date: {e}")))?,
                commitment: u8::try_from(r.int(3)?).map_err(|_| corrupt("check-in commitment"))?,
                why: r.text(4)?.to_owned(),
                obstacle: r.opt_text(5)?.map(str::to_owned),
                recorded_at: Timestamp::from_second(r.int(6)?).map_err(corrupt)?,
            };
            // Later check-ins replace earlier ones: the newest says where the seller stands.
            out.insert(user, c);
        }
        Ok(out)
    })
}
