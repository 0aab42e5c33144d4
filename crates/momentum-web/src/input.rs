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
        let (n, per_unit) = if let Some(n) = rel.strip_suffix('d') {
            (n, 24)
        } else if let Some(n) = rel.strip_suffix('h') {
            (n, 1)
        } else {
            return Err(bad());
        };
        let n: i64 = n.parse().map_err(|_| bad())?;
        let hours = n
            .checked_mul(per_unit)
            .filter(|h| (0..=24 * 3660).contains(h))
            .ok_or_else(bad)?;
        return now.at.checked_add(SignedDuration::from_hours(hours)).map_err(|_| bad());
    }
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(ts);
    }
    let tz = TimeZone::get(&org.timezone).unwrap_or(TimeZone::UTC);
    // A bare date means 09:00 that day. (jiff reads "2026-12-01T14:30" as a date too,
    // dropping the time, so only exactly YYYY-MM-DD counts as one.)
    let civil = if t.len() == 10 {
        t.parse::<Date>().map_err(|_| bad())?.at(9, 0, 0, 0)
    } else {
        t.replace(' ', "T").parse::<DateTime>().map_err(|_| bad())?
    };
    civil.to_zoned_datetime(tz).map(|z| z.timestamp()).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(tz: &str) -> Org {
        momentum_core::commands::create_org(
            momentum_core::model::OrgId(1),
            momentum_core::commands::NewOrg {
                name: "Acme",
                currency: momentum_core::money::Currency::USD,
                timezone: tz,
            },
            Timestamp::UNIX_EPOCH,
        )
        .unwrap()
    }

    #[test]
    fn times_keep_their_hour_in_the_org_zone() {
        let now = Now {
            at: "2026-11-24T12:00:00Z".parse().unwrap(),
            today: "2026-11-24".parse().unwrap(),
        };
        let berlin = org("Europe/Berlin");
        let at = |t: &str| when("next_at", t, &berlin, now).unwrap().to_string();
        assert_eq!(at("2026-11-27T21:10"), "2026-11-27T20:10:00Z");
        assert_eq!(at("2026-11-27 21:10"), "2026-11-27T20:10:00Z");
        assert_eq!(at("2026-11-27"), "2026-11-27T08:00:00Z");
        assert_eq!(at("+2d"), "2026-11-26T12:00:00Z");
        assert_eq!(at("2026-11-27T10:00:00Z"), "2026-11-27T10:00:00Z");
        for bad in ["next tuesday", "+1é", "+€", "+", "+d", "+-3d", "+99999999999d"] {
            let err = when("next_at", bad, &berlin, now).unwrap_err();
            assert_eq!(err.field(), Some("next_at"), "{bad}");
        }
    }
}
