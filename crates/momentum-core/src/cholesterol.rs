//! Sales cholesterol: the signs that an open deal is wishful rather than worked
//! (principle 3: work only deals with a compelling need; principle 2: only the buyer's
//! decisions move a deal). The pipeline shows these flags beside each deal.

use serde::{Deserialize, Serialize};

use crate::model::{Deal, Now};

/// One sign of sales cholesterol on an open deal.
///
/// Serialized in snake case, externally tagged: `"no_need"`, `"no_date"`,
/// `{"stale": {"days": 31}}`, `"seller_scheduled_only"`, `"overdue"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// The buyer has no compelling need on record.
    NoNeed,
    /// Neither an expected close date nor the date the buyer's need matters by.
    NoDate,
    /// No buyer decision for `days` whole days (since the last one, or since the deal
    /// was created when there was none), more than the org tolerates.
    Stale { days: i64 },
    /// The next step is only the seller's: the buyer did not commit to it.
    SellerScheduledOnly,
    /// The next step was due before now.
    Overdue,
}

impl Flag {
    /// The flag in the method's words, for pages and exports.
    pub fn words(&self) -> String {
        match self {
            Flag::NoNeed => "no compelling need".to_owned(),
            Flag::NoDate => "no date".to_owned(),
            Flag::Stale { days } => format!("no buyer decision for {days} days"),
            Flag::SellerScheduledOnly => "seller-scheduled step only".to_owned(),
            Flag::Overdue => "overdue".to_owned(),
        }
    }
}

/// Days without a buyer decision after which an open deal is stale, unless the org says otherwise.
pub const DEFAULT_STALE_DAYS: u32 = 21;

const SECONDS_PER_DAY: i64 = 24 * 60 * 60;

/// The cholesterol flags of `deal` at `now`, in [`Flag`]'s order. A deal is stale when
/// more than `stale_days` whole days have passed without a buyer decision. A closed deal
/// carries no flags.
pub fn flags(deal: &Deal, now: Now, stale_days: u32) -> Vec<Flag> {
    let Some(next_step) = deal.next_step() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if deal.need.is_none() {
        out.push(Flag::NoNeed);
        if deal.expected_close.is_none() {
            out.push(Flag::NoDate);
        }
    }
    let since = deal.last_decision_at.unwrap_or(deal.created_at);
    let days = (now.at.as_second() - since.as_second()).div_euclid(SECONDS_PER_DAY);
    if days > i64::from(stale_days) {
        out.push(Flag::Stale { days });
    }
    if !next_step.buyer_committed {
        out.push(Flag::SellerScheduledOnly);
    }
    if next_step.due < now.at {
        out.push(Flag::Overdue);
    }
    out
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};

    use super::*;
    use crate::model::*;
    use crate::money::{Currency, Money};
    use crate::vocab::{InteractionKind, NeedKind, Role};

    fn t0() -> Timestamp {
        "2026-06-01T10:00:00Z".parse().unwrap()
    }

    fn now_after_days(days: i64) -> Now {
        let at = t0() + SignedDuration::from_hours(24 * days);
        Now {
            at,
            today: at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
        }
    }

    fn step(due_days: i64, buyer_committed: bool) -> NextStep {
        NextStep {
            due: t0() + SignedDuration::from_hours(24 * due_days),
            kind: InteractionKind::Call,
            aims_at: Step(1),
            buyer_committed,
            set_at: t0(),
            set_by: Some(UserId(1)),
        }
    }

    fn need() -> CompellingNeed {
        CompellingNeed {
            kind: NeedKind::Problem,
            buyer_words: "We lose three orders a week".into(),
            consequence: "Churn".into(),
            matters_by: "2026-09-30".parse().unwrap(),
            cost_per_month: Money::new(100_000, Currency::USD),
            recorded_at: t0(),
            recorded_by: UserId(1),
        }
    }

    /// A healthy deal: a need, a buyer-committed step due in 10 days, created at t0.
    fn healthy() -> Deal {
        Deal {
            id: DealId(1),
            owner: Owner {
                id: UserId(1),
                manager: None,
                role: Role::Seller,
                active: true,
            },
            account: None,
            contact: None,
            title: "Rollout".into(),
            value_minor: Some(100),
            currency: Currency::USD,
            expected_close: None,
            stage: Step(0),
            state: DealState::Open {
                next_step: step(10, true),
            },
            need: Some(need()),
            version: 1,
            created_at: t0(),
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
        }
    }

    #[test]
    fn a_worked_deal_has_no_flags() {
        assert_eq!(flags(&healthy(), now_after_days(1), 30), vec![]);
    }

    #[test]
    fn no_need_and_no_date() {
        let mut d = healthy();
        d.need = None;
        assert_eq!(flags(&d, now_after_days(1), 30), vec![Flag::NoNeed, Flag::NoDate]);
        // An expected close date is a date.
        d.expected_close = Some("2026-08-01".parse().unwrap());
        assert_eq!(flags(&d, now_after_days(1), 30), vec![Flag::NoNeed]);
        // The need's date is a date too.
        let mut d = healthy();
        d.expected_close = None;
        assert_eq!(flags(&d, now_after_days(1), 30), vec![]);
    }

    #[test]
    fn stale_counts_whole_days_since_the_last_decision_or_creation() {
        let d = healthy();
        // 30 whole days is not more than 30.
        assert_eq!(flags(&d, now_after_days(30), 30), vec![Flag::Overdue]);
        assert_eq!(
            flags(&d, now_after_days(31), 30),
            vec![Flag::Stale { days: 31 }, Flag::Overdue]
        );
        let mut d = healthy();
        d.state = DealState::Open {
            next_step: step(100, true),
        };
        d.last_decision_at = Some(t0() + SignedDuration::from_hours(24 * 20));
        assert_eq!(flags(&d, now_after_days(45), 30), vec![]);
        assert_eq!(flags(&d, now_after_days(51), 30), vec![Flag::Stale { days: 31 }]);
        assert_eq!(flags(&d, now_after_days(51), 0), vec![Flag::Stale { days: 31 }]);
    }

    #[test]
    fn seller_scheduled_only_and_overdue() {
        let mut d = healthy();
        d.state = DealState::Open {
            next_step: step(2, false),
        };
        assert_eq!(flags(&d, now_after_days(1), 30), vec![Flag::SellerScheduledOnly]);
        assert_eq!(
            flags(&d, now_after_days(3), 30),
            vec![Flag::SellerScheduledOnly, Flag::Overdue]
        );
        // Due exactly now is not yet overdue.
        assert_eq!(flags(&d, now_after_days(2), 30), vec![Flag::SellerScheduledOnly]);
    }

    #[test]
    fn every_flag_at_once_in_order() {
        let mut d = healthy();
        d.need = None;
        d.state = DealState::Open {
            next_step: step(1, false),
        };
        assert_eq!(
            flags(&d, now_after_days(40), 14),
            vec![
                Flag::NoNeed,
                Flag::NoDate,
                Flag::Stale { days: 40 },
                Flag::SellerScheduledOnly,
                Flag::Overdue
            ]
        );
    }

    #[test]
    fn a_closed_deal_has_no_flags() {
        let mut d = healthy();
        d.need = None;
        d.state = DealState::Won { at: t0() };
        assert_eq!(flags(&d, now_after_days(400), 1), vec![]);
    }

    #[test]
    fn flags_read_in_the_methods_words() {
        assert_eq!(Flag::Stale { days: 3 }.words(), "no buyer decision for 3 days");
        assert_eq!(Flag::NoNeed.words(), "no compelling need");
        assert_eq!(Flag::SellerScheduledOnly.words(), "seller-scheduled step only");
    }
}
