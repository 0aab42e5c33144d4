//! Money as people type it, and currency codes. Never a panic; an accepted amount reads
//! back as itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use momentum_core::money::{Currency, Money};

fuzz_target!(|data: &[u8]| {
    let Some(text) = momentum_fuzz::text(data) else { return };
    let _ = Currency::parse("currency", text);
    for code in ["USD", "JPY", "BHD"] {
        let currency = Currency::parse("currency", code).unwrap();
        if let Ok(m) = Money::parse("value", text, currency) {
            let again = Money::parse("value", &m.major_text(), currency);
            assert_eq!(again.ok(), Some(m), "{text:?}");
        }
    }
});
