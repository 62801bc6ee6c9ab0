//! How sqlx's errors classify, for the adapters that run on it (`authward-sqlx`, and
//! `authward-sea-orm`, whose errors wrap sqlx's): which mean "the database is unavailable, try
//! again later" rather than "this query is wrong". One rule, so both adapters answer an outage
//! the same way (`DbError::Unavailable`, HTTP 503).

use sqlx::error::DatabaseError;

/// Whether a sqlx error outside the database's own answers means the database cannot be
/// reached: a refused or lost connection (I/O, TLS), a pool timeout or closed pool, a crashed
/// SQLite worker.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    matches!(
        err,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
    )
}

/// Whether an error the database answered means "try again later": a server shutting down,
/// too many connections, a lost link, SQLite busy or locked.
pub fn server_unavailable(db: &dyn DatabaseError) -> bool {
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
    fn connection_and_pool_errors_are_unavailable() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(is_unavailable(&sqlx::Error::Io(io)));
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
        assert!(!is_unavailable(&sqlx::Error::Protocol("bad".into())));
    }
}
