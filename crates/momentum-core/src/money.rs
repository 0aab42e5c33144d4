//! Money: integer minor units with an ISO 4217 currency. Never a float (invariant 6).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};

/// An ISO 4217 currency code, known to the ISO table (so its minor-unit exponent is known).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub const USD: Currency = Currency(iso_currency::Currency::USD);
    pub const EUR: Currency = Currency(iso_currency::Currency::EUR);

    pub fn parse(field: &str, code: &str) -> Result<Currency> {
        let upper = code.trim().to_ascii_uppercase();
        iso_currency::Currency::from_code(&upper)
            .map(Currency)
            .ok_or_else(|| DomainError::invalid(field, code, "a currency is an ISO 4217 code such as USD or EUR"))
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// The sign written before an amount ("$", "€", "£").
    pub fn symbol(self) -> String {
        self.0.symbol().symbol
    }

    /// Digits after the decimal point (2 for USD, 0 for JPY).
    pub fn exponent(self) -> u32 {
        self.0.exponent().map(u32::from).unwrap_or(0)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self> {
        Currency::parse("currency", s)
    }
}

impl TryFrom<String> for Currency {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_owned()
    }
}

/// An amount of money in integer minor units (cents for USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// The largest amount a deal's value or a goal may hold, in minor units (10^13: one
    /// hundred billion in a two-decimal currency). Reports sum a million such values in
    /// 64-bit integers; the cap keeps every sum far from overflowing.
    pub const MAX_MINOR: i64 = 10_000_000_000_000;

    /// The rule the cap states, for messages.
    pub fn max_rule(what: &str) -> String {
        format!("{what} is between 0 and {} in minor units", Self::MAX_MINOR)
    }

    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Parses a decimal amount written by a person ("12,500.50", "1200", "99.9") into
    /// minor units, refusing more decimals than the currency has and negative amounts.
    pub fn parse(field: &str, text: &str, currency: Currency) -> Result<Money> {
        let rule = || {
            // The examples in the currency's own decimals: "12500" for yen, "12500.500" for dinars.
            let decimals = currency.exponent() as usize;
            let (example, grouped) = match decimals {
                0 => ("12500".to_owned(), "12,500".to_owned()),
                n => (format!("12500.{:0<n$}", "5"), format!("12,500.{:0<n$}", "5")),
            };
            let most = match decimals {
                0 => "no decimals".to_owned(),
                1 => "at most 1 decimal".to_owned(),
                n => format!("at most {n} decimals"),
            };
            format!(
                "an amount is a non-negative number with {most}, e.g. {example}; \
                 a comma only groups thousands ({grouped}), never marks decimals"
            )
        };
        let trimmed = text.trim();
        let (grouped, frac) = trimmed.split_once('.').unwrap_or((trimmed, ""));
        // "12,50" is twelve and a half to half the world: a comma counts only where it groups
        // the whole part in threes, so it never silently multiplies an amount by a hundred.
        let mut groups = grouped.split([',', '_']);
        let first = groups.next().unwrap_or("");
        let grouped_in_threes = groups.all(|g| g.len() == 3) && (1..=3).contains(&first.len());
        if grouped.contains([',', '_']) && !grouped_in_threes {
            return Err(DomainError::invalid(field, text, rule()));
        }
        let whole: String = grouped.chars().filter(|c| *c != ',' && *c != '_').collect();
        let exp = currency.exponent() as usize;
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !digits(&whole) || !digits(frac) || frac.len() > exp {
            return Err(DomainError::invalid(field, text, rule()));
        }
        let scale = 10i64.pow(exp as u32);
        let frac_minor = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<exp$}")
                .parse::<i64>()
                .map_err(|_| DomainError::invalid(field, text, rule()))?
        };
        whole
            .parse::<i64>()
            .ok()
            .and_then(|w| w.checked_mul(scale))
            .and_then(|w| w.checked_add(frac_minor))
            .map(|minor| Money { minor, currency })
            .ok_or_else(|| DomainError::invalid(field, text, "the amount is too large"))
    }

    /// The amount in major units as text, exact ("12500.50").
    pub fn major_text(self) -> String {
        let exp = self.currency.exponent();
        if exp == 0 {
            return self.minor.to_string();
        }
        let scale = 10i64.pow(exp);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            abs / scale as u64,
            abs % scale as u64,
            width = exp as usize
        )
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.major_text(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_amounts_exactly() {
        let usd = Currency::USD;
        assert_eq!(Money::parse("value", "12,500.5", usd).unwrap().minor, 1_250_050);
        assert_eq!(Money::parse("value", "1,234,567", usd).unwrap().minor, 123_456_700);
        assert_eq!(Money::parse("value", "1_000", usd).unwrap().minor, 100_000);
        assert_eq!(Money::parse("value", "99", usd).unwrap().minor, 9_900);
        assert_eq!(Money::parse("value", "0.07", usd).unwrap().minor, 7);
        let jpy = Currency::parse("currency", "jpy").unwrap();
        assert_eq!(Money::parse("value", "1500", jpy).unwrap().minor, 1_500);
        let rule = Money::parse("value", "1500.5", jpy).unwrap_err().to_string();
        assert!(
            rule.contains("with no decimals, e.g. 12500; a comma only groups thousands (12,500)"),
            "{rule}"
        );
        let kwd = Currency::parse("currency", "KWD").unwrap();
        assert_eq!(Money::parse("value", "1.234", kwd).unwrap().minor, 1_234);
        let rule = Money::parse("value", "1.2345", kwd).unwrap_err().to_string();
        assert!(rule.contains("at most 3 decimals, e.g. 12500.500"), "{rule}");
    }

    #[test]
    fn refuses_what_is_not_money() {
        for bad in [
            "",
            "-5",
            "1.234",
            "abc",
            "1e6",
            "99999999999999999999",
            "12,50",
            "1,2345",
            ",500",
            "1,000,00",
            "1.000,50",
            "12.5,0",
        ] {
            let err = Money::parse("value", bad, Currency::USD).unwrap_err();
            assert_eq!(err.field(), Some("value"), "{bad}");
        }
        assert!(Currency::parse("currency", "XYZ").is_err());
    }

    #[test]
    fn prints_major_units() {
        assert_eq!(Money::new(1_250_050, Currency::USD).to_string(), "12500.50 USD");
        assert_eq!(Money::new(5, Currency::EUR).major_text(), "0.05");
    }
}
