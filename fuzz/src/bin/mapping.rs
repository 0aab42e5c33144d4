//! The TOML import mapping as people write it. Never a panic: a mapping is accepted or
//! refused with a message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use momentum_import::Mapping;

fuzz_target!(|data: &[u8]| {
    let Some(text) = momentum_fuzz::text(data) else { return };
    let _ = Mapping::parse(text);
});
