//! The coaching pages: every report with its filters, an SVG chart and its tables; the
//! coaching overview (one row per seller, clicking through to their curves); and the
//! monthly check-in form. Each reads the same store function as the CLI and the API.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use jiff::Timestamp;
use maud::{html, Markup, PreEscaped};
use momentum_core::commands::CheckInInput;
use momentum_core::model::{Month, UserId};
use momentum_core::reports::{Report, ReportName, ReportRequest, ReportView, Table, LIMIT_MAX};
use momentum_core::vocab::Role;
use momentum_core::DomainError;
use momentum_store::{ops, reports};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::chart;
use crate::db::with_store;
use crate::error::{PageError, WebError};
use crate::pages::layout;
use crate::pages::pipeline::{people, People};
use crate::pages::ui::{self, error_at, link, text, Posted};
use crate::AppState;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ReportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub seller: Option<String>,
    pub team: Option<String>,
    pub month: Option<String>,
    pub stale_days: Option<String>,
    pub limit: Option<String>,
}

impl ReportQuery {
    /// The request as the store takes it; numbers are checked here, the rest by the core.
    pub fn request(&self) -> Result<ReportRequest<'_>, DomainError> {
        let number = |field: &str, v: &Option<String>, max: u32| -> Result<Option<u32>, DomainError> {
            text(v)
                .map(|t| {
                    t.parse::<u32>()
                        .map_err(|_| DomainError::invalid(field, t, format!("a whole number up to {max}")))
                })
                .transpose()
        };
        Ok(ReportRequest {
            from: text(&self.from),
            to: text(&self.to),
            seller: text(&self.seller),
            team: text(&self.team),
            month: text(&self.month),
            stale_days: number("stale_days", &self.stale_days, 3650)?,
            limit: number("limit", &self.limit, LIMIT_MAX)?,
        })
    }
}

/// Runs a report for the signed-in user.
async fn run(state: &AppState, user: &CurrentUser, name: ReportName, q: ReportQuery) -> Result<Report, WebError> {
    let s = user.session.clone();
    let stale_days = state.config.stale_days;
    with_store(state, move |store| {
        let now = s.now(Timestamp::now());
        Ok(reports::report(store, &s, name, &q.request()?, stale_days, now)?)
    })
    .await
}

fn report_name(slug: &str) -> Result<ReportName, PageError> {
    ReportName::parse("report", slug).map_err(|_| WebError::NotFound.into())
}

/// The list of reports.
pub async fn index(user: CurrentUser) -> Response {
    layout::page(
        "Reports",
        &user,
        "Reports",
        html! {
            h1 { "Reports" }
            p.muted { "The numbers that show each seller where in the process and the month they give up." }
            ul.reports {
                @for r in ReportName::ALL {
                    li { a href={"/reports/" (r.slug())} { (r.title()) } " — " (r.question()) }
                }
            }
        },
    )
    .into_response()
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let name = report_name(&slug)?;
    let people = people(&state, &user).await?;
    let result = run(&state, &user, name, q.clone()).await;
    match ui::posted(result, "")? {
        Posted::Done(report) => Ok(render(&user, name, &q, &people, Some(&report), None).into_response()),
        Posted::Refused(e) => Ok(ui::refused(&e, render(&user, name, &q, &people, None, Some(&e)))),
    }
}

fn render(
    user: &CurrentUser,
    name: ReportName,
    q: &ReportQuery,
    people: &People,
    report: Option<&Report>,
    error: Option<&DomainError>,
) -> Markup {
    let selected = |v: &Option<String>, option: &str| text(v) == Some(option);
    layout::page(
        name.title(),
        user,
        "Reports",
        html! {
            p { a href="/reports" { "Reports" } }
            h1 { (name.title()) }
            p.muted { (name.question()) }
            form.filters method="get" action={"/reports/" (name.slug())} {
                @if name == ReportName::MonthGap {
                    label { "Month" input type="month" name="month" value=(ui::val(&q.month)) placeholder="YYYY-MM"; }
                } @else {
                    label { "From" input type="date" name="from" value=(ui::val(&q.from)); }
                    label { "To" input type="date" name="to" value=(ui::val(&q.to)); }
                }
                @if name == ReportName::Cholesterol {
                    label { "Stale after (days)" input type="number" name="stale_days" min="1" value=(ui::val(&q.stale_days)); }
                }
                @if people.owners.len() > 1 {
                    label { "Seller"
                        select name="seller" {
                            option value="" { "(everyone you see)" }
                            @for u in &people.owners {
                                @let id = u.id.0.to_string();
                                option value=(id) selected[selected(&q.seller, &id)] { (u.name) }
                            }
                        }
                    }
                }
                @if !people.managers.is_empty() {
                    label { "Team"
                        select name="team" {
                            option value="" { "(all teams)" }
                            @for m in &people.managers {
                                @let id = m.id.0.to_string();
                                option value=(id) selected[selected(&q.team, &id)] { (m.name) "'s team" }
                            }
                        }
                    }
                }
                button type="submit" { "Show" }
            }
            (error_at(error, &["from", "to", "seller", "team", "month", "stale_days", "limit", "report"]))
            @if let Some(report) = report {
                figure.chart {
                    @match chart::svg(&report.chart()) {
                        // plotters escapes every text it writes; the SVG is ours.
                        Some(svg) => (PreEscaped(svg)),
                        None => p.muted { "Nothing to chart yet." },
                    }
                }
                @for t in report.tables() { (table(&t)) }
                p.muted {
                    "Also as "
                    a href=(api_link(name, q)) { "JSON" }
                    " and on the command line: "
                    code { "momentum report " (name.slug()) " --format csv" }
                }
            }
        },
    )
}

fn api_link(name: ReportName, q: &ReportQuery) -> String {
    link(
        &format!("/api/v1/reports/{}", name.slug()),
        &[
            // Only what was filled in: the API refuses an empty parameter.
            ("from", text(&q.from).map(str::to_owned)),
            ("to", text(&q.to).map(str::to_owned)),
            ("seller", text(&q.seller).map(str::to_owned)),
            ("team", text(&q.team).map(str::to_owned)),
            ("month", text(&q.month).map(str::to_owned)),
            ("stale_days", text(&q.stale_days).map(str::to_owned)),
            ("limit", text(&q.limit).map(str::to_owned)),
        ],
    )
}

/// A report table; a "deal" column links to the deal.
pub fn table(t: &Table) -> Markup {
    let numeric: Vec<bool> = (0..t.columns.len())
        .map(|i| t.rows.first().is_some_and(|r| r[i].numeric()))
        .collect();
    html! {
        h2 { (t.title) }
        @if t.rows.is_empty() { p.muted { "Nothing here yet." } } @else {
            table.responsive.report {
                thead { tr { @for (i, c) in t.columns.iter().enumerate() {
                    @if numeric[i] { th.num { (c) } } @else { th { (c) } }
                } } }
                tbody { @for row in &t.rows { tr {
                    @for (i, cell) in row.iter().enumerate() {
                        @if t.columns[i] == "deal" {
                            td.num { a href={"/deals/" (cell.text())} { (cell.text()) } }
                        } @else if numeric[i] { td.num { (cell.text()) } } @else { td { (cell.text()) } }
                    }
                } } }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Coaching

/// One seller's line on the coaching page.
struct CoachingRow {
    id: UserId,
    name: String,
    commitment: Option<(u8, String)>,
    attainment: Option<f64>,
    sell_or_schedule: Option<f64>,
    give_up_point: Option<f64>,
    gives_up_early: bool,
    mix: Option<(f64, f64, f64)>,
}

/// Days of results the coaching page reads: about a quarter.
const COACHING_DAYS: i64 = 90;

pub async fn coaching(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    if user.session.user.role == Role::Seller {
        let why = "coaching is for managers and admins; your own figures are under Reports";
        return Err(WebError::from(DomainError::Forbidden(why.into())).into());
    }
    let s = user.session.clone();
    let stale_days = state.config.stale_days;
    let result = with_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        let month = Month::of(now.today);
        let since = (now.today - jiff::Span::new().days(COACHING_DAYS)).to_string();
        let base = q.request()?;
        let recent = ReportRequest {
            from: Some(&since),
            ..base.clone()
        };
        let run = |store: &mut momentum_store::Store, name, req: &ReportRequest<'_>| {
            reports::report(store, &s, name, req, stale_days, now)
        };
        let (Report::MonthGap(gap), Report::Results(results), Report::GiveUp(give_up)) = (
            run(store, ReportName::MonthGap, &base)?,
            run(store, ReportName::Results, &recent)?,
            run(store, ReportName::GiveUp, &base)?,
        ) else {
            unreachable!("each report name gives its own report")
        };
        let check_ins = reports::month_check_ins(store, &s, month)?;
        // The same people the reports above covered (by id or email, team or seller).
        let covered = momentum_core::reports::scope(&s.actor(), &ops::users(store, &s)?, base.seller, base.team)?;
        let sellers: Vec<_> = covered.users.into_iter().filter(|u| u.role == Role::Seller).collect();
        let rows: Vec<CoachingRow> = sellers
            .into_iter()
            .map(|u| {
                let g = gap.sellers.iter().find(|r| r.id == u.id.0);
                let r = results.sellers.iter().find(|r| r.id == u.id.0);
                let d = give_up.sellers.iter().find(|r| r.seller_id == u.id.0);
                CoachingRow {
                    id: u.id,
                    name: u.name.clone(),
                    commitment: check_ins.get(&u.id).map(|c| (c.commitment, c.why.clone())),
                    attainment: g.and_then(|g| Some(g.won / g.goal.filter(|x| *x > 0.0)?)),
                    sell_or_schedule: r.map(|r| r.sell_or_schedule_rate),
                    give_up_point: d.and_then(|d| d.followups_into_silence.median),
                    gives_up_early: d.is_some_and(|d| d.gives_up_early),
                    mix: r.map(|r| (r.advanced, r.stayed, r.back)),
                }
            })
            .collect();
        Ok((month, rows))
    })
    .await;
    let (month, rows) = match ui::posted(result, "")? {
        Posted::Done(v) => v,
        Posted::Refused(e) => return Err(WebError::from(e).into()),
    };
    let pct = |x: f64| format!("{:.0}%", x * 100.0);
    Ok(layout::page(
        "Coaching",
        &user,
        "Coaching",
        html! {
            h1 { "Coaching, " (month) }
            p.muted { "Commitment from this month's check-in; attainment of this month's goal; results over the last "
                (COACHING_DAYS) " days; the give-up point is the median number of follow-ups into silence before a deal went dark." }
            table.responsive.report id="coaching" {
                thead { tr {
                    th { "Seller" } th.num { "Commitment" } th { "Why" } th.num { "Attainment" }
                    th.num { "Sell-or-schedule" } th.num { "Give-up point" } th { "Advanced / stayed / back" } th { "Curves" }
                } }
                tbody { @for r in &rows { tr data-seller=(r.id.0) {
                    td { (r.name) }
                    @match &r.commitment {
                        Some((c, why)) => { td.num { (c) "/10" } td { (why) } }
                        None => { td.num.muted { "—" } td.muted { "no check-in yet" } }
                    }
                    td.num { (r.attainment.map_or("—".to_owned(), pct)) }
                    td.num { (r.sell_or_schedule.map_or("—".to_owned(), pct)) }
                    td.num {
                        (r.give_up_point.map_or("—".to_owned(), |x| format!("{x:.0}")))
                        @if r.gives_up_early { " " span.tag.warn { "gives up early" } }
                    }
                    td { @if let Some((a, st, b)) = r.mix { (pct(a)) " / " (pct(st)) " / " (pct(b)) } }
                    td {
                        a href={"/reports/give-up?seller=" (r.id.0)} { "give-up" } " · "
                        a href={"/reports/close-timing?seller=" (r.id.0)} { "close timing" } " · "
                        a href={"/reports/month-gap?seller=" (r.id.0)} { "month gap" }
                    }
                } } }
            }
        },
    )
    .into_response())
}

// ---------------------------------------------------------------------------------------
// Check-in

#[derive(Debug, Default, Clone, Deserialize)]
pub struct CheckInForm {
    pub csrf: Option<String>,
    pub commitment: Option<String>,
    pub why: Option<String>,
    pub obstacle: Option<String>,
}

fn check_in_page(user: &CurrentUser, form: &CheckInForm, error: Option<&DomainError>) -> Markup {
    layout::page(
        "Check in",
        user,
        "Today",
        html! {
            h1 { "Monthly check-in" }
            p.muted { "How committed are you to this month's goal? Your coach sees this beside your numbers." }
            form.card method="post" action="/check-in" {
                input type="hidden" name="csrf" value=(user.csrf);
                label { "Commitment (1–10)"
                    input type="number" name="commitment" min="1" max="10" required value=(ui::val(&form.commitment));
                }
                (error_at(error, &["commitment"]))
                label { "Why" textarea name="why" required { (ui::val(&form.why)) } }
                (error_at(error, &["why"]))
                label { "What is in the way (optional)" textarea name="obstacle" { (ui::val(&form.obstacle)) } }
                (error_at(error, &["obstacle"]))
                button type="submit" { "Check in" }
            }
        },
    )
}

pub async fn check_in_form(user: CurrentUser) -> Response {
    check_in_page(&user, &CheckInForm::default(), None).into_response()
}

pub async fn check_in_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CheckInForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    let s = user.session.clone();
    let posted = form.clone();
    let result = with_store(&state, move |store| {
        let now = s.now(Timestamp::now());
        let commitment = ui::number("commitment", &posted.commitment)?
            .ok_or_else(|| DomainError::missing("commitment", "rate your commitment from 1 to 10"))?;
        let input = CheckInInput {
            commitment,
            why: posted.why.as_deref().unwrap_or(""),
            obstacle: text(&posted.obstacle),
        };
        Ok(ops::check_in(store, &s, input, now)?)
    })
    .await;
    match ui::posted(result, "")? {
        Posted::Done(_) => Ok(ui::see("/?checked_in=1")),
        Posted::Refused(e) => Ok(ui::refused(&e, check_in_page(&user, &form, Some(&e)))),
    }
}
