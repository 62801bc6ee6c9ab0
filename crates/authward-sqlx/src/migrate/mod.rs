//! Embedded migrations: create the tables, or adopt existing ones (an earlier authward schema
//! or FastAPI Users' SQLAlchemy tables). Every step checks before it changes anything, so
//! running `migrate()` again is a no-op.
//!
//! Adopting a FastAPI Users database:
//! - `user`: adds `email_key` (the case-folded email, [`authward_core::user::email_key`]),
//!   fills it for existing rows and makes it unique; every other column, the password hash
//!   included, is left byte-for-byte as it was. Two existing users whose emails differ only in
//!   case stop the migration with [`MigrateError::DuplicateEmails`] before anything changed
//!   (PostgreSQL, SQLite) — resolve them first. On PostgreSQL an `INTEGER`/`SERIAL` id is
//!   widened to `BIGINT` for `i64` stores.
//! - `oauth_account`: rebuilt with a unique `(oauth_name, account_id)`, an auto-increment `id`
//!   (link order) and, on MySQL, binary collation for exact matching; rows are copied.
//!   Duplicate pairs stop the migration with [`MigrateError::DuplicateOAuthAccounts`].
//! - `accesstoken`: FastAPI Users keeps tokens in the clear; they are converted to SHA-256
//!   digests in place, so existing sessions keep working and no plaintext token remains.

use authward_core::DbError;

use crate::config::TableNames;
use crate::error::db_error;
use crate::extra::ExtraColumn;

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
    /// Existing users whose emails are equal ignoring case (FastAPI Users allowed it). Merge
    /// or rename them, then migrate again.
    #[error("{} email addresses are used by several users (ignoring case)", emails.len())]
    DuplicateEmails {
        /// The case-folded addresses concerned.
        emails: Vec<String>,
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

/// Finds case-folded emails shared by several of `rows` (`(id as text, email)`).
pub(crate) fn duplicate_keys(emails: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut keys: Vec<String> = emails
        .into_iter()
        .map(|e| authward_core::user::email_key(&e))
        .collect();
    keys.sort();
    let mut dups: Vec<String> = keys
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0].clone())
        .collect();
    dups.dedup();
    dups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_ignore_unicode_case() {
        let dups = duplicate_keys(["A@x.io".into(), "a@X.io".into(), "b@x.io".into()]);
        assert_eq!(dups, ["a@x.io"]);
        let dups = duplicate_keys(["ÉLODIE@x.fr".into(), "élodie@x.fr".into()]);
        assert_eq!(dups, ["élodie@x.fr"]);
        assert!(duplicate_keys(["a@x".into(), "b@x".into()]).is_empty());
    }
}
