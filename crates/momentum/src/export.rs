//! `momentum export deals|interactions|decisions|accounts|contacts --format csv|json`:
//! records stream from the store to standard output as they are read (constant memory);
//! a closed pipe (`momentum export deals | head`) ends the export quietly.

use std::io::{self, Write};

use clap::{Args, ValueEnum};
use momentum_store::export::{self, Kind};
use momentum_store::ops::Session;
use momentum_store::sql::Val;
use momentum_store::Store;

use crate::output::Format;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum What {
    Deals,
    Interactions,
    Decisions,
    Accounts,
    Contacts,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(value_enum)]
    what: What,
}

impl What {
    fn kind(self) -> Kind {
        match self {
            What::Deals => Kind::Deals,
            What::Interactions => Kind::Interactions,
            What::Decisions => Kind::Decisions,
            What::Accounts => Kind::Accounts,
            What::Contacts => Kind::Contacts,
        }
    }
}

/// Why an export stopped: the database, or the output.
#[derive(Debug)]
enum Stop {
    Store(momentum_store::StoreError),
    Io(io::Error),
}

impl From<momentum_store::StoreError> for Stop {
    fn from(e: momentum_store::StoreError) -> Stop {
        Stop::Store(e)
    }
}

/// A CSV error as the I/O error under it, so a closed pipe is still recognised.
fn io_error(e: csv::Error) -> Stop {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Stop::Io(io),
        other => Stop::Io(io::Error::other(format!("{other:?}"))),
    }
}

fn text(v: &Val) -> String {
    match v {
        Val::Null => String::new(),
        Val::Int(i) => i.to_string(),
        Val::Text(t) => t.clone(),
        Val::Bool(b) => b.to_string(),
    }
}

/// A CSV cell that a spreadsheet would run as a formula (`=HYPERLINK(...)`, `@SUM(...)`, a
/// title typed as "- renewal") gets a leading apostrophe, which spreadsheets show as text
/// and the import takes off again (OWASP's CSV injection advice).
fn csv_cell(v: &Val) -> String {
    let t = text(v);
    // The same four the import takes the apostrophe off (cells are trimmed, so a leading tab
    // or carriage return never reaches a stored value).
    match t.starts_with(['=', '+', '-', '@']) && matches!(v, Val::Text(_)) {
        true => format!("'{t}"),
        false => t,
    }
}

fn json(v: &Val) -> serde_json::Value {
    match v {
        Val::Null => serde_json::Value::Null,
        Val::Int(i) => (*i).into(),
        Val::Text(t) => t.as_str().into(),
        Val::Bool(b) => (*b).into(),
    }
}

/// Writes the export of `what` to `out` in `format` (table means CSV here).
pub fn write_export(
    store: &mut Store,
    s: &Session,
    what: Kind,
    format: Format,
    out: impl Write,
) -> anyhow::Result<u64> {
    export::may_export(s)?;
    let columns = what.columns();
    let result = match format {
        Format::Json => {
            let mut out = io::BufWriter::new(out);
            let mut first = true;
            let r = (|| -> Result<u64, Stop> {
                out.write_all(b"[").map_err(Stop::Io)?;
                let n = export::export(store, s, what, |rec| {
                    let obj: serde_json::Map<String, serde_json::Value> = columns
                        .iter()
                        .zip(rec)
                        .map(|(c, v)| ((*c).to_owned(), json(v)))
                        .collect();
                    let sep = if first { "\n" } else { ",\n" };
                    first = false;
                    out.write_all(sep.as_bytes()).map_err(Stop::Io)?;
                    serde_json::to_writer(&mut out, &obj).map_err(|e| Stop::Io(e.into()))
                })?;
                out.write_all(b"\n]\n").map_err(Stop::Io)?;
                out.flush().map_err(Stop::Io)?;
                Ok(n)
            })();
            r
        }
        Format::Csv | Format::Table => {
            let mut w = csv::Writer::from_writer(out);
            let r = (|| -> Result<u64, Stop> {
                w.write_record(columns).map_err(io_error)?;
                let n = export::export(store, s, what, |rec| {
                    w.write_record(rec.iter().map(csv_cell)).map_err(io_error)
                })?;
                w.flush().map_err(Stop::Io)?;
                Ok(n)
            })();
            r
        }
    };
    match result {
        Ok(n) => Ok(n),
        // `momentum export deals | head`: the reader has what it wanted.
        Err(Stop::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(0),
        Err(Stop::Io(e)) => Err(e.into()),
        Err(Stop::Store(e)) => Err(e.into()),
    }
}

pub fn run(store: &mut Store, s: &Session, args: ExportArgs, format: Format) -> anyhow::Result<()> {
    write_export(store, s, args.what.kind(), format, io::stdout().lock())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_text() {
        let cell = |t: &str| csv_cell(&Val::Text(t.to_owned()));
        assert_eq!(cell("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(cell("@SUM(1+1)"), "'@SUM(1+1)");
        assert_eq!(cell("- renewal"), "'- renewal");
        assert_eq!(cell("Acme rollout"), "Acme rollout");
        assert_eq!(csv_cell(&Val::Int(-5)), "-5");
    }
}
