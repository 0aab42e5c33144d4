//! What a seller, a manager or an admin notices when they use the commands: which actions
//! go through, what they change, and which are refused with which field and rule.

mod common;

use common::*;
use momentum_core::commands::*;
use momentum_core::model::*;
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::*;
use momentum_core::DomainError;

// ---------------------------------------------------------------------------------------
// Sell it or schedule it

#[test]
fn an_interaction_with_no_ending_is_refused() {
    let w = World::new();
    let deal = w.deal_at(1);
    let err = log_interaction(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        call(2, Outcome::Stayed, None),
        now_at(t0()),
    )
    .unwrap_err();
    assert_invalid(&err, "next_step", "", "a scheduled next step");
    assert!(err.to_string().starts_with("next_step is missing: "), "{err}");
}

#[test]
fn a_next_step_in_the_past_or_now_is_refused() {
    let w = World::new();
    let deal = w.deal_at(1);
    let now = after(t0(), days(2));
    for due in [after(now, hours(-1)), now] {
        let err = log_interaction(
            &actor(&w.seller_a1),
            w.rules(),
            &deal,
            call(2, Outcome::Stayed, Some(appointment(due))),
            now_at(now),
        )
        .unwrap_err();
        assert_invalid(&err, "next_step.due", &due.to_string(), "must be in the future");
    }
    // A minute later is fine, and becomes the deal's one next step.
    let due = after(now, mins(1));
    let change = log_interaction(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        call(2, Outcome::Stayed, Some(appointment(due))),
        now_at(now),
    )
    .unwrap();
    let step = change.deal.next_step().expect("an open deal has a next step");
    assert_eq!(step.due, due);
    assert!(step.buyer_committed);
    assert_eq!(step.aims_at, Step(2));
    assert_eq!(step.set_at, now);
    assert_eq!(step.set_by, Some(w.seller_a1.id));
    assert_eq!(change.interaction.unwrap().commitment, Commitment::Scheduled);
    assert_eq!(change.decision, None);
    assert_eq!(change.deal.stage, Step(1));
}

#[test]
fn advancing_without_naming_the_buyer_is_refused() {
    let w = World::new();
    let deal = w.deal_at(1);
    let due = after(t0(), days(3));
    let mut input = call(2, Outcome::Advanced, Some(appointment(due)));
    input.contact = None;
    let err = log_interaction(&actor(&w.seller_a1), w.rules(), &deal, input.clone(), now_at(t0())).unwrap_err();
    assert_invalid(&err, "contact", "", "a decision is made by a buyer");

    // Staying needs no buyer decision, so no contact either.
    input.result = Outcome::Stayed;
    let change = log_interaction(&actor(&w.seller_a1), w.rules(), &deal, input, now_at(t0())).unwrap();
    assert_eq!(change.decision, None);
    assert_eq!(change.interaction.unwrap().contact, None);
}

#[test]
fn a_sale_that_stayed_is_refused_below_the_top() {
    let w = World::new();
    let deal = w.deal_at(3);
    let err = log_interaction(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        call(7, Outcome::Stayed, Some(Ending::Sold)),
        now_at(t0()),
    )
    .unwrap_err();
    assert_invalid(&err, "result", "stayed", "the result is advanced");
}

#[test]
fn a_sale_that_stayed_wins_a_deal_already_on_the_top_step() {
    let w = World::new();
    // Imported history may hold an open deal on the last step.
    let mut deal = w.deal_at(6);
    deal.stage = w.top();
    let at = after(t0(), hours(5));
    let change = log_interaction(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        call(7, Outcome::Stayed, Some(Ending::Sold)),
        now_at(at),
    )
    .unwrap();
    assert_eq!(change.deal.state, DealState::Won { at });
    assert_eq!(change.decision, None, "the deal already held the decision");
    assert_eq!(change.deal.stage, w.top());

    // Advancing past the top is refused.
    let err = log_interaction(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        call(7, Outcome::Advanced, Some(Ending::Sold)),
        now_at(at),
    )
    .unwrap_err();
    assert_invalid(&err, "result", "advanced", "log the sale as stayed");
}

#[test]
fn a_sale_advances_to_the_top_step_and_wins_the_deal() {
    let w = World::new();
    let deal = w.deal_at(2);
    let at = after(t0(), days(1));
    let occurred = after(at, hours(-2));
    let mut input = call(3, Outcome::Advanced, Some(Ending::Sold));
    input.occurred_at = Some(occurred);
    let change = log_interaction(&actor(&w.seller_a1), w.rules(), &deal, input, now_at(at)).unwrap();

    assert_eq!(change.read_version, deal.version);
    assert_eq!(change.deal.version, deal.version + 1);
    assert_eq!(change.deal.state, DealState::Won { at: occurred });
    assert_eq!(change.deal.next_step(), None);
    assert_eq!(change.deal.stage, w.top());
    let decision = change.decision.expect("a sale records the buyer's decision to sign");
    assert_eq!(decision.seq, deal.decision_count + 1);
    assert_eq!((decision.from, decision.to), (Step(2), w.top()));
    assert_eq!(decision.direction, Direction::Advance);
    assert_eq!(decision.contact, Some(BUYER));
    assert_eq!(decision.decided_at, occurred);
    assert_eq!(decision.recorded_by, Some(w.seller_a1.id));
    let interaction = change.interaction.unwrap();
    assert_eq!(decision.interaction_seq, Some(interaction.seq));
    assert_eq!(interaction.seq, 1);
    assert_eq!(interaction.commitment, Commitment::Sold);
    assert_eq!(interaction.result, Outcome::Advanced);
    assert_eq!(interaction.occurred_at, occurred);
    assert_eq!(interaction.recorded_at, at);
    assert_eq!(change.deal.interaction_count, 1);
    assert_eq!(change.deal.decision_count, deal.decision_count + 1);
    assert_eq!(change.deal.last_buyer_response_at, Some(occurred));

    // A sale reaches the last step and no other.
    let mut input = call(3, Outcome::Advanced, Some(Ending::Sold));
    input.reached = Some(Step(5));
    let err = log_interaction(&actor(&w.seller_a1), w.rules(), &deal, input, now_at(at)).unwrap_err();
    assert_invalid(&err, "reached", "5", "a sale reaches the last step (7)");
}

#[test]
fn a_sale_that_went_back_is_refused() {
    let w = World::new();
    let deal = w.deal_at(4);
    let err = log_interaction(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        call(5, Outcome::Back, Some(Ending::Sold)),
        now_at(t0()),
    )
    .unwrap_err();
    assert_invalid(&err, "result", "back", "the result is advanced");
}

#[test]
fn reaching_the_top_step_without_a_sale_is_refused() {
    let w = World::new();
    let deal = w.deal_at(5);
    let due = after(t0(), days(2));
    for ending in [appointment(due), Ending::Scheduled(FollowUp::Cadence)] {
        let err = log_interaction(
            &actor(&w.seller_a1),
            w.rules(),
            &deal,
            call(7, Outcome::Advanced, Some(ending)),
            now_at(t0()),
        )
        .unwrap_err();
        assert_invalid(&err, "reached", "7", "which is a sale");
    }
    // A definitive no never advances the deal, to the top or anywhere.
    for objective in [6, 7] {
        let no = Ending::DefinitiveNo {
            category: LostCategory::Price,
            buyer_words: "too dear".into(),
        };
        let err = log_interaction(
            &actor(&w.seller_a1),
            w.rules(),
            &deal,
            call(objective, Outcome::Advanced, Some(no)),
            now_at(t0()),
        )
        .unwrap_err();
        assert_invalid(&err, "result", "advanced", "a definitive no is not a step forward");
    }
    // The step below the top is an ordinary advance.
    let change = log_interaction(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        call(6, Outcome::Advanced, Some(appointment(due))),
        now_at(t0()),
    )
    .unwrap();
    assert_eq!(change.deal.stage, Step(6));
    assert_eq!(change.deal.next_step().unwrap().aims_at, w.top());
}

#[test]
fn advancing_records_the_decision_reached() {
    let w = World::new();
    let deal = w.deal_at(1);
    let due = after(t0(), days(2));
    let mut input = call(2, Outcome::Advanced, Some(appointment(due)));
    input.reached = Some(Step(4));
    let change = log_interaction(&actor(&w.seller_a1), w.rules(), &deal, input, now_at(t0())).unwrap();
    let d = change.decision.unwrap();
    assert_eq!((d.from, d.to, d.direction), (Step(1), Step(4), Direction::Advance));
    assert_eq!(change.deal.stage, Step(4));
    assert_eq!(change.deal.next_step().unwrap().aims_at, Step(5));

    // Advancing to a step the deal already holds is refused.
    let err = log_interaction(
        &actor(&w.seller_a1),
        w.rules(),
        &change.deal,
        call(3, Outcome::Advanced, Some(appointment(due))),
        now_at(t0()),
    )
    .unwrap_err();
    assert_invalid(&err, "reached", "3", "a step above the deal's stage (4)");

    // A deal that stayed reaches nothing.
    let mut input = call(5, Outcome::Stayed, Some(appointment(due)));
    input.reached = Some(Step(5));
    let err = log_interaction(&actor(&w.seller_a1), w.rules(), &change.deal, input, now_at(t0())).unwrap_err();
    assert_invalid(&err, "reached", "5", "reaches no new step");
}

#[test]
fn an_objective_off_the_ladder_is_refused() {
    let w = World::new();
    let deal = w.deal_at(1);
    let due = after(t0(), days(2));
    for bad in [0, 8] {
        let err = log_interaction(
            &actor(&w.seller_a1),
            w.rules(),
            &deal,
            call(bad, Outcome::Stayed, Some(appointment(due))),
            now_at(t0()),
        )
        .unwrap_err();
        assert_invalid(&err, "objective", &bad.to_string(), "from 1 to 7");
    }
}

#[test]
fn an_interaction_in_the_future_is_refused() {
    let w = World::new();
    let deal = w.deal_at(1);
    let mut input = call(2, Outcome::Stayed, Some(Ending::Scheduled(FollowUp::Cadence)));
    let when = after(t0(), hours(1));
    input.occurred_at = Some(when);
    let err = log_interaction(&actor(&w.seller_a1), w.rules(), &deal, input.clone(), now_at(t0())).unwrap_err();
    assert_invalid(&err, "occurred_at", &when.to_string(), "cannot lie in the future");
    // A device clock a minute ahead is tolerated.
    input.occurred_at = Some(after(t0(), mins(1)));
    assert!(log_interaction(&actor(&w.seller_a1), w.rules(), &deal, input, now_at(t0())).is_ok());
}

#[test]
fn going_back_defaults_to_one_step_down_and_records_a_back_decision() {
    let w = World::new();
    let deal = w.deal_at(3);
    let due = after(t0(), days(2));
    let change = log_interaction(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        call(4, Outcome::Back, Some(appointment(due))),
        now_at(t0()),
    )
    .unwrap();
    let d = change.decision.expect("going back is a buyer decision too");
    assert_eq!((d.from, d.to, d.direction), (Step(3), Step(2), Direction::Back));
    assert_eq!(d.seq, 2);
    assert_eq!(change.deal.stage, Step(2));
    assert_eq!(change.deal.decision_count, 2);
    assert_eq!(change.deal.next_step().unwrap().aims_at, Step(3));
    assert_eq!(change.interaction.unwrap().result, Outcome::Back);

    // Explicitly further down.
    let mut input = call(4, Outcome::Back, Some(appointment(due)));
    input.reached = Some(Step(0));
    let change = log_interaction(&actor(&w.seller_a1), w.rules(), &deal, input, now_at(t0())).unwrap();
    assert_eq!(change.deal.stage, Step(0));

    // "Back" to the same or a higher step is refused.
    let mut input = call(4, Outcome::Back, Some(appointment(due)));
    input.reached = Some(Step(3));
    let err = log_interaction(&actor(&w.seller_a1), w.rules(), &deal, input, now_at(t0())).unwrap_err();
    assert_invalid(&err, "reached", "3", "a step below the deal's stage (3)");
}

#[test]
fn going_back_from_no_decision_is_refused() {
    let w = World::new();
    let deal = w.deal_at(0);
    let err = log_interaction(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        call(1, Outcome::Back, Some(appointment(after(t0(), days(1))))),
        now_at(t0()),
    )
    .unwrap_err();
    assert_invalid(&err, "result", "back", "no buyer decision to go back from");
}

#[test]
fn a_definitive_no_needs_the_buyers_words_and_closes_the_deal_lost() {
    let w = World::new();
    let deal = w.deal_at(2);
    let at = after(t0(), days(4));
    for words in ["", "   "] {
        let ending = Ending::DefinitiveNo {
            category: LostCategory::Competitor,
            buyer_words: words.into(),
        };
        let err = log_interaction(
            &actor(&w.seller_a1),
            w.rules(),
            &deal,
            call(3, Outcome::Stayed, Some(ending)),
            now_at(at),
        )
        .unwrap_err();
        assert_invalid(&err, "buyer_words", "", "in their own words");
    }

    let ending = Ending::DefinitiveNo {
        category: LostCategory::NotRecorded,
        buyer_words: "no".into(),
    };
    let err = log_interaction(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        call(3, Outcome::Stayed, Some(ending)),
        now_at(at),
    )
    .unwrap_err();
    assert_invalid(&err, "reason_category", "not_recorded", "only for imported history");

    let ending = Ending::DefinitiveNo {
        category: LostCategory::Competitor,
        buyer_words: "  We signed with Globex.  ".into(),
    };
    let change = log_interaction(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        call(3, Outcome::Stayed, Some(ending)),
        now_at(at),
    )
    .unwrap();
    assert_eq!(
        change.deal.state,
        DealState::Lost {
            at,
            category: LostCategory::Competitor,
            buyer_words: "We signed with Globex.".into(),
        }
    );
    assert_eq!(change.deal.next_step(), None);
    assert_eq!(change.deal.stage, Step(2));
    assert_eq!(change.decision, None);
    assert_eq!(change.interaction.unwrap().commitment, Commitment::DefinitiveNo);
    assert_eq!(change.deal.last_buyer_response_at, Some(at));
}

#[test]
fn closing_lost_needs_the_buyers_words() {
    let w = World::new();
    let deal = w.deal_at(2);
    let at = after(t0(), days(1));
    let err = close(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        Closing::Lost {
            category: LostCategory::Price,
            buyer_words: " ".into(),
        },
        None,
        now_at(at),
    )
    .unwrap_err();
    assert_invalid(
        &err,
        "buyer_words",
        "",
        "a deal is lost only on the buyer's definitive no",
    );

    let change = close(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        Closing::Lost {
            category: LostCategory::Price,
            buyer_words: "Half the price or nothing".into(),
        },
        Some(deal.version),
        now_at(at),
    )
    .unwrap();
    assert_eq!(change.deal.status(), DealStatus::Lost);
    assert_eq!(change.deal.state.closed_at(), Some(at));
    assert_eq!(change.decision, None);
    assert_eq!(change.interaction, None);
    assert_eq!(change.deal.stage, Step(2));
}

#[test]
fn closing_won_records_the_signing_decision() {
    let w = World::new();
    let deal = w.deal_at(4);
    let at = after(t0(), days(1));
    let err = close(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        Closing::Won { contact: None },
        None,
        now_at(at),
    )
    .unwrap_err();
    assert_invalid(&err, "contact", "", "name the contact who decided");

    let change = close(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        Closing::Won { contact: Some(BUYER) },
        None,
        now_at(at),
    )
    .unwrap();
    assert_eq!(change.deal.state, DealState::Won { at });
    assert_eq!(change.deal.stage, w.top());
    let d = change.decision.unwrap();
    assert_eq!((d.from, d.to, d.direction), (Step(4), w.top(), Direction::Advance));
    assert_eq!(d.interaction_seq, None);
    assert_eq!(change.deal.decision_count, deal.decision_count + 1);
}

#[test]
fn recording_a_decision_moves_the_stage_but_never_to_signed() {
    let w = World::new();
    let deal = w.deal_at(1);
    let input = |to: u8, contact: Option<ContactId>| RecordDecision {
        contact,
        to: Step(to),
        decided_at: None,
        note: Some("  by e-mail ".into()),
        expected_version: Some(deal.version),
    };
    let err = record_decision(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        input(7, Some(BUYER)),
        now_at(t0()),
    )
    .unwrap_err();
    assert_invalid(&err, "to", "7", "signing is a sale");

    let err = record_decision(&actor(&w.seller_a1), w.rules(), &deal, input(3, None), now_at(t0())).unwrap_err();
    assert_invalid(&err, "contact", "", "name the contact who decided");

    let at = after(t0(), hours(3));
    let change = record_decision(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        input(3, Some(BUYER)),
        now_at(at),
    )
    .unwrap();
    let d = change.decision.unwrap();
    assert_eq!((d.from, d.to, d.direction), (Step(1), Step(3), Direction::Advance));
    assert_eq!(d.note.as_deref(), Some("by e-mail"));
    assert_eq!(d.decided_at, at);
    assert_eq!(d.seq, 2);
    assert_eq!(change.deal.stage, Step(3));
    assert_eq!(change.deal.last_decision_at, Some(at));
    assert_eq!(change.interaction, None);
    assert_eq!(change.deal.interaction_count, 0);
    assert_eq!(change.deal.status(), DealStatus::Open);

    let back = record_decision(
        &actor(&w.seller_a1),
        w.rules(),
        &change.deal,
        RecordDecision {
            expected_version: Some(change.deal.version),
            ..input(0, Some(BUYER))
        },
        now_at(at),
    )
    .unwrap();
    let d = back.decision.unwrap();
    assert_eq!((d.from, d.to, d.direction), (Step(3), Step(0), Direction::Back));
}

#[test]
fn disqualifying_needs_a_reason_and_clears_the_next_step() {
    let w = World::new();
    let deal = w.deal_at(1);
    assert!(deal.next_step().is_some());
    let at = after(t0(), days(1));
    let err = disqualify(&actor(&w.seller_a1), &deal, "  ", None, now_at(at)).unwrap_err();
    assert_invalid(&err, "reason", "", "no compelling need");

    let change = disqualify(
        &actor(&w.seller_a1),
        &deal,
        " No budget owner, no date ",
        None,
        now_at(at),
    )
    .unwrap();
    assert_eq!(
        change.deal.state,
        DealState::Disqualified {
            at,
            reason: "No budget owner, no date".into(),
        }
    );
    assert_eq!(change.deal.next_step(), None);
    assert_eq!(change.deal.stage, deal.stage);
    assert_eq!((change.decision, change.interaction), (None, None));
}

// ---------------------------------------------------------------------------------------
// Who may act

/// Every deal command `who` can issue on `deal`, by name, with their results.
fn every_deal_command(w: &World, who: &User, deal: &Deal) -> Vec<(&'static str, Result<DealChange, DomainError>)> {
    let a = actor(who);
    let now = now_at(after(t0(), days(1)));
    let due = after(now.at, days(3));
    vec![
        (
            "log_interaction",
            log_interaction(
                &a,
                w.rules(),
                deal,
                call(2, Outcome::Stayed, Some(appointment(due))),
                now,
            ),
        ),
        (
            "record_decision",
            record_decision(
                &a,
                w.rules(),
                deal,
                RecordDecision {
                    contact: Some(BUYER),
                    to: Step(2),
                    decided_at: None,
                    note: None,
                    expected_version: None,
                },
                now,
            ),
        ),
        (
            "set_need",
            set_need(
                &a,
                deal,
                NeedInput {
                    kind: NeedKind::Threat,
                    buyer_words: "we lose the licence",
                    consequence: "fines",
                    matters_by: now.today,
                    cost_per_month: Money::new(100, Currency::USD),
                    expected_version: None,
                },
                now,
            ),
        ),
        ("disqualify", disqualify(&a, deal, "no need", None, now)),
        (
            "close",
            close(&a, w.rules(), deal, Closing::Won { contact: Some(BUYER) }, None, now),
        ),
        ("reassign", reassign(&a, deal, deal.owner, None)),
        (
            "reschedule",
            reschedule(
                &a,
                w.rules(),
                deal,
                NextStepInput {
                    due,
                    kind: InteractionKind::Visit,
                    aims_at: None,
                    buyer_committed: false,
                },
                None,
                now,
            ),
        ),
    ]
}

#[test]
fn a_seller_may_not_act_on_another_sellers_deal() {
    let w = World::new();
    let deal = w.deal_at(1);
    for other in [&w.seller_a2, &w.seller_b1] {
        for (name, result) in every_deal_command(&w, other, &deal) {
            match result {
                Err(DomainError::Forbidden(msg)) => {
                    assert!(msg.contains("a seller acts only on their own deals"), "{name}: {msg}");
                    assert!(msg.contains(&w.seller_a1.id.to_string()), "{name}: {msg}");
                }
                other => panic!("{name} by another seller: expected Forbidden, got {other:?}"),
            }
        }
    }
    for (name, result) in every_deal_command(&w, &w.seller_a1, &deal) {
        assert!(result.is_ok(), "{name} by the owner: {result:?}");
    }
}

#[test]
fn a_manager_acts_on_their_teams_deals_only() {
    let w = World::new();
    let deal = w.deal_at(1);
    for (name, result) in every_deal_command(&w, &w.manager_a, &deal) {
        assert!(result.is_ok(), "{name} by the team's manager: {result:?}");
    }
    for (name, result) in every_deal_command(&w, &w.manager_b, &deal) {
        match result {
            Err(DomainError::Forbidden(msg)) => {
                assert!(
                    msg.contains("a manager acts only on their team's deals"),
                    "{name}: {msg}"
                )
            }
            other => panic!("{name} by another team's manager: expected Forbidden, got {other:?}"),
        }
    }
    // A manager's own deal is theirs to work.
    let own = w.deal_of(&w.manager_b);
    for (name, result) in every_deal_command(&w, &w.manager_b, &own) {
        assert!(result.is_ok(), "{name} by the manager on their own deal: {result:?}");
    }
    for (name, result) in every_deal_command(&w, &w.manager_a, &own) {
        assert!(matches!(result, Err(DomainError::Forbidden(_))), "{name}: {result:?}");
    }
}

#[test]
fn an_admin_acts_on_every_deal() {
    let w = World::new();
    for owner in [&w.seller_a1, &w.seller_b1, &w.manager_b] {
        let deal = w.deal_of(owner);
        for (name, result) in every_deal_command(&w, &w.admin, &deal) {
            assert!(
                result.is_ok(),
                "{name} by the admin on {}'s deal: {result:?}",
                owner.name
            );
        }
    }
}

#[test]
fn reassigning_checks_the_new_owner_too() {
    let w = World::new();
    let deal = w.deal_at(1);
    // The team's manager may not hand a deal to another team.
    assert_forbidden(reassign(&actor(&w.manager_a), &deal, w.seller_b1.as_owner(), None));
    // A seller may not give their deal away.
    assert_forbidden(reassign(&actor(&w.seller_a1), &deal, w.seller_a2.as_owner(), None));
    // An inactive user owns no deal.
    let err = reassign(&actor(&w.manager_a), &deal, w.former_a3.as_owner(), None).unwrap_err();
    assert_invalid(&err, "owner", "13", "an active user");

    let change = reassign(&actor(&w.manager_a), &deal, w.seller_a2.as_owner(), Some(deal.version)).unwrap();
    assert_eq!(change.deal.owner, w.seller_a2.as_owner());
    assert_eq!(change.deal.state, deal.state, "the next step stays");
    // The previous owner no longer acts on it.
    assert_forbidden(disqualify(&actor(&w.seller_a1), &change.deal, "x", None, now_at(t0())));

    let change = reassign(&actor(&w.admin), &deal, w.seller_b1.as_owner(), None).unwrap();
    assert_eq!(change.deal.owner.id, w.seller_b1.id);
}

#[test]
fn creating_a_deal_checks_owner_value_and_date() {
    let w = World::new();
    let now = now_at(after(t0(), days(10)));
    let new = |owner: &User, value: i64, expected_close: Option<jiff::civil::Date>| NewDeal {
        owner: owner.as_owner(),
        account: None,
        contact: None,
        title: "  Widgets  ",
        value: Money::new(value, Currency::EUR),
        expected_close,
        first_step: FollowUp::Cadence,
    };
    let seller = actor(&w.seller_a1);
    assert_forbidden(create_deal(
        &seller,
        w.rules(),
        DealId(1),
        new(&w.seller_a2, 1, None),
        now,
    ));
    assert_forbidden(create_deal(
        &actor(&w.manager_b),
        w.rules(),
        DealId(1),
        new(&w.seller_a2, 1, None),
        now,
    ));

    let err = create_deal(&seller, w.rules(), DealId(1), new(&w.seller_a1, -1, None), now).unwrap_err();
    assert_invalid(&err, "value", "-0.01 EUR", "not negative");
    // Reports sum values in 64 bits: a value past the cap is refused, not summed into an overflow.
    let huge = Money::MAX_MINOR + 1;
    let err = create_deal(&seller, w.rules(), DealId(1), new(&w.seller_a1, huge, None), now).unwrap_err();
    assert_invalid(
        &err,
        "value",
        "100000000000.01 EUR",
        "between 0 and 10000000000000 in minor units",
    );

    let yesterday = now.today.yesterday().unwrap();
    let err = create_deal(
        &seller,
        w.rules(),
        DealId(1),
        new(&w.seller_a1, 1, Some(yesterday)),
        now,
    )
    .unwrap_err();
    assert_invalid(&err, "expected_close", &yesterday.to_string(), "today or later");

    let err = create_deal(&actor(&w.admin), w.rules(), DealId(1), new(&w.former_a3, 1, None), now).unwrap_err();
    assert_invalid(&err, "owner", "13", "an active user");

    let mut untitled = new(&w.seller_a1, 1, None);
    untitled.title = " ";
    let err = create_deal(&seller, w.rules(), DealId(1), untitled, now).unwrap_err();
    assert_invalid(&err, "title", "", "a deal has a title");

    let deal = create_deal(
        &seller,
        w.rules(),
        DealId(1),
        new(&w.seller_a1, 0, Some(now.today)),
        now,
    )
    .unwrap();
    assert_eq!(deal.title, "Widgets");
    assert_eq!(deal.version, 1);
    assert_eq!(deal.stage, Step(0));
    assert_eq!(deal.value(), Some(Money::new(0, Currency::EUR)));
    assert_eq!((deal.interaction_count, deal.decision_count), (0, 0));
    let step = deal.next_step().expect("a new deal has its first step");
    assert_eq!(step.due, after(now.at, days(7)));
    assert!(!step.buyer_committed);
    assert_eq!(step.aims_at, Step(1));

    let mut scheduled = new(&w.seller_a1, 1, None);
    scheduled.first_step = FollowUp::At(NextStepInput {
        due: now.at,
        kind: InteractionKind::Call,
        aims_at: None,
        buyer_committed: true,
    });
    let err = create_deal(&seller, w.rules(), DealId(1), scheduled, now).unwrap_err();
    assert_invalid(&err, "next_step.due", &now.at.to_string(), "in the future");
}

#[test]
fn a_stale_version_is_a_conflict() {
    let w = World::new();
    let deal = w.deal_at(1);
    assert_eq!(deal.version, 2);
    let now = now_at(t0());
    let expect_conflict = |result: Result<DealChange, DomainError>| match result {
        Err(DomainError::Conflict {
            deal: id,
            expected,
            actual,
        }) => {
            assert_eq!((id, expected, actual), (deal.id.0, 1, 2));
        }
        other => panic!("expected Conflict, got {other:?}"),
    };
    let a = actor(&w.seller_a1);
    let mut input = call(2, Outcome::Stayed, Some(Ending::Scheduled(FollowUp::Cadence)));
    input.expected_version = Some(1);
    expect_conflict(log_interaction(&a, w.rules(), &deal, input.clone(), now));
    expect_conflict(disqualify(&a, &deal, "no need", Some(1), now));
    expect_conflict(close(
        &a,
        w.rules(),
        &deal,
        Closing::Won { contact: Some(BUYER) },
        Some(1),
        now,
    ));
    expect_conflict(reassign(&a, &deal, deal.owner, Some(1)));
    expect_conflict(record_decision(
        &a,
        w.rules(),
        &deal,
        RecordDecision {
            contact: Some(BUYER),
            to: Step(2),
            decided_at: None,
            note: None,
            expected_version: Some(1),
        },
        now,
    ));
    let err = DomainError::Conflict {
        deal: 7,
        expected: 1,
        actual: 2,
    };
    assert!(err.to_string().contains("reload it and try again"));

    input.expected_version = Some(2);
    let change = log_interaction(&a, w.rules(), &deal, input, now).unwrap();
    assert_eq!((change.read_version, change.deal.version), (2, 3));
}

#[test]
fn a_closed_deal_refuses_every_command() {
    let w = World::new();
    let open = w.deal_at(2);
    let now = now_at(after(t0(), hours(1)));
    let a = actor(&w.seller_a1);
    let won = close(&a, w.rules(), &open, Closing::Won { contact: Some(BUYER) }, None, now)
        .unwrap()
        .deal;
    let lost = close(
        &a,
        w.rules(),
        &open,
        Closing::Lost {
            category: LostCategory::Timing,
            buyer_words: "not this year".into(),
        },
        None,
        now,
    )
    .unwrap()
    .deal;
    let disqualified = disqualify(&a, &open, "no need", None, now).unwrap().deal;
    for (deal, status) in [(won, "won"), (lost, "lost"), (disqualified, "disqualified")] {
        for who in [&w.seller_a1, &w.admin] {
            for (name, result) in every_deal_command(&w, who, &deal) {
                let err = result.expect_err(name);
                assert_eq!(err.field(), Some("deal.status"), "{name} on a {status} deal: {err}");
                assert!(
                    err.to_string().starts_with(&format!("deal.status is \"{status}\": ")),
                    "{err}"
                );
                assert!(err.to_string().contains("only to an open deal"), "{err}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Follow-up muscle

#[test]
fn the_cadence_places_a_seller_follow_up_weekly_for_four_weeks_then_fortnightly() {
    let w = World::new();
    let deal = w.deal_at(0); // created at t0, the buyer has not answered yet
    let follow_up = |quiet: jiff::SignedDuration| {
        let at = after(t0(), quiet);
        let change = log_interaction(
            &actor(&w.seller_a1),
            w.rules(),
            &deal,
            call(1, Outcome::Stayed, Some(Ending::Scheduled(FollowUp::Cadence))),
            now_at(at),
        )
        .unwrap();
        assert_eq!(change.interaction.as_ref().unwrap().commitment, Commitment::None);
        assert_eq!(
            change.deal.last_buyer_response_at, None,
            "a cadence follow-up is not an answer"
        );
        assert_eq!(change.deal.last_touch_at, Some(at));
        let step = change.deal.next_step().unwrap().clone();
        assert!(!step.buyer_committed);
        assert_eq!(step.aims_at, Step(1));
        assert_eq!(step.set_at, at);
        step.due.duration_since(at)
    };
    assert_eq!(follow_up(days(1)), days(7));
    assert_eq!(follow_up(days(28) - mins(1)), days(7));
    assert_eq!(follow_up(days(28)), days(14));
    assert_eq!(follow_up(days(200)), days(14));
}

#[test]
fn a_buyer_answer_restarts_the_weekly_cadence() {
    let w = World::new();
    let deal = w.deal_at(1);
    let at = after(t0(), days(60));
    // The buyer advanced the deal but set no date: the seller follows up.
    let change = log_interaction(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        call(2, Outcome::Advanced, Some(Ending::Scheduled(FollowUp::Cadence))),
        now_at(at),
    )
    .unwrap();
    assert_eq!(change.deal.last_buyer_response_at, Some(at));
    let step = change.deal.next_step().unwrap();
    assert_eq!(step.due, after(at, days(7)));
    assert_eq!(step.aims_at, Step(3));
    assert!(!step.buyer_committed);
}

#[test]
fn rescheduling_moves_the_one_next_step() {
    let w = World::new();
    let deal = w.deal_at(2);
    let now = now_at(after(t0(), days(1)));
    let step = |due, aims_at| NextStepInput {
        due,
        kind: InteractionKind::Visit,
        aims_at,
        buyer_committed: true,
    };
    let past = after(now.at, mins(-1));
    let err = reschedule(&actor(&w.seller_a1), w.rules(), &deal, step(past, None), None, now).unwrap_err();
    assert_invalid(&err, "next_step.due", &past.to_string(), "in the future");
    let due = after(now.at, days(9));
    let err = reschedule(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        step(due, Some(Step(2))),
        None,
        now,
    )
    .unwrap_err();
    assert_invalid(&err, "next_step.aims_at", "2", "a decision the buyer has not made yet");
    let err = reschedule(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        step(due, Some(Step(9))),
        None,
        now,
    )
    .unwrap_err();
    assert_invalid(&err, "next_step.aims_at", "9", "from 1 to 7");

    let change = reschedule(
        &actor(&w.seller_a1),
        w.rules(),
        &deal,
        step(due, Some(Step(5))),
        None,
        now,
    )
    .unwrap();
    let next = change.deal.next_step().unwrap();
    assert_eq!(
        (next.due, next.kind, next.aims_at),
        (due, InteractionKind::Visit, Step(5))
    );
    assert_eq!(change.deal.stage, Step(2));
    assert_eq!((change.decision, change.interaction), (None, None));
}

// ---------------------------------------------------------------------------------------
// Compelling need

#[test]
fn a_compelling_need_is_dated_quantified_and_in_the_buyers_words() {
    let w = World::new();
    let deal = w.deal_at(1);
    let now = now_at(after(t0(), days(3)));
    let a = actor(&w.seller_a1);
    let need = |words, consequence, matters_by, cost| NeedInput {
        kind: NeedKind::Problem,
        buyer_words: words,
        consequence,
        matters_by,
        cost_per_month: Money::new(cost, Currency::USD),
        expected_version: None,
    };
    let today = now.today;
    let yesterday = today.yesterday().unwrap();

    let err = set_need(&a, &deal, need("we miss orders", "churn", yesterday, 100), now).unwrap_err();
    assert_invalid(&err, "need.matters_by", &yesterday.to_string(), "today or later");
    let err = set_need(&a, &deal, need("we miss orders", "churn", today, 0), now).unwrap_err();
    assert_invalid(&err, "need.cost_per_month", "0.00 USD", "more than zero");
    let err = set_need(&a, &deal, need("we miss orders", "churn", today, -500), now).unwrap_err();
    assert_invalid(&err, "need.cost_per_month", "-5.00 USD", "more than zero");
    let err = set_need(&a, &deal, need(" ", "churn", today, 100), now).unwrap_err();
    assert_invalid(&err, "need.buyer_words", "", "the buyer's own words");
    let err = set_need(&a, &deal, need("we miss orders", "", today, 100), now).unwrap_err();
    assert_invalid(&err, "need.consequence", "", "if the buyer does nothing");

    let change = set_need(&a, &deal, need(" we miss orders ", "churn", today, 250_000), now).unwrap();
    let recorded = change.deal.need.as_ref().unwrap();
    assert_eq!(recorded.buyer_words, "we miss orders");
    assert_eq!(recorded.matters_by, today);
    assert_eq!(recorded.cost_per_month, Money::new(250_000, Currency::USD));
    assert_eq!((recorded.recorded_at, recorded.recorded_by), (now.at, w.seller_a1.id));
    assert_eq!(change.deal.version, deal.version + 1);
    assert_eq!(change.deal.state, deal.state);
    assert_eq!(change.deal.stage, deal.stage);
}

// ---------------------------------------------------------------------------------------
// Goals and commitment

#[test]
fn a_check_in_rates_commitment_from_one_to_ten() {
    let w = World::new();
    let now = now_at(after(t0(), days(1)));
    let a = actor(&w.seller_a1);
    let input = |commitment, why| CheckInInput {
        commitment,
        why,
        obstacle: Some("  "),
    };
    for bad in [0, 11, -3] {
        let err = check_in(&a, CheckInId(1), input(bad, "my family"), now).unwrap_err();
        assert_invalid(&err, "commitment", &bad.to_string(), "from 1 to 10");
    }
    let err = check_in(&a, CheckInId(1), input(5, ""), now).unwrap_err();
    assert_invalid(&err, "why", "", "say why");
    for ok in [1, 10] {
        let c = check_in(&a, CheckInId(1), input(ok, " my family "), now).unwrap();
        assert_eq!(c.commitment, ok as u8);
        assert_eq!((c.user, c.on, c.why.as_str()), (w.seller_a1.id, now.today, "my family"));
        assert_eq!(c.obstacle, None);
    }
}

#[test]
fn goals_are_set_for_sellers_one_may_act_for() {
    let w = World::new();
    let month = Month::parse("month", "2026-11").unwrap();
    let amount = Money::new(5_000_000, Currency::USD);
    assert_forbidden(set_goal(
        &actor(&w.seller_a2),
        &w.seller_a1.as_owner(),
        month,
        amount,
        t0(),
    ));
    assert_forbidden(set_goal(
        &actor(&w.manager_b),
        &w.seller_a1.as_owner(),
        month,
        amount,
        t0(),
    ));
    let err = set_goal(
        &actor(&w.manager_a),
        &w.seller_a1.as_owner(),
        month,
        Money::new(-1, Currency::USD),
        t0(),
    )
    .unwrap_err();
    assert_invalid(&err, "amount", "-0.01 USD", "not negative");
    let err = set_goal(
        &actor(&w.manager_a),
        &w.seller_a1.as_owner(),
        month,
        Money::new(Money::MAX_MINOR + 1, Currency::USD),
        t0(),
    )
    .unwrap_err();
    assert_invalid(
        &err,
        "amount",
        "100000000000.01 USD",
        "between 0 and 10000000000000 in minor units",
    );
    let goal = set_goal(&actor(&w.manager_a), &w.seller_a1.as_owner(), month, amount, t0()).unwrap();
    assert_eq!(
        (goal.user, goal.set_by, goal.amount),
        (w.seller_a1.id, w.manager_a.id, amount)
    );
    assert!(set_goal(&actor(&w.seller_a1), &w.seller_a1.as_owner(), month, amount, t0()).is_ok());
}

// ---------------------------------------------------------------------------------------
// Org and people

#[test]
fn users_are_added_by_admins_and_teams_have_managers() {
    let w = World::new();
    let new = |role, manager| NewUser {
        email: "Nia@Example.com ",
        name: "Nia",
        role,
        manager,
    };
    let err = add_user(None, UserId(20), new(Role::Seller, None), t0()).unwrap_err();
    assert_invalid(&err, "role", "seller", "first user is its admin");
    assert_forbidden(add_user(
        Some(&actor(&w.manager_a)),
        UserId(20),
        new(Role::Seller, None),
        t0(),
    ));
    let err = add_user(
        Some(&actor(&w.admin)),
        UserId(20),
        new(Role::Seller, Some(&w.seller_a1)),
        t0(),
    )
    .unwrap_err();
    assert_invalid(&err, "manager", "sam@example.com", "has the manager role");
    let err = add_user(
        Some(&actor(&w.admin)),
        UserId(20),
        new(Role::Manager, Some(&w.manager_a)),
        t0(),
    )
    .unwrap_err();
    assert_invalid(&err, "manager", "manager", "only a seller is on a manager's team");
    let mut bad_mail = new(Role::Seller, None);
    bad_mail.email = "nia.example.com";
    let err = add_user(Some(&actor(&w.admin)), UserId(20), bad_mail, t0()).unwrap_err();
    assert_invalid(&err, "email", "nia.example.com", "name@example.com");

    let user = add_user(
        Some(&actor(&w.admin)),
        UserId(20),
        new(Role::Seller, Some(&w.manager_b)),
        t0(),
    )
    .unwrap();
    assert_eq!(user.email.as_str(), "nia@example.com");
    assert_eq!(user.manager, Some(w.manager_b.id));
    assert!(user.active);
    assert!(actor(&w.manager_b).may_act_for(&user.as_owner()));
    assert!(!actor(&w.manager_a).may_act_for(&user.as_owner()));
}

#[test]
fn only_admins_change_the_ladder_and_cadence() {
    let w = World::new();
    let names = || vec!["met".to_owned(), "agreed".to_owned(), "signed".to_owned()];
    assert_forbidden(set_ladder(&actor(&w.manager_a), names(), Step(0)));
    assert_forbidden(set_cadence(&actor(&w.seller_a1), 7, 28, 14));
    let err = set_ladder(&actor(&w.admin), names(), Step(4)).unwrap_err();
    assert_invalid(&err, "ladder", "3", "deals stand on step 4");
    assert_eq!(set_ladder(&actor(&w.admin), names(), Step(3)).unwrap().top(), Step(3));
    let err = set_cadence(&actor(&w.admin), 0, 28, 14).unwrap_err();
    assert_invalid(&err, "cadence.first_every_days", "0", "1 to 90 days");
    let err = set_cadence(&actor(&w.admin), 7, 28, 91).unwrap_err();
    assert_invalid(&err, "cadence.then_every_days", "91", "1 to 90 days");
    let err = set_cadence(&actor(&w.admin), 7, 366, 14).unwrap_err();
    assert_invalid(&err, "cadence.first_for_days", "366", "at most 365 days");
    assert_eq!(
        set_cadence(&actor(&w.admin), 3, 0, 30).unwrap(),
        Cadence::new(3, 0, 30).unwrap()
    );
}

// ---------------------------------------------------------------------------------------
// Values

#[test]
fn money_is_parsed_exactly_in_minor_units() {
    let usd = Currency::USD;
    let cases = [
        ("12,500.50", 1_250_050),
        (" 1200 ", 120_000),
        ("99.9", 9_990),
        ("0.01", 1),
        ("1_000", 100_000),
    ];
    for (text, minor) in cases {
        assert_eq!(
            Money::parse("value", text, usd).unwrap(),
            Money::new(minor, usd),
            "{text}"
        );
    }
    let jpy = Currency::parse("currency", " jpy ").unwrap();
    assert_eq!(jpy.exponent(), 0);
    assert_eq!(Money::parse("value", "1500", jpy).unwrap().to_string(), "1500 JPY");
    let err = Money::parse("value", "1500.5", jpy).unwrap_err();
    assert_invalid(&err, "value", "1500.5", "with no decimals, e.g. 12500;");
    for bad in ["", "-5", "1.234", "1.2.3", "12a", "0.1e3", ".5"] {
        let err = Money::parse("value", bad, usd).unwrap_err();
        assert_invalid(&err, "value", bad, "non-negative number with at most 2 decimals");
    }
    assert_eq!(
        Money::parse("value", "92233720368547758.07", usd).unwrap().minor,
        i64::MAX
    );
    for huge in ["92233720368547758.08", "99999999999999999999"] {
        let err = Money::parse("value", huge, usd).unwrap_err();
        assert_invalid(&err, "value", huge, "too large");
    }
    assert_eq!(Money::new(-1_250_050, usd).to_string(), "-12500.50 USD");
    let err = Currency::parse("currency", "EURO").unwrap_err();
    assert_invalid(&err, "currency", "EURO", "ISO 4217");
}

#[test]
fn a_ladder_has_two_to_twenty_uniquely_named_steps() {
    let names = |n: usize| (1..=n).map(|i| format!("decision {i}")).collect::<Vec<_>>();
    let err = Ladder::new(names(1)).unwrap_err();
    assert_invalid(&err, "ladder", "1", "between 2 and 20 steps");
    let err = Ladder::new(names(21)).unwrap_err();
    assert_invalid(&err, "ladder", "21", "between 2 and 20 steps");
    assert_eq!(Ladder::new(names(20)).unwrap().top(), Step(20));
    assert_eq!(Ladder::new(names(2)).unwrap().top(), Step(2));

    let err = Ladder::new(vec!["met".into(), "  ".into(), "signed".into()]).unwrap_err();
    assert_invalid(&err, "ladder.step[2]", "", "names a buyer decision");
    let err = Ladder::new(vec!["met".into(), "signed".into(), " Met ".into()]).unwrap_err();
    assert_invalid(&err, "ladder.step[3]", "Met", "unique");

    let ladder = Ladder::new(vec![" met ".into(), "signed".into()]).unwrap();
    assert_eq!(ladder.names(), ["met", "signed"]);
    assert_eq!(ladder.name(Step(0)), "no decision yet");
    assert_eq!(ladder.name(Step(2)), "signed");
    assert_eq!(ladder.next_after(Step(2)), Step(2));
}

#[test]
fn a_step_is_given_by_number_or_by_name() {
    let ladder = Ladder::default_steps();
    assert_eq!(ladder.top(), Step(7));
    assert_eq!(ladder.parse_step("objective", "3").unwrap(), Step(3));
    assert_eq!(ladder.parse_step("objective", " 7 ").unwrap(), Step(7));
    assert_eq!(ladder.parse_step("objective", "Agreed To Evaluate").unwrap(), Step(4));
    assert_eq!(ladder.parse_step("objective", "signed").unwrap(), Step(7));
    for bad in ["0", "8", "-1", "agreed to lunch", ""] {
        let err = ladder.parse_step("objective", bad).unwrap_err();
        assert_invalid(&err, "objective", bad, "a number from 1 to 7 or a step's name");
    }
    let err = ladder.check("reached", Step(0)).unwrap_err();
    assert_invalid(&err, "reached", "0", "from 1 to 7");
}

#[test]
fn vocabulary_words_have_one_spelling() {
    for &c in Commitment::ALL {
        assert_eq!(Commitment::parse("commitment", c.as_str()).unwrap(), c);
    }
    assert_eq!(
        LostCategory::parse("reason_category", "No Budget").unwrap(),
        LostCategory::NoBudget
    );
    let err = Role::parse("role", "owner").unwrap_err();
    assert_invalid(&err, "role", "owner", "must be one of: seller, manager, admin");
    let err = Month::parse("month", "2026-13").unwrap_err();
    assert_invalid(&err, "month", "2026-13", "YYYY-MM");
    assert_eq!(Month::parse("month", "2026-02").unwrap().to_string(), "2026-02");
}

// ---------------------------------------------------------------------------------------
// Today

#[test]
fn today_is_ordered_by_value_then_by_how_long_the_step_has_waited() {
    let item = |id: i64, value: Option<i64>, due_h: i64| AtStake {
        deal: DealId(id),
        value_minor: value,
        due: after(t0(), hours(due_h)),
    };
    let mut items = vec![
        item(1, Some(500), 5),
        item(2, None, -10),
        item(3, Some(9_000), 3),
        item(4, Some(500), -2),
        item(5, Some(9_000), 1),
        item(6, Some(500), -2),
    ];
    rank_today(&mut items, |i| *i);
    let order: Vec<i64> = items.iter().map(|i| i.deal.0).collect();
    assert_eq!(order, [5, 3, 4, 6, 1, 2]);
}
