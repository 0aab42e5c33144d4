//! One function per user action. Every caller (CLI, web, API, import) goes through these,
//! so the invariants of the method hold on every path. Each function checks the actor's
//! role, validates its input and returns what to write; it never writes anything itself.
//!
//! Storage loads what a command needs (the deal, the owner, the org's rules), calls the
//! command, and writes the returned [`DealChange`] (or record) in one transaction.

use jiff::civil::Date;
use jiff::Timestamp;

use crate::error::{DomainError, Result};
use crate::model::*;
use crate::money::{Currency, Money};
use crate::vocab::*;

/// Imports go through the same core: see [`crate::import`].
pub use crate::import::{import_activity, import_deal, schedule_planned_step};

pub const TITLE_MAX: usize = 200;
pub const NAME_MAX: usize = 200;
pub const NOTES_MAX: usize = 10_000;
pub const WORDS_MAX: usize = 2_000;
/// A source system's id for a record (Salesforce's are 18 characters, HubSpot's and
/// Pipedrive's numbers): anything longer is not an id.
pub const EXTERNAL_ID_MAX: usize = 255;

/// How far in the future an interaction's time may lie (clock skew between devices).
const CLOCK_SKEW_MINUTES: i64 = 5;

/// The org's rules a deal command needs.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub ladder: &'a Ladder,
    pub cadence: &'a Cadence,
}

// ---------------------------------------------------------------------------------------
// Org and people

#[derive(Debug)]
pub struct NewOrg<'a> {
    pub name: &'a str,
    pub currency: Currency,
    pub timezone: &'a str,
}

/// Creates an org with the default decision ladder and cadence.
pub fn create_org(id: OrgId, input: NewOrg<'_>, now: Timestamp) -> Result<Org> {
    let name = check_text("org.name", input.name, NAME_MAX, "an org has a name")?;
    let timezone = check_text("org.timezone", input.timezone, 64, "an org has a time zone")?;
    Ok(Org {
        id,
        name,
        currency: input.currency,
        timezone,
        ladder: Ladder::default_steps(),
        cadence: Cadence::default(),
        created_at: now,
    })
}

#[derive(Debug)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    /// The manager of a seller's team, as stored.
    pub manager: Option<&'a User>,
}

/// Adds a user. Only an admin may, except for the org's first admin (`actor` is `None`).
pub fn add_user(actor: Option<&Actor>, id: UserId, input: NewUser<'_>, now: Timestamp) -> Result<User> {
    match actor {
        Some(a) => a.ensure_admin("adding users")?,
        None if input.role != Role::Admin => {
            return Err(DomainError::invalid(
                "role",
                input.role,
                "an org's first user is its admin",
            ));
        }
        None => {}
    }
    let email = Email::parse("email", input.email)?;
    let name = check_text("name", input.name, NAME_MAX, "a user has a name")?;
    let manager = team_manager(input.role, input.manager)?;
    Ok(User {
        id,
        email,
        name,
        role: input.role,
        manager,
        active: true,
        created_at: now,
    })
}

/// What an admin may change about a user: role, team and whether they can sign in.
#[derive(Debug)]
pub struct UserChange<'a> {
    pub role: Role,
    /// The manager of a seller's team, as stored.
    pub manager: Option<&'a User>,
    pub active: bool,
}

/// Changes a user's role, team or access. Deals stay with their owner (reassign them);
/// an admin cannot demote or lock out themselves, so an org always keeps an admin.
pub fn edit_user(actor: &Actor, user: &User, change: UserChange<'_>) -> Result<User> {
    actor.ensure_admin("changing users")?;
    if user.id == actor.user && (change.role != Role::Admin || !change.active) {
        return Err(DomainError::invalid(
            "role",
            change.role,
            "you cannot demote or deactivate yourself: ask another admin",
        ));
    }
    let manager = team_manager(change.role, change.manager)?;
    if manager == Some(user.id) {
        return Err(DomainError::invalid(
            "manager",
            user.email.as_str(),
            "a seller cannot manage themselves",
        ));
    }
    Ok(User {
        role: change.role,
        manager,
        active: change.active,
        ..user.clone()
    })
}

/// The team a user of `role` joins under `manager`, by the rules both add and edit apply.
fn team_manager(role: Role, manager: Option<&User>) -> Result<Option<UserId>> {
    match manager {
        None => Ok(None),
        Some(_) if role != Role::Seller => Err(DomainError::invalid(
            "manager",
            role,
            "only a seller is on a manager's team",
        )),
        Some(m) if m.role != Role::Manager => Err(DomainError::invalid(
            "manager",
            m.email.as_str(),
            "a team's manager has the manager role",
        )),
        Some(m) => Ok(Some(m.id)),
    }
}

/// Replaces the org's decision ladder. Steps that deals stand on cannot be removed.
pub fn set_ladder(actor: &Actor, names: Vec<String>, highest_stage_in_use: Step) -> Result<Ladder> {
    actor.ensure_admin("changing the decision ladder")?;
    let ladder = Ladder::new(names)?;
    if highest_stage_in_use > ladder.top() {
        return Err(DomainError::invalid(
            "ladder",
            ladder.top().0,
            format!(
                "deals stand on step {}; the ladder keeps at least that many steps",
                highest_stage_in_use.0
            ),
        ));
    }
    Ok(ladder)
}

pub fn set_cadence(actor: &Actor, first_every_days: u32, first_for_days: u32, then_every_days: u32) -> Result<Cadence> {
    actor.ensure_admin("changing the follow-up cadence")?;
    Cadence::new(first_every_days, first_for_days, then_every_days)
}

// ---------------------------------------------------------------------------------------
// Buyers

pub fn add_account(_actor: &Actor, id: AccountId, name: &str, domain: Option<&str>, now: Timestamp) -> Result<Account> {
    Ok(Account {
        id,
        name: check_text("account.name", name, NAME_MAX, "an account has a name")?,
        domain: optional_text("account.domain", domain, 253)?,
        created_at: now,
    })
}

#[derive(Debug)]
pub struct NewContact<'a> {
    pub account: Option<AccountId>,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub title: Option<&'a str>,
}

pub fn add_contact(_actor: &Actor, id: ContactId, input: NewContact<'_>, now: Timestamp) -> Result<Contact> {
    let email = match input.email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => Some(Email::parse("contact.email", e)?),
        None => None,
    };
    Ok(Contact {
        id,
        account: input.account,
        name: check_text("contact.name", input.name, NAME_MAX, "a contact has a name")?,
        email,
        phone: optional_text("contact.phone", input.phone, 40)?,
        title: optional_text("contact.title", input.title, NAME_MAX)?,
        created_at: now,
    })
}

/// Changes an account's name and domain, by the rules [`add_account`] applies.
pub fn edit_account(actor: &Actor, account: &Account, name: &str, domain: Option<&str>) -> Result<Account> {
    add_account(actor, account.id, name, domain, account.created_at)
}

/// Changes a contact, by the rules [`add_contact`] applies; the caller checks that the
/// account exists.
pub fn edit_contact(actor: &Actor, contact: &Contact, input: NewContact<'_>) -> Result<Contact> {
    add_contact(actor, contact.id, input, contact.created_at)
}

/// Shortest and longest text a search looks for.
pub const SEARCH_MIN: usize = 2;
pub const SEARCH_MAX: usize = 100;

/// Checks what a person typed into a search box (field `q`); returns it trimmed.
pub fn search_query(text: &str) -> Result<String> {
    let t = check_text("q", text, SEARCH_MAX, "type what to search for")?;
    if t.chars().count() < SEARCH_MIN {
        return Err(DomainError::invalid(
            "q",
            t,
            format!("a search looks for at least {SEARCH_MIN} characters"),
        ));
    }
    Ok(t)
}

// ---------------------------------------------------------------------------------------
// API tokens

pub const TOKEN_NAME_MAX: usize = 100;

/// Checks the name a user gives a new API token (field `name`); returns it trimmed.
pub fn api_token_name(name: &str) -> Result<String> {
    check_text(
        "name",
        name,
        TOKEN_NAME_MAX,
        "name the token after where it is used, e.g. \"spreadsheet export\"",
    )
}

// ---------------------------------------------------------------------------------------
// Deals

/// A next step as the seller enters it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextStepInput {
    pub due: Timestamp,
    pub kind: InteractionKind,
    /// The decision it aims at; by default the next one up the ladder.
    pub aims_at: Option<Step>,
    pub buyer_committed: bool,
}

/// How an interaction that did not end in a sale or a definitive no is followed up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUp {
    /// A next step with a date (the buyer's appointment or the seller's own).
    At(NextStepInput),
    /// A seller follow-up placed by the org's cadence.
    Cadence,
}

/// How an interaction ended: sell it, schedule it, or the buyer's definitive no.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Sold,
    Scheduled(FollowUp),
    DefinitiveNo {
        category: LostCategory,
        buyer_words: String,
    },
}

#[derive(Debug)]
pub struct NewDeal<'a> {
    pub owner: Owner,
    pub account: Option<AccountId>,
    pub contact: Option<ContactId>,
    pub title: &'a str,
    pub value: Money,
    pub expected_close: Option<Date>,
    /// The first touch; by default a seller follow-up placed by the cadence.
    pub first_step: FollowUp,
}

pub fn create_deal(actor: &Actor, rules: Rules<'_>, id: DealId, input: NewDeal<'_>, now: Now) -> Result<Deal> {
    actor.ensure_may_act_for(&input.owner, "the new deal's owner")?;
    ensure_active_owner(&input.owner)?;
    let title = check_text("title", input.title, TITLE_MAX, "a deal has a title")?;
    if input.value.minor < 0 {
        return Err(DomainError::invalid(
            "value",
            input.value,
            "a deal's value is not negative",
        ));
    }
    if input.value.minor > Money::MAX_MINOR {
        return Err(DomainError::invalid(
            "value",
            input.value,
            Money::max_rule("a deal's value"),
        ));
    }
    if let Some(d) = input.expected_close {
        if d < now.today {
            return Err(DomainError::invalid(
                "expected_close",
                d,
                "the expected close date is today or later",
            ));
        }
    }
    let mut deal = Deal {
        id,
        owner: input.owner,
        account: input.account,
        contact: input.contact,
        title,
        value_minor: Some(input.value.minor),
        currency: input.value.currency,
        expected_close: input.expected_close,
        stage: Step(0),
        // Replaced just below, once the first step is validated against this deal.
        state: DealState::Won { at: now.at },
        need: None,
        version: 1,
        created_at: now.at,
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
    };
    let next_step = plan_next_step(actor, rules, &deal, input.first_step, now)?;
    deal.state = DealState::Open { next_step };
    Ok(deal)
}

/// What a seller records after talking to the buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogInteraction {
    pub kind: InteractionKind,
    pub contact: Option<ContactId>,
    /// The decision the seller asked for.
    pub objective: Option<Step>,
    pub result: Outcome,
    /// The step the deal stands on after an `advanced` or `back` result; by default the
    /// objective (advanced) or one step down (back).
    pub reached: Option<Step>,
    /// `None` when the seller left it out: refused, since every interaction ends in a sale,
    /// a scheduled next step or a definitive no.
    pub ending: Option<Ending>,
    pub notes: String,
    /// When it happened; by default now.
    pub occurred_at: Option<Timestamp>,
    pub expected_version: Option<i64>,
}

pub fn log_interaction(
    actor: &Actor,
    rules: Rules<'_>,
    deal: &Deal,
    input: LogInteraction,
    now: Now,
) -> Result<DealChange> {
    let mut next = begin_change(actor, deal, input.expected_version, "an interaction")?;
    let occurred_at = check_occurred_at("occurred_at", input.occurred_at, deal, now)?;
    let objective = rules.ladder.check(
        "objective",
        input.objective.unwrap_or(rules.ladder.next_after(deal.stage)),
    )?;
    check_len("notes", &input.notes, NOTES_MAX)?;
    let ending = input.ending.ok_or_else(|| {
        DomainError::missing(
            "next_step",
            "an interaction ends in a sale, a scheduled next step (buyer-committed or seller follow-up) or the buyer's definitive no",
        )
    })?;

    let seq = deal.interaction_count + 1;
    let top = rules.ladder.top();
    let target = match (input.result, &ending) {
        (Outcome::Stayed, Ending::Sold) if deal.stage < top => {
            return Err(DomainError::invalid(
                "result",
                input.result,
                "a sale is the buyer's decision to sign: the result is advanced",
            ));
        }
        (Outcome::Stayed, _) => {
            if let Some(r) = input.reached {
                return Err(DomainError::invalid(
                    "reached",
                    r.0,
                    "a deal that stayed reaches no new step",
                ));
            }
            None
        }
        (Outcome::Advanced, Ending::Sold) => match input.reached {
            Some(r) if r != top => {
                return Err(DomainError::invalid(
                    "reached",
                    r.0,
                    format!("a sale reaches the last step ({})", top.0),
                ));
            }
            _ => Some(top),
        },
        (Outcome::Advanced, _) => Some(input.reached.unwrap_or(objective)),
        (Outcome::Back, Ending::Sold) => {
            return Err(DomainError::invalid(
                "result",
                input.result,
                "a sale is the buyer's decision to sign: the result is advanced",
            ));
        }
        (Outcome::Back, _) => Some(match input.reached {
            Some(r) => r,
            None if deal.stage.0 == 0 => {
                return Err(DomainError::invalid(
                    "result",
                    input.result,
                    "the deal holds no buyer decision to go back from",
                ));
            }
            None => Step(deal.stage.0 - 1),
        }),
    };
    if input.result == Outcome::Advanced && matches!(ending, Ending::DefinitiveNo { .. }) {
        return Err(DomainError::invalid(
            "result",
            input.result,
            "a definitive no is not a step forward: log it as stayed or back",
        ));
    }
    if input.result == Outcome::Advanced && target == Some(top) && !matches!(ending, Ending::Sold) {
        return Err(DomainError::invalid(
            "reached",
            top.0,
            "the last step is the buyer signing, which is a sale: end the interaction with sold",
        ));
    }
    if let (Outcome::Advanced, Ending::Sold) = (input.result, &ending) {
        if deal.stage == top {
            return Err(DomainError::invalid(
                "result",
                input.result,
                "the deal already holds the last step; log the sale as stayed",
            ));
        }
    }
    let decision = match target {
        Some(to) => Some(decide(
            rules,
            "reached",
            &mut next,
            input.result,
            to,
            input.contact,
            occurred_at,
            actor,
            Some(seq),
            None,
        )?),
        None => None,
    };

    let buyer_answered = decision.is_some()
        || match &ending {
            Ending::Sold | Ending::DefinitiveNo { .. } => true,
            Ending::Scheduled(FollowUp::At(step)) => step.buyer_committed,
            Ending::Scheduled(FollowUp::Cadence) => false,
        };
    next.interaction_count = seq;
    next.last_touch_at = Some(max_ts(deal.last_touch_at, occurred_at));
    if buyer_answered {
        heard_from_buyer(&mut next, occurred_at);
    } else {
        next.unanswered += 1;
        next.longest_unanswered = next.longest_unanswered.max(next.unanswered);
    }

    let commitment = match &ending {
        Ending::Sold => {
            next.state = DealState::Won { at: occurred_at };
            Commitment::Sold
        }
        Ending::DefinitiveNo { category, buyer_words } => {
            next.state = lost(*category, buyer_words, occurred_at)?;
            Commitment::DefinitiveNo
        }
        Ending::Scheduled(follow_up) => {
            let step = plan_next_step(actor, rules, &next, follow_up.clone(), now)?;
            let commitment = if step.buyer_committed {
                Commitment::Scheduled
            } else {
                Commitment::None
            };
            next.state = DealState::Open { next_step: step };
            commitment
        }
    };

    let interaction = Interaction {
        seq,
        user: actor.user,
        contact: input.contact,
        kind: input.kind,
        objective,
        result: input.result,
        commitment,
        notes: input.notes.trim().to_owned(),
        occurred_at,
        recorded_at: now.at,
    };
    Ok(DealChange {
        read_version: deal.version,
        deal: next,
        interaction: Some(interaction),
        decision,
    })
}

/// A buyer decision recorded outside an interaction (say, an e-mail from the buyer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDecision {
    pub contact: Option<ContactId>,
    /// The step the deal stands on after the decision.
    pub to: Step,
    pub decided_at: Option<Timestamp>,
    pub note: Option<String>,
    pub expected_version: Option<i64>,
}

pub fn record_decision(
    actor: &Actor,
    rules: Rules<'_>,
    deal: &Deal,
    input: RecordDecision,
    now: Now,
) -> Result<DealChange> {
    let mut next = begin_change(actor, deal, input.expected_version, "a decision")?;
    let at = check_occurred_at("decided_at", input.decided_at, deal, now)?;
    if input.to == rules.ladder.top() {
        return Err(DomainError::invalid(
            "to",
            input.to.0,
            "signing is a sale: log the interaction with commitment sold",
        ));
    }
    let direction = if input.to > deal.stage {
        Outcome::Advanced
    } else {
        Outcome::Back
    };
    let note = optional_text("note", input.note.as_deref(), WORDS_MAX)?;
    let decision = decide(
        rules,
        "to",
        &mut next,
        direction,
        input.to,
        input.contact,
        at,
        actor,
        None,
        note,
    )?;
    heard_from_buyer(&mut next, at);
    // The next step prepares for a decision the buyer has not made yet: if this one
    // reached it, aim at the one after.
    let stage = next.stage;
    if let DealState::Open { next_step } = &mut next.state {
        if next_step.aims_at <= stage {
            next_step.aims_at = rules.ladder.next_after(stage);
        }
    }
    Ok(DealChange {
        read_version: deal.version,
        deal: next,
        interaction: None,
        decision: Some(decision),
    })
}

#[derive(Debug)]
pub struct NeedInput<'a> {
    pub kind: NeedKind,
    pub buyer_words: &'a str,
    pub consequence: &'a str,
    pub matters_by: Date,
    pub cost_per_month: Money,
    pub expected_version: Option<i64>,
}

/// Records (or replaces) the buyer's compelling need.
pub fn set_need(actor: &Actor, deal: &Deal, input: NeedInput<'_>, now: Now) -> Result<DealChange> {
    let mut next = begin_change(actor, deal, input.expected_version, "a compelling need")?;
    let buyer_words = check_text(
        "need.buyer_words",
        input.buyer_words,
        WORDS_MAX,
        "a compelling need is in the buyer's own words",
    )?;
    let consequence = check_text(
        "need.consequence",
        input.consequence,
        WORDS_MAX,
        "a compelling need says what happens if the buyer does nothing",
    )?;
    if input.matters_by < now.today {
        return Err(DomainError::invalid(
            "need.matters_by",
            input.matters_by,
            "the date the need matters by is today or later",
        ));
    }
    if input.cost_per_month.currency != deal.currency {
        return Err(DomainError::invalid(
            "need.cost_per_month",
            input.cost_per_month,
            format!(
                "the cost of inaction is counted in the deal's currency ({})",
                deal.currency
            ),
        ));
    }
    if input.cost_per_month.minor <= 0 {
        return Err(DomainError::invalid(
            "need.cost_per_month",
            input.cost_per_month,
            "quantify the cost of doing nothing: more than zero per month",
        ));
    }
    next.need = Some(CompellingNeed {
        kind: input.kind,
        buyer_words,
        consequence,
        matters_by: input.matters_by,
        cost_per_month: input.cost_per_month,
        recorded_at: now.at,
        recorded_by: actor.user,
    });
    Ok(change_without_entries(deal, next))
}

/// Closes a deal in which the seller found no compelling need.
pub fn disqualify(
    actor: &Actor,
    deal: &Deal,
    reason: &str,
    expected_version: Option<i64>,
    now: Now,
) -> Result<DealChange> {
    let mut next = begin_change(actor, deal, expected_version, "disqualifying")?;
    let reason = check_text("reason", reason, WORDS_MAX, "say why the deal has no compelling need")?;
    next.state = DealState::Disqualified { at: now.at, reason };
    Ok(change_without_entries(deal, next))
}

/// How a deal is closed outside an interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closing {
    /// The buyer signed; `contact` is who signed.
    Won { contact: Option<ContactId> },
    /// The buyer's definitive no.
    Lost {
        category: LostCategory,
        buyer_words: String,
    },
}

pub fn close(
    actor: &Actor,
    rules: Rules<'_>,
    deal: &Deal,
    closing: Closing,
    expected_version: Option<i64>,
    now: Now,
) -> Result<DealChange> {
    let mut next = begin_change(actor, deal, expected_version, "closing")?;
    let mut decision = None;
    match closing {
        Closing::Won { contact } => {
            if deal.stage < rules.ladder.top() {
                let to = rules.ladder.top();
                decision = Some(decide(
                    rules,
                    "contact",
                    &mut next,
                    Outcome::Advanced,
                    to,
                    contact,
                    now.at,
                    actor,
                    None,
                    None,
                )?);
            }
            heard_from_buyer(&mut next, now.at);
            next.state = DealState::Won { at: now.at };
        }
        Closing::Lost { category, buyer_words } => {
            next.state = lost(category, &buyer_words, now.at)?;
            heard_from_buyer(&mut next, now.at);
        }
    }
    Ok(DealChange {
        read_version: deal.version,
        deal: next,
        interaction: None,
        decision,
    })
}

/// Hands a deal to another owner.
pub fn reassign(actor: &Actor, deal: &Deal, new_owner: Owner, expected_version: Option<i64>) -> Result<DealChange> {
    let mut next = begin_change(actor, deal, expected_version, "reassigning")?;
    actor.ensure_may_act_for(&new_owner, "the new owner's work")?;
    ensure_active_owner(&new_owner)?;
    next.owner = new_owner;
    Ok(change_without_entries(deal, next))
}

/// Moves the deal's one next step (the buyer rescheduled, say).
pub fn reschedule(
    actor: &Actor,
    rules: Rules<'_>,
    deal: &Deal,
    step: NextStepInput,
    expected_version: Option<i64>,
    now: Now,
) -> Result<DealChange> {
    let mut next = begin_change(actor, deal, expected_version, "rescheduling")?;
    let step = plan_next_step(actor, rules, deal, FollowUp::At(step), now)?;
    next.state = DealState::Open { next_step: step };
    Ok(change_without_entries(deal, next))
}

// ---------------------------------------------------------------------------------------
// Goals and check-ins

pub fn set_goal(actor: &Actor, seller: &Owner, month: Month, amount: Money, now: Timestamp) -> Result<Goal> {
    actor.ensure_may_act_for(seller, "the goal")?;
    if amount.minor < 0 {
        return Err(DomainError::invalid("amount", amount, "a goal is not negative"));
    }
    if amount.minor > Money::MAX_MINOR {
        return Err(DomainError::invalid("amount", amount, Money::max_rule("a goal")));
    }
    Ok(Goal {
        user: seller.id,
        month,
        amount,
        set_by: actor.user,
        set_at: now,
    })
}

#[derive(Debug)]
pub struct CheckInInput<'a> {
    pub commitment: i64,
    pub why: &'a str,
    pub obstacle: Option<&'a str>,
}

/// A seller rates their own commitment; nobody checks in for someone else.
pub fn check_in(actor: &Actor, id: CheckInId, input: CheckInInput<'_>, now: Now) -> Result<CheckIn> {
    if !(1..=10).contains(&input.commitment) {
        return Err(DomainError::invalid(
            "commitment",
            input.commitment,
            "commitment is rated from 1 to 10",
        ));
    }
    Ok(CheckIn {
        id,
        user: actor.user,
        on: now.today,
        commitment: input.commitment as u8,
        why: check_text("why", input.why, WORDS_MAX, "say why: what the goal means to you")?,
        obstacle: optional_text("obstacle", input.obstacle, WORDS_MAX)?,
        recorded_at: now.at,
    })
}

// ---------------------------------------------------------------------------------------
// Today

/// What ranks an entry of a seller's Today list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtStake {
    pub deal: DealId,
    pub value_minor: Option<i64>,
    /// When the next step is (or was) due.
    pub due: Timestamp,
}

/// Orders due and overdue next steps by what is at stake: the deal's value, then how long
/// the step has been waiting (the deal id breaks ties, so the order is stable).
pub fn rank_today<T>(items: &mut [T], at_stake: impl Fn(&T) -> AtStake) {
    items.sort_by_key(|i| {
        let a = at_stake(i);
        (std::cmp::Reverse(a.value_minor.unwrap_or(0)), a.due, a.deal)
    });
}

// ---------------------------------------------------------------------------------------
// Shared rules

fn begin_change(actor: &Actor, deal: &Deal, expected_version: Option<i64>, what: &str) -> Result<Deal> {
    actor.ensure_may_act_for(&deal.owner, format_args!("deal {}", deal.id))?;
    if let Some(expected) = expected_version {
        if expected != deal.version {
            return Err(DomainError::Conflict {
                deal: deal.id.0,
                expected,
                actual: deal.version,
            });
        }
    }
    if deal.status() != DealStatus::Open {
        return Err(DomainError::invalid(
            "deal.status",
            deal.status(),
            format!("{what} applies only to an open deal; corrections to a closed deal are new entries"),
        ));
    }
    let mut next = deal.clone();
    next.version = deal.version + 1;
    Ok(next)
}

fn change_without_entries(deal: &Deal, next: Deal) -> DealChange {
    DealChange {
        read_version: deal.version,
        deal: next,
        interaction: None,
        decision: None,
    }
}

fn ensure_active_owner(owner: &Owner) -> Result<()> {
    if !owner.active {
        return Err(DomainError::invalid(
            "owner",
            owner.id,
            "a deal's owner is an active user",
        ));
    }
    Ok(())
}

/// Appends a buyer decision moving `deal` to `to`, updating its stage (invariant 2).
#[allow(clippy::too_many_arguments)]
fn decide(
    rules: Rules<'_>,
    field: &str,
    deal: &mut Deal,
    result: Outcome,
    to: Step,
    contact: Option<ContactId>,
    at: Timestamp,
    actor: &Actor,
    interaction_seq: Option<u32>,
    note: Option<String>,
) -> Result<Decision> {
    let contact = contact.ok_or_else(|| {
        DomainError::missing("contact", "a decision is made by a buyer: name the contact who decided")
    })?;
    let direction = match result {
        Outcome::Advanced => {
            rules.ladder.check(field, to)?;
            if to <= deal.stage {
                return Err(DomainError::invalid(
                    field,
                    to.0,
                    format!("advancing reaches a step above the deal's stage ({})", deal.stage.0),
                ));
            }
            Direction::Advance
        }
        Outcome::Back => {
            if to >= deal.stage {
                return Err(DomainError::invalid(
                    field,
                    to.0,
                    format!("going back reaches a step below the deal's stage ({})", deal.stage.0),
                ));
            }
            Direction::Back
        }
        Outcome::Stayed => unreachable!("a deal that stayed records no decision"),
    };
    let decision = Decision {
        seq: deal.decision_count + 1,
        from: deal.stage,
        to,
        direction,
        contact: Some(contact),
        decided_at: at,
        recorded_by: Some(actor.user),
        interaction_seq,
        note,
    };
    deal.stage = to;
    deal.peak_stage = deal.peak_stage.max(to);
    deal.decision_count = decision.seq;
    deal.last_decision_at = Some(max_ts(deal.last_decision_at, at));
    Ok(decision)
}

/// The buyer answered at `at`: the run of unanswered follow-ups ends.
fn heard_from_buyer(deal: &mut Deal, at: Timestamp) {
    deal.last_buyer_response_at = Some(max_ts(deal.last_buyer_response_at, at));
    deal.unanswered = 0;
}

fn plan_next_step(actor: &Actor, rules: Rules<'_>, deal: &Deal, follow_up: FollowUp, now: Now) -> Result<NextStep> {
    let default_aim = rules.ladder.next_after(deal.stage);
    match follow_up {
        FollowUp::Cadence => {
            let quiet_since = deal.last_buyer_response_at.unwrap_or(deal.created_at);
            Ok(NextStep {
                due: rules.cadence.next_follow_up(quiet_since, now.at),
                kind: deal.next_step().map_or(InteractionKind::Call, |s| s.kind),
                aims_at: default_aim,
                buyer_committed: false,
                set_at: now.at,
                set_by: Some(actor.user),
            })
        }
        FollowUp::At(input) => {
            if input.due <= now.at {
                return Err(DomainError::invalid(
                    "next_step.due",
                    input.due,
                    "a next step must be in the future",
                ));
            }
            let aims_at = rules
                .ladder
                .check("next_step.aims_at", input.aims_at.unwrap_or(default_aim))?;
            if aims_at <= deal.stage && deal.stage < rules.ladder.top() {
                return Err(DomainError::invalid(
                    "next_step.aims_at",
                    aims_at.0,
                    format!(
                        "a next step aims at a decision the buyer has not made yet (above step {})",
                        deal.stage.0
                    ),
                ));
            }
            Ok(NextStep {
                due: input.due,
                kind: input.kind,
                aims_at,
                buyer_committed: input.buyer_committed,
                set_at: now.at,
                set_by: Some(actor.user),
            })
        }
    }
}

fn lost(category: LostCategory, buyer_words: &str, at: Timestamp) -> Result<DealState> {
    if category == LostCategory::NotRecorded {
        return Err(DomainError::invalid(
            "reason_category",
            category,
            "\"not recorded\" is only for imported history; ask the buyer why",
        ));
    }
    let buyer_words = check_text(
        "buyer_words",
        buyer_words,
        WORDS_MAX,
        "a deal is lost only on the buyer's definitive no, in their own words",
    )?;
    Ok(DealState::Lost {
        at,
        category,
        buyer_words,
    })
}

fn check_occurred_at(field: &str, at: Option<Timestamp>, deal: &Deal, now: Now) -> Result<Timestamp> {
    let at = at.unwrap_or(now.at);
    if at.duration_since(now.at).as_secs() > CLOCK_SKEW_MINUTES * 60 {
        return Err(DomainError::invalid(field, at, "it cannot lie in the future"));
    }
    if at < deal.created_at {
        return Err(DomainError::invalid(
            field,
            at,
            format!("it cannot come before the deal was created ({})", deal.created_at),
        ));
    }
    Ok(at)
}

fn max_ts(a: Option<Timestamp>, b: Timestamp) -> Timestamp {
    a.map_or(b, |a| a.max(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> Actor {
        Actor {
            user: UserId(1),
            role: Role::Seller,
        }
    }

    fn t0() -> Timestamp {
        "2026-06-01T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn editing_an_account_keeps_its_id_and_creation_and_applies_the_add_rules() {
        let a = add_account(&actor(), AccountId(7), "Globex", Some("globex.test"), t0()).unwrap();
        let e = edit_account(&actor(), &a, "  Globex Corp ", Some(" ")).unwrap();
        assert_eq!((e.id, e.created_at), (a.id, a.created_at));
        assert_eq!((e.name.as_str(), e.domain), ("Globex Corp", None));
        let err = edit_account(&actor(), &a, " ", None).unwrap_err();
        assert_eq!(err.field(), Some("account.name"));
    }

    #[test]
    fn editing_a_contact_applies_the_add_rules() {
        let input = |email| NewContact {
            account: Some(AccountId(7)),
            name: "Hank",
            email,
            phone: None,
            title: None,
        };
        let c = add_contact(&actor(), ContactId(3), input(None), t0()).unwrap();
        let e = edit_contact(&actor(), &c, input(Some("HANK@globex.test"))).unwrap();
        assert_eq!((e.id, e.created_at), (c.id, c.created_at));
        assert_eq!(e.email.unwrap().as_str(), "hank@globex.test");
        let err = edit_contact(&actor(), &c, input(Some("not an address"))).unwrap_err();
        assert_eq!(err.field(), Some("contact.email"));
    }

    #[test]
    fn a_search_needs_two_to_a_hundred_characters() {
        assert_eq!(search_query("  ab ").unwrap(), "ab");
        for bad in ["", "   ", "a", " é "] {
            assert_eq!(search_query(bad).unwrap_err().field(), Some("q"), "{bad:?}");
        }
        assert!(search_query(&"x".repeat(SEARCH_MAX)).is_ok());
        assert!(search_query(&"x".repeat(SEARCH_MAX + 1)).is_err());
    }

    #[test]
    fn a_token_has_a_short_name() {
        assert_eq!(api_token_name(" export ").unwrap(), "export");
        assert_eq!(api_token_name(" ").unwrap_err().field(), Some("name"));
        assert!(api_token_name(&"n".repeat(TOKEN_NAME_MAX)).is_ok());
        assert_eq!(
            api_token_name(&"n".repeat(TOKEN_NAME_MAX + 1)).unwrap_err().field(),
            Some("name")
        );
    }
}
