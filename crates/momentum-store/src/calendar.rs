//! A seller's private calendar feed: the token that opens it (kept as a hash, revocable,
//! one live feed per user), and the events it lists (the next step of each of the user's
//! open deals: buyer appointments and seller follow-ups).

use jiff::Timestamp;
use momentum_core::model::*;
use momentum_core::vocab::InteractionKind;
use momentum_core::DomainError;

use crate::error::StoreResult;
use crate::map;
use crate::ops::{self, Session};
use crate::Store;

/// One next step as the feed shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub deal: DealId,
    pub title: String,
    pub account: Option<String>,
    /// The deal's version: bumped by every change, so it serves as the event's SEQUENCE.
    pub version: i64,
    pub due: Timestamp,
    pub kind: InteractionKind,
    pub aims_at: Step,
    pub buyer_committed: bool,
    pub set_at: Timestamp,
}

/// Starts a new feed for the session's user, revoking any earlier one (its URL stops working).
pub fn new_feed(store: &mut Store, s: &Session, token_hash: &str, now: Timestamp) -> StoreResult<()> {
    store.write(|tx| {
        tx.exec(
            "UPDATE calendar_feeds SET revoked_at = $3 WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL",
            &[s.org.id.0.into(), s.user.id.0.into(), map::ts(now)],
        )?;
        tx.exec(
            "INSERT INTO calendar_feeds (org_id, user_id, token_hash, created_at) VALUES ($1, $2, $3, $4)",
            &[s.org.id.0.into(), s.user.id.0.into(), token_hash.into(), map::ts(now)],
        )?;
        Ok(())
    })
}

/// Revokes the session user's feed; refused when there is none.
pub fn revoke_feed(store: &mut Store, s: &Session, now: Timestamp) -> StoreResult<()> {
    store.write(|tx| {
        let n = tx.exec(
            "UPDATE calendar_feeds SET revoked_at = $3 WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL",
            &[s.org.id.0.into(), s.user.id.0.into(), map::ts(now)],
        )?;
        if n == 0 {
            return Err(DomainError::not_found("calendar feed of", s.user.email.as_str()).into());
        }
        Ok(())
    })
}

/// When the session user's live feed was made, or `None` when they have none.
pub fn live_feed(store: &mut Store, s: &Session) -> StoreResult<Option<Timestamp>> {
    store.read(|tx| {
        tx.query_one(
            "SELECT created_at FROM calendar_feeds WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL",
            &[s.org.id.0.into(), s.user.id.0.into()],
        )?
        .map(|r| map::read_ts(&r, 0))
        .transpose()
    })
}

/// The org and user a live feed token opens; `None` for an unknown or revoked token, or an
/// inactive user.
pub fn feed_session(store: &mut Store, org: OrgId, token_hash: &str) -> StoreResult<Option<Session>> {
    store.read(|tx| {
        let Some(row) = tx.query_one(
            "SELECT user_id FROM calendar_feeds WHERE org_id = $1 AND token_hash = $2 AND revoked_at IS NULL",
            &[org.0.into(), token_hash.into()],
        )?
        else {
            return Ok(None);
        };
        let Some(user) = ops::user_by_id(tx, org, UserId(row.int(0)?))?.filter(|u| u.active) else {
            return Ok(None);
        };
        Ok(Some(Session {
            org: ops::load_org(tx, org)?,
            user,
        }))
    })
}

/// The next steps of the session user's own open deals, soonest first.
pub fn events(store: &mut Store, s: &Session) -> StoreResult<Vec<Event>> {
    store.read(|tx| {
        tx.query(
            "SELECT d.deal_id, d.title, a.name, d.version, n.due_at, n.kind, n.aims_at, n.buyer_committed, n.set_at \
             FROM deals d JOIN next_steps n ON n.org_id = d.org_id AND n.deal_id = d.deal_id \
             LEFT JOIN accounts a ON a.org_id = d.org_id AND a.account_id = d.account_id \
             WHERE d.org_id = $1 AND d.owner_id = $2 AND d.status = 'open' ORDER BY n.due_at, d.deal_id",
            &[s.org.id.0.into(), s.user.id.0.into()],
        )?
        .iter()
        .map(|r| {
            Ok(Event {
                deal: DealId(r.int(0)?),
                title: r.text(1)?.to_owned(),
                account: r.opt_text(2)?.map(str::to_owned),
                version: r.int(3)?,
                due: map::read_ts(r, 4)?,
                kind: map::word(r, 5, InteractionKind::parse)?,
                aims_at: map::step(r, 6)?,
                buyer_committed: r.bool(7)?,
                set_at: map::read_ts(r, 8)?,
            })
        })
        .collect()
    })
}
