//! Storage errors shared by every adapter.

use std::error::Error as StdError;

/// A boxed error that keeps the original cause for `source()` chains.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What went wrong in a storage operation.
///
/// Adapters map their driver's errors onto these variants: a unique-constraint violation is
/// [`DbError::AlreadyExists`], a refused connection or exhausted pool is
/// [`DbError::Unavailable`], and everything else is [`DbError::Backend`] with the driver's error
/// kept as the source. Nothing is flattened into a string.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// A uniqueness rule was violated (email, OAuth account, token digest).
    #[error("{what} already exists")]
    AlreadyExists {
        /// Which unique thing collided, e.g. `"user email"`.
        what: &'static str,
    },
    /// The record the operation targets does not exist.
    #[error("{what} not found")]
    NotFound {
        /// Which record was missing, e.g. `"user"`.
        what: &'static str,
    },
    /// The store could not be reached (connection refused, pool timeout, connection lost).
    ///
    /// The HTTP layer turns this into `503 Service Unavailable`.
    #[error("storage unavailable")]
    Unavailable(#[source] BoxError),
    /// Any other failure reported by the store or its driver.
    #[error("storage backend error")]
    Backend(#[source] BoxError),
}

impl DbError {
    /// Wraps a driver error as [`DbError::Backend`].
    pub fn backend(err: impl Into<BoxError>) -> Self {
        Self::Backend(err.into())
    }

    /// Wraps a driver error as [`DbError::Unavailable`].
    pub fn unavailable(err: impl Into<BoxError>) -> Self {
        Self::Unavailable(err.into())
    }

    /// True for [`DbError::AlreadyExists`].
    pub fn is_already_exists(&self) -> bool {
        matches!(self, Self::AlreadyExists { .. })
    }

    /// True for [`DbError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// True for [`DbError::Unavailable`].
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}
