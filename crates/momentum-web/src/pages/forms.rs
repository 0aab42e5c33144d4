//! The log-an-interaction form, shared by Today and the Deal page. It reads every field
//! as text, so nothing is refused before the core says why; the core's field names place
//! each message next to its input.

use maud::{html, Markup};
use momentum_core::commands::{Ending, FollowUp, LogInteraction};
use momentum_core::model::{ContactId, Now, Org, Step};
use momentum_core::vocab::{InteractionKind, LostCategory, Outcome};
use momentum_core::DomainError;
use serde::Deserialize;

/// The form as posted. Every field is optional text.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct LogForm {
    pub csrf: Option<String>,
    pub deal: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub contact: Option<String>,
    pub objective: Option<String>,
    pub result: Option<String>,
    /// sold | next | cadence | no
    pub ending: Option<String>,
    pub next_at: Option<String>,
    pub next_kind: Option<String>,
    pub aims_at: Option<String>,
    pub buyer_committed: Option<String>,
    pub reason_category: Option<String>,
    pub buyer_words: Option<String>,
    pub notes: Option<String>,
}

use crate::pages::ui::{number, text};

impl LogForm {
    /// The chosen deal, and the version the seller saw when the form lists several deals
    /// (their options read "id@version", so a double submit is a stale write, not a
    /// second interaction).
    pub fn deal_id(&self) -> Result<i64, DomainError> {
        Ok(self.deal_choice()?.0)
    }

    fn deal_choice(&self) -> Result<(i64, Option<i64>), DomainError> {
        let text = text(&self.deal).ok_or_else(|| DomainError::missing("deal", "choose the deal you talked about"))?;
        let bad = || DomainError::invalid("deal", text, "a deal is chosen by its id");
        let (id, version) = match text.split_once('@') {
            Some((id, v)) => (id, Some(v.parse::<i64>().map_err(|_| bad())?)),
            None => (text, None),
        };
        Ok((id.parse::<i64>().map_err(|_| bad())?, version))
    }

    /// The core's input, or the first field that cannot be read.
    pub fn to_input(&self, org: &Org, now: Now) -> Result<LogInteraction, DomainError> {
        let step = |field: &str, v: &Option<String>| text(v).map(|t| org.ladder.parse_step(field, t)).transpose();
        let ending = match text(&self.ending) {
            None => None,
            Some("sold") => Some(Ending::Sold),
            Some("cadence") => Some(Ending::Scheduled(FollowUp::Cadence)),
            Some("next") => {
                let at = text(&self.next_at)
                    .ok_or_else(|| DomainError::missing("next_step.due", "give the date and time of the next step"))?;
                let step =
                    crate::pages::ui::next_step(org, now, at, &self.next_kind, &self.aims_at, &self.buyer_committed)?;
                Some(Ending::Scheduled(FollowUp::At(step)))
            }
            Some("no") => Some(Ending::DefinitiveNo {
                category: LostCategory::parse("reason_category", text(&self.reason_category).unwrap_or_default())?,
                buyer_words: self.buyer_words.clone().unwrap_or_default(),
            }),
            Some(other) => {
                return Err(DomainError::invalid(
                    "ending",
                    other,
                    "an interaction ends in sold, a next step, a cadence follow-up or a definitive no",
                ))
            }
        };
        Ok(LogInteraction {
            kind: InteractionKind::parse("kind", text(&self.kind).unwrap_or("call"))?,
            contact: number("contact", &self.contact)?.map(ContactId),
            objective: step("objective", &self.objective)?,
            result: Outcome::parse(
                "result",
                text(&self.result)
                    .ok_or_else(|| DomainError::missing("result", "did the deal advance, stay or go back?"))?,
            )?,
            reached: None,
            ending,
            notes: self.notes.clone().unwrap_or_default(),
            occurred_at: None,
            expected_version: match number("version", &self.version)? {
                Some(v) => Some(v),
                None if self.deal.is_some() => self.deal_choice()?.1,
                None => None,
            },
        })
    }
}

/// The message for fields starting with any of `prefixes`, placed next to the input.
fn error_for(error: Option<&DomainError>, prefixes: &[&str]) -> Markup {
    let message = error.and_then(|e| {
        let field = e.field()?;
        prefixes.iter().any(|p| field.starts_with(p)).then(|| e.to_string())
    });
    html! {
        @if let Some(m) = message { p.field-error role="alert" { (m) } }
    }
}

/// What the form needs to offer choices.
#[derive(Debug)]
pub struct Choices<'a> {
    pub org: &'a Org,
    /// When the form is for one deal: its id and version (sent back for the stale check).
    pub deal: Option<(i64, i64)>,
    /// When the form picks the deal (Today): (id, version, label).
    pub deals: &'a [(i64, i64, String)],
    /// (id, label) of the buyers the seller may have talked to.
    pub contacts: &'a [(i64, String)],
    /// The decision to ask for next; `None` offers "the next one" for whichever deal is
    /// chosen (the core picks the step above where that deal stands).
    pub default_objective: Option<Step>,
}

pub fn render(action: &str, csrf: &str, form: &LogForm, choices: &Choices<'_>, error: Option<&DomainError>) -> Markup {
    let val = |v: &Option<String>| v.clone().unwrap_or_default();
    let selected = |v: &Option<String>, option: &str| text(v) == Some(option);
    let ending = text(&form.ending).unwrap_or("");
    let objective = text(&form.objective)
        .map(str::to_owned)
        .or_else(|| choices.default_objective.map(|s| s.0.to_string()))
        .unwrap_or_default();
    let ladder = &choices.org.ladder;
    let general = error.filter(|e| {
        e.field()
            .is_none_or(|f| f == "deal.status" || f == "version" || f == "ending")
    });
    html! {
        form.stack.card id="log" method="post" action=(action) {
            h2 { "Log an interaction" }
            @if let Some(e) = general { p.error role="alert" { (e) } }
            input type="hidden" name="csrf" value=(csrf);
            @if let Some((id, version)) = choices.deal {
                input type="hidden" name="deal" value=(id);
                input type="hidden" name="version" value=(version);
            } @else {
                label { "Deal"
                    select name="deal" required {
                        @for (id, version, label) in choices.deals {
                            @let value = format!("{id}@{version}");
                            option value=(value) selected[selected(&form.deal, &value)] { (label) }
                        }
                    }
                }
                (error_for(error, &["deal"]))
            }
            fieldset {
                legend { "What happened" }
                label.inline { "Kind "
                    select name="kind" {
                        @for k in InteractionKind::ALL {
                            option value=(k.as_str()) selected[selected(&form.kind, k.as_str())] { (k.as_str()) }
                        }
                    }
                }
                label.inline { "With "
                    select name="contact" {
                        option value="" { "(no buyer reached)" }
                        @for (id, name) in choices.contacts {
                            option value=(id) selected[selected(&form.contact, &id.to_string())] { (name) }
                        }
                    }
                }
                (error_for(error, &["contact"]))
                label { "Decision asked for"
                    select name="objective" {
                        @if choices.default_objective.is_none() {
                            option value="" selected[objective.is_empty()] { "(the next decision for this deal)" }
                        }
                        @for (i, name) in ladder.names().iter().enumerate() {
                            @let n = (i + 1).to_string();
                            option value=(n) selected[n == objective] { (n) ". " (name) }
                        }
                    }
                }
                (error_for(error, &["objective", "reached"]))
                div role="radiogroup" aria-label="Result" {
                    @for (value, label) in [("advanced", "Advanced: the buyer decided"), ("stayed", "Stayed"), ("back", "Went back")] {
                        label.inline { input type="radio" name="result" value=(value) checked[selected(&form.result, value)] required; (label) }
                    }
                }
                (error_for(error, &["result"]))
            }
            fieldset {
                legend { "How it ended: sell it or schedule it" }
                label.inline { input type="radio" name="ending" value="sold" checked[ending == "sold"]; "Sold" }
                label.inline { input type="radio" name="ending" value="next" checked[ending == "next"]; "Next step scheduled" }
                label.inline { input type="radio" name="ending" value="cadence" checked[ending == "cadence"]; "Follow up by the cadence" }
                label.inline { input type="radio" name="ending" value="no" checked[ending == "no"]; "Definitive no" }
                (error_for(error, &["next_step", "ending"]))
                div.steps {
                    label { "Next step at" input type="datetime-local" name="next_at" value=(val(&form.next_at)); }
                    label { "Kind"
                        select name="next_kind" {
                            @for k in InteractionKind::ALL {
                                option value=(k.as_str()) selected[selected(&form.next_kind, k.as_str())] { (k.as_str()) }
                            }
                        }
                    }
                    label { "Aims at decision"
                        select name="aims_at" {
                            option value="" { "(the next one)" }
                            @for (i, name) in ladder.names().iter().enumerate() {
                                @let n = (i + 1).to_string();
                                option value=(n) selected[selected(&form.aims_at, &n)] { (n) ". " (name) }
                            }
                        }
                    }
                    label.inline { input type="checkbox" name="buyer_committed" value="on" checked[text(&form.buyer_committed).is_some()]; "The buyer committed to it" }
                }
                div.steps {
                    label { "Reason"
                        select name="reason_category" {
                            option value="" { "(why no?)" }
                            @for c in LostCategory::ALL.iter().filter(|c| **c != LostCategory::NotRecorded) {
                                option value=(c.as_str()) selected[selected(&form.reason_category, c.as_str())] { (c.as_str()) }
                            }
                        }
                    }
                }
                (error_for(error, &["reason_category"]))
                label { "The buyer's words" textarea name="buyer_words" { (val(&form.buyer_words)) } }
                (error_for(error, &["buyer_words"]))
            }
            label { "Notes" textarea name="notes" { (val(&form.notes)) } }
            (error_for(error, &["notes"]))
            button type="submit" { "Log it" }
        }
    }
}
