//! MySQL and MariaDB migrations.
//!
//! DDL is not transactional here: each migration step checks before it acts, and a rebuilt
//! table is swapped in with one atomic `RENAME TABLE`, so an interrupted migration can simply
//! be run again. A named lock (`GET_LOCK`) serialises concurrent migrations. The email key
//! backfill is MySQL's own for the same reason (see [`sync_email_keys`]).

use futures::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::{MySql, MySqlConnection, Pool};

use super::ddl::{Ddl, oauth_copied_columns, user_table_ddl};
use super::{
    KEY_INDEX, KeyRow, Migrate, MigrateError, NEW_SUFFIX, OLD_KEY_INDEX, TokenPlan, UserPlan,
    plan_email_keys, schema_error,
};
use crate::dialect::Dialect;

const LOCK: &str = "authward_sqlx_migrate";

const TABLE_OPTIONS: &str = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

impl Migrate for MySql {
    const TABLE_EXISTS: &'static str = "SELECT 1 FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = ?";
    const INDEX_EXISTS: &'static str = "SELECT 1 FROM information_schema.statistics \
         WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ? LIMIT 1";
    const INDEX_BY_TABLE: bool = true;
    const COLUMN_EXISTS: &'static str = "SELECT 1 FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?";
    const EMAIL_KEY_TYPE: &'static str = "VARBINARY(1280)";
    const BOOL_TYPE: &'static str = "BOOL";
    const TRUE: &'static str = "TRUE";
    const FALSE: &'static str = "FALSE";
    const TABLE_OPTIONS: &'static str = TABLE_OPTIONS;

    fn migrate_users<'a>(
        pool: &'a Pool<Self>,
        plan: &'a UserPlan,
    ) -> BoxFuture<'a, Result<(), MigrateError>> {
        Box::pin(async move {
            let mut conn = locked(pool).await?;
            let result = migrate_users(&mut Ddl::new(&mut *conn), plan).await;
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
            let result = migrate_tokens(&mut Ddl::new(&mut *conn), plan).await;
            unlock(&mut conn).await?;
            result
        })
    }
}

type My<'c> = Ddl<'c, MySql>;

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
         FOREIGN KEY (`user_id`) REFERENCES {} (`id`) ON DELETE CASCADE){TABLE_OPTIONS}",
        q(name),
        plan.id_fk_ddl,
        q(&names.suffixed("account_key")),
        q(&names.suffixed("user_id_idx")),
        q(plan.tables.user.as_str()),
    )
}

async fn migrate_users(ddl: &mut My<'_>, plan: &UserPlan) -> Result<(), MigrateError> {
    let user = plan.tables.user.as_str();
    if !ddl.table_exists(user).await? {
        let unique_key = format!(
            "UNIQUE KEY {} (`email_key`)",
            q(&plan.tables.user.suffixed(KEY_INDEX))
        );
        ddl.exec(&user_table_ddl::<MySql>(plan, user, &[unique_key]))
            .await?;
    } else {
        sync_email_keys(ddl, plan).await?;
        ddl.add_missing_columns(user, &plan.extra).await?;
    }
    migrate_oauth(ddl, plan).await
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
async fn sync_email_keys(ddl: &mut My<'_>, plan: &UserPlan) -> Result<(), MigrateError> {
    let user = plan.tables.user.as_str();
    let index = plan.tables.user.suffixed(KEY_INDEX);
    if ddl.index_exists(user, &index).await? {
        return Ok(());
    }
    let has_key = ddl.has_column(user, "email_key").await?;
    let key = if has_key { "`email_key`" } else { "NULL" };
    // A binary UUID reads as hex; anything else as text.
    let id = if plan.id_pk_ddl.contains("BINARY") {
        "LOWER(HEX(`id`))"
    } else {
        "CAST(`id` AS CHAR)"
    };
    let rows: Vec<(String, String, Option<Vec<u8>>)> =
        sqlx::query_as(&format!("SELECT {id}, `email`, {key} FROM {}", q(user)))
            .fetch_all(&mut *ddl.conn)
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
        ddl.exec(&sql).await?;
    }
    if !changes.is_empty() {
        ddl.exec("START TRANSACTION").await?;
        let result = rewrite_keys(ddl.conn, user, changes).await;
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = ddl.exec(end).await;
        result?;
        ended?;
    }
    let old = plan.tables.user.suffixed(OLD_KEY_INDEX);
    let mut sql = format!(
        "ALTER TABLE {} MODIFY `email_key` VARBINARY(1280) NOT NULL, ADD UNIQUE KEY {} (`email_key`)",
        q(user),
        q(&index)
    );
    if ddl.index_exists(user, &old).await? {
        sql.push_str(&format!(", DROP INDEX {}", q(&old)));
    }
    ddl.exec(&sql).await
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

async fn migrate_oauth(ddl: &mut My<'_>, plan: &UserPlan) -> Result<(), MigrateError> {
    let oauth = plan.tables.oauth_account.as_str();
    let account_key = plan.tables.oauth_account.suffixed("account_key");
    if !ddl.table_exists(oauth).await? {
        return ddl.exec(&oauth_table_ddl(plan, oauth)).await;
    }
    if ddl.index_exists(oauth, &account_key).await? {
        return Ok(());
    }
    // A table from FastAPI Users: rebuild it in authward's layout.
    let dups = format!(
        "SELECT MIN(`oauth_name`), MIN(`account_id`) FROM {} \
         GROUP BY BINARY `oauth_name`, BINARY `account_id` HAVING COUNT(*) > 1",
        q(oauth)
    );
    ddl.refuse_duplicate_accounts(&dups).await?;
    let new = plan.tables.oauth_account.suffixed(NEW_SUFFIX);
    let old = plan.tables.oauth_account.suffixed("fastapi_users");
    ddl.recreate(&new, &oauth_table_ddl(plan, &new)).await?;
    let cols = oauth_copied_columns::<MySql>();
    let copy = format!(
        "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ORDER BY `id`",
        q(&new),
        q(oauth)
    );
    ddl.exec(&copy).await?;
    swap_in(ddl, oauth, &new, &old).await
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
         FOREIGN KEY (`user_id`) REFERENCES {} (`id`) ON DELETE CASCADE){TABLE_OPTIONS}",
        q(name),
        plan.id_fk_ddl,
        q(&names.suffixed("user_created_idx")),
        q(&names.suffixed("created_at_idx")),
        q(plan.tables.user.as_str()),
    )
}

async fn migrate_tokens(ddl: &mut My<'_>, plan: &TokenPlan) -> Result<(), MigrateError> {
    let table = plan.tables.accesstoken.as_str();
    if !ddl.table_exists(table).await? {
        return ddl.exec(&token_table_ddl(plan, table)).await;
    }
    if !ddl.has_plaintext_tokens(table).await? {
        return Ok(());
    }
    // FastAPI Users' plaintext tokens: keep each one's SHA-256 digest instead.
    let new = plan.tables.accesstoken.suffixed(NEW_SUFFIX);
    let old = plan.tables.accesstoken.suffixed("fastapi_users");
    ddl.recreate(&new, &token_table_ddl(plan, &new)).await?;
    let copy = format!(
        "INSERT INTO {} (`digest`, `user_id`, `created_at`, `family`, `used`) \
         SELECT UNHEX(SHA2(`token`, 256)), `user_id`, `created_at`, NULL, FALSE FROM {}",
        q(&new),
        q(table)
    );
    ddl.exec(&copy).await?;
    swap_in(ddl, table, &new, &old).await
}

/// Puts the rebuilt `new` in place of `table` with one atomic `RENAME TABLE` (the original
/// passing through `old`), then drops the original.
async fn swap_in(ddl: &mut My<'_>, table: &str, new: &str, old: &str) -> Result<(), MigrateError> {
    let swap = format!(
        "RENAME TABLE {} TO {}, {} TO {}",
        q(table),
        q(old),
        q(new),
        q(table)
    );
    ddl.exec(&swap).await?;
    ddl.exec(&format!("DROP TABLE {}", q(old))).await
}
