//! The API's JSON: request and response bodies as a stable contract, apart from the core's
//! and the store's own types (which may change shape without breaking clients). Each type
//! derives its OpenAPI schema. Money is `{"minor": i64, "currency": "USD"}` (never a
//! float); instants are RFC 3339 in UTC (`2026-11-03T09:00:00Z`); dates are `YYYY-MM-DD`.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::Timestamp;
use momentum_core::model::{self, Ladder, Step};
use momentum_core::{cholesterol, money, vocab, DomainError};
use momentum_store::{auth as store_auth, directory, ops, pipeline};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

// ---------------------------------------------------------------------------------------
// Vocabulary: the method's closed word lists, spelled as everywhere else in Momentum.

/// Declares an API enum mirroring a core vocabulary, with conversions both ways.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident => $core:path { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl From<$core> for $name {
            fn from(v: $core) -> Self {
                use $core as C;
                match v { $(C::$variant => $name::$variant),+ }
            }
        }

        impl From<$name> for $core {
            fn from(v: $name) -> Self {
                use $core as C;
                match v { $($name::$variant => C::$variant),+ }
            }
        }
    };
}

vocabulary!(
    /// What a user may do: a seller their own deals, a manager their team's, an admin the org's.
    Role => vocab::Role { Seller, Manager, Admin }
);
vocabulary!(
    /// Where a deal stands. It leaves `open` only as won, lost or disqualified.
    DealStatus => vocab::DealStatus { Open, Won, Lost, Disqualified }
);
vocabulary!(
    /// How the seller reached the buyer.
    InteractionKind => vocab::InteractionKind { Call, Email, Meeting, Message, Visit }
);
vocabulary!(
    /// The result of an interaction: the deal advanced (the buyer decided), stayed, or went back.
    Outcome => vocab::Outcome { Advanced, Stayed, Back }
);
vocabulary!(
    /// The buyer's commitment at the end of an interaction: sold, scheduled (the buyer
    /// committed to the next step), definitive_no, or none (only the seller scheduled it).
    Commitment => vocab::Commitment { Sold, Scheduled, DefinitiveNo, None }
);
vocabulary!(
    /// The shape of the buyer's compelling need.
    NeedKind => vocab::NeedKind { Opportunity, Problem, Threat }
);
vocabulary!(
    /// Why a buyer said a definitive no (`not_recorded` is only for imported history).
    LostCategory => vocab::LostCategory { Price, Competitor, NoBudget, NoNeed, StatusQuo, Timing, Other, NotRecorded }
);
vocabulary!(
    /// Which way a buyer decision moved the deal on the ladder.
    Direction => vocab::Direction { Advance, Back }
);

/// A sign of sales cholesterol on an open deal: `"no_need"`, `"no_date"`,
/// `{"stale": {"days": 31}}`, `"seller_scheduled_only"`, `"overdue"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// The buyer has no compelling need on record.
    NoNeed,
    /// Neither an expected close date nor the date the buyer's need matters by.
    NoDate,
    /// No buyer decision for `days` days, more than the org tolerates.
    Stale { days: i64 },
    /// The next step is only the seller's: the buyer did not commit to it.
    SellerScheduledOnly,
    /// The next step was due before now.
    Overdue,
}

impl From<cholesterol::Flag> for Flag {
    fn from(f: cholesterol::Flag) -> Self {
        match f {
            cholesterol::Flag::NoNeed => Flag::NoNeed,
            cholesterol::Flag::NoDate => Flag::NoDate,
            cholesterol::Flag::Stale { days } => Flag::Stale { days },
            cholesterol::Flag::SellerScheduledOnly => Flag::SellerScheduledOnly,
            cholesterol::Flag::Overdue => Flag::Overdue,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Shared values

/// An amount in integer minor units (cents for USD) with its ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"minor": 2_500_000, "currency": "USD"}))]
pub struct Money {
    /// Minor units: 2500000 is 25,000.00 USD.
    pub minor: i64,
    /// ISO 4217 code, e.g. "USD".
    pub currency: String,
}

impl From<money::Money> for Money {
    fn from(m: money::Money) -> Self {
        Money {
            minor: m.minor,
            currency: m.currency.code().to_owned(),
        }
    }
}

impl Money {
    /// The core's money; `field` names the amount in errors (`value` → `value.currency`).
    pub fn to_core(&self, field: &str) -> Result<money::Money, DomainError> {
        let currency = money::Currency::parse(&format!("{field}.currency"), &self.currency)?;
        Ok(money::Money::new(self.minor, currency))
    }
}

/// A step of the org's decision ladder with its name; step 0 is "no decision yet".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StepRef {
    pub step: u8,
    pub name: String,
}

impl From<ops::StepRef> for StepRef {
    fn from(s: ops::StepRef) -> Self {
        StepRef {
            step: s.step,
            name: s.name,
        }
    }
}

impl StepRef {
    pub fn of(ladder: &Ladder, step: Step) -> StepRef {
        ops::StepRef::new(ladder, step).into()
    }
}

/// An instant to the second, as stored: a record answered straight after it was made
/// reads the same as when it is read back.
fn secs(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// Deserializes a present field (even `null`) as `Some`, so PATCH can tell "leave as is"
/// (absent) from "clear" (`null`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

// ---------------------------------------------------------------------------------------
// Deals: responses

/// The one scheduled future touch of an open deal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NextStep {
    #[schema(value_type = String, format = DateTime)]
    pub due: Timestamp,
    pub kind: InteractionKind,
    /// The buyer decision this touch aims at.
    pub aims_at: StepRef,
    /// The buyer agreed to it (an appointment), rather than the seller only scheduling it.
    pub buyer_committed: bool,
}

/// A deal as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DealSummary {
    pub id: i64,
    pub title: String,
    /// The owner's name.
    pub owner: String,
    pub owner_email: String,
    /// The account's name.
    pub account: Option<String>,
    /// Blank only for imported deals whose source did not say.
    pub value: Option<Money>,
    /// ISO 4217 code of the deal's currency.
    pub currency: String,
    pub status: DealStatus,
    /// The highest buyer decision the deal holds.
    pub stage: StepRef,
    #[schema(value_type = Option<String>, format = Date)]
    pub expected_close: Option<Date>,
    /// Present exactly when the deal is open.
    pub next_step: Option<NextStep>,
    pub has_need: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Timestamp>,
    /// The buyer's words (lost) or the seller's reason (disqualified).
    pub close_reason: Option<String>,
    pub lost_category: Option<LostCategory>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Bumped by every change; send it back as `version` or `If-Match` to refuse stale writes.
    pub version: i64,
}

impl From<ops::DealSummary> for DealSummary {
    fn from(d: ops::DealSummary) -> Self {
        DealSummary {
            id: d.id,
            title: d.title,
            owner: d.owner,
            owner_email: d.owner_email,
            account: d.account,
            value: d.value.map(Money::from),
            currency: d.currency.code().to_owned(),
            status: d.status.into(),
            stage: d.stage.into(),
            expected_close: d.expected_close,
            next_step: d.next_step.map(|n| NextStep {
                due: secs(n.due),
                kind: n.kind.into(),
                aims_at: n.aims_at.into(),
                buyer_committed: n.buyer_committed,
            }),
            has_need: d.has_need,
            closed_at: d.closed_at.map(secs),
            close_reason: d.close_reason,
            lost_category: d.lost_category.map(LostCategory::from),
            created_at: secs(d.created_at),
            version: d.version,
        }
    }
}

impl DealSummary {
    pub fn from_row(row: &ops::LoadedDeal, ladder: &Ladder) -> DealSummary {
        ops::DealSummary::new(row, ladder).into()
    }
}

/// The buyer's dated, quantified reason to act.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompellingNeed {
    pub kind: NeedKind,
    pub buyer_words: String,
    /// What happens if the buyer does nothing.
    pub consequence: String,
    #[schema(value_type = String, format = Date)]
    pub matters_by: Date,
    pub cost_per_month: Money,
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: Timestamp,
    /// The user who recorded it.
    pub recorded_by: i64,
}

impl From<model::CompellingNeed> for CompellingNeed {
    fn from(n: model::CompellingNeed) -> Self {
        CompellingNeed {
            kind: n.kind.into(),
            buyer_words: n.buyer_words,
            consequence: n.consequence,
            matters_by: n.matters_by,
            cost_per_month: n.cost_per_month.into(),
            recorded_at: secs(n.recorded_at),
            recorded_by: n.recorded_by.0,
        }
    }
}

/// An entry of the deal's append-only decision ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Decision {
    pub seq: u32,
    pub from: StepRef,
    pub to: StepRef,
    pub direction: Direction,
    /// The buyer (contact) who decided; blank only in imported history.
    pub contact: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub decided_at: Timestamp,
    pub recorded_by: Option<i64>,
    /// The interaction in which the buyer decided, if any.
    pub interaction_seq: Option<u32>,
    pub note: Option<String>,
}

impl Decision {
    pub fn of(d: model::Decision, ladder: &Ladder) -> Decision {
        Decision {
            seq: d.seq,
            from: StepRef::of(ladder, d.from),
            to: StepRef::of(ladder, d.to),
            direction: d.direction.into(),
            contact: d.contact.map(|c| c.0),
            decided_at: secs(d.decided_at),
            recorded_by: d.recorded_by.map(|u| u.0),
            interaction_seq: d.interaction_seq,
            note: d.note,
        }
    }
}

/// An entry of the deal's append-only interaction log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Interaction {
    pub seq: u32,
    /// The seller who logged it.
    pub user: i64,
    pub contact: Option<i64>,
    pub kind: InteractionKind,
    /// The decision asked for.
    pub objective: StepRef,
    pub result: Outcome,
    pub commitment: Commitment,
    pub notes: String,
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: Timestamp,
}

impl Interaction {
    pub fn of(i: model::Interaction, ladder: &Ladder) -> Interaction {
        Interaction {
            seq: i.seq,
            user: i.user.0,
            contact: i.contact.map(|c| c.0),
            kind: i.kind.into(),
            objective: StepRef::of(ladder, i.objective),
            result: i.result.into(),
            commitment: i.commitment.into(),
            notes: i.notes,
            occurred_at: secs(i.occurred_at),
            recorded_at: secs(i.recorded_at),
        }
    }
}

/// A deal with its decision timeline, compelling need, interactions and next step.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DealDetail {
    #[serde(flatten)]
    pub summary: DealSummary,
    pub need: Option<CompellingNeed>,
    /// Oldest first.
    pub decisions: Vec<Decision>,
    /// Oldest first.
    pub interactions: Vec<Interaction>,
    /// Names of the contacts mentioned above, by id.
    pub contacts: BTreeMap<String, String>,
    /// The next logical buyer decision to prepare for (open deals below the top step).
    pub prepare_for: Option<StepRef>,
}

impl DealDetail {
    pub fn of(v: ops::DealView, ladder: &Ladder) -> DealDetail {
        DealDetail {
            summary: v.summary.into(),
            need: v.need.map(CompellingNeed::from),
            decisions: v.decisions.into_iter().map(|d| Decision::of(d, ladder)).collect(),
            interactions: v.interactions.into_iter().map(|i| Interaction::of(i, ladder)).collect(),
            contacts: v
                .contacts
                .into_iter()
                .map(|(id, name)| (id.to_string(), name))
                .collect(),
            prepare_for: v.prepare_for.map(StepRef::from),
        }
    }
}

/// The caller's overdue and due next steps, most at stake first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Today {
    pub items: Vec<DealSummary>,
}

/// Declares a page of a listing: its items and the cursor of the next page.
macro_rules! page {
    ($(#[$meta:meta])* $name:ident of $item:ty) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` for the next page; `null` on the last page. Opaque.
            pub next_cursor: Option<String>,
        }
    };
}

page!(
    /// A page of deals, by id.
    DealPage of DealSummary
);
page!(
    /// A page of accounts, by id.
    AccountPage of Account
);
page!(
    /// A page of contacts, by id.
    ContactPage of Contact
);
page!(
    /// A page of open deals with their cholesterol flags, by id.
    PipelineDealPage of PipelineDeal
);

// ---------------------------------------------------------------------------------------
// Deals: requests

/// A next step as the seller enters it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NextStepInput {
    /// When, RFC 3339 with an offset (`2026-11-03T09:00:00Z`); in the future.
    #[schema(value_type = String, format = DateTime)]
    pub due: Timestamp,
    pub kind: InteractionKind,
    /// The ladder step (number) of the decision it aims at; by default the next one up.
    pub aims_at: Option<u8>,
    /// Whether the buyer committed to it (an appointment) or only the seller scheduled it.
    pub buyer_committed: bool,
}

impl NextStepInput {
    pub fn to_core(&self) -> momentum_core::commands::NextStepInput {
        momentum_core::commands::NextStepInput {
            due: self.due,
            kind: self.kind.into(),
            aims_at: self.aims_at.map(Step),
            buyer_committed: self.buyer_committed,
        }
    }
}

/// How a deal is followed up: `{"next_step": {...}}` with a date, or `"cadence"` (a
/// seller follow-up placed by the org's cadence).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FollowUp {
    NextStep(NextStepInput),
    Cadence,
}

impl FollowUp {
    pub fn to_core(&self) -> momentum_core::commands::FollowUp {
        match self {
            FollowUp::NextStep(n) => momentum_core::commands::FollowUp::At(n.to_core()),
            FollowUp::Cadence => momentum_core::commands::FollowUp::Cadence,
        }
    }
}

/// A new deal.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDeal {
    pub title: String,
    /// The deal's value; its currency is the deal's.
    pub value: Money,
    pub account: Option<i64>,
    /// The buyer the seller mainly works with.
    pub contact: Option<i64>,
    /// The owner's e-mail; by default the caller.
    pub owner: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub expected_close: Option<Date>,
    /// The first touch; by default a seller follow-up placed by the cadence.
    pub first_step: Option<FollowUp>,
}

/// The buyer's definitive no: why, in their own words.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefinitiveNo {
    pub reason_category: LostCategory,
    pub buyer_words: String,
}

/// How an interaction ended: `"sold"`, `{"next_step": {...}}`, `"cadence"` or
/// `{"definitive_no": {...}}`. Sell it or schedule it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    Sold,
    NextStep(NextStepInput),
    Cadence,
    DefinitiveNo(DefinitiveNo),
}

/// What a seller records after talking to the buyer.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogInteraction {
    pub kind: InteractionKind,
    /// The buyer talked to; required when the buyer decided (advanced or back).
    pub contact: Option<i64>,
    /// The ladder step of the decision asked for; by default the next one up.
    pub objective: Option<u8>,
    pub result: Outcome,
    /// The step the deal stands on after `advanced` or `back`; by default the objective
    /// (advanced) or one step down (back).
    pub reached: Option<u8>,
    /// Required by the method: an interaction without one is refused (422, field `next_step`).
    pub ending: Option<Ending>,
    #[serde(default)]
    pub notes: String,
    /// When it happened (RFC 3339); by default now.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// The deal version this is based on (or send `If-Match`).
    pub version: Option<i64>,
}

impl LogInteraction {
    pub fn to_core(&self, version: Option<i64>) -> momentum_core::commands::LogInteraction {
        use momentum_core::commands::{Ending as E, FollowUp as F};
        let ending = self.ending.as_ref().map(|e| match e {
            Ending::Sold => E::Sold,
            Ending::NextStep(n) => E::Scheduled(F::At(n.to_core())),
            Ending::Cadence => E::Scheduled(F::Cadence),
            Ending::DefinitiveNo(no) => E::DefinitiveNo {
                category: no.reason_category.into(),
                buyer_words: no.buyer_words.clone(),
            },
        });
        momentum_core::commands::LogInteraction {
            kind: self.kind.into(),
            contact: self.contact.map(model::ContactId),
            objective: self.objective.map(Step),
            result: self.result.into(),
            reached: self.reached.map(Step),
            ending,
            notes: self.notes.clone(),
            occurred_at: self.occurred_at,
            expected_version: version,
        }
    }
}

/// A buyer decision recorded outside an interaction (say, an e-mail from the buyer).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDecision {
    /// The ladder step the deal stands on after the decision (0: every decision withdrawn).
    pub to: u8,
    /// The buyer who decided.
    pub contact: Option<i64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<Timestamp>,
    pub note: Option<String>,
    pub version: Option<i64>,
}

/// The buyer's compelling need, recorded or replaced.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetNeed {
    pub kind: NeedKind,
    /// The need in the buyer's own words.
    pub buyer_words: String,
    /// What happens if the buyer does nothing.
    pub consequence: String,
    /// The date by which it matters (today or later).
    #[schema(value_type = String, format = Date)]
    pub matters_by: Date,
    /// The cost of doing nothing, per month, in the deal's currency.
    pub cost_per_month: Money,
    pub version: Option<i64>,
}

/// Closes a deal in which the seller found no compelling need.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Disqualify {
    pub reason: String,
    pub version: Option<i64>,
}

/// The buyer signed; `contact` is who signed.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Won {
    pub contact: Option<i64>,
}

/// How a deal closes outside an interaction: `{"won": {...}}` or `{"lost": {...}}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Closing {
    Won(Won),
    Lost(DefinitiveNo),
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Close {
    pub closing: Closing,
    pub version: Option<i64>,
}

impl Close {
    pub fn to_core(&self) -> momentum_core::commands::Closing {
        match &self.closing {
            Closing::Won(w) => momentum_core::commands::Closing::Won {
                contact: w.contact.map(model::ContactId),
            },
            Closing::Lost(no) => momentum_core::commands::Closing::Lost {
                category: no.reason_category.into(),
                buyer_words: no.buyer_words.clone(),
            },
        }
    }
}

/// Moves the deal's one next step (the buyer rescheduled, say).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reschedule {
    pub next_step: NextStepInput,
    pub version: Option<i64>,
}

/// Hands a deal to another owner.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reassign {
    /// The new owner's e-mail.
    pub owner: String,
    pub version: Option<i64>,
}

// ---------------------------------------------------------------------------------------
// Accounts, contacts, search

/// A buying organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub domain: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<model::Account> for Account {
    fn from(a: model::Account) -> Self {
        Account {
            id: a.id.0,
            name: a.name,
            domain: a.domain,
            created_at: secs(a.created_at),
        }
    }
}

/// An account with its contacts and the newest deals the caller may see.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountDetail {
    #[serde(flatten)]
    pub account: Account,
    pub contacts: Vec<Contact>,
    /// Newest first, at most 50.
    pub deals: Vec<DealSummary>,
}

impl From<directory::AccountView> for AccountDetail {
    fn from(v: directory::AccountView) -> Self {
        AccountDetail {
            account: v.account.into(),
            contacts: v.contacts.into_iter().map(Contact::from).collect(),
            deals: v.deals.into_iter().map(DealSummary::from).collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub name: String,
    pub domain: Option<String>,
}

/// Fields to change; an absent field stays as it is, `null` clears it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub domain: Option<Option<String>>,
}

/// A person at a buying organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Contact {
    pub id: i64,
    pub account: Option<i64>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<model::Contact> for Contact {
    fn from(c: model::Contact) -> Self {
        Contact {
            id: c.id.0,
            account: c.account.map(|a| a.0),
            name: c.name,
            email: c.email.map(|e| e.as_str().to_owned()),
            phone: c.phone,
            title: c.title,
            created_at: secs(c.created_at),
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    pub name: String,
    pub account: Option<i64>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
}

/// Fields to change; an absent field stays as it is, `null` clears it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub account: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
}

/// What a search found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResults {
    /// Only deals the caller may see; newest first.
    pub deals: Vec<DealSummary>,
    /// By name.
    pub accounts: Vec<Account>,
    /// By name.
    pub contacts: Vec<Contact>,
}

impl From<directory::SearchResults> for SearchResults {
    fn from(r: directory::SearchResults) -> Self {
        SearchResults {
            deals: r.deals.into_iter().map(DealSummary::from).collect(),
            accounts: r.accounts.into_iter().map(Account::from).collect(),
            contacts: r.contacts.into_iter().map(Contact::from).collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Pipeline

/// One ladder step of the pipeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PipelineStep {
    pub step: StepRef,
    /// Open deals standing on this step.
    pub deals: i64,
    /// Their value, one amount per currency.
    pub value: Vec<Money>,
}

/// Open deals by ladder step, from 0 (no decision yet) to the top.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Pipeline {
    pub steps: Vec<PipelineStep>,
}

impl From<Vec<pipeline::PipelineStep>> for Pipeline {
    fn from(steps: Vec<pipeline::PipelineStep>) -> Self {
        Pipeline {
            steps: steps
                .into_iter()
                .map(|s| PipelineStep {
                    step: s.step.into(),
                    deals: s.deals,
                    value: s.value.into_iter().map(Money::from).collect(),
                })
                .collect(),
        }
    }
}

/// An open deal with its cholesterol flags.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PipelineDeal {
    pub deal: DealSummary,
    pub flags: Vec<Flag>,
}

impl From<pipeline::PipelineDeal> for PipelineDeal {
    fn from(d: pipeline::PipelineDeal) -> Self {
        PipelineDeal {
            deal: d.deal.into(),
            flags: d.flags.into_iter().map(Flag::from).collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Users, settings, goals, check-ins

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The manager whose team a seller is on.
    pub manager: Option<i64>,
    pub active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<model::User> for User {
    fn from(u: model::User) -> Self {
        User {
            id: u.id.0,
            email: u.email.as_str().to_owned(),
            name: u.name,
            role: u.role.into(),
            manager: u.manager.map(|m| m.0),
            active: u.active,
            created_at: secs(u.created_at),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Users {
    pub items: Vec<User>,
}

/// A user an admin adds.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The e-mail of the manager whose team a seller joins.
    pub manager: Option<String>,
    /// For signing in to the web app; 12 to 1000 characters. Without one the user cannot
    /// sign in until an admin sets it.
    pub password: Option<String>,
}

/// The org's decision ladder: the buyer decisions a deal climbs, in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LadderSteps {
    /// Steps 1 to the top (the buyer signing).
    pub steps: Vec<StepRef>,
}

impl From<&Ladder> for LadderSteps {
    fn from(l: &Ladder) -> Self {
        LadderSteps {
            steps: (1..=l.top().0).map(|i| StepRef::of(l, Step(i))).collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetLadder {
    /// 2 to 20 unique names of buyer decisions, the last one the signing.
    pub steps: Vec<String>,
}

/// The follow-up policy for quiet deals: every `first_every_days` while quiet for less
/// than `first_for_days`, then every `then_every_days`, until a definitive no.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cadence {
    pub first_every_days: u32,
    pub first_for_days: u32,
    pub then_every_days: u32,
}

impl From<model::Cadence> for Cadence {
    fn from(c: model::Cadence) -> Self {
        Cadence {
            first_every_days: c.first_every_days,
            first_for_days: c.first_for_days,
            then_every_days: c.then_every_days,
        }
    }
}

/// A seller's goal for a month.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetGoal {
    /// The seller's e-mail.
    pub seller: String,
    /// `YYYY-MM`.
    #[schema(example = "2026-11")]
    pub month: String,
    pub amount: Money,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Goal {
    /// The seller's user id.
    pub seller: i64,
    /// `YYYY-MM`.
    pub month: String,
    pub amount: Money,
    pub set_by: i64,
    #[schema(value_type = String, format = DateTime)]
    pub set_at: Timestamp,
}

impl From<model::Goal> for Goal {
    fn from(g: model::Goal) -> Self {
        Goal {
            seller: g.user.0,
            month: g.month.to_string(),
            amount: g.amount.into(),
            set_by: g.set_by.0,
            set_at: secs(g.set_at),
        }
    }
}

/// The caller's self-rating of commitment today.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCheckIn {
    /// 1 to 10.
    pub commitment: i64,
    /// What the goal means to you.
    pub why: String,
    pub obstacle: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckIn {
    pub id: i64,
    pub user: i64,
    #[schema(value_type = String, format = Date)]
    pub on: Date,
    pub commitment: u8,
    pub why: String,
    pub obstacle: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: Timestamp,
}

impl From<model::CheckIn> for CheckIn {
    fn from(c: model::CheckIn) -> Self {
        CheckIn {
            id: c.id.0,
            user: c.user.0,
            on: c.on,
            commitment: c.commitment,
            why: c.why,
            obstacle: c.obstacle,
            recorded_at: secs(c.recorded_at),
        }
    }
}

// ---------------------------------------------------------------------------------------
// API tokens

/// An API token as its owner sees it: never the secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: i64,
    /// Where it is used.
    pub name: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// To the minute.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
}

impl From<store_auth::ApiToken> for ApiToken {
    fn from(t: store_auth::ApiToken) -> Self {
        ApiToken {
            id: t.id.0,
            name: t.name,
            created_at: secs(t.created_at),
            last_used_at: t.last_used_at.map(secs),
            revoked_at: t.revoked_at.map(secs),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiTokens {
    /// Newest first, revoked ones included.
    pub items: Vec<ApiToken>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiToken {
    /// Where the token is used, e.g. "spreadsheet export".
    pub name: String,
}

/// A new token, with its secret: shown this once, stored only as a hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedApiToken {
    #[serde(flatten)]
    pub token: ApiToken,
    /// Send as `Authorization: Bearer <secret>`.
    pub secret: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word<T: Serialize>(v: T) -> String {
        serde_json::to_value(v).unwrap().as_str().unwrap().to_owned()
    }

    /// The API spells every word as the core does (and so as the pages, CLI and database do).
    #[test]
    fn the_vocabulary_is_spelled_as_in_the_core() {
        for v in vocab::Role::ALL {
            assert_eq!(word(Role::from(*v)), v.as_str());
        }
        for v in vocab::DealStatus::ALL {
            assert_eq!(word(DealStatus::from(*v)), v.as_str());
        }
        for v in vocab::InteractionKind::ALL {
            assert_eq!(word(InteractionKind::from(*v)), v.as_str());
        }
        for v in vocab::Outcome::ALL {
            assert_eq!(word(Outcome::from(*v)), v.as_str());
        }
        for v in vocab::Commitment::ALL {
            assert_eq!(word(Commitment::from(*v)), v.as_str());
        }
        for v in vocab::NeedKind::ALL {
            assert_eq!(word(NeedKind::from(*v)), v.as_str());
        }
        for v in vocab::LostCategory::ALL {
            assert_eq!(word(LostCategory::from(*v)), v.as_str());
        }
        for v in vocab::Direction::ALL {
            assert_eq!(word(Direction::from(*v)), v.as_str());
        }
        for f in [
            cholesterol::Flag::NoNeed,
            cholesterol::Flag::NoDate,
            cholesterol::Flag::Stale { days: 31 },
            cholesterol::Flag::SellerScheduledOnly,
            cholesterol::Flag::Overdue,
        ] {
            assert_eq!(
                serde_json::to_value(Flag::from(f)).unwrap(),
                serde_json::to_value(f).unwrap()
            );
        }
    }

    #[test]
    fn endings_read_as_documented() {
        let sold: Ending = serde_json::from_str(r#""sold""#).unwrap();
        assert!(matches!(sold, Ending::Sold));
        let next: Ending = serde_json::from_value(serde_json::json!({"next_step": {
            "due": "2026-11-03T09:00:00+01:00", "kind": "meeting", "buyer_committed": true
        }}))
        .unwrap();
        match next {
            Ending::NextStep(n) => assert_eq!(n.due.to_string(), "2026-11-03T08:00:00Z"),
            other => panic!("{other:?}"),
        }
        let no: Ending = serde_json::from_value(serde_json::json!({"definitive_no": {
            "reason_category": "price", "buyer_words": "Too dear"
        }}))
        .unwrap();
        assert!(matches!(no, Ending::DefinitiveNo(_)));
    }

    #[test]
    fn a_patch_tells_absent_from_null() {
        let p: ContactPatch = serde_json::from_str(r#"{"email": null, "name": "Hank"}"#).unwrap();
        assert_eq!((p.name.as_deref(), p.email, p.phone), (Some("Hank"), Some(None), None));
    }
}
