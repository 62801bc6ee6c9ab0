//! The schema: a sea-orm-migration [`Migrator`] creating exactly the tables and indexes
//! `authward-sqlx` creates, or adopting existing ones (a database `authward-sqlx` created, or
//! FastAPI Users' SQLAlchemy tables). Every step checks before it changes anything, so running
//! it on a database that already has the tables is a no-op: an application can move between
//! the two adapters, or run both, on one database.
//!
//! - `user`: `id` (see [`crate::SeaOrmId`] for its type per backend), `email`, `email_key` (the
//!   case-folded email, unique: `TEXT` on PostgreSQL and SQLite, `VARBINARY(1280)` on MySQL so
//!   that the comparison is byte-exact), `hashed_password`, `is_active`, `is_superuser`,
//!   `is_verified`;
//! - `oauth_account`: an auto-increment `id` (link order), `user_id` referencing the user with
//!   `ON DELETE CASCADE`, the provider columns, `(oauth_name, account_id)` unique;
//! - `accesstoken`: the SHA-256 `digest` as primary key, `user_id` with `ON DELETE CASCADE`,
//!   `created_at`, `family`, `used`, indexed on `(user_id, created_at)` and `created_at`.
//!
//! Adopting a FastAPI Users database: `email_key` is added and filled (two users whose emails
//! differ only in case stop the migration before anything changed on PostgreSQL and SQLite);
//! `oauth_account` is rebuilt with its unique key; plaintext tokens are replaced by their
//! digests, so sessions survive. Password hashes are left byte for byte.
//!
//! The application's own user columns belong to its own migrations, run after this one
//! (`ALTER TABLE "user" ADD COLUMN ...`).

mod mysql;
mod postgres;
mod sqlite;

use std::fmt;
use std::marker::PhantomData;

use async_trait::async_trait;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, QueryResult, Statement,
    TransactionTrait, Value,
};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};

use crate::id::SeaOrmId;

/// The longest table name accepted, so that derived index names (`<table>_email_key_idx`)
/// stay within PostgreSQL's 63- and MySQL's 64-character limits.
pub const MAX_IDENT_LEN: usize = 48;

/// A table name was rejected: expected `^[A-Za-z_][A-Za-z0-9_]{0,47}$`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid table name {0:?}: expected ^[A-Za-z_][A-Za-z0-9_]{{0,47}}$")]
pub struct InvalidTableName(pub String);

fn ident(name: &str) -> Result<String, InvalidTableName> {
    let mut chars = name.chars();
    let valid_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let valid_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid_start && valid_rest && name.len() <= MAX_IDENT_LEN {
        Ok(name.to_owned())
    } else {
        Err(InvalidTableName(name.to_owned()))
    }
}

/// The names of the three tables: FastAPI Users' (`user`, `oauth_account`, `accesstoken`) by
/// default. They must match the `table_name` of the application's entities.
///
/// ```
/// use authward_sea_orm::migration::TableNames;
/// let names = TableNames::default().with_prefix("auth_").unwrap();
/// assert_eq!(names.user(), "auth_user");
/// assert!(TableNames::new("user", "oauth_account", "x; DROP TABLE y").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    user: String,
    oauth_account: String,
    accesstoken: String,
}

impl Default for TableNames {
    fn default() -> Self {
        Self {
            user: "user".into(),
            oauth_account: "oauth_account".into(),
            accesstoken: "accesstoken".into(),
        }
    }
}

impl TableNames {
    /// Explicit names, each validated.
    pub fn new(
        user: &str,
        oauth_account: &str,
        accesstoken: &str,
    ) -> Result<Self, InvalidTableName> {
        Ok(Self {
            user: ident(user)?,
            oauth_account: ident(oauth_account)?,
            accesstoken: ident(accesstoken)?,
        })
    }

    /// Every name with `prefix` in front.
    pub fn with_prefix(self, prefix: &str) -> Result<Self, InvalidTableName> {
        Self::new(
            &format!("{prefix}{}", self.user),
            &format!("{prefix}{}", self.oauth_account),
            &format!("{prefix}{}", self.accesstoken),
        )
    }

    /// The same names with another token table.
    pub fn with_token_table(self, accesstoken: &str) -> Result<Self, InvalidTableName> {
        Ok(Self {
            accesstoken: ident(accesstoken)?,
            ..self
        })
    }

    /// The user table.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The OAuth account table.
    pub fn oauth_account(&self) -> &str {
        &self.oauth_account
    }

    /// The token table.
    pub fn accesstoken(&self) -> &str {
        &self.accesstoken
    }
}

/// `<name>_<suffix>`: derived index and constraint names.
pub(crate) fn suffixed(name: &str, suffix: &str) -> String {
    format!("{name}_{suffix}")
}

/// Suffix of the table an adoption builds before swapping it in.
pub(crate) const NEW_SUFFIX: &str = "authward_new";

/// What a migration needs to know.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub tables: TableNames,
    pub id_pk_ddl: &'static str,
    pub id_fk_ddl: &'static str,
    pub id_db_assigned: bool,
}

impl Plan {
    fn new<ID: SeaOrmId>(tables: TableNames, backend: DbBackend) -> Self {
        Self {
            tables,
            id_pk_ddl: ID::pk_ddl(backend),
            id_fk_ddl: ID::fk_ddl(backend),
            id_db_assigned: ID::generate().is_none(),
        }
    }
}

/// One connection in a transaction, and the helpers the migration steps use.
pub(crate) struct Ddl<'a> {
    tx: &'a DatabaseTransaction,
    backend: DbBackend,
}

impl Ddl<'_> {
    pub(crate) async fn exec(&self, sql: &str) -> Result<(), DbErr> {
        self.tx.execute_unprepared(sql).await.map(|_| ())
    }

    pub(crate) async fn exec_with(&self, sql: &str, values: Vec<Value>) -> Result<(), DbErr> {
        let statement = Statement::from_sql_and_values(self.backend, sql, values);
        self.tx.execute(statement).await.map(|_| ())
    }

    pub(crate) async fn rows(
        &self,
        sql: &str,
        values: Vec<Value>,
    ) -> Result<Vec<QueryResult>, DbErr> {
        let statement = Statement::from_sql_and_values(self.backend, sql, values);
        self.tx.query_all(statement).await
    }

    pub(crate) async fn exists(&self, sql: &str, values: Vec<Value>) -> Result<bool, DbErr> {
        let statement = Statement::from_sql_and_values(self.backend, sql, values);
        Ok(self.tx.query_one(statement).await?.is_some())
    }
}

/// Text at `index` of a row, also from binary-collated MySQL columns.
pub(crate) fn text_at(row: &QueryResult, index: usize) -> Result<String, DbErr> {
    match row.try_get_by_index::<String>(index) {
        Ok(text) => Ok(text),
        Err(first) => {
            let bytes: Vec<u8> = row.try_get_by_index(index).map_err(|_| first)?;
            String::from_utf8(bytes).map_err(|e| DbErr::Custom(e.to_string()))
        }
    }
}

/// Finds case-folded emails shared by several of `emails`.
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

/// The error stopping an adoption when existing users share an email ignoring case.
pub(crate) fn duplicate_emails(emails: &[String]) -> DbErr {
    DbErr::Migration(format!(
        "{} email addresses are used by several users (ignoring case): {}; merge or rename \
         them, then migrate again",
        emails.len(),
        emails.join(", ")
    ))
}

/// The error stopping an adoption when a provider account is linked more than once.
pub(crate) fn duplicate_accounts(accounts: &[(String, String)]) -> DbErr {
    let list: Vec<String> = accounts.iter().map(|(n, a)| format!("{n}/{a}")).collect();
    DbErr::Migration(format!(
        "{} OAuth accounts are linked more than once: {}",
        accounts.len(),
        list.join(", ")
    ))
}

async fn run(
    manager: &SchemaManager<'_>,
    plan_of: impl FnOnce(DbBackend) -> Plan,
    users: bool,
) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let backend = conn.get_database_backend();
    let plan = plan_of(backend);
    // One connection for every step (a lock, a transaction where DDL is transactional).
    let tx = conn.begin().await?;
    let ddl = Ddl { tx: &tx, backend };
    match backend {
        DbBackend::Postgres => {
            postgres::lock(&ddl).await?;
            if users {
                postgres::migrate_users(&ddl, &plan).await?;
            }
            postgres::migrate_tokens(&ddl, &plan).await?;
        }
        DbBackend::MySql => {
            mysql::lock(&ddl).await?;
            let mut result = Ok(());
            if users {
                result = mysql::migrate_users(&ddl, &plan).await;
            }
            if result.is_ok() {
                result = mysql::migrate_tokens(&ddl, &plan).await;
            }
            mysql::unlock(&ddl).await?;
            result?;
        }
        DbBackend::Sqlite => {
            if users {
                sqlite::migrate_users(&ddl, &plan).await?;
            }
            sqlite::migrate_tokens(&ddl, &plan).await?;
        }
    }
    tx.commit().await
}

/// The migration creating (or adopting) the user, OAuth account and token tables for users
/// with IDs of type `ID`.
///
/// Use it in your own migrator before the migrations that add your columns, or use
/// [`Migrator`] when you have none.
///
/// ```
/// use authward_sea_orm::migration::AuthTables;
/// use authward_sea_orm::sea_orm_migration::{MigrationTrait, MigratorTrait};
///
/// pub struct AppMigrator;
///
/// impl MigratorTrait for AppMigrator {
///     fn migrations() -> Vec<Box<dyn MigrationTrait>> {
///         vec![
///             Box::new(AuthTables::<uuid::Uuid>::new()),
///             // Box::new(m20250102_add_profile_columns::Migration),
///         ]
///     }
/// }
/// ```
pub struct AuthTables<ID> {
    tables: TableNames,
    name: String,
    _id: PhantomData<fn() -> ID>,
}

impl<ID> fmt::Debug for AuthTables<ID> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthTables")
            .field("tables", &self.tables)
            .field("name", &self.name)
            .finish()
    }
}

/// The name under which [`AuthTables`] with the default table names is recorded.
pub const AUTH_TABLES_MIGRATION: &str = "m20250101_000001_authward_tables";

impl<ID: SeaOrmId> AuthTables<ID> {
    /// FastAPI Users' table names, recorded as [`AUTH_TABLES_MIGRATION`].
    pub fn new() -> Self {
        Self {
            tables: TableNames::default(),
            name: AUTH_TABLES_MIGRATION.to_owned(),
            _id: PhantomData,
        }
    }

    /// Other table names, recorded as `m20250101_000001_authward_tables_<user table>`.
    pub fn with_tables(tables: TableNames) -> Self {
        Self {
            name: format!("{AUTH_TABLES_MIGRATION}_{}", tables.user),
            tables,
            _id: PhantomData,
        }
    }
}

impl<ID: SeaOrmId> Default for AuthTables<ID> {
    fn default() -> Self {
        Self::new()
    }
}

impl<ID> MigrationName for AuthTables<ID> {
    fn name(&self) -> &str {
        &self.name
    }
}

#[async_trait]
impl<ID: SeaOrmId> MigrationTrait for AuthTables<ID> {
    #[allow(elided_lifetimes_in_paths)]
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = self.tables.clone();
        run(manager, |backend| Plan::new::<ID>(tables, backend), true).await
    }

    /// Drops the three tables (and every row in them).
    #[allow(elided_lifetimes_in_paths)]
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = conn.get_database_backend();
        let t = &self.tables;
        for table in [&t.accesstoken, &t.oauth_account, &t.user] {
            let sql = format!("DROP TABLE IF EXISTS {}", crate::id::quote(backend, table));
            conn.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}

/// A migration creating one more token table (for example `refreshtoken`), referencing the
/// user table named in the same [`TableNames`].
///
/// ```
/// use authward_sea_orm::migration::{TableNames, TokenTable};
/// let names = TableNames::default().with_token_table("refreshtoken").unwrap();
/// let refresh = TokenTable::<uuid::Uuid>::new(names);
/// # let _ = refresh;
/// ```
pub struct TokenTable<ID> {
    tables: TableNames,
    name: String,
    _id: PhantomData<fn() -> ID>,
}

impl<ID> fmt::Debug for TokenTable<ID> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenTable")
            .field("tables", &self.tables)
            .finish()
    }
}

impl<ID: SeaOrmId> TokenTable<ID> {
    /// Creates `tables.accesstoken()`, recorded as
    /// `m20250101_000002_authward_token_table_<table>`.
    pub fn new(tables: TableNames) -> Self {
        Self {
            name: format!(
                "m20250101_000002_authward_token_table_{}",
                tables.accesstoken
            ),
            tables,
            _id: PhantomData,
        }
    }
}

impl<ID> MigrationName for TokenTable<ID> {
    fn name(&self) -> &str {
        &self.name
    }
}

#[async_trait]
impl<ID: SeaOrmId> MigrationTrait for TokenTable<ID> {
    #[allow(elided_lifetimes_in_paths)]
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = self.tables.clone();
        run(manager, |backend| Plan::new::<ID>(tables, backend), false).await
    }

    /// Drops the token table.
    #[allow(elided_lifetimes_in_paths)]
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = conn.get_database_backend();
        let sql = format!(
            "DROP TABLE IF EXISTS {}",
            crate::id::quote(backend, &self.tables.accesstoken)
        );
        conn.execute_unprepared(&sql).await.map(|_| ())
    }
}

/// A ready migrator with [`AuthTables`] and FastAPI Users' table names, for applications whose
/// users have no columns of their own.
///
/// ```no_run
/// # #[cfg(feature = "postgres")]
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use authward_sea_orm::{Migrator, sea_orm_migration::MigratorTrait};
///
/// let db = authward_sea_orm::connect("postgres://postgres@127.0.0.1/app").await?;
/// Migrator::<uuid::Uuid>::up(&db, None).await?;
/// # Ok(()) }
/// ```
pub struct Migrator<ID>(PhantomData<fn() -> ID>);

impl<ID> fmt::Debug for Migrator<ID> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Migrator")
    }
}

#[async_trait]
impl<ID: SeaOrmId> MigratorTrait for Migrator<ID> {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(AuthTables::<ID>::new())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_ignore_unicode_case() {
        let dups = duplicate_keys(["A@x.io".into(), "a@X.io".into(), "b@x.io".into()]);
        assert_eq!(dups, ["a@x.io"]);
        assert!(duplicate_keys(["a@x".into(), "b@x".into()]).is_empty());
    }

    #[test]
    fn table_names_are_validated() {
        assert!(TableNames::new("user", "oauth_account", "accesstoken").is_ok());
        for bad in ["", "1abc", "a-b", "\"user\"", "a;b", "é", &"a".repeat(49)] {
            assert!(
                TableNames::default().with_token_table(bad).is_err(),
                "{bad:?}"
            );
        }
    }
}
