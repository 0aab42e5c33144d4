//! Reports counted over deals: summary, cholesterol, give-up, calibration and win
//! probability. Storage groups the deal rows; these functions give the groups meaning.

use std::collections::BTreeMap;

use serde::Serialize;

use super::*;
use crate::cholesterol::Flag;
use crate::vocab::DealStatus;

/// A number of deals and their value (minor units of the org currency; deals in other
/// currencies count but add no value).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub deals: i64,
    pub value_minor: i64,
}

impl Tally {
    pub fn add(&mut self, other: Tally) {
        self.deals += other.deals;
        self.value_minor += other.value_minor;
    }
}

// ---------------------------------------------------------------------------------------
// summary

/// Deals of one owner and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryCount {
    pub owner: UserId,
    pub status: DealStatus,
    pub tally: Tally,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ByStatus {
    pub open: i64,
    pub won: i64,
    pub lost: i64,
    pub disqualified: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OwnerValue {
    pub owner: String,
    pub value: f64,
}

/// The deals created in the window (all time by default).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    pub deals: i64,
    pub by_status: ByStatus,
    /// won / (won + lost), 0 when none closed either way.
    pub win_rate: f64,
    /// In major units of the org currency.
    pub won_value: f64,
    /// Whole days from creation to close, over won deals.
    pub won_days_to_close: Centre,
    /// Largest first.
    pub won_value_by_owner: Vec<OwnerValue>,
}

/// `won_days`: won deals by whole days from creation to close.
pub fn summary(ctx: &Context<'_>, scope: &Scope, counts: &[SummaryCount], won_days: &Histogram) -> Summary {
    let mut by_status = BTreeMap::<DealStatus, i64>::new();
    let mut won_by_owner = BTreeMap::<UserId, i64>::new();
    for c in counts {
        *by_status.entry(c.status).or_default() += c.tally.deals;
        if c.status == DealStatus::Won {
            *won_by_owner.entry(c.owner).or_default() += c.tally.value_minor;
        }
    }
    let count = |s| by_status.get(&s).copied().unwrap_or(0);
    let (won, lost) = (count(DealStatus::Won), count(DealStatus::Lost));
    let mut owners: Vec<(i64, String)> = won_by_owner.into_iter().map(|(id, v)| (v, scope.name(id))).collect();
    owners.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Summary {
        deals: by_status.values().sum(),
        by_status: ByStatus {
            open: count(DealStatus::Open),
            won,
            lost,
            disqualified: count(DealStatus::Disqualified),
        },
        win_rate: round(share(won, won + lost), 4),
        won_value: ctx.major(owners.iter().map(|o| o.0).sum()),
        won_days_to_close: rounded(centre(won_days)),
        won_value_by_owner: owners
            .into_iter()
            .map(|(v, owner)| OwnerValue {
                owner,
                value: ctx.major(v),
            })
            .collect(),
    }
}

fn rounded(c: Centre) -> Centre {
    Centre {
        median: c.median.map(|x| round(x, 2)),
        mean: c.mean.map(|x| round(x, 2)),
    }
}

impl ReportView for Summary {
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new("Summary", &["figure", "value"]);
        let s = &self.by_status;
        for (name, v) in [
            ("deals", Cell::Int(self.deals)),
            ("open", Cell::Int(s.open)),
            ("won", Cell::Int(s.won)),
            ("lost", Cell::Int(s.lost)),
            ("disqualified", Cell::Int(s.disqualified)),
            ("win rate", Cell::Share(self.win_rate)),
            ("won value", Cell::num(self.won_value)),
            ("median days to close (won)", Cell::opt(self.won_days_to_close.median)),
            ("mean days to close (won)", Cell::opt(self.won_days_to_close.mean)),
        ] {
            t.row(vec![name.into(), v]);
        }
        let mut o = Table::new("Won value by owner", &["owner", "won value"]);
        for w in &self.won_value_by_owner {
            o.row(vec![w.owner.clone().into(), Cell::num(w.value)]);
        }
        vec![t, o]
    }

    fn chart(&self) -> Chart {
        let mut c = Chart::new(ChartKind::Bars, "Won value by owner", "owner", "won value");
        c.labels = self.won_value_by_owner.iter().map(|o| o.owner.clone()).collect();
        c.series("won value", self.won_value_by_owner.iter().map(|o| o.value).collect());
        c
    }
}

// ---------------------------------------------------------------------------------------
// cholesterol

/// One seller's open deals and the share of them showing each sign of cholesterol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CholesterolCount {
    pub open: Tally,
    pub no_need: Tally,
    pub no_date: Tally,
    pub stale: Tally,
    pub seller_scheduled_only: Tally,
    pub overdue: Tally,
}

/// An open deal to disqualify or requalify, with its flags.
#[derive(Debug, Clone, PartialEq)]
pub struct FlaggedDeal {
    pub id: DealId,
    pub title: String,
    pub owner: UserId,
    pub stage: Step,
    pub value_minor: Option<i64>,
    pub flags: Vec<Flag>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValueShare {
    pub deals: i64,
    /// Major units of the org currency.
    pub value: f64,
    /// Of the seller's open value.
    pub share_of_value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CholesterolSeller {
    pub seller_id: i64,
    pub seller: String,
    pub open_deals: i64,
    pub open_value: f64,
    pub no_need: ValueShare,
    pub no_date: ValueShare,
    pub stale: ValueShare,
    pub seller_scheduled_only: ValueShare,
    pub overdue: ValueShare,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CholesterolDeal {
    pub deal_id: i64,
    pub title: String,
    pub seller: String,
    pub stage: String,
    pub value: Option<f64>,
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cholesterol {
    /// "Stale" means no buyer decision for more than this many days.
    pub stale_days: u32,
    pub sellers: Vec<CholesterolSeller>,
    pub total: CholesterolSeller,
    /// Open deals without a compelling need, largest first: requalify (find the need) or
    /// disqualify them.
    pub to_disqualify_or_requalify: Vec<CholesterolDeal>,
}

pub fn cholesterol(
    ctx: &Context<'_>,
    scope: &Scope,
    stale_days: u32,
    counts: &BTreeMap<UserId, CholesterolCount>,
    flagged: &[FlaggedDeal],
) -> Cholesterol {
    let row = |id: i64, name: String, c: &CholesterolCount| {
        let part = |t: Tally| ValueShare {
            deals: t.deals,
            value: ctx.major(t.value_minor),
            share_of_value: round(share(t.value_minor, c.open.value_minor), 4),
        };
        CholesterolSeller {
            seller_id: id,
            seller: name,
            open_deals: c.open.deals,
            open_value: ctx.major(c.open.value_minor),
            no_need: part(c.no_need),
            no_date: part(c.no_date),
            stale: part(c.stale),
            seller_scheduled_only: part(c.seller_scheduled_only),
            overdue: part(c.overdue),
        }
    };
    let mut total = CholesterolCount::default();
    let mut sellers = Vec::new();
    for u in &scope.users {
        let Some(c) = counts.get(&u.id) else { continue };
        for (t, add) in [
            (&mut total.open, c.open),
            (&mut total.no_need, c.no_need),
            (&mut total.no_date, c.no_date),
            (&mut total.stale, c.stale),
            (&mut total.seller_scheduled_only, c.seller_scheduled_only),
            (&mut total.overdue, c.overdue),
        ] {
            t.add(add);
        }
        sellers.push(row(u.id.0, u.name.clone(), c));
    }
    Cholesterol {
        stale_days,
        sellers,
        total: row(0, "Total".to_owned(), &total),
        to_disqualify_or_requalify: flagged
            .iter()
            .map(|d| CholesterolDeal {
                deal_id: d.id.0,
                title: d.title.clone(),
                seller: scope.name(d.owner),
                stage: ctx.step_name(d.stage),
                value: d.value_minor.map(|v| ctx.major(v)),
                flags: d.flags.iter().map(Flag::words).collect(),
            })
            .collect(),
    }
}

impl ReportView for Cholesterol {
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            "Open value by sign of cholesterol",
            &[
                "seller",
                "open deals",
                "open value",
                "no need",
                "no date",
                "stale",
                "seller-scheduled only",
                "overdue",
            ],
        );
        for s in self.sellers.iter().chain([&self.total]) {
            t.row(vec![
                s.seller.clone().into(),
                Cell::Int(s.open_deals),
                Cell::num(s.open_value),
                Cell::num(s.no_need.value),
                Cell::num(s.no_date.value),
                Cell::num(s.stale.value),
                Cell::num(s.seller_scheduled_only.value),
                Cell::num(s.overdue.value),
            ]);
        }
        let mut d = Table::new(
            "Deals to disqualify or requalify",
            &["deal", "title", "seller", "stage", "value", "flags"],
        );
        for x in &self.to_disqualify_or_requalify {
            d.row(vec![
                Cell::Int(x.deal_id),
                x.title.clone().into(),
                x.seller.clone().into(),
                x.stage.clone().into(),
                Cell::opt(x.value),
                x.flags.join(", ").into(),
            ]);
        }
        vec![t, d]
    }

    fn chart(&self) -> Chart {
        let mut c = Chart::new(
            ChartKind::Bars,
            "Open value by sign of cholesterol",
            "seller",
            "open value",
        );
        c.labels = self.sellers.iter().map(|s| s.seller.clone()).collect();
        let col = |f: fn(&CholesterolSeller) -> f64| self.sellers.iter().map(f).collect();
        c.series("no need", col(|s| s.no_need.value));
        c.series("no date", col(|s| s.no_date.value));
        c.series("stale", col(|s| s.stale.value));
        c.series("seller-scheduled only", col(|s| s.seller_scheduled_only.value));
        c.series("overdue", col(|s| s.overdue.value));
        c
    }
}

// ---------------------------------------------------------------------------------------
// give-up

/// One seller's counts for the give-up report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GiveUpCounts {
    /// Every deal the seller owns.
    pub deals: i64,
    /// Dark deals by follow-ups made since the buyer last answered.
    pub dark_by_followups: Histogram,
    /// Won deals by the longest run of unanswered follow-ups the seller made on them.
    pub won_by_longest_run: Histogram,
    pub dark_by_step: BTreeMap<Step, i64>,
    /// Dark deals by the day (days since 1970-01-01 in the org's calendar) of their last touch.
    pub dark_by_day: BTreeMap<i64, i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Point {
    pub x: i64,
    pub deals: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepCount {
    pub step: u8,
    pub name: String,
    pub deals: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GiveUpSeller {
    pub seller_id: i64,
    pub seller: String,
    pub deals: i64,
    /// Open deals untouched for more than two cadence intervals with no buyer commitment
    /// ahead (the next step overdue, or only the seller's).
    pub dark_deals: i64,
    pub dark_share: f64,
    /// Follow-ups after the buyer's last response, on deals that went dark: the give-up point.
    pub followups_into_silence: Centre,
    pub won_deals: i64,
    /// The longest run of unanswered follow-ups on deals the seller won: what winning took.
    pub followups_before_won: Centre,
    /// Stops following up before the cadence's first phase is over (median follow-ups into
    /// silence below its touches), on at least three dark deals.
    pub gives_up_early: bool,
    /// The curve: dark deals by follow-ups into silence (x = follow-ups).
    pub dark_by_followups: Vec<Point>,
    /// Won deals by their longest unanswered run (x = follow-ups).
    pub won_by_followups: Vec<Point>,
    pub dark_by_step: Vec<StepCount>,
    /// x = day of the month of the last touch.
    pub dark_by_day_of_month: Vec<Point>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GiveUp {
    /// A deal is dark when its last touch is older than this many days (two of the
    /// cadence's later intervals), no buyer commitment is ahead of it (its next step is
    /// overdue or only the seller's), and no definitive no closed it.
    pub dark_after_days: u32,
    /// Follow-ups the cadence makes in its first phase: stopping before is giving up early.
    pub first_phase_followups: u32,
    pub sellers: Vec<GiveUpSeller>,
}

/// Days without a touch after which an open deal has gone dark.
pub fn dark_after_days(cadence: &Cadence) -> u32 {
    2 * cadence.then_every_days
}

pub fn give_up(ctx: &Context<'_>, scope: &Scope, counts: &BTreeMap<UserId, GiveUpCounts>) -> GiveUp {
    let cadence = ctx.cadence;
    let first_phase = (cadence.first_for_days / cadence.first_every_days).max(1);
    let points = |h: &Histogram| h.iter().map(|(x, n)| Point { x: *x, deals: *n }).collect::<Vec<_>>();
    let sellers = scope
        .users
        .iter()
        .filter_map(|u| counts.get(&u.id).map(|c| (u, c)))
        .map(|(u, c)| {
            let dark: i64 = c.dark_by_followups.values().sum();
            let silence = rounded(centre(&c.dark_by_followups));
            let mut days_of_month = BTreeMap::<i64, i64>::new();
            for (day, n) in &c.dark_by_day {
                let date = jiff::civil::date(1970, 1, 1) + jiff::Span::new().days(*day);
                *days_of_month.entry(i64::from(date.day())).or_default() += n;
            }
            GiveUpSeller {
                seller_id: u.id.0,
                seller: u.name.clone(),
                deals: c.deals,
                dark_deals: dark,
                dark_share: round(share(dark, c.deals), 4),
                followups_into_silence: silence,
                won_deals: c.won_by_longest_run.values().sum(),
                followups_before_won: rounded(centre(&c.won_by_longest_run)),
                gives_up_early: dark >= 3 && silence.median.is_some_and(|m| m < f64::from(first_phase)),
                dark_by_followups: points(&c.dark_by_followups),
                won_by_followups: points(&c.won_by_longest_run),
                dark_by_step: c
                    .dark_by_step
                    .iter()
                    .map(|(s, n)| StepCount {
                        step: s.0,
                        name: ctx.step_name(*s),
                        deals: *n,
                    })
                    .collect(),
                dark_by_day_of_month: points(&days_of_month),
            }
        })
        .collect();
    GiveUp {
        dark_after_days: dark_after_days(cadence),
        first_phase_followups: first_phase,
        sellers,
    }
}

impl ReportView for GiveUp {
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            "Follow-ups into silence",
            &[
                "seller",
                "deals",
                "dark",
                "dark share",
                "give-up point (median follow-ups)",
                "mean follow-ups (dark)",
                "won",
                "median follow-ups before won",
                "gives up early",
            ],
        );
        for s in &self.sellers {
            t.row(vec![
                s.seller.clone().into(),
                Cell::Int(s.deals),
                Cell::Int(s.dark_deals),
                Cell::Share(s.dark_share),
                Cell::opt(s.followups_into_silence.median),
                Cell::opt(s.followups_into_silence.mean),
                Cell::Int(s.won_deals),
                Cell::opt(s.followups_before_won.median),
                (if s.gives_up_early { "yes" } else { "" }).into(),
            ]);
        }
        let mut steps = Table::new("Dark deals by step", &["seller", "step", "dark deals"]);
        let mut days = Table::new("Dark deals by day of the month", &["seller", "day", "dark deals"]);
        for s in &self.sellers {
            for p in &s.dark_by_step {
                steps.row(vec![s.seller.clone().into(), p.name.clone().into(), Cell::Int(p.deals)]);
            }
            for p in &s.dark_by_day_of_month {
                days.row(vec![s.seller.clone().into(), Cell::Int(p.x), Cell::Int(p.deals)]);
            }
        }
        vec![t, steps, days]
    }

    fn chart(&self) -> Chart {
        // The coach's curve: for each seller, the share of their dark deals abandoned after
        // n follow-ups into silence.
        let max = self
            .sellers
            .iter()
            .flat_map(|s| s.dark_by_followups.iter().map(|p| p.x))
            .max()
            .unwrap_or(0)
            .clamp(1, 30);
        let mut c = Chart::new(
            ChartKind::Lines,
            "Where each seller gives up",
            "follow-ups after the buyer's last response",
            "share of dark deals",
        );
        c.labels = (0..=max).map(|x| x.to_string()).collect();
        for s in self.sellers.iter().filter(|s| s.dark_deals > 0) {
            let values = (0..=max)
                .map(|x| {
                    let n = s.dark_by_followups.iter().find(|p| p.x == x).map_or(0, |p| p.deals);
                    share(n, s.dark_deals)
                })
                .collect();
            c.series(&s.seller, values);
        }
        c
    }
}

// ---------------------------------------------------------------------------------------
// calibration and win probability

/// Closed deals by the highest step they reached and how they closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeakCount {
    pub peak: Step,
    pub won: bool,
    pub deals: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepRate {
    pub step: u8,
    pub name: String,
    /// Closed deals that reached this step (or higher).
    pub reached: i64,
    pub won: i64,
    /// won / reached: how often a deal at this step is won.
    pub rate: f64,
}

/// Step-to-win rates: of the closed deals that reached each step, the share won. A step no
/// closed deal reached borrows the rate of the step below (or 0), so every step has one.
pub fn step_rates(ctx: &Context<'_>, peaks: &[PeakCount]) -> Vec<StepRate> {
    let top = ctx.ladder.top().0;
    let mut out: Vec<StepRate> = Vec::new();
    for s in 0..top {
        let reached = |won_only: bool| -> i64 {
            peaks
                .iter()
                .filter(|p| p.peak.0 >= s && (!won_only || p.won))
                .map(|p| p.deals)
                .sum()
        };
        let (n, w) = (reached(false), reached(true));
        let rate = if n > 0 {
            round(share(w, n), 4)
        } else {
            out.last().map_or(0.0, |r| r.rate)
        };
        out.push(StepRate {
            step: s,
            name: ctx.step_name(Step(s)),
            reached: n,
            won: w,
            rate,
        });
    }
    out
}

/// The rate for a deal standing on `stage` (the top step is a sale).
pub fn rate_at(rates: &[StepRate], stage: Step) -> f64 {
    rates.get(stage.0 as usize).map_or(1.0, |r| r.rate)
}

/// One seller's month: goal, won, and their self-rated commitment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SellerMonth {
    pub user: UserId,
    pub month: Month,
    pub goal_minor: Option<i64>,
    pub won_minor: i64,
    /// The mean of the month's check-ins, if any.
    pub commitment: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommitmentMonth {
    pub month: String,
    pub commitment: Option<f64>,
    pub goal: Option<f64>,
    pub won: f64,
    /// won / goal.
    pub attainment: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommitmentSeller {
    pub seller_id: i64,
    pub seller: String,
    pub mean_commitment: Option<f64>,
    pub mean_attainment: Option<f64>,
    /// Pearson correlation of commitment and attainment over the months with both.
    pub correlation: Option<f64>,
    pub months: Vec<CommitmentMonth>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Calibration {
    pub steps: Vec<StepRate>,
    pub sellers: Vec<CommitmentSeller>,
}

pub fn calibration(ctx: &Context<'_>, scope: &Scope, peaks: &[PeakCount], months: &[SellerMonth]) -> Calibration {
    let sellers = scope
        .users
        .iter()
        .filter_map(|u| {
            let mine: Vec<&SellerMonth> = months.iter().filter(|m| m.user == u.id).collect();
            if mine.is_empty() {
                return None;
            }
            let rows: Vec<CommitmentMonth> = mine
                .iter()
                .map(|m| CommitmentMonth {
                    month: m.month.to_string(),
                    commitment: m.commitment.map(|c| round(c, 2)),
                    goal: m.goal_minor.map(|g| ctx.major(g)),
                    won: ctx.major(m.won_minor),
                    attainment: m
                        .goal_minor
                        .filter(|g| *g > 0)
                        .map(|g| round(m.won_minor as f64 / g as f64, 4)),
                })
                .collect();
            let mean = |xs: Vec<f64>| (!xs.is_empty()).then(|| round(xs.iter().sum::<f64>() / xs.len() as f64, 4));
            let paired: Vec<(f64, f64)> = rows
                .iter()
                .filter_map(|r| Some((r.commitment?, r.attainment?)))
                .collect();
            let (cs, ats): (Vec<f64>, Vec<f64>) = paired.into_iter().unzip();
            Some(CommitmentSeller {
                seller_id: u.id.0,
                seller: u.name.clone(),
                mean_commitment: mean(rows.iter().filter_map(|r| r.commitment).collect()),
                mean_attainment: mean(rows.iter().filter_map(|r| r.attainment).collect()),
                correlation: correlation(&cs, &ats).map(|r| round(r, 3)),
                months: rows,
            })
        })
        .collect();
    Calibration {
        steps: step_rates(ctx, peaks),
        sellers,
    }
}

impl ReportView for Calibration {
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            "Step-to-win rates",
            &["step", "name", "closed deals reached", "won", "rate"],
        );
        for s in &self.steps {
            t.row(vec![
                Cell::Int(i64::from(s.step)),
                s.name.clone().into(),
                Cell::Int(s.reached),
                Cell::Int(s.won),
                Cell::Share(s.rate),
            ]);
        }
        let mut c = Table::new(
            "Self-rated commitment against attainment",
            &["seller", "mean commitment (1-10)", "mean attainment", "correlation"],
        );
        for s in &self.sellers {
            c.row(vec![
                s.seller.clone().into(),
                Cell::opt(s.mean_commitment),
                s.mean_attainment.map_or(Cell::Blank, Cell::Share),
                Cell::opt(s.correlation),
            ]);
        }
        vec![t, c]
    }

    fn chart(&self) -> Chart {
        let mut c = Chart::new(ChartKind::Bars, "Step-to-win rate", "step", "share of closed deals won");
        c.labels = self.steps.iter().map(|s| s.step.to_string()).collect();
        c.series("win rate", self.steps.iter().map(|s| s.rate).collect());
        c
    }
}

/// Closed deals split for the held-back test: `held_back` deals are scored, the rest fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitPeakCount {
    pub held_back: bool,
    pub count: PeakCount,
}

/// An open deal, as the win-probability report lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenDeal {
    pub id: DealId,
    pub title: String,
    pub owner: UserId,
    pub stage: Step,
    pub value_minor: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DealProbability {
    pub deal_id: i64,
    pub title: String,
    pub seller: String,
    pub stage: String,
    pub value: Option<f64>,
    pub probability: f64,
    pub weighted_value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WinProbability {
    /// "calibrated step rates": P(won | the deal reached its current step), from the org's
    /// closed deals.
    pub model: String,
    /// Rates fitted on all closed deals, used for the open deals.
    pub steps: Vec<StepRate>,
    /// Closed deals held back (every fifth by id), scored by rates fitted on the others.
    pub held_back_deals: i64,
    /// Mean squared error of the held-back predictions (one per step each deal reached
    /// before it closed): 0 is perfect.
    pub brier: Option<f64>,
    /// The same score for always predicting the overall win rate, for comparison.
    pub brier_baseline: Option<f64>,
    /// Open deals, largest weighted value first.
    pub deals: Vec<DealProbability>,
}

/// Which closed deals are held back to score the model: every fifth by id.
pub const HELD_BACK_EVERY: i64 = 5;

pub fn win_probability(
    ctx: &Context<'_>,
    scope: &Scope,
    split: &[SplitPeakCount],
    rates: Vec<StepRate>,
    open: &[OpenDeal],
) -> WinProbability {
    let fit: Vec<PeakCount> = split.iter().filter(|s| !s.held_back).map(|s| s.count).collect();
    let fitted = step_rates(ctx, &fit);
    let base = share(
        fit.iter().filter(|p| p.won).map(|p| p.deals).sum(),
        fit.iter().map(|p| p.deals).sum(),
    );
    let (mut err, mut base_err, mut n) = (0.0, 0.0, 0i64);
    let mut held_back = 0;
    for s in split.iter().filter(|s| s.held_back) {
        let p = s.count;
        held_back += p.deals;
        let y = if p.won { 1.0 } else { 0.0 };
        // One prediction per step the deal stood on before it closed.
        for step in 0..=p.peak.0.min(ctx.ladder.top().0 - 1) {
            let r = rate_at(&fitted, Step(step));
            err += (r - y) * (r - y) * p.deals as f64;
            base_err += (base - y) * (base - y) * p.deals as f64;
            n += p.deals;
        }
    }
    let score = |e: f64| (n > 0).then(|| round(e / n as f64, 4));
    WinProbability {
        model: "calibrated step rates".to_owned(),
        held_back_deals: held_back,
        brier: score(err),
        brier_baseline: score(base_err),
        deals: open
            .iter()
            .map(|d| {
                let p = rate_at(&rates, d.stage);
                DealProbability {
                    deal_id: d.id.0,
                    title: d.title.clone(),
                    seller: scope.name(d.owner),
                    stage: ctx.step_name(d.stage),
                    value: d.value_minor.map(|v| ctx.major(v)),
                    probability: p,
                    weighted_value: d.value_minor.map(|v| round(ctx.major(v) * p, 2)),
                }
            })
            .collect(),
        steps: rates,
    }
}

impl ReportView for WinProbability {
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            "Open deals by weighted value",
            &[
                "deal",
                "title",
                "seller",
                "stage",
                "value",
                "win probability",
                "weighted value",
            ],
        );
        for d in &self.deals {
            t.row(vec![
                Cell::Int(d.deal_id),
                d.title.clone().into(),
                d.seller.clone().into(),
                d.stage.clone().into(),
                Cell::opt(d.value),
                Cell::Share(d.probability),
                Cell::opt(d.weighted_value),
            ]);
        }
        let mut m = Table::new("Model", &["figure", "value"]);
        m.row(vec!["model".into(), self.model.clone().into()]);
        m.row(vec!["held-back closed deals".into(), Cell::Int(self.held_back_deals)]);
        m.row(vec![
            "Brier score (held back)".into(),
            self.brier.map_or(Cell::Blank, |b| Cell::Num(b, 4)),
        ]);
        m.row(vec![
            "Brier score, base rate only".into(),
            self.brier_baseline.map_or(Cell::Blank, |b| Cell::Num(b, 4)),
        ]);
        for s in &self.steps {
            m.row(vec![
                format!("rate at step {} ({})", s.step, s.name).into(),
                Cell::Share(s.rate),
            ]);
        }
        vec![t, m]
    }

    fn chart(&self) -> Chart {
        let mut c = Chart::new(ChartKind::Bars, "Win probability by step", "step", "probability");
        c.labels = self.steps.iter().map(|s| s.step.to_string()).collect();
        c.series("P(won | reached step)", self.steps.iter().map(|s| s.rate).collect());
        c
    }
}
