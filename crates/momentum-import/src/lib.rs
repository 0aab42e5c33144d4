//! Bringing another system's history into Momentum: CSV exports of Salesforce, HubSpot
//! and Pipedrive, and any CSV through a TOML mapping ([`mapping`]).
//!
//! This crate owns reading (files, dates, which file is which) and planning: matching
//! source rows to stored users, accounts, contacts and deals, and turning each deal row
//! into records through the core's import rules (`momentum_core::import`). Storage writes
//! the plan in one transaction (`momentum_store::import`). Every bad row is reported as
//! file:line, column, value and rule, all of them in one run; then nothing is written.

#![forbid(unsafe_code)]

pub mod dates;
pub mod mapping;
mod plan;
mod read;
pub mod suggest;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use jiff::Timestamp;
use momentum_store::import::Target;
use momentum_store::{Store, StoreResult};
use serde::Serialize;

pub use mapping::{Mapping, Vendor};
pub use read::ROW_MAX_BYTES;

/// A row (or file) the import refused: where, which column, what value, which rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub file: String,
    /// The line in the file (the header is line 1); 0 for the file as a whole.
    pub line: u64,
    pub column: String,
    pub value: String,
    pub rule: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.column.is_empty() {
            write!(f, ": column \"{}\"", self.column)?;
            // Line 1 is the header: a column named there has no value to show.
            if self.value.is_empty() && self.line > 1 {
                write!(f, " is blank")?;
            } else if !self.value.is_empty() {
                write!(f, " = {:?}", self.value)?;
            }
        }
        write!(f, ": {}", self.rule)
    }
}

/// The files to read: each path as given, and a folder (a vendor's whole export) as the
/// CSV files in it, in name order: an export folder also holds its licence, a README, the
/// attachments. A folder that cannot be listed stays as given, so the import reports it
/// like any unreadable file.
pub fn files_in(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        let listed = path.is_dir().then(|| std::fs::read_dir(path)).and_then(Result::ok);
        match listed {
            Some(entries) => {
                let mut files: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| {
                        p.is_file()
                            && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
                            && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"))
                    })
                    .collect();
                files.sort();
                match files.is_empty() {
                    // Left as given: the import says there is nothing in it to read.
                    true => out.push(path.clone()),
                    false => out.extend(files),
                }
            }
            None => out.push(path.clone()),
        }
    }
    out
}

/// The deals made in Momentum that the files name by the id Momentum's export gives them
/// ("momentum-12"), whatever the mapping calls that column.
fn exported_ids(sources: &[read::SourceFile], mapping: &Mapping) -> Vec<i64> {
    let column = mapping.deal.as_ref().and_then(|d| d.external_id.as_ref());
    let mut ids: Vec<i64> = sources
        .iter()
        .filter_map(|f| Some((f, f.find(column)?)))
        .flat_map(|(f, i)| f.records.iter().filter_map(move |(_, r)| r.get(i)))
        .filter_map(|v| {
            v.trim()
                .strip_prefix(momentum_store::import::EXPORTED_ID_PREFIX)?
                .parse()
                .ok()
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// What an import did (or, on a dry run or with errors, would have done).
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub org: String,
    pub dry_run: bool,
    /// True only when everything was written.
    pub committed: bool,
    pub rows: usize,
    pub deals_created: usize,
    pub deals_updated: usize,
    pub deals_unchanged: usize,
    /// Re-imported deals (updated or unchanged) that keep something changed in Momentum since
    /// their last import, which the source still has as before.
    pub deals_keeping_momentum_changes: usize,
    pub accounts_created: usize,
    /// Stored accounts and contacts whose re-imported row changed them.
    pub accounts_updated: usize,
    pub contacts_created: usize,
    pub contacts_updated: usize,
    pub users_created: usize,
    pub decisions: usize,
    pub interactions: usize,
    /// Open deals written with the next step their source planned (a dated activity not
    /// yet done), instead of a follow-up from the cadence.
    pub next_steps_planned: usize,
    /// Each kind of warning, with how many rows it concerned.
    pub warnings: BTreeMap<String, usize>,
    /// Files skipped and other notes.
    pub notes: Vec<String>,
    pub errors: Vec<RowError>,
}

impl Report {
    pub(crate) fn warn(&mut self, what: impl Into<String>) {
        *self.warnings.entry(what.into()).or_insert(0) += 1;
    }
}

/// How to run an import.
pub struct Options<'a> {
    pub dry_run: bool,
    pub now: Timestamp,
    /// Called with the number of rows planned so far (a progress bar).
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

impl fmt::Debug for Options<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("dry_run", &self.dry_run)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// The number of data rows in `files`, for a progress bar's length.
pub fn count_rows(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .filter_map(|f| std::fs::read(f).ok())
        .map(|b| b.iter().filter(|c| **c == b'\n').count() as u64)
        .sum()
}

/// Imports `files` through `mapping` into `target`, in one transaction. Row errors come
/// back in the report (and nothing is written); `Err` is a failure of the database.
pub fn import(
    store: &mut Store,
    target: Target<'_>,
    files: &[PathBuf],
    mapping: &Mapping,
    options: &Options<'_>,
) -> StoreResult<Report> {
    let mut report = Report {
        dry_run: options.dry_run,
        ..Report::default()
    };
    let mut sources = Vec::new();
    for path in files {
        match read::read_file(path, mapping) {
            Ok(mut f) => {
                report.errors.append(&mut f.errors);
                sources.push(f);
            }
            Err(e) => report.errors.push(e),
        }
    }
    let exported = exported_ids(&sources, mapping);
    let done = momentum_store::import::run(
        store,
        target,
        &exported,
        options.dry_run,
        options.now,
        |session, existing, ids| plan::plan(&mut report, session, existing, ids, &sources, mapping, options),
    )?;
    report.org = done.session.org.name.clone();
    report.committed = done.committed;
    Ok(report)
}
