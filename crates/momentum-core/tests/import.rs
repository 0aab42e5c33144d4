//! The rules of recording imported history (DESIGN.md: "an import never invents buyer
//! decisions").

use jiff::Timestamp;
use momentum_core::commands::Rules;
use momentum_core::import::{import_deal, ImportedDeal, PlannedStep, StageChange, NOT_RECORDED};
use momentum_core::model::*;
use momentum_core::money::Currency;
use momentum_core::vocab::*;
use momentum_core::DomainError;

fn now() -> Now {
    Now {
        at: "2026-11-01T12:00:00Z".parse().unwrap(),
        today: "2026-11-01".parse().unwrap(),
    }
}

fn admin() -> Actor {
    Actor {
        user: UserId(1),
        role: Role::Admin,
    }
}

fn owner() -> Owner {
    Owner {
        id: UserId(2),
        manager: None,
        role: Role::Seller,
        active: false,
    }
}

fn row(status: DealStatus) -> ImportedDeal<'static> {
    ImportedDeal {
        external_id: Some("X-1"),
        owner: owner(),
        account: None,
        contact: None,
        title: "Imported deal",
        value_minor: None,
        currency: Currency::USD,
        created: Some("2026-01-10T09:00:00Z".parse().unwrap()),
        expected_close: None,
        closed: Some("2026-03-01T00:00:00Z".parse().unwrap()),
        status,
        stage: None,
        lost_category: None,
        lost_reason: None,
        history: &[],
        provenance: "csv:deals.csv:2".into(),
        next_step: None,
    }
}

fn import(
    existing: Option<&Deal>,
    input: ImportedDeal<'_>,
) -> Result<momentum_core::import::ImportedRecord, Vec<DomainError>> {
    let ladder = Ladder::default_steps();
    let cadence = Cadence::default();
    import_deal(
        &admin(),
        Rules {
            ladder: &ladder,
            cadence: &cadence,
        },
        DealId(9),
        existing,
        input,
        now(),
    )
}

#[test]
fn a_lost_deal_without_buyer_words_keeps_its_date_and_says_so() {
    let r = import(None, row(DealStatus::Lost)).unwrap();
    assert_eq!(
        r.deal.state,
        DealState::Lost {
            at: "2026-03-01T00:00:00Z".parse().unwrap(),
            category: LostCategory::NotRecorded,
            buyer_words: NOT_RECORDED.into(),
        }
    );
    assert_eq!(r.deal.owner, owner(), "an inactive owner is history, not an error");
    assert!(r.decisions.is_empty() && r.deal.stage == Step(0));
}

#[test]
fn an_open_deal_gets_a_seller_follow_up_from_the_cadence() {
    let r = import(None, row(DealStatus::Open)).unwrap();
    let step = r.deal.next_step().unwrap();
    assert!(!step.buyer_committed);
    // Quiet since January: past the cadence's first 28 days, so every 14 days.
    assert_eq!(
        step.due,
        now().at.checked_add(jiff::SignedDuration::from_hours(14 * 24)).unwrap()
    );
    assert_eq!(step.aims_at, Step(1));
}

#[test]
fn an_open_deal_keeps_the_step_its_source_planned_and_a_reimport_changes_nothing() {
    let planned = PlannedStep {
        due: "2026-11-20T09:00:00Z".parse().unwrap(),
        kind: Some(InteractionKind::Meeting),
        by: None,
    };
    let mut input = row(DealStatus::Open);
    input.next_step = Some(planned.clone());
    let r = import(None, input.clone()).unwrap();
    let step = r.deal.next_step().unwrap();
    assert_eq!((step.due, step.kind), (planned.due, InteractionKind::Meeting));
    assert!(!step.buyer_committed, "the source does not say the buyer agreed");
    assert_eq!(step.set_by, Some(owner().id), "the owner planned it in the source");
    assert_eq!(step.aims_at, Step(1));

    let again = import(Some(&r.deal), input.clone()).unwrap();
    assert!(!again.changed, "the same planned step is no change");
    let mut date_only = input.clone();
    date_only.next_step = Some(PlannedStep {
        kind: None,
        ..planned.clone()
    });
    let again = import(Some(&r.deal), date_only).unwrap();
    assert!(!again.changed, "a date alone does not undo the meeting planned for it");

    input.next_step = Some(PlannedStep {
        due: "2026-11-27T09:00:00Z".parse().unwrap(),
        ..planned
    });
    let moved = import(Some(&r.deal), input).unwrap();
    assert!(moved.changed);
    assert_eq!(
        moved.deal.next_step().unwrap().due,
        "2026-11-27T09:00:00Z".parse().unwrap()
    );

    let mut won = row(DealStatus::Won);
    won.next_step = moved.deal.next_step().map(|s| PlannedStep {
        due: s.due,
        kind: Some(s.kind),
        by: None,
    });
    assert_eq!(
        import(None, won).unwrap().deal.next_step(),
        None,
        "a closed deal has no next step"
    );
}

#[test]
fn blank_creation_date_is_the_import_time_and_flagged() {
    let mut input = row(DealStatus::Won);
    input.created = None;
    let r = import(None, input).unwrap();
    assert!(r.created_was_blank);
    assert_eq!(r.deal.created_at, now().at);
}

#[test]
fn stage_history_becomes_ledger_entries_and_a_reimport_changes_nothing() {
    let history = [
        StageChange {
            at: "2026-01-20T10:00:00Z".parse().unwrap(),
            step: Step(2),
            label: "Needs Analysis".into(),
        },
        StageChange {
            at: "2026-02-20T10:00:00Z".parse().unwrap(),
            step: Step(1),
            label: "Qualification".into(),
        },
    ];
    let mut input = row(DealStatus::Open);
    input.history = &history;
    let r = import(None, input.clone()).unwrap();
    let moves: Vec<_> = r.decisions.iter().map(|d| (d.from.0, d.to.0, d.direction)).collect();
    assert_eq!(moves, [(0, 2, Direction::Advance), (2, 1, Direction::Back)]);
    assert_eq!(r.deal.stage, Step(1));
    assert_eq!(r.deal.decision_count, 2);

    let again = import(Some(&r.deal), input.clone()).unwrap();
    assert!(!again.changed && again.decisions.is_empty());
    assert_eq!(again.deal, r.deal);

    input.value_minor = Some(500);
    input.stage = Some((Step(3), "Value Proposition"));
    let changed = import(Some(&r.deal), input).unwrap();
    assert!(changed.changed);
    assert_eq!(changed.deal.version, r.deal.version + 1);
    assert_eq!(changed.decisions.len(), 1);
    assert_eq!(changed.decisions[0].seq, 3, "appended after the ledger's entries");
}

#[test]
fn every_broken_rule_of_a_row_is_returned() {
    let mut input = row(DealStatus::Won);
    input.title = " ";
    input.value_minor = Some(-1);
    input.closed = None;
    input.created = Some("2027-01-01T00:00:00Z".parse::<Timestamp>().unwrap());
    let errors = import(None, input).unwrap_err();
    let fields: Vec<_> = errors.iter().filter_map(|e| e.field()).collect();
    assert_eq!(fields, ["title", "value", "created", "closed"]);
}

#[test]
fn only_an_admin_imports() {
    let ladder = Ladder::default_steps();
    let cadence = Cadence::default();
    let seller = Actor {
        user: UserId(2),
        role: Role::Seller,
    };
    let rules = Rules {
        ladder: &ladder,
        cadence: &cadence,
    };
    let e = import_deal(&seller, rules, DealId(1), None, row(DealStatus::Open), now()).unwrap_err();
    assert!(matches!(e[0], DomainError::Forbidden(_)));
}
