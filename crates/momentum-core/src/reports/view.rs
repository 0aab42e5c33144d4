//! The presentation-neutral views of a report: tables (for the CLI, CSV and pages) and a
//! chart description (drawn as SVG by the web crate). Reports build these from their own
//! figures, so the three outputs cannot disagree.

use serde::Serialize;

/// One value in a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A number printed with the given decimals.
    Num(f64, u8),
    /// A share 0–1, printed as a percentage.
    Share(f64),
    Blank,
}

impl Cell {
    pub fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Num(x, places) => format!("{x:.*}", *places as usize),
            Cell::Share(x) => format!("{:.1}%", x * 100.0),
            Cell::Blank => String::new(),
        }
    }

    pub fn num(x: f64) -> Cell {
        Cell::Num(x, 2)
    }

    pub fn opt(x: Option<f64>) -> Cell {
        x.map_or(Cell::Blank, Cell::num)
    }

    /// Whether the value is a number (pages align it right).
    pub fn numeric(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}

/// A titled table: column names and rows of cells.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(title: impl Into<String>, columns: &[&str]) -> Table {
        Table {
            title: title.into(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        debug_assert_eq!(cells.len(), self.columns.len(), "a row has a cell per column");
        self.rows.push(cells);
    }
}

/// How a chart draws its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ChartKind {
    /// Grouped bars, one group per label.
    Bars,
    /// Lines over the labels, in order.
    Lines,
}

/// One named series of values, one per label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// What to draw: a chart of `series` over `labels`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    pub kind: ChartKind,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}

impl Chart {
    pub fn new(kind: ChartKind, title: &str, x_label: &str, y_label: &str) -> Chart {
        Chart {
            kind,
            title: title.to_owned(),
            x_label: x_label.to_owned(),
            y_label: y_label.to_owned(),
            labels: Vec::new(),
            series: Vec::new(),
        }
    }

    pub fn series(&mut self, name: &str, values: Vec<f64>) {
        self.series.push(Series {
            name: name.to_owned(),
            values,
        });
    }
}

/// What every report offers its renderers.
pub trait ReportView {
    /// The report's tables, the main one first (CSV prints that one).
    fn tables(&self) -> Vec<Table>;
    fn chart(&self) -> Chart;
}
