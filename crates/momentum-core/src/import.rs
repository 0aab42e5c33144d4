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
//!
//! Sellers keep working imported deals while a team still re-imports from the old system.
//! Each imported deal therefore keeps a [`SourceDigest`] of what the source said of it, field
//! by field (accounts and contacts likewise, [`AccountDigest`], [`ContactDigest`]); a
//! re-import takes from the source only the fields it changed since, so a stage the buyer
//! decided, a rescheduled step or a sale recorded in Momentum is never undone by an export
//! that still holds the old values.

use jiff::civil::Date;
use jiff::Timestamp;

use crate::commands::{Rules, EXTERNAL_ID_MAX, TITLE_MAX, WORDS_MAX};
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
    /// The source's own words for the owner, the account and the contact (an e-mail, a
    /// name, an id). Their digests stand for those fields, not the records they resolved to:
    /// a user or account renamed in Momentum is no change in the source.
    pub named: [Option<&'a str>; 3],
}

/// A step the source had planned on an open deal: a dated activity not yet done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    pub due: Timestamp,
    /// `None` when the source gave only a date (a call, unless the step already says).
    pub kind: Option<InteractionKind>,
    /// The user the source assigned it to (the deal's owner when it does not say).
    pub by: Option<UserId>,
    /// The buyer agreed to the time (an appointment), as Momentum's own export says; other
    /// sources do not say, and their steps are the seller's.
    pub buyer_committed: bool,
}

/// What importing one deal produces: the deal as it now stands and the ledger entries to
/// append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRecord {
    pub deal: Deal,
    pub decisions: Vec<Decision>,
    /// The source had no creation date: the close date, or else the import time, stands in
    /// (counted as a warning).
    pub created_was_blank: bool,
    /// The source has the deal closed before it was created: it is taken as created on its
    /// close date (counted as a warning).
    pub created_after_close: bool,
    /// False when re-importing found the deal exactly as stored: nothing to write.
    pub changed: bool,
    /// What the source said of the deal this time, to keep beside it for the next import.
    pub source: SourceDigest,
    /// The deal keeps something changed in Momentum since its last import that the source
    /// still has as before (a stage, a step, a sale, a value): the user hears how many.
    pub kept_momentum_changes: bool,
}

/// An imported record's id in its source system, which re-imports match it by.
pub fn check_external_id(id: &str) -> crate::Result<()> {
    check_len("external_id", id, EXTERNAL_ID_MAX)
}

/// Imports one deal: validates it and returns the deal to write (new, or the next version
/// of `existing`, the deal with the same external id, whose last import left `base`).
/// Every broken rule of the row is returned, not only the first.
pub fn import_deal(
    actor: &Actor,
    rules: Rules<'_>,
    id: DealId,
    existing: Option<&Deal>,
    base: Option<SourceDigest>,
    input: ImportedDeal<'_>,
    now: Now,
) -> Result<ImportedRecord, Vec<DomainError>> {
    actor.ensure_admin("importing").map_err(|e| vec![e])?;
    // What the source alone would make of a re-imported deal: where the merged deal differs,
    // Momentum's changes were kept.
    let sources_own = match base {
        Some(_) if existing.is_some() => import_deal(actor, rules, id, existing, None, input.clone(), now).ok(),
        _ => None,
    };
    let mut source = SourceDigest::of(&input);
    // Planned activities come from another file (open tasks), planned after the deals.
    source.set(
        SourceField::PlannedActivity,
        base.map_or(0, |b| b.get(SourceField::PlannedActivity)),
    );
    // A field the source has not changed since the deal's last import keeps what Momentum
    // holds: the sellers may have worked it since.
    let kept = |field| existing.is_some() && base.is_some_and(|b| b.get(field) == source.get(field));
    let mut errors = Vec::new();
    let title = check_text("title", input.title, TITLE_MAX, "a deal has a title")
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    if let Some(Err(e)) = input.external_id.map(check_external_id) {
        errors.push(e);
    }
    if let Some(v) = input.value_minor.filter(|v| *v < 0) {
        errors.push(DomainError::invalid("value", v, "a deal's value is not negative"));
    }
    if let Some(v) = input.value_minor.filter(|v| *v > Money::MAX_MINOR) {
        errors.push(DomainError::invalid("value", v, Money::max_rule("a deal's value")));
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
    if let Some(at) = closed_at.filter(|at| *at > now.at) {
        errors.push(DomainError::invalid(
            "closed",
            at,
            "a closed deal's close date cannot lie in the future",
        ));
    }
    // No creation date: the close date is the latest it can have been, else the import time.
    let created_was_blank = input.created.is_none() && existing.is_none();
    let created_at = (input.created.or(existing.map(|d| d.created_at)))
        .or(closed_at)
        .unwrap_or(now.at);
    if created_at > now.at {
        errors.push(DomainError::invalid(
            "created",
            created_at,
            "a deal's creation date cannot lie in the future",
        ));
    }
    // Closed before the source says it was created (a record entered after the fact): it
    // existed by its close, so the reports never count negative days to close.
    let created_after_close = closed_at.is_some_and(|closed| closed < created_at);
    let created_at = closed_at.filter(|_| created_after_close).unwrap_or(created_at);
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
    if !kept(SourceField::Owner) {
        deal.owner = input.owner;
    }
    if !kept(SourceField::Account) {
        deal.account = input.account.or(existing.and_then(|d| d.account));
    }
    if !kept(SourceField::Contact) {
        deal.contact = input.contact.or(existing.and_then(|d| d.contact));
    }
    if !kept(SourceField::Title) {
        deal.title = title;
    }
    if !kept(SourceField::Value) {
        deal.value_minor = input.value_minor;
        deal.currency = input.currency;
    }
    if !kept(SourceField::ExpectedClose) {
        deal.expected_close = input.expected_close;
    }
    if !kept(SourceField::Created) {
        deal.created_at = created_at;
    }
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
    // A deal closed in Momentum whose outcome the source has not changed is done: the
    // source's stage moves no longer apply (a sale is not moved back down the ladder).
    let closed_here = kept(SourceField::Outcome) && existing.is_some_and(|d| d.next_step().is_none());
    let stage_kept = kept(SourceField::Stage) || closed_here;
    let history = if stage_kept { &[] } else { input.history };
    for change in history {
        if recorded_until.is_some_and(|until| change.at <= until) {
            continue;
        }
        let step = rules.ladder.check("stage", change.step).map_err(|e| vec![e])?;
        append(&mut deal, step, change.at, &change.label, true);
    }
    if let Some((step, label)) = input.stage.filter(|_| !stage_kept) {
        let step = rules.ladder.check("stage", step).map_err(|e| vec![e])?;
        let at = if existing.is_some() {
            now.at
        } else {
            closed_at.unwrap_or(created_at).min(now.at)
        };
        append(&mut deal, step, at, label, false);
    }

    // An outcome the source has not changed stands as Momentum has it: a deal closed here
    // stays closed; one still open keeps its next step while it aims past the stage.
    deal.state = match (kept(SourceField::Outcome), input.status) {
        (true, _) if deal.next_step().is_none() => deal.state.clone(),
        (true, _) | (false, DealStatus::Open) => {
            let standing = existing
                .and_then(|d| d.next_step())
                .filter(|n| n.aims_at > deal.stage || deal.stage == rules.ladder.top())
                .cloned();
            DealState::Open {
                next_step: standing.unwrap_or_else(|| NextStep {
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
        (false, DealStatus::Won) => DealState::Won {
            at: closed_at.unwrap_or(now.at),
        },
        (false, DealStatus::Lost) => {
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
        (false, DealStatus::Disqualified) => DealState::Disqualified {
            at: closed_at.unwrap_or(now.at),
            reason: input
                .lost_reason
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .unwrap_or(NOT_RECORDED)
                .to_owned(),
        },
    };
    // The source's planned step, when it changed it, or when the step the deal had gave way
    // (the source moved the stage past it) and a follow-up from the cadence stands in.
    let step_gave_way = deal.next_step() != existing.and_then(|d| d.next_step());
    if let Some(planned) = input
        .next_step
        .as_ref()
        .filter(|_| !kept(SourceField::NextStep) || step_gave_way)
    {
        schedule_planned_step(&mut deal, rules, planned, now);
    }
    if let Some(at) = deal.state.closed_at() {
        // A sale or a definitive no is the buyer's answer.
        deal.last_buyer_response_at = Some(deal.last_buyer_response_at.map_or(at, |l| l.max(at)));
    }

    // The same record from a file saved under another name is no change: the provenance
    // moves only with a change it explains.
    if let Some(before) = existing {
        let mut same_but_where = deal.clone();
        same_but_where.provenance.clone_from(&before.provenance);
        if same_but_where == *before && decisions.is_empty() && base == Some(source) {
            deal = same_but_where;
        }
    }
    let changed = match existing {
        None => true,
        Some(before) => *before != deal || !decisions.is_empty() || base != Some(source),
    };
    if let (true, Some(before)) = (changed, existing) {
        deal.version = before.version + 1;
    }
    // Where the record came from is no change made in Momentum.
    let kept_momentum_changes = sources_own.is_some_and(|theirs| {
        let mut theirs = theirs.deal;
        theirs.version = deal.version;
        theirs.provenance.clone_from(&deal.provenance);
        theirs != deal
    });
    Ok(ImportedRecord {
        deal,
        decisions,
        created_was_blank,
        created_after_close,
        changed,
        source,
        kept_momentum_changes,
    })
}

/// The parts of a deal a source can change between two imports, each digested on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceField {
    Owner,
    Account,
    Contact,
    Title,
    /// The value and its currency.
    Value,
    ExpectedClose,
    Created,
    /// The status; for a closed deal, also its close date and lost reason.
    Outcome,
    /// The current stage and the stages its history went through.
    Stage,
    /// The next step the deal row itself planned (a "next activity date" column).
    NextStep,
    /// The earliest open activity another file planned for the deal (a Salesforce Task).
    PlannedActivity,
}

const SOURCE_FIELDS: usize = 11;
const _: () = assert!(SourceField::PlannedActivity as usize + 1 == SOURCE_FIELDS);

/// What a source said of a record at its last import: a 32-bit FNV-1a digest of each of
/// its `N` fields, so a re-import can tell the fields the source changed since from the ones
/// it did not. Stored as 8 hex digits a field. A digest can miss a change (one in four
/// billion per field); the cost of that is a source change not taken, never a seller's work
/// lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digests<const N: usize>([u32; N]);

/// A deal's, one per [`SourceField`].
pub type SourceDigest = Digests<SOURCE_FIELDS>;
/// An account's: name, domain.
pub type AccountDigest = Digests<2>;
/// A contact's: account, name, e-mail, phone, title.
pub type ContactDigest = Digests<5>;

impl<const N: usize> Default for Digests<N> {
    fn default() -> Self {
        Digests([0; N])
    }
}

/// The fields of an [`AccountDigest`].
impl Digests<2> {
    pub const NAME: usize = 0;
    pub const DOMAIN: usize = 1;
}

/// The fields of a [`ContactDigest`].
impl Digests<5> {
    pub const ACCOUNT: usize = 0;
    pub const NAME: usize = 1;
    pub const EMAIL: usize = 2;
    pub const PHONE: usize = 3;
    pub const TITLE: usize = 4;
}

impl<const N: usize> Digests<N> {
    /// Notes what the source now says in text field `field` of an account or contact, and
    /// returns whether a re-import takes it: only when the source changed it since the
    /// record's last import (`base`), or that import kept no digest.
    pub fn note(&mut self, field: usize, base: Option<Digests<N>>, source: Option<&str>) -> bool {
        let digest = Fnv::new().opt_text(source).finish();
        self.0[field] = digest;
        base.is_none_or(|b| b.0[field] != digest)
    }
}

impl SourceDigest {
    pub fn of(input: &ImportedDeal<'_>) -> SourceDigest {
        let mut d = SourceDigest::default();
        let [owner, account, contact] = input.named;
        d.set(SourceField::Owner, SourceDigest::name(owner));
        d.set(SourceField::Account, SourceDigest::name(account));
        d.set(SourceField::Contact, SourceDigest::name(contact));
        d.set(SourceField::Title, Fnv::new().text(input.title.trim()).finish());
        d.set(
            SourceField::Value,
            Fnv::new()
                .opt_int(input.value_minor)
                .text(input.currency.code())
                .finish(),
        );
        d.set(
            SourceField::ExpectedClose,
            Fnv::new()
                .opt_int(
                    input
                        .expected_close
                        .map(|e| i64::from(e.year()) * 10_000 + i64::from(e.month()) * 100 + i64::from(e.day())),
                )
                .finish(),
        );
        d.set(SourceField::Created, Fnv::new().opt_time(input.created).finish());
        // An open deal's close date is its expected one (sources keep both in one column):
        // it slipping is no change of outcome.
        let outcome = Fnv::new().text(input.status.as_str());
        d.set(
            SourceField::Outcome,
            match input.status {
                DealStatus::Open => outcome,
                _ => outcome
                    .opt_time(input.closed)
                    .opt_text(input.lost_category.map(LostCategory::as_str))
                    .opt_text(input.lost_reason.map(str::trim)),
            }
            .finish(),
        );
        // The stages the source went through, not when it wrote them down: Salesforce adds a
        // history row on every amount or date change, repeating the stage.
        let mut stage = Fnv::new().opt_int(input.stage.map(|(s, _)| i64::from(s.0)));
        let mut last = None;
        for change in input.history {
            if last != Some(change.step) {
                stage = stage.int(i64::from(change.step.0));
                last = Some(change.step);
            }
        }
        d.set(SourceField::Stage, stage.finish());
        d.set(
            SourceField::NextStep,
            input
                .next_step
                .as_ref()
                .map_or(Fnv::new().finish(), SourceDigest::planned),
        );
        d
    }

    /// The digest of the source's words for an owner, account or contact
    /// ([`ImportedDeal::named`]).
    pub fn name(text: Option<&str>) -> u32 {
        Fnv::new().opt_text(text).finish()
    }

    /// The digest of a planned step, for [`SourceField::NextStep`] or
    /// [`SourceField::PlannedActivity`]: when and what, as `schedule_planned_step` compares.
    pub fn planned(step: &PlannedStep) -> u32 {
        let fnv = Fnv::new()
            .time(step.due)
            .opt_text(step.kind.map(InteractionKind::as_str));
        // Only a commitment adds to it, so the digests kept before it was read still match.
        match step.buyer_committed {
            true => fnv.text("buyer committed"),
            false => fnv,
        }
        .finish()
    }

    pub fn get(&self, field: SourceField) -> u32 {
        self.0[field as usize]
    }

    pub fn set(&mut self, field: SourceField, digest: u32) {
        self.0[field as usize] = digest;
    }
}

impl<const N: usize> std::fmt::Display for Digests<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|d| write!(f, "{d:08x}"))
    }
}

impl<const N: usize> std::str::FromStr for Digests<N> {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Digests<N>, DomainError> {
        let invalid = || {
            DomainError::invalid(
                "source_digest",
                s,
                format!("{} hex digits, 8 for each field of the source", N * 8),
            )
        };
        if s.len() != N * 8 || !s.is_ascii() {
            return Err(invalid());
        }
        let mut d = Digests::default();
        for (i, slot) in d.0.iter_mut().enumerate() {
            *slot = u32::from_str_radix(&s[i * 8..i * 8 + 8], 16).map_err(|_| invalid())?;
        }
        Ok(d)
    }
}

/// FNV-1a, 32 bits: stable across builds and platforms (std's hashers promise neither).
/// Every part is written with its length or a presence tag, so ("ab", "c") and ("a", "bc")
/// digest differently.
#[derive(Clone, Copy)]
struct Fnv(u32);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0x811c_9dc5)
    }

    fn bytes(mut self, bytes: &[u8]) -> Fnv {
        for b in bytes {
            self.0 = (self.0 ^ u32::from(*b)).wrapping_mul(0x0100_0193);
        }
        self
    }

    fn int(self, i: i64) -> Fnv {
        self.bytes(&i.to_le_bytes())
    }

    fn text(self, t: &str) -> Fnv {
        self.int(t.len() as i64).bytes(t.as_bytes())
    }

    fn time(self, t: Timestamp) -> Fnv {
        self.int(t.as_second()).int(i64::from(t.subsec_nanosecond()))
    }

    fn opt_int(self, i: Option<i64>) -> Fnv {
        match i {
            Some(i) => self.bytes(&[1]).int(i),
            None => self.bytes(&[0]),
        }
    }

    fn opt_text(self, t: Option<&str>) -> Fnv {
        match t {
            Some(t) => self.bytes(&[1]).text(t),
            None => self.bytes(&[0]),
        }
    }

    fn opt_time(self, t: Option<Timestamp>) -> Fnv {
        match t {
            Some(t) => self.bytes(&[1]).time(t),
            None => self.bytes(&[0]),
        }
    }

    fn finish(self) -> u32 {
        self.0
    }
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
    // A source that does not say the buyer committed leaves a commitment as it is.
    if next_step.due == planned.due
        && planned.kind.is_none_or(|k| k == next_step.kind)
        && (next_step.buyer_committed || !planned.buyer_committed)
    {
        return false;
    }
    *next_step = NextStep {
        due: planned.due,
        kind: planned.kind.unwrap_or(InteractionKind::Call),
        aims_at,
        buyer_committed: planned.buyer_committed,
        set_at: now.at,
        set_by: planned.by.or(Some(deal.owner.id)),
    };
    true
}
