//! The schema: a sea-orm-migration [`Migrator`] running the migration of
//! [`authward_sql_schema`], the one `authward-sqlx` runs too, over a SeaORM transaction. It
//! creates the tables and indexes, or adopts existing ones (a database `authward-sqlx`
//! created, or FastAPI Users' SQLAlchemy tables). Every step checks before it changes anything,
//! so running it on a database that already has the tables is a no-op: an application can move
//! between the two adapters, or run both, on one database.
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
//! share a key stop the migration before anything changed, naming them); `oauth_account` is
//! rebuilt with its unique key; plaintext tokens are replaced by their digests, so sessions
//! survive. Password hashes are left byte for byte. Keys computed under an earlier rule are
//! recomputed (see [`authward_sql_schema`] for every step).
//!
//! The application's own user columns belong to its own migrations, run after this one
//! (`ALTER TABLE "user" ADD COLUMN ...`).

mod runner;

use std::fmt;
use std::marker::PhantomData;

use async_trait::async_trait;
use authward_sql_schema::{SchemaError, TokenPlan, UserPlan};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, TransactionTrait};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};

pub use authward_sql_schema::{InvalidIdent, MAX_IDENT_LEN, TableNames};

use crate::id::SeaOrmId;
use runner::SeaOrmRunner;

/// A failed step as SeaORM reports it: the driver's own error, or a refusal (colliding email
/// keys, a provider account linked twice) as [`DbErr::Migration`] naming the rows.
fn migration_error(err: SchemaError<DbErr>) -> DbErr {
    match err {
        SchemaError::Driver(err) => err,
        refused => DbErr::Migration(refused.to_string()),
    }
}

fn user_plan<ID: SeaOrmId>(tables: TableNames, backend: DbBackend) -> UserPlan {
    UserPlan {
        tables,
        id_pk_ddl: ID::pk_ddl(backend),
        id_fk_ddl: ID::fk_ddl(backend),
        id_db_assigned: ID::generate().is_none(),
        extra: Vec::new(),
    }
}

async fn run<ID: SeaOrmId>(
    manager: &SchemaManager<'_>,
    tables: TableNames,
    users: bool,
) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let backend = conn.get_database_backend();
    let plan = user_plan::<ID>(tables, backend);
    // One connection for every step (a lock, a transaction where DDL is transactional).
    let tx = conn.begin().await?;
    let mut runner = SeaOrmRunner::new(&tx, backend);
    if users {
        authward_sql_schema::migrate_users(&mut runner, &plan)
            .await
            .map_err(migration_error)?;
    }
    let tokens = TokenPlan {
        id_fk_ddl: plan.id_fk_ddl,
        tables: plan.tables,
    };
    authward_sql_schema::migrate_tokens(&mut runner, &tokens)
        .await
        .map_err(migration_error)?;
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
        run::<ID>(manager, self.tables.clone(), true).await
    }

    /// Drops the three tables (and every row in them).
    #[allow(elided_lifetimes_in_paths)]
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = conn.get_database_backend();
        let t = &self.tables;
        for table in [&t.accesstoken, &t.oauth_account, &t.user] {
            let table = table.as_str();
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
    /// Creates `tables.accesstoken`, recorded as
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
        run::<ID>(manager, self.tables.clone(), false).await
    }

    /// Drops the token table.
    #[allow(elided_lifetimes_in_paths)]
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = conn.get_database_backend();
        let sql = format!(
            "DROP TABLE IF EXISTS {}",
            crate::id::quote(backend, self.tables.accesstoken.as_str())
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
