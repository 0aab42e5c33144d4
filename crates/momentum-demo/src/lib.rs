//! The demo org: a deterministic sales team shaped by the method, for trying Momentum and
//! for benchmarks. The same seed and `today` give the same data and the same ids.
//!
//! Every deal is simulated through the core's command functions, so the demo obeys the
//! same invariants as data entered by hand. Output goes to a [`Sink`] in batches, so the
//! large scale (1M deals, 10M interactions) streams instead of living in memory.

use momentum_core::model::*;

/// How big a demo to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// 1 admin, 2 managers, 8 sellers, ~300 accounts, 2,000 deals, ~25,000 interactions.
    Small,
    /// 1,000,000 deals and ~10,000,000 interactions, for benchmarks.
    Large,
}

/// The people and buyers of the demo org, written before any deal.
#[derive(Debug, Clone)]
pub struct People {
    pub org: Org,
    pub users: Vec<User>,
    pub accounts: Vec<Account>,
    pub contacts: Vec<Contact>,
    pub goals: Vec<Goal>,
    pub check_ins: Vec<CheckIn>,
}

/// One deal with its whole history.
#[derive(Debug, Clone)]
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
