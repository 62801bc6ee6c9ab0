//! MySQL and MariaDB: `` `quoted` `` identifiers, `?` placeholders, `LAST_INSERT_ID()` instead
//! of `RETURNING`, `DATETIME(6)` timestamps in UTC, binary comparison for everything matched
//! exactly (`email_key` is `VARBINARY`, OAuth names and IDs use `utf8mb4_bin`).
//!
//! DDL is not transactional here: each migration step checks before it acts, and a rebuilt
//! table is swapped in with one atomic `RENAME TABLE`, so an interrupted migration can simply
//! be run again. A named lock (`GET_LOCK`) serialises concurrent migrations.

use futures::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::{MySql, MySqlConnection, Pool};
use time::OffsetDateTime;

use authward_core::DbError;

use super::{Backend, sealed::Sealed};
use crate::migrate::{
    KEY_INDEX, KeyRow, MigrateError, NEW_SUFFIX, OLD_KEY_INDEX, TokenPlan, UserPlan,
    plan_email_keys, schema_error,
};

/// Text stored with a binary collation (`utf8mb4_bin`), which the MySQL protocol flags as
/// binary and sqlx then refuses to decode as `String`; this reads the bytes as UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryCollatedText(pub String);

impl From<String> for BinaryCollatedText {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<BinaryCollatedText> for String {
    fn from(text: BinaryCollatedText) -> String {
        text.0
    }
}

impl sqlx::Type<MySql> for BinaryCollatedText {
    fn type_info() -> sqlx::mysql::MySqlTypeInfo {
        <str as sqlx::Type<MySql>>::type_info()
    }

    fn compatible(ty: &sqlx::mysql::MySqlTypeInfo) -> bool {
        <&[u8] as sqlx::Type<MySql>>::compatible(ty)
    }
}

impl<'q> sqlx::Encode<'q, MySql> for BinaryCollatedText {
    fn encode_by_ref(
        &self,
        buf: &mut Vec<u8>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&str as sqlx::Encode<'q, MySql>>::encode(self.0.as_str(), buf)
    }
}

impl<'r> sqlx::Decode<'r, MySql> for BinaryCollatedText {
    fn decode(value: sqlx::mysql::MySqlValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let bytes = <&[u8] as sqlx::Decode<'r, MySql>>::decode(value)?;
        Ok(Self(std::str::from_utf8(bytes)?.to_owned()))
    }
}

const LOCK: &str = "authward_sqlx_migrate";

impl Sealed for MySql {}

impl Backend for MySql {
    type Time = OffsetDateTime;
    type ExactText = BinaryCollatedText;
    const INSERT_RETURNING: bool = false;
    const UPDATE_RETURNING: bool = false;

    fn quote(ident: &str) -> String {
        format!("`{ident}`")
    }

    fn placeholder(_n: usize) -> String {
        "?".to_owned()
    }

    fn time_to_wire(at: OffsetDateTime) -> Result<OffsetDateTime, DbError> {
        Ok(at)
    }

    fn time_from_wire(stored: OffsetDateTime) -> Result<OffsetDateTime, DbError> {
        Ok(stored)
    }

    fn migrate_users<'a>(
        pool: &'a Pool<Self>,
        plan: &'a UserPlan,
    ) -> BoxFuture<'a, Result<(), MigrateError>> {
        Box::pin(async move {
            let mut conn = locked(pool).await?;
            let result = migrate_users(&mut conn, plan).await;
            unlock(&mut conn).await?;
            result
        })
    }

    fn migrate_tokens<'a>(
        pool: &'a Pool<Self>,
        plan: &'a TokenPlan,
    ) -> BoxFuture<'a, Result<(), MigrateError>> {
        Box::pin(async move {
            let mut conn = locked(pool).await?;
            let result = migrate_tokens(&mut conn, plan).await;
            unlock(&mut conn).await?;
            result
        })
    }
}

fn q(ident: &str) -> String {
    MySql::quote(ident)
}

async fn locked(pool: &Pool<MySql>) -> Result<PoolConnection<MySql>, MigrateError> {
    let mut conn = pool.acquire().await.map_err(schema_error)?;
    sqlx::query("SELECT GET_LOCK(?, 60)")
        .bind(LOCK)
        .execute(&mut *conn)
        .await
        .map_err(schema_error)?;
    Ok(conn)
}

async fn unlock(conn: &mut MySqlConnection) -> Result<(), MigrateError> {
    sqlx::query("SELECT RELEASE_LOCK(?)")
        .bind(LOCK)
        .execute(conn)
        .await
        .map_err(schema_error)?;
    Ok(())
}

async fn exec(conn: &mut MySqlConnection, sql: &str) -> Result<(), MigrateError> {
    sqlx::query(sql).execute(conn).await.map_err(schema_error)?;
    Ok(())
}

async fn table_exists(conn: &mut MySqlConnection, table: &str) -> Result<bool, MigrateError> {
    let found: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = ?",
    )
    .bind(table)
    .fetch_optional(conn)
    .await
    .map_err(schema_error)?;
    Ok(found.is_some())
}

async fn index_exists(
    conn: &mut MySqlConnection,
    table: &str,
    index: &str,
) -> Result<bool, MigrateError> {
    let found: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM information_schema.statistics \
         WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ? LIMIT 1",
    )
    .bind(table)
    .bind(index)
    .fetch_optional(conn)
    .await
    .map_err(schema_error)?;
    Ok(found.is_some())
}

async fn has_column(
    conn: &mut MySqlConnection,
    table: &str,
    column: &str,
) -> Result<bool, MigrateError> {
    let found: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?",
    )
    .bind(table)
    .bind(column)
    .fetch_optional(conn)
    .await
    .map_err(schema_error)?;
    Ok(found.is_some())
}

const TABLE_OPTIONS: &str = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

fn user_table_ddl(plan: &UserPlan, name: &str) -> String {
    let mut cols = vec![
        format!("`id` {}", plan.id_pk_ddl),
        "`email` VARCHAR(320) NOT NULL".to_owned(),
        "`email_key` VARBINARY(1280) NOT NULL".to_owned(),
        "`hashed_password` VARCHAR(1024) NOT NULL".to_owned(),
        "`is_active` BOOL NOT NULL DEFAULT TRUE".to_owned(),
        "`is_superuser` BOOL NOT NULL DEFAULT FALSE".to_owned(),
        "`is_verified` BOOL NOT NULL DEFAULT FALSE".to_owned(),
    ];
    cols.extend(
        plan.extra
            .iter()
            .map(|c| format!("{} {}", q(c.name), c.sql_type)),
    );
    cols.push(format!(
        "UNIQUE KEY {} (`email_key`)",
        q(&plan.tables.user.suffixed(KEY_INDEX))
    ));
    format!(
        "CREATE TABLE {} ({}) {TABLE_OPTIONS}",
        q(name),
        cols.join(", ")
    )
}

fn oauth_table_ddl(plan: &UserPlan, name: &str) -> String {
    let names = &plan.tables.oauth_account;
    format!(
        "CREATE TABLE {} (\
         `id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
         `user_id` {}, \
         `oauth_name` VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, \
         `access_token` TEXT NOT NULL, \
         `expires_at` BIGINT NULL, \
         `refresh_token` TEXT NULL, \
         `account_id` VARCHAR(320) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, \
         `account_email` VARCHAR(320) NOT NULL, \
         UNIQUE KEY {} (`oauth_name`, `account_id`), \
         KEY {} (`user_id`), \
         FOREIGN KEY (`user_id`) REFERENCES {} (`id`) ON DELETE CASCADE) {TABLE_OPTIONS}",
        q(name),
        plan.id_fk_ddl,
        q(&names.suffixed("account_key")),
        q(&names.suffixed("user_id_idx")),
        q(plan.tables.user.as_str()),
    )
}

async fn migrate_users(conn: &mut MySqlConnection, plan: &UserPlan) -> Result<(), MigrateError> {
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
    migrate_oauth(conn, plan).await
}

/// Where a row is while its key changes.
enum Locator {
    /// By its current key (unique and indexed).
    Key(Vec<u8>),
    /// By its exact email, when it has no key yet (an adopted FastAPI Users table).
    Email(String),
}

/// Computes `email_key` under the current rule for every row whose index says otherwise
/// (added column, FastAPI Users table, keys of an earlier rule).
///
/// MySQL commits DDL at once, so the rows are read and checked for collisions before any
/// statement changes anything; the keys then change in one transaction, through temporary
/// values (the new key after a NUL byte, which no real key starts with) so that the unique
/// index never sees two rows with one key; the index swap comes last. A crash before it is
/// finished by the next run (the keys are then already current).
async fn sync_email_keys(conn: &mut MySqlConnection, plan: &UserPlan) -> Result<(), MigrateError> {
    let user = plan.tables.user.as_str();
    let index = plan.tables.user.suffixed(KEY_INDEX);
    if index_exists(conn, user, &index).await? {
        return Ok(());
    }
    let has_key = has_column(conn, user, "email_key").await?;
    let key = if has_key { "`email_key`" } else { "NULL" };
    // A binary UUID reads as hex; anything else as text.
    let id = if plan.id_pk_ddl.contains("BINARY") {
        "LOWER(HEX(`id`))"
    } else {
        "CAST(`id` AS CHAR)"
    };
    let rows: Vec<(String, String, Option<Vec<u8>>)> =
        sqlx::query_as(&format!("SELECT {id}, `email`, {key} FROM {}", q(user)))
            .fetch_all(&mut *conn)
            .await
            .map_err(schema_error)?;
    let rows = rows
        .into_iter()
        .map(|(id, email, key)| KeyRow {
            locator: match &key {
                Some(key) => Locator::Key(key.clone()),
                None => Locator::Email(email.clone()),
            },
            id,
            email,
            key,
        })
        .collect();
    let changes = plan_email_keys(rows)?;
    if !has_key {
        let sql = format!(
            "ALTER TABLE {} ADD COLUMN `email_key` VARBINARY(1280) NULL",
            q(user)
        );
        exec(conn, &sql).await?;
    }
    if !changes.is_empty() {
        exec(conn, "START TRANSACTION").await?;
        let result = rewrite_keys(conn, user, changes).await;
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = exec(conn, end).await;
        result?;
        ended?;
    }
    let old = plan.tables.user.suffixed(OLD_KEY_INDEX);
    let mut sql = format!(
        "ALTER TABLE {} MODIFY `email_key` VARBINARY(1280) NOT NULL, ADD UNIQUE KEY {} (`email_key`)",
        q(user),
        q(&index)
    );
    if index_exists(conn, user, &old).await? {
        sql.push_str(&format!(", DROP INDEX {}", q(&old)));
    }
    exec(conn, &sql).await
}

async fn rewrite_keys(
    conn: &mut MySqlConnection,
    user: &str,
    changes: Vec<(KeyRow<Locator>, String)>,
) -> Result<(), MigrateError> {
    let by_key = format!(
        "UPDATE {} SET `email_key` = ? WHERE `email_key` = ?",
        q(user)
    );
    let by_email = format!(
        "UPDATE {} SET `email_key` = ? WHERE BINARY `email` = BINARY ? AND `email_key` IS NULL",
        q(user)
    );
    let temporary = |key: &str| {
        let mut value = vec![0_u8];
        value.extend_from_slice(key.as_bytes());
        value
    };
    for (row, key) in &changes {
        let query = match &row.locator {
            Locator::Key(old) => sqlx::query(&by_key)
                .bind(temporary(key))
                .bind(old.as_slice()),
            Locator::Email(email) => sqlx::query(&by_email)
                .bind(temporary(key))
                .bind(email.as_str()),
        };
        query.execute(&mut *conn).await.map_err(schema_error)?;
    }
    for (_, key) in &changes {
        sqlx::query(&by_key)
            .bind(key.as_bytes())
            .bind(temporary(key))
            .execute(&mut *conn)
            .await
            .map_err(schema_error)?;
    }
    Ok(())
}

async fn migrate_oauth(conn: &mut MySqlConnection, plan: &UserPlan) -> Result<(), MigrateError> {
    let oauth = plan.tables.oauth_account.as_str();
    let account_key = plan.tables.oauth_account.suffixed("account_key");
    if !table_exists(conn, oauth).await? {
        return exec(conn, &oauth_table_ddl(plan, oauth)).await;
    }
    if index_exists(conn, oauth, &account_key).await? {
        return Ok(());
    }
    // A table from FastAPI Users: rebuild it in authward's layout.
    let dups: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT MIN(`oauth_name`), MIN(`account_id`) FROM {} \
         GROUP BY BINARY `oauth_name`, BINARY `account_id` HAVING COUNT(*) > 1",
        q(oauth)
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(schema_error)?;
    if !dups.is_empty() {
        return Err(MigrateError::DuplicateOAuthAccounts { accounts: dups });
    }
    let new = plan.tables.oauth_account.suffixed(NEW_SUFFIX);
    let old = plan.tables.oauth_account.suffixed("fastapi_users");
    exec(conn, &format!("DROP TABLE IF EXISTS {}", q(&new))).await?;
    exec(conn, &oauth_table_ddl(plan, &new)).await?;
    let cols = "`user_id`, `oauth_name`, `access_token`, `expires_at`, `refresh_token`, \
                `account_id`, `account_email`";
    let copy = format!(
        "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ORDER BY `id`",
        q(&new),
        q(oauth)
    );
    exec(conn, &copy).await?;
    let swap = format!(
        "RENAME TABLE {} TO {}, {} TO {}",
        q(oauth),
        q(&old),
        q(&new),
        q(oauth)
    );
    exec(conn, &swap).await?;
    exec(conn, &format!("DROP TABLE {}", q(&old))).await
}

fn token_table_ddl(plan: &TokenPlan, name: &str) -> String {
    let names = &plan.tables.accesstoken;
    format!(
        "CREATE TABLE {} (\
         `digest` BINARY(32) NOT NULL PRIMARY KEY, \
         `user_id` {}, \
         `created_at` DATETIME(6) NOT NULL, \
         `family` CHAR(36) NULL, \
         `used` BOOL NOT NULL DEFAULT FALSE, \
         KEY {} (`user_id`, `created_at`), \
         KEY {} (`created_at`), \
         FOREIGN KEY (`user_id`) REFERENCES {} (`id`) ON DELETE CASCADE) {TABLE_OPTIONS}",
        q(name),
        plan.id_fk_ddl,
        q(&names.suffixed("user_created_idx")),
        q(&names.suffixed("created_at_idx")),
        q(plan.tables.user.as_str()),
    )
}

async fn migrate_tokens(conn: &mut MySqlConnection, plan: &TokenPlan) -> Result<(), MigrateError> {
    let table = plan.tables.accesstoken.as_str();
    if !table_exists(conn, table).await? {
        return exec(conn, &token_table_ddl(plan, table)).await;
    }
    if !has_column(conn, table, "token").await? || has_column(conn, table, "digest").await? {
        return Ok(());
    }
    // FastAPI Users' plaintext tokens: keep each one's SHA-256 digest instead.
    let new = plan.tables.accesstoken.suffixed(NEW_SUFFIX);
    let old = plan.tables.accesstoken.suffixed("fastapi_users");
    exec(conn, &format!("DROP TABLE IF EXISTS {}", q(&new))).await?;
    exec(conn, &token_table_ddl(plan, &new)).await?;
    let copy = format!(
        "INSERT INTO {} (`digest`, `user_id`, `created_at`, `family`, `used`) \
         SELECT UNHEX(SHA2(`token`, 256)), `user_id`, `created_at`, NULL, FALSE FROM {}",
        q(&new),
        q(table)
    );
    exec(conn, &copy).await?;
    let swap = format!(
        "RENAME TABLE {} TO {}, {} TO {}",
        q(table),
        q(&old),
        q(&new),
        q(table)
    );
    exec(conn, &swap).await?;
    exec(conn, &format!("DROP TABLE {}", q(&old))).await
}
