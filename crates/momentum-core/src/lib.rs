//! Momentum's domain core: the sales method as types and command functions.
//!
//! No I/O lives here: no database, no HTTP, no clock. Callers pass the current time
//! ([`model::Now`]) and what storage loaded; commands return what to write. The six
//! invariants of the method hold because every path calls these functions:
//!
//! 1. an open deal always has exactly one next step ([`model::DealState::Open`] holds it);
//! 2. a deal's stage changes only through a recorded buyer decision;
//! 3. a deal closes only as won (a sale), lost (the buyer's definitive no, in their words)
//!    or disqualified (no compelling need, with a reason);
//! 4. the decision ledger and the interaction log are append-only ([`model::DealChange`]
//!    can only add entries);
//! 5. a seller acts on their own deals, a manager on their team's, an admin on the org's;
//! 6. money is integer minor units ([`money::Money`]).

pub mod cholesterol;
pub mod commands;
pub mod error;
pub mod import;
pub mod model;
pub mod money;
pub mod reports;
pub mod vocab;

pub use error::{DomainError, Result};
