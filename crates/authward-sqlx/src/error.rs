//! Mapping sqlx errors onto [`DbError`], keeping the driver error as the source.

use authward_core::{DbError, UniqueKey};
use sqlx::error::{DatabaseError, ErrorKind};

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
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => DbError::unavailable(err),
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

/// Server-side conditions meaning "try again later" rather than "your query is wrong".
fn server_unavailable(db: &dyn DatabaseError) -> bool {
    let Some(code) = db.code() else {
        return false;
    };
    let code = code.as_ref();
    // PostgreSQL SQLSTATE: class 08 (connection exception), 53300 (too many connections),
    // 57P01..57P03 (admin / crash shutdown, cannot connect now).
    // MySQL / MariaDB report SQLSTATE too: 08S01 (communication link failure), and
    // 1040 / 1203 (too many connections) under HY000.
    code.starts_with("08")
        || matches!(
            code,
            "53300" | "57P01" | "57P02" | "57P03" | "1040" | "1203"
        )
        || sqlite_busy(db, code)
}

/// SQLite: 5 (`SQLITE_BUSY`) and 6 (`SQLITE_LOCKED`), plus their extended codes.
#[cfg(feature = "sqlite")]
fn sqlite_busy(db: &dyn DatabaseError, code: &str) -> bool {
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
        && matches!(code.parse::<i32>(), Ok(n) if n & 0xff == 5 || n & 0xff == 6)
}

#[cfg(not(feature = "sqlite"))]
fn sqlite_busy(_db: &dyn DatabaseError, _code: &str) -> bool {
    false
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
