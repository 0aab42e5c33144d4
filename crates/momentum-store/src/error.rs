//! Storage errors. Policy: a rule broken by the caller is a [`StoreError::Domain`] (shown
//! to the user as-is); everything else is a failure of the database or of the data in it,
//! reported without internals leaking into the domain.

use momentum_core::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("database error: {0}")]
    Database(String),
    /// The stored data breaks an assumption (a bug or hand-edited data).
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        // The Display of a server error is terse ("db error"); its details say what failed.
        match e.as_db_error() {
            Some(db) => StoreError::Database(format!("{}: {}", db.code().code(), db.message())),
            None => StoreError::Database(e.to_string()),
        }
    }
}
