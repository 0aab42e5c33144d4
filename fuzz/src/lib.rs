//! Shared by the fuzz targets: a fixed org and clock, so a crash replays exactly.

use momentum_core::model::{Now, Org, OrgId};

/// An org in a zone with a daylight-saving change, created at the epoch.
pub fn org(zone: &str) -> Org {
    momentum_core::commands::create_org(
        OrgId(1),
        momentum_core::commands::NewOrg {
            name: "Fuzz",
            currency: momentum_core::money::Currency::EUR,
            timezone: zone,
        },
        jiff::Timestamp::UNIX_EPOCH,
    )
    .expect("a valid org")
}

pub fn now() -> Now {
    Now {
        at: "2026-11-24T12:00:00Z".parse().unwrap(),
        today: "2026-11-24".parse().unwrap(),
    }
}

/// The input as text, when it is UTF-8 (what the HTTP layer hands the parsers).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}
