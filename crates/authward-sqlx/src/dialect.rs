//! What differs between PostgreSQL, MySQL/MariaDB and SQLite in the queries: quoting,
//! placeholders, whether `RETURNING` is available and how timestamps are stored. The schema
//! migrations are in [`crate::migrate`].

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "mysql")]
pub use mysql::BinaryCollatedText;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use sqlx::{Decode, Encode, Type};
use time::OffsetDateTime;

use authward_core::DbError;

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// The SQL dialect of a database authward-sqlx supports: [`sqlx::Postgres`] (feature
/// `postgres`), [`sqlx::MySql`] (feature `mysql`, MySQL and MariaDB) and [`sqlx::Sqlite`]
/// (feature `sqlite`). Part of [`crate::Backend`].
///
/// Sealed: the SQL dialect details live here and are not meant to be implemented elsewhere.
pub trait Dialect: sqlx::Database + sealed::Sealed {
    /// How a timestamp travels to and from the database.
    #[doc(hidden)]
    type Time: for<'q> Encode<'q, Self>
        + Type<Self>
        + for<'r> Decode<'r, Self>
        + Send
        + Sync
        + 'static;

    /// How text compared byte-for-byte (OAuth names and account IDs) is read back.
    #[doc(hidden)]
    type ExactText: for<'r> Decode<'r, Self> + Type<Self> + Into<String> + Send + Unpin + 'static;

    /// `INSERT ... RETURNING` is available.
    #[doc(hidden)]
    const INSERT_RETURNING: bool;
    /// `UPDATE ... RETURNING` is available.
    #[doc(hidden)]
    const UPDATE_RETURNING: bool;

    /// Quotes a validated identifier.
    #[doc(hidden)]
    fn quote(ident: &str) -> String;

    /// The `n`-th (1-based) bind placeholder.
    #[doc(hidden)]
    fn placeholder(n: usize) -> String;

    /// Converts a timestamp for storage.
    #[doc(hidden)]
    fn time_to_wire(at: OffsetDateTime) -> Result<Self::Time, DbError>;

    /// Converts a stored timestamp back.
    #[doc(hidden)]
    fn time_from_wire(stored: Self::Time) -> Result<OffsetDateTime, DbError>;

    /// A condition that `column` equals the bound `value` byte for byte, whatever the column's
    /// collation.
    #[doc(hidden)]
    fn equals_exactly(column: &str, value: &str) -> String {
        format!("{column} = {value}")
    }
}
