//! What a migration is asked to create: the table names, the ID column's type, and the
//! application's own user columns.

use crate::TableNames;

/// One custom column of the user table: its name and its SQL type as written after the name in
/// `CREATE TABLE` / `ALTER TABLE ... ADD COLUMN`.
///
/// `migrate()` adds a declared column that the table lacks; a column added to a table that
/// already has rows needs a `DEFAULT` (or must be nullable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtraColumn {
    /// Column name (validated like table names when the store is built).
    pub name: &'static str,
    /// SQL type and constraints, e.g. `"VARCHAR(100) NOT NULL DEFAULT ''"`.
    pub sql_type: &'static str,
}

/// What a migration of the user and OAuth account tables needs to know.
#[derive(Debug, Clone)]
pub struct UserPlan {
    /// The table names.
    pub tables: TableNames,
    /// The `id` column's type and key, as written after its name (`UUID NOT NULL PRIMARY
    /// KEY`, ...).
    pub id_pk_ddl: &'static str,
    /// The type of a column referencing the user (`UUID NOT NULL`, ...).
    pub id_fk_ddl: &'static str,
    /// Whether the database assigns IDs (an `i64` identity): FastAPI Users' 32-bit `SERIAL`
    /// is then widened on PostgreSQL.
    pub id_db_assigned: bool,
    /// The application's own user columns, added when missing.
    pub extra: Vec<ExtraColumn>,
}

/// What a migration of a token table needs to know.
#[derive(Debug, Clone)]
pub struct TokenPlan {
    /// The table names: the token table is `accesstoken`, referencing `user`.
    pub tables: TableNames,
    /// The type of the column referencing the user.
    pub id_fk_ddl: &'static str,
}
