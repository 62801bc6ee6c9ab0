//! SQLite: `` `quoted` `` identifiers, `?n` placeholders, `RETURNING`, timestamps as fixed-width
//! UTC text (`YYYY-MM-DD HH:MM:SS.ffffff`, which sorts and compares correctly), transactional
//! DDL.

use futures::future::BoxFuture;
use sqlx::{Pool, Sqlite, SqliteConnection};
use time::{
    OffsetDateTime, PrimitiveDateTime, UtcOffset, format_description::FormatItem,
    macros::format_description,
};

use authward_core::DbError;

use super::{Backend, sealed::Sealed};
use crate::migrate::{
    KEY_INDEX, KeyRow, MigrateError, NEW_SUFFIX, OLD_KEY_INDEX, TokenPlan, UserPlan,
    plan_email_keys, schema_error,
};

const STORED: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]");
const STORED_LENIENT: &[FormatItem<'static>] = format_description!(
    "[year]-[month]-[day][first [ ][T]][hour]:[minute]:[second][optional [.[subsecond]]]"
);

/// A stored timestamp that could not be read back.
#[derive(Debug, thiserror::Error)]
#[error("stored timestamp {0:?} is not YYYY-MM-DD HH:MM:SS[.ffffff]")]
pub struct InvalidStoredTime(String);

impl Sealed for Sqlite {}

impl Backend for Sqlite {
    type Time = String;
    type ExactText = String;
    const INSERT_RETURNING: bool = true;
    const UPDATE_RETURNING: bool = true;

    /// Backticks, not double quotes: SQLite takes a double-quoted name that matches no column
    /// as a string literal, so a connection with a stale schema (another connection just added
    /// a column) would silently select the literal instead of failing and reloading its schema.
    fn quote(ident: &str) -> String {
        format!("`{ident}`")
    }

    fn placeholder(n: usize) -> String {
        format!("?{n}")
    }

    fn time_to_wire(at: OffsetDateTime) -> Result<String, DbError> {
        at.to_offset(UtcOffset::UTC)
            .format(STORED)
            .map_err(DbError::backend)
    }

    fn time_from_wire(stored: String) -> Result<OffsetDateTime, DbError> {
        match PrimitiveDateTime::parse(&stored, STORED_LENIENT) {
            Ok(at) => Ok(at.assume_utc()),
            Err(_) => Err(DbError::backend(InvalidStoredTime(stored))),
        }
    }

    fn migrate_users<'a>(
        pool: &'a Pool<Self>,
        plan: &'a UserPlan,
    ) -> BoxFuture<'a, Result<(), MigrateError>> {
        Box::pin(async move {
            let mut tx = pool.begin().await.map_err(schema_error)?;
            migrate_users(&mut tx, plan).await?;
            tx.commit().await.map_err(schema_error)
        })
    }

    fn migrate_tokens<'a>(
        pool: &'a Pool<Self>,
        plan: &'a TokenPlan,
    ) -> BoxFuture<'a, Result<(), MigrateError>> {
        Box::pin(async move {
            let mut tx = pool.begin().await.map_err(schema_error)?;
            migrate_tokens(&mut tx, plan).await?;
            tx.commit().await.map_err(schema_error)
        })
    }
}

fn q(ident: &str) -> String {
    Sqlite::quote(ident)
}

async fn exec(conn: &mut SqliteConnection, sql: &str) -> Result<(), MigrateError> {
    sqlx::query(sql).execute(conn).await.map_err(schema_error)?;
    Ok(())
}

async fn table_exists(conn: &mut SqliteConnection, table: &str) -> Result<bool, MigrateError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")
            .bind(table)
            .fetch_optional(conn)
            .await
            .map_err(schema_error)?;
    Ok(found.is_some())
}

async fn index_exists(conn: &mut SqliteConnection, index: &str) -> Result<bool, MigrateError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1")
            .bind(index)
            .fetch_optional(conn)
            .await
            .map_err(schema_error)?;
    Ok(found.is_some())
}

async fn has_column(
    conn: &mut SqliteConnection,
    table: &str,
    column: &str,
) -> Result<bool, MigrateError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")
            .bind(table)
            .bind(column)
            .fetch_optional(conn)
            .await
            .map_err(schema_error)?;
    Ok(found.is_some())
}

fn user_table_ddl(plan: &UserPlan, name: &str) -> String {
    let mut cols = vec![
        format!("{} {}", q("id"), plan.id_pk_ddl),
        format!("{} VARCHAR(320) NOT NULL", q("email")),
        format!("{} TEXT NOT NULL", q("email_key")),
        format!("{} VARCHAR(1024) NOT NULL", q("hashed_password")),
        format!("{} BOOLEAN NOT NULL DEFAULT 1", q("is_active")),
        format!("{} BOOLEAN NOT NULL DEFAULT 0", q("is_superuser")),
        format!("{} BOOLEAN NOT NULL DEFAULT 0", q("is_verified")),
    ];
    cols.extend(
        plan.extra
            .iter()
            .map(|c| format!("{} {}", q(c.name), c.sql_type)),
    );
    format!("CREATE TABLE {} ({})", q(name), cols.join(", "))
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

async fn migrate_users(conn: &mut SqliteConnection, plan: &UserPlan) -> Result<(), MigrateError> {
    let user = plan.tables.user.as_str();
    if !table_exists(conn, user).await? {
        exec(conn, &user_table_ddl(plan, user)).await?;
    } else {
        sync_email_keys(conn, plan).await?;
        for column in &plan.extra {
            if !has_column(conn, user, column.name).await? {
                let sql = format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    q(user),
                    q(column.name),
                    column.sql_type
                );
                exec(conn, &sql).await?;
            }
        }
    }
    exec(
        conn,
        &format!(
            "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (`email_key`)",
            q(&plan.tables.user.suffixed(KEY_INDEX)),
            q(user)
        ),
    )
    .await?;
    migrate_oauth(conn, plan).await
}

/// Computes `email_key` under the current rule for every row whose index says otherwise
/// (added column, FastAPI Users table, keys of an earlier rule). Collisions are reported
/// before anything changes; the whole step is part of the migration's transaction.
async fn sync_email_keys(conn: &mut SqliteConnection, plan: &UserPlan) -> Result<(), MigrateError> {
    let user = plan.tables.user.as_str();
    if index_exists(conn, &plan.tables.user.suffixed(KEY_INDEX)).await? {
        return Ok(());
    }
    let has_key = has_column(conn, user, "email_key").await?;
    let key = if has_key { "`email_key`" } else { "NULL" };
    let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT rowid, CAST(`id` AS TEXT), `email`, {key} FROM {}",
        q(user)
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(schema_error)?;
    let rows = rows
        .into_iter()
        .map(|(rowid, id, email, key)| KeyRow {
            locator: rowid,
            id,
            email,
            key: key.map(String::into_bytes),
        })
        .collect();
    let changes = plan_email_keys(rows)?;
    if !has_key {
        let sql = format!("ALTER TABLE {} ADD COLUMN `email_key` TEXT", q(user));
        exec(conn, &sql).await?;
    }
    // No unique index while the keys change (so no transient clash); the new one is built
    // once they are all computed, in the same transaction.
    let old = plan.tables.user.suffixed(OLD_KEY_INDEX);
    exec(conn, &format!("DROP INDEX IF EXISTS {}", q(&old))).await?;
    let update = format!("UPDATE {} SET `email_key` = ?1 WHERE rowid = ?2", q(user));
    for (row, key) in changes {
        sqlx::query(&update)
            .bind(key)
            .bind(row.locator)
            .execute(&mut *conn)
            .await
            .map_err(schema_error)?;
    }
    Ok(())
}

async fn migrate_oauth(conn: &mut SqliteConnection, plan: &UserPlan) -> Result<(), MigrateError> {
    let oauth = plan.tables.oauth_account.as_str();
    let account_key = plan.tables.oauth_account.suffixed("account_key");
    if table_exists(conn, oauth).await? && !index_exists(conn, &account_key).await? {
        // A table from FastAPI Users: rebuild it in authward's layout.
        let dups: Vec<(String, String)> = sqlx::query_as(&format!(
            "SELECT `oauth_name`, `account_id` FROM {} \
             GROUP BY `oauth_name`, `account_id` HAVING COUNT(*) > 1",
            q(oauth)
        ))
        .fetch_all(&mut *conn)
        .await
        .map_err(schema_error)?;
        if !dups.is_empty() {
            return Err(MigrateError::DuplicateOAuthAccounts { accounts: dups });
        }
        let new = plan.tables.oauth_account.suffixed(NEW_SUFFIX);
        exec(conn, &format!("DROP TABLE IF EXISTS {}", q(&new))).await?;
        exec(conn, &oauth_table_ddl(plan, &new)).await?;
        let cols = "`user_id`, `oauth_name`, `access_token`, `expires_at`, \
                    `refresh_token`, `account_id`, `account_email`";
        exec(
            conn,
            &format!(
                "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ORDER BY rowid",
                q(&new),
                q(oauth)
            ),
        )
        .await?;
        exec(conn, &format!("DROP TABLE {}", q(oauth))).await?;
        exec(
            conn,
            &format!("ALTER TABLE {} RENAME TO {}", q(&new), q(oauth)),
        )
        .await?;
    } else if !table_exists(conn, oauth).await? {
        exec(conn, &oauth_table_ddl(plan, oauth)).await?;
    }
    exec(
        conn,
        &format!(
            "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (`oauth_name`, `account_id`); \
             CREATE INDEX IF NOT EXISTS {} ON {} (`user_id`)",
            q(&account_key),
            q(oauth),
            q(&plan.tables.oauth_account.suffixed("user_id_idx")),
            q(oauth),
        ),
    )
    .await
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

async fn migrate_tokens(conn: &mut SqliteConnection, plan: &TokenPlan) -> Result<(), MigrateError> {
    let table = plan.tables.accesstoken.as_str();
    if !table_exists(conn, table).await? {
        exec(conn, &token_table_ddl(plan, table)).await?;
    } else if has_column(conn, table, "token").await? && !has_column(conn, table, "digest").await? {
        // FastAPI Users' plaintext tokens: store each one's digest instead.
        let new = plan.tables.accesstoken.suffixed(NEW_SUFFIX);
        exec(conn, &format!("DROP TABLE IF EXISTS {}", q(&new))).await?;
        exec(conn, &token_table_ddl(plan, &new)).await?;
        let tokens: Vec<String> = sqlx::query_scalar(&format!("SELECT `token` FROM {}", q(table)))
            .fetch_all(&mut *conn)
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
                .execute(&mut *conn)
                .await
                .map_err(schema_error)?;
        }
        exec(conn, &format!("DROP TABLE {}", q(table))).await?;
        exec(
            conn,
            &format!("ALTER TABLE {} RENAME TO {}", q(&new), q(table)),
        )
        .await?;
    }
    exec(
        conn,
        &format!(
            "CREATE INDEX IF NOT EXISTS {} ON {} (`user_id`, `created_at`); \
             CREATE INDEX IF NOT EXISTS {} ON {} (`created_at`)",
            q(&plan.tables.accesstoken.suffixed("user_created_idx")),
            q(table),
            q(&plan.tables.accesstoken.suffixed("created_at_idx")),
            q(table),
        ),
    )
    .await
}
