//! # authward-sqlx
//!
//! authward's storage adapters over [sqlx](https://docs.rs/sqlx): PostgreSQL (feature
//! `postgres`), MySQL and MariaDB (feature `mysql`) and SQLite (feature `sqlite`).
//!
//! - [`SqlxUserDatabase`] implements `UserDatabase<ID>` and `OAuthUserDatabase<ID>`;
//! - [`SqlxAccessTokenDatabase`] implements `AccessTokenDatabase<ID>`;
//!
//! for `ID` = `uuid::Uuid`, `i64` (assigned by the database) or `String`. Queries are checked
//! at run time (no `DATABASE_URL` at build time); `sqlx` is re-exported so the application
//! uses the matching version.
//!
//! The schema is FastAPI Users' (`user`, `oauth_account`, `accesstoken`, same column names;
//! table names configurable through [`TableNames`]) with what it lacks: emails unique ignoring
//! case in the database itself (column `email_key`, the Unicode-lower-cased email computed in
//! Rust, with a unique index; every lookup is an exact match on it, so `%`, `_` and collation
//! never play a part), `(oauth_name, account_id)` unique, tokens stored as SHA-256 digests.
//! `migrate()` creates the tables or adopts FastAPI Users' (see [`migrate`] and
//! `docs/src/adapters/sqlx.md`).
//!
//! Custom user fields: real columns through [`ExtraColumns`], or any serde type in one JSON
//! column through [`JsonExtra`].
//!
//! Errors: a unique violation is `DbError::AlreadyExists`; a refused or lost connection, a pool
//! timeout or a server shutting down is `DbError::Unavailable`; updating or deleting a missing
//! row is `DbError::NotFound`; anything else is `DbError::Backend` with the sqlx error as
//! source.

// Without a backend feature the crate only holds the shared machinery.
#![cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code, unused_imports, unused_macros)
)]

mod backend;
mod dialect;
mod error;
mod extra;
mod handoff;
mod health;
mod id;
pub mod migrate;
mod oauth;
mod sql;
mod tokens;
mod users;

pub use sqlx;

pub use authward_sql_schema::{ExtraColumn, Ident, InvalidIdent, MAX_IDENT_LEN, TableNames};
pub use backend::{Backend, SqlQuery};
#[cfg(feature = "mysql")]
pub use dialect::BinaryCollatedText;
pub use dialect::Dialect;
pub use extra::{ExtraColumns, JSON_EXTRA_COLUMN, JsonExtra};
pub use health::{DEFAULT_ACQUIRE_TIMEOUT, IDLE_CHECK_AFTER, fail_fast_pool_options};
pub use id::{InvalidStoredId, SqlId};
pub use migrate::{EmailKeyCollision, Migrate, MigrateError};
pub use tokens::{InvalidStoredDigest, SqlxAccessTokenDatabase};
pub use users::SqlxUserDatabase;
