//! The reports' rules, worked by hand: statistics over histograms, who a report covers,
//! the step-to-win model's held-back Brier score, and the request's checks.

use std::collections::BTreeMap;

use jiff::civil::date;
use jiff::Timestamp;
use momentum_core::model::*;
use momentum_core::money::Currency;
use momentum_core::reports::*;
use momentum_core::vocab::*;
use momentum_core::DomainError;

fn user(id: i64, role: Role, manager: Option<i64>) -> User {
    User {
        id: UserId(id),
        email: Email::parse("email", &format!("u{id}@x.test")).unwrap(),
        name: format!("User {id}"),
        role,
        manager: manager.map(UserId),
        active: true,
        created_at: Timestamp::UNIX_EPOCH,
    }
}

fn people() -> Vec<User> {
    vec![
        user(1, Role::Admin, None),
        user(2, Role::Manager, None),
        user(3, Role::Seller, Some(2)),
        user(4, Role::Seller, Some(2)),
        user(5, Role::Manager, None),
        user(6, Role::Seller, Some(5)),
    ]
}

fn actor(u: &User) -> Actor {
    Actor {
        user: u.id,
        role: u.role,
    }
}

fn context<'a>(ladder: &'a Ladder, cadence: &'a Cadence) -> Context<'a> {
    Context {
        ladder,
        cadence,
        currency: Currency::USD,
        today: date(2026, 11, 24),
    }
}

#[test]
fn median_and_mean_come_from_the_histogram() {
    let h: Histogram = [(1, 2), (4, 1), (10, 1)].into_iter().collect();
    // 1, 1, 4, 10: median (1 + 4) / 2, mean 16 / 4.
    assert_eq!(
        centre(&h),
        Centre {
            median: Some(2.5),
            mean: Some(4.0)
        }
    );
    let odd: Histogram = [(3, 1), (5, 2)].into_iter().collect();
    assert_eq!(centre(&odd).median, Some(5.0));
    assert_eq!(centre(&Histogram::new()).median, None);
}

#[test]
fn correlation_is_pearsons_and_undefined_without_spread() {
    let r = correlation(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 6.0, 8.0]).unwrap();
    assert!((r - 1.0).abs() < 1e-12);
    let r = correlation(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap();
    assert!((r + 1.0).abs() < 1e-12);
    assert_eq!(correlation(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
    assert_eq!(correlation(&[1.0, 2.0], &[1.0, 2.0]), None, "two points prove nothing");
}

#[test]
fn a_report_covers_what_the_actor_may_see() {
    let users = people();
    let ids = |s: Scope| s.ids().into_iter().map(|u| u.0).collect::<Vec<_>>();
    assert_eq!(ids(scope(&actor(&users[2]), &users, None, None).unwrap()), [3]);
    assert_eq!(ids(scope(&actor(&users[1]), &users, None, None).unwrap()), [2, 3, 4]);
    let all = scope(&actor(&users[0]), &users, None, None).unwrap();
    assert!(all.whole_org);
    assert_eq!(ids(scope(&actor(&users[0]), &users, None, Some("5")).unwrap()), [5, 6]);
    assert_eq!(
        ids(scope(&actor(&users[1]), &users, Some("u4@x.test"), None).unwrap()),
        [4]
    );
    // Someone else's figures are forbidden; a seller is no team; strangers are invalid.
    for (who, seller, team) in [(2, Some("4"), None), (1, None, Some("5")), (1, Some("6"), None)] {
        let e = scope(&actor(&users[who]), &users, seller, team).unwrap_err();
        assert!(matches!(e, DomainError::Forbidden(_)), "{e}");
    }
    let e = scope(&actor(&users[0]), &users, None, Some("3")).unwrap_err();
    assert!(
        matches!(e, DomainError::Invalid { ref field, .. } if field == "team"),
        "{e}"
    );
    let e = scope(&actor(&users[0]), &users, Some("nobody@x.test"), None).unwrap_err();
    assert!(
        matches!(e, DomainError::Invalid { ref field, .. } if field == "seller"),
        "{e}"
    );
}

#[test]
fn the_request_is_checked_field_by_field() {
    let today = date(2026, 11, 24);
    let p = ReportRequest::default().check(today, 21).unwrap();
    assert_eq!(
        (p.month.to_string(), p.stale_days, p.limit),
        ("2026-11".to_owned(), 21, 100)
    );
    for (request, field) in [
        (
            ReportRequest {
                from: Some("24/11/2026"),
                ..Default::default()
            },
            "from",
        ),
        (
            ReportRequest {
                from: Some("2026-11-24"),
                to: Some("2026-11-01"),
                ..Default::default()
            },
            "to",
        ),
        (
            ReportRequest {
                month: Some("2026-13"),
                ..Default::default()
            },
            "month",
        ),
        (
            ReportRequest {
                stale_days: Some(0),
                ..Default::default()
            },
            "stale_days",
        ),
        (
            ReportRequest {
                limit: Some(LIMIT_MAX + 1),
                ..Default::default()
            },
            "limit",
        ),
    ] {
        let e = request.check(today, 21).unwrap_err();
        assert!(
            matches!(e, DomainError::Invalid { field: ref f, .. } if f == field),
            "{field}: {e}"
        );
    }
}

#[test]
fn the_held_back_brier_score_is_worked_by_hand() {
    let (ladder, cadence) = (Ladder::default_steps(), Cadence::default());
    let ctx = context(&ladder, &cadence);
    let users = people();
    let sc = scope(&actor(&users[0]), &users, None, None).unwrap();
    let count = |held_back, peak, won, deals| SplitPeakCount {
        held_back,
        count: PeakCount {
            peak: Step(peak),
            won,
            deals,
        },
    };
    // Fitted on two won (peak 7) and two lost at step 0: step 0 wins 0.5, steps 1-6 win 1.0.
    // Held back: a deal lost at peak 1 predicts 0.5 and 1.0 (errors 0.25 + 1), a won deal
    // predicts 0.5 then 1.0 six times (error 0.25): 1.5 over 9 predictions.
    let split = [
        count(false, 7, true, 2),
        count(false, 0, false, 2),
        count(true, 1, false, 1),
        count(true, 7, true, 1),
    ];
    let all: Vec<PeakCount> = split.iter().map(|s| s.count).collect();
    let rates = step_rates(&ctx, &all);
    let r = win_probability(&ctx, &sc, &split, rates, &[]);
    assert_eq!(r.held_back_deals, 2);
    assert_eq!(r.brier, Some(0.1667));
    assert_eq!(r.brier_baseline, Some(0.25));
    // On all six: step 0 reached by 6, won by 3; step 1 by 4, won 3; steps 2-6 by 3, won 3.
    let fitted: Vec<f64> = r.steps.iter().map(|s| s.rate).collect();
    assert_eq!(fitted, [0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0]);
}

#[test]
fn giving_up_early_is_stopping_before_the_cadences_first_phase() {
    let (ladder, cadence) = (Ladder::default_steps(), Cadence::default());
    let ctx = context(&ladder, &cadence);
    let users = people();
    let sc = scope(&actor(&users[0]), &users, None, None).unwrap();
    let counts = |dark: &[(i64, i64)]| GiveUpCounts {
        deals: 20,
        dark_by_followups: dark.iter().copied().collect(),
        ..Default::default()
    };
    let mut by = BTreeMap::new();
    by.insert(UserId(3), counts(&[(1, 2), (2, 2)]));
    by.insert(UserId(4), counts(&[(6, 3)]));
    by.insert(UserId(6), counts(&[(1, 2)]));
    let r = give_up(&ctx, &sc, &by);
    assert_eq!(r.first_phase_followups, 4);
    let early: Vec<(i64, bool)> = r.sellers.iter().map(|s| (s.seller_id, s.gives_up_early)).collect();
    // User 3 stops after 1-2 follow-ups on four deals; user 4 keeps going; user 6 has too
    // few dark deals to call it a habit.
    assert_eq!(early, [(3, true), (4, false), (6, false)]);
    assert_eq!(r.sellers[0].dark_share, 0.2);
}

#[test]
fn dates_stay_inside_the_calendar_and_seller_and_team_exclude_each_other() {
    let today = date(2026, 11, 24);
    let far = ReportRequest {
        to: Some("9999-12-31"),
        ..Default::default()
    };
    let e = far.check(today, 21).unwrap_err();
    assert!(
        matches!(e, DomainError::Invalid { ref field, .. } if field == "to"),
        "{e}"
    );
    let ancient = ReportRequest {
        month: Some("0001-01"),
        ..Default::default()
    };
    let e = ancient.check(today, 21).unwrap_err();
    assert!(
        matches!(e, DomainError::Invalid { ref field, .. } if field == "month"),
        "{e}"
    );
    let users = people();
    let e = scope(&actor(&users[0]), &users, Some("3"), Some("2")).unwrap_err();
    assert!(
        matches!(e, DomainError::Invalid { ref field, .. } if field == "team"),
        "{e}"
    );
}
