//! Mapping redis errors onto [`DbError`].

use authward_core::{DbError, TokenDigest};
use redis::{ErrorKind, RedisError, ServerErrorKind};

/// A token key holds a value this crate did not write (or wrote in a newer format).
///
/// Reported as the source of [`DbError::Backend`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptRecord {
    /// The digest whose record could not be read.
    pub digest: TokenDigest,
}

impl std::fmt::Display for CorruptRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unreadable token record for {:?}", self.digest)
    }
}

impl std::error::Error for CorruptRecord {}

impl From<CorruptRecord> for DbError {
    fn from(err: CorruptRecord) -> Self {
        DbError::backend(err)
    }
}

/// True when the error means "Redis cannot be reached right now": a refused, dropped or
/// timed-out connection, or a cluster that is down, failing over or still loading.
pub fn is_unavailable(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_refusal()
        || err.is_connection_dropped()
        || err.is_timeout()
        || matches!(
            err.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::ClusterDown
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::BusyLoading
                )
        )
}

/// [`DbError::Unavailable`] for connection trouble, [`DbError::Backend`] otherwise; the redis
/// error is kept as the source either way.
pub fn map_redis_error(err: RedisError) -> DbError {
    if is_unavailable(&err) {
        DbError::unavailable(err)
    } else {
        DbError::backend(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn io_errors_are_unavailable_and_keep_their_source() {
        let refused = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let mapped = map_redis_error(refused);
        assert!(mapped.is_unavailable());
        let source = mapped.source().and_then(|s| s.downcast_ref::<RedisError>());
        assert!(source.is_some_and(RedisError::is_connection_refusal));
    }

    #[test]
    fn other_errors_are_backend() {
        let wrong_type = RedisError::from((ErrorKind::UnexpectedReturnType, "wrong type"));
        assert!(matches!(map_redis_error(wrong_type), DbError::Backend(_)));
        let corrupt: DbError = CorruptRecord {
            digest: TokenDigest::of("x"),
        }
        .into();
        assert!(matches!(corrupt, DbError::Backend(_)));
    }
}
