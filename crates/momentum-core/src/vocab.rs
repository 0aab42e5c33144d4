//! The method's vocabulary as closed sets: roles, statuses, interaction kinds, results,
//! commitments, need kinds, lost-reason categories. Each has one spelling, used in the
//! database, the CLI, the API and the UI alike.

/// Declares a closed vocabulary: its words, their one spelling, and a parser whose error
/// lists the accepted words.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the word for `field`, case-insensitively.
            pub fn parse(field: &str, text: &str) -> $crate::error::Result<$name> {
                let t = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
                match t.as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::error::DomainError::invalid(
                        field,
                        text,
                        format!("must be one of: {}", [$($text),+].join(", ")),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary!(
    /// What a user may do: a seller their own deals, a manager their team's, an admin the org's.
    Role { Seller = "seller", Manager = "manager", Admin = "admin" }
);

vocabulary!(
    /// Where a deal stands. It leaves `open` only three ways (invariant 3).
    DealStatus { Open = "open", Won = "won", Lost = "lost", Disqualified = "disqualified" }
);

vocabulary!(
    /// How the seller reached the buyer.
    InteractionKind { Call = "call", Email = "email", Meeting = "meeting", Message = "message", Visit = "visit" }
);

vocabulary!(
    /// The three possible results of an interaction (decision increments).
    Outcome { Advanced = "advanced", Stayed = "stayed", Back = "back" }
);

vocabulary!(
    /// The buyer's commitment at the end of an interaction (sell it or schedule it).
    Commitment { Sold = "sold", Scheduled = "scheduled", DefinitiveNo = "definitive_no", None = "none" }
);

vocabulary!(
    /// The shape of the buyer's compelling need.
    NeedKind { Opportunity = "opportunity", Problem = "problem", Threat = "threat" }
);

vocabulary!(
    /// Why a buyer said a definitive no.
    LostCategory {
        Price = "price",
        Competitor = "competitor",
        NoBudget = "no_budget",
        NoNeed = "no_need",
        StatusQuo = "status_quo",
        Timing = "timing",
        Other = "other",
        /// Imported history whose source did not say why.
        NotRecorded = "not_recorded"
    }
);

vocabulary!(
    /// Which way a buyer decision moved the deal on the ladder.
    Direction { Advance = "advance", Back = "back" }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_forgiving_about_case_and_separators() {
        assert_eq!(
            Commitment::parse("commitment", "Definitive-No").unwrap(),
            Commitment::DefinitiveNo
        );
        assert_eq!(Role::parse("role", " ADMIN ").unwrap(), Role::Admin);
    }

    #[test]
    fn parse_error_lists_the_words() {
        let e = Outcome::parse("result", "won").unwrap_err();
        assert_eq!(
            e.to_string(),
            "result is \"won\": must be one of: advanced, stayed, back"
        );
    }
}
