//! What a client presents: Bearer tokens and session cookies. Never a panic; a token is
//! accepted only in the shape `mtm_{org}_{secret}`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = momentum_fuzz::text(data) else { return };
    if let Some((org, token)) = momentum_web::auth::split_token(text) {
        assert_eq!(token, text);
        let digits = text
            .strip_prefix("mtm_")
            .and_then(|r| r.split_once('_'))
            .map(|(d, _)| d);
        assert_eq!(digits.and_then(|d| d.parse::<i64>().ok()), Some(org.0), "{text:?}");
    }
    let _ = momentum_web::auth::split_session_cookie(text);
    let _ = momentum_web::auth::same_secret(text, "0123456789abcdef");
});
