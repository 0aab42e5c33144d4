//! `--suggest-mapping`: a starting mapping from a file's header, guessing each Momentum
//! field's column from common names, and listing the status column's values so the user
//! only sorts them into open, won and lost.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;

use crate::mapping::Mapping;
use crate::RowError;

/// Momentum's fields and the header words that usually mean them, best first.
const GUESSES: &[(&str, &[&str])] = &[
    (
        "external_id",
        &[
            "record id",
            "opportunity id",
            "deal id",
            "deal - id",
            "external_id",
            "id",
        ],
    ),
    (
        "title",
        &[
            "deal name",
            "opportunity name",
            "deal - title",
            "title",
            "name",
            "subject",
        ],
    ),
    (
        "owner",
        &[
            "deal owner",
            "opportunity owner",
            "deal - owner",
            "owner",
            "sales rep",
            "salesperson",
        ],
    ),
    (
        "account",
        &[
            "account name",
            "company",
            "organization",
            "account",
            "customer",
            "client",
        ],
    ),
    ("contact", &["contact person", "contact name", "contact", "person"]),
    ("product", &["product", "products"]),
    ("value", &["amount", "deal value", "value", "deal - value", "revenue"]),
    ("currency", &["currency"]),
    ("created", &["created date", "create date", "deal created", "created"]),
    (
        "expected_close",
        &["expected close date", "expected close", "close date"],
    ),
    ("closed", &["closed on", "close date", "won time", "closed"]),
    ("status", &["status", "stage", "deal stage", "stagename"]),
    (
        "lost_reason",
        &["lost reason", "closed lost reason", "loss reason", "reason"],
    ),
    (
        "next_step",
        &["next activity date", "next step date", "next_step_due", "next activity"],
    ),
];

fn guess<'h>(headers: &'h [String], words: &[&str], taken: &BTreeSet<&'h str>) -> Option<&'h str> {
    for w in words {
        if let Some(h) = headers
            .iter()
            .find(|h| h.to_lowercase() == *w && !taken.contains(h.as_str()))
        {
            return Some(h);
        }
    }
    for w in words.iter().filter(|w| w.len() > 3) {
        if let Some(h) = headers
            .iter()
            .find(|h| h.to_lowercase().contains(*w) && !taken.contains(h.as_str()))
        {
            return Some(h);
        }
    }
    None
}

fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A mapping to start from, as TOML text with comments.
pub fn suggest(path: &Path) -> Result<String, RowError> {
    let file = crate::read::read_file(path, &Mapping::default())?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# A starting mapping for {}: check each column, then sort the status values.",
        file.name
    );
    let _ = writeln!(out, "# Columns in the file: {}", file.headers.join(", "));
    let _ = writeln!(out, "source = \"csv\"\n\n[deal]");
    let mut taken = BTreeSet::new();
    let mut status_col = None;
    for (field, words) in GUESSES {
        match guess(&file.headers, words, &taken) {
            Some(col) if *field == "status" => {
                status_col = Some(col);
            }
            Some(col) => {
                if *field != "closed" && *field != "expected_close" {
                    taken.insert(col);
                }
                let _ = writeln!(out, "{field} = {}", toml_str(col));
            }
            None => {
                if *field != "status" {
                    let _ = writeln!(out, "# {field} = \"...\"        (no column found)");
                }
            }
        }
    }
    let _ = writeln!(out, "\n[deal.status]");
    match status_col {
        Some(col) => {
            let idx = file.headers.iter().position(|h| h == col).unwrap_or(0);
            let values: BTreeSet<&str> = file
                .records
                .iter()
                .filter_map(|(_, r)| r.get(idx))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .take(10_000)
                .collect();
            let (mut won, mut lost, mut open) = (Vec::new(), Vec::new(), Vec::new());
            for v in values {
                let l = v.to_lowercase();
                if l.contains("won") || l == "closed won" {
                    won.push(toml_str(v));
                } else if l.contains("lost") {
                    lost.push(toml_str(v));
                } else {
                    open.push(toml_str(v));
                }
            }
            let _ = writeln!(out, "column = {}", toml_str(col));
            let _ = writeln!(out, "won = [{}]", won.join(", "));
            let _ = writeln!(out, "lost = [{}]", lost.join(", "));
            let _ = writeln!(out, "open = [{}]", open.join(", "));
            let _ = writeln!(out, "# disqualified = [...]");
            let _ = writeln!(
                out,
                "\n# Stages on the decision ladder (a step number or name, then the source values);\n# values listed nowhere leave the stage unknown.\n# [deal.stage]\n# column = {}\n# \"1\" = [\"...\"]",
                toml_str(col)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "# column = \"...\"   (no status column found: every deal is imported open)"
            );
        }
    }
    let _ = writeln!(
        out,
        "\n[format]\ndate = \"auto\"        # or a strftime pattern; auto accepts ISO, M/D/YYYY and D.M.YYYY\n# currency = \"USD\"     # default: the org's"
    );
    Ok(out)
}
