//! Reports counted over interactions (from the maintained interaction summary): the
//! results mix and close timing.

use std::collections::BTreeMap;

use serde::Serialize;

use super::*;

/// Counts of interactions by how they went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Mix {
    interactions: i64,
    advanced: i64,
    stayed: i64,
    back: i64,
    sold: i64,
    buyer_committed: i64,
}

impl Mix {
    fn add(&mut self, f: &FactCount) {
        let n = f.interactions;
        self.interactions += n;
        match f.fact.result {
            Outcome::Advanced => self.advanced += n,
            Outcome::Stayed => self.stayed += n,
            Outcome::Back => self.back += n,
        }
        match f.fact.commitment {
            Commitment::Sold => self.sold += n,
            Commitment::Scheduled => self.buyer_committed += n,
            Commitment::DefinitiveNo | Commitment::None => {}
        }
    }

    fn row(&self, id: i64, name: String) -> MixRow {
        MixRow {
            id,
            name,
            interactions: self.interactions,
            advanced: round(share(self.advanced, self.interactions), 4),
            stayed: round(share(self.stayed, self.interactions), 4),
            back: round(share(self.back, self.interactions), 4),
            sell_or_schedule_rate: round(share(self.sold + self.buyer_committed, self.interactions), 4),
        }
    }
}

/// The months of `window` a fact must fall in.
fn in_window(window: &Window, month: Month) -> bool {
    window.from.is_none_or(|f| month >= Month::of(f)) && window.to.is_none_or(|t| month <= Month::of(t))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MixRow {
    /// The seller's id, or the step.
    pub id: i64,
    pub name: String,
    pub interactions: i64,
    /// Shares of the interactions (0–1).
    pub advanced: f64,
    pub stayed: f64,
    pub back: f64,
    /// Share that ended in a sale or a buyer-committed next step.
    pub sell_or_schedule_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Results {
    pub sellers: Vec<MixRow>,
    /// By the step the deal stood on when the interaction began.
    pub steps: Vec<MixRow>,
    pub total: MixRow,
}

pub fn results(ctx: &Context<'_>, scope: &Scope, window: &Window, facts: &[FactCount]) -> Results {
    let mut sellers = BTreeMap::<UserId, Mix>::new();
    let mut steps = BTreeMap::<Step, Mix>::new();
    let mut total = Mix::default();
    for f in facts
        .iter()
        .filter(|f| scope.covers(f.fact.user) && in_window(window, f.fact.month))
    {
        sellers.entry(f.fact.user).or_default().add(f);
        steps.entry(f.fact.stage_before).or_default().add(f);
        total.add(f);
    }
    Results {
        sellers: sellers.iter().map(|(u, m)| m.row(u.0, scope.name(*u))).collect(),
        steps: steps
            .iter()
            .map(|(s, m)| m.row(i64::from(s.0), ctx.step_name(*s)))
            .collect(),
        total: total.row(0, "Total".to_owned()),
    }
}

fn mix_table(title: &str, first: &str, rows: &[&MixRow]) -> Table {
    let mut t = Table::new(
        title,
        &[
            first,
            "interactions",
            "advanced",
            "stayed",
            "back",
            "sell-or-schedule rate",
        ],
    );
    for r in rows {
        t.row(vec![
            r.name.clone().into(),
            Cell::Int(r.interactions),
            Cell::Share(r.advanced),
            Cell::Share(r.stayed),
            Cell::Share(r.back),
            Cell::Share(r.sell_or_schedule_rate),
        ]);
    }
    t
}

impl ReportView for Results {
    fn tables(&self) -> Vec<Table> {
        let sellers: Vec<&MixRow> = self.sellers.iter().chain([&self.total]).collect();
        let steps: Vec<&MixRow> = self.steps.iter().collect();
        vec![
            mix_table("Results by seller", "seller", &sellers),
            mix_table("Results by the step the deal stood on", "step", &steps),
        ]
    }

    fn chart(&self) -> Chart {
        let mut c = Chart::new(
            ChartKind::Bars,
            "What each seller's interactions did",
            "seller",
            "share",
        );
        c.labels = self.sellers.iter().map(|s| s.name.clone()).collect();
        let col = |f: fn(&MixRow) -> f64| self.sellers.iter().map(f).collect();
        c.series("advanced", col(|r| r.advanced));
        c.series("stayed", col(|r| r.stayed));
        c.series("back", col(|r| r.back));
        c.series("sell or schedule", col(|r| r.sell_or_schedule_rate));
        c
    }
}

// ---------------------------------------------------------------------------------------
// close-timing

/// One seller's open deals waiting at the last step before signing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LastStepWait {
    pub waiting: i64,
    /// Summed whole days since each reached the step (its last buyer decision).
    pub days_waiting: i64,
    /// Of those, how many are past their expected close (or their need's date).
    pub never: i64,
}

/// The step below which asking for the signature is too early: the buyer has not yet
/// agreed the decision process (the two steps before signing are the decision process and
/// the terms, on the default ladder).
pub fn decision_process_step(ladder: &Ladder) -> Step {
    Step(ladder.top().0.saturating_sub(2).max(1))
}

/// The step a deal waits at for the signature.
pub fn last_step_before_signing(ladder: &Ladder) -> Step {
    Step(ladder.top().0 - 1)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CloseTimingSeller {
    pub seller_id: i64,
    pub seller: String,
    pub interactions: i64,
    /// Interactions that asked for the signature.
    pub asked_for_sale: i64,
    /// Asked before the buyer agreed the decision process.
    pub asked_early: i64,
    /// Asked early and the deal went back: too early.
    pub too_early: i64,
    /// too_early / interactions.
    pub too_early_share: f64,
    /// At least three too-early asks making 5% or more of the seller's interactions.
    pub asks_too_early: bool,
    /// Open deals waiting at the last step before signing.
    pub waiting_at_last_step: i64,
    pub mean_days_waiting: Option<f64>,
    /// Open at the last step past their expected close: never asked.
    pub never: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CloseTiming {
    /// Asking below this step (the decision process agreed) is early.
    pub decision_process_step: String,
    pub last_step: String,
    pub sellers: Vec<CloseTimingSeller>,
}

/// Share of interactions above which too-early asks mark a habit.
pub const TOO_EARLY_HABIT: f64 = 0.05;

pub fn close_timing(
    ctx: &Context<'_>,
    scope: &Scope,
    window: &Window,
    facts: &[FactCount],
    waits: &BTreeMap<UserId, LastStepWait>,
) -> CloseTiming {
    let top = ctx.ladder.top();
    let gate = decision_process_step(ctx.ladder);
    let mut per = BTreeMap::<UserId, (i64, i64, i64, i64)>::new();
    for f in facts
        .iter()
        .filter(|f| scope.covers(f.fact.user) && in_window(window, f.fact.month))
    {
        let e = per.entry(f.fact.user).or_default();
        let n = f.interactions;
        e.0 += n;
        if f.fact.objective == top {
            e.1 += n;
            if f.fact.stage_before < gate {
                e.2 += n;
                if f.fact.result == Outcome::Back {
                    e.3 += n;
                }
            }
        }
    }
    let sellers = scope
        .users
        .iter()
        .filter(|u| per.contains_key(&u.id) || waits.contains_key(&u.id))
        .map(|u| {
            let (n, asked, early, too_early) = per.get(&u.id).copied().unwrap_or_default();
            let w = waits.get(&u.id).copied().unwrap_or_default();
            let too_early_share = round(share(too_early, n), 4);
            CloseTimingSeller {
                seller_id: u.id.0,
                seller: u.name.clone(),
                interactions: n,
                asked_for_sale: asked,
                asked_early: early,
                too_early,
                too_early_share,
                asks_too_early: too_early >= 3 && too_early_share >= TOO_EARLY_HABIT,
                waiting_at_last_step: w.waiting,
                mean_days_waiting: (w.waiting > 0).then(|| round(share(w.days_waiting, w.waiting), 1)),
                never: w.never,
            }
        })
        .collect();
    CloseTiming {
        decision_process_step: ctx.step_name(gate),
        last_step: ctx.step_name(last_step_before_signing(ctx.ladder)),
        sellers,
    }
}

impl ReportView for CloseTiming {
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            "Close timing",
            &[
                "seller",
                "interactions",
                "asked for the sale",
                "asked early",
                "too early (went back)",
                "too-early share",
                "asks too early",
                "waiting at last step",
                "mean days waiting",
                "never asked (past close)",
            ],
        );
        for s in &self.sellers {
            t.row(vec![
                s.seller.clone().into(),
                Cell::Int(s.interactions),
                Cell::Int(s.asked_for_sale),
                Cell::Int(s.asked_early),
                Cell::Int(s.too_early),
                Cell::Share(s.too_early_share),
                (if s.asks_too_early { "yes" } else { "" }).into(),
                Cell::Int(s.waiting_at_last_step),
                Cell::opt(s.mean_days_waiting),
                Cell::Int(s.never),
            ]);
        }
        vec![t]
    }

    fn chart(&self) -> Chart {
        let mut c = Chart::new(ChartKind::Bars, "Close timing by seller", "seller", "deals");
        c.labels = self.sellers.iter().map(|s| s.seller.clone()).collect();
        let col = |f: fn(&CloseTimingSeller) -> i64| self.sellers.iter().map(|s| f(s) as f64).collect();
        c.series("too early", col(|s| s.too_early));
        c.series("waiting at last step", col(|s| s.waiting_at_last_step));
        c.series("never", col(|s| s.never));
        c
    }
}
