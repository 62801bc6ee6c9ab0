//! [`Runner`]: how the migration reaches the database, whichever driver the adapter uses.

use async_trait::async_trait;

use crate::Dialect;

/// A value bound to a placeholder of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param<'a> {
    /// Text.
    Text(&'a str),
    /// Bytes (a binary column).
    Bytes(&'a [u8]),
}

/// How a fetched column is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text (a binary-collated MySQL column holding UTF-8 counts as text).
    Text,
    /// Bytes.
    Bytes,
}

/// A fetched value, read as its column's [`Kind`] asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// SQL `NULL`.
    Null,
    /// A [`Kind::Text`] value.
    Text(String),
    /// A [`Kind::Bytes`] value.
    Bytes(Vec<u8>),
}

/// One connection the migration runs its statements on, in the order given.
///
/// Every call must reach the same connection: the migration takes locks and, where DDL is
/// transactional, runs inside the transaction the adapter opened. Implemented by each adapter
/// over its driver (`authward-sqlx` over a sqlx connection, `authward-sea-orm` over a SeaORM
/// transaction).
#[async_trait]
pub trait Runner: Send {
    /// The driver's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The database the connection is to.
    fn dialect(&self) -> Dialect;

    /// Runs one statement with `params` bound to its placeholders in order. A statement
    /// without parameters may be sent as plain text.
    async fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<(), Self::Error>;

    /// Runs one query and reads every row, column `i` as `columns[i]` (a query used only for
    /// whether it finds a row passes no columns).
    async fn fetch(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        columns: &[Kind],
    ) -> Result<Vec<Vec<Cell>>, Self::Error>;
}
