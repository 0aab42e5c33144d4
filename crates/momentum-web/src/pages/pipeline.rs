//! The pipeline: open deals by ladder step, with their count and value per step (read
//! from the store's summary, never by counting deals here), and the open deals of the
//! chosen step a page at a time, each with its sales-cholesterol flags. Filters narrow it
//! to one owner or one team, among the people the actor sees.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use maud::{html, Markup};
use momentum_core::model::{DealId, Step, User};
use momentum_core::money::Money;
use momentum_core::vocab::Role;
use momentum_core::DomainError;
use momentum_store::ops;
use momentum_store::pipeline::{self, PipelineDeal, PipelineFilter, PipelineStep};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::read_store;
use crate::error::{PageError, WebError};
use crate::pages::ui::{self, error_at, link, text, Posted, PAGE_SIZE};
use crate::pages::{layout, money, when};
use crate::AppState;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct PipelineQuery {
    pub owner: Option<String>,
    pub team: Option<String>,
    pub step: Option<String>,
    pub after: Option<String>,
}

struct Data {
    steps: Vec<PipelineStep>,
    deals: Vec<PipelineDeal>,
    next: Option<i64>,
}

/// The people the filters offer: owners the actor may see, and the teams' managers.
pub(crate) struct People {
    pub owners: Vec<User>,
    pub managers: Vec<User>,
}

/// Values per currency, as people read them.
pub fn values(v: &[Money]) -> String {
    if v.is_empty() {
        return "—".to_owned();
    }
    v.iter().map(Money::to_string).collect::<Vec<_>>().join(" + ")
}

fn render(
    user: &CurrentUser,
    q: &PipelineQuery,
    people: &People,
    stage: Option<Step>,
    data: Option<&Data>,
    error: Option<&DomainError>,
) -> Markup {
    let s = &user.session;
    let now = Timestamp::now();
    let owner = text(&q.owner).map(str::to_owned);
    let team = text(&q.team).map(str::to_owned);
    let here = |step: Option<u8>, after: Option<i64>| {
        link(
            "/pipeline",
            &[
                ("owner", owner.clone()),
                ("team", team.clone()),
                ("step", step.map(|s| s.to_string())),
                ("after", after.map(|a| a.to_string())),
            ],
        )
    };
    let selected = |v: &Option<String>, option: &str| text(v) == Some(option);
    layout::page(
        "Pipeline",
        user,
        "Pipeline",
        html! {
            h1 { "Pipeline" }
            form.filters method="get" action="/pipeline" {
                @if people.owners.len() > 1 {
                    label { "Owner"
                        select name="owner" {
                            option value="" { "(everyone you see)" }
                            @for u in &people.owners {
                                option value=(u.email.as_str()) selected[selected(&q.owner, u.email.as_str())] { (u.name) }
                            }
                        }
                    }
                }
                @if !people.managers.is_empty() {
                    label { "Team"
                        select name="team" {
                            option value="" { "(all teams)" }
                            @for m in &people.managers {
                                option value=(m.email.as_str()) selected[selected(&q.team, m.email.as_str())] { (m.name) "'s team" }
                            }
                        }
                    }
                }
                @if let Some(st) = stage { input type="hidden" name="step" value=(st.0); }
                @if people.owners.len() > 1 || !people.managers.is_empty() { button type="submit" { "Show" } }
            }
            (error_at(error, &["owner", "team", "step"]))
            @if let Some(data) = data {
                table.pipeline {
                    thead { tr { th.num { "Step" } th { "Buyer decision" } th.num { "Open deals" } th.num { "Value" } } }
                    tbody {
                        @for p in &data.steps {
                            @let current = stage.is_some_and(|st| st.0 == p.step.step);
                            tr id={"step-" (p.step.step)} {
                                td.num { (p.step.step) }
                                td { @if current { a href=(here(Some(p.step.step), None)) aria-current="true" { (p.step.name) } } @else { a href=(here(Some(p.step.step), None)) { (p.step.name) } } }
                                td.num.count { (p.deals) }
                                td.num { (values(&p.value)) }
                            }
                        }
                    }
                }
                h2 {
                    @match stage {
                        Some(st) => { "Open deals on step " (st.0) ": " (s.org.ladder.name(st)) }
                        None => "All open deals",
                    }
                }
                @if stage.is_some() { p { a href=(here(None, None)) { "Show every step" } } }
                @if data.deals.is_empty() { p.muted { "No open deals here." } } @else {
                    table.responsive id="pipeline-deals" {
                        thead { tr { th { "Deal" } th { "Owner" } th.num { "Value" } th { "Stands on" } th { "Next step" } th { "Cholesterol" } } }
                        tbody {
                            @for p in &data.deals {
                                @let d = &p.deal;
                                tr data-deal=(d.id) {
                                    td { a href={"/deals/" (d.id)} { (d.title) } br; span.muted { (d.account.clone().unwrap_or_default()) } }
                                    td { (d.owner) }
                                    td.num { (money(d.value)) }
                                    td { (d.stage.step) ". " (d.stage.name) }
                                    td { @if let Some(n) = &d.next_step {
                                        @if n.due < now { span.overdue { (when(&s.org, n.due)) } } @else { (when(&s.org, n.due)) }
                                    } }
                                    td.flags {
                                        @for f in &p.flags { span { (f.words()) } }
                                        @if p.flags.is_empty() { span.tag.ok { "healthy" } }
                                    }
                                }
                            }
                        }
                    }
                }
                (ui::pager(data.next.map(|a| here(stage.map(|s| s.0), Some(a)))))
            }
        },
    )
}

pub(crate) async fn people(state: &AppState, user: &CurrentUser) -> Result<People, WebError> {
    let s = user.session.clone();
    if s.user.role == Role::Seller {
        // Without a trip to the store: a seller sees only their own pipeline.
        return Ok(People {
            owners: vec![s.user],
            managers: Vec::new(),
        });
    }
    read_store(state, move |store| {
        let actor = s.actor();
        let users = ops::users(store, &s)?;
        let managers = users
            .iter()
            .filter(|u| u.role == Role::Manager && (s.user.role == Role::Admin || u.id == s.user.id))
            .cloned()
            .collect();
        let owners = users.into_iter().filter(|u| actor.may_act_for(&u.as_owner())).collect();
        Ok(People { owners, managers })
    })
    .await
}

fn step_of(q: &PipelineQuery, top: Step) -> Result<Option<Step>, DomainError> {
    text(&q.step)
        .map(|t| match t.parse::<u8>() {
            Ok(n) if n <= top.0 => Ok(Step(n)),
            _ => Err(DomainError::invalid(
                "step",
                t,
                format!("a pipeline step is a number from 0 (no decision yet) to {}", top.0),
            )),
        })
        .transpose()
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<PipelineQuery>,
) -> Result<Response, PageError> {
    let people = people(&state, &user).await?;
    let s = user.session.clone();
    let stale_days = state.config.stale_days;
    let after = ui::after(&q.after)?;
    let stage = step_of(&q, s.org.ladder.top());
    let query = q.clone();
    let result = read_store(&state, move |store| {
        let stage = stage?;
        let filter = PipelineFilter {
            owner: text(&query.owner),
            team: text(&query.team),
        };
        let now = s.now(Timestamp::now());
        let (steps, rows) = pipeline::pipeline_with_deals(
            store,
            &s,
            filter,
            stage,
            after.map(DealId),
            PAGE_SIZE + 1,
            now,
            stale_days,
        )?;
        let (deals, next) = ui::keyset(rows, |r| r.deal.id);
        Ok(Data { steps, deals, next })
    })
    .await;
    let stage = step_of(&q, user.session.org.ladder.top()).ok().flatten();
    match ui::posted(result, "")? {
        Posted::Done(data) => Ok(render(&user, &q, &people, stage, Some(&data), None).into_response()),
        Posted::Refused(e) => Ok(ui::refused(&e, render(&user, &q, &people, stage, None, Some(&e)))),
    }
}
