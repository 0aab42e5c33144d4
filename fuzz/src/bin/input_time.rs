//! The pages' date and time fields: `input::date` and `input::when` ("+3d", "2026-12-01",
//! "2026-12-01 14:30", RFC 3339). Never a panic; an accepted time is a real instant, and a
//! refusal names the field.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = momentum_fuzz::text(data) else { return };
    for zone in ["Europe/Berlin", "UTC", "America/St_Johns"] {
        let org = momentum_fuzz::org(zone);
        match momentum_web::input::when("next_at", text, &org, momentum_fuzz::now()) {
            Ok(at) => assert!(at.as_second() > i64::MIN),
            Err(e) => assert_eq!(e.field(), Some("next_at")),
        }
    }
    if let Err(e) = momentum_web::input::date("matters_by", text) {
        assert_eq!(e.field(), Some("matters_by"));
    }
});
