//! `momentum.toml` and `MOMENTUM_*` variables. Never a panic; what loads keeps the
//! database URL's password out of Debug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = momentum_fuzz::text(data) else { return };
    if let Ok(c) = momentum_web::Config::from_toml(text) {
        // What Debug shows of the database URL: the password may well equal another
        // setting (the bind port, say), which Debug shows as it is.
        let shown = momentum_web::config::redact(&c.db);
        assert!(
            format!("{c:?}").contains(&format!("{shown:?}")),
            "{c:?} does not show the redacted URL"
        );
        if let Some((_, rest)) = c.db.split_once("://") {
            if let Some((userinfo, _)) = rest.rsplit_once('@') {
                if let Some((_, password)) = userinfo.split_once(':') {
                    if password.len() > 3 {
                        assert!(!shown.contains(password), "{shown}");
                    }
                }
            }
        }
    }
    // The same text as environment variables, one per line.
    let env = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (format!("MOMENTUM_{k}"), v.to_owned()));
    let _ = momentum_web::Config::load(std::path::Path::new("/nonexistent/momentum.toml"), env);
    let _ = momentum_web::config::redact(text);
});
