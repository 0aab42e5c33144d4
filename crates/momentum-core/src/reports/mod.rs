//! Coaching and reports: the numbers that show each seller where in the process and the
//! month they give up (principle 5, "numbers don't lie").
//!
//! Storage does the counting (GROUP BY in the database, or the summaries it maintains in
//! the transaction of every write) and hands the counts to this module, which owns what
//! each report means: who is in scope, what "dark", "too early" or "commit" are, and the
//! statistics. Every path (CLI, pages, API) calls the same functions, so a figure reads
//! the same everywhere, and each rule is tested here without a database.
//!
//! Outputs are plain serializable structs (ids as numbers, dates as ISO text, money in
//! major units of the org currency) plus a [`Table`] and a [`Chart`] view of each, which
//! the CLI, CSV export and pages render.

mod activity;
mod deals;
mod month;
mod view;

pub use activity::*;
pub use deals::*;
pub use month::*;
pub use view::*;

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;

use crate::error::{DomainError, Result};
use crate::model::*;
use crate::money::Currency;
use crate::vocab::{Commitment, DealStatus, Outcome, Role};

crate::vocab::vocabulary!(
    /// The reports, by the names the CLI, the pages and the API use (`month-gap` reads as
    /// `month_gap`).
    ReportName {
        Summary = "summary",
        MonthGap = "month_gap",
        Cholesterol = "cholesterol",
        GiveUp = "give_up",
        CloseTiming = "close_timing",
        Results = "results",
        Prospecting = "prospecting",
        Calibration = "calibration",
        WinProbability = "win_probability"
    }
);

impl ReportName {
    /// The name as written in URLs and on the command line: `month-gap`.
    pub fn slug(self) -> String {
        self.as_str().replace('_', "-")
    }

    pub fn title(self) -> &'static str {
        match self {
            ReportName::Summary => "Summary",
            ReportName::MonthGap => "Month gap",
            ReportName::Cholesterol => "Sales cholesterol",
            ReportName::GiveUp => "Give-up point",
            ReportName::CloseTiming => "Close timing",
            ReportName::Results => "Results",
            ReportName::Prospecting => "Prospecting",
            ReportName::Calibration => "Calibration",
            ReportName::WinProbability => "Win probability",
        }
    }

    /// One sentence: what the report answers.
    pub fn question(self) -> &'static str {
        match self {
            ReportName::Summary => "How many deals, how many won, for how much, and how fast?",
            ReportName::MonthGap => "How far is each seller from this month's goal, and what is committed?",
            ReportName::Cholesterol => "Which open value is wishful: no need, no date, no buyer decision?",
            ReportName::GiveUp => "How many follow-ups does each seller make into silence before a deal goes dark?",
            ReportName::CloseTiming => "Who asks for the sale too early, waits too long, or never asks?",
            ReportName::Results => {
                "Does each interaction advance the deal, and end in a sale or a buyer-committed step?"
            }
            ReportName::Prospecting => {
                "How many new prospects a week does each seller engage, and what does it bring later?"
            }
            ReportName::Calibration => {
                "How often does a deal at each step win, and does self-rated commitment predict results?"
            }
            ReportName::WinProbability => "How likely is each open deal to be won, judged by the org's own history?",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Who and when

/// The sellers (and managers, who may own deals) a report covers, resolved against what the
/// actor may see: a seller sees themself, a manager their team, an admin the org.
#[derive(Debug, Clone)]
pub struct Scope {
    /// In id order.
    pub users: Vec<User>,
    /// Everyone in the org: storage may skip the owner filter.
    pub whole_org: bool,
}

impl Scope {
    pub fn ids(&self) -> Vec<UserId> {
        self.users.iter().map(|u| u.id).collect()
    }

    pub fn name(&self, id: UserId) -> String {
        self.users
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| format!("user {id}"), |u| u.name.clone())
    }

    /// Whether `id`'s figures belong in the report.
    pub fn covers(&self, id: UserId) -> bool {
        self.users.iter().any(|u| u.id == id)
    }
}

/// Finds a user named by id or email (the CLI takes emails, pages and the API ids).
fn pick<'a>(users: &'a [User], field: &str, key: &str) -> Result<&'a User> {
    let key = key.trim();
    let found = match key.parse::<i64>() {
        Ok(id) => users.iter().find(|u| u.id.0 == id),
        Err(_) => users.iter().find(|u| u.email.as_str().eq_ignore_ascii_case(key)),
    };
    found.ok_or_else(|| DomainError::invalid(field, key, "names a user of this org, by id or email"))
}

/// Resolves `--seller` and `--team` (each an id or an email) against the actor's
/// visibility; `users` is the org's people. Asking for someone the actor may not see is
/// forbidden, not an empty report.
pub fn scope(actor: &Actor, users: &[User], seller: Option<&str>, team: Option<&str>) -> Result<Scope> {
    if let (Some(_), Some(t)) = (seller, team) {
        return Err(DomainError::invalid("team", t, "name a seller or a team, not both"));
    }
    if let Some(key) = seller {
        let user = pick(users, "seller", key)?;
        actor.ensure_may_act_for(&user.as_owner(), format_args!("{}'s figures", user.name))?;
        return Ok(Scope {
            users: vec![user.clone()],
            whole_org: false,
        });
    }
    if let Some(key) = team {
        let head = pick(users, "team", key)?;
        if head.role == Role::Seller {
            return Err(DomainError::invalid(
                "team",
                key,
                "a team is named by its manager; this user is a seller",
            ));
        }
        let members: Vec<User> = users
            .iter()
            .filter(|u| u.id == head.id || u.manager == Some(head.id))
            .cloned()
            .collect();
        for m in &members {
            actor.ensure_may_act_for(&m.as_owner(), format_args!("{}'s team figures", head.name))?;
        }
        return Ok(Scope {
            users: members,
            whole_org: false,
        });
    }
    let mine: Vec<User> = users
        .iter()
        .filter(|u| actor.may_act_for(&u.as_owner()))
        .cloned()
        .collect();
    Ok(Scope {
        whole_org: mine.len() == users.len(),
        users: mine,
    })
}

/// What a caller asks of a report, as typed (CLI flags, page and API query parameters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportRequest<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub seller: Option<&'a str>,
    pub team: Option<&'a str>,
    /// month-gap's month, YYYY-MM (default: this month).
    pub month: Option<&'a str>,
    /// cholesterol's "stale" threshold in days.
    pub stale_days: Option<u32>,
    /// How many deals the listing reports show.
    pub limit: Option<u32>,
}

/// A checked [`ReportRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportParams {
    pub window: Window,
    pub month: Month,
    pub stale_days: u32,
    pub limit: u32,
}

/// The most deals a listing report returns.
pub const LIMIT_MAX: u32 = 1000;

impl ReportRequest<'_> {
    /// Checks the request; `today` fills the defaults.
    pub fn check(&self, today: Date, default_stale_days: u32) -> Result<ReportParams> {
        // Reports count days since 1970 and add weeks to dates: keep them well inside the
        // calendar so no arithmetic can overflow.
        let (earliest, latest) = (jiff::civil::date(1970, 1, 1), jiff::civil::date(9000, 12, 31));
        let date = |field: &str, v: Option<&str>| -> Result<Option<Date>> {
            v.filter(|t| !t.trim().is_empty())
                .map(|t| match t.trim().parse::<Date>() {
                    Ok(d) if d >= earliest && d <= latest => Ok(d),
                    Ok(_) => Err(DomainError::invalid(
                        field,
                        t,
                        "a date between 1970-01-01 and 9000-12-31",
                    )),
                    Err(_) => Err(DomainError::invalid(field, t, "a date is written YYYY-MM-DD")),
                })
                .transpose()
        };
        let window = Window::new(date("from", self.from)?, date("to", self.to)?)?;
        let month = match self.month.filter(|m| !m.trim().is_empty()) {
            Some(m) => {
                let month = Month::parse("month", m)?;
                if month.first_day() < earliest || month.first_day() > latest {
                    return Err(DomainError::invalid("month", m, "a month between 1970-01 and 9000-12"));
                }
                month
            }
            None => Month::of(today),
        };
        let stale_days = self.stale_days.unwrap_or(default_stale_days);
        if !(1..=3650).contains(&stale_days) {
            return Err(DomainError::invalid(
                "stale_days",
                stale_days,
                "between 1 and 3650 days",
            ));
        }
        let limit = self.limit.unwrap_or(100);
        if !(1..=LIMIT_MAX).contains(&limit) {
            return Err(DomainError::invalid(
                "limit",
                limit,
                format!("between 1 and {LIMIT_MAX}"),
            ));
        }
        Ok(ReportParams {
            window,
            month,
            stale_days,
            limit,
        })
    }
}

/// Any report, as computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Report {
    Summary(Summary),
    MonthGap(MonthGap),
    Cholesterol(Cholesterol),
    GiveUp(GiveUp),
    CloseTiming(CloseTiming),
    Results(Results),
    Prospecting(Prospecting),
    Calibration(Calibration),
    WinProbability(WinProbability),
}

impl Report {
    fn view(&self) -> &dyn ReportView {
        match self {
            Report::Summary(r) => r,
            Report::MonthGap(r) => r,
            Report::Cholesterol(r) => r,
            Report::GiveUp(r) => r,
            Report::CloseTiming(r) => r,
            Report::Results(r) => r,
            Report::Prospecting(r) => r,
            Report::Calibration(r) => r,
            Report::WinProbability(r) => r,
        }
    }
}

impl ReportView for Report {
    fn tables(&self) -> Vec<Table> {
        self.view().tables()
    }

    fn chart(&self) -> Chart {
        self.view().chart()
    }
}

/// A report's date window, inclusive, in the org's calendar. Either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

impl Window {
    pub fn new(from: Option<Date>, to: Option<Date>) -> Result<Window> {
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                return Err(DomainError::invalid(
                    "to",
                    t,
                    format!("the window ends on or after from ({f})"),
                ));
            }
        }
        Ok(Window { from, to })
    }
}

/// What a report needs to know besides its counts.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub ladder: &'a Ladder,
    pub cadence: &'a Cadence,
    pub currency: Currency,
    pub today: Date,
}

impl Context<'_> {
    /// Minor units as a number in major units of the org currency.
    pub fn major(&self, minor: i64) -> f64 {
        minor as f64 / 10f64.powi(self.currency.exponent() as i32)
    }

    pub fn step_name(&self, step: Step) -> String {
        self.ladder.name(step).to_owned()
    }
}

// ---------------------------------------------------------------------------------------
// The interaction summary

/// One interaction as the reports count it: who logged it, in which month, where the deal
/// stood, what was asked for, and how it ended. Storage keeps a count per distinct fact,
/// updated with every logged interaction, so activity reports never read the whole log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InteractionFact {
    pub user: UserId,
    pub month: Month,
    /// The deal's stage when the interaction began.
    pub stage_before: Step,
    pub objective: Step,
    pub result: Outcome,
    pub commitment: Commitment,
}

/// The fact of the interaction `change` logs, if it logs one. `tz` is the org's time zone,
/// which decides the month.
pub fn interaction_fact(change: &DealChange, tz: &jiff::tz::TimeZone) -> Option<InteractionFact> {
    let i = change.interaction.as_ref()?;
    let stage_before = match &change.decision {
        Some(d) if d.interaction_seq == Some(i.seq) => d.from,
        _ => change.deal.stage,
    };
    Some(fact(i, stage_before, tz))
}

/// The facts of a whole deal history (the demo, imports): the stage before each
/// interaction is replayed from the decisions in ledger order.
pub fn history_facts(
    interactions: &[Interaction],
    decisions: &[Decision],
    tz: &jiff::tz::TimeZone,
) -> Vec<InteractionFact> {
    let mut ledger: Vec<&Decision> = decisions.iter().collect();
    ledger.sort_by_key(|d| d.seq);
    let mut out = Vec::with_capacity(interactions.len());
    for i in interactions {
        // The stage the deal held just before: the last decision made earlier, or, for a
        // decision this interaction produced, the stage it started from.
        let stage_before = match ledger.iter().find(|d| d.interaction_seq == Some(i.seq)) {
            Some(d) => d.from,
            None => ledger
                .iter()
                .rfind(|d| d.decided_at <= i.occurred_at && d.interaction_seq.is_none_or(|s| s < i.seq))
                .map_or(Step(0), |d| d.to),
        };
        out.push(fact(i, stage_before, tz));
    }
    out
}

fn fact(i: &Interaction, stage_before: Step, tz: &jiff::tz::TimeZone) -> InteractionFact {
    InteractionFact {
        user: i.user,
        month: Month::of(i.occurred_at.to_zoned_datetime(tz.clone()).date()),
        stage_before,
        objective: i.objective,
        result: i.result,
        commitment: i.commitment,
    }
}

/// A counted [`InteractionFact`], as storage returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactCount {
    pub fact: InteractionFact,
    pub interactions: i64,
}

/// What a write adds to a seller's day: deals created, deals won and their value. Storage
/// keeps these per seller and day so prospecting and the month's won value never read
/// every deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    pub owner: UserId,
    /// Days since 1970-01-01 in the org's calendar.
    pub day: i64,
    pub created: i64,
    pub won: i64,
    pub won_value_minor: i64,
}

/// The day counts `after` adds, given what it was (`None`: a new deal): a new deal is
/// created on its creation day, credited to its first owner; a deal that became won is won
/// on its close day, credited to its owner then. Value counts in the org's `currency` only.
pub fn day_counts(before: Option<&Deal>, after: &Deal, tz: &jiff::tz::TimeZone, currency: Currency) -> Vec<DayCount> {
    let day = |at: jiff::Timestamp| epoch_day(at.to_zoned_datetime(tz.clone()).date());
    let mut out = Vec::new();
    if before.is_none() {
        out.push(DayCount {
            owner: after.owner.id,
            day: day(after.created_at),
            created: 1,
            won: 0,
            won_value_minor: 0,
        });
    }
    let was_won = before.is_some_and(|b| matches!(b.state, DealState::Won { .. }));
    if let (DealState::Won { at }, false) = (&after.state, was_won) {
        out.push(DayCount {
            owner: after.owner.id,
            day: day(*at),
            won: 1,
            won_value_minor: if after.currency == currency {
                after.value_minor.unwrap_or(0)
            } else {
                0
            },
            created: 0,
        });
    }
    out
}

/// A deal as step-to-win rates count it once it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClosedPeak {
    pub owner: UserId,
    pub peak: Step,
    pub won: bool,
    /// Held back from fitting the win-probability model, to score it (every fifth by id).
    pub held_back: bool,
}

/// The closed-deal count `after` adds, given what it was (`None`: a new deal): one when
/// it has just closed. Closed deals never change, so the count never has to move.
pub fn closed_peak(before: Option<&Deal>, after: &Deal) -> Option<ClosedPeak> {
    let was_open = before.is_none_or(|b| b.status() == DealStatus::Open);
    (was_open && after.status() != DealStatus::Open).then(|| ClosedPeak {
        owner: after.owner.id,
        peak: after.peak_stage,
        won: after.status() == DealStatus::Won,
        held_back: after.id.0 % HELD_BACK_EVERY == 0,
    })
}

// ---------------------------------------------------------------------------------------
// Statistics over counted values

/// A histogram: how many items had each value.
pub type Histogram = BTreeMap<i64, i64>;

/// Median and mean of a histogram; both `None` when it is empty.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Centre {
    pub median: Option<f64>,
    pub mean: Option<f64>,
}

pub fn centre(h: &Histogram) -> Centre {
    let n: i64 = h.values().sum();
    if n <= 0 {
        return Centre {
            median: None,
            mean: None,
        };
    }
    let sum: f64 = h.iter().map(|(v, c)| *v as f64 * *c as f64).sum();
    // The k-th smallest value, 0-based.
    let kth = |k: i64| {
        let mut seen = 0;
        for (v, c) in h {
            seen += c;
            if seen > k {
                return *v as f64;
            }
        }
        unreachable!("k is below the histogram's count")
    };
    let median = if n % 2 == 1 {
        kth(n / 2)
    } else {
        (kth(n / 2 - 1) + kth(n / 2)) / 2.0
    };
    Centre {
        median: Some(median),
        mean: Some(sum / n as f64),
    }
}

/// Pearson's correlation of paired samples; `None` with fewer than three pairs or no spread.
pub fn correlation(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    if n < 3 {
        return None;
    }
    let mx = xs[..n].iter().sum::<f64>() / n as f64;
    let my = ys[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for k in 0..n {
        let (dx, dy) = (xs[k] - mx, ys[k] - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    Some(sxy / (sxx * syy).sqrt())
}

/// `part / whole`, 0 when there is no whole.
pub fn share(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Rounded to `places` decimals, so reports print and serialize stable figures.
pub fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}
