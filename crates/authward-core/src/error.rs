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
    /// A uniqueness rule was violated.
    ///
    /// `what` says which rule, as far as the adapter can tell: only [`UniqueKey::Email`] means
    /// "this email is taken"; a unique column of the application's own is
    /// [`UniqueKey::Other`], with the constraint's name when the store reports it.
    #[error("{what} already exists")]
    AlreadyExists {
        /// Which unique thing collided.
        what: UniqueKey,
        /// The name of the violated constraint or index, when the store reports it.
        constraint: Option<String>,
        /// The driver's error, when there is one.
        #[source]
        source: Option<BoxError>,
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

/// Which uniqueness rule a [`DbError::AlreadyExists`] broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UniqueKey {
    /// The user's email (ignoring case).
    Email,
    /// The user's ID.
    UserId,
    /// A provider account `(oauth_name, account_id)`.
    OAuthAccount,
    /// A token digest.
    Token,
    /// Another unique rule, such as a unique column of the application's own.
    Other,
}

impl std::fmt::Display for UniqueKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Email => "user email",
            Self::UserId => "user id",
            Self::OAuthAccount => "oauth account",
            Self::Token => "token",
            Self::Other => "unique value",
        })
    }
}

impl DbError {
    /// A [`DbError::AlreadyExists`] for `what`, without constraint name or source.
    pub fn already_exists(what: UniqueKey) -> Self {
        Self::AlreadyExists {
            what,
            constraint: None,
            source: None,
        }
    }

    /// A [`DbError::AlreadyExists`] reported by a driver: which rule, the constraint's name if
    /// known, and the driver's error as the source.
    pub fn duplicate(
        what: UniqueKey,
        constraint: Option<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::AlreadyExists {
            what,
            constraint,
            source: Some(source.into()),
        }
    }

    /// Which uniqueness rule was broken, for [`DbError::AlreadyExists`].
    pub fn unique_key(&self) -> Option<UniqueKey> {
        match self {
            Self::AlreadyExists { what, .. } => Some(*what),
            _ => None,
        }
    }

    /// Wraps a driver error as [`DbError::Backend`].
    pub fn backend(err: impl Into<BoxError>) -> Self {
        Self::Backend(err.into())
    }

    /// Wraps a driver error as [`DbError::Unavailable`].
    pub fn unavailable(err: impl Into<BoxError>) -> Self {
        Self::Unavailable(err.into())
    }

    /// True for [`DbError::AlreadyExists`], whatever rule was broken.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn already_exists_keeps_rule_constraint_and_source() {
        let io = std::io::Error::other("duplicate key");
        let err = DbError::duplicate(UniqueKey::Other, Some("user_nickname_key".into()), io);
        assert_eq!(err.unique_key(), Some(UniqueKey::Other));
        assert!(err.is_already_exists());
        assert!(
            std::error::Error::source(&err).is_some(),
            "the driver error is kept"
        );
        match &err {
            DbError::AlreadyExists { constraint, .. } => {
                assert_eq!(constraint.as_deref(), Some("user_nickname_key"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(err.to_string(), "unique value already exists");
        assert_eq!(
            DbError::already_exists(UniqueKey::Email).to_string(),
            "user email already exists"
        );
    }
}
