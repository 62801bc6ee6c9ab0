//! Embedded migrations: create the tables, or adopt existing ones (an earlier authward schema
//! or FastAPI Users' SQLAlchemy tables). Every step checks before it changes anything, so
//! running `migrate()` again is a no-op.
//!
//! Adopting a FastAPI Users database:
//! - `user`: adds `email_key` ([`authward_core::user::email_key`]: NFKC and Unicode case
//!   folding of the local part, the IDNA ASCII form of the domain), fills it for existing rows
//!   and makes it unique; every other column, the password hash included, is left
//!   byte-for-byte as it was. On PostgreSQL an `INTEGER`/`SERIAL` id is widened to `BIGINT` for
//!   `i64` stores.
//! - **Key rule upgrades.** The unique index over `email_key` is named after the rule its keys
//!   were computed with (`<user>_email_key2_idx` for the current rule). When it is missing
//!   (a table made by an earlier authward, whose keys were Unicode lower-casing only, or a
//!   FastAPI Users table), every row's key is recomputed from its `email`. Rows whose new keys
//!   collide (`K@x.io` and `k@x.io`, `user@bücher.de` and `user@xn--bcher-kva.de`) stop the
//!   migration with [`MigrateError::EmailKeyCollisions`], naming every row concerned, **before
//!   anything is changed** (on every backend: the rows are read and checked first). Resolve
//!   them (merge, or rename one address), then migrate again. On PostgreSQL and SQLite the
//!   recomputation and the index swap are one transaction; on MySQL the keys change in one
//!   transaction and the index swap follows (a crash in between is finished by the next run).
//! - `oauth_account`: rebuilt with a unique `(oauth_name, account_id)`, an auto-increment `id`
//!   (link order) and, on MySQL, binary collation for exact matching; rows are copied.
//!   Duplicate pairs stop the migration with [`MigrateError::DuplicateOAuthAccounts`].
//! - `accesstoken`: FastAPI Users keeps tokens in the clear; they are converted to SHA-256
//!   digests in place, so existing sessions keep working and no plaintext token remains.

mod ddl;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use futures::future::BoxFuture;
use sqlx::Pool;

use authward_core::DbError;

use crate::config::{ExtraColumn, TableNames};
use crate::dialect::Dialect;
use crate::error::db_error;

/// The schema migrations of a database authward-sqlx supports (part of [`crate::Backend`]):
/// the entry points, and the catalog queries, type names and literals that the steps shared
/// by every backend are written with.
///
/// Sealed (through [`Dialect`]): implemented by this crate for each supported database.
pub trait Migrate: Dialect {
    /// Finds a table by name (`1`: the table).
    #[doc(hidden)]
    const TABLE_EXISTS: &'static str;
    /// Finds an index (`1`: the table, `2`: the index when [`Migrate::INDEX_BY_TABLE`];
    /// otherwise `1`: the index).
    #[doc(hidden)]
    const INDEX_EXISTS: &'static str;
    /// Whether [`Migrate::INDEX_EXISTS`] takes the table (index names are per table).
    #[doc(hidden)]
    const INDEX_BY_TABLE: bool;
    /// Finds a column (`1`: the table, `2`: the column).
    #[doc(hidden)]
    const COLUMN_EXISTS: &'static str;
    /// The type of `email_key`, without `NULL`/`NOT NULL`.
    #[doc(hidden)]
    const EMAIL_KEY_TYPE: &'static str;
    /// The type of the boolean columns.
    #[doc(hidden)]
    const BOOL_TYPE: &'static str;
    /// The boolean literals, as column defaults.
    #[doc(hidden)]
    const TRUE: &'static str;
    /// See [`Migrate::TRUE`].
    #[doc(hidden)]
    const FALSE: &'static str;
    /// Written after the column list of `CREATE TABLE` (with its leading space), or empty.
    #[doc(hidden)]
    const TABLE_OPTIONS: &'static str;
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

/// What the email key backfill of a backend with transactional DDL (PostgreSQL, SQLite) writes
/// differently; see [`ddl::Ddl::backfill_email_keys`]. MySQL has a backfill of its own.
#[cfg_attr(not(any(feature = "postgres", feature = "sqlite")), allow(dead_code))]
pub(crate) trait TransactionalBackfill: Migrate {
    /// A text `NULL`, standing for a missing `email_key` column.
    const NULL_TEXT: &'static str;
    /// The user ID, as text.
    const ID_AS_TEXT: &'static str;
    /// Where a user row is, as text.
    const ROW_LOCATOR: &'static str;
    /// Matches [`TransactionalBackfill::ROW_LOCATOR`] against the placeholder written in
    /// place of `{}`.
    const ROW_MATCH: &'static str;
    /// `ALTER TABLE` clause making the column in place of `{}` `NOT NULL` after the backfill,
    /// where the backend can.
    const SET_NOT_NULL: Option<&'static str>;
}

/// Suffix of the table an adoption builds before swapping it in.
pub(crate) const NEW_SUFFIX: &str = "authward_new";

/// What a migration of the user store needs to know.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct UserPlan {
    pub(crate) tables: TableNames,
    pub(crate) id_pk_ddl: &'static str,
    pub(crate) id_fk_ddl: &'static str,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) id_db_assigned: bool,
    pub(crate) extra: Vec<ExtraColumn>,
}

/// What a migration of a token store needs to know.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct TokenPlan {
    pub(crate) tables: TableNames,
    pub(crate) id_fk_ddl: &'static str,
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
    #[error("{} email keys are shared by several users: {}", collisions.len(), describe(collisions))]
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

/// Wraps a driver error raised by a schema statement.
pub(crate) fn schema_error(err: sqlx::Error) -> MigrateError {
    MigrateError::Db(db_error(err, "schema object"))
}

/// Users whose addresses have one [`email_key`](authward_core::user::email_key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailKeyCollision {
    /// The shared key.
    pub key: String,
    /// `(id as text, email as stored)` of every row with that key, ordered by email.
    pub users: Vec<(String, String)>,
}

fn describe(collisions: &[EmailKeyCollision]) -> String {
    collisions
        .iter()
        .map(|c| {
            let users: Vec<String> = c
                .users
                .iter()
                .map(|(id, email)| format!("{id} <{email}>"))
                .collect();
            format!("{} ({})", c.key, users.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A user row as the key migration reads it.
#[derive(Debug, Clone)]
pub(crate) struct KeyRow<L> {
    /// Where the row is (a `ctid`, a `rowid`, or the stored key).
    pub(crate) locator: L,
    /// The ID, as text (for reports).
    pub(crate) id: String,
    /// The email as stored.
    pub(crate) email: String,
    /// The key as stored (`None` when the column is missing or empty).
    pub(crate) key: Option<Vec<u8>>,
}

/// The rows whose key must change, with their new key; or every collision under the new rule.
pub(crate) fn plan_email_keys<L>(
    rows: Vec<KeyRow<L>>,
) -> Result<Vec<(KeyRow<L>, String)>, MigrateError> {
    let mut by_key: std::collections::BTreeMap<String, Vec<(String, String)>> =
        std::collections::BTreeMap::new();
    let mut changes = Vec::new();
    for row in rows {
        let key = authward_core::user::email_key(&row.email);
        by_key
            .entry(key.clone())
            .or_default()
            .push((row.id.clone(), row.email.clone()));
        if row.key.as_deref() != Some(key.as_bytes()) {
            changes.push((row, key));
        }
    }
    let collisions: Vec<EmailKeyCollision> = by_key
        .into_iter()
        .filter(|(_, users)| users.len() > 1)
        .map(|(key, mut users)| {
            users.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            EmailKeyCollision { key, users }
        })
        .collect();
    if collisions.is_empty() {
        Ok(changes)
    } else {
        Err(MigrateError::EmailKeyCollisions { collisions })
    }
}

/// The suffix of the unique index over keys of the current rule (see the module docs).
pub(crate) const KEY_INDEX: &str = "email_key2_idx";
/// The suffix of the unique index over keys of the first rule (Unicode lower-casing).
pub(crate) const OLD_KEY_INDEX: &str = "email_key_idx";

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, email: &str, key: Option<&str>) -> KeyRow<()> {
        KeyRow {
            locator: (),
            id: id.into(),
            email: email.into(),
            key: key.map(|k| k.as_bytes().to_vec()),
        }
    }

    #[test]
    fn collisions_name_every_row_under_the_new_rule() {
        let rows = vec![
            row("1", "A@x.io", Some("a@x.io")),
            row("2", "user@bücher.de", Some("user@bücher.de")),
            row("3", "USER@xn--bcher-kva.de", Some("user@xn--bcher-kva.de")),
            row("4", "\u{212A}@x.io", Some("k@x.io")),
            row("5", "k@x.io", None),
            row("6", "b@x.io", Some("b@x.io")),
        ];
        match plan_email_keys(rows) {
            Err(MigrateError::EmailKeyCollisions { collisions }) => {
                assert_eq!(
                    collisions,
                    [
                        EmailKeyCollision {
                            key: "k@x.io".into(),
                            users: vec![
                                ("5".into(), "k@x.io".into()),
                                ("4".into(), "\u{212A}@x.io".into())
                            ],
                        },
                        EmailKeyCollision {
                            key: "user@xn--bcher-kva.de".into(),
                            users: vec![
                                ("3".into(), "USER@xn--bcher-kva.de".into()),
                                ("2".into(), "user@bücher.de".into()),
                            ],
                        },
                    ]
                );
                let shown = MigrateError::EmailKeyCollisions { collisions }.to_string();
                assert!(shown.contains("2 <user@bücher.de>"), "{shown}");
            }
            other => panic!("expected collisions, got {other:?}"),
        }
    }

    #[test]
    fn only_changed_keys_are_rewritten() {
        let rows = vec![
            row("1", "A@x.io", Some("a@x.io")),
            row("2", "user@Bücher.de", Some("user@bücher.de")),
            row("3", "c@x.io", None),
        ];
        let changes = plan_email_keys(rows).expect("no collision");
        let changed: Vec<(&str, &str)> = changes
            .iter()
            .map(|(r, k)| (r.id.as_str(), k.as_str()))
            .collect();
        assert_eq!(changed, [("2", "user@xn--bcher-kva.de"), ("3", "c@x.io")]);
    }
}
