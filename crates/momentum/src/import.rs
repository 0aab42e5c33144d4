//! `momentum import csv|salesforce|hubspot|pipedrive FILE...`: the command line around
//! `momentum_import`. Into an empty database it creates the org (`--org NAME`) and its
//! first admin, whose password it prints once; into an existing org it acts `--as` an admin.
//! A progress bar shows on a terminal; every refused row is printed, and the exit is 2.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use jiff::Timestamp;
use momentum_core::money::Currency;
use momentum_core::DomainError;
use momentum_import::{Mapping, Options, Report, Vendor};
use momentum_store::import::Target;
use momentum_store::{ops, Store};

use crate::output::Out;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SourceKind {
    /// Any CSV, through --mapping (default: Momentum's own `export deals` columns).
    Csv,
    Salesforce,
    Hubspot,
    Pipedrive,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Where the files come from.
    #[arg(value_enum)]
    source: SourceKind,
    /// The CSV files; a vendor's whole export folder may be given (its CSV files are read, those the import does not know skipped).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The TOML mapping of source columns to Momentum fields (see README).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// Check everything and report what would happen; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print a starting mapping for the first file's header, and stop.
    #[arg(long)]
    suggest_mapping: bool,
    /// A new org's currency.
    #[arg(long, default_value = "USD")]
    currency: String,
    /// A new org's time zone (dates without one are read in it).
    #[arg(long, default_value = "UTC")]
    timezone: String,
    /// A new org's admin e-mail (default: admin@<org>.momentum.local).
    #[arg(long)]
    admin_email: Option<String>,
    #[arg(long, default_value = "Admin")]
    admin_name: String,
}

/// Bad input that has already been reported line by line (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl ImportArgs {
    pub fn suggest_only(&self) -> bool {
        self.suggest_mapping
    }

    /// The database a run opens: a dry run promises to write nothing, so into a SQLite
    /// file that does not exist yet it plans against an empty database in memory instead
    /// of creating the file.
    pub fn database<'a>(&self, location: &'a str) -> &'a str {
        let absent = momentum_store::sqlite_file(location).is_some_and(|f| !f.exists());
        if self.dry_run && absent {
            ":memory:"
        } else {
            location
        }
    }
}

/// `--suggest-mapping`: reads only the first file; needs no database.
pub fn suggest(args: &ImportArgs, out: &mut Out) -> anyhow::Result<()> {
    let files = momentum_import::files_in(&args.files);
    let first = files.first().unwrap_or(&args.files[0]);
    let text = momentum_import::suggest::suggest(first).map_err(|e| Refused(e.to_string()))?;
    out.line(text.trim_end())?;
    Ok(())
}

fn mapping(args: &ImportArgs) -> anyhow::Result<Mapping> {
    if let Some(path) = &args.mapping {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Refused(format!(
                "mapping {}: cannot read it as a TOML text file: {e}",
                path.display()
            ))
        })?;
        return Mapping::parse(&text).map_err(|e| Refused(format!("mapping {}: {e}", path.display())).into());
    }
    Ok(match args.source {
        SourceKind::Csv => Mapping::momentum_export(),
        SourceKind::Salesforce => Mapping::vendor(Vendor::Salesforce),
        SourceKind::Hubspot => Mapping::vendor(Vendor::Hubspot),
        SourceKind::Pipedrive => Mapping::vendor(Vendor::Pipedrive),
    })
}

fn slug(name: &str) -> String {
    let s: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s.trim_matches('-').to_owned();
    if s.is_empty() {
        "org".to_owned()
    } else {
        s
    }
}

pub fn run(
    store: &mut Store,
    org: Option<&str>,
    as_user: Option<&str>,
    args: ImportArgs,
    out: &mut Out,
) -> anyhow::Result<()> {
    let mapping = mapping(&args)?;
    let files = momentum_import::files_in(&args.files);
    let now = Timestamp::now();
    let empty = ops::is_empty(store)?;
    let session;
    let password = momentum_web::auth::random_secret()[..20].to_owned();
    let admin_email = args
        .admin_email
        .clone()
        .unwrap_or_else(|| format!("admin@{}.momentum.local", slug(org.unwrap_or(""))));
    let password_hash;
    let target = if empty {
        let Some(name) = org else {
            return Err(
                DomainError::missing("org", "this database is empty: name the org to create with --org NAME").into(),
            );
        };
        password_hash = momentum_web::password::hash(&password)?;
        Target::NewOrg {
            name,
            currency: Currency::parse("currency", &args.currency)?,
            timezone: &args.timezone,
            admin_email: &admin_email,
            admin_name: &args.admin_name,
            password_hash: &password_hash,
        }
    } else {
        session = ops::session(store, org, as_user)?;
        Target::Org(&session)
    };

    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(momentum_import::count_rows(&files));
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} importing {bar:40} {pos}/{len} rows ({per_sec})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let progress = |n: u64| bar.set_position(n);
    let report = momentum_import::import(
        store,
        target,
        &files,
        &mapping,
        &Options {
            dry_run: args.dry_run,
            now,
            progress: Some(&progress),
        },
    )?;
    bar.finish_and_clear();

    if !report.errors.is_empty() {
        for e in &report.errors {
            eprintln!("{e}");
        }
        return Err(Refused(format!(
            "{} problem{} in the files: nothing was written",
            report.errors.len(),
            if report.errors.len() == 1 { "" } else { "s" }
        ))
        .into());
    }
    let credentials = (empty && report.committed).then(|| (admin_email.clone(), password.clone()));
    let json = serde_json::json!({
        "report": &report,
        "admin": credentials.as_ref().map(|(e, p)| serde_json::json!({ "email": e, "password": p })),
    });
    out.show(&json, |_| human(&report, credentials.as_ref(), empty))?;
    Ok(())
}

/// "1 row", "2 rows", "0 activities".
fn count(n: usize, noun: &str) -> String {
    match (n, noun.strip_suffix('y')) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        _ => format!("{n} {noun}s"),
    }
}

fn human(r: &Report, credentials: Option<&(String, String)>, new_org: bool) -> String {
    let mut s = String::new();
    let verb = if r.dry_run {
        "Dry run (nothing written)"
    } else {
        "Imported"
    };
    s.push_str(&format!(
        "{verb} into {}{}: {} read; deals {} created, {} updated, {} unchanged{}; accounts {} created, {} updated; \
         contacts {} created, {} updated; {} created; {}, {} recorded; {} as the source planned {}.\n",
        r.org,
        if new_org { " (a new org)" } else { "" },
        count(r.rows, "row"),
        r.deals_created,
        r.deals_updated,
        r.deals_unchanged,
        match r.deals_keeping_momentum_changes {
            0 => String::new(),
            1 => " (1 keeps what was changed in Momentum since the last import, where the source had not changed it)"
                .into(),
            n => format!(
                " ({n} keep what was changed in Momentum since the last import, where the source had not changed it)"
            ),
        },
        r.accounts_created,
        r.accounts_updated,
        r.contacts_created,
        r.contacts_updated,
        count(r.users_created, "user"),
        count(r.decisions, "stage change"),
        count(r.interactions, "activity"),
        count(r.next_steps_planned, "next step"),
        if r.next_steps_planned == 1 { "it" } else { "them" },
    ));
    if !r.warnings.is_empty() {
        s.push_str("Warnings:\n");
        for (w, n) in &r.warnings {
            s.push_str(&format!("  {n} × {w}\n"));
        }
    }
    for n in &r.notes {
        s.push_str(&format!("Note: {n}\n"));
    }
    if let Some((email, password)) = credentials {
        s.push_str(&format!(
            "The org's admin signs in as {email} with password {password} (shown once: keep it now).\n"
        ));
    }
    s
}
