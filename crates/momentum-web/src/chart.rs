//! Report charts as inline SVG, drawn on the server with plotters from the core's chart
//! description. Plain SVG (presentation attributes, text escaped by plotters), so pages
//! stay script-free and pass the Content-Security-Policy.

use momentum_core::reports::{Chart, ChartKind};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const WIDTH: u32 = 760;
const HEIGHT: u32 = 340;
/// More bar groups or lines than this would be unreadable: the first ones are drawn.
const MAX_GROUPS: usize = 24;
const MAX_LINES: usize = 10;
const COLOURS: [RGBColor; 8] = [
    RGBColor(0x1f, 0x6f, 0xb4),
    RGBColor(0xe4, 0x6c, 0x0a),
    RGBColor(0x2c, 0x9a, 0x48),
    RGBColor(0xc4, 0x2b, 0x2b),
    RGBColor(0x7b, 0x52, 0xae),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xd6, 0x4f, 0xa8),
    RGBColor(0x5f, 0x5f, 0x5f),
];

/// The chart as an SVG document, or a note when there is nothing to draw.
pub fn svg(chart: &Chart) -> Option<String> {
    let values = chart.series.iter().flat_map(|s| s.values.iter().copied());
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if chart.labels.is_empty() || chart.series.is_empty() || (lo == 0.0 && hi == 0.0) {
        return None;
    }
    let pad = (hi - lo) * 0.08;
    let (lo, hi) = (if lo < 0.0 { lo - pad } else { 0.0 }, hi + pad);
    let mut out = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        match chart.kind {
            ChartKind::Bars => bars(&root, chart, lo, hi),
            ChartKind::Lines => lines(&root, chart, lo, hi),
        }
    };
    match drawn {
        Ok(()) => Some(out),
        Err(e) => {
            tracing::warn!(chart = %chart.title, error = %e, "a report chart could not be drawn");
            None
        }
    }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type Drawn = Result<(), Box<dyn std::error::Error>>;

fn short(label: &str) -> String {
    let mut s: String = label.chars().take(14).collect();
    if label.chars().count() > 14 {
        s.push('…');
    }
    s
}

fn number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 10.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn bars(root: &Area<'_>, chart: &Chart, lo: f64, hi: f64) -> Drawn {
    root.fill(&WHITE)?;
    let groups = chart.labels.len().min(MAX_GROUPS);
    let mut c = ChartBuilder::on(root)
        .caption(&chart.title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(34)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..groups as f64, lo..hi)?;
    c.configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(chart.y_label.as_str())
        .y_label_formatter(&|v| number(*v))
        .draw()?;
    let n = chart.series.len() as f64;
    let width = 0.8 / n;
    for (k, series) in chart.series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        c.draw_series(series.values.iter().take(groups).enumerate().map(|(g, v)| {
            let x0 = g as f64 + 0.1 + width * k as f64;
            Rectangle::new([(x0, 0.0), (x0 + width * 0.92, *v)], colour.filled())
        }))?
        .label(series.name.as_str())
        .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 10, y + 4)], colour.filled()));
    }
    let style = TextStyle::from(("sans-serif", 11).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    c.draw_series(
        chart
            .labels
            .iter()
            .take(groups)
            .enumerate()
            .map(|(g, l)| Text::new(short(l), (g as f64 + 0.5, lo), style.clone())),
    )?;
    legend(&mut c, chart.series.len())?;
    root.present()?;
    Ok(())
}

fn lines(root: &Area<'_>, chart: &Chart, lo: f64, hi: f64) -> Drawn {
    root.fill(&WHITE)?;
    let n = chart.labels.len();
    let mut c = ChartBuilder::on(root)
        .caption(&chart.title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..(n.max(2) - 1) as f64, lo..hi)?;
    let labels = &chart.labels;
    c.configure_mesh()
        .x_labels(n.min(16))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .y_label_formatter(&|v| number(*v))
        .draw()?;
    for (k, series) in chart.series.iter().take(MAX_LINES).enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        c.draw_series(LineSeries::new(
            series.values.iter().enumerate().map(|(i, v)| (i as f64, *v)),
            colour.stroke_width(2),
        ))?
        .label(series.name.as_str())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(2)));
    }
    legend(&mut c, chart.series.len().min(MAX_LINES))?;
    root.present()?;
    Ok(())
}

type Plot<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn legend<'a>(c: &mut Plot<'a, 'a>, series: usize) -> Drawn {
    if series > 1 {
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 11))
            .draw()?;
    }
    Ok(())
}
