//! Reports over the calendar: the month's gap to goal and the prospecting rhythm.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;

use super::*;

// ---------------------------------------------------------------------------------------
// month-gap

/// What storage counts for one month.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonthGapCounts {
    pub goals: BTreeMap<UserId, i64>,
    /// Won value by seller and day of the month the deal was signed.
    pub won_by_day: BTreeMap<(UserId, i8), i64>,
    /// Open deals whose next step is buyer-committed before month end and whose compelling
    /// need's date falls in the month.
    pub commit: BTreeMap<UserId, Tally>,
    /// Open deals with a next step before month end whose need's date or expected close
    /// falls in the month, committed or not: what could still come in.
    pub upside: BTreeMap<UserId, Tally>,
    /// Open value by seller and stage (org currency).
    pub open_by_stage: Vec<(UserId, Step, i64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GapRow {
    /// The seller, or for a team row its manager.
    pub id: i64,
    pub name: String,
    pub goal: Option<f64>,
    pub won: f64,
    pub commit: f64,
    pub commit_deals: i64,
    /// Won plus every open deal that could close this month.
    pub best_case: f64,
    /// Open value weighted by the org's own step-to-win rates.
    pub weighted_pipeline: f64,
    /// goal − won: what is still to sell (negative when ahead).
    pub gap: Option<f64>,
    /// goal − won − commit: what is not even committed yet.
    pub gap_after_commit: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BurnDay {
    pub day: i64,
    pub won_to_date: f64,
    pub won_plus_commit: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthGap {
    pub month: String,
    pub days_in_month: i64,
    pub sellers: Vec<GapRow>,
    /// One row per manager's team (the manager's own deals included).
    pub teams: Vec<GapRow>,
    pub total: GapRow,
    /// The burn-up of the whole scope, up to today (the whole month once it is over).
    pub burn_up: Vec<BurnDay>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    goal: Option<i64>,
    won: i64,
    commit: Tally,
    upside: i64,
    weighted: f64,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.goal = match (self.goal, o.goal) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.won += o.won;
        self.commit.add(o.commit);
        self.upside += o.upside;
        self.weighted += o.weighted;
    }

    fn row(&self, ctx: &Context<'_>, id: i64, name: String) -> GapRow {
        let goal = self.goal.map(|g| ctx.major(g));
        let won = ctx.major(self.won);
        let commit = ctx.major(self.commit.value_minor);
        GapRow {
            id,
            name,
            goal,
            won,
            commit,
            commit_deals: self.commit.deals,
            best_case: ctx.major(self.won + self.upside),
            weighted_pipeline: round(self.weighted, 2),
            gap: goal.map(|g| round(g - won, 2)),
            gap_after_commit: goal.map(|g| round(g - won - commit, 2)),
        }
    }
}

pub fn month_gap(
    ctx: &Context<'_>,
    scope: &Scope,
    month: Month,
    counts: &MonthGapCounts,
    rates: &[StepRate],
) -> MonthGap {
    let first = month.first_day();
    let days_in_month = i64::from(first.days_in_month());
    let mut per = BTreeMap::<UserId, Sums>::new();
    for u in &scope.users {
        let s = per.entry(u.id).or_default();
        s.goal = counts.goals.get(&u.id).copied();
        s.commit = counts.commit.get(&u.id).copied().unwrap_or_default();
        s.upside = counts.upside.get(&u.id).map_or(0, |t| t.value_minor);
    }
    for ((user, _), v) in &counts.won_by_day {
        if let Some(s) = per.get_mut(user) {
            s.won += v;
        }
    }
    for (user, stage, v) in &counts.open_by_stage {
        if let Some(s) = per.get_mut(user) {
            s.weighted += ctx.major(*v) * rate_at(rates, *stage);
        }
    }
    // A seller's team is their manager's; a manager (or an admin) heads their own.
    let mut teams = BTreeMap::<UserId, Sums>::new();
    let mut total = Sums::default();
    let mut sellers = Vec::new();
    for u in &scope.users {
        let s = per[&u.id];
        let head = u.manager.unwrap_or(u.id);
        teams.entry(head).or_default().add(&s);
        total.add(&s);
        if s.goal.is_some() || s.won != 0 || s.commit.deals != 0 || s.upside != 0 || s.weighted != 0.0 {
            sellers.push(s.row(ctx, u.id.0, u.name.clone()));
        }
    }
    let teams = teams
        .iter()
        // A team row needs its head in scope: a seller's own report has no team row.
        .filter(|(head, _)| scope.covers(**head) && scope.users.iter().any(|u| u.manager == Some(**head)))
        .map(|(head, s)| s.row(ctx, head.0, format!("{}'s team", scope.name(*head))))
        .collect();
    let last_day = if ctx.today < first {
        0
    } else if Month::of(ctx.today) == month {
        i64::from(ctx.today.day())
    } else {
        days_in_month
    };
    let mut won_to_date = 0;
    let burn_up = (1..=last_day)
        .map(|day| {
            won_to_date += counts
                .won_by_day
                .iter()
                .filter(|((u, d), _)| i64::from(*d) == day && scope.covers(*u))
                .map(|(_, v)| v)
                .sum::<i64>();
            BurnDay {
                day,
                won_to_date: ctx.major(won_to_date),
                won_plus_commit: ctx.major(won_to_date + total.commit.value_minor),
            }
        })
        .collect();
    MonthGap {
        month: month.to_string(),
        days_in_month,
        sellers,
        teams,
        total: total.row(ctx, 0, "Total".to_owned()),
        burn_up,
    }
}

impl ReportView for MonthGap {
    fn tables(&self) -> Vec<Table> {
        let columns = [
            "name",
            "goal",
            "won",
            "commit",
            "commit deals",
            "best case",
            "weighted pipeline",
            "gap",
            "gap after commit",
        ];
        let row = |r: &GapRow| {
            vec![
                r.name.clone().into(),
                Cell::opt(r.goal),
                Cell::num(r.won),
                Cell::num(r.commit),
                Cell::Int(r.commit_deals),
                Cell::num(r.best_case),
                Cell::num(r.weighted_pipeline),
                Cell::opt(r.gap),
                Cell::opt(r.gap_after_commit),
            ]
        };
        let mut s = Table::new(format!("Gap to goal, {}", self.month), &columns);
        for r in self.sellers.iter().chain([&self.total]) {
            s.row(row(r));
        }
        let mut t = Table::new("Teams", &columns);
        for r in &self.teams {
            t.row(row(r));
        }
        vec![s, t]
    }

    fn chart(&self) -> Chart {
        let mut c = Chart::new(ChartKind::Lines, &format!("Burn-up, {}", self.month), "day", "value");
        c.labels = (1..=self.days_in_month).map(|d| d.to_string()).collect();
        let goal = self.total.goal.unwrap_or(0.0);
        c.series("goal", vec![goal; self.days_in_month as usize]);
        c.series("won", self.burn_up.iter().map(|d| d.won_to_date).collect());
        c.series("won + commit", self.burn_up.iter().map(|d| d.won_plus_commit).collect());
        c
    }
}

// ---------------------------------------------------------------------------------------
// prospecting

/// Days since 1970-01-01 of `date`, the unit storage groups timestamps by.
pub fn epoch_day(date: Date) -> i64 {
    i64::from((date - jiff::civil::date(1970, 1, 1)).get_days())
}

/// The Monday-based week a day (days since 1970-01-01, a Thursday) falls in.
pub fn week_of_day(day: i64) -> i64 {
    (day + 3).div_euclid(7)
}

/// The Monday a week starts on.
pub fn week_start(week: i64) -> Date {
    jiff::civil::date(1970, 1, 1) + jiff::Span::new().days(week * 7 - 3)
}

/// What storage counts for the prospecting report, by seller and week.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProspectingCounts {
    /// Deals created (new prospects engaged) by seller and week.
    pub created: BTreeMap<(UserId, i64), i64>,
    /// Won value by seller and week signed.
    pub won: BTreeMap<(UserId, i64), i64>,
    pub next_month_goals: BTreeMap<UserId, i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProspectingWeek {
    pub week_start: String,
    pub new_prospects: i64,
    pub won_value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LagCorrelation {
    pub lag_weeks: i64,
    pub correlation: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProspectingSeller {
    pub seller_id: i64,
    pub seller: String,
    pub new_prospects: i64,
    pub new_per_week: f64,
    pub won_value: f64,
    /// Won value per new prospect over the window: the seller's own rate.
    pub won_per_prospect: Option<f64>,
    /// The lag (weeks from engaging prospects to revenue) whose correlation is highest.
    pub best_lag_weeks: Option<i64>,
    pub best_correlation: Option<f64>,
    pub lags: Vec<LagCorrelation>,
    pub next_month_goal: Option<f64>,
    /// New prospects to engage per week to reach next month's goal at the seller's own rate.
    pub prospects_needed_per_week: Option<f64>,
    pub weeks: Vec<ProspectingWeek>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Prospecting {
    pub from: String,
    pub to: String,
    pub next_month: String,
    pub sellers: Vec<ProspectingSeller>,
}

/// The longest prospecting window, in weeks (three years).
pub const MAX_PROSPECTING_WEEKS: i64 = 156;

/// Lags tried, in weeks.
pub const MAX_LAG_WEEKS: i64 = 12;

/// `first_week..=last_week` is the window (see [`week_of_day`]).
pub fn prospecting(
    ctx: &Context<'_>,
    scope: &Scope,
    first_week: i64,
    last_week: i64,
    next_month: Month,
    counts: &ProspectingCounts,
) -> Prospecting {
    let weeks: Vec<i64> = (first_week..=last_week).collect();
    let weeks_in_next = f64::from(next_month.first_day().days_in_month()) / 7.0;
    let sellers = scope
        .users
        .iter()
        .filter_map(|u| {
            let new: Vec<f64> = weeks
                .iter()
                .map(|w| counts.created.get(&(u.id, *w)).copied().unwrap_or(0) as f64)
                .collect();
            let won: Vec<i64> = weeks
                .iter()
                .map(|w| counts.won.get(&(u.id, *w)).copied().unwrap_or(0))
                .collect();
            let total_new = new.iter().sum::<f64>() as i64;
            let total_won: i64 = won.iter().sum();
            if total_new == 0 && total_won == 0 {
                return None;
            }
            let won_f: Vec<f64> = won.iter().map(|v| *v as f64).collect();
            let lags: Vec<LagCorrelation> = (0..=MAX_LAG_WEEKS)
                .map(|k| {
                    let k_ = k as usize;
                    let r = (new.len() > k_ + 3)
                        .then(|| correlation(&new[..new.len() - k_], &won_f[k_..]))
                        .flatten();
                    LagCorrelation {
                        lag_weeks: k,
                        correlation: r.map(|r| round(r, 3)),
                    }
                })
                .collect();
            let best = lags
                .iter()
                .filter_map(|l| Some((l.lag_weeks, l.correlation?)))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            let per_prospect = (total_new > 0).then(|| total_won as f64 / total_new as f64);
            let goal = counts.next_month_goals.get(&u.id).copied();
            let needed = match (goal, per_prospect) {
                (Some(g), Some(p)) if p > 0.0 => Some(round(g as f64 / p / weeks_in_next, 1)),
                _ => None,
            };
            Some(ProspectingSeller {
                seller_id: u.id.0,
                seller: u.name.clone(),
                new_prospects: total_new,
                new_per_week: round(total_new as f64 / weeks.len().max(1) as f64, 2),
                won_value: ctx.major(total_won),
                won_per_prospect: per_prospect.map(|p| round(ctx.major(1) * p, 2)),
                best_lag_weeks: best.map(|b| b.0),
                best_correlation: best.map(|b| b.1),
                lags,
                next_month_goal: goal.map(|g| ctx.major(g)),
                prospects_needed_per_week: needed,
                weeks: weeks
                    .iter()
                    .zip(new.iter().zip(&won))
                    .map(|(w, (n, v))| ProspectingWeek {
                        week_start: week_start(*w).to_string(),
                        new_prospects: *n as i64,
                        won_value: ctx.major(*v),
                    })
                    .collect(),
            })
        })
        .collect();
    Prospecting {
        from: week_start(first_week).to_string(),
        to: (week_start(last_week) + jiff::Span::new().days(6)).to_string(),
        next_month: next_month.to_string(),
        sellers,
    }
}

impl ReportView for Prospecting {
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            format!("Prospecting, {} to {}", self.from, self.to),
            &[
                "seller",
                "new prospects",
                "per week",
                "won value",
                "won per prospect",
                "best lag (weeks)",
                "correlation",
                "next month goal",
                "prospects needed per week",
            ],
        );
        for s in &self.sellers {
            t.row(vec![
                s.seller.clone().into(),
                Cell::Int(s.new_prospects),
                Cell::num(s.new_per_week),
                Cell::num(s.won_value),
                Cell::opt(s.won_per_prospect),
                s.best_lag_weeks.map_or(Cell::Blank, Cell::Int),
                Cell::opt(s.best_correlation),
                Cell::opt(s.next_month_goal),
                Cell::opt(s.prospects_needed_per_week),
            ]);
        }
        let mut w = Table::new("Weeks", &["seller", "week", "new prospects", "won value"]);
        for s in &self.sellers {
            for x in &s.weeks {
                w.row(vec![
                    s.seller.clone().into(),
                    x.week_start.clone().into(),
                    Cell::Int(x.new_prospects),
                    Cell::num(x.won_value),
                ]);
            }
        }
        vec![t, w]
    }

    fn chart(&self) -> Chart {
        let mut c = Chart::new(
            ChartKind::Lines,
            "Prospects engaged against revenue k weeks later",
            "lag (weeks)",
            "correlation",
        );
        c.labels = (0..=MAX_LAG_WEEKS).map(|k| k.to_string()).collect();
        for s in &self.sellers {
            c.series(&s.seller, s.lags.iter().map(|l| l.correlation.unwrap_or(0.0)).collect());
        }
        c
    }
}
