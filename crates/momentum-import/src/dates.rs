//! Dates as CSV exports write them. `auto` reads ISO (2024-01-22, 2024-01-22T16:14:25.000+0000,
//! 2024-01-22 14:03), US M/D/YYYY or M/D/YY (optionally "08:55 PM"), D.M.YYYY, and Excel
//! serial days (45631.0, from XLSX re-saved as CSV). One file uses one style: a file mixing
//! styles, or with slash dates whose first number exceeds 12 (day-first), is refused and the
//! user names the pattern (`date = "%d/%m/%Y"`).

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Iso,
    Slash,
    Dot,
    Serial,
}

impl Style {
    fn name(self) -> &'static str {
        match self {
            Style::Iso => "ISO (2024-01-31)",
            Style::Slash => "M/D/YYYY (1/31/2024)",
            Style::Dot => "D.M.YYYY (31.1.2024)",
            Style::Serial => "spreadsheet serial days (45322)",
        }
    }
}

/// How a file's dates are read.
#[derive(Debug, Clone)]
pub enum DateRule {
    Style(Style),
    Pattern(String),
    /// The file's style could not be decided (reported once): each cell is read in its own
    /// style, a slash date day first when it cannot be month first, only to find the
    /// file's other problems.
    EachOwn,
}

/// A date read from a cell: an exact instant (it carried an offset), or a wall-clock time
/// in the org's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    At(Timestamp),
    Local(DateTime),
}

impl When {
    pub fn timestamp(self, tz: &TimeZone) -> Result<Timestamp, String> {
        match self {
            When::At(t) => Ok(t),
            When::Local(dt) => tz
                .to_ambiguous_zoned_datetime(dt)
                .compatible()
                .map(|z| z.timestamp())
                .map_err(|e| e.to_string()),
        }
    }

    pub fn date(self, tz: &TimeZone) -> Date {
        match self {
            When::At(t) => t.to_zoned_datetime(tz.clone()).date(),
            When::Local(dt) => dt.date(),
        }
    }
}

fn style_of(v: &str) -> Option<Style> {
    let b = v.as_bytes();
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    if b.len() >= 10 && digits(&b[..4]) && b[4] == b'-' && b[7] == b'-' {
        return Some(Style::Iso);
    }
    let head = v.split(' ').next().unwrap_or("");
    if head.split('/').count() == 3 && head.split('/').all(|p| digits(p.as_bytes())) {
        return Some(Style::Slash);
    }
    if head.split('.').count() == 3 && head.split('.').all(|p| digits(p.as_bytes())) {
        return Some(Style::Dot);
    }
    let whole = v.split_once('.').map_or(v, |(w, _)| w);
    if whole.len() == 5
        && digits(whole.as_bytes())
        && v[whole.len()..]
            .trim_start_matches('.')
            .bytes()
            .all(|c| c.is_ascii_digit())
    {
        return Some(Style::Serial);
    }
    None
}

/// Decides the style of a file from its date cells, or says why it cannot: `(value, rule)`.
pub fn detect<'a>(values: impl Iterator<Item = &'a str>) -> Result<Option<Style>, (String, String)> {
    let mut seen: Option<(Style, &str)> = None;
    for v in values.map(str::trim).filter(|v| !v.is_empty()) {
        let Some(style) = style_of(v) else { continue };
        match seen {
            None => seen = Some((style, v)),
            Some((s, first)) if s != style => {
                return Err((
                    v.to_owned(),
                    format!(
                        "the file mixes date styles ({} \"{first}\" and {} \"{v}\"), so `date = \"auto\"` cannot tell how to read them: set [format] date to a pattern such as \"%m/%d/%Y\"",
                        s.name(),
                        style.name()
                    ),
                ))
            }
            Some(_) => {}
        }
        if style == Style::Slash {
            let first: u32 = v.split('/').next().and_then(|p| p.parse().ok()).unwrap_or(0);
            if first > 12 {
                return Err((
                    v.to_owned(),
                    "slash dates here put the day first, while `date = \"auto\"` reads M/D/YYYY: set [format] date = \"%d/%m/%Y\"".to_owned(),
                ));
            }
        }
    }
    Ok(seen.map(|(s, _)| s))
}

fn num(s: &str) -> Option<i32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// "14:03", "14:03:09", "14:03:09.000", "08:55 PM".
fn time(s: &str) -> Option<Time> {
    let s = s.trim();
    if s.is_empty() {
        return Some(Time::midnight());
    }
    let (clock, meridiem) = match s.rsplit_once(' ') {
        Some((c, m)) if m.eq_ignore_ascii_case("AM") || m.eq_ignore_ascii_case("PM") => {
            (c, Some(m.to_ascii_uppercase()))
        }
        _ => (s, None),
    };
    let mut parts = clock.split(':');
    let mut h = num(parts.next()?)?;
    let m = num(parts.next()?)?;
    let sec = match parts.next() {
        Some(p) => num(p.split('.').next()?)?,
        None => 0,
    };
    match meridiem.as_deref() {
        Some("AM") if h == 12 => h = 0,
        Some("PM") if h < 12 => h += 12,
        _ => {}
    }
    Time::new(h as i8, m as i8, sec as i8, 0).ok()
}

fn year(y: &str) -> Option<i16> {
    let n = num(y)?;
    match y.len() {
        // Two-digit years (Excel re-saves): 70-99 are 19xx, the rest 20xx.
        2 => Some(if n >= 70 { 1900 + n } else { 2000 + n } as i16),
        4 => Some(n as i16),
        _ => None,
    }
}

fn civil(y: Option<i16>, m: Option<i32>, d: Option<i32>, t: Option<Time>) -> Option<When> {
    let date = Date::new(y?, m? as i8, d? as i8).ok()?;
    Some(When::Local(date.to_datetime(t?)))
}

fn parse_style(style: Style, v: &str) -> Option<When> {
    match style {
        Style::Iso => {
            // ISO dates are ASCII: anything else is no date (and byte slicing stays safe).
            if v.len() < 10 || !v.is_ascii() {
                return None;
            }
            if v.len() == 10 {
                return civil(year(&v[..4]), num(&v[5..7]), num(&v[8..10]), Some(Time::midnight()));
            }
            let rest = &v[10..];
            // Salesforce writes "+0000"; RFC 3339 wants "+00:00".
            let fixed;
            let v2 = if rest.len() > 5 && (rest.ends_with("+0000") || rest.ends_with("-0000")) {
                fixed = format!("{}+00:00", &v[..v.len() - 5]);
                fixed.as_str()
            } else {
                v
            };
            if let Ok(t) = v2.parse::<Timestamp>() {
                return Some(When::At(t));
            }
            let sep = rest.as_bytes()[0];
            if sep != b'T' && sep != b' ' {
                return None;
            }
            civil(year(&v[..4]), num(&v[5..7]), num(&v[8..10]), time(&rest[1..]))
        }
        Style::Slash | Style::Dot => {
            let (head, clock) = v.split_once(' ').unwrap_or((v, ""));
            let sep = if style == Style::Slash { '/' } else { '.' };
            let p: Vec<&str> = head.split(sep).collect();
            if p.len() != 3 {
                return None;
            }
            let (m, d) = if style == Style::Slash {
                (p[0], p[1])
            } else {
                (p[1], p[0])
            };
            if style == Style::Dot && p[2].len() != 4 {
                return None;
            }
            civil(year(p[2]), num(m), num(d), time(clock))
        }
        Style::Serial => {
            let days: i64 = v.split('.').next()?.parse().ok()?;
            let base = Date::new(1899, 12, 30).ok()?;
            // `try_days`: `days` panics past ±7.3M days, and a cell can hold any number.
            let date = base.checked_add(jiff::Span::new().try_days(days).ok()?).ok()?;
            Some(When::Local(date.to_datetime(Time::midnight())))
        }
    }
}

/// Reads one cell; the error is the rule the value breaks.
/// The years a CRM's dates fall in: outside them a cell is a placeholder (9999-12-31 for
/// "never") or a broken value, not a date to keep.
const YEARS: std::ops::RangeInclusive<i16> = 1900..=2199;

pub fn parse(rule: &DateRule, v: &str) -> Result<When, String> {
    let when = read(rule, v)?;
    let year = match when {
        When::At(t) => t.to_zoned_datetime(TimeZone::UTC).year(),
        When::Local(dt) => dt.year(),
    };
    match YEARS.contains(&year) {
        true => Ok(when),
        false => Err(format!("a date's year is from {} to {}", YEARS.start(), YEARS.end())),
    }
}

fn read(rule: &DateRule, v: &str) -> Result<When, String> {
    let v = v.trim();
    match rule {
        DateRule::Style(style) => parse_style(*style, v).ok_or_else(|| {
            format!(
                "a date in this file is written {}; this is not a valid one",
                style.name()
            )
        }),
        DateRule::EachOwn => match style_of(v) {
            Some(style) => read(&DateRule::Style(style), v)
                .or_else(|e| read(&DateRule::Pattern("%d/%m/%Y".into()), v).map_err(|_| e)),
            None => Err("not a date in a style `date = \"auto\"` reads: ISO (2024-01-31), M/D/YYYY or D.M.YYYY".into()),
        },
        DateRule::Pattern(p) => {
            let tm = jiff::fmt::strtime::parse(p, v).map_err(|_| format!("a date here matches the pattern \"{p}\""))?;
            if let Ok(t) = tm.to_timestamp() {
                return Ok(When::At(t));
            }
            if let Ok(dt) = tm.to_datetime() {
                return Ok(When::Local(dt));
            }
            tm.to_date()
                .map(|d| When::Local(d.to_datetime(Time::midnight())))
                .map_err(|_| format!("a date here matches the pattern \"{p}\""))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(v: &str, style: Style) -> String {
        match parse(&DateRule::Style(style), v).unwrap() {
            When::Local(dt) => dt.to_string(),
            When::At(t) => t.to_string(),
        }
    }

    #[test]
    fn reads_the_styles_vendors_write() {
        assert_eq!(
            local("2024-01-22T16:14:25.000+0000", Style::Iso),
            "2024-01-22T16:14:25Z"
        );
        assert_eq!(local("2024-01-22", Style::Iso), "2024-01-22T00:00:00");
        assert_eq!(local("2024-01-22 14:03", Style::Iso), "2024-01-22T14:03:00");
        assert_eq!(local("02/23/26 08:55 PM", Style::Slash), "2026-02-23T20:55:00");
        assert_eq!(local("2/3/2024", Style::Slash), "2024-02-03T00:00:00");
        assert_eq!(local("31.1.2024", Style::Dot), "2024-01-31T00:00:00");
        assert_eq!(local("45322.0", Style::Serial), "2024-01-31T00:00:00");
        assert!(parse(&DateRule::Style(Style::Slash), "13/45/2024").is_err());
        // Found by fuzzing: a serial past jiff's span range is a bad cell, not a panic.
        assert!(parse(&DateRule::Style(Style::Serial), "99999999999").is_err());
        assert!(parse(&DateRule::Style(Style::Serial), "-99999999999").is_err());
    }

    #[test]
    fn auto_refuses_mixed_and_day_first_files() {
        assert_eq!(
            detect(["1/2/2024", "", "12/31/2024"].into_iter()).unwrap(),
            Some(Style::Slash)
        );
        let (value, rule) = detect(["2024-01-02", "1/2/2024"].into_iter()).unwrap_err();
        assert_eq!(value, "1/2/2024");
        assert!(rule.contains("mixes date styles"), "{rule}");
        let (value, rule) = detect(["1/2/2024", "31/12/2024"].into_iter()).unwrap_err();
        assert_eq!(value, "31/12/2024");
        assert!(rule.contains("%d/%m/%Y"), "{rule}");
    }

    #[test]
    fn a_pattern_reads_what_auto_refuses() {
        let rule = DateRule::Pattern("%d/%m/%Y".into());
        assert_eq!(
            parse(&rule, "31/12/2024").unwrap(),
            When::Local("2024-12-31T00:00".parse().unwrap())
        );
        assert!(parse(&rule, "2024-12-31").is_err());
    }
}
