//! The SQL schema of authward's relational adapters, written once: `authward-sqlx` and
//! `authward-sea-orm` both run this migration, each through its own driver (a [`Runner`]), so
//! the two adapters create, adopt and upgrade exactly the same tables and can share one
//! database.
//!
//! With the feature `sqlx`, [`sqlx_errors`] holds the other rule both adapters share: which of
//! sqlx's errors mean the database is unavailable.
//!
//! Applications do not use this crate directly: they call `migrate()` on an `authward-sqlx`
//! store, or run `authward-sea-orm`'s `Migrator`. It is public for adapter authors who drive
//! the same schema through another SQL driver.
//!
//! # The tables
//! - `user`: `id` (its type from the adapter's ID), `email`, `email_key` (the case-folded
//!   email, unique: `TEXT` on PostgreSQL and SQLite, `VARBINARY(1280)` on MySQL so that the
//!   comparison is byte-exact), `hashed_password`, `is_active`, `is_superuser`, `is_verified`,
//!   then the application's [`ExtraColumn`]s;
//! - `oauth_account`: an auto-increment `id` (link order), `user_id` referencing the user with
//!   `ON DELETE CASCADE`, the provider columns, `(oauth_name, account_id)` unique;
//! - `accesstoken`: the SHA-256 `digest` as primary key, `user_id` with `ON DELETE CASCADE`,
//!   `created_at`, `family`, `used`, indexed on `(user_id, created_at)` and `created_at`.
//!
//! Every step checks before it changes anything, so running the migration again is a no-op.
//!
//! # Adopting a FastAPI Users database
//! - `user`: adds `email_key` ([`authward_core::user::email_key`]: NFKC and Unicode case
//!   folding of the local part, the IDNA ASCII form of the domain), fills it for existing rows
//!   and makes it unique; every other column, the password hash included, is left
//!   byte-for-byte as it was. On PostgreSQL an `INTEGER`/`SERIAL` id is widened to `BIGINT`
//!   when the database assigns IDs.
//! - **Key rule upgrades.** The unique index over `email_key` is named after the rule its keys
//!   were computed with (`<user>_email_key2_idx` for the current rule). When it is missing
//!   (a table made by an earlier authward, whose keys were Unicode lower-casing only, or a
//!   FastAPI Users table), every row's key is recomputed from its `email`. Rows whose new keys
//!   collide (`K@x.io` and `k@x.io`, `user@bücher.de` and `user@xn--bcher-kva.de`) stop the
//!   migration with [`SchemaError::EmailKeyCollisions`], naming every row concerned, **before
//!   anything is changed** (on every database: the rows are read and checked first). Resolve
//!   them (merge, or rename one address), then migrate again. On PostgreSQL and SQLite the
//!   recomputation and the index swap are one transaction; on MySQL the keys change in one
//!   transaction and the index swap follows (a crash in between is finished by the next run).
//! - `oauth_account`: rebuilt with a unique `(oauth_name, account_id)`, an auto-increment `id`
//!   (link order) and, on MySQL, binary collation for exact matching; rows are copied.
//!   Duplicate pairs stop the migration with [`SchemaError::DuplicateOAuthAccounts`].
//! - `accesstoken`: FastAPI Users keeps tokens in the clear; they are converted to SHA-256
//!   digests in place, so existing sessions keep working and no plaintext token remains.
//!
//! # Running it
//! The adapter gives [`migrate_users`] and [`migrate_tokens`] one connection: inside a
//! transaction on PostgreSQL and SQLite (DDL is transactional there, so a failed migration
//! changes nothing), a plain connection on MySQL (DDL commits at once; every step is safe to
//! run again, and tables are swapped in atomically). Concurrent migrations are serialised by
//! an advisory lock (PostgreSQL) or a named lock (MySQL).

mod columns;
mod dialect;
mod email_keys;
mod error;
mod flavor;
mod mysql;
mod names;
#[cfg(feature = "postgres")]
mod pg_timestamp;
mod plan;
mod postgres;
mod runner;
mod sqlite;
#[cfg(feature = "sqlx")]
pub mod sqlx_errors;
mod steps;
mod transactional;

pub use columns::{OAUTH_ACCOUNT_COLUMNS, TOKEN_COLUMNS, USER_COLUMNS};
pub use dialect::Dialect;
pub use error::{EmailKeyCollision, SchemaError, describe_collisions};
pub use names::{Ident, InvalidIdent, MAX_IDENT_LEN, TableNames};
#[cfg(feature = "postgres")]
pub use pg_timestamp::{PgTimestamp, TimestampOutOfRange};
pub use plan::{ExtraColumn, TokenPlan, UserPlan};
pub use runner::{Cell, Kind, Param, Runner};

use steps::Ddl;

/// Creates or adopts the user and OAuth account tables named in `plan`, on `runner`'s
/// connection (see [Running it](crate#running-it)).
pub async fn migrate_users<R: Runner>(
    runner: &mut R,
    plan: &UserPlan,
) -> Result<(), SchemaError<R::Error>> {
    let mut ddl = Ddl::new(runner);
    match ddl.dialect {
        Dialect::Postgres => {
            postgres::lock(&mut ddl).await?;
            transactional::migrate_users(&mut ddl, plan, &postgres::FLAVOR, &postgres::BACKFILL)
                .await
        }
        Dialect::MySql => {
            mysql::lock(&mut ddl).await?;
            let result = mysql::migrate_users(&mut ddl, plan).await;
            mysql::unlock(&mut ddl).await?;
            result
        }
        Dialect::Sqlite => {
            transactional::migrate_users(&mut ddl, plan, &sqlite::FLAVOR, &sqlite::BACKFILL).await
        }
    }
}

/// Creates a token table, or converts FastAPI Users' plaintext one to digests, on `runner`'s
/// connection. The user table it references must exist first ([`migrate_users`]).
pub async fn migrate_tokens<R: Runner>(
    runner: &mut R,
    plan: &TokenPlan,
) -> Result<(), SchemaError<R::Error>> {
    let mut ddl = Ddl::new(runner);
    match ddl.dialect {
        Dialect::Postgres => {
            postgres::lock(&mut ddl).await?;
            transactional::migrate_tokens(&mut ddl, plan, &postgres::FLAVOR).await
        }
        Dialect::MySql => {
            mysql::lock(&mut ddl).await?;
            let result = mysql::migrate_tokens(&mut ddl, plan).await;
            mysql::unlock(&mut ddl).await?;
            result
        }
        Dialect::Sqlite => transactional::migrate_tokens(&mut ddl, plan, &sqlite::FLAVOR).await,
    }
}
