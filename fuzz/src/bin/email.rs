//! E-mail addresses (sign-in, users, contacts). Never a panic; parsing is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use momentum_core::model::Email;

fuzz_target!(|data: &[u8]| {
    let Some(text) = momentum_fuzz::text(data) else { return };
    if let Ok(e) = Email::parse("email", text) {
        assert_eq!(Email::parse("email", e.as_str()).ok(), Some(e));
    }
    let _ = momentum_core::commands::search_query(text);
});
