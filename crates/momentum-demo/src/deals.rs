//! One deal's life, simulated through the core's commands on a simulated clock.
//!
//! A deal is created by its seller, gets its compelling need (or not: planted truth 2),
//! then lives touch by touch: each touch happens at or after the due time of the deal's
//! one next step and is logged with `log_interaction`, whose returned `DealChange` is the
//! deal's next state. The buyer is a small random process: engaged (meetings that advance,
//! stay or go back, ending in a sale or another appointment) or quiet (the seller's
//! follow-ups go unanswered until the buyer answers or says a definitive no). Sellers
//! differ only in the planted ways documented in the crate root.
//!
//! Each deal draws from its own RNG seeded from (seed, deal index), so any deal can be
//! made on its own and in any order.

use momentum_core::commands::{self, Ending, FollowUp, LogInteraction, NeedInput, NewDeal, NextStepInput, Rules};
use momentum_core::model::*;
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::{DealStatus, InteractionKind, LostCategory, NeedKind, Outcome};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::clock::{day_of, weekday, weekday_at_or_after, Calendar, DAY, HOUR, MINUTE};
use crate::people::{AccountRef, Cast, Seller};
use crate::words::*;
use crate::{bug, stream_seed, DealHistory, Scale};

const STREAM_DEALS: u64 = 3;

/// Chances are in per mille, drawn with one roll per touch.
mod odds {
    /// A buyer with a compelling need decides in a meeting (scaled by the seller's skill).
    pub const ADVANCE_NEED: u32 = 380;
    /// Without a compelling need buyers decide much less often ("sales cholesterol").
    pub const ADVANCE_NO_NEED: u32 = 210;
    /// The buyer takes back an earlier decision.
    pub const BACK: u32 = 40;
    /// The buyer stops responding after this meeting.
    pub const GO_QUIET_NEED: u32 = 75;
    pub const GO_QUIET_NO_NEED: u32 = 130;
    /// The buyer's definitive no in a meeting; higher late, where price and rivals bite.
    pub const NO_EARLY: u32 = 16;
    pub const NO_LATE: u32 = 42;
    pub const NO_NO_NEED: u32 = 70;
    /// A cold prospect answers the seller's first touch / a later one.
    pub const COLD_FIRST_ANSWER: u32 = 450;
    pub const COLD_LATER_ANSWER: u32 = 150;
    /// A buyer who went quiet answers a follow-up again.
    pub const QUIET_ANSWER: u32 = 150;
    /// A quiet buyer answers a follow-up with a definitive no.
    pub const QUIET_NO: u32 = 35;
    /// Planted truth 3: how often a seller asks for the signature below step 5.
    pub const TOO_EARLY_ASK: u32 = 300;
    pub const NORMAL_EARLY_ASK: u32 = 15;
    /// The buyer answers a too-early ask by going back a step.
    pub const EARLY_ASK_BACK: u32 = 750;
    /// A deal starts with a booked meeting rather than cold outreach.
    pub const BOOKED_START: u32 = 600;
    /// A needless deal the seller disqualifies after a few touches.
    pub const DISQUALIFY_NO_NEED: u32 = 450;
    /// The seller has not yet done a step due in the last few days.
    pub const BEHIND: u32 = 150;
}

/// Days from a meeting to the next one the buyer books.
const MEETING_GAP: std::ops::RangeInclusive<i64> = 1..=6;

/// Share of deals without a compelling need (planted truth 2): one deal in five.
pub(crate) const NO_NEED_EVERY: u64 = 5;

/// The fixed things every deal's simulation reads.
#[derive(Debug)]
pub(crate) struct World<'a> {
    cal: &'a Calendar,
    rules: Rules<'a>,
    currency: Currency,
    sellers: &'a [Seller],
    /// Cumulative seller weights, for picking an owner with one draw.
    seller_cum: Vec<u32>,
    accounts: &'a [AccountRef],
    account_rows: &'a [Account],
    seed: u64,
    /// How much more often than the small demo's buyers this demo's decide something in a
    /// meeting (per mille), rather than ask for another one.
    pace_permille: u32,
    /// And how much more often, on top of that, they say no (per mille).
    refusal_permille: u32,
}

impl<'a> World<'a> {
    pub(crate) fn new(cast: &'a Cast, cal: &'a Calendar, seed: u64, scale: Scale) -> World<'a> {
        let org = &cast.people.org;
        let mut total = 0;
        let seller_cum = cast
            .sellers
            .iter()
            .map(|s| {
                total += s.weight;
                total
            })
            .collect();
        World {
            cal,
            rules: Rules {
                ladder: &org.ladder,
                cadence: &org.cadence,
            },
            currency: org.currency,
            sellers: &cast.sellers,
            seller_cum,
            accounts: &cast.accounts,
            account_rows: &cast.people.accounts,
            seed,
            // The large demo's buyers decide a little faster (about ten touches a deal, not
            // twelve) and say no a little more, so about the same share of deals is won.
            pace_permille: match scale {
                Scale::Small => 1000,
                Scale::Medium | Scale::Large => 1500,
            },
            refusal_permille: match scale {
                Scale::Small => 1000,
                Scale::Medium | Scale::Large => 1250,
            },
        }
    }

    /// Deal number `index` (id `index + 1`) with its whole history.
    pub(crate) fn deal(&self, index: u64) -> DealHistory {
        let rng = ChaCha8Rng::seed_from_u64(stream_seed(self.seed, STREAM_DEALS, index));
        // Exactly one deal in five, spread evenly, never gets a compelling need.
        let has_need = index.wrapping_add(self.seed) % NO_NEED_EVERY != 0;
        Sim::run(self, rng, DealId(index as i64 + 1), has_need)
    }
}

/// Where the buyer stands with the seller.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Engaged,
    /// The buyer does not answer. `run` counts unanswered touches in this spell; the seller
    /// stops after `limit` of them (only the early give-up sellers have a limit).
    Quiet {
        run: u32,
        limit: u32,
        cold: bool,
    },
}

struct Sim<'w, 'a> {
    w: &'w World<'a>,
    rng: ChaCha8Rng,
    seller: &'w Seller,
    account: AccountRef,
    has_need: bool,
    deal: Deal,
    interactions: Vec<Interaction>,
    decisions: Vec<Decision>,
    phase: Phase,
}

impl<'w, 'a> Sim<'w, 'a> {
    fn run(w: &'w World<'a>, mut rng: ChaCha8Rng, id: DealId, has_need: bool) -> DealHistory {
        let pick = rng.random_range(0..*w.seller_cum.last().expect("the demo has sellers"));
        let seller = &w.sellers[w.seller_cum.partition_point(|&c| c <= pick)];
        let account_index = rng.random_range(0..w.accounts.len());
        let account = w.accounts[account_index];

        let created_day = loop {
            let d = w.cal.today_day - rng.random_range(1..=365);
            if weekday(d) < 5 {
                break d;
            }
        };
        let created = created_day * DAY + rng.random_range(8 * 60..17 * 60) * MINUTE;
        let contact = rng
            .random_bool(0.9)
            .then(|| ContactId(account.first_contact + rng.random_range(0..i64::from(account.contacts))));
        let value_minor = deal_value(&mut rng);
        let expected_close = w.cal.date_of_day(created_day + rng.random_range(30..=150));
        let title = format!(
            "{}: {}",
            w.account_rows[account_index].name,
            PRODUCTS[rng.random_range(0..PRODUCTS.len())]
        );
        let booked = rng.random_range(0..1000) < odds::BOOKED_START;
        let (first_step, phase) = if booked {
            (appointment(&mut rng, created, 1..=7, true), Phase::Engaged)
        } else {
            let quiet = Phase::Quiet {
                run: 0,
                limit: give_up_limit(&mut rng, seller),
                cold: true,
            };
            (FollowUp::Cadence, quiet)
        };
        let deal = commands::create_deal(
            &seller.actor,
            w.rules,
            id,
            NewDeal {
                owner: seller.owner,
                account: Some(AccountId(account_index as i64 + 1)),
                contact,
                title: &title,
                value: Money::new(value_minor, w.currency),
                expected_close: Some(expected_close),
                first_step,
            },
            w.cal.now(created),
        )
        .unwrap_or_else(|e| bug("create_deal", e));
        let mut sim = Sim {
            w,
            rng,
            seller,
            account,
            has_need,
            deal,
            interactions: Vec::with_capacity(16),
            decisions: Vec::with_capacity(8),
            phase,
        };

        let mut disqualify_after = None;
        if has_need {
            // The need surfaced in the conversation that opened the deal.
            let at = created + sim.rng.random_range(5..=30) * MINUTE;
            sim.set_need(at, created_day, value_minor);
        } else if sim.rng.random_range(0..1000) < odds::DISQUALIFY_NO_NEED {
            disqualify_after = Some(sim.rng.random_range(1..=4usize));
        }

        sim.live(disqualify_after);
        DealHistory {
            deal: sim.deal,
            interactions: sim.interactions,
            decisions: sim.decisions,
        }
    }

    /// Touch after touch until the deal closes, the seller gives up, or the clock reaches
    /// the demo's "now".
    fn live(&mut self, disqualify_after: Option<usize>) {
        let horizon = self.w.cal.horizon;
        while let DealState::Open { next_step } = &self.deal.state {
            let (due, committed) = (next_step.due.as_second(), next_step.buyer_committed);
            if let Phase::Quiet { run, limit, .. } = self.phase {
                if run >= limit {
                    // Gone dark: no more touches; the cadence step stays overdue.
                    return;
                }
            }
            let occurred = self.occurrence(due, committed);
            let at = occurred + self.rng.random_range(1..=20) * MINUTE;
            if at >= horizon {
                return;
            }
            if due >= horizon - 6 * DAY && self.rng.random_range(0..1000) < odds::BEHIND {
                // The seller is a few days behind: the step shows as overdue today.
                return;
            }
            match self.phase {
                Phase::Engaged => self.meeting(occurred, at),
                Phase::Quiet { run, limit, cold } => self.follow_up(occurred, at, run, limit, cold),
            }
            if Some(self.interactions.len()) == disqualify_after && self.deal.status() == DealStatus::Open {
                let when = at + self.rng.random_range(5..=30) * MINUTE;
                if when < horizon {
                    let reason = DISQUALIFY_REASONS[self.rng.random_range(0..DISQUALIFY_REASONS.len())];
                    let change = commands::disqualify(
                        &self.seller.actor,
                        &self.deal,
                        reason,
                        Some(self.deal.version),
                        self.w.cal.now(when),
                    )
                    .unwrap_or_else(|e| bug("disqualify", e));
                    self.apply(change);
                }
            }
        }
    }

    /// A touch the buyer takes part in.
    fn meeting(&mut self, occurred: i64, at: i64) {
        let stage = self.deal.stage;
        let ladder = self.w.rules.ladder;
        let top = ladder.top();
        let kind = self.deal.next_step().map_or(InteractionKind::Meeting, |s| s.kind);

        let early_odds = if self.seller.asks_too_early {
            odds::TOO_EARLY_ASK
        } else {
            odds::NORMAL_EARLY_ASK
        };
        if (1..5).contains(&stage.0) && self.roll() < early_odds {
            // Asking for the signature before the decision process is agreed: the buyer
            // steps back (or at best stays), never signs.
            let result = if self.roll() < odds::EARLY_ASK_BACK {
                Outcome::Back
            } else {
                Outcome::Stayed
            };
            let ending = Ending::Scheduled(appointment(&mut self.rng, at, MEETING_GAP, true));
            let notes = pick(&mut self.rng, &NOTES_TOO_EARLY);
            self.log(kind, top, result, ending, notes, occurred, at);
            return;
        }

        let objective = ladder.next_after(stage);
        let (p_no, p_quiet, p_adv) = if self.has_need {
            let no = if stage.0 >= 3 { odds::NO_LATE } else { odds::NO_EARLY };
            (no, odds::GO_QUIET_NEED, odds::ADVANCE_NEED)
        } else {
            (odds::NO_NO_NEED, odds::GO_QUIET_NO_NEED, odds::ADVANCE_NO_NEED)
        };
        let pace = |p: u32| p * self.w.pace_permille / 1000;
        let (p_no, p_quiet) = (pace(p_no) * self.w.refusal_permille / 1000, pace(p_quiet));
        let p_adv = pace(p_adv * self.seller.skill_permille / 1000);
        let p_back = if stage.0 >= 1 { pace(odds::BACK) } else { 0 };
        let r = self.roll();
        if r < p_no {
            let ending = self.definitive_no(false);
            self.log(kind, objective, Outcome::Stayed, ending, "", occurred, at);
        } else if r < p_no + p_quiet {
            self.log_unanswered(objective, occurred, at);
            self.phase = Phase::Quiet {
                run: 1,
                limit: give_up_limit(&mut self.rng, self.seller),
                cold: false,
            };
        } else if r < p_no + p_quiet + p_adv {
            let ending = if objective == top {
                Ending::Sold
            } else {
                // Mostly the buyer books the next meeting; sometimes only the seller does.
                let committed = self.roll() < 880;
                Ending::Scheduled(appointment(&mut self.rng, at, MEETING_GAP, committed))
            };
            let notes = if objective == top {
                pick(&mut self.rng, &NOTES_SOLD)
            } else {
                pick(&mut self.rng, &NOTES_ADVANCED)
            };
            self.log(kind, objective, Outcome::Advanced, ending, notes, occurred, at);
        } else if r < p_no + p_quiet + p_adv + p_back {
            let ending = Ending::Scheduled(appointment(&mut self.rng, at, MEETING_GAP, true));
            self.log(kind, objective, Outcome::Back, ending, "", occurred, at);
        } else {
            let ending = Ending::Scheduled(appointment(&mut self.rng, at, MEETING_GAP, true));
            let notes = pick(&mut self.rng, &NOTES_STAYED);
            self.log(kind, objective, Outcome::Stayed, ending, notes, occurred, at);
        }
    }

    /// A seller's touch to a buyer who has not been answering.
    fn follow_up(&mut self, occurred: i64, at: i64, run: u32, limit: u32, cold: bool) {
        let objective = self.w.rules.ladder.next_after(self.deal.stage);
        let answer = match (cold, run) {
            (true, 0) => odds::COLD_FIRST_ANSWER,
            (true, _) => odds::COLD_LATER_ANSWER,
            (false, _) => odds::QUIET_ANSWER,
        };
        let r = self.roll();
        if r < odds::QUIET_NO {
            let ending = self.definitive_no(true);
            let kind = self.deal.next_step().map_or(InteractionKind::Call, |s| s.kind);
            self.log(kind, objective, Outcome::Stayed, ending, "", occurred, at);
        } else if r < odds::QUIET_NO + answer {
            // The buyer is back: a cold prospect agrees to meet, a quiet one books a meeting.
            let kind = self.deal.next_step().map_or(InteractionKind::Call, |s| s.kind);
            // Signing happens in a meeting, so an answer to a follow-up never reaches the top.
            let top = self.w.rules.ladder.top();
            let decides = self.deal.stage.0 == 0 || self.roll() < 400;
            let result = if decides && objective < top {
                Outcome::Advanced
            } else {
                Outcome::Stayed
            };
            let ending = Ending::Scheduled(appointment(&mut self.rng, at, MEETING_GAP, true));
            let notes = match result {
                Outcome::Advanced => pick(&mut self.rng, &NOTES_ADVANCED),
                _ => pick(&mut self.rng, &NOTES_STAYED),
            };
            self.log(kind, objective, result, ending, notes, occurred, at);
            self.phase = Phase::Engaged;
        } else {
            self.log_unanswered(objective, occurred, at);
            self.phase = Phase::Quiet {
                run: run + 1,
                limit,
                cold,
            };
        }
    }

    /// An unanswered touch: the deal stays and the cadence places the next follow-up.
    fn log_unanswered(&mut self, objective: Step, occurred: i64, at: i64) {
        let kind = match self.roll() {
            0..450 => InteractionKind::Email,
            450..850 => InteractionKind::Call,
            _ => InteractionKind::Message,
        };
        let notes = pick(&mut self.rng, &NOTES_UNANSWERED);
        self.log(
            kind,
            objective,
            Outcome::Stayed,
            Ending::Scheduled(FollowUp::Cadence),
            notes,
            occurred,
            at,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn log(
        &mut self,
        kind: InteractionKind,
        objective: Step,
        result: Outcome,
        ending: Ending,
        notes: &str,
        occurred: i64,
        at: i64,
    ) {
        let contact = self.buyer();
        let input = LogInteraction {
            kind,
            contact: Some(contact),
            objective: Some(objective),
            result,
            reached: None,
            ending: Some(ending),
            notes: notes.to_owned(),
            occurred_at: Some(crate::clock::ts(occurred)),
            expected_version: Some(self.deal.version),
        };
        let change = commands::log_interaction(&self.seller.actor, self.w.rules, &self.deal, input, self.w.cal.now(at))
            .unwrap_or_else(|e| bug("log_interaction", e));
        self.apply(change);
    }

    fn apply(&mut self, change: DealChange) {
        self.interactions.extend(change.interaction);
        self.decisions.extend(change.decision);
        self.deal = change.deal;
    }

    fn set_need(&mut self, at: i64, created_day: i64, value_minor: i64) {
        let kind = match self.roll() {
            0..350 => NeedKind::Problem,
            350..700 => NeedKind::Opportunity,
            _ => NeedKind::Threat,
        };
        let words = pick(&mut self.rng, need_words(kind));
        let consequence = pick(&mut self.rng, &CONSEQUENCES);
        let matters_by = self.w.cal.date_of_day(created_day + self.rng.random_range(30..=180));
        let months = self.rng.random_range(4..=18);
        let cost = (value_minor / months / 10_000).max(1) * 10_000;
        let change = commands::set_need(
            &self.seller.actor,
            &self.deal,
            NeedInput {
                kind,
                buyer_words: words,
                consequence,
                matters_by,
                cost_per_month: Money::new(cost, self.w.currency),
                expected_version: Some(self.deal.version),
            },
            self.w.cal.now(at),
        )
        .unwrap_or_else(|e| bug("set_need", e));
        self.apply(change);
    }

    /// The buyer's definitive no, with a reason fitting where the deal stands.
    fn definitive_no(&mut self, quiet: bool) -> Ending {
        use LostCategory::*;
        let choices: &[LostCategory] = if quiet {
            &[Timing, StatusQuo, Competitor, NoBudget]
        } else if !self.has_need {
            &[NoNeed, NoNeed, StatusQuo, Timing]
        } else if self.deal.stage.0 < 3 {
            &[NoNeed, StatusQuo, NoBudget, Timing, Competitor]
        } else {
            &[Price, Price, Competitor, Competitor, NoBudget, Timing, Other]
        };
        let category = *pick(&mut self.rng, choices);
        let words = pick(&mut self.rng, lost_words(category));
        Ending::DefinitiveNo {
            category,
            buyer_words: (*words).to_owned(),
        }
    }

    /// When a step due at `due` actually happens: appointments mostly on time, the seller's
    /// own follow-ups during working hours on the due day or, when busy, a day later.
    fn occurrence(&mut self, due: i64, buyer_committed: bool) -> i64 {
        if buyer_committed {
            return if self.roll() < 800 {
                due
            } else {
                due + self.rng.random_range(5..=90) * MINUTE
            };
        }
        let day = day_of(due);
        let time_of_day = due - day * DAY;
        let mut t = if time_of_day < 17 * HOUR {
            due.max(day * DAY + 8 * HOUR) + self.rng.random_range(0..120) * MINUTE
        } else {
            (day + 1) * DAY + 8 * HOUR + self.rng.random_range(0..240) * MINUTE
        };
        if self.roll() < 200 {
            t += DAY;
        }
        let d = day_of(t);
        t + (weekday_at_or_after(d) - d) * DAY
    }

    /// Who the seller talks to: mostly the deal's primary contact, else anyone at the account.
    fn buyer(&mut self) -> ContactId {
        let primary = self.deal.contact;
        match primary {
            Some(c) if self.roll() < 750 => c,
            _ => ContactId(self.account.first_contact + self.rng.random_range(0..i64::from(self.account.contacts))),
        }
    }

    fn roll(&mut self) -> u32 {
        self.rng.random_range(0..1000)
    }
}

fn pick<'s, T>(rng: &mut ChaCha8Rng, items: &'s [T]) -> &'s T {
    &items[rng.random_range(0..items.len())]
}

/// $2,000 to $250,000 in whole hundreds, most deals small: integer cents throughout.
fn deal_value(rng: &mut ChaCha8Rng) -> i64 {
    let dollars = match rng.random_range(0..100) {
        0..35 => rng.random_range(20..100) * 100,
        35..75 => rng.random_range(100..500) * 100,
        _ => rng.random_range(500..=2_500) * 100,
    };
    dollars * 100
}

/// A next step `days` working days or so after `at`, during working hours.
fn appointment(rng: &mut ChaCha8Rng, at: i64, days: std::ops::RangeInclusive<i64>, buyer_committed: bool) -> FollowUp {
    let day = weekday_at_or_after(day_of(at) + rng.random_range(days));
    // 09:00 to 16:30, on the half hour.
    let due = day * DAY + rng.random_range(18..=33) * 30 * MINUTE;
    let kind = match rng.random_range(0..1000) {
        0..450 => InteractionKind::Meeting,
        450..750 => InteractionKind::Call,
        750..800 => InteractionKind::Visit,
        800..900 => InteractionKind::Email,
        _ => InteractionKind::Message,
    };
    FollowUp::At(NextStepInput {
        due: crate::clock::ts(due),
        kind,
        aims_at: None,
        buyer_committed,
    })
}

/// How many unanswered touches the seller makes before giving up on a quiet buyer.
fn give_up_limit(rng: &mut ChaCha8Rng, seller: &Seller) -> u32 {
    if seller.gives_up_early {
        rng.random_range(1..=3)
    } else {
        u32::MAX
    }
}
