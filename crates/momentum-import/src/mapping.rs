//! The TOML mapping: for each Momentum field, the source column; how source values map to
//! statuses and ladder steps; the date style and currency; and the quirks of a vendor's
//! files. A vendor importer is one of these, built in ([`Mapping::vendor`]).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::read::Section;

/// A source column: one name, or several (the first present in the header is read), for
/// vendors whose exports name a column differently by version.
#[derive(Debug, Clone)]
pub enum Col {
    One(String),
    Any(Vec<String>),
}

impl<'de> Deserialize<'de> for Col {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let names = |v: &toml::Value| -> Option<Vec<String>> {
            v.as_array()?.iter().map(|n| n.as_str().map(str::to_owned)).collect()
        };
        match toml::Value::deserialize(d)? {
            toml::Value::String(name) => Ok(Col::One(name)),
            v => names(&v).map(Col::Any).ok_or_else(|| {
                D::Error::custom(format!(
                    "a column is the header's name for it (\"Amount\"), or a list of names ([\"Amount\", \"Value\"]), not {v}"
                ))
            }),
        }
    }
}

impl Col {
    pub fn names(&self) -> Vec<&str> {
        match self {
            Col::One(n) => vec![n.as_str()],
            Col::Any(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The source's name in each record's provenance ("salesforce:Opportunity.csv:12").
    pub source: Option<String>,
    pub deal: Option<DealMap>,
    pub account: Option<AccountMap>,
    pub contact: Option<ContactMap>,
    pub user: Option<UserMap>,
    pub history: Option<HistoryMap>,
    pub activity: Option<ActivityMap>,
    #[serde(default)]
    pub format: Format,
    /// One of Momentum's own mappings (a vendor's, or Momentum's export), which name every
    /// column an export may hold: a column a file lacks is simply not exported. A user's
    /// mapping names the columns of their file, so a column missing there is refused.
    #[serde(skip)]
    pub built_in: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Format {
    /// "auto" (ISO, M/D/YYYY or M/D/YY, D.M.YYYY; a file mixing styles is refused) or a
    /// strftime pattern such as "%d/%m/%Y".
    #[serde(default = "auto")]
    pub date: String,
    /// The currency of values when no currency column says (default: the org's).
    pub currency: Option<String>,
    /// Skip report footers: "Grand Totals", "Confidential Information", copyright lines.
    #[serde(default)]
    pub skip_report_footers: bool,
    /// A column whose true values ("1", "true") mark deleted records, which are skipped.
    pub deleted: Option<String>,
    /// Association columns hold lists ("Acme;Globex"): the first entry is read.
    pub list_separator: Option<String>,
    /// Files that match no section are skipped with a note instead of refused (vendor
    /// exports come as whole folders).
    #[serde(default)]
    pub skip_unknown_files: bool,
}

fn auto() -> String {
    "auto".to_owned()
}

impl Default for Format {
    fn default() -> Self {
        Format {
            date: auto(),
            currency: None,
            skip_report_footers: false,
            deleted: None,
            list_separator: None,
            skip_unknown_files: false,
        }
    }
}

/// `status = "Stage"`, or a table naming the column and the source values of each status.
#[derive(Debug, Clone)]
pub enum StatusField {
    Column(Col),
    Map(StatusMap),
}

/// Read by shape rather than `untagged`, so a typo inside the table ("wonn") is reported as
/// the unknown key it is, not as "did not match any variant".
impl<'de> Deserialize<'de> for StatusField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match toml::Value::deserialize(d)? {
            table @ toml::Value::Table(_) => StatusMap::deserialize(table).map(StatusField::Map),
            other => Col::deserialize(other).map(StatusField::Column),
        }
        .map_err(|e| D::Error::custom(e.message()))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusMap {
    pub column: Col,
    #[serde(default)]
    pub open: Vec<String>,
    #[serde(default)]
    pub won: Vec<String>,
    #[serde(default)]
    pub lost: Vec<String>,
    #[serde(default)]
    pub disqualified: Vec<String>,
    /// The status of values listed nowhere (by default such a value is an error).
    pub other: Option<String>,
}

/// `stage = "Stage"` (values are ladder step numbers or names), or a table naming the
/// column and, for each ladder step (number or name), the source values that mean it.
/// Values listed nowhere leave the stage unknown (no decision is invented).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StageField {
    Column(Col),
    Map(StageMap),
}

#[derive(Debug, Clone, Deserialize)]
pub struct StageMap {
    pub column: Col,
    #[serde(flatten)]
    pub steps: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealMap {
    /// The file name this section reads ("Opportunity" reads Opportunity.csv); without
    /// it, a file is matched by its header.
    pub file: Option<String>,
    pub external_id: Option<Col>,
    pub title: Option<Col>,
    pub owner: Option<Col>,
    pub account: Option<Col>,
    pub contact: Option<Col>,
    pub product: Option<Col>,
    pub value: Option<Col>,
    pub currency: Option<Col>,
    pub created: Option<Col>,
    pub expected_close: Option<Col>,
    pub closed: Option<Col>,
    pub status: Option<StatusField>,
    pub stage: Option<StageField>,
    /// A lost deal's reason category (price, competitor, ...), as Momentum exports it.
    pub lost_category: Option<Col>,
    pub lost_reason: Option<Col>,
    /// The date of the next activity the source had planned: an open deal's next step.
    pub next_step: Option<Col>,
    /// What that step is: call, email, meeting, visit or message (a call when blank).
    pub next_step_kind: Option<Col>,
    /// Whether the buyer agreed to that step's time (true/false, yes/no, 1/0).
    pub next_step_buyer_committed: Option<Col>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountMap {
    pub file: Option<String>,
    pub external_id: Option<Col>,
    pub name: Option<Col>,
    pub domain: Option<Col>,
    pub created: Option<Col>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactMap {
    pub file: Option<String>,
    pub external_id: Option<Col>,
    pub name: Option<Col>,
    pub first_name: Option<Col>,
    pub last_name: Option<Col>,
    pub account: Option<Col>,
    pub email: Option<Col>,
    pub phone: Option<Col>,
    pub title: Option<Col>,
    pub created: Option<Col>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserMap {
    pub file: Option<String>,
    pub external_id: Option<Col>,
    pub name: Option<Col>,
    pub email: Option<Col>,
}

/// Dated stage changes of deals (Salesforce OpportunityHistory).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryMap {
    pub file: Option<String>,
    /// The deal's external id.
    pub deal: Option<Col>,
    /// Read through `[deal.stage]`.
    pub stage: Option<Col>,
    pub at: Option<Col>,
}

/// Activities of deals (Salesforce Task, Pipedrive activities): done ones are logged
/// interactions; the earliest planned one of an open deal becomes its next step.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityMap {
    pub file: Option<String>,
    pub external_id: Option<Col>,
    /// The deal's external id.
    pub deal: Option<Col>,
    /// The deal's title, for exports that name the deal instead (Pipedrive): read when the
    /// `deal` column is absent or blank, and only a title that names one deal is matched.
    pub deal_title: Option<Col>,
    pub contact: Option<Col>,
    pub user: Option<Col>,
    pub at: Option<Col>,
    pub kind: Option<Col>,
    pub notes: Option<Col>,
    /// Rows whose `status` column holds one of `done` are activities that happened; the
    /// others are planned. Without a `status` column every row happened.
    pub status: Option<Col>,
    #[serde(default)]
    pub done: Vec<String>,
}

/// The vendors with a built-in mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Salesforce,
    Hubspot,
    Pipedrive,
}

/// A status or stage field's column.
fn column_of_status(s: &StatusField) -> &Col {
    match s {
        StatusField::Column(c) | StatusField::Map(StatusMap { column: c, .. }) => c,
    }
}

fn column_of_stage(s: &StageField) -> &Col {
    match s {
        StageField::Column(c) | StageField::Map(StageMap { column: c, .. }) => c,
    }
}

impl Mapping {
    /// Every column the mapping reads from a file of `section`, with the field it fills.
    pub(crate) fn columns(&self, section: Section) -> Vec<(&'static str, &Col)> {
        let fields: Vec<(&'static str, Option<&Col>)> = match section {
            Section::User => self.user.as_ref().map_or_else(Vec::new, |m| {
                vec![
                    ("external_id", m.external_id.as_ref()),
                    ("name", m.name.as_ref()),
                    ("email", m.email.as_ref()),
                ]
            }),
            Section::Account => self.account.as_ref().map_or_else(Vec::new, |m| {
                vec![
                    ("external_id", m.external_id.as_ref()),
                    ("name", m.name.as_ref()),
                    ("domain", m.domain.as_ref()),
                    ("created", m.created.as_ref()),
                ]
            }),
            Section::Contact => self.contact.as_ref().map_or_else(Vec::new, |m| {
                vec![
                    ("external_id", m.external_id.as_ref()),
                    ("name", m.name.as_ref()),
                    ("first_name", m.first_name.as_ref()),
                    ("last_name", m.last_name.as_ref()),
                    ("account", m.account.as_ref()),
                    ("email", m.email.as_ref()),
                    ("phone", m.phone.as_ref()),
                    ("title", m.title.as_ref()),
                    ("created", m.created.as_ref()),
                ]
            }),
            Section::Deal => self.deal.as_ref().map_or_else(Vec::new, |m| {
                vec![
                    ("external_id", m.external_id.as_ref()),
                    ("title", m.title.as_ref()),
                    ("owner", m.owner.as_ref()),
                    ("account", m.account.as_ref()),
                    ("contact", m.contact.as_ref()),
                    ("product", m.product.as_ref()),
                    ("value", m.value.as_ref()),
                    ("currency", m.currency.as_ref()),
                    ("created", m.created.as_ref()),
                    ("expected_close", m.expected_close.as_ref()),
                    ("closed", m.closed.as_ref()),
                    ("status", m.status.as_ref().map(column_of_status)),
                    ("stage", m.stage.as_ref().map(column_of_stage)),
                    ("lost_category", m.lost_category.as_ref()),
                    ("lost_reason", m.lost_reason.as_ref()),
                    ("next_step", m.next_step.as_ref()),
                    ("next_step_kind", m.next_step_kind.as_ref()),
                    ("next_step_buyer_committed", m.next_step_buyer_committed.as_ref()),
                ]
            }),
            Section::History => self.history.as_ref().map_or_else(Vec::new, |m| {
                vec![
                    ("deal", m.deal.as_ref()),
                    ("stage", m.stage.as_ref()),
                    ("at", m.at.as_ref()),
                ]
            }),
            Section::Activity => self.activity.as_ref().map_or_else(Vec::new, |m| {
                vec![
                    ("external_id", m.external_id.as_ref()),
                    ("deal", m.deal.as_ref()),
                    ("deal_title", m.deal_title.as_ref()),
                    ("contact", m.contact.as_ref()),
                    ("user", m.user.as_ref()),
                    ("at", m.at.as_ref()),
                    ("kind", m.kind.as_ref()),
                    ("notes", m.notes.as_ref()),
                    ("status", m.status.as_ref()),
                ]
            }),
        };
        fields.into_iter().filter_map(|(f, c)| Some((f, c?))).collect()
    }

    /// Reads a mapping file's text; the error names the line and the problem.
    pub fn parse(text: &str) -> Result<Mapping, String> {
        let mapping: Mapping = toml::from_str(text).map_err(|e| e.to_string())?;
        mapping.check()?;
        Ok(mapping)
    }

    /// A date pattern that cannot read what it writes is refused once, here, rather than
    /// on every cell; so is a source value listed under two statuses, or two steps.
    fn check(&self) -> Result<(), String> {
        let pattern = self.format.date.trim();
        if pattern != "auto" {
            let sample = jiff::civil::date(2024, 1, 31).at(13, 45, 0, 0);
            let round_trip = jiff::fmt::strtime::format(pattern, sample)
                .ok()
                .and_then(|text| jiff::fmt::strtime::parse(pattern, text).ok());
            if round_trip.is_none() {
                return Err(format!(
                    "[format] date = \"{pattern}\" is not a date pattern: use strftime's, such as \"%m/%d/%Y\" or \"%d.%m.%Y %H:%M\", or \"auto\""
                ));
            }
        }
        let Some(deal) = &self.deal else { return Ok(()) };
        // Per table: each key (a status, a step) with the source values listed under it.
        type Lists<'m> = Vec<(&'m str, &'m Vec<String>)>;
        let mut lists: Vec<(&str, Lists<'_>)> = Vec::new();
        if let Some(StatusField::Map(m)) = &deal.status {
            let by_status = [
                ("open", &m.open),
                ("won", &m.won),
                ("lost", &m.lost),
                ("disqualified", &m.disqualified),
            ];
            lists.push(("[deal.status]", by_status.to_vec()));
        }
        if let Some(StageField::Map(m)) = &deal.stage {
            lists.push(("[deal.stage]", m.steps.iter().map(|(k, v)| (k.as_str(), v)).collect()));
        }
        for (table, keys) in lists {
            let mut seen: BTreeMap<String, &str> = BTreeMap::new();
            for (key, values) in keys {
                for v in values {
                    match seen.insert(v.trim().to_lowercase(), key) {
                        Some(other) if other != key => {
                            return Err(format!(
                            "{table}: \"{v}\" is listed under both {other} and {key}; a source value means one of them"
                        ))
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// The built-in mapping of a vendor's CSV exports.
    pub fn vendor(v: Vendor) -> Mapping {
        let text = match v {
            Vendor::Salesforce => include_str!("vendors/salesforce.toml"),
            Vendor::Hubspot => include_str!("vendors/hubspot.toml"),
            Vendor::Pipedrive => include_str!("vendors/pipedrive.toml"),
        };
        Mapping {
            built_in: true,
            ..Mapping::parse(text).expect("the built-in vendor mappings are valid (tested)")
        }
    }

    /// The mapping of Momentum's own `export deals` CSV, used when none is given.
    pub fn momentum_export() -> Mapping {
        Mapping {
            built_in: true,
            ..Mapping::parse(include_str!("vendors/momentum.toml"))
                .expect("the built-in export mapping is valid (tested)")
        }
    }

    pub fn source_name(&self) -> &str {
        self.source.as_deref().unwrap_or("csv")
    }
}
