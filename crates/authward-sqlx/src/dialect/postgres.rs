//! PostgreSQL: `"quoted"` identifiers, `$n` placeholders, `RETURNING`, `TIMESTAMPTZ`.

use sqlx::Postgres;
use time::OffsetDateTime;

use authward_core::DbError;
use authward_sql_schema::PgTimestamp;

use super::{Dialect, sealed::Sealed};

impl Sealed for Postgres {}

impl Dialect for Postgres {
    /// `TIMESTAMPTZ`, read with checked arithmetic (`'infinity'` is an error, not a panic).
    type Time = PgTimestamp;
    type ExactText = String;
    const INSERT_RETURNING: bool = true;
    const UPDATE_RETURNING: bool = true;

    fn quote(ident: &str) -> String {
        format!("\"{ident}\"")
    }

    fn placeholder(n: usize) -> String {
        format!("${n}")
    }

    fn time_to_wire(at: OffsetDateTime) -> Result<PgTimestamp, DbError> {
        Ok(PgTimestamp(at))
    }

    fn time_from_wire(stored: PgTimestamp) -> Result<OffsetDateTime, DbError> {
        Ok(stored.0)
    }
}
