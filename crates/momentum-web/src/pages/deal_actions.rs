//! The deal's other changes, each on its own page linked from the Deal page: record the
//! compelling need (or disqualify the deal for want of one), close it won or lost, and
//! reschedule its next step. Each form carries the deal's version, so a change made
//! meanwhile is refused rather than overwritten.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use jiff::Timestamp;
use maud::{html, Markup};
use momentum_core::commands::{Closing, NeedInput, NextStepInput};
use momentum_core::model::{ContactId, DealId, Now, Org};
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::{DealStatus, InteractionKind, LostCategory, NeedKind};
use momentum_core::DomainError;
use momentum_store::ops::{self, DealView};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::{read_store, with_store};
use crate::error::{PageError, WebError};
use crate::pages::deal::{self, DealData};
use crate::pages::ui::{self, error_at, error_general, number, text, val, Posted};
use crate::pages::{layout, money, when};
use crate::AppState;

/// The deal's title, where it stands, and the way back to it.
fn header(org: &Org, v: &DealView, heading: &str) -> Markup {
    let d = &v.summary;
    html! {
        p.muted { a href={"/deals/" (d.id)} { "← " (d.title) } }
        h1 { (heading) }
        p.muted {
            (d.account.clone().unwrap_or_else(|| "No account".into())) " · " (money(d.value))
            " · stands on " (d.stage.step) ". " (d.stage.name)
            @if let Some(n) = &d.next_step { " · next step " (when(org, n.due)) }
        }
    }
}

/// What a closed deal's change pages say instead of a form.
fn closed(v: &DealView, error: Option<&DomainError>) -> Markup {
    html! {
        (error_general(error, &[]))
        p.card { "This deal is " (v.summary.status) ". Corrections to a closed deal are new entries; it takes no more changes here." }
    }
}

fn is_open(v: &DealView) -> bool {
    v.summary.status == DealStatus::Open
}

/// The version a re-rendered form sends back: the one posted, unless it was the stale one.
fn version_to_send(posted: &Option<String>, v: &DealView, error: Option<&DomainError>) -> String {
    match (text(posted), error) {
        (_, Some(DomainError::Conflict { .. })) | (None, _) => v.summary.version.to_string(),
        (Some(p), _) => p.to_owned(),
    }
}

async fn view(state: &AppState, user: &CurrentUser, id: i64) -> Result<DealView, WebError> {
    let s = user.session.clone();
    read_store(state, move |store| Ok(ops::show_deal(store, &s, DealId(id))?)).await
}

// ---------------------------------------------------------------------------------------
// Compelling need

#[derive(Debug, Default, Clone, Deserialize)]
pub struct NeedForm {
    pub csrf: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub buyer_words: Option<String>,
    pub consequence: Option<String>,
    pub matters_by: Option<String>,
    pub cost_per_month: Option<String>,
}

impl NeedForm {
    fn of(v: &DealView) -> NeedForm {
        let n = v.need.as_ref();
        NeedForm {
            version: Some(v.summary.version.to_string()),
            kind: n.map(|n| n.kind.to_string()),
            buyer_words: n.map(|n| n.buyer_words.clone()),
            consequence: n.map(|n| n.consequence.clone()),
            matters_by: n.map(|n| n.matters_by.to_string()),
            cost_per_month: n.map(|n| n.cost_per_month.major_text()),
            ..NeedForm::default()
        }
    }

    fn to_input(&self, currency: Currency) -> Result<NeedInput<'_>, DomainError> {
        Ok(NeedInput {
            kind: NeedKind::parse("need.kind", text(&self.kind).unwrap_or_default())?,
            buyer_words: self.buyer_words.as_deref().unwrap_or_default(),
            consequence: self.consequence.as_deref().unwrap_or_default(),
            matters_by: match text(&self.matters_by) {
                Some(t) => crate::input::date("need.matters_by", t)?,
                None => {
                    return Err(DomainError::missing(
                        "need.matters_by",
                        "give the date by which the need matters",
                    ))
                }
            },
            cost_per_month: match text(&self.cost_per_month) {
                Some(t) => Money::parse("need.cost_per_month", t, currency)?,
                None => {
                    return Err(DomainError::missing(
                        "need.cost_per_month",
                        format!("quantify the cost of doing nothing, per month, in {currency}"),
                    ))
                }
            },
            expected_version: number("version", &self.version)?,
        })
    }
}

fn need_page(user: &CurrentUser, v: &DealView, form: &NeedForm, error: Option<&DomainError>) -> Markup {
    let s = &user.session;
    let d = &v.summary;
    let selected = |k: NeedKind| text(&form.kind) == Some(k.as_str());
    layout::page(
        "Compelling need",
        user,
        "",
        html! {
            (header(&s.org, v, "The buyer's compelling need"))
            @if !is_open(v) { (closed(v, error)) } @else {
                p { "Work only deals where the buyer owns a need: a missed opportunity, a problem or a threat, with a clear consequence of not changing and a date by which it matters. Quantify the cost of doing nothing. If there is none, "
                    a href={"/deals/" (d.id) "/disqualify"} { "disqualify the deal" } "." }
                form.stack.card id="need-form" method="post" action={"/deals/" (d.id) "/need"} {
                    (error_general(error, &["need."]))
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name="version" value=(version_to_send(&form.version, v, error));
                    fieldset {
                        legend { "Kind of need" }
                        @for k in NeedKind::ALL {
                            label.inline { input type="radio" name="kind" value=(k.as_str()) checked[selected(*k)] required; (k.as_str()) }
                        }
                    }
                    (error_at(error, &["need.kind"]))
                    label { "In the buyer's own words" textarea name="buyer_words" required { (val(&form.buyer_words)) } }
                    (error_at(error, &["need.buyer_words"]))
                    label { "If nothing changes (the consequence of inaction)" textarea name="consequence" required { (val(&form.consequence)) } }
                    (error_at(error, &["need.consequence"]))
                    div.steps {
                        label { "Matters by" input type="date" name="matters_by" value=(val(&form.matters_by)) required; }
                        label { "Cost of doing nothing, per month (" (d.currency) ")"
                            input type="text" inputmode="decimal" name="cost_per_month" value=(val(&form.cost_per_month)) required; }
                    }
                    (error_at(error, &["need.matters_by", "need.cost_per_month"]))
                    button type="submit" { "Record the need" }
                }
            }
        },
    )
}

pub async fn need_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let v = view(&state, &user, id).await?;
    Ok(need_page(&user, &v, &NeedForm::of(&v), None).into_response())
}

pub async fn need_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<NeedForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let posted = form.clone();
    let result = with_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        let v = ops::show_deal(store, &s, DealId(id))?;
        let input = posted.to_input(v.summary.currency)?;
        ops::set_need(store, &s, DealId(id), input, now)?;
        Ok(())
    })
    .await;
    match ui::posted(result, "deal")? {
        Posted::Done(()) => Ok(ui::see(&format!("/deals/{id}?done=need"))),
        Posted::Refused(e) => {
            let v = view(&state, &user, id).await?;
            Ok(ui::refused(&e, need_page(&user, &v, &form, Some(&e))))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Disqualify

#[derive(Debug, Default, Clone, Deserialize)]
pub struct DisqualifyForm {
    pub csrf: Option<String>,
    pub version: Option<String>,
    pub reason: Option<String>,
}

fn disqualify_page(user: &CurrentUser, v: &DealView, form: &DisqualifyForm, error: Option<&DomainError>) -> Markup {
    let s = &user.session;
    let d = &v.summary;
    layout::page(
        "Disqualify",
        user,
        "",
        html! {
            (header(&s.org, v, "Disqualify the deal"))
            @if !is_open(v) { (closed(v, error)) } @else {
                p { "Disqualify a deal in which you found no compelling need to buy: wishful deals inflate the pipeline and slow everything. The deal closes as disqualified, with your reason." }
                @if v.need.is_some() { p.card.warn { "This deal has a compelling need on record. Disqualify it only if the need turned out not to be the buyer's." } }
                form.stack.card id="disqualify-form" method="post" action={"/deals/" (d.id) "/disqualify"} {
                    (error_general(error, &["reason"]))
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name="version" value=(version_to_send(&form.version, v, error));
                    label { "Why there is no compelling need" textarea name="reason" required { (val(&form.reason)) } }
                    (error_at(error, &["reason"]))
                    button.danger type="submit" { "Disqualify" }
                }
            }
        },
    )
}

pub async fn disqualify_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let v = view(&state, &user, id).await?;
    let form = DisqualifyForm {
        version: Some(v.summary.version.to_string()),
        ..DisqualifyForm::default()
    };
    Ok(disqualify_page(&user, &v, &form, None).into_response())
}

pub async fn disqualify_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DisqualifyForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let posted = form.clone();
    let result = with_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        let version = number("version", &posted.version)?;
        let reason = posted.reason.as_deref().unwrap_or_default();
        ops::disqualify(store, &s, DealId(id), reason, version, now)?;
        Ok(())
    })
    .await;
    match ui::posted(result, "deal")? {
        Posted::Done(()) => Ok(ui::see(&format!("/deals/{id}?done=disqualified"))),
        Posted::Refused(e) => {
            let v = view(&state, &user, id).await?;
            Ok(ui::refused(&e, disqualify_page(&user, &v, &form, Some(&e))))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Close won or lost

#[derive(Debug, Default, Clone, Deserialize)]
pub struct CloseForm {
    pub csrf: Option<String>,
    pub version: Option<String>,
    /// won | lost
    pub outcome: Option<String>,
    pub contact: Option<String>,
    pub reason_category: Option<String>,
    pub buyer_words: Option<String>,
}

impl CloseForm {
    fn to_closing(&self) -> Result<Closing, DomainError> {
        match text(&self.outcome) {
            Some("won") => Ok(Closing::Won {
                contact: number("contact", &self.contact)?.map(ContactId),
            }),
            Some("lost") => Ok(Closing::Lost {
                category: LostCategory::parse("reason_category", text(&self.reason_category).unwrap_or_default())?,
                buyer_words: self.buyer_words.clone().unwrap_or_default(),
            }),
            other => Err(DomainError::invalid(
                "outcome",
                other.unwrap_or_default(),
                "a deal closes won (the buyer signed) or lost (the buyer's definitive no)",
            )),
        }
    }
}

fn close_page(user: &CurrentUser, data: &DealData, form: &CloseForm, error: Option<&DomainError>) -> Markup {
    let s = &user.session;
    let v = &data.view;
    let d = &v.summary;
    let version = version_to_send(&form.version, v, error);
    let outcome = text(&form.outcome);
    // A refusal shows in the form that was posted.
    let won_error = error.filter(|_| outcome == Some("won"));
    let lost_error = error.filter(|_| outcome == Some("lost"));
    let selected = |v: &Option<String>, option: &str| text(v) == Some(option);
    // Who may have signed: the account's buyers, and anyone the deal's history names.
    let mut buyers = data.contacts.clone();
    for (id, name) in &v.contacts {
        if !buyers.iter().any(|(b, _)| b == id) {
            buyers.push((*id, name.clone()));
        }
    }
    layout::page(
        "Close",
        user,
        "",
        html! {
            (header(&s.org, v, "Close the deal"))
            @if !is_open(v) { (closed(v, error)) } @else {
                p { "A deal closes only two ways from here: won, when the buyer signed, or lost, on the buyer's definitive no in their own words. Going quiet is not a way to close: keep following up." }
                (error_general(error.filter(|_| !matches!(outcome, Some("won" | "lost"))), &[]))
                div.columns {
                    form.stack.card id="close-won" method="post" action={"/deals/" (d.id) "/close"} {
                        h2 { "Won: the buyer signed" }
                        (error_general(won_error, &["contact"]))
                        input type="hidden" name="csrf" value=(user.csrf);
                        input type="hidden" name="version" value=(version);
                        input type="hidden" name="outcome" value="won";
                        label { "Who signed"
                            select name="contact" {
                                option value="" { "(choose the buyer)" }
                                @for (id, name) in &buyers {
                                    option value=(id) selected[outcome == Some("won") && selected(&form.contact, &id.to_string())] { (name) }
                                }
                            }
                        }
                        (error_at(won_error, &["contact"]))
                        button type="submit" { "Close won" }
                    }
                    form.stack.card id="close-lost" method="post" action={"/deals/" (d.id) "/close"} {
                        h2 { "Lost: the buyer's definitive no" }
                        (error_general(lost_error, &["reason_category", "buyer_words"]))
                        input type="hidden" name="csrf" value=(user.csrf);
                        input type="hidden" name="version" value=(version);
                        input type="hidden" name="outcome" value="lost";
                        label { "Because"
                            select name="reason_category" required {
                                option value="" { "(why no?)" }
                                @for c in LostCategory::ALL.iter().filter(|c| **c != LostCategory::NotRecorded) {
                                    option value=(c.as_str()) selected[outcome == Some("lost") && selected(&form.reason_category, c.as_str())] { (c.as_str()) }
                                }
                            }
                        }
                        (error_at(lost_error, &["reason_category"]))
                        label { "The buyer's words" textarea name="buyer_words" required { @if outcome == Some("lost") { (val(&form.buyer_words)) } } }
                        (error_at(lost_error, &["buyer_words"]))
                        button.danger type="submit" { "Close lost" }
                    }
                }
            }
        },
    )
}

pub async fn close_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let data = deal::load(&state, &user, id).await?;
    Ok(close_page(&user, &data, &CloseForm::default(), None).into_response())
}

pub async fn close_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CloseForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let posted = form.clone();
    let result = with_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        let closing = posted.to_closing()?;
        let version = number("version", &posted.version)?;
        let done = match closing {
            Closing::Won { .. } => "won",
            Closing::Lost { .. } => "lost",
        };
        ops::close(store, &s, DealId(id), closing, version, now)?;
        Ok(done)
    })
    .await;
    match ui::posted(result, "deal")? {
        Posted::Done(done) => Ok(ui::see(&format!("/deals/{id}?done={done}"))),
        Posted::Refused(e) => {
            let data = deal::load(&state, &user, id).await?;
            Ok(ui::refused(&e, close_page(&user, &data, &form, Some(&e))))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reschedule

#[derive(Debug, Default, Clone, Deserialize)]
pub struct RescheduleForm {
    pub csrf: Option<String>,
    pub version: Option<String>,
    pub next_at: Option<String>,
    pub next_kind: Option<String>,
    pub aims_at: Option<String>,
    pub buyer_committed: Option<String>,
}

/// An instant as a `datetime-local` input shows it, in the org's time zone.
pub fn local_input(org: &Org, at: Timestamp) -> String {
    let tz = jiff::tz::TimeZone::get(&org.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    at.to_zoned_datetime(tz).strftime("%Y-%m-%dT%H:%M").to_string()
}

impl RescheduleForm {
    fn of(org: &Org, v: &DealView) -> RescheduleForm {
        let n = v.summary.next_step.as_ref();
        RescheduleForm {
            version: Some(v.summary.version.to_string()),
            next_at: n.map(|n| local_input(org, n.due)),
            next_kind: n.map(|n| n.kind.to_string()),
            aims_at: n.map(|n| n.aims_at.step.to_string()),
            buyer_committed: n.filter(|n| n.buyer_committed).map(|_| "on".to_owned()),
            ..RescheduleForm::default()
        }
    }

    fn to_input(&self, org: &Org, now: Now) -> Result<NextStepInput, DomainError> {
        let due = text(&self.next_at)
            .ok_or_else(|| DomainError::missing("next_step.due", "give the new date and time of the next step"))?;
        ui::next_step(org, now, due, &self.next_kind, &self.aims_at, &self.buyer_committed)
    }
}

fn reschedule_page(user: &CurrentUser, v: &DealView, form: &RescheduleForm, error: Option<&DomainError>) -> Markup {
    let s = &user.session;
    let d = &v.summary;
    let ladder = &s.org.ladder;
    let selected = |v: &Option<String>, option: &str| text(v) == Some(option);
    layout::page(
        "Reschedule",
        user,
        "",
        html! {
            (header(&s.org, v, "Reschedule the next step"))
            @if !is_open(v) { (closed(v, error)) } @else {
                p { "An open deal always has exactly one next step. Move it when the buyer moved the appointment; to record what happened in a conversation, "
                    a href={"/deals/" (d.id) "#log"} { "log the interaction" } " instead." }
                form.stack.card id="reschedule-form" method="post" action={"/deals/" (d.id) "/reschedule"} {
                    (error_general(error, &["next_step", "next_kind"]))
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name="version" value=(version_to_send(&form.version, v, error));
                    div.steps {
                        label { "Next step at" input type="datetime-local" name="next_at" value=(val(&form.next_at)) required; }
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
                    }
                    (error_at(error, &["next_step", "next_kind"]))
                    label.inline { input type="checkbox" name="buyer_committed" value="on" checked[text(&form.buyer_committed).is_some()]; "The buyer committed to it" }
                    button type="submit" { "Reschedule" }
                }
            }
        },
    )
}

pub async fn reschedule_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let v = view(&state, &user, id).await?;
    let form = RescheduleForm::of(&user.session.org, &v);
    Ok(reschedule_page(&user, &v, &form, None).into_response())
}

pub async fn reschedule_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<RescheduleForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let posted = form.clone();
    let result = with_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        let input = posted.to_input(&s.org, now)?;
        let version = number("version", &posted.version)?;
        ops::reschedule(store, &s, DealId(id), input, version, now)?;
        Ok(())
    })
    .await;
    match ui::posted(result, "deal")? {
        Posted::Done(()) => Ok(ui::see(&format!("/deals/{id}?done=rescheduled"))),
        Posted::Refused(e) => {
            let v = view(&state, &user, id).await?;
            Ok(ui::refused(&e, reschedule_page(&user, &v, &form, Some(&e))))
        }
    }
}
