//! The rules of recording imported history (DESIGN.md: "an import never invents buyer
//! decisions").

use jiff::Timestamp;
use momentum_core::commands::Rules;
use momentum_core::import::{
    import_deal, ImportedDeal, ImportedRecord, PlannedStep, SourceDigest, SourceField, StageChange, NOT_RECORDED,
};
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
        named: [Some("ada@example.com"), None, None],
    }
}

/// Imports `input`, over what an earlier import of the same record left, if any.
fn import(existing: Option<&ImportedRecord>, input: ImportedDeal<'_>) -> Result<ImportedRecord, Vec<DomainError>> {
    let ladder = Ladder::default_steps();
    let cadence = Cadence::default();
    import_deal(
        &admin(),
        Rules {
            ladder: &ladder,
            cadence: &cadence,
        },
        DealId(9),
        existing.map(|r| &r.deal),
        existing.map(|r| r.source),
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
        buyer_committed: false,
    };
    let mut input = row(DealStatus::Open);
    input.next_step = Some(planned.clone());
    let r = import(None, input.clone()).unwrap();
    let step = r.deal.next_step().unwrap();
    assert_eq!((step.due, step.kind), (planned.due, InteractionKind::Meeting));
    assert!(!step.buyer_committed, "the source does not say the buyer agreed");
    assert_eq!(step.set_by, Some(owner().id), "the owner planned it in the source");
    assert_eq!(step.aims_at, Step(1));

    let again = import(Some(&r), input.clone()).unwrap();
    assert!(!again.changed, "the same planned step is no change");
    let mut date_only = input.clone();
    date_only.next_step = Some(PlannedStep {
        kind: None,
        ..planned.clone()
    });
    let again = import(Some(&r), date_only).unwrap();
    assert_eq!(
        again.deal.state, r.deal.state,
        "a date alone does not undo the meeting planned for it"
    );

    input.next_step = Some(PlannedStep {
        due: "2026-11-27T09:00:00Z".parse().unwrap(),
        ..planned
    });
    let moved = import(Some(&r), input).unwrap();
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
        buyer_committed: false,
    });
    assert_eq!(
        import(None, won).unwrap().deal.next_step(),
        None,
        "a closed deal has no next step"
    );
}

#[test]
fn blank_creation_date_is_the_close_date_or_the_import_time_and_flagged() {
    let mut won = row(DealStatus::Won);
    won.created = None;
    let r = import(None, won.clone()).unwrap();
    assert!(r.created_was_blank);
    assert_eq!(r.deal.created_at, won.closed.unwrap(), "it existed by its close");
    let mut open = row(DealStatus::Open);
    open.created = None;
    let r = import(None, open).unwrap();
    assert!(r.created_was_blank);
    assert_eq!(r.deal.created_at, now().at);
}

#[test]
fn a_close_in_the_future_is_refused_and_one_before_creation_moves_the_creation() {
    let mut input = row(DealStatus::Won);
    input.closed = Some(now().at + jiff::SignedDuration::from_hours(48));
    let errors = import(None, input.clone()).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field(), Some("closed"));
    assert!(
        errors[0].to_string().contains("cannot lie in the future"),
        "{}",
        errors[0]
    );

    let closed: Timestamp = "2026-01-10T00:00:00Z".parse().unwrap();
    input.closed = Some(closed);
    input.created = Some("2026-03-01T00:00:00Z".parse().unwrap());
    let r = import(None, input).unwrap();
    assert!(r.created_after_close);
    assert_eq!(r.deal.created_at, closed, "no negative days to close");
    assert!(!import(None, row(DealStatus::Won)).unwrap().created_after_close);
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

    let again = import(Some(&r), input.clone()).unwrap();
    assert!(!again.changed && again.decisions.is_empty());
    assert_eq!(again.deal, r.deal);

    input.value_minor = Some(500);
    input.stage = Some((Step(3), "Value Proposition"));
    let changed = import(Some(&r), input).unwrap();
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
    assert_eq!(fields, ["title", "value", "closed", "created"]);
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
    let e = import_deal(&seller, rules, DealId(1), None, None, row(DealStatus::Open), now()).unwrap_err();
    assert!(matches!(e[0], DomainError::Forbidden(_)));
}

/// The deal as a seller left it after the import: the buyer decided a higher stage, the
/// seller rescheduled the next step and corrected the value.
fn worked(mut deal: Deal) -> Deal {
    deal.stage = Step(3);
    deal.peak_stage = Step(3);
    deal.decision_count += 1;
    deal.value_minor = Some(7_000);
    deal.state = DealState::Open {
        next_step: NextStep {
            due: "2026-11-05T10:00:00Z".parse().unwrap(),
            kind: InteractionKind::Meeting,
            aims_at: Step(4),
            buyer_committed: true,
            set_at: now().at,
            set_by: Some(owner().id),
        },
    };
    deal.version += 3;
    deal
}

#[test]
fn a_reimport_takes_only_what_the_source_changed_since() {
    let mut input = row(DealStatus::Open);
    input.value_minor = Some(5_000);
    input.stage = Some((Step(1), "Qualification"));
    let first = import(None, input.clone()).unwrap();
    let stored = ImportedRecord {
        deal: worked(first.deal.clone()),
        ..first.clone()
    };

    let again = import(Some(&stored), input.clone()).unwrap();
    assert!(!again.changed && again.decisions.is_empty());
    assert_eq!(again.deal, stored.deal, "the same record undoes nothing the seller did");

    input.title = "Imported deal, phase 2";
    let renamed = import(Some(&stored), input.clone()).unwrap();
    assert!(renamed.changed);
    assert_eq!(
        renamed.deal.title, "Imported deal, phase 2",
        "the source's change comes in"
    );
    assert_eq!(
        (renamed.deal.stage, renamed.deal.value_minor, renamed.deal.next_step()),
        (stored.deal.stage, stored.deal.value_minor, stored.deal.next_step()),
        "what the source did not change stays as the seller left it"
    );
    assert!(renamed.decisions.is_empty(), "no ledger entry moves the deal back");

    input.value_minor = Some(9_000);
    input.stage = Some((Step(5), "Proposal"));
    let moved = import(Some(&renamed), input.clone()).unwrap();
    assert_eq!((moved.deal.value_minor, moved.deal.stage), (Some(9_000), Step(5)));
    assert_eq!(moved.decisions.len(), 1);
    assert_eq!(
        moved.deal.next_step().unwrap().aims_at,
        Step(6),
        "a step aiming below the source's new stage gives way to a follow-up"
    );

    let mut won = stored.clone();
    won.deal.state = DealState::Won { at: now().at };
    let still = import(Some(&won), input.clone()).unwrap();
    assert_eq!(
        still.deal.status(),
        DealStatus::Won,
        "a sale recorded in Momentum stands"
    );
    input.status = DealStatus::Lost;
    let lost = import(Some(&won), input).unwrap();
    assert_eq!(
        lost.deal.status(),
        DealStatus::Lost,
        "the source closing the deal is a change"
    );
}

#[test]
fn a_deal_imported_before_digests_takes_the_source_once_and_keeps_the_digest() {
    let input = row(DealStatus::Open);
    let first = import(None, input.clone()).unwrap();
    let legacy = ImportedRecord {
        deal: worked(first.deal.clone()),
        source: SourceDigest::default(),
        ..first.clone()
    };
    let r = import(Some(&legacy), input).unwrap();
    assert!(r.changed);
    assert_eq!(r.deal.value_minor, None, "no digest to compare with: the source wins");
    assert_eq!(r.source, first.source);
}

#[test]
fn a_digest_reads_back_as_written_and_refuses_anything_else() {
    let mut input = row(DealStatus::Open);
    input.stage = Some((Step(2), "Needs Analysis"));
    let d = SourceDigest::of(&input);
    let text = d.to_string();
    assert_eq!(text.len(), 88);
    assert_eq!(text.parse::<SourceDigest>().unwrap(), d);
    for bad in ["", "xyz", &text[1..], &format!("{}g", &text[1..])] {
        assert!(bad.parse::<SourceDigest>().is_err(), "{bad:?}");
    }
    let mut other = input.clone();
    other.title = "Imported dea";
    let o = SourceDigest::of(&other);
    assert_ne!(o.get(SourceField::Title), d.get(SourceField::Title));
    assert_eq!(o.get(SourceField::Stage), d.get(SourceField::Stage));
}

#[test]
fn an_open_deal_whose_close_date_slips_in_the_source_stays_won_in_momentum() {
    let mut input = row(DealStatus::Open);
    input.expected_close = Some("2026-12-01".parse().unwrap());
    // Sources keep the expected and the actual close date in one column.
    input.closed = Some("2026-12-01T00:00:00Z".parse().unwrap());
    let first = import(None, input.clone()).unwrap();
    let mut won = first.clone();
    won.deal.state = DealState::Won { at: now().at };
    input.expected_close = Some("2026-12-15".parse().unwrap());
    input.closed = Some("2026-12-15T00:00:00Z".parse().unwrap());
    let r = import(Some(&won), input).unwrap();
    assert_eq!(r.deal.status(), DealStatus::Won);
    assert_eq!(r.deal.expected_close, Some("2026-12-15".parse().unwrap()));
}

#[test]
fn a_history_row_repeating_the_stage_does_not_move_the_sellers_stage_back() {
    let qualification = |at: &str| StageChange {
        at: at.parse().unwrap(),
        step: Step(1),
        label: "Qualification".into(),
    };
    let before = [qualification("2026-02-01T00:00:00Z")];
    // Salesforce writes a history row when the amount changes, with the same stage.
    let after = [
        qualification("2026-02-01T00:00:00Z"),
        qualification("2026-06-01T00:00:00Z"),
    ];
    let mut input = row(DealStatus::Open);
    input.stage = Some((Step(1), "Qualification"));
    input.history = &before;
    let first = import(None, input.clone()).unwrap();
    let mut stored = first.clone();
    stored.deal = worked(first.deal.clone());
    stored.deal.last_decision_at = Some("2026-05-01T00:00:00Z".parse().unwrap());
    input.history = &after;
    let r = import(Some(&stored), input).unwrap();
    assert_eq!(r.deal.stage, Step(3));
    assert!(r.decisions.is_empty(), "{:?}", r.decisions);
}

#[test]
fn a_stage_the_source_changes_does_not_move_a_deal_won_in_momentum() {
    let mut input = row(DealStatus::Open);
    input.stage = Some((Step(1), "Qualification"));
    let first = import(None, input.clone()).unwrap();
    let mut won = first.clone();
    won.deal.stage = Step(7);
    won.deal.state = DealState::Won { at: now().at };
    input.stage = Some((Step(5), "Proposal"));
    let r = import(Some(&won), input).unwrap();
    assert_eq!((r.deal.status(), r.deal.stage), (DealStatus::Won, Step(7)));
    assert!(r.decisions.is_empty(), "{:?}", r.decisions);
}

#[test]
fn a_planned_step_the_source_kept_comes_back_when_its_stage_move_retires_the_old_one() {
    let planned = PlannedStep {
        due: "2027-01-15T09:00:00Z".parse().unwrap(),
        kind: Some(InteractionKind::Meeting),
        by: None,
        buyer_committed: false,
    };
    let mut input = row(DealStatus::Open);
    input.stage = Some((Step(1), "Qualification"));
    input.next_step = Some(planned.clone());
    let first = import(None, input.clone()).unwrap();
    assert_eq!(first.deal.next_step().unwrap().due, planned.due);
    input.stage = Some((Step(5), "Proposal"));
    let r = import(Some(&first), input).unwrap();
    let step = r.deal.next_step().unwrap();
    assert_eq!(
        (step.due, step.kind, step.aims_at),
        (planned.due, InteractionKind::Meeting, Step(6)),
        "the source's step, aiming past its new stage, not a follow-up from the cadence"
    );
}

#[test]
fn the_same_record_from_a_file_of_another_name_is_no_change() {
    let input = row(DealStatus::Open);
    let first = import(None, input.clone()).unwrap();
    let renamed = ImportedDeal {
        provenance: "csv:deals (1).csv:2".into(),
        ..input.clone()
    };
    let again = import(Some(&first), renamed).unwrap();
    assert!(!again.changed);
    assert!(!again.kept_momentum_changes, "nothing was changed in Momentum");
    assert_eq!(again.deal.provenance.as_deref(), Some("csv:deals.csv:2"));
    let moved = ImportedDeal {
        provenance: "csv:deals (1).csv:2".into(),
        title: "Imported deal, renamed",
        ..input
    };
    let changed = import(Some(&first), moved).unwrap();
    assert_eq!(changed.deal.provenance.as_deref(), Some("csv:deals (1).csv:2"));
}
