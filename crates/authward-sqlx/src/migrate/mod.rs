//! Embedded migrations: create the tables, or adopt existing ones (an earlier authward schema
//! or FastAPI Users' SQLAlchemy tables). Every step checks before it changes anything, so
//! running `migrate()` again is a no-op.
//!
//! The schema and every step are [`authward_sql_schema`]'s, shared with `authward-sea-orm`:
//! its documentation says what adopting a FastAPI Users database changes. This module runs
//! them over a sqlx connection ([`Migrate`]) and reports failures as [`MigrateError`].

mod backends;
mod runner;

use futures::future::BoxFuture;
use sqlx::Pool;

use authward_core::DbError;
use authward_sql_schema::{SchemaError, describe_collisions};

use crate::dialect::Dialect;
use crate::error::db_error;

pub use authward_sql_schema::EmailKeyCollision;
#[doc(hidden)]
pub use authward_sql_schema::{TokenPlan, UserPlan};

/// The schema migrations of a database authward-sqlx supports (part of [`crate::Backend`]).
///
/// Sealed (through [`Dialect`]): implemented by this crate for each supported database.
pub trait Migrate: Dialect {
    /// Creates or adopts the user and OAuth account tables.
    #[doc(hidden)]
    fn migrate_users<'a>(
        pool: &'a Pool<Self>,
        plan: &'a UserPlan,
    ) -> BoxFuture<'a, Result<(), MigrateError>>;

    /// Creates or adopts a token table.
    #[doc(hidden)]
    fn migrate_tokens<'a>(
        pool: &'a Pool<Self>,
        plan: &'a TokenPlan,
    ) -> BoxFuture<'a, Result<(), MigrateError>>;
}

/// A migration failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The database refused a statement or could not be reached.
    #[error("migration failed")]
    Db(#[from] DbError),
    /// Existing users whose email keys are equal under the current rule (FastAPI Users allowed
    /// addresses differing in case; an earlier authward rule did not fold compatibility forms
    /// or IDNA domains). Nothing was changed. Merge or rename them, then migrate again.
    #[error("{} email keys are shared by several users: {}", collisions.len(), describe_collisions(collisions))]
    EmailKeyCollisions {
        /// Every shared key with the rows sharing it.
        collisions: Vec<EmailKeyCollision>,
    },
    /// The same provider account is linked more than once (FastAPI Users allowed it).
    #[error("{} OAuth accounts are linked more than once", accounts.len())]
    DuplicateOAuthAccounts {
        /// `(oauth_name, account_id)` pairs concerned.
        accounts: Vec<(String, String)>,
    },
}

impl From<SchemaError<sqlx::Error>> for MigrateError {
    fn from(err: SchemaError<sqlx::Error>) -> Self {
        match err {
            SchemaError::Driver(err) => schema_error(err),
            SchemaError::EmailKeyCollisions { collisions } => {
                Self::EmailKeyCollisions { collisions }
            }
            SchemaError::DuplicateOAuthAccounts { accounts } => {
                Self::DuplicateOAuthAccounts { accounts }
            }
            other => Self::Db(DbError::backend(other)),
        }
    }
}

/// Wraps a driver error raised by a schema statement.
pub(crate) fn schema_error(err: sqlx::Error) -> MigrateError {
    MigrateError::Db(db_error(err, "schema object"))
}
