//! Password hashing: argon2id with the argon2 crate's defaults (19 MiB, 2 passes, 1 lane,
//! the OWASP minimum), a random salt per hash, PHC strings in the database.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::LazyLock;
use tokio::sync::Semaphore;

/// Shortest and longest password anyone may set, in characters (pages and API alike).
pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 1_000;

/// The one password rule: 12 to 1000 characters. The error never carries the password.
pub fn check(password: &str) -> Result<(), momentum_core::DomainError> {
    if (MIN_LEN..=MAX_LEN).contains(&password.chars().count()) {
        Ok(())
    } else {
        Err(momentum_core::DomainError::invalid(
            "password",
            "(hidden)",
            format!("an initial password has {MIN_LEN} to {MAX_LEN} characters"),
        ))
    }
}

pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))
}

pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// [`verify`] on a blocking thread, at most one per core at a time: each verification holds
/// 19 MiB and a core for tens of milliseconds, so a burst of sign-ins (or someone trying
/// passwords) waits its turn here instead of multiplying the server's memory and starving
/// every other request of CPU.
pub async fn verify_in_turn(password: String, phc: String) -> Result<bool, crate::error::WebError> {
    static TURNS: LazyLock<Semaphore> =
        LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from)));
    let _turn = TURNS
        .acquire()
        .await
        .map_err(|e| crate::error::WebError::Internal(format!("password verification queue closed: {e}")))?;
    tokio::task::spawn_blocking(move || verify(&password, &phc))
        .await
        .map_err(|e| crate::error::WebError::Internal(format!("password verification panicked: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_rule_is_12_to_1000_characters_and_never_echoes_the_password() {
        assert!(super::check(&"x".repeat(12)).is_ok());
        assert!(super::check(&"é".repeat(1000)).is_ok());
        for bad in ["", "elevenchars", &"x".repeat(1001)] {
            let e = super::check(bad).unwrap_err();
            let momentum_core::DomainError::Invalid { field, value, rule } = &e else {
                panic!("{e:?}")
            };
            assert_eq!((field.as_str(), value.as_str()), ("password", "(hidden)"));
            assert!(rule.contains("12 to 1000 characters"), "{rule}");
            if !bad.is_empty() {
                assert!(!e.to_string().contains(bad), "{e}");
            }
        }
    }

    #[test]
    fn a_hash_verifies_only_its_password() {
        let h = super::hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("correct horse", &h));
        assert!(!super::verify("wrong horse", &h));
    }
}
