//! `momentum report NAME`: the coaching reports as a table, JSON or CSV, from the same code
//! the pages and the API use.

use clap::Args;
use momentum_core::cholesterol::DEFAULT_STALE_DAYS;
use momentum_core::model::Now;
use momentum_core::reports::{ReportName, ReportRequest, ReportView, Table};
use momentum_store::ops::Session;
use momentum_store::{reports, Store};

use crate::output::{self, Format, Out};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// summary, month-gap, cholesterol, give-up, close-timing, results, prospecting,
    /// calibration or win-probability.
    name: String,
    /// First day of the window (YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// Last day of the window (YYYY-MM-DD).
    #[arg(long)]
    to: Option<String>,
    /// One seller, by email or id.
    #[arg(long)]
    seller: Option<String>,
    /// One manager's team, by the manager's email or id.
    #[arg(long)]
    team: Option<String>,
    /// month-gap: the month (YYYY-MM), this month by default.
    #[arg(long)]
    month: Option<String>,
    /// cholesterol: days without a buyer decision that make a deal stale.
    #[arg(long)]
    stale_days: Option<u32>,
    /// Listing reports (cholesterol, win-probability): how many deals.
    #[arg(long)]
    limit: Option<u32>,
}

pub fn run(store: &mut Store, s: &Session, a: ReportArgs, now: Now, out: &mut Out) -> anyhow::Result<()> {
    let name = ReportName::parse("report", &a.name)?;
    let request = ReportRequest {
        from: a.from.as_deref(),
        to: a.to.as_deref(),
        seller: a.seller.as_deref(),
        team: a.team.as_deref(),
        month: a.month.as_deref(),
        stale_days: a.stale_days,
        limit: a.limit,
    };
    let report = reports::report(store, s, name, &request, DEFAULT_STALE_DAYS, now)?;
    match out.format {
        Format::Json => out.json(&report)?,
        Format::Csv => {
            // CSV is one table: the report's main one (JSON carries every section).
            let tables = report.tables();
            out.line(csv(&tables[0])?.trim_end())?;
        }
        Format::Table => {
            out.line(format!("{}: {}", name.title(), name.question()))?;
            for t in report.tables().iter().filter(|t| !t.rows.is_empty()) {
                out.line(format!("\n{}", t.title))?;
                let columns: Vec<&str> = t.columns.iter().map(String::as_str).collect();
                let mut shown = output::table(&columns);
                for row in &t.rows {
                    shown.add_row(row.iter().map(|c| c.text()));
                }
                out.line(shown)?;
            }
        }
    }
    Ok(())
}

fn csv(t: &Table) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&t.columns)?;
    for row in &t.rows {
        w.write_record(row.iter().map(|c| c.text()))?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
