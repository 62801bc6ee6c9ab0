//! Mapping SeaORM's errors onto [`DbError`], keeping the original error as the source.

use authward_core::{DbError, UniqueKey};
use authward_sql_schema::sqlx_errors::{is_unavailable, server_unavailable};
use sea_orm::DbErr;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
use sea_orm::RuntimeErr;
use sqlx::error::{DatabaseError, ErrorKind};

/// A stored value that is not valid for its Rust type (a malformed UUID in a `CHAR(36)`
/// column, a digest that is not 32 bytes, a timestamp in an unknown format).
#[derive(Debug, thiserror::Error)]
#[error("stored value {stored:?} is not a valid {expected}")]
pub struct InvalidStored {
    /// What was expected.
    pub expected: &'static str,
    /// What was read (as text).
    pub stored: String,
}

impl InvalidStored {
    pub(crate) fn new(expected: &'static str, stored: impl Into<String>) -> Self {
        Self {
            expected,
            stored: stored.into(),
        }
    }
}

/// The sqlx error inside a SeaORM error, if there is one.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
fn sqlx_error(err: &DbErr) -> Option<&sqlx::Error> {
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e),
        _ => None,
    }
}

/// Without a backend there is no sqlx error.
#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
fn sqlx_error(_err: &DbErr) -> Option<&sqlx::Error> {
    None
}

/// The database error inside a SeaORM error, if there is one.
fn database_error(err: &DbErr) -> Option<&dyn DatabaseError> {
    match sqlx_error(err) {
        Some(sqlx::Error::Database(db)) => Some(db.as_ref()),
        _ => None,
    }
}

/// Maps a SeaORM error; `what` names the rule a unique violation breaks.
///
/// - unique violation: [`DbError::AlreadyExists`] with the constraint's name when the database
///   reports it;
/// - refused or lost connection, pool timeout or closed pool, server shutting down, too many
///   connections, SQLite busy: [`DbError::Unavailable`];
/// - anything else: [`DbError::Backend`].
pub(crate) fn db_error(err: DbErr, what: UniqueKey) -> DbError {
    if let Some(db) = database_error(&err) {
        if db.kind() == ErrorKind::UniqueViolation {
            let constraint = db.constraint().map(str::to_owned);
            return DbError::duplicate(what, constraint, err);
        }
        if server_unavailable(db) {
            return DbError::unavailable(err);
        }
        return DbError::backend(err);
    }
    let unavailable =
        matches!(err, DbErr::ConnectionAcquire(_)) || sqlx_error(&err).is_some_and(is_unavailable);
    if unavailable {
        DbError::unavailable(err)
    } else {
        DbError::backend(err)
    }
}

/// Like [`db_error`], for inserts of rows that reference a user: a foreign-key violation means
/// that user does not exist, [`DbError::NotFound`] `"user"`.
pub(crate) fn db_error_owned(err: DbErr, what: UniqueKey) -> DbError {
    match database_error(&err) {
        Some(db) if db.kind() == ErrorKind::ForeignKeyViolation => {
            DbError::NotFound { what: "user" }
        }
        _ => db_error(err, what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnAcquireErr;
    #[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
    use sea_orm::RuntimeErr;

    #[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
    #[test]
    fn pool_and_io_errors_are_unavailable() {
        let timeout = db_error(
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            UniqueKey::Other,
        );
        assert!(timeout.is_unavailable());
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let mapped = db_error(
            DbErr::Conn(RuntimeErr::SqlxError(sqlx::Error::Io(io))),
            UniqueKey::Other,
        );
        assert!(mapped.is_unavailable());
        assert!(std::error::Error::source(&mapped).is_some(), "source kept");
    }

    #[test]
    fn other_errors_are_backend() {
        let other = db_error(DbErr::Custom("bad".into()), UniqueKey::Other);
        assert!(matches!(other, DbError::Backend(_)));
    }
}
