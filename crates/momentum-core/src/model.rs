//! The things Momentum keeps: orgs and their rules (decision ladder, cadence), users,
//! accounts, contacts, deals with their ledger, interactions, next step and compelling
//! need, goals and check-ins. Values here are valid by construction: they are built by
//! the command functions in [`crate::commands`] or read back from storage.

use std::fmt;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};
use crate::money::{Currency, Money};
use crate::vocab::{Commitment, DealStatus, Direction, InteractionKind, LostCategory, NeedKind, Outcome, Role};

macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )+};
}

id_type!(OrgId, UserId, AccountId, ContactId, DealId, CheckInId, ApiTokenId);

/// The clock a command sees: the instant, and the date it is in the org's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub at: Timestamp,
    pub today: Date,
}

// ---------------------------------------------------------------------------------------
// Org rules

/// A position on the decision ladder. `Step(0)` means the buyer has made no decision yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Step(pub u8);

/// The org's ordered list of buyer decisions. Step *n* is `names[n - 1]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ladder {
    names: Vec<String>,
}

impl Ladder {
    pub const MAX_STEPS: usize = 20;

    /// Seven buyer decisions from "agreed to meet" to "signed".
    pub fn default_steps() -> Ladder {
        Ladder {
            names: [
                "agreed to meet",
                "agreed the problem is worth solving",
                "agreed the cost of inaction and the date",
                "agreed to evaluate",
                "agreed the decision process",
                "agreed terms",
                "signed",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    pub fn new(names: Vec<String>) -> Result<Ladder> {
        let names: Vec<String> = names.into_iter().map(|n| n.trim().to_owned()).collect();
        if names.len() < 2 || names.len() > Self::MAX_STEPS {
            return Err(DomainError::invalid(
                "ladder",
                names.len(),
                format!("a decision ladder has between 2 and {} steps", Self::MAX_STEPS),
            ));
        }
        for (i, name) in names.iter().enumerate() {
            let field = format!("ladder.step[{}]", i + 1);
            check_text(&field, name, 120, "each step names a buyer decision")?;
            if names[..i].iter().any(|n| n.eq_ignore_ascii_case(name)) {
                return Err(DomainError::invalid(field, name, "step names are unique"));
            }
        }
        Ok(Ladder { names })
    }

    /// The last step: the buyer signed.
    pub fn top(&self) -> Step {
        Step(self.names.len() as u8)
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The name of a step; step 0 reads "no decision yet".
    pub fn name(&self, step: Step) -> &str {
        match step.0 {
            0 => "no decision yet",
            n => self.names.get(n as usize - 1).map_or("unknown step", String::as_str),
        }
    }

    /// The decision a deal standing on `stage` prepares for next.
    pub fn next_after(&self, stage: Step) -> Step {
        Step((stage.0 + 1).min(self.top().0))
    }

    /// Reads a step given by number ("3") or by name ("agreed to evaluate").
    pub fn parse_step(&self, field: &str, text: &str) -> Result<Step> {
        let t = text.trim();
        let step = match t.parse::<u8>() {
            Ok(n) => Some(Step(n)),
            Err(_) => self
                .names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(t))
                .map(|i| Step(i as u8 + 1)),
        };
        match step {
            Some(s) if s.0 >= 1 && s <= self.top() => Ok(s),
            _ => Err(DomainError::invalid(
                field,
                text,
                format!("a ladder step is a number from 1 to {} or a step's name", self.top().0),
            )),
        }
    }

    /// Checks that a step exists on this ladder (1 ..= top).
    pub fn check(&self, field: &str, step: Step) -> Result<Step> {
        if step.0 >= 1 && step <= self.top() {
            Ok(step)
        } else {
            Err(DomainError::invalid(
                field,
                step.0,
                format!("a ladder step is a number from 1 to {}", self.top().0),
            ))
        }
    }
}

/// The org's follow-up policy for quiet deals: every `first_every_days` while the deal has
/// been quiet for less than `first_for_days`, then every `then_every_days`, with no end
/// short of a definitive no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cadence {
    pub first_every_days: u32,
    pub first_for_days: u32,
    pub then_every_days: u32,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence {
            first_every_days: 7,
            first_for_days: 28,
            then_every_days: 14,
        }
    }
}

impl Cadence {
    pub fn new(first_every_days: u32, first_for_days: u32, then_every_days: u32) -> Result<Cadence> {
        for (field, v) in [
            ("cadence.first_every_days", first_every_days),
            ("cadence.then_every_days", then_every_days),
        ] {
            if !(1..=90).contains(&v) {
                return Err(DomainError::invalid(field, v, "a follow-up interval is 1 to 90 days"));
            }
        }
        if first_for_days > 365 {
            return Err(DomainError::invalid(
                "cadence.first_for_days",
                first_for_days,
                "the first phase lasts at most 365 days",
            ));
        }
        Ok(Cadence {
            first_every_days,
            first_for_days,
            then_every_days,
        })
    }

    /// The interval in days for a deal that has been quiet since `quiet_since`.
    pub fn interval_days(&self, quiet_since: Timestamp, now: Timestamp) -> u32 {
        let quiet_days = now.duration_since(quiet_since).as_hours() / 24;
        if quiet_days < i64::from(self.first_for_days) {
            self.first_every_days
        } else {
            self.then_every_days
        }
    }

    /// When the seller follows up next on a deal quiet since `quiet_since`.
    pub fn next_follow_up(&self, quiet_since: Timestamp, now: Timestamp) -> Timestamp {
        now.saturating_add(days(self.interval_days(quiet_since, now)))
            .expect("adding whole days to a timestamp never overflows jiff's range here")
    }
}

pub(crate) fn days(n: u32) -> SignedDuration {
    SignedDuration::from_hours(24 * i64::from(n))
}

/// A tenant and its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub currency: Currency,
    /// IANA time zone in which days and months are counted.
    pub timezone: String,
    pub ladder: Ladder,
    pub cadence: Cadence,
    pub created_at: Timestamp,
}

// ---------------------------------------------------------------------------------------
// People

/// A validated, lower-cased e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, text: &str) -> Result<Email> {
        let t = text.trim().to_lowercase();
        let ok = t.len() <= 254
            && t.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
            })
            && !t.chars().any(|c| c.is_whitespace() || c == ',' || c == ';');
        if ok {
            Ok(Email(t))
        } else {
            Err(DomainError::invalid(
                field,
                text,
                "an e-mail address looks like name@example.com",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    /// The manager whose team a seller is on.
    pub manager: Option<UserId>,
    pub active: bool,
    pub created_at: Timestamp,
}

impl User {
    pub fn as_owner(&self) -> Owner {
        Owner {
            id: self.id,
            manager: self.manager,
            role: self.role,
            active: self.active,
        }
    }
}

/// The user a command acts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user: UserId,
    pub role: Role,
}

/// What the access rules need to know about the owner of a deal (or a goal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub id: UserId,
    pub manager: Option<UserId>,
    pub role: Role,
    pub active: bool,
}

/// Which deals an actor sees (invariant 5). Storage turns this into a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Every deal of the org.
    Org,
    /// The manager's own deals and those of the sellers they manage.
    Team { manager: UserId },
    /// The seller's own deals.
    Own { user: UserId },
}

impl Actor {
    pub fn visibility(&self) -> Visibility {
        match self.role {
            Role::Admin => Visibility::Org,
            Role::Manager => Visibility::Team { manager: self.user },
            Role::Seller => Visibility::Own { user: self.user },
        }
    }

    /// Whether this actor may see and change what `owner` owns.
    pub fn may_act_for(&self, owner: &Owner) -> bool {
        match self.visibility() {
            Visibility::Org => true,
            Visibility::Team { manager } => owner.id == manager || owner.manager == Some(manager),
            Visibility::Own { user } => owner.id == user,
        }
    }

    pub fn ensure_may_act_for(&self, owner: &Owner, what: impl fmt::Display) -> Result<()> {
        if self.may_act_for(owner) {
            return Ok(());
        }
        let rule = match self.role {
            Role::Seller => "a seller acts only on their own deals",
            Role::Manager => "a manager acts only on their team's deals",
            Role::Admin => "an admin acts on the whole org",
        };
        Err(DomainError::Forbidden(format!(
            "{what} belongs to user {}: {rule}",
            owner.id
        )))
    }

    pub(crate) fn ensure_admin(&self, action: &str) -> Result<()> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(DomainError::Forbidden(format!(
                "{action} is for admins; you are a {}",
                self.role
            )))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Buyers

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub domain: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    pub account: Option<AccountId>,
    pub name: String,
    pub email: Option<Email>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub created_at: Timestamp,
}

// ---------------------------------------------------------------------------------------
// Deals

/// The one scheduled future touch of an open deal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextStep {
    pub due: Timestamp,
    pub kind: InteractionKind,
    /// The buyer decision this touch aims at.
    pub aims_at: Step,
    /// The buyer agreed to it (an appointment), rather than the seller only scheduling it.
    pub buyer_committed: bool,
    pub set_at: Timestamp,
    pub set_by: Option<UserId>,
}

/// The buyer's dated, quantified reason to act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompellingNeed {
    pub kind: NeedKind,
    pub buyer_words: String,
    pub consequence: String,
    pub matters_by: Date,
    pub cost_per_month: Money,
    pub recorded_at: Timestamp,
    pub recorded_by: UserId,
}

/// Where a deal stands; an open deal *has* its next step (invariant 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DealState {
    Open {
        next_step: NextStep,
    },
    Won {
        at: Timestamp,
    },
    Lost {
        at: Timestamp,
        category: LostCategory,
        buyer_words: String,
    },
    Disqualified {
        at: Timestamp,
        reason: String,
    },
}

impl DealState {
    pub fn status(&self) -> DealStatus {
        match self {
            DealState::Open { .. } => DealStatus::Open,
            DealState::Won { .. } => DealStatus::Won,
            DealState::Lost { .. } => DealStatus::Lost,
            DealState::Disqualified { .. } => DealStatus::Disqualified,
        }
    }

    pub fn next_step(&self) -> Option<&NextStep> {
        match self {
            DealState::Open { next_step } => Some(next_step),
            _ => None,
        }
    }

    pub fn closed_at(&self) -> Option<Timestamp> {
        match self {
            DealState::Open { .. } => None,
            DealState::Won { at } | DealState::Lost { at, .. } | DealState::Disqualified { at, .. } => Some(*at),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deal {
    pub id: DealId,
    pub owner: Owner,
    pub account: Option<AccountId>,
    /// The buyer the seller mainly works with.
    pub contact: Option<ContactId>,
    pub title: String,
    /// Blank when the source did not say (imports); always set for deals created here.
    pub value_minor: Option<i64>,
    pub currency: Currency,
    pub expected_close: Option<Date>,
    /// The highest buyer decision the deal holds.
    pub stage: Step,
    pub state: DealState,
    pub need: Option<CompellingNeed>,
    /// Bumped by every change; a write based on an older version is a conflict.
    pub version: i64,
    pub created_at: Timestamp,
    pub interaction_count: u32,
    pub decision_count: u32,
    pub last_touch_at: Option<Timestamp>,
    /// The last time the buyer answered: any decision or commitment from them.
    pub last_buyer_response_at: Option<Timestamp>,
    pub last_decision_at: Option<Timestamp>,
    /// The highest step the deal ever held: a deal that went back keeps its peak, which
    /// is what step-to-win rates count.
    pub peak_stage: Step,
    /// Seller touches since the buyer last answered: follow-ups into silence.
    pub unanswered: u32,
    /// The longest such run on this deal: how long its seller kept following up.
    pub longest_unanswered: u32,
    /// Where an imported deal came from ("salesforce:Opportunity.csv:12").
    pub provenance: Option<String>,
    pub external_id: Option<String>,
}

impl Deal {
    pub fn value(&self) -> Option<Money> {
        self.value_minor.map(|minor| Money::new(minor, self.currency))
    }

    pub fn status(&self) -> DealStatus {
        self.state.status()
    }

    pub fn next_step(&self) -> Option<&NextStep> {
        self.state.next_step()
    }
}

/// An entry of a deal's append-only decision ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// 1, 2, 3, ... within the deal.
    pub seq: u32,
    pub from: Step,
    pub to: Step,
    pub direction: Direction,
    /// The buyer who decided; blank only in imported history.
    pub contact: Option<ContactId>,
    pub decided_at: Timestamp,
    pub recorded_by: Option<UserId>,
    /// The interaction in which the buyer decided, if any.
    pub interaction_seq: Option<u32>,
    pub note: Option<String>,
}

/// An entry of a deal's append-only interaction log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interaction {
    /// 1, 2, 3, ... within the deal.
    pub seq: u32,
    pub user: UserId,
    pub contact: Option<ContactId>,
    pub kind: InteractionKind,
    /// The decision asked for.
    pub objective: Step,
    pub result: Outcome,
    pub commitment: Commitment,
    pub notes: String,
    pub occurred_at: Timestamp,
    pub recorded_at: Timestamp,
}

/// Everything one command changes on a deal, written by storage in one transaction:
/// the deal row (with its next step and need), and the entries it appends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealChange {
    /// The version the command read; storage writes only if it is still current.
    pub read_version: i64,
    pub deal: Deal,
    pub interaction: Option<Interaction>,
    pub decision: Option<Decision>,
}

// ---------------------------------------------------------------------------------------
// Goals and check-ins

/// A calendar month, "2026-11".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String")]
pub struct Month {
    pub year: i16,
    pub month: i8,
}

impl Month {
    pub fn parse(field: &str, text: &str) -> Result<Month> {
        let bad = || DomainError::invalid(field, text, "a month is written YYYY-MM, e.g. 2026-11");
        let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
        let year: i16 = y.parse().map_err(|_| bad())?;
        let month: i8 = m.parse().map_err(|_| bad())?;
        if y.len() != 4 || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }

    pub fn of(date: Date) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn first_day(self) -> Date {
        Date::new(self.year, self.month, 1).expect("a Month holds a valid year and month")
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl From<Month> for String {
    fn from(m: Month) -> String {
        m.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    pub user: UserId,
    pub month: Month,
    pub amount: Money,
    pub set_by: UserId,
    pub set_at: Timestamp,
}

/// A seller's dated self-rating of commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIn {
    pub id: CheckInId,
    pub user: UserId,
    pub on: Date,
    pub commitment: u8,
    pub why: String,
    pub obstacle: Option<String>,
    pub recorded_at: Timestamp,
}

// ---------------------------------------------------------------------------------------
// Text rules shared by the commands

/// Trims `text` and checks it is present and at most `max` characters.
pub(crate) fn check_text(field: &str, text: &str, max: usize, rule_if_missing: &str) -> Result<String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DomainError::missing(field, rule_if_missing));
    }
    check_len(field, t, max)?;
    Ok(t.to_owned())
}

pub(crate) fn check_len(field: &str, text: &str, max: usize) -> Result<()> {
    let n = text.chars().count();
    if n > max {
        let shown: String = text.chars().take(40).collect();
        return Err(DomainError::invalid(
            field,
            format!("{shown}…"),
            format!("at most {max} characters (this has {n})"),
        ));
    }
    Ok(())
}

/// Trims optional text; blank becomes `None`.
pub(crate) fn optional_text(field: &str, text: Option<&str>, max: usize) -> Result<Option<String>> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => {
            check_len(field, t, max)?;
            Ok(Some(t.to_owned()))
        }
    }
}
