//! The one error type of the domain core.
//!
//! Policy: every rule the core enforces fails with a [`DomainError`]. `Invalid` names the
//! field, the offending value and the rule, in words a seller understands; callers show it
//! as-is (CLI: stderr and exit 2; HTTP: 422 problem+json). `Forbidden`, `NotFound` and
//! `Conflict` map to 403, 404 and 409. Storage and transport failures are not domain errors:
//! they live in the storage crate's error type, which wraps this one.

use std::fmt;

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// Input broke a rule: `field` had `value`, which breaks `rule`.
    #[error("{field} is {}: {rule}", display_value(.value))]
    Invalid { field: String, value: String, rule: String },
    /// The acting user may not do this.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The thing named does not exist in this org (or is not visible to the actor).
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// The write was based on a version of the deal that is no longer current.
    #[error("deal {deal} changed since version {expected} (now version {actual}): reload it and try again")]
    Conflict { deal: i64, expected: i64, actual: i64 },
}

fn display_value(value: &str) -> String {
    if value.is_empty() {
        "missing".to_owned()
    } else {
        format!("{value:?}")
    }
}

/// The longest part of a refused value an error shows, in characters.
pub const SHOWN_VALUE_MAX: usize = 100;

impl DomainError {
    /// Input `value` in `field` breaks `rule`. A long value is shown cut to its first
    /// [`SHOWN_VALUE_MAX`] characters: an error echoes it (in the message, the API's
    /// problem, a form), and a 20,000-character value must not come back three times.
    pub fn invalid(field: impl Into<String>, value: impl fmt::Display, rule: impl Into<String>) -> Self {
        let mut value = value.to_string();
        if let Some((cut, _)) = value.char_indices().nth(SHOWN_VALUE_MAX) {
            value.truncate(cut);
            value.push('…');
        }
        DomainError::Invalid {
            field: field.into(),
            value,
            rule: rule.into(),
        }
    }

    /// `field` was required but left empty.
    pub fn missing(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self::invalid(field, "", rule)
    }

    pub fn not_found(what: &'static str, id: impl fmt::Display) -> Self {
        DomainError::NotFound {
            what,
            id: id.to_string(),
        }
    }

    /// The field an `Invalid` error is about, for per-field messages in forms.
    pub fn field(&self) -> Option<&str> {
        match self {
            DomainError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_field_value_and_rule() {
        let e = DomainError::invalid("next_step.due", "2026-10-01", "a next step must be in the future");
        assert_eq!(
            e.to_string(),
            "next_step.due is \"2026-10-01\": a next step must be in the future"
        );
        let e = DomainError::missing("buyer_words", "a definitive no needs the buyer's own words");
        assert_eq!(
            e.to_string(),
            "buyer_words is missing: a definitive no needs the buyer's own words"
        );
    }

    #[test]
    fn a_long_value_is_shown_cut_short() {
        let long = "é".repeat(20_000);
        let DomainError::Invalid { value, .. } = DomainError::invalid("email", &long, "an e-mail address") else {
            panic!()
        };
        assert_eq!(value.chars().count(), SHOWN_VALUE_MAX + 1);
        assert!(value.ends_with('…'));
        let DomainError::Invalid { value, .. } = DomainError::invalid("email", "short", "r") else {
            panic!()
        };
        assert_eq!(value, "short");
    }
}
