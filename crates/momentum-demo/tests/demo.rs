//! The small demo: determinism, sizes, the method's invariants on every generated history,
//! and the planted truths measured from the histories alone (as the coaching reports will).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use momentum_core::model::*;
use momentum_core::vocab::{Commitment, DealStatus, Direction, Outcome, Role};
use momentum_demo::*;

const TOP: Step = Step(7);

#[derive(Debug, Default, PartialEq, Eq)]
struct VecSink {
    people: Option<People>,
    deals: Vec<DealHistory>,
    batches: Vec<usize>,
}

impl Sink for VecSink {
    type Error = std::convert::Infallible;
    fn people(&mut self, people: &People) -> Result<(), Self::Error> {
        assert!(self.people.is_none(), "people are written once, first");
        self.people = Some(people.clone());
        Ok(())
    }
    fn deals(&mut self, batch: Vec<DealHistory>) -> Result<(), Self::Error> {
        assert!(self.people.is_some(), "people come before deals");
        self.batches.push(batch.len());
        self.deals.extend(batch);
        Ok(())
    }
}

struct Demo {
    summary: Summary,
    sink: VecSink,
    horizon: Timestamp,
    today: Date,
}

impl Demo {
    fn people(&self) -> &People {
        self.sink.people.as_ref().unwrap()
    }

    fn user(&self, email: &str) -> UserId {
        self.people()
            .users
            .iter()
            .find(|u| u.email.as_str() == email)
            .unwrap_or_else(|| panic!("no user {email}"))
            .id
    }

    fn sellers(&self) -> Vec<&User> {
        self.people().users.iter().filter(|u| u.role == Role::Seller).collect()
    }

    fn deals_of(&self, user: UserId) -> impl Iterator<Item = &DealHistory> {
        self.sink.deals.iter().filter(move |h| h.deal.owner.id == user)
    }
}

fn config(seed: u64) -> DemoConfig {
    DemoConfig {
        seed,
        scale: Scale::Small,
        today: Date::constant(2026, 11, 24),
    }
}

fn make(seed: u64) -> Demo {
    let config = config(seed);
    let mut sink = VecSink::default();
    let summary = generate(&config, &mut sink).unwrap();
    let horizon = config
        .today
        .at(7, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp();
    Demo {
        summary,
        sink,
        horizon,
        today: config.today,
    }
}

/// The seed-42 demo, made once for all tests of this file.
fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| make(42))
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

/// An unanswered follow-up: the buyer made no decision and no commitment.
fn unanswered(i: &Interaction) -> bool {
    i.result == Outcome::Stayed && i.commitment == Commitment::None
}

#[test]
fn same_seed_and_day_give_the_same_demo() {
    let again = make(42);
    assert_eq!(again.summary, demo().summary);
    assert!(again.sink == demo().sink, "the same seed must give identical data");
}

#[test]
fn another_seed_gives_another_demo() {
    let other = make(43);
    assert_ne!(other.sink.deals, demo().sink.deals);
    assert_ne!(other.people().contacts, demo().people().contacts);
    // The cast stays the same: same users, same ids.
    assert_eq!(other.people().users, demo().people().users);
}

#[test]
fn another_today_moves_the_history() {
    let config = DemoConfig {
        today: Date::constant(2026, 6, 1),
        ..config(42)
    };
    let mut sink = VecSink::default();
    generate(&config, &mut sink).unwrap();
    let start_of_today = config
        .today
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp();
    let last = sink.deals.iter().map(|h| h.deal.created_at).max().unwrap();
    assert!(last < start_of_today, "deals start before 2026-06-01");
    assert!(last > start_of_today - days(7), "and up to the last days");
}

#[test]
fn sizes_are_those_of_the_small_demo() {
    let d = demo();
    let s = d.summary;
    assert_eq!(s.users, 11);
    assert_eq!(s.accounts, 300);
    assert!((300..=900).contains(&s.contacts), "{s:?}");
    assert_eq!(s.deals, 2_000);
    assert!((23_000..=27_000).contains(&s.interactions), "{s:?}");
    let counted: usize = d.sink.deals.iter().map(|h| h.interactions.len()).sum();
    assert_eq!(counted, s.interactions);
    assert_eq!(
        d.sink.deals.iter().map(|h| h.decisions.len()).sum::<usize>(),
        s.decisions
    );
    assert_eq!(d.sink.batches, vec![2_000]);

    let people = d.people();
    assert_eq!(people.org.id, OrgId(1));
    assert_eq!(people.org.name, "Demo Sales");
    assert_eq!(people.org.timezone, "UTC");
    assert_eq!(people.org.currency.code(), "USD");
    assert_eq!(people.users[0].email.as_str(), "admin@demo.momentum.test");
    assert_eq!(people.users[0].name, "Ada Admin");
    let roles = |r| people.users.iter().filter(|u| u.role == r).count();
    assert_eq!(
        (roles(Role::Admin), roles(Role::Manager), roles(Role::Seller)),
        (1, 2, 8)
    );
    for manager in people.users.iter().filter(|u| u.role == Role::Manager) {
        assert_eq!(people.users.iter().filter(|u| u.manager == Some(manager.id)).count(), 4);
    }
    // 12 past months and the current one, for each seller.
    assert_eq!(people.goals.len(), 8 * 13);
    assert!(people.goals.iter().any(|g| g.month == Month::of(d.today)));
    // A check-in every two weeks or so, for each seller, over the year.
    for seller in d.sellers() {
        let n = people.check_ins.iter().filter(|c| c.user == seller.id).count();
        assert!((22..=30).contains(&n), "{}: {n} check-ins", seller.email);
    }
    assert!(people
        .check_ins
        .iter()
        .all(|c| (1..=10).contains(&c.commitment) && !c.why.is_empty()));
    assert!(people.check_ins.iter().any(|c| c.obstacle.is_some()));
    assert!(people.check_ins.iter().all(|c| c.on < d.today));
}

#[test]
fn ids_are_sequential_from_one() {
    let d = demo();
    let people = d.people();
    assert!(people
        .users
        .iter()
        .enumerate()
        .all(|(i, u)| u.id == UserId(i as i64 + 1)));
    assert!(people
        .accounts
        .iter()
        .enumerate()
        .all(|(i, a)| a.id == AccountId(i as i64 + 1)));
    assert!(people
        .contacts
        .iter()
        .enumerate()
        .all(|(i, c)| c.id == ContactId(i as i64 + 1)));
    assert!(people
        .check_ins
        .iter()
        .enumerate()
        .all(|(i, c)| c.id == CheckInId(i as i64 + 1)));
    assert!(
        people.check_ins.windows(2).all(|w| w[0].on <= w[1].on),
        "check-ins are numbered in date order"
    );
    assert!(d
        .sink
        .deals
        .iter()
        .enumerate()
        .all(|(i, h)| h.deal.id == DealId(i as i64 + 1)));
    for account in &people.accounts {
        let n = people.contacts.iter().filter(|c| c.account == Some(account.id)).count();
        assert!((1..=3).contains(&n), "{} has {n} contacts", account.name);
    }
}

#[test]
fn every_history_keeps_the_method_invariants() {
    let d = demo();
    let people = d.people();
    let account_of: BTreeMap<ContactId, Option<AccountId>> =
        people.contacts.iter().map(|c| (c.id, c.account)).collect();
    let sellers: Vec<UserId> = d.sellers().iter().map(|u| u.id).collect();
    for h in &d.sink.deals {
        let deal = &h.deal;
        let id = deal.id;
        assert!(sellers.contains(&deal.owner.id), "deal {id} is owned by a seller");
        let value = deal.value_minor.unwrap();
        assert!((200_000..=25_000_000).contains(&value), "deal {id} value {value}");
        assert!(deal.expected_close.is_some());
        assert!(deal.created_at < d.horizon);
        assert!(deal.created_at >= d.horizon - days(366));
        match &deal.state {
            DealState::Open { next_step } => {
                assert!(
                    next_step.aims_at > deal.stage || deal.stage == TOP,
                    "deal {id} next step aims above its stage"
                );
            }
            DealState::Won { .. } => assert_eq!(deal.stage, TOP, "deal {id} won at the top"),
            DealState::Lost { buyer_words, .. } => assert!(!buyer_words.is_empty()),
            DealState::Disqualified { reason, .. } => {
                assert!(!reason.is_empty());
                assert!(deal.need.is_none(), "deal {id}: only needless deals are disqualified");
            }
        }
        if deal.status() == DealStatus::Open {
            assert!(deal.next_step().is_some(), "open deal {id} has a next step");
        }

        // The ledger chains from step 0, one decision at a time.
        let mut stage = Step(0);
        for (k, dec) in h.decisions.iter().enumerate() {
            assert_eq!(dec.seq, k as u32 + 1);
            assert_eq!(
                dec.from, stage,
                "deal {id} decision {} starts where the last ended",
                dec.seq
            );
            match dec.direction {
                Direction::Advance => assert!(dec.to > dec.from),
                Direction::Back => assert!(dec.to < dec.from),
            }
            assert!(dec.contact.is_some(), "a buyer made decision {} of deal {id}", dec.seq);
            stage = dec.to;
        }
        assert_eq!(stage, deal.stage);
        assert_eq!(deal.decision_count as usize, h.decisions.len());
        assert_eq!(deal.interaction_count as usize, h.interactions.len());

        let mut last = deal.created_at;
        for (k, i) in h.interactions.iter().enumerate() {
            assert_eq!(i.seq, k as u32 + 1);
            assert!(i.occurred_at >= last, "deal {id}: interactions in time order");
            assert!(i.occurred_at < d.horizon && i.recorded_at < d.horizon && i.recorded_at >= i.occurred_at);
            assert_eq!(i.user, deal.owner.id);
            let contact = i.contact.expect("every interaction names the buyer");
            assert_eq!(
                account_of[&contact], deal.account,
                "deal {id}: contact of the deal's account"
            );
            assert!(i.commitment != Commitment::Sold || k + 1 == h.interactions.len());
            last = i.occurred_at;
        }
        if let Some(primary) = deal.contact {
            assert_eq!(account_of[&primary], deal.account);
        }
    }
    let with_primary = d.sink.deals.iter().filter(|h| h.deal.contact.is_some()).count();
    assert!(
        with_primary * 10 >= d.sink.deals.len() * 8,
        "most deals have a primary contact"
    );
}

#[test]
fn deals_end_every_way_and_won_is_a_quarter_of_closed() {
    let d = demo();
    let mut by_status: BTreeMap<DealStatus, usize> = BTreeMap::new();
    for h in &d.sink.deals {
        *by_status.entry(h.deal.status()).or_default() += 1;
    }
    let count = |s| by_status.get(&s).copied().unwrap_or(0);
    let closed = count(DealStatus::Won) + count(DealStatus::Lost) + count(DealStatus::Disqualified);
    let won_share = count(DealStatus::Won) as f64 / closed as f64;
    assert!(
        (0.24..=0.32).contains(&won_share),
        "won share of closed {won_share:.3} ({by_status:?})"
    );
    assert!(count(DealStatus::Lost) > 0 && count(DealStatus::Disqualified) > 0 && count(DealStatus::Open) > 0);
}

#[test]
fn the_today_lists_have_overdue_due_today_and_future_steps() {
    let d = demo();
    let end_of_today = d.horizon + SignedDuration::from_hours(17);
    let (mut overdue, mut today, mut future) = (0, 0, 0);
    let mut recent_open = 0;
    for h in &d.sink.deals {
        let Some(step) = h.deal.next_step() else { continue };
        // Deals that went dark are overdue on purpose (planted truth 1); look at the rest.
        if step.due < d.horizon - days(28) {
            continue;
        }
        if step.due < d.horizon {
            overdue += 1;
        } else if step.due < end_of_today {
            today += 1;
        } else {
            future += 1;
        }
        if h.deal.created_at > d.horizon - days(21) {
            recent_open += 1;
        }
    }
    assert!(
        overdue > 0 && today > 0,
        "overdue {overdue}, due today {today}, future {future}"
    );
    assert!(
        future > overdue + today,
        "overdue {overdue}, due today {today}, future {future}"
    );
    let recent = d
        .sink
        .deals
        .iter()
        .filter(|h| h.deal.created_at > d.horizon - days(21))
        .count();
    assert!(
        recent_open * 10 >= recent * 8,
        "deals of the last weeks are mostly still open"
    );
}

/// Planted truth 1, measured as the give-up curve will: how many unanswered follow-ups a
/// seller makes in a quiet spell that lasted four weeks or more.
#[test]
fn planted_give_up_sellers_stop_after_a_few_follow_ups() {
    let d = demo();
    let truths = planted_truths();
    assert_eq!(
        truths.early_give_up_sellers,
        ["leo@demo.momentum.test", "julia@demo.momentum.test"]
    );
    let mut give_up_avgs = Vec::new();
    let mut other_avgs = Vec::new();
    for seller in d.sellers() {
        let mut dark_runs = Vec::new();
        let mut long_spells = Vec::new();
        for h in d.deals_of(seller.id) {
            // Every maximal run of unanswered touches, and how long the buyer was silent.
            let mut run = 0u32;
            let mut silent_since = h.deal.created_at;
            for (k, i) in h.interactions.iter().enumerate() {
                if unanswered(i) {
                    run += 1;
                }
                let run_ends = !unanswered(i) || k + 1 == h.interactions.len();
                if run_ends && run > 0 {
                    let until = if unanswered(i) { d.horizon } else { i.occurred_at };
                    if until.duration_since(silent_since) >= days(28) {
                        long_spells.push(run);
                    }
                }
                if !unanswered(i) {
                    run = 0;
                    silent_since = i.occurred_at;
                }
            }
            // Gone dark: open, its seller follow-up overdue for four weeks or more.
            if let Some(step) = h.deal.next_step() {
                if step.due < d.horizon - days(28) {
                    assert!(!step.buyer_committed);
                    dark_runs.push(h.interactions.iter().rev().take_while(|i| unanswered(i)).count() as u32);
                }
            }
        }
        let avg = |v: &[u32]| v.iter().sum::<u32>() as f64 / v.len().max(1) as f64;
        if truths.early_give_up_sellers.contains(&seller.email.as_str()) {
            assert!(
                dark_runs.len() >= 40,
                "{}: {} dark deals",
                seller.email,
                dark_runs.len()
            );
            assert!(
                avg(&dark_runs) <= 3.0,
                "{}: {:.2} follow-ups before dark",
                seller.email,
                avg(&dark_runs)
            );
            assert!(dark_runs.iter().all(|r| (1..=3).contains(r)));
            give_up_avgs.push(avg(&long_spells));
        } else {
            assert!(dark_runs.len() <= 2, "{}: {} dark deals", seller.email, dark_runs.len());
            assert!(
                long_spells.len() >= 30,
                "{}: {} long quiet spells",
                seller.email,
                long_spells.len()
            );
            other_avgs.push(avg(&long_spells));
        }
    }
    let worst_give_up = give_up_avgs.iter().copied().fold(0.0, f64::max);
    let least_persistent = other_avgs.iter().copied().fold(f64::MAX, f64::min);
    assert!(worst_give_up <= 3.0, "{give_up_avgs:?}");
    assert!(
        least_persistent >= 2.0 * worst_give_up && least_persistent >= 5.0,
        "{give_up_avgs:?} vs {other_avgs:?}"
    );
}

#[test]
fn planted_one_deal_in_five_has_no_compelling_need() {
    let d = demo();
    let without = d.sink.deals.iter().filter(|h| h.deal.need.is_none()).count();
    let share = without as f64 / d.sink.deals.len() as f64;
    assert!((0.18..=0.22).contains(&share), "{share}");
    assert!((share - planted_truths().no_need_share).abs() < 0.02);
    for h in d.sink.deals.iter().filter_map(|h| h.deal.need.as_ref()) {
        assert!(h.cost_per_month.minor > 0 && !h.buyer_words.is_empty());
    }
}

/// Planted truth 3, measured from the histories: asking for the signature below step 5.
#[test]
fn planted_too_early_closers_ask_for_the_signature_early_and_go_back() {
    let d = demo();
    let truths = planted_truths();
    assert_eq!(
        truths.too_early_closers,
        ["grace@demo.momentum.test", "ken@demo.momentum.test"]
    );
    for email in &truths.too_early_closers {
        assert!(!truths.early_give_up_sellers.contains(email));
    }
    let mut early = Vec::new();
    let mut normal = Vec::new();
    for seller in d.sellers() {
        let (mut asks, mut touches, mut backs) = (0, 0, 0);
        for h in d.deals_of(seller.id) {
            let mut stage = Step(0);
            for i in &h.interactions {
                touches += 1;
                if i.objective == TOP && stage < Step(5) {
                    asks += 1;
                }
                if i.result == Outcome::Back {
                    backs += 1;
                }
                if let Some(dec) = h.decisions.iter().find(|dec| dec.interaction_seq == Some(i.seq)) {
                    stage = dec.to;
                }
            }
        }
        let share = (asks as f64 / touches as f64, backs as f64 / touches as f64);
        if truths.too_early_closers.contains(&seller.email.as_str()) {
            early.push(share);
        } else {
            normal.push(share);
        }
    }
    let max_normal_ask = normal.iter().map(|s| s.0).fold(0.0, f64::max);
    let max_normal_back = normal.iter().map(|s| s.1).fold(0.0, f64::max);
    for (ask, back) in &early {
        assert!(*ask >= 0.08 && *ask > 4.0 * max_normal_ask, "{early:?} vs {normal:?}");
        assert!(*back > 1.5 * max_normal_back, "{early:?} vs {normal:?}");
    }
}

#[test]
fn planted_truths_name_demo_sellers() {
    let d = demo();
    let t = planted_truths();
    for email in t.early_give_up_sellers.iter().chain(&t.too_early_closers) {
        let id = d.user(email);
        assert!(d.deals_of(id).count() > 150, "{email} has a full share of deals");
    }
}
