//! PostgreSQL: `"quoted"` identifiers, `$n` placeholders, `RETURNING`, `TIMESTAMPTZ`.

use sqlx::Postgres;
use time::OffsetDateTime;

use authward_core::DbError;

use super::{Dialect, sealed::Sealed};

impl Sealed for Postgres {}

impl Dialect for Postgres {
    type Time = OffsetDateTime;
    type ExactText = String;
    const INSERT_RETURNING: bool = true;
    const UPDATE_RETURNING: bool = true;

    fn quote(ident: &str) -> String {
        format!("\"{ident}\"")
    }

    fn placeholder(n: usize) -> String {
        format!("${n}")
    }

    fn time_to_wire(at: OffsetDateTime) -> Result<OffsetDateTime, DbError> {
        Ok(at)
    }

    fn time_from_wire(stored: OffsetDateTime) -> Result<OffsetDateTime, DbError> {
        Ok(stored)
    }
}
