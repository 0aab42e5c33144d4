//! The seller's private iCalendar feed, `GET /calendar/<token>.ics` (RFC 5545), and the
//! writer `momentum calendar export` shares.
//!
//! One event per open deal: its next step. The UID names the deal, so a moved step updates
//! the same event in the seller's calendar; SEQUENCE is the deal's version (it grows with
//! every change) and DTSTAMP / LAST-MODIFIED the time the step was set. Times are written in
//! the org's time zone with a VTIMEZONE built from that zone's real transitions. Buyer
//! appointments are CONFIRMED; seller follow-ups TENTATIVE. The token travels in the URL
//! (calendar apps cannot send headers), so it is long, random, stored only as a hash, and
//! revoked by making a new one.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use momentum_core::model::{Org, OrgId, User};
use momentum_core::vocab::InteractionKind;
use momentum_store::calendar::Event;

use crate::auth::{random_secret, sha256_hex};
use crate::error::{PageError, WebError};
use crate::AppState;

const TOKEN_PREFIX: &str = "cal_";

/// A new feed token for `org`: the secret for the URL (shown once) and its stored hash.
pub fn new_token(org: OrgId) -> (String, String) {
    let token = format!("{TOKEN_PREFIX}{}_{}", org.0, random_secret());
    let hash = sha256_hex(&token);
    (token, hash)
}

fn split_token(token: &str) -> Option<OrgId> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (org, secret) = rest.split_once('_')?;
    (secret.len() == 64).then_some(())?;
    Some(OrgId(org.parse().ok()?))
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/calendar/{file}", get(feed))
}

async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> Result<impl IntoResponse, PageError> {
    let token = file
        .strip_suffix(".ics")
        .ok_or(PageError(WebError::NotFound))?
        .to_owned();
    let org = split_token(&token).ok_or(PageError(WebError::NotFound))?;
    let hash = sha256_hex(&token);
    let body = crate::db::with_store(&state, move |store| {
        let session = momentum_store::calendar::feed_session(store, org, &hash)?.ok_or(WebError::NotFound)?;
        let events = momentum_store::calendar::events(store, &session)?;
        Ok(ics(&session.org, &session.user, &events))
    })
    .await
    .map_err(PageError)?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            // The URL is the secret: keep it out of shared caches.
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        body,
    ))
}

/// TEXT value escaping (RFC 5545 3.3.11).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line, folded at 75 octets (RFC 5545 3.1), ending in CRLF.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn local(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned_datetime(tz.clone()).strftime("%Y%m%dT%H%M%S").to_string()
}

fn offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    if s.is_multiple_of(60) {
        format!("{sign}{:02}{:02}", s / 3600, s / 60 % 60)
    } else {
        format!("{sign}{:02}{:02}{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}

/// A VTIMEZONE for `name` covering `from..to`: one observance per real transition in the
/// window, after the one in force at its start.
fn vtimezone(out: &mut String, name: &str, tz: &TimeZone, from: Timestamp, to: Timestamp) {
    line(out, "BEGIN:VTIMEZONE");
    line(out, &format!("TZID:{name}"));
    let first = tz.to_offset_info(from);
    let observance = |out: &mut String, dst: bool, start: String, from_s: i32, to_s: i32, abbr: &str| {
        let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
        line(out, &format!("BEGIN:{kind}"));
        line(out, &format!("DTSTART:{start}"));
        line(out, &format!("TZOFFSETFROM:{}", offset(from_s)));
        line(out, &format!("TZOFFSETTO:{}", offset(to_s)));
        if !abbr.is_empty() {
            line(out, &format!("TZNAME:{}", text(abbr)));
        }
        line(out, &format!("END:{kind}"));
    };
    let first_offset = first.offset().seconds();
    observance(
        out,
        first.dst().is_dst(),
        local(from, tz),
        first_offset,
        first_offset,
        first.abbreviation(),
    );
    let mut before = first_offset;
    for t in tz.following(from) {
        if t.timestamp() > to {
            break;
        }
        let after = t.offset().seconds();
        // Onset in the local time that was in force before it (RFC 5545 3.6.5).
        let start = t
            .timestamp()
            .to_zoned_datetime(TimeZone::fixed(
                jiff::tz::Offset::from_seconds(before).unwrap_or(jiff::tz::Offset::UTC),
            ))
            .strftime("%Y%m%dT%H%M%S")
            .to_string();
        observance(out, t.dst().is_dst(), start, before, after, t.abbreviation());
        before = after;
    }
    line(out, "END:VTIMEZONE");
}

fn minutes(kind: InteractionKind) -> i64 {
    match kind {
        InteractionKind::Meeting | InteractionKind::Visit => 60,
        InteractionKind::Call => 30,
        InteractionKind::Email | InteractionKind::Message => 15,
    }
}

/// The feed of `user`'s next steps as an iCalendar document.
pub fn ics(org: &Org, user: &User, events: &[Event]) -> String {
    let tz = TimeZone::get(&org.timezone).unwrap_or(TimeZone::UTC);
    let tzid = if org.timezone.is_empty() {
        "UTC"
    } else {
        org.timezone.as_str()
    };
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(
        &mut out,
        &format!("PRODID:-//Momentum//Momentum {}//EN", env!("CARGO_PKG_VERSION")),
    );
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(
        &mut out,
        &format!(
            "X-WR-CALNAME:{}",
            text(&format!("Momentum: {}'s next steps", user.name))
        ),
    );
    line(&mut out, &format!("X-WR-TIMEZONE:{tzid}"));
    let earliest = events.iter().map(|e| e.due).min().unwrap_or(org.created_at);
    let latest = events.iter().map(|e| e.due).max().unwrap_or(earliest);
    let year = SignedDuration::from_hours(24 * 366);
    vtimezone(
        &mut out,
        tzid,
        &tz,
        earliest.saturating_sub(year).unwrap_or(earliest),
        latest.saturating_add(year).unwrap_or(latest),
    );
    for e in events {
        let aim = org.ladder.name(e.aims_at);
        let kind = e.kind.as_str();
        let mut kind_title = kind.to_owned();
        kind_title[..1].make_ascii_uppercase();
        line(&mut out, "BEGIN:VEVENT");
        line(
            &mut out,
            &format!("UID:deal-{}-next-step@org-{}.momentum", e.deal, org.id),
        );
        line(&mut out, &format!("DTSTAMP:{}", utc(e.set_at)));
        line(&mut out, &format!("LAST-MODIFIED:{}", utc(e.set_at)));
        line(&mut out, &format!("SEQUENCE:{}", e.version));
        line(&mut out, &format!("DTSTART;TZID={tzid}:{}", local(e.due, &tz)));
        let end = e
            .due
            .saturating_add(SignedDuration::from_mins(minutes(e.kind)))
            .unwrap_or(e.due);
        line(&mut out, &format!("DTEND;TZID={tzid}:{}", local(end, &tz)));
        let summary = format!("{kind_title}: {} → {aim}", e.title);
        line(&mut out, &format!("SUMMARY:{}", text(&summary)));
        let who = if e.buyer_committed {
            "The buyer agreed to this appointment."
        } else {
            "A follow-up you scheduled; the buyer has not committed to it."
        };
        let account = e
            .account
            .as_deref()
            .map(|a| format!("Account: {a}\n"))
            .unwrap_or_default();
        line(
            &mut out,
            &format!(
                "DESCRIPTION:{}",
                text(&format!("Aim: the buyer {aim}.\n{who}\n{account}Deal {}", e.deal))
            ),
        );
        line(
            &mut out,
            &format!("STATUS:{}", if e.buyer_committed { "CONFIRMED" } else { "TENTATIVE" }),
        );
        line(
            &mut out,
            &format!(
                "CATEGORIES:{}",
                if e.buyer_committed { "Appointment" } else { "Follow-up" }
            ),
        );
        line(&mut out, "TRANSP:OPAQUE");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        line(&mut out, &format!("SUMMARY:{}", "é".repeat(60)));
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded.trim_end(), format!("SUMMARY:{}", "é".repeat(60)));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }
}
