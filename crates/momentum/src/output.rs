//! What the CLI prints: tables for people, stable JSON for scripts. Output goes through
//! [`Out`], which treats a closed pipe (`momentum deal list | head -1`) as success.

use std::io::{self, Write};

use comfy_table::{presets, Table};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use momentum_core::model::Org;
use momentum_core::money::Money;
use momentum_store::ops::{DealSummary, DealView};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    /// Comma-separated values: reports and exports (other commands print their table).
    Csv,
}

/// Standard output; a closed pipe ends output quietly.
#[derive(Debug)]
pub struct Out {
    pub format: Format,
    closed: bool,
}

impl Out {
    pub fn new(format: Format) -> Out {
        Out { format, closed: false }
    }

    pub fn line(&mut self, text: impl std::fmt::Display) -> io::Result<()> {
        self.raw(&format!("{text}\n"))
    }

    /// Writes `text` exactly as it is (an iCalendar file ends its lines with CRLF).
    pub fn raw(&mut self, text: &str) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let mut stdout = io::stdout().lock();
        match stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }

    pub fn json(&mut self, value: &impl Serialize) -> io::Result<()> {
        let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
        self.line(text)
    }

    /// Prints `value` as JSON, or the table/text `human` makes of it.
    pub fn show<T: Serialize>(&mut self, value: &T, human: impl FnOnce(&T) -> String) -> io::Result<()> {
        match self.format {
            Format::Json => self.json(value),
            Format::Table | Format::Csv => {
                let text = human(value);
                self.line(text.trim_end())
            }
        }
    }
}

pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_BORDERS_ONLY);
    t.set_header(header.iter().copied());
    t
}

/// An instant in the org's time zone, to the minute.
pub fn local(org: &Org, at: Timestamp) -> String {
    let tz = TimeZone::get(&org.timezone).unwrap_or(TimeZone::UTC);
    at.to_zoned_datetime(tz).strftime("%Y-%m-%d %H:%M").to_string()
}

pub fn money(m: Option<Money>) -> String {
    m.map_or_else(|| "—".to_owned(), |m| m.to_string())
}

pub fn deal_table(org: &Org, deals: &[DealSummary]) -> String {
    let mut t = table(&[
        "id",
        "title",
        "owner",
        "account",
        "value",
        "status",
        "stage",
        "next step",
    ]);
    for d in deals {
        let next = d.next_step.as_ref().map_or_else(String::new, |n| {
            format!(
                "{} {} → {}{}",
                local(org, n.due),
                n.kind,
                n.aims_at.name,
                if n.buyer_committed { " (buyer)" } else { "" }
            )
        });
        t.add_row(vec![
            d.id.to_string(),
            d.title.clone(),
            d.owner.clone(),
            d.account.clone().unwrap_or_default(),
            money(d.value),
            d.status.to_string(),
            format!("{} {}", d.stage.step, d.stage.name),
            next,
        ]);
    }
    t.to_string()
}

pub fn deal_view(org: &Org, v: &DealView) -> String {
    let d = &v.summary;
    let contact = |id: Option<momentum_core::model::ContactId>| {
        id.and_then(|c| v.contacts.get(&c.0).cloned())
            .unwrap_or_else(|| "—".to_owned())
    };
    let mut s = format!(
        "Deal {} · {}\nOwner: {}   Account: {}   Value: {}\nStatus: {}   Stage: {} {}   Expected close: {}\n",
        d.id,
        d.title,
        d.owner,
        d.account.as_deref().unwrap_or("—"),
        money(d.value),
        d.status,
        d.stage.step,
        d.stage.name,
        d.expected_close.map_or_else(|| "—".to_owned(), |x| x.to_string()),
    );
    if let Some(reason) = &d.close_reason {
        s += &format!(
            "Closed {}: {}\n",
            d.closed_at.map(|t| local(org, t)).unwrap_or_default(),
            reason
        );
    }
    s += "\nNext step: ";
    s += &match &d.next_step {
        Some(n) => format!(
            "{} {} aiming at \"{}\" ({})\n",
            local(org, n.due),
            n.kind,
            n.aims_at.name,
            if n.buyer_committed {
                "buyer committed"
            } else {
                "seller scheduled"
            }
        ),
        None => "none (closed)\n".to_owned(),
    };
    if let Some(p) = &v.prepare_for {
        s += &format!("Prepare for the buyer's next decision: {} {}\n", p.step, p.name);
    }
    s += "\nCompelling need: ";
    s += &match &v.need {
        Some(n) => format!(
            "{} — \"{}\"\n  If nothing changes: {}\n  Matters by {}; costs {} a month\n",
            n.kind, n.buyer_words, n.consequence, n.matters_by, n.cost_per_month
        ),
        None => "none recorded: record one (momentum need) or disqualify the deal\n".to_owned(),
    };
    s += "\nDecision timeline:\n";
    if v.decisions.is_empty() {
        s += "  (no buyer decision yet)\n";
    }
    for x in &v.decisions {
        let to = org.ladder.name(x.to);
        s += &format!(
            "  {}  {} {} → {} ({})  by {}\n",
            local(org, x.decided_at),
            x.direction,
            x.from.0,
            x.to.0,
            to,
            contact(x.contact)
        );
    }
    s += "\nInteractions:\n";
    if v.interactions.is_empty() {
        s += "  (none yet)\n";
    }
    for i in &v.interactions {
        s += &format!(
            "  #{} {}  {} with {}: asked for \"{}\" → {}, {}{}\n",
            i.seq,
            local(org, i.occurred_at),
            i.kind,
            contact(i.contact),
            org.ladder.name(i.objective),
            i.result,
            i.commitment,
            if i.notes.is_empty() {
                String::new()
            } else {
                format!(" — {}", i.notes)
            }
        );
    }
    s
}
