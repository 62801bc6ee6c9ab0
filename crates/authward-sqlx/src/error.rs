//! Mapping sqlx errors onto [`DbError`], keeping the driver error as the source.

use authward_core::{DbError, UniqueKey};
use authward_sql_schema::sqlx_errors::{is_unavailable, server_unavailable};
use sqlx::error::ErrorKind;

/// Which uniqueness rule a record kind's unique violation breaks, as far as the kind tells.
fn unique_key_of(what: &'static str) -> UniqueKey {
    match what {
        "user email" => UniqueKey::Email,
        "user" => UniqueKey::UserId,
        "oauth account" => UniqueKey::OAuthAccount,
        "token" => UniqueKey::Token,
        _ => UniqueKey::Other,
    }
}

/// Maps a driver error; `what` names the record for `AlreadyExists` / `NotFound`.
///
/// - unique violation: [`DbError::AlreadyExists`];
/// - refused or lost connection, pool timeout or closed pool, server shutting down, too many
///   connections, SQLite busy: [`DbError::Unavailable`];
/// - `RowNotFound`: [`DbError::NotFound`];
/// - anything else: [`DbError::Backend`].
pub(crate) fn db_error(err: sqlx::Error, what: &'static str) -> DbError {
    match &err {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => {
                let constraint = db.constraint().map(str::to_owned);
                DbError::duplicate(unique_key_of(what), constraint, err)
            }
            _ if server_unavailable(db.as_ref()) => DbError::unavailable(err),
            _ => DbError::backend(err),
        },
        _ if is_unavailable(&err) => DbError::unavailable(err),
        sqlx::Error::RowNotFound => DbError::NotFound { what },
        _ => DbError::backend(err),
    }
}

/// Like [`db_error`], for inserts of rows that reference a user: a foreign-key violation means
/// that user does not exist, [`DbError::NotFound`] `"user"`.
pub(crate) fn db_error_owned(err: sqlx::Error, what: &'static str) -> DbError {
    match &err {
        sqlx::Error::Database(db) if db.kind() == ErrorKind::ForeignKeyViolation => {
            DbError::NotFound { what: "user" }
        }
        _ => db_error(err, what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_io_errors_are_unavailable() {
        assert!(db_error(sqlx::Error::PoolTimedOut, "user").is_unavailable());
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let mapped = db_error(sqlx::Error::Io(io), "user");
        assert!(mapped.is_unavailable());
        assert!(std::error::Error::source(&mapped).is_some(), "source kept");
    }

    #[test]
    fn record_kinds_name_their_unique_rule() {
        assert_eq!(unique_key_of("user email"), UniqueKey::Email);
        assert_eq!(unique_key_of("token"), UniqueKey::Token);
        assert_eq!(unique_key_of("oauth account"), UniqueKey::OAuthAccount);
        assert_eq!(unique_key_of("something else"), UniqueKey::Other);
    }

    #[test]
    fn row_not_found_is_not_found_and_others_are_backend() {
        assert!(db_error(sqlx::Error::RowNotFound, "user").is_not_found());
        let other = db_error(sqlx::Error::Protocol("bad".into()), "user");
        assert!(matches!(other, DbError::Backend(_)));
    }
}
