//! Imported history: the rules for recording another system's deals as they were.
//!
//! DESIGN.md: "an import never invents buyer decisions". A deal closed in the source keeps
//! its status and dates; a lost deal whose source holds no buyer words is lost with the
//! reason [`NOT_RECORDED`]; blank values stay blank; a deal's stage comes only from the
//! source's own stage history (each change one ledger entry, with no buyer named, since the
//! source does not say who decided); an open deal keeps the next step the source had
//! planned for it (its next activity, or an open task), and one without gets a seller
//! follow-up from the org's cadence; neither is a buyer appointment, since the source does
//! not say the buyer agreed. Re-importing the same
//! record changes nothing; a changed record is a new version, and a changed stage a new
//! ledger entry (the ledger stays append-only).

use jiff::civil::Date;
use jiff::Timestamp;

use crate::commands::{Rules, TITLE_MAX, WORDS_MAX};
use crate::error::DomainError;
use crate::model::*;
use crate::money::{Currency, Money};
use crate::vocab::*;

/// The reason kept for a lost (or disqualified) deal whose source did not say why.
pub const NOT_RECORDED: &str = "not recorded in source";

/// A stage the source recorded for the deal at a time (Salesforce OpportunityHistory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageChange {
    pub at: Timestamp,
    pub step: Step,
    /// The stage's name in the source, kept in the ledger entry's note.
    pub label: String,
}

/// One deal as the source recorded it, with names already resolved to ids.
#[derive(Debug, Clone)]
pub struct ImportedDeal<'a> {
    pub external_id: Option<&'a str>,
    pub owner: Owner,
    pub account: Option<AccountId>,
    pub contact: Option<ContactId>,
    pub title: &'a str,
    /// Minor units in `currency`; blank when the source left it blank.
    pub value_minor: Option<i64>,
    pub currency: Currency,
    pub created: Option<Timestamp>,
    pub expected_close: Option<Date>,
    /// When a closed deal closed (the caller falls back to the expected close date).
    pub closed: Option<Timestamp>,
    pub status: DealStatus,
    /// The stage the source says the deal stands on now, with its source name.
    pub stage: Option<(Step, &'a str)>,
    /// The source's reason category for a lost deal (Momentum's own exports carry it).
    pub lost_category: Option<LostCategory>,
    /// The source's stated reason for a lost or disqualified deal.
    pub lost_reason: Option<&'a str>,
    /// The source's dated stage history, oldest first.
    pub history: &'a [StageChange],
    /// Where the row came from: "salesforce:Opportunity.csv:12".
    pub provenance: String,
    /// The next step the source had planned (its "next activity date").
    pub next_step: Option<PlannedStep>,
}

/// A step the source had planned on an open deal: a dated activity not yet done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    pub due: Timestamp,
    /// `None` when the source gave only a date (a call, unless the step already says).
    pub kind: Option<InteractionKind>,
    /// The user the source assigned it to (the deal's owner when it does not say).
    pub by: Option<UserId>,
}

/// What importing one deal produces: the deal as it now stands and the ledger entries to
/// append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRecord {
    pub deal: Deal,
    pub decisions: Vec<Decision>,
    /// The source had no creation date: the import time stands in (counted as a warning).
    pub created_was_blank: bool,
    /// False when re-importing found the deal exactly as stored: nothing to write.
    pub changed: bool,
}

/// Imports one deal: validates it and returns the deal to write (new, or the next version
/// of `existing`, the deal with the same external id). Every broken rule of the row is
/// returned, not only the first.
pub fn import_deal(
    actor: &Actor,
    rules: Rules<'_>,
    id: DealId,
    existing: Option<&Deal>,
    input: ImportedDeal<'_>,
    now: Now,
) -> Result<ImportedRecord, Vec<DomainError>> {
    actor.ensure_admin("importing").map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let title = check_text("title", input.title, TITLE_MAX, "a deal has a title")
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    if let Some(v) = input.value_minor.filter(|v| *v < 0) {
        errors.push(DomainError::invalid("value", v, "a deal's value is not negative"));
    }
    if let Some(v) = input.value_minor.filter(|v| *v > Money::MAX_MINOR) {
        errors.push(DomainError::invalid("value", v, Money::max_rule("a deal's value")));
    }
    let created_was_blank = input.created.is_none() && existing.is_none();
    let created_at = input.created.or(existing.map(|d| d.created_at)).unwrap_or(now.at);
    if created_at > now.at {
        errors.push(DomainError::invalid(
            "created",
            created_at,
            "a deal's creation date cannot lie in the future",
        ));
    }
    for (field, text) in [("lost_reason", input.lost_reason)] {
        if let Some(t) = text {
            if let Err(e) = check_len(field, t.trim(), WORDS_MAX) {
                errors.push(e);
            }
        }
    }
    let closed_at = match input.status {
        DealStatus::Open => None,
        status => match input.closed {
            Some(at) => Some(at),
            None => {
                errors.push(DomainError::missing(
                    "closed",
                    format!("a {status} deal keeps the date it closed: map the `closed` (or `expected_close`) column"),
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut deal = match existing {
        Some(d) => d.clone(),
        None => Deal {
            id,
            owner: input.owner,
            account: None,
            contact: None,
            title: String::new(),
            value_minor: None,
            currency: input.currency,
            expected_close: None,
            stage: Step(0),
            state: DealState::Won { at: created_at },
            need: None,
            version: 1,
            created_at,
            interaction_count: 0,
            decision_count: 0,
            last_touch_at: None,
            last_buyer_response_at: None,
            last_decision_at: None,
            peak_stage: Step(0),
            unanswered: 0,
            longest_unanswered: 0,
            provenance: None,
            external_id: None,
        },
    };
    deal.owner = input.owner;
    deal.account = input.account.or(existing.and_then(|d| d.account));
    deal.contact = input.contact.or(existing.and_then(|d| d.contact));
    deal.title = title;
    deal.value_minor = input.value_minor;
    deal.currency = input.currency;
    deal.expected_close = input.expected_close;
    deal.created_at = created_at;
    deal.provenance = Some(input.provenance);
    deal.external_id = input.external_id.map(str::to_owned);

    // The ledger: the source's stage changes not yet recorded, then the current stage if
    // the history does not end on it.
    let recorded_until = existing.and_then(|d| d.last_decision_at);
    let mut decisions = Vec::new();
    let mut append = |deal: &mut Deal, to: Step, at: Timestamp, label: &str, dated: bool| {
        if to == deal.stage {
            return;
        }
        let note = if dated {
            format!("imported stage \"{label}\"")
        } else {
            format!("imported stage \"{label}\" (the source did not record when the buyer decided)")
        };
        let decision = Decision {
            seq: deal.decision_count + 1,
            from: deal.stage,
            to,
            direction: if to > deal.stage {
                Direction::Advance
            } else {
                Direction::Back
            },
            contact: None,
            decided_at: at,
            recorded_by: Some(actor.user),
            interaction_seq: None,
            note: Some(note),
        };
        deal.stage = to;
        deal.peak_stage = deal.peak_stage.max(to);
        deal.decision_count = decision.seq;
        deal.last_decision_at = Some(deal.last_decision_at.map_or(at, |l| l.max(at)));
        decisions.push(decision);
    };
    for change in input.history {
        if recorded_until.is_some_and(|until| change.at <= until) {
            continue;
        }
        let step = rules.ladder.check("stage", change.step).map_err(|e| vec![e])?;
        append(&mut deal, step, change.at, &change.label, true);
    }
    if let Some((step, label)) = input.stage {
        let step = rules.ladder.check("stage", step).map_err(|e| vec![e])?;
        let at = if existing.is_some() {
            now.at
        } else {
            closed_at.unwrap_or(created_at).min(now.at)
        };
        append(&mut deal, step, at, label, false);
    }

    deal.state = match input.status {
        DealStatus::Open => {
            let kept = existing
                .and_then(|d| d.next_step())
                .filter(|n| n.aims_at > deal.stage || deal.stage == rules.ladder.top())
                .cloned();
            DealState::Open {
                next_step: kept.unwrap_or_else(|| NextStep {
                    due: rules
                        .cadence
                        .next_follow_up(deal.last_buyer_response_at.unwrap_or(created_at), now.at),
                    kind: InteractionKind::Call,
                    aims_at: rules.ladder.next_after(deal.stage),
                    buyer_committed: false,
                    set_at: now.at,
                    set_by: Some(actor.user),
                }),
            }
        }
        DealStatus::Won => DealState::Won {
            at: closed_at.unwrap_or(now.at),
        },
        DealStatus::Lost => {
            let words = input.lost_reason.map(str::trim).filter(|w| !w.is_empty());
            let category = match (input.lost_category, words) {
                (Some(c), _) => c,
                (None, None) => LostCategory::NotRecorded,
                (None, Some(w)) => LostCategory::parse("lost_reason", w).unwrap_or(LostCategory::Other),
            };
            DealState::Lost {
                at: closed_at.unwrap_or(now.at),
                category,
                buyer_words: words.unwrap_or(NOT_RECORDED).to_owned(),
            }
        }
        DealStatus::Disqualified => DealState::Disqualified {
            at: closed_at.unwrap_or(now.at),
            reason: input
                .lost_reason
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .unwrap_or(NOT_RECORDED)
                .to_owned(),
        },
    };
    if let Some(planned) = &input.next_step {
        schedule_planned_step(&mut deal, rules, planned, now);
    }
    if let Some(at) = deal.state.closed_at() {
        // A sale or a definitive no is the buyer's answer.
        deal.last_buyer_response_at = Some(deal.last_buyer_response_at.map_or(at, |l| l.max(at)));
    }

    let changed = match existing {
        None => true,
        Some(before) => *before != deal || !decisions.is_empty(),
    };
    if let (true, Some(before)) = (changed, existing) {
        deal.version = before.version + 1;
    }
    Ok(ImportedRecord {
        deal,
        decisions,
        created_was_blank,
        changed,
    })
}

/// An activity the source logged on a deal (a completed Salesforce Task).
#[derive(Debug, Clone)]
pub struct ImportedActivity<'a> {
    pub user: UserId,
    pub contact: Option<ContactId>,
    pub kind: InteractionKind,
    pub occurred_at: Timestamp,
    pub notes: &'a str,
}

/// Appends an imported activity to a deal's interaction log. The source did not record
/// what the buyer decided, so the result is `stayed` with no commitment; the deal's next
/// step is left as it is.
pub fn import_activity(
    deal: &mut Deal,
    rules: Rules<'_>,
    input: ImportedActivity<'_>,
    now: Now,
) -> Result<Interaction, DomainError> {
    if input.occurred_at > now.at {
        return Err(DomainError::invalid(
            "occurred_at",
            input.occurred_at,
            "an imported activity cannot lie in the future",
        ));
    }
    let notes = input.notes.trim();
    check_len("notes", notes, crate::commands::NOTES_MAX)?;
    let interaction = Interaction {
        seq: deal.interaction_count + 1,
        user: input.user,
        contact: input.contact,
        kind: input.kind,
        objective: rules.ladder.next_after(deal.stage),
        result: Outcome::Stayed,
        commitment: Commitment::None,
        notes: notes.to_owned(),
        occurred_at: input.occurred_at,
        recorded_at: now.at,
    };
    deal.interaction_count = interaction.seq;
    deal.last_touch_at = Some(
        deal.last_touch_at
            .map_or(input.occurred_at, |l| l.max(input.occurred_at)),
    );
    Ok(interaction)
}

/// Makes a step the source had planned the open deal's next step, aiming at the next
/// decision on the ladder. Returns false, changing nothing, when the deal is closed or
/// already has that step (a re-import of the same file changes nothing).
pub fn schedule_planned_step(deal: &mut Deal, rules: Rules<'_>, planned: &PlannedStep, now: Now) -> bool {
    let aims_at = rules.ladder.next_after(deal.stage);
    let DealState::Open { next_step } = &mut deal.state else {
        return false;
    };
    if next_step.due == planned.due && planned.kind.is_none_or(|k| k == next_step.kind) {
        return false;
    }
    *next_step = NextStep {
        due: planned.due,
        kind: planned.kind.unwrap_or(InteractionKind::Call),
        aims_at,
        buyer_committed: false,
        set_at: now.at,
        set_by: planned.by.or(Some(deal.owner.id)),
    };
    true
}
