//! Prints what a demo looks like: counts, deal outcomes, the Today lists, and the planted
//! truths as measured from the generated histories. Streams, so it works at large scale:
//! `cargo run --release -p momentum-demo --example stats -- [seed] [today] [small|large]`

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use momentum_core::model::{DealState, UserId};
use momentum_core::vocab::{Commitment, DealStatus, Outcome, Role};
use momentum_demo::*;

#[derive(Default)]
struct PerSeller {
    deals: usize,
    won: usize,
    touches: usize,
    early_asks: usize,
    backs: usize,
    dark: usize,
    dark_runs: usize,
    long_spells: usize,
    long_spell_runs: usize,
}

struct Stats {
    horizon: Timestamp,
    emails: BTreeMap<UserId, String>,
    sellers: BTreeMap<UserId, PerSeller>,
    status: BTreeMap<DealStatus, usize>,
    no_need: usize,
    won_value: i64,
    overdue: usize,
    due_today: usize,
    future: usize,
}

impl Sink for Stats {
    type Error = std::convert::Infallible;
    fn people(&mut self, people: &People) -> Result<(), Self::Error> {
        for u in people.users.iter().filter(|u| u.role == Role::Seller) {
            self.emails.insert(u.id, u.email.to_string());
        }
        println!("goals {} check-ins {}", people.goals.len(), people.check_ins.len());
        Ok(())
    }

    fn deals(&mut self, batch: Vec<DealHistory>) -> Result<(), Self::Error> {
        let four_weeks = SignedDuration::from_hours(24 * 28);
        for h in batch {
            *self.status.entry(h.deal.status()).or_default() += 1;
            self.no_need += usize::from(h.deal.need.is_none());
            let s = self.sellers.entry(h.deal.owner.id).or_default();
            s.deals += 1;
            if let DealState::Won { .. } = h.deal.state {
                s.won += 1;
                self.won_value += h.deal.value_minor.unwrap_or(0);
            }
            let unanswered =
                |i: &momentum_core::model::Interaction| i.result == Outcome::Stayed && i.commitment == Commitment::None;
            let (mut stage, mut run, mut silent_since) = (0u8, 0usize, h.deal.created_at);
            for (k, i) in h.interactions.iter().enumerate() {
                s.touches += 1;
                s.early_asks += usize::from(i.objective.0 == 7 && stage < 5);
                s.backs += usize::from(i.result == Outcome::Back);
                run += usize::from(unanswered(i));
                let ends = !unanswered(i) || k + 1 == h.interactions.len();
                if ends && run > 0 {
                    let until = if unanswered(i) { self.horizon } else { i.occurred_at };
                    if until.duration_since(silent_since) >= four_weeks {
                        s.long_spells += 1;
                        s.long_spell_runs += run;
                    }
                }
                if !unanswered(i) {
                    run = 0;
                    silent_since = i.occurred_at;
                }
                if let Some(d) = h.decisions.iter().find(|d| d.interaction_seq == Some(i.seq)) {
                    stage = d.to.0;
                }
            }
            if let Some(step) = h.deal.next_step() {
                if step.due < self.horizon - four_weeks {
                    s.dark += 1;
                    s.dark_runs += h.interactions.iter().rev().take_while(|i| unanswered(i)).count();
                } else if step.due < self.horizon {
                    self.overdue += 1;
                } else if step.due < self.horizon + SignedDuration::from_hours(17) {
                    self.due_today += 1;
                } else {
                    self.future += 1;
                }
            }
        }
        Ok(())
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seed = args.get(1).map_or(42, |s| s.parse().expect("seed"));
    let today: jiff::civil::Date = args.get(2).map_or("2026-11-24", String::as_str).parse().expect("date");
    let scale = match args.get(3).map(String::as_str) {
        Some("large") => Scale::Large,
        _ => Scale::Small,
    };
    let horizon = today
        .at(7, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp();
    let mut stats = Stats {
        horizon,
        emails: BTreeMap::new(),
        sellers: BTreeMap::new(),
        status: BTreeMap::new(),
        no_need: 0,
        won_value: 0,
        overdue: 0,
        due_today: 0,
        future: 0,
    };
    let summary = generate(&DemoConfig { seed, scale, today }, &mut stats).unwrap();
    println!("{summary:?}");
    let count = |s| stats.status.get(&s).copied().unwrap_or(0);
    let closed = count(DealStatus::Won) + count(DealStatus::Lost) + count(DealStatus::Disqualified);
    println!(
        "{:?} won/closed {:.3}",
        stats.status,
        count(DealStatus::Won) as f64 / closed as f64
    );
    println!(
        "open next steps (not dark): overdue {} due today {} future {}",
        stats.overdue, stats.due_today, stats.future
    );
    println!("no need share {:.3}", stats.no_need as f64 / summary.deals as f64);
    println!("won value per deal (cents) {}", stats.won_value / summary.deals as i64);
    let ratio = |a: usize, b: usize| a as f64 / b.max(1) as f64;
    for (id, s) in stats.sellers.iter().take(12) {
        println!(
            "{:28} deals {:6} touches {:7} won {:5} early-asks {:.3} backs {:.3} dark {:5} (avg run {:.2}) long quiet {:5} (avg run {:.2})",
            stats.emails[id],
            s.deals,
            s.touches,
            s.won,
            ratio(s.early_asks, s.touches),
            ratio(s.backs, s.touches),
            s.dark,
            ratio(s.dark_runs, s.dark),
            s.long_spells,
            ratio(s.long_spell_runs, s.long_spells),
        );
    }
}
