//! The `momentum` command line. Each subcommand parses its arguments into domain values
//! (naming the field on bad input), calls one operation of the store, and prints the
//! result. Exit codes: 0 success, 2 bad input (a rule, a forbidden action, an unknown
//! id, a stale version), 1 anything else.

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::Timestamp;
use momentum_core::commands::{self, Closing, Ending, FollowUp, NextStepInput};
use momentum_core::model::*;
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::*;
use momentum_core::DomainError;
use momentum_store::ops::{self, DealFilter, DealSummary, Session};
use momentum_store::{Store, StoreError};

use crate::output::{self, Format, Out};
use momentum_web::input;

const DEFAULT_DB: &str = "./momentum.db";

#[derive(Debug, Parser)]
#[command(
    name = "momentum",
    version,
    about = "Sell it or schedule it: a sales system where deals move only on buyer decisions."
)]
struct Cli {
    /// The database: a SQLite file path or a postgres:// URL [default: ./momentum.db].
    #[arg(long, global = true, env = "MOMENTUM_DB", hide_env_values = true)]
    db: Option<String>,
    /// Act as this user (their role's rules apply); by default the org's first admin.
    #[arg(long = "as", global = true, env = "MOMENTUM_AS", value_name = "EMAIL")]
    as_user: Option<String>,
    /// The org, when the database holds more than one.
    #[arg(long, global = true, env = "MOMENTUM_ORG")]
    org: Option<String>,
    /// Output for people (table) or scripts (json).
    #[arg(long, global = true, value_enum, default_value = "table")]
    format: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fill a new database with a deterministic demo org.
    Demo(DemoArgs),
    /// Create an org and its first admin.
    #[command(subcommand)]
    Org(OrgCommand),
    /// The org's people: add sellers, managers and admins; list them.
    #[command(subcommand)]
    User(UserCommand),
    /// The companies you sell to: add one.
    #[command(subcommand)]
    Account(AccountCommand),
    /// The people at those companies who decide: add one.
    #[command(subcommand)]
    Contact(ContactCommand),
    /// Open, list and show deals.
    #[command(subcommand)]
    Deal(DealCommand),
    /// Log an interaction: what you asked for, what the buyer decided, and how it ended
    /// (a sale, a scheduled next step, or the buyer's definitive no).
    Log(LogArgs),
    /// Record a buyer decision made outside an interaction.
    Decide(DecideArgs),
    /// Record the buyer's compelling need.
    Need(NeedArgs),
    /// Close a deal that has no compelling need.
    Disqualify(DisqualifyArgs),
    /// Close a deal won (the buyer signed) or lost (the buyer's definitive no).
    Close(CloseArgs),
    /// Move a deal's next step.
    Reschedule(RescheduleArgs),
    /// Your overdue and due next steps, ranked by what is at stake.
    Today,
    /// Monthly goals: set a seller's (the month-gap report measures against them).
    #[command(subcommand)]
    Goal(GoalCommand),
    /// Rate your commitment to this month's goal (1-10) and say why.
    Checkin(CheckinArgs),
    /// Serve the web app and the JSON API.
    Serve(ServeArgs),
    /// Print the API's OpenAPI 3.1 document.
    Openapi,
    /// Personal API tokens (sent as `Authorization: Bearer ...`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Coaching reports: summary, month-gap, cholesterol, give-up, close-timing, results,
    /// prospecting, calibration, win-probability.
    Report(crate::report::ReportArgs),
    /// Bring deals in: Salesforce, HubSpot or Pipedrive CSV exports, or any CSV through a mapping.
    Import(crate::import::ImportArgs),
    /// Write an org's deals, interactions, decisions, accounts or contacts as CSV (or --format json).
    Export(crate::export::ExportArgs),
    /// Write a consistent backup while the server runs (SQLite: a database file; PostgreSQL: a logical dump).
    Backup { file: std::path::PathBuf },
    /// Restore a backup into an empty database (of either kind).
    Restore { file: std::path::PathBuf },
    /// Your next steps in your calendar: a private iCalendar feed, or a file.
    #[command(subcommand)]
    Calendar(crate::calendar::CalendarCommand),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080, or `bind` in momentum.toml).
    #[arg(long)]
    bind: Option<std::net::SocketAddr>,
    /// The configuration file.
    #[arg(long, default_value = "momentum.toml")]
    config: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token for the acting user; it is shown once.
    Create {
        #[arg(long)]
        name: String,
    },
    /// Your tokens (never their secrets).
    List,
    /// Stop a token working, at once.
    Revoke { id: i64 },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ScaleArg {
    /// 2,000 deals: the team of the guide.
    Small,
    /// 100,000 deals, 200 sellers: benchmark reads at a tenth of the large demo.
    Medium,
    /// 1,000,000 deals, ~10 million interactions: the benchmark.
    Large,
}

#[derive(Debug, Args)]
struct DemoArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, value_enum, default_value = "small")]
    scale: ScaleArg,
    /// The day the demo's twelve months end on (default: today), for exact reproduction.
    #[arg(long)]
    today: Option<String>,
    /// Replace whatever the database holds.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Create an org and its first admin (`--password-stdin` sets their password).
    Create {
        name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long)]
        admin_name: String,
        #[arg(long, default_value = "USD")]
        currency: String,
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// Read the admin's password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a seller, manager or admin to the org.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
        /// The e-mail of the seller's manager.
        #[arg(long)]
        manager: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Everyone in the org, with their role and manager.
    List,
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Add a company.
    Add {
        name: String,
        #[arg(long)]
        domain: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ContactCommand {
    /// Add a person, at a company or on their own.
    Add {
        name: String,
        #[arg(long)]
        account: Option<i64>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        title: Option<String>,
    },
}

/// A next step on the command line.
#[derive(Debug, Args, Default)]
struct NextArgs {
    /// When: +3d, +2h, YYYY-MM-DD, "YYYY-MM-DD HH:MM" (org time) or RFC 3339.
    #[arg(long = "next-at")]
    next_at: Option<String>,
    /// call, email, meeting, message or visit.
    #[arg(long = "next-kind", default_value = "call")]
    next_kind: String,
    /// The buyer decision it aims at (step number or name); default: the next one.
    #[arg(long = "aims-at")]
    aims_at: Option<String>,
    /// The buyer agreed to this appointment (otherwise only the seller scheduled it).
    #[arg(long)]
    buyer_committed: bool,
    /// Let the org's cadence place a seller follow-up instead of giving a time.
    #[arg(long, conflicts_with = "next_at")]
    follow_up: bool,
}

#[derive(Debug, Subcommand)]
enum DealCommand {
    /// Open a deal with the next step it starts with (every open deal has one).
    Create {
        #[arg(long)]
        title: String,
        /// In major units, e.g. 12500.00.
        #[arg(long)]
        value: String,
        /// Default: the org's currency.
        #[arg(long)]
        currency: Option<String>,
        #[arg(long)]
        account: Option<i64>,
        #[arg(long)]
        contact: Option<i64>,
        /// The owner's e-mail; default: you.
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        expected_close: Option<String>,
        #[command(flatten)]
        next: NextArgs,
    },
    /// Deals by owner, status or next step due, in pages.
    List {
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        status: Option<String>,
        /// Only deals whose next step is due by the end of today.
        #[arg(long)]
        due: bool,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Continue after this deal id.
        #[arg(long)]
        after: Option<i64>,
    },
    /// One deal: its stage, next step, ledger of decisions and interactions.
    Show { id: i64 },
    /// Hand the deal to another owner.
    Reassign {
        id: i64,
        #[arg(long)]
        to: String,
        #[arg(long)]
        version: Option<i64>,
    },
}

#[derive(Debug, Args)]
struct LogArgs {
    deal: i64,
    /// call, email, meeting, message or visit.
    #[arg(long, default_value = "call")]
    kind: String,
    /// The contact you talked to (id).
    #[arg(long)]
    contact: Option<i64>,
    /// The decision you asked for (step number or name); default: the next one.
    #[arg(long)]
    objective: Option<String>,
    /// advanced, stayed or back.
    #[arg(long)]
    result: String,
    /// The step reached (advanced) or fallen back to (back), when not the default.
    #[arg(long)]
    reached: Option<String>,
    /// The buyer bought.
    #[arg(long, conflicts_with_all = ["definitive_no", "next_at", "follow_up"])]
    sold: bool,
    /// The buyer said a definitive no (give --reason-category and --buyer-words).
    #[arg(long = "definitive-no", conflicts_with_all = ["next_at", "follow_up"])]
    definitive_no: bool,
    #[arg(long)]
    reason_category: Option<String>,
    #[arg(long)]
    buyer_words: Option<String>,
    #[command(flatten)]
    next: NextArgs,
    #[arg(long, default_value = "")]
    notes: String,
    /// When it happened (default: now).
    #[arg(long)]
    at: Option<String>,
    /// The deal version you saw; a stale one is refused.
    #[arg(long)]
    version: Option<i64>,
}

#[derive(Debug, Args)]
struct DecideArgs {
    deal: i64,
    /// The step the deal stands on after the decision (number or name).
    #[arg(long)]
    to: String,
    #[arg(long)]
    contact: Option<i64>,
    #[arg(long)]
    at: Option<String>,
    #[arg(long)]
    note: Option<String>,
    #[arg(long)]
    version: Option<i64>,
}

#[derive(Debug, Args)]
struct NeedArgs {
    deal: i64,
    /// opportunity, problem or threat.
    #[arg(long)]
    kind: String,
    #[arg(long)]
    buyer_words: String,
    #[arg(long)]
    consequence: String,
    /// The date it matters by (YYYY-MM-DD).
    #[arg(long)]
    by: String,
    /// What doing nothing costs the buyer per month (major units, deal currency).
    #[arg(long)]
    cost_per_month: String,
    #[arg(long)]
    version: Option<i64>,
}

#[derive(Debug, Args)]
struct DisqualifyArgs {
    deal: i64,
    #[arg(long, default_value = "")]
    reason: String,
    #[arg(long)]
    version: Option<i64>,
}

#[derive(Debug, Args)]
struct CloseArgs {
    deal: i64,
    #[arg(long, conflicts_with = "lost", required_unless_present = "lost")]
    won: bool,
    #[arg(long)]
    lost: bool,
    /// Who signed (won).
    #[arg(long)]
    contact: Option<i64>,
    #[arg(long)]
    reason_category: Option<String>,
    #[arg(long)]
    buyer_words: Option<String>,
    #[arg(long)]
    version: Option<i64>,
}

#[derive(Debug, Args)]
struct RescheduleArgs {
    deal: i64,
    #[command(flatten)]
    next: NextArgs,
    #[arg(long)]
    version: Option<i64>,
}

#[derive(Debug, Subcommand)]
enum GoalCommand {
    /// Set a seller's goal for a month.
    Set {
        #[arg(long)]
        seller: String,
        /// YYYY-MM.
        #[arg(long)]
        month: String,
        /// In major units of the org's currency.
        #[arg(long)]
        amount: String,
    },
}

#[derive(Debug, Args)]
struct CheckinArgs {
    #[arg(long)]
    commitment: i64,
    #[arg(long, default_value = "")]
    why: String,
    #[arg(long)]
    obstacle: Option<String>,
}

/// Runs the CLI and maps failures to exit codes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let bad_input = e
                .downcast_ref::<StoreError>()
                .is_some_and(|s| matches!(s, StoreError::Domain(_)))
                || e.downcast_ref::<DomainError>().is_some()
                || e.downcast_ref::<crate::import::Refused>().is_some();
            eprintln!("momentum: {e:#}");
            ExitCode::from(if bad_input { 2 } else { 1 })
        }
    }
}

fn read_password() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    let p = s.trim_end_matches(['\n', '\r']).to_owned();
    momentum_web::password::check(&p)?;
    Ok(p)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Serve(args) = &cli.command {
        return serve(&cli, args);
    }
    if let Command::Openapi = &cli.command {
        Out::new(Format::Json).line(momentum_web::api::docs::document_json())?;
        return Ok(());
    }
    let mut out = Out::new(cli.format);
    let mut location = cli.db.as_deref().unwrap_or(DEFAULT_DB);
    if let Command::Import(args) = &cli.command {
        if args.suggest_only() {
            return crate::import::suggest(args, &mut out);
        }
        location = args.database(location);
    }
    // Opening creates a SQLite file; a backup of one that is not there would be an empty
    // database passed off as a backup (a nightly job run in the wrong folder).
    if matches!(cli.command, Command::Backup { .. })
        && momentum_store::sqlite_file(location).is_some_and(|f| !f.exists())
    {
        return Err(DomainError::invalid("db", location, "there is no database here to back up").into());
    }
    let mut store = Store::open(location).context("opening the database")?;
    let at = Timestamp::now();
    match cli.command {
        Command::Demo(args) => return demo(&mut store, args, &mut out),
        Command::Import(args) => {
            return crate::import::run(&mut store, cli.org.as_deref(), cli.as_user.as_deref(), args, &mut out)
        }
        Command::Backup { file } => {
            if cli.as_user.is_some() {
                let s = ops::session(&mut store, cli.org.as_deref(), cli.as_user.as_deref())?;
                momentum_store::backup::may_back_up(&s)?;
            }
            momentum_store::backup::backup(&mut store, &file)?;
            out.show(&serde_json::json!({ "backup": file }), |_| {
                format!("Backed up to {}", file.display())
            })?;
            return Ok(());
        }
        Command::Restore { file } => {
            let rows = momentum_store::backup::restore(&mut store, &file)?;
            out.show(&serde_json::json!({ "restored_rows": rows }), |_| {
                format!("Restored {rows} rows from {}", file.display())
            })?;
            return Ok(());
        }
        Command::Org(OrgCommand::Create {
            name,
            admin_email,
            admin_name,
            currency,
            timezone,
            password_stdin,
        }) => {
            let hash = if password_stdin {
                Some(momentum_web::password::hash(&read_password()?)?)
            } else {
                None
            };
            let s = ops::create_org(
                &mut store,
                commands::NewOrg {
                    name: &name,
                    currency: Currency::parse("currency", &currency)?,
                    timezone: &timezone,
                },
                ops::FirstAdmin {
                    email: &admin_email,
                    name: &admin_name,
                    password_hash: hash.as_deref(),
                },
                at,
            )?;
            out.show(&s.org, |o| {
                format!("Created org {} ({}); admin {}", o.name, o.id, s.user.email)
            })?;
            return Ok(());
        }
        _ => {}
    }
    let s = ops::session(&mut store, cli.org.as_deref(), cli.as_user.as_deref())?;
    let now = s.now(at);
    let step = |field: &str, text: &str| s.org.ladder.parse_step(field, text);
    match cli.command {
        Command::Demo(_)
        | Command::Org(_)
        | Command::Serve(_)
        | Command::Openapi
        | Command::Import(_)
        | Command::Backup { .. }
        | Command::Restore { .. } => {
            unreachable!("handled above")
        }
        Command::Token(TokenCommand::Create { name }) => {
            let (token, hash) = momentum_web::auth::new_api_token(s.org.id);
            let t = momentum_store::auth::create_token(&mut store, &s, &name, &hash, at)?;
            let json = serde_json::json!({ "id": t.id, "name": t.name, "token": token });
            out.show(&json, |_| {
                format!(
                    "Token {} \"{}\" for {} (shown once; store it now):\n{token}",
                    t.id, t.name, s.user.email
                )
            })?;
        }
        Command::Export(args) => crate::export::run(&mut store, &s, args, cli.format)?,
        Command::Calendar(c) => crate::calendar::run(&mut store, &s, c, &mut out)?,
        Command::Token(TokenCommand::List) => {
            let tokens = momentum_store::auth::tokens(&mut store, &s)?;
            out.show(&tokens, |tokens| {
                let mut t = output::table(&["id", "name", "created", "last used", "revoked"]);
                for x in tokens {
                    t.add_row(vec![
                        x.id.to_string(),
                        x.name.clone(),
                        output::local(&s.org, x.created_at),
                        x.last_used_at.map(|a| output::local(&s.org, a)).unwrap_or_default(),
                        x.revoked_at.map(|a| output::local(&s.org, a)).unwrap_or_default(),
                    ]);
                }
                t.to_string()
            })?;
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            momentum_store::auth::revoke_token(&mut store, &s, momentum_core::model::ApiTokenId(id), at)?;
            out.show(&serde_json::json!({ "revoked": id }), |_| format!("Revoked token {id}"))?;
        }
        Command::User(UserCommand::Add {
            email,
            name,
            role,
            manager,
            password_stdin,
        }) => {
            let role = Role::parse("role", &role)?;
            let hash = if password_stdin {
                Some(momentum_web::password::hash(&read_password()?)?)
            } else {
                None
            };
            let u = ops::add_user(
                &mut store,
                &s,
                ops::AddUser {
                    email: &email,
                    name: &name,
                    role,
                    manager: manager.as_deref(),
                    password_hash: hash.as_deref(),
                },
                at,
            )?;
            out.show(&u, |u| {
                format!("Added {} {} <{}> as user {}", u.role, u.name, u.email, u.id)
            })?;
        }
        Command::User(UserCommand::List) => {
            let users = ops::users(&mut store, &s)?;
            out.show(&users, |users| {
                let mut t = output::table(&["id", "name", "email", "role", "manager", "active"]);
                for u in users {
                    t.add_row(vec![
                        u.id.to_string(),
                        u.name.clone(),
                        u.email.to_string(),
                        u.role.to_string(),
                        u.manager.map(|m| m.to_string()).unwrap_or_default(),
                        u.active.to_string(),
                    ]);
                }
                t.to_string()
            })?;
        }
        Command::Account(AccountCommand::Add { name, domain }) => {
            let a = ops::add_account(&mut store, &s, &name, domain.as_deref(), at)?;
            out.show(&a, |a| format!("Added account {} {}", a.id, a.name))?;
        }
        Command::Contact(ContactCommand::Add {
            name,
            account,
            email,
            phone,
            title,
        }) => {
            let c = ops::add_contact(
                &mut store,
                &s,
                commands::NewContact {
                    account: account.map(AccountId),
                    name: &name,
                    email: email.as_deref(),
                    phone: phone.as_deref(),
                    title: title.as_deref(),
                },
                at,
            )?;
            out.show(&c, |c| format!("Added contact {} {}", c.id, c.name))?;
        }
        Command::Deal(DealCommand::Create {
            title,
            value,
            currency,
            account,
            contact,
            owner,
            expected_close,
            next,
        }) => {
            let currency = match currency {
                Some(c) => Currency::parse("currency", &c)?,
                None => s.org.currency,
            };
            let first_step = match next_step(&next, &s, now)? {
                Some(f) => f,
                None => FollowUp::Cadence,
            };
            let row = ops::create_deal(
                &mut store,
                &s,
                ops::CreateDeal {
                    owner: owner.as_deref(),
                    account: account.map(AccountId),
                    contact: contact.map(ContactId),
                    title: &title,
                    value: Money::parse("value", &value, currency)?,
                    expected_close: expected_close.map(|d| input::date("expected_close", &d)).transpose()?,
                    first_step,
                },
                now,
            )?;
            let summary = DealSummary::new(&row, &s.org.ladder);
            out.show(&summary, |d| output::deal_table(&s.org, std::slice::from_ref(d)))?;
        }
        Command::Deal(DealCommand::List {
            owner,
            status,
            due,
            limit,
            after,
        }) => {
            let filter = DealFilter {
                owner: owner.as_deref(),
                status: status.map(|x| DealStatus::parse("status", &x)).transpose()?,
                due_before: if due {
                    Some(ops::end_of_today(&s.org, now)?)
                } else {
                    None
                },
                after: after.map(DealId),
                limit,
            };
            let deals: Vec<DealSummary> = ops::list_deals(&mut store, &s, &filter)?
                .iter()
                .map(|r| DealSummary::new(r, &s.org.ladder))
                .collect();
            out.show(&deals, |d| output::deal_table(&s.org, d))?;
        }
        Command::Deal(DealCommand::Show { id }) => {
            let view = ops::show_deal(&mut store, &s, DealId(id))?;
            out.show(&view, |v| output::deal_view(&s.org, v))?;
        }
        Command::Deal(DealCommand::Reassign { id, to, version }) => {
            let c = ops::reassign(&mut store, &s, DealId(id), &to, version)?;
            print_change(&mut out, &s, &c, "Reassigned")?;
        }
        Command::Log(args) => {
            let objective = args.objective.as_deref().map(|o| step("objective", o)).transpose()?;
            let ending = if args.sold {
                Some(Ending::Sold)
            } else if args.definitive_no {
                Some(definitive_no(
                    args.reason_category.as_deref(),
                    args.buyer_words.as_deref(),
                )?)
            } else {
                next_step(&args.next, &s, now)?.map(Ending::Scheduled)
            };
            let input = commands::LogInteraction {
                kind: InteractionKind::parse("kind", &args.kind)?,
                contact: args.contact.map(ContactId),
                objective,
                result: Outcome::parse("result", &args.result)?,
                reached: args.reached.as_deref().map(|r| step("reached", r)).transpose()?,
                ending,
                notes: args.notes,
                occurred_at: args
                    .at
                    .as_deref()
                    .map(|t| input::when("at", t, &s.org, now))
                    .transpose()?,
                expected_version: args.version,
            };
            let id = DealId(args.deal);
            let c = ops::log_interaction(&mut store, &s, id, input, now)?;
            print_change(&mut out, &s, &c, "Logged")?;
        }
        Command::Decide(a) => {
            let input = commands::RecordDecision {
                contact: a.contact.map(ContactId),
                to: parse_step_or_zero(&s.org.ladder, "to", &a.to)?,
                decided_at: a.at.as_deref().map(|t| input::when("at", t, &s.org, now)).transpose()?,
                note: a.note,
                expected_version: a.version,
            };
            let c = ops::record_decision(&mut store, &s, DealId(a.deal), input, now)?;
            print_change(&mut out, &s, &c, "Recorded the decision on")?;
        }
        Command::Need(a) => {
            let deal = ops::show_deal(&mut store, &s, DealId(a.deal))?;
            let input = commands::NeedInput {
                kind: NeedKind::parse("kind", &a.kind)?,
                buyer_words: &a.buyer_words,
                consequence: &a.consequence,
                matters_by: input::date("by", &a.by)?,
                cost_per_month: Money::parse("cost_per_month", &a.cost_per_month, deal.summary.currency)?,
                expected_version: a.version,
            };
            let c = ops::set_need(&mut store, &s, DealId(a.deal), input, now)?;
            print_change(&mut out, &s, &c, "Recorded the compelling need of")?;
        }
        Command::Disqualify(a) => {
            let c = ops::disqualify(&mut store, &s, DealId(a.deal), &a.reason, a.version, now)?;
            print_change(&mut out, &s, &c, "Disqualified")?;
        }
        Command::Close(a) => {
            let closing = if a.won {
                Closing::Won {
                    contact: a.contact.map(ContactId),
                }
            } else {
                match definitive_no(a.reason_category.as_deref(), a.buyer_words.as_deref())? {
                    Ending::DefinitiveNo { category, buyer_words } => Closing::Lost { category, buyer_words },
                    _ => unreachable!("definitive_no builds a definitive no"),
                }
            };
            let c = ops::close(&mut store, &s, DealId(a.deal), closing, a.version, now)?;
            print_change(&mut out, &s, &c, "Closed")?;
        }
        Command::Reschedule(a) => {
            let step = match next_step(&a.next, &s, now)? {
                Some(FollowUp::At(n)) => n,
                _ => return Err(DomainError::missing("next_at", "give the new time of the next step").into()),
            };
            let c = ops::reschedule(&mut store, &s, DealId(a.deal), step, a.version, now)?;
            print_change(&mut out, &s, &c, "Rescheduled")?;
        }
        Command::Today => {
            let today = ops::today(&mut store, &s, now, ops::TODAY_MAX)?;
            let (deals, due) = (today.rows, today.due);
            out.show(&deals, |deals| {
                if deals.is_empty() {
                    return format!("Nothing due today for {}. Prospect!", s.user.name);
                }
                let mut t = output::table(&[
                    "due",
                    "deal",
                    "value",
                    "stage",
                    "next step aims at",
                    "kind",
                    "committed by",
                ]);
                for d in deals {
                    let Some(n) = &d.next_step else { continue };
                    let due = if n.due < now.at {
                        format!("{} (overdue)", output::local(&s.org, n.due))
                    } else {
                        output::local(&s.org, n.due)
                    };
                    t.add_row(vec![
                        due,
                        format!("{} {}", d.id, d.title),
                        output::money(d.value),
                        format!("{} {}", d.stage.step, d.stage.name),
                        n.aims_at.name.clone(),
                        n.kind.to_string(),
                        if n.buyer_committed { "buyer" } else { "seller" }.to_owned(),
                    ]);
                }
                let shown = deals.len() as u64;
                if due > shown {
                    format!(
                        "Today for {} — {due} next steps due; the {shown} most at stake:\n{t}",
                        s.user.name
                    )
                } else {
                    format!("Today for {} — {shown} next steps due\n{t}", s.user.name)
                }
            })?;
        }
        Command::Goal(GoalCommand::Set { seller, month, amount }) => {
            let month = Month::parse("month", &month)?;
            let amount = Money::parse("amount", &amount, s.org.currency)?;
            let g = ops::set_goal(&mut store, &s, &seller, month, amount, at)?;
            out.show(&g, |g| format!("Goal for {} in {}: {}", seller, g.month, g.amount))?;
        }
        Command::Report(a) => crate::report::run(&mut store, &s, a, now, &mut out)?,
        Command::Checkin(a) => {
            let c = ops::check_in(
                &mut store,
                &s,
                commands::CheckInInput {
                    commitment: a.commitment,
                    why: &a.why,
                    obstacle: a.obstacle.as_deref(),
                },
                now,
            )?;
            out.show(&c, |c| {
                format!("Checked in on {}: commitment {}/10 — {}", c.on, c.commitment, c.why)
            })?;
        }
    }
    Ok(())
}

/// `--to 0` means the buyer withdrew every decision.
fn parse_step_or_zero(ladder: &Ladder, field: &str, text: &str) -> Result<Step, DomainError> {
    if text.trim() == "0" {
        Ok(Step(0))
    } else {
        ladder.parse_step(field, text)
    }
}

fn next_step(a: &NextArgs, s: &Session, now: Now) -> anyhow::Result<Option<FollowUp>> {
    if a.follow_up {
        return Ok(Some(FollowUp::Cadence));
    }
    let Some(at) = &a.next_at else { return Ok(None) };
    Ok(Some(FollowUp::At(NextStepInput {
        due: input::when("next_at", at, &s.org, now)?,
        kind: InteractionKind::parse("next_kind", &a.next_kind)?,
        aims_at: a
            .aims_at
            .as_deref()
            .map(|x| s.org.ladder.parse_step("aims_at", x))
            .transpose()?,
        buyer_committed: a.buyer_committed,
    })))
}

fn definitive_no(category: Option<&str>, words: Option<&str>) -> anyhow::Result<Ending> {
    let category = category.ok_or_else(|| {
        DomainError::missing(
            "reason_category",
            "a definitive no has a reason category (price, competitor, timing, ...)",
        )
    })?;
    Ok(Ending::DefinitiveNo {
        category: LostCategory::parse("reason_category", category)?,
        buyer_words: words.unwrap_or_default().to_owned(),
    })
}

fn print_change(out: &mut Out, s: &Session, c: &DealChange, verb: &str) -> anyhow::Result<()> {
    let d = &c.deal;
    let json = serde_json::json!({
        "deal": d.id,
        "version": d.version,
        "status": d.status(),
        "stage": ops::StepRef::new(&s.org.ladder, d.stage),
        "next_step": d.next_step(),
        "interaction": c.interaction,
        "decision": c.decision,
    });
    out.show(&json, |_| {
        let mut text = format!(
            "{verb} deal {} — {}, stage {} {}",
            d.id,
            d.status(),
            d.stage.0,
            s.org.ladder.name(d.stage)
        );
        if let Some(n) = d.next_step() {
            text += &format!(
                "; next step {} {} aiming at \"{}\" ({})",
                output::local(&s.org, n.due),
                n.kind,
                s.org.ladder.name(n.aims_at),
                if n.buyer_committed {
                    "buyer committed"
                } else {
                    "seller scheduled"
                }
            );
        }
        text
    })?;
    Ok(())
}

fn demo(store: &mut Store, args: DemoArgs, out: &mut Out) -> anyhow::Result<()> {
    if !ops::is_empty(store)? {
        if !args.force {
            return Err(DomainError::invalid(
                "db",
                "(holds data)",
                "the demo fills only an empty database: pass --force to replace everything in it",
            )
            .into());
        }
        store.reset()?;
    }
    let today = match &args.today {
        Some(t) => input::date("today", t)?,
        None => Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
    };
    let scale = match args.scale {
        ScaleArg::Small => momentum_demo::Scale::Small,
        ScaleArg::Medium => momentum_demo::Scale::Medium,
        ScaleArg::Large => momentum_demo::Scale::Large,
    };
    let started = std::time::Instant::now();
    let hash = momentum_web::password::hash(momentum_demo::DEMO_PASSWORD)?;
    let summary = crate::demo::fill(
        store,
        momentum_demo::DemoConfig {
            seed: args.seed,
            scale,
            today,
        },
        hash,
    )?;
    let s = ops::session(store, None, None)?;
    let users = ops::users(store, &s)?;
    let json = serde_json::json!({
        "org": s.org.name,
        "seed": args.seed,
        "today": today,
        "users": summary.users,
        "accounts": summary.accounts,
        "contacts": summary.contacts,
        "deals": summary.deals,
        "interactions": summary.interactions,
        "decisions": summary.decisions,
        "password": momentum_demo::DEMO_PASSWORD,
        "try": users.iter().take(6).map(|u| serde_json::json!({"email": u.email, "name": u.name, "role": u.role})).collect::<Vec<_>>(),
    });
    out.show(&json, |_| {
        let mut text = format!(
            "Demo org \"{}\" (seed {}, twelve months to {}) in {:.1}s: {} users, {} accounts, {} contacts, {} deals, {} interactions, {} buyer decisions.\n\nTry it as one of these users (password \"{}\"):\n",
            s.org.name,
            args.seed,
            today,
            started.elapsed().as_secs_f64(),
            summary.users,
            summary.accounts,
            summary.contacts,
            summary.deals,
            summary.interactions,
            summary.decisions,
            momentum_demo::DEMO_PASSWORD
        );
        for u in users.iter().filter(|u| u.role != Role::Seller).take(3).chain(users.iter().filter(|u| u.role == Role::Seller).take(3)) {
            text += &format!("  {:<8} {:<16} momentum --as {} today\n", u.role.as_str(), u.name, u.email);
        }
        text
    })?;
    Ok(())
}

/// Two malloc arenas for the server, as glibc's `MALLOC_ARENA_MAX=2` would set. By default
/// glibc gives up to 8 per core to the threads that allocate at once: Tokio's workers and
/// the blocking threads that run each request's store work, and each arena keeps what its
/// threads freed. Under the capacity benchmark on the large demo that was 150–157 MB of peak
/// RSS, against 92–95 MB with two arenas, at the same throughput (BENCHMARKS.md).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    // SAFETY: mallopt only sets a parameter of glibc's allocator, and this runs before the
    // server starts its threads; its result (0 when refused) leaves the default in force.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

/// `momentum serve`: config from defaults, momentum.toml, MOMENTUM_* and flags (in that
/// order of precedence, lowest first), then the server until SIGINT/SIGTERM.
fn serve(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let mut config = momentum_web::Config::load(&args.config, std::env::vars())?;
    // `--db` (or MOMENTUM_DB, which clap reads too) wins over the file when given.
    if let Some(db) = &cli.db {
        config.db = db.clone();
    }
    if let Some(bind) = args.bind {
        config.bind = bind;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("MOMENTUM_LOG")
        .unwrap_or_else(|_| "info".into())
        // The PostgreSQL client logs every statement's parameters at debug: session and
        // CSRF secrets, e-mails. Never below info, whatever MOMENTUM_LOG says.
        .add_directive("tokio_postgres=info".parse()?);
    if config.log_json {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .json()
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let bind = config.bind;
    tracing::info!(config = ?config, "starting");
    limit_malloc_arenas();
    // Before the runtime starts: the blocking PostgreSQL client cannot run inside it.
    let state = momentum_web::AppState::new(config).context("opening the database")?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("binding {bind}"))?;
        tracing::info!(address = %listener.local_addr()?, "serving");
        momentum_web::serve(state, listener, momentum_web::shutdown_signal()).await?;
        Ok(())
    })
}
