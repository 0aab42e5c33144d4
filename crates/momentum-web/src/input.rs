//! Turning what a person types into domain values, with errors that name the field.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use momentum_core::model::{Now, Org};
use momentum_core::DomainError;

/// A calendar date, "2026-12-01".
pub fn date(field: &str, text: &str) -> Result<Date, DomainError> {
    text.trim()
        .parse()
        .map_err(|_| DomainError::invalid(field, text, "a date is written YYYY-MM-DD"))
}

/// An instant, as a person writes it: "+3d" / "+2h" from now, "2026-12-01" (09:00 in the
/// org's time zone), "2026-12-01 14:30" (org time), or RFC 3339 with an offset.
pub fn when(field: &str, text: &str, org: &Org, now: Now) -> Result<Timestamp, DomainError> {
    let t = text.trim();
    let bad = || {
        DomainError::invalid(
            field,
            text,
            "a time is +3d or +2h from now, YYYY-MM-DD, YYYY-MM-DD HH:MM (org time) or RFC 3339",
        )
    };
    if let Some(rel) = t.strip_prefix('+') {
        let (n, unit) = rel.split_at(rel.len().saturating_sub(1));
        let n: i64 = n.parse().map_err(|_| bad())?;
        let hours = match unit {
            "d" => n.checked_mul(24),
            "h" => Some(n),
            _ => None,
        }
        .filter(|h| (0..=24 * 3660).contains(h))
        .ok_or_else(bad)?;
        return now.at.checked_add(SignedDuration::from_hours(hours)).map_err(|_| bad());
    }
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(ts);
    }
    let tz = TimeZone::get(&org.timezone).unwrap_or(TimeZone::UTC);
    let civil = if let Ok(d) = t.parse::<Date>() {
        d.at(9, 0, 0, 0)
    } else {
        t.replace(' ', "T").parse::<DateTime>().map_err(|_| bad())?
    };
    civil.to_zoned_datetime(tz).map(|z| z.timestamp()).map_err(|_| bad())
}
