//! SQLite: `` `quoted` `` identifiers, `?n` placeholders, `RETURNING`, timestamps as fixed-width
//! UTC text (`YYYY-MM-DD HH:MM:SS.ffffff`, which sorts and compares correctly).

use sqlx::Sqlite;
use time::{
    OffsetDateTime, PrimitiveDateTime, UtcOffset, format_description::FormatItem,
    macros::format_description,
};

use authward_core::DbError;

use super::{Dialect, sealed::Sealed};

const STORED: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]");
const STORED_LENIENT: &[FormatItem<'static>] = format_description!(
    "[year]-[month]-[day][first [ ][T]][hour]:[minute]:[second][optional [.[subsecond]]]"
);

/// A stored timestamp that could not be read back.
#[derive(Debug, thiserror::Error)]
#[error("stored timestamp {0:?} is not YYYY-MM-DD HH:MM:SS[.ffffff]")]
pub struct InvalidStoredTime(String);

impl Sealed for Sqlite {}

impl Dialect for Sqlite {
    type Time = String;
    type ExactText = String;
    const INSERT_RETURNING: bool = true;
    const UPDATE_RETURNING: bool = true;

    /// Backticks, not double quotes: SQLite takes a double-quoted name that matches no column
    /// as a string literal, so a connection with a stale schema (another connection just added
    /// a column) would silently select the literal instead of failing and reloading its schema.
    fn quote(ident: &str) -> String {
        format!("`{ident}`")
    }

    fn placeholder(n: usize) -> String {
        format!("?{n}")
    }

    fn time_to_wire(at: OffsetDateTime) -> Result<String, DbError> {
        at.to_offset(UtcOffset::UTC)
            .format(STORED)
            .map_err(DbError::backend)
    }

    fn time_from_wire(stored: String) -> Result<OffsetDateTime, DbError> {
        match PrimitiveDateTime::parse(&stored, STORED_LENIENT) {
            Ok(at) => Ok(at.assume_utc()),
            Err(_) => Err(DbError::backend(InvalidStoredTime(stored))),
        }
    }
}
