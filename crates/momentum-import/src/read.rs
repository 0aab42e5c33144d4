//! Reading CSV files as exports write them: a UTF-8 byte-order mark, quoted or bare
//! values, blank lines, report footers; and telling which section of the mapping a file
//! belongs to.

use std::path::Path;

use crate::mapping::{Col, Mapping};
use crate::RowError;

/// One CSV file, read whole, with the line of each record (the header is line 1).
#[derive(Debug)]
pub struct SourceFile {
    /// The file's name as messages show it.
    pub name: String,
    pub stem: String,
    pub headers: Vec<String>,
    pub records: Vec<(u64, csv::StringRecord)>,
    /// Rows that are not the header's shape, each refused on its line (the others are read,
    /// so one run reports them all).
    pub errors: Vec<RowError>,
}

impl SourceFile {
    /// The indexes of all of `col`'s names present in the header, in the mapping's order.
    pub fn find_all(&self, col: Option<&Col>) -> Vec<usize> {
        col.map_or_else(Vec::new, |c| {
            c.names().iter().filter_map(|n| self.position(n)).collect()
        })
    }

    /// The index of the first of `col`'s names present in the header.
    pub fn find(&self, col: Option<&Col>) -> Option<usize> {
        col?.names().iter().find_map(|n| self.position(n))
    }

    /// A column's index: named as written, else in any case (Salesforce's Data Loader
    /// writes `NAME`, `STAGENAME`).
    fn position(&self, name: &str) -> Option<usize> {
        let n = name.trim();
        (self.headers.iter().position(|h| h == n))
            .or_else(|| self.headers.iter().position(|h| h.eq_ignore_ascii_case(n)))
    }
}

fn is_footer(record: &csv::StringRecord) -> bool {
    let first = record.get(0).unwrap_or("").trim();
    let rest_blank = record.iter().skip(1).all(|f| f.trim().is_empty());
    if !rest_blank {
        return false;
    }
    let lower = first.to_ascii_lowercase();
    lower.starts_with("grand totals")
        || lower.starts_with("confidential information")
        || lower.starts_with("copyright")
        || first.starts_with('©')
        || lower.contains("salesforce.com, inc")
        || lower == "total"
}

/// The largest row an import reads: a real export's row is a few kilobytes; anything
/// this size is a broken file (an unclosed quote swallowing the rest), not data.
pub const ROW_MAX_BYTES: usize = 1 << 20;

/// Reads a file; a file that cannot be read at all is one error naming it.
pub fn read_file(path: &Path, mapping: &Mapping) -> Result<SourceFile, RowError> {
    let name = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let stem = path
        .file_stem()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let file_error = |line: u64, rule: String| RowError {
        file: name.clone(),
        line,
        column: String::new(),
        value: String::new(),
        rule,
    };
    if path.is_dir() {
        return Err(file_error(0, "a folder with no CSV file in it".to_owned()));
    }
    let bytes = std::fs::read(path).map_err(|e| file_error(0, format!("cannot read the file: {e}")))?;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    // Lines are counted here: the csv crate's own count, and the offset it gives a record,
    // are off for CRLF files (every file Excel writes on Windows), more so after a blank
    // line. A record starts at the first byte past the line ends before its offset.
    let newlines = newlines(body);
    let line_at = |p: Option<&csv::Position>| {
        p.map_or(0, |p| {
            let from = usize::try_from(p.byte()).unwrap_or(usize::MAX).min(body.len());
            let start = body[from..]
                .iter()
                .position(|b| !matches!(b, b'\r' | b'\n'))
                .map_or(body.len(), |k| from + k);
            newlines.partition_point(|&i| i < start) as u64 + 1
        })
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .delimiter(delimiter(body))
        .from_reader(body);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| file_error(1, unreadable(&e)))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(file_error(1, "the file has no header line".to_owned()));
    }
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = line_at(record.position());
                if record.as_byte_record().as_slice().len() > ROW_MAX_BYTES {
                    return Err(file_error(
                        line,
                        format!("a row is at most {} KiB (an unclosed quote?)", ROW_MAX_BYTES / 1024),
                    ));
                }
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                if mapping.format.skip_report_footers && is_footer(&record) {
                    continue;
                }
                // A short or long row would put values under the wrong columns.
                if record.len() != headers.len() {
                    errors.push(file_error(
                        line,
                        format!(
                            "the row has {} fields where the header has {} (a missing or extra comma, or an unclosed quote?)",
                            record.len(),
                            headers.len()
                        ),
                    ));
                    continue;
                }
                records.push((line, record.clone()));
            }
            Err(e) => {
                let line = line_at(e.position());
                return Err(file_error(line, unreadable(&e)));
            }
        }
    }
    Ok(SourceFile {
        name,
        stem,
        headers,
        records,
        errors,
    })
}

/// Why a line cannot be read, in the words of someone who saved the file.
fn unreadable(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "this line is not UTF-8 text: save the file as \"CSV UTF-8\" (Excel), or convert it (iconv -f WINDOWS-1252 -t UTF-8)".to_owned(),
        _ => format!("not readable CSV here: {e}"),
    }
}

/// The file's field separator, told by its header line: a comma, unless the header has
/// none and semicolons (Excel's CSV where the decimal mark is a comma) or tabs instead.
fn delimiter(body: &[u8]) -> u8 {
    let header = body.split(|b| *b == b'\n').next().unwrap_or_default();
    // Outside quotes only: a quoted name may hold a comma ("Betrag (EUR, netto)").
    let mut quoted = false;
    let unquoted: Vec<u8> = (header.iter().copied())
        .filter(|b| {
            quoted ^= *b == b'"';
            !quoted && *b != b'"'
        })
        .collect();
    let count = |c: u8| unquoted.iter().filter(|b| **b == c).count();
    match (count(b','), count(b';'), count(b'\t')) {
        (0, semi, tabs) if semi > 0 && semi >= tabs => b';',
        (0, _, tabs) if tabs > 0 => b'\t',
        _ => b',',
    }
}

/// The byte offsets of every line feed in `body`.
fn newlines(body: &[u8]) -> Vec<usize> {
    (body.iter().enumerate())
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i)
        .collect()
}

/// The parts of a mapping a file can be read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    User,
    Account,
    Contact,
    Deal,
    History,
    Activity,
}

/// A file stem names a section's file: "Opportunity", "Opportunity-2024", "opportunity_1",
/// but not "OpportunityHistory".
fn stem_matches(stem: &str, file: &str) -> bool {
    let (s, f) = (stem.to_ascii_lowercase(), file.to_ascii_lowercase());
    s == f || (s.starts_with(&f) && !s[f.len()..].starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// The section of `mapping` a file belongs to: by its name when sections name files,
/// else by which section's columns its header holds (the section's key column must be
/// there; the most columns found wins).
pub fn section_of(mapping: &Mapping, file: &SourceFile) -> Option<Section> {
    type Entry<'a> = (Section, Option<&'a str>, Vec<Option<&'a Col>>, Vec<Option<&'a Col>>);
    let mut sections: Vec<Entry<'_>> = Vec::new();
    if let Some(m) = &mapping.user {
        sections.push((
            Section::User,
            m.file.as_deref(),
            vec![m.email.as_ref().or(m.name.as_ref())],
            vec![m.external_id.as_ref(), m.name.as_ref()],
        ));
    }
    if let Some(m) = &mapping.account {
        sections.push((
            Section::Account,
            m.file.as_deref(),
            vec![m.name.as_ref()],
            vec![m.external_id.as_ref(), m.domain.as_ref(), m.created.as_ref()],
        ));
    }
    if let Some(m) = &mapping.contact {
        sections.push((
            Section::Contact,
            m.file.as_deref(),
            vec![m.name.as_ref().or(m.last_name.as_ref())],
            vec![
                m.external_id.as_ref(),
                m.first_name.as_ref(),
                m.last_name.as_ref(),
                m.email.as_ref(),
                m.phone.as_ref(),
                m.account.as_ref(),
                m.title.as_ref(),
            ],
        ));
    }
    if let Some(m) = &mapping.deal {
        let status = m.status.as_ref().map(|s| match s {
            crate::mapping::StatusField::Column(c) => c,
            crate::mapping::StatusField::Map(m) => &m.column,
        });
        // A built-in mapping reads exports of several kinds: its deals file has the status
        // column as well as a title (Momentum's contacts export has a "title" too).
        let mut key = vec![m.title.as_ref()];
        if mapping.built_in && status.is_some() {
            key.push(status);
        }
        sections.push((
            Section::Deal,
            m.file.as_deref(),
            key,
            vec![
                m.external_id.as_ref(),
                m.owner.as_ref(),
                m.account.as_ref(),
                m.value.as_ref(),
                m.created.as_ref(),
                m.closed.as_ref(),
                status,
                m.expected_close.as_ref(),
            ],
        ));
    }
    if let Some(m) = &mapping.history {
        sections.push((
            Section::History,
            m.file.as_deref(),
            vec![m.deal.as_ref(), m.stage.as_ref()],
            vec![m.at.as_ref()],
        ));
    }
    // An activity names its deal by external id or by title: either column identifies it.
    let activity_deal = mapping.activity.as_ref().and_then(|m| {
        let names: Vec<String> = [&m.deal, &m.deal_title]
            .into_iter()
            .flatten()
            .flat_map(|c| c.names())
            .map(str::to_owned)
            .collect();
        (!names.is_empty()).then_some(Col::Any(names))
    });
    if let Some(m) = &mapping.activity {
        sections.push((
            Section::Activity,
            m.file.as_deref(),
            vec![activity_deal.as_ref(), m.at.as_ref()],
            vec![m.notes.as_ref(), m.status.as_ref()],
        ));
    }
    if let Some((s, ..)) = sections
        .iter()
        .find(|(_, f, ..)| f.is_some_and(|f| stem_matches(&file.stem, f)))
    {
        return Some(*s);
    }
    sections
        .iter()
        .filter(|(_, f, key, _)| f.is_none() && key.iter().all(|c| c.is_some() && file.find(*c).is_some()))
        .max_by_key(|(s, _, key, more)| {
            let found = key.iter().chain(more).filter(|c| file.find(**c).is_some()).count();
            (found, std::cmp::Reverse(*s))
        })
        .map(|(s, ..)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_stem_names_its_object_only() {
        assert!(stem_matches("Opportunity", "opportunity"));
        assert!(stem_matches("Opportunity-2024-01", "Opportunity"));
        assert!(!stem_matches("OpportunityHistory", "Opportunity"));
        assert!(!stem_matches("OpportunityHistoryGroup", "OpportunityHistory"));
    }
}
