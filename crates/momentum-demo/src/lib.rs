//! The demo org: a deterministic sales team shaped by the method, for trying Momentum and
//! for benchmarks. The same seed and `today` give the same data and the same ids.
//!
//! Every deal is simulated through the core's command functions, so the demo obeys the
//! same invariants as data entered by hand. Output goes to a [`Sink`] in batches, so the
//! large scale (1M deals, 10M interactions) streams instead of living in memory.
//!
//! This crate owns the demo's shape: who works in the org ([`People`]), how each deal's
//! history unfolds, and the planted truths below. It writes nothing itself; the caller's
//! sink does (and hashes [`DEMO_PASSWORD`] for the users).
//!
//! # The demo org
//!
//! "Demo Sales" (org 1, USD, time zone UTC). Users, in id order: Ada Admin
//! (`admin@demo.momentum.test`), Maria Lopez (`maria.manager@…`) and Mark Chen
//! (`mark.manager@…`), then eight sellers: Sam, Priya, Leo and Grace on Maria's team, Omar,
//! Julia, Ken and Zoe on Mark's (`sam@demo.momentum.test`, …). The large scale keeps these
//! eleven users with the same ids and adds 18 managers and 192 sellers (20 teams of 10).
//!
//! The history covers the twelve months before `today` and stops at `today` 07:00 UTC:
//! steps due later today are due today, and a few from the last days are overdue. Deals
//! are won in about 25–30% of closed ones. The large scale's buyers decide a little faster
//! (about ten touches a deal instead of twelve), with the same planted truths.
//!
//! # Planted truths
//!
//! The coaching reports should find these; [`planted_truths`] lists them for tests.
//!
//! 1. **Early give-up.** Leo (`leo@demo.momentum.test`) and Julia
//!    (`julia@demo.momentum.test`) stop following up when a buyer stops answering: after
//!    1–3 unanswered touches (result `stayed`, seller follow-up placed by the cadence) the
//!    deal goes dark, left open with its cadence step overdue and never touched again. Every
//!    other seller keeps following up on the cadence (every 7 then 14 days) for months,
//!    until the buyer answers, says a definitive no, or the history ends. (Leo and Julia
//!    rate their own commitment high in check-ins all the same.)
//! 2. **No compelling need.** Exactly one deal in five (20%) never gets a compelling need
//!    (the others get theirs when the deal is opened); those buyers decide less often, say
//!    no more often, and about a third of those deals are disqualified by their seller
//!    after a few touches.
//! 3. **Closing too early.** Grace (`grace@demo.momentum.test`) and Ken
//!    (`ken@demo.momentum.test`) often ask for the signature (objective: the top step,
//!    "signed") while the deal stands on steps 1–4, below "agreed the decision process";
//!    the buyer mostly answers by going back a step. Other sellers do it rarely.

mod clock;
mod deals;
mod people;
mod words;

use jiff::civil::Date;
use momentum_core::model::*;
use momentum_core::DomainError;

/// How big a demo to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// 1 admin, 2 managers, 8 sellers, ~300 accounts, 2,000 deals, ~25,000 interactions.
    Small,
    /// The large demo's people (200 sellers in 20 teams) with 100,000 deals and 10,000
    /// accounts: the benchmark's reads at a tenth of the size.
    Medium,
    /// 1,000,000 deals and ~10,000,000 interactions, for benchmarks.
    Large,
}

impl Scale {
    /// How many deals this scale makes.
    pub fn deals(self) -> u64 {
        match self {
            Scale::Small => 2_000,
            Scale::Medium => 100_000,
            Scale::Large => 1_000_000,
        }
    }
}

/// The people and buyers of the demo org, written before any deal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct People {
    pub org: Org,
    pub users: Vec<User>,
    pub accounts: Vec<Account>,
    pub contacts: Vec<Contact>,
    pub goals: Vec<Goal>,
    pub check_ins: Vec<CheckIn>,
}

/// One deal with its whole history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealHistory {
    pub deal: Deal,
    pub interactions: Vec<Interaction>,
    pub decisions: Vec<Decision>,
}

/// Where the generated demo goes (the store's bulk writer).
pub trait Sink {
    type Error;
    fn people(&mut self, people: &People) -> Result<(), Self::Error>;
    /// Called repeatedly with consecutive batches of deals, in id order.
    fn deals(&mut self, batch: Vec<DealHistory>) -> Result<(), Self::Error>;
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoConfig {
    pub seed: u64,
    pub scale: Scale,
    /// The demo's "today": the history covers the year before it.
    pub today: Date,
}

/// Every demo user's password. The CLI prints it; the caller hashes it.
pub const DEMO_PASSWORD: &str = "momentum-demo";

/// The e-mail domain of the demo's users.
pub(crate) const DOMAIN: &str = "demo.momentum.test";

/// How many rows the demo made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub users: usize,
    pub accounts: usize,
    pub contacts: usize,
    pub deals: usize,
    pub interactions: usize,
    pub decisions: usize,
}

/// The planted truths, so tests of later reports can look them up by e-mail.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedTruths {
    /// Sellers who stop after 1–3 unanswered follow-ups, leaving the deal dark.
    pub early_give_up_sellers: Vec<&'static str>,
    /// Sellers who ask for the signature while the deal stands below step 5.
    pub too_early_closers: Vec<&'static str>,
    /// Share of deals that never get a compelling need.
    pub no_need_share: f64,
}

/// The truths planted in every demo, at every scale and seed (see the crate docs).
pub fn planted_truths() -> PlantedTruths {
    PlantedTruths {
        early_give_up_sellers: people::GIVE_UP_SELLERS.to_vec(),
        too_early_closers: people::TOO_EARLY_SELLERS.to_vec(),
        no_need_share: 1.0 / deals::NO_NEED_EVERY as f64,
    }
}

/// Deals handed to the sink at once.
pub const BATCH_SIZE: usize = 10_000;

/// Generates the demo org into `sink`: first [`People`], then the deals in batches of
/// [`BATCH_SIZE`], in id order. Only the sink can fail.
pub fn generate<S: Sink>(config: &DemoConfig, sink: &mut S) -> Result<Summary, S::Error> {
    let cal = clock::Calendar::new(config.today);
    let cast = people::make(config.seed, config.scale, &cal);
    sink.people(&cast.people)?;
    let mut summary = Summary {
        users: cast.people.users.len(),
        accounts: cast.people.accounts.len(),
        contacts: cast.people.contacts.len(),
        ..Summary::default()
    };
    let world = deals::World::new(&cast, &cal, config.seed, config.scale);
    let total = config.scale.deals();
    let mut batch = Vec::with_capacity(BATCH_SIZE.min(total as usize));
    for index in 0..total {
        let history = world.deal(index);
        summary.deals += 1;
        summary.interactions += history.interactions.len();
        summary.decisions += history.decisions.len();
        batch.push(history);
        if batch.len() == BATCH_SIZE {
            sink.deals(std::mem::replace(&mut batch, Vec::with_capacity(BATCH_SIZE)))?;
        }
    }
    if !batch.is_empty() {
        sink.deals(batch)?;
    }
    Ok(summary)
}

/// A seed for one independent random stream: `stream` names what it is for, `index`
/// which one (a deal's index). SplitMix64 finalisers decorrelate neighbouring inputs.
pub(crate) fn stream_seed(seed: u64, stream: u64, index: u64) -> u64 {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    mix(mix(seed ^ mix(stream)) ^ index)
}

/// The core refused a generated input: a bug in this generator, never bad user input.
#[track_caller]
pub(crate) fn bug(command: &str, error: DomainError) -> ! {
    panic!("demo generator bug: the core refused {command}: {error}")
}
