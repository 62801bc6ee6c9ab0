//! SQLite migrations: transactional DDL (a migration either completes or changes nothing).

use futures::future::BoxFuture;
use sqlx::{Pool, Sqlite};

use super::ddl::{Ddl, oauth_copied_columns, user_table_ddl};
use super::{
    KEY_INDEX, Migrate, MigrateError, NEW_SUFFIX, TokenPlan, TransactionalBackfill, UserPlan,
    schema_error,
};
use crate::dialect::Dialect;

impl Migrate for Sqlite {
    const TABLE_EXISTS: &'static str =
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1";
    const INDEX_EXISTS: &'static str =
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1";
    const INDEX_BY_TABLE: bool = false;
    const COLUMN_EXISTS: &'static str = "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2";
    const EMAIL_KEY_TYPE: &'static str = "TEXT";
    const BOOL_TYPE: &'static str = "BOOLEAN";
    const TRUE: &'static str = "1";
    const FALSE: &'static str = "0";
    const TABLE_OPTIONS: &'static str = "";

    fn migrate_users<'a>(
        pool: &'a Pool<Self>,
        plan: &'a UserPlan,
    ) -> BoxFuture<'a, Result<(), MigrateError>> {
        Box::pin(async move {
            let mut tx = pool.begin().await.map_err(schema_error)?;
            migrate_users(&mut Ddl::new(&mut *tx), plan).await?;
            tx.commit().await.map_err(schema_error)
        })
    }

    fn migrate_tokens<'a>(
        pool: &'a Pool<Self>,
        plan: &'a TokenPlan,
    ) -> BoxFuture<'a, Result<(), MigrateError>> {
        Box::pin(async move {
            let mut tx = pool.begin().await.map_err(schema_error)?;
            migrate_tokens(&mut Ddl::new(&mut *tx), plan).await?;
            tx.commit().await.map_err(schema_error)
        })
    }
}

impl TransactionalBackfill for Sqlite {
    const NULL_TEXT: &'static str = "NULL";
    const ID_AS_TEXT: &'static str = "CAST(`id` AS TEXT)";
    const ROW_LOCATOR: &'static str = "CAST(rowid AS TEXT)";
    const ROW_MATCH: &'static str = "rowid = CAST({} AS INTEGER)";
    const SET_NOT_NULL: Option<&'static str> = None;
}

type Lite<'c> = Ddl<'c, Sqlite>;

fn q(ident: &str) -> String {
    Sqlite::quote(ident)
}

fn oauth_table_ddl(plan: &UserPlan, name: &str) -> String {
    format!(
        "CREATE TABLE {} (\
         `id` INTEGER PRIMARY KEY AUTOINCREMENT, \
         `user_id` {} REFERENCES {} (`id`) ON DELETE CASCADE, \
         `oauth_name` VARCHAR(100) NOT NULL, \
         `access_token` TEXT NOT NULL, \
         `expires_at` BIGINT, \
         `refresh_token` TEXT, \
         `account_id` VARCHAR(320) NOT NULL, \
         `account_email` VARCHAR(320) NOT NULL)",
        q(name),
        plan.id_fk_ddl,
        q(plan.tables.user.as_str()),
    )
}

async fn migrate_users(ddl: &mut Lite<'_>, plan: &UserPlan) -> Result<(), MigrateError> {
    let user = plan.tables.user.as_str();
    if !ddl.table_exists(user).await? {
        ddl.exec(&user_table_ddl::<Sqlite>(plan, user, &[])).await?;
    } else {
        ddl.backfill_email_keys(plan).await?;
        ddl.add_missing_columns(user, &plan.extra).await?;
    }
    ddl.ensure_index(
        true,
        &plan.tables.user.suffixed(KEY_INDEX),
        user,
        &["email_key"],
    )
    .await?;
    migrate_oauth(ddl, plan).await
}

async fn migrate_oauth(ddl: &mut Lite<'_>, plan: &UserPlan) -> Result<(), MigrateError> {
    let oauth = plan.tables.oauth_account.as_str();
    let account_key = plan.tables.oauth_account.suffixed("account_key");
    if ddl.table_exists(oauth).await? && !ddl.index_exists(oauth, &account_key).await? {
        // A table from FastAPI Users: rebuild it in authward's layout.
        let dups = format!(
            "SELECT `oauth_name`, `account_id` FROM {} \
             GROUP BY `oauth_name`, `account_id` HAVING COUNT(*) > 1",
            q(oauth)
        );
        ddl.refuse_duplicate_accounts(&dups).await?;
        let new = plan.tables.oauth_account.suffixed(NEW_SUFFIX);
        ddl.recreate(&new, &oauth_table_ddl(plan, &new)).await?;
        let cols = oauth_copied_columns::<Sqlite>();
        ddl.exec(&format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ORDER BY rowid",
            q(&new),
            q(oauth)
        ))
        .await?;
        ddl.replace(oauth, &new).await?;
    } else if !ddl.table_exists(oauth).await? {
        ddl.exec(&oauth_table_ddl(plan, oauth)).await?;
    }
    ddl.ensure_oauth_indexes(plan).await
}

fn token_table_ddl(plan: &TokenPlan, name: &str) -> String {
    format!(
        "CREATE TABLE {} (\
         `digest` BLOB NOT NULL PRIMARY KEY, \
         `user_id` {} REFERENCES {} (`id`) ON DELETE CASCADE, \
         `created_at` TEXT NOT NULL, \
         `family` CHAR(36), \
         `used` BOOLEAN NOT NULL DEFAULT 0)",
        q(name),
        plan.id_fk_ddl,
        q(plan.tables.user.as_str()),
    )
}

async fn migrate_tokens(ddl: &mut Lite<'_>, plan: &TokenPlan) -> Result<(), MigrateError> {
    let table = plan.tables.accesstoken.as_str();
    if !ddl.table_exists(table).await? {
        ddl.exec(&token_table_ddl(plan, table)).await?;
    } else if ddl.has_plaintext_tokens(table).await? {
        // FastAPI Users' plaintext tokens: store each one's digest instead (SQLite has no
        // SHA-256 of its own, so each token is hashed here).
        let new = plan.tables.accesstoken.suffixed(NEW_SUFFIX);
        ddl.recreate(&new, &token_table_ddl(plan, &new)).await?;
        let tokens: Vec<String> = sqlx::query_scalar(&format!("SELECT `token` FROM {}", q(table)))
            .fetch_all(&mut *ddl.conn)
            .await
            .map_err(schema_error)?;
        let copy = format!(
            "INSERT INTO {} (`digest`, `user_id`, `created_at`, `family`, `used`) \
             SELECT ?1, `user_id`, `created_at`, NULL, 0 FROM {} WHERE `token` = ?2",
            q(&new),
            q(table)
        );
        for token in tokens {
            let digest = authward_core::TokenDigest::of(&token);
            sqlx::query(&copy)
                .bind(digest.as_bytes().as_slice())
                .bind(token)
                .execute(&mut *ddl.conn)
                .await
                .map_err(schema_error)?;
        }
        ddl.replace(table, &new).await?;
    }
    ddl.ensure_token_indexes(plan).await
}
