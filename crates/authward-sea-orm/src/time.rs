//! Timestamps as each backend stores them (as `authward-sqlx` does): `TIMESTAMPTZ` on
//! PostgreSQL, `DATETIME(6)` in UTC on MySQL / MariaDB, fixed-width UTC text
//! (`YYYY-MM-DD HH:MM:SS.ffffff`, which sorts and compares correctly) on SQLite.

use authward_core::DbError;
use sea_orm::{DbBackend, QueryResult, Value};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::error::InvalidStored;

const STORED: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]");
const STORED_LENIENT: &[FormatItem<'static>] = format_description!(
    "[year]-[month]-[day][first [ ][T]][hour]:[minute]:[second][optional [.[subsecond]]]"
);

/// The value bound for a timestamp on `backend`.
pub(crate) fn time_value(at: OffsetDateTime, backend: DbBackend) -> Result<Value, DbError> {
    match backend {
        DbBackend::Sqlite => at
            .to_offset(UtcOffset::UTC)
            .format(STORED)
            .map(Value::from)
            .map_err(DbError::backend),
        // `DATETIME` on the wire, in UTC: an `OffsetDateTime` goes as a `TIMESTAMP`, which
        // MySQL and MariaDB only take up to 2038 (later ones arrive as `NULL`).
        DbBackend::MySql => {
            let utc = at.to_offset(UtcOffset::UTC);
            Ok(Value::from(PrimitiveDateTime::new(utc.date(), utc.time())))
        }
        _ => Ok(Value::from(at)),
    }
}

/// Reads a timestamp column as stored on `backend`.
pub(crate) fn time_from_row(
    row: &QueryResult,
    column: &str,
    backend: DbBackend,
) -> Result<OffsetDateTime, DbError> {
    match backend {
        DbBackend::Sqlite => {
            let stored: String = row.try_get("", column).map_err(DbError::backend)?;
            match PrimitiveDateTime::parse(&stored, STORED_LENIENT) {
                Ok(at) => Ok(at.assume_utc()),
                Err(_) => Err(DbError::backend(InvalidStored::new("timestamp", stored))),
            }
        }
        DbBackend::MySql => row
            .try_get::<PrimitiveDateTime>("", column)
            .map(PrimitiveDateTime::assume_utc)
            .map_err(DbError::backend),
        #[cfg(feature = "postgres")]
        DbBackend::Postgres => match row.try_as_pg_row() {
            // sqlx's own decoder panics on `'infinity'` and on years past 9999.
            Some(pg) => sqlx::Row::try_get::<authward_sql_schema::PgTimestamp, _>(pg, column)
                .map(|at| at.0)
                .map_err(DbError::backend),
            None => row.try_get("", column).map_err(DbError::backend),
        },
        #[cfg(not(feature = "postgres"))]
        _ => row.try_get("", column).map_err(DbError::backend),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn sqlite_text_is_fixed_width_utc() {
        let at = datetime!(2030-01-01 13:00:00.5 +01:00);
        match time_value(at, DbBackend::Sqlite) {
            Ok(Value::String(Some(text))) => assert_eq!(*text, "2030-01-01 12:00:00.500000"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
