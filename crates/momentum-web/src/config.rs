//! Server configuration: defaults, then `momentum.toml`, then `MOMENTUM_*` environment
//! variables, then command-line flags (applied by the caller). Secrets (the database URL
//! may hold a password) never appear in `Debug` output or logs.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

/// How the server runs.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// A SQLite file path or a postgres:// URL.
    pub db: String,
    pub bind: SocketAddr,
    /// Set when served behind HTTPS: session cookies get the `Secure` flag.
    pub secure_cookies: bool,
    /// Database connections per server.
    pub pool_size: u32,
    /// SQLite: the page cache of each connection, in MiB. The OS caches the file anyway;
    /// this is what each of the `pool_size` connections (and the shared writer) keeps on
    /// top, so the server's memory is about `(pool_size + 1) × sqlite_cache_mb` plus ~40 MB.
    pub sqlite_cache_mb: u32,
    /// Sign-in attempts allowed per account and per address in `sign_in_window_minutes`.
    pub sign_in_attempts: u32,
    pub sign_in_window_minutes: u32,
    pub session_days: u32,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// "No buyer decision in N days" on the pipeline.
    pub stale_days: u32,
    /// Log as JSON lines (for log shippers) instead of text.
    pub log_json: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            db: "./momentum.db".into(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            secure_cookies: false,
            pool_size: 8,
            sqlite_cache_mb: 8,
            sign_in_attempts: 5,
            sign_in_window_minutes: 15,
            session_days: 14,
            max_body_bytes: 256 * 1024,
            stale_days: momentum_core::cholesterol::DEFAULT_STALE_DAYS,
            log_json: false,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("db", &redact(&self.db))
            .field("bind", &self.bind)
            .field("secure_cookies", &self.secure_cookies)
            .field("pool_size", &self.pool_size)
            .field("sqlite_cache_mb", &self.sqlite_cache_mb)
            .field("sign_in_attempts", &self.sign_in_attempts)
            .field("session_days", &self.session_days)
            .finish_non_exhaustive()
    }
}

/// A database location fit for logs: no user info, query or password, even when the URL
/// is mistyped (anything before the last `@` may be credentials, with or without a
/// well-formed `scheme://`); a `key=value` string naming a password is hidden whole.
pub fn redact(location: &str) -> String {
    if location.to_ascii_lowercase().contains("password") {
        return "(a connection string, hidden: it names a password)".to_owned();
    }
    let is_scheme = |s: &&str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    };
    match location.rsplit_once('@') {
        Some((before, host)) => {
            let host = host.split_once('?').map_or(host, |(h, _)| h);
            let shown = match before.split_once("://").map(|(s, _)| s).filter(is_scheme) {
                Some(scheme) => format!("{scheme}://…@{host}"),
                None => format!("…@{host}"),
            };
            // What follows '@' is shown; if it repeats the password, show nothing.
            let password = before
                .split_once("://")
                .map_or(before, |(_, userinfo)| userinfo)
                .split_once(':')
                .map(|(_, p)| p);
            match password {
                Some(p) if !p.is_empty() && shown.contains(p) => "(a connection string, hidden)".to_owned(),
                _ => shown,
            }
        }
        None => match location.split_once("://") {
            Some((scheme, rest)) => format!("{scheme}://{}", rest.split_once('?').map_or(rest, |(h, _)| h)),
            None => location.to_owned(),
        },
    }
}

impl Config {
    /// The settings of a `momentum.toml`, over the defaults; unknown keys are errors.
    pub fn from_toml(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
    }

    /// Defaults, overlaid with `file` (if it exists) and the `MOMENTUM_*` environment.
    /// Unknown keys and unknown `MOMENTUM_*` variables are errors, not silent typos.
    pub fn load(file: &Path, env: impl Iterator<Item = (String, String)>) -> anyhow::Result<Config> {
        let mut config = if file.exists() {
            let text = std::fs::read_to_string(file)?;
            Config::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
        } else {
            Config::default()
        };
        for (key, value) in env {
            let Some(name) = key.strip_prefix("MOMENTUM_") else {
                continue;
            };
            let bad = |rule: &str| anyhow::anyhow!("{key}: {rule}");
            match name {
                "DB" => config.db = value,
                "BIND" => config.bind = value.parse().map_err(|_| bad("an address such as 127.0.0.1:8080"))?,
                "SECURE_COOKIES" => config.secure_cookies = parse_bool(&value).ok_or_else(|| bad("true or false"))?,
                "POOL_SIZE" => config.pool_size = value.parse().map_err(|_| bad("a number"))?,
                "SQLITE_CACHE_MB" => config.sqlite_cache_mb = value.parse().map_err(|_| bad("a number of MiB"))?,
                "SIGN_IN_ATTEMPTS" => config.sign_in_attempts = value.parse().map_err(|_| bad("a number"))?,
                "SIGN_IN_WINDOW_MINUTES" => {
                    config.sign_in_window_minutes = value.parse().map_err(|_| bad("a number"))?
                }
                "SESSION_DAYS" => config.session_days = value.parse().map_err(|_| bad("a number"))?,
                "MAX_BODY_BYTES" => config.max_body_bytes = value.parse().map_err(|_| bad("a number"))?,
                "STALE_DAYS" => config.stale_days = value.parse().map_err(|_| bad("a number"))?,
                "LOG_JSON" => config.log_json = parse_bool(&value).ok_or_else(|| bad("true or false"))?,
                // Read by the CLI and the tests, not the server.
                "AS" | "ORG" | "TEST_PG" | "LOG" => {}
                _ => return Err(bad("unknown setting (see momentum.toml keys in the README)")),
            }
        }
        if !(1..=3650).contains(&config.stale_days) {
            anyhow::bail!("stale_days is {}: a number of days from 1 to 3650", config.stale_days);
        }
        Ok(config)
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order_and_secrets_stay_hidden() {
        let dir = std::env::temp_dir().join(format!("momentum-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("momentum.toml");
        std::fs::write(&file, "bind = \"0.0.0.0:9000\"\npool_size = 3\n").unwrap();
        let env = [("MOMENTUM_DB".to_owned(), "postgres://app:s3cret@db:5432/crm".to_owned())];
        let c = Config::load(&file, env.into_iter()).unwrap();
        assert_eq!((c.bind.port(), c.pool_size), (9000, 3));
        assert_eq!(c.db, "postgres://app:s3cret@db:5432/crm");
        assert!(!format!("{c:?}").contains("s3cret"));
        // Mistyped URLs keep their secrets out of logs too (found by fuzz/src/bin/config.rs).
        for typo in [
            "postgres//app:s3cret@db:5432/crm",
            "x//:up:s3cret@db/crm y://app:s3cret@db/crm",
            "postgres://db/crm?password=s3cret",
            "host=db user=app password=s3cret",
        ] {
            assert!(!redact(typo).contains("s3cret"), "{typo}: {}", redact(typo));
        }
        assert_eq!(redact("postgres://app:s3cret@db:5432/crm"), "postgres://…@db:5432/crm");
        assert_eq!(redact("./momentum.db"), "./momentum.db");
        // Every key of the file can also come from the environment.
        let env = [
            "SECURE_COOKIES=true",
            "SIGN_IN_ATTEMPTS=3",
            "SIGN_IN_WINDOW_MINUTES=5",
            "SESSION_DAYS=2",
            "MAX_BODY_BYTES=1000",
            "STALE_DAYS=9",
            "LOG_JSON=1",
            "BIND=127.0.0.1:1",
        ]
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (format!("MOMENTUM_{k}"), v.to_owned()))
                .unwrap()
        });
        let c = Config::load(&file, env.into_iter()).unwrap();
        assert_eq!(
            (c.sign_in_attempts, c.sign_in_window_minutes, c.session_days),
            (3, 5, 2)
        );
        assert_eq!(
            (c.max_body_bytes, c.stale_days, c.log_json, c.secure_cookies),
            (1000, 9, true, true)
        );
        let typo = [("MOMENTUM_BIDN".to_owned(), "x".to_owned())];
        assert!(Config::load(&file, typo.into_iter()).is_err());
        std::fs::write(&file, "bnid = 1\n").unwrap();
        assert!(Config::load(&file, std::iter::empty()).is_err());
    }
}
