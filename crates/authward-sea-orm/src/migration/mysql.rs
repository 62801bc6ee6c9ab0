//! MySQL and MariaDB: the statements of `authward-sqlx`'s MySQL migration. DDL is not
//! transactional here: each step checks before it acts, and a rebuilt table is swapped in with
//! one atomic `RENAME TABLE`, so an interrupted migration can simply be run again.

use sea_orm::{DbErr, Value};

use super::{
    Ddl, NEW_SUFFIX, Plan, duplicate_accounts, duplicate_emails, duplicate_keys, suffixed, text_at,
};

/// The named lock `authward-sqlx` takes too.
const LOCK: &str = "authward_sqlx_migrate";
const TABLE_OPTIONS: &str = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

fn q(ident: &str) -> String {
    format!("`{ident}`")
}

pub(super) async fn lock(ddl: &Ddl<'_>) -> Result<(), DbErr> {
    ddl.rows("SELECT GET_LOCK(?, 60)", vec![LOCK.into()])
        .await
        .map(|_| ())
}

pub(super) async fn unlock(ddl: &Ddl<'_>) -> Result<(), DbErr> {
    ddl.rows("SELECT RELEASE_LOCK(?)", vec![LOCK.into()])
        .await
        .map(|_| ())
}

async fn table_exists(ddl: &Ddl<'_>, table: &str) -> Result<bool, DbErr> {
    ddl.exists(
        "SELECT 1 FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = ?",
        vec![table.into()],
    )
    .await
}

async fn index_exists(ddl: &Ddl<'_>, table: &str, index: &str) -> Result<bool, DbErr> {
    ddl.exists(
        "SELECT 1 FROM information_schema.statistics \
         WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ? LIMIT 1",
        vec![table.into(), index.into()],
    )
    .await
}

async fn has_column(ddl: &Ddl<'_>, table: &str, column: &str) -> Result<bool, DbErr> {
    ddl.exists(
        "SELECT 1 FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?",
        vec![table.into(), column.into()],
    )
    .await
}

fn user_table_ddl(plan: &Plan, name: &str) -> String {
    format!(
        "CREATE TABLE {} (`id` {}, `email` VARCHAR(320) NOT NULL, \
         `email_key` VARBINARY(1280) NOT NULL, `hashed_password` VARCHAR(1024) NOT NULL, \
         `is_active` BOOL NOT NULL DEFAULT TRUE, `is_superuser` BOOL NOT NULL DEFAULT FALSE, \
         `is_verified` BOOL NOT NULL DEFAULT FALSE, UNIQUE KEY {} (`email_key`)) {TABLE_OPTIONS}",
        q(name),
        plan.id_pk_ddl,
        q(&suffixed(plan.tables.user(), "email_key_idx"))
    )
}

fn oauth_table_ddl(plan: &Plan, name: &str) -> String {
    let oauth = plan.tables.oauth_account();
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
        q(&suffixed(oauth, "account_key")),
        q(&suffixed(oauth, "user_id_idx")),
        q(plan.tables.user()),
    )
}

pub(super) async fn migrate_users(ddl: &Ddl<'_>, plan: &Plan) -> Result<(), DbErr> {
    let user = plan.tables.user();
    if !table_exists(ddl, user).await? {
        ddl.exec(&user_table_ddl(plan, user)).await?;
    } else {
        if !has_column(ddl, user, "email_key").await? {
            let sql = format!(
                "ALTER TABLE {} ADD COLUMN `email_key` VARBINARY(1280) NULL",
                q(user)
            );
            ddl.exec(&sql).await?;
        }
        backfill_email_keys(ddl, user).await?;
        let index = suffixed(user, "email_key_idx");
        if !index_exists(ddl, user, &index).await? {
            let sql = format!(
                "ALTER TABLE {} MODIFY `email_key` VARBINARY(1280) NOT NULL, \
                 ADD UNIQUE KEY {} (`email_key`)",
                q(user),
                q(&index)
            );
            ddl.exec(&sql).await?;
        }
    }
    migrate_oauth(ddl, plan).await
}

/// Fills `email_key` where it is missing, refusing case-insensitive duplicates.
async fn backfill_email_keys(ddl: &Ddl<'_>, user: &str) -> Result<(), DbErr> {
    let sql = format!("SELECT `email` FROM {} WHERE `email_key` IS NULL", q(user));
    let missing = ddl.rows(&sql, vec![]).await?;
    if missing.is_empty() {
        return Ok(());
    }
    let all = ddl
        .rows(&format!("SELECT `email` FROM {}", q(user)), vec![])
        .await?;
    let emails: Vec<String> = all
        .iter()
        .map(|r| text_at(r, 0))
        .collect::<Result<_, _>>()?;
    let dups = duplicate_keys(emails);
    if !dups.is_empty() {
        return Err(duplicate_emails(&dups));
    }
    let update = format!(
        "UPDATE {} SET `email_key` = ? WHERE BINARY `email` = BINARY ? AND `email_key` IS NULL",
        q(user)
    );
    for row in &missing {
        let email = text_at(row, 0)?;
        let key = authward_core::user::email_key(&email);
        ddl.exec_with(&update, vec![Value::from(key), Value::from(email)])
            .await?;
    }
    Ok(())
}

async fn migrate_oauth(ddl: &Ddl<'_>, plan: &Plan) -> Result<(), DbErr> {
    let oauth = plan.tables.oauth_account();
    let account_key = suffixed(oauth, "account_key");
    if !table_exists(ddl, oauth).await? {
        return ddl.exec(&oauth_table_ddl(plan, oauth)).await;
    }
    if index_exists(ddl, oauth, &account_key).await? {
        return Ok(());
    }
    // A table from FastAPI Users: rebuild it in authward's layout.
    let sql = format!(
        "SELECT MIN(`oauth_name`), MIN(`account_id`) FROM {} \
         GROUP BY BINARY `oauth_name`, BINARY `account_id` HAVING COUNT(*) > 1",
        q(oauth)
    );
    let dups = ddl.rows(&sql, vec![]).await?;
    if !dups.is_empty() {
        let dups: Vec<(String, String)> = dups
            .iter()
            .map(|r| Ok((text_at(r, 0)?, text_at(r, 1)?)))
            .collect::<Result<_, DbErr>>()?;
        return Err(duplicate_accounts(&dups));
    }
    let new = suffixed(oauth, NEW_SUFFIX);
    let old = suffixed(oauth, "fastapi_users");
    ddl.exec(&format!("DROP TABLE IF EXISTS {}", q(&new)))
        .await?;
    ddl.exec(&oauth_table_ddl(plan, &new)).await?;
    let cols = "`user_id`, `oauth_name`, `access_token`, `expires_at`, `refresh_token`, \
                `account_id`, `account_email`";
    let copy = format!(
        "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ORDER BY `id`",
        q(&new),
        q(oauth)
    );
    ddl.exec(&copy).await?;
    let swap = format!(
        "RENAME TABLE {} TO {}, {} TO {}",
        q(oauth),
        q(&old),
        q(&new),
        q(oauth)
    );
    ddl.exec(&swap).await?;
    ddl.exec(&format!("DROP TABLE {}", q(&old))).await
}

fn token_table_ddl(plan: &Plan, name: &str) -> String {
    let table = plan.tables.accesstoken();
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
        q(&suffixed(table, "user_created_idx")),
        q(&suffixed(table, "created_at_idx")),
        q(plan.tables.user()),
    )
}

pub(super) async fn migrate_tokens(ddl: &Ddl<'_>, plan: &Plan) -> Result<(), DbErr> {
    let table = plan.tables.accesstoken();
    if !table_exists(ddl, table).await? {
        return ddl.exec(&token_table_ddl(plan, table)).await;
    }
    if !has_column(ddl, table, "token").await? || has_column(ddl, table, "digest").await? {
        return Ok(());
    }
    // FastAPI Users' plaintext tokens: keep each one's SHA-256 digest instead.
    let new = suffixed(table, NEW_SUFFIX);
    let old = suffixed(table, "fastapi_users");
    ddl.exec(&format!("DROP TABLE IF EXISTS {}", q(&new)))
        .await?;
    ddl.exec(&token_table_ddl(plan, &new)).await?;
    let copy = format!(
        "INSERT INTO {} (`digest`, `user_id`, `created_at`, `family`, `used`) \
         SELECT UNHEX(SHA2(`token`, 256)), `user_id`, `created_at`, NULL, FALSE FROM {}",
        q(&new),
        q(table)
    );
    ddl.exec(&copy).await?;
    let swap = format!(
        "RENAME TABLE {} TO {}, {} TO {}",
        q(table),
        q(&old),
        q(&new),
        q(table)
    );
    ddl.exec(&swap).await?;
    ddl.exec(&format!("DROP TABLE {}", q(&old))).await
}
