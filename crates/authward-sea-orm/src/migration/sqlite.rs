//! SQLite: the statements of `authward-sqlx`'s SQLite migration. Transactional DDL, so a
//! failed adoption changes nothing.

use sea_orm::{DbErr, Value};

use super::{
    Ddl, NEW_SUFFIX, Plan, duplicate_accounts, duplicate_emails, duplicate_keys, suffixed, text_at,
};

fn q(ident: &str) -> String {
    format!("`{ident}`")
}

async fn table_exists(ddl: &Ddl<'_>, table: &str) -> Result<bool, DbErr> {
    ddl.exists(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
        vec![table.into()],
    )
    .await
}

async fn index_exists(ddl: &Ddl<'_>, index: &str) -> Result<bool, DbErr> {
    ddl.exists(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?",
        vec![index.into()],
    )
    .await
}

async fn has_column(ddl: &Ddl<'_>, table: &str, column: &str) -> Result<bool, DbErr> {
    ddl.exists(
        "SELECT 1 FROM pragma_table_info(?) WHERE name = ?",
        vec![table.into(), column.into()],
    )
    .await
}

fn user_table_ddl(plan: &Plan, name: &str) -> String {
    format!(
        "CREATE TABLE {} (`id` {}, `email` VARCHAR(320) NOT NULL, `email_key` TEXT NOT NULL, \
         `hashed_password` VARCHAR(1024) NOT NULL, `is_active` BOOLEAN NOT NULL DEFAULT 1, \
         `is_superuser` BOOLEAN NOT NULL DEFAULT 0, `is_verified` BOOLEAN NOT NULL DEFAULT 0)",
        q(name),
        plan.id_pk_ddl
    )
}

fn oauth_table_ddl(plan: &Plan, name: &str) -> String {
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
        q(plan.tables.user()),
    )
}

pub(super) async fn migrate_users(ddl: &Ddl<'_>, plan: &Plan) -> Result<(), DbErr> {
    let user = plan.tables.user();
    if !table_exists(ddl, user).await? {
        ddl.exec(&user_table_ddl(plan, user)).await?;
    } else {
        if !has_column(ddl, user, "email_key").await? {
            ddl.exec(&format!(
                "ALTER TABLE {} ADD COLUMN `email_key` TEXT",
                q(user)
            ))
            .await?;
        }
        backfill_email_keys(ddl, user).await?;
    }
    ddl.exec(&format!(
        "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (`email_key`)",
        q(&suffixed(user, "email_key_idx")),
        q(user)
    ))
    .await?;
    migrate_oauth(ddl, plan).await
}

/// Fills `email_key` where it is missing, refusing case-insensitive duplicates.
async fn backfill_email_keys(ddl: &Ddl<'_>, user: &str) -> Result<(), DbErr> {
    let sql = format!(
        "SELECT rowid, `email` FROM {} WHERE `email_key` IS NULL",
        q(user)
    );
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
    let update = format!("UPDATE {} SET `email_key` = ? WHERE rowid = ?", q(user));
    for row in &missing {
        let rowid: i64 = row.try_get_by_index(0)?;
        let email = text_at(row, 1)?;
        let key = authward_core::user::email_key(&email);
        ddl.exec_with(&update, vec![Value::from(key), Value::from(rowid)])
            .await?;
    }
    Ok(())
}

async fn migrate_oauth(ddl: &Ddl<'_>, plan: &Plan) -> Result<(), DbErr> {
    let oauth = plan.tables.oauth_account();
    let account_key = suffixed(oauth, "account_key");
    if table_exists(ddl, oauth).await? && !index_exists(ddl, &account_key).await? {
        // A table from FastAPI Users: rebuild it in authward's layout.
        let sql = format!(
            "SELECT `oauth_name`, `account_id` FROM {} \
             GROUP BY `oauth_name`, `account_id` HAVING COUNT(*) > 1",
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
        ddl.exec(&format!("DROP TABLE IF EXISTS {}", q(&new)))
            .await?;
        ddl.exec(&oauth_table_ddl(plan, &new)).await?;
        let cols = "`user_id`, `oauth_name`, `access_token`, `expires_at`, \
                    `refresh_token`, `account_id`, `account_email`";
        ddl.exec(&format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ORDER BY rowid",
            q(&new),
            q(oauth)
        ))
        .await?;
        ddl.exec(&format!("DROP TABLE {}", q(oauth))).await?;
        ddl.exec(&format!("ALTER TABLE {} RENAME TO {}", q(&new), q(oauth)))
            .await?;
    } else if !table_exists(ddl, oauth).await? {
        ddl.exec(&oauth_table_ddl(plan, oauth)).await?;
    }
    ddl.exec(&format!(
        "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (`oauth_name`, `account_id`)",
        q(&account_key),
        q(oauth),
    ))
    .await?;
    ddl.exec(&format!(
        "CREATE INDEX IF NOT EXISTS {} ON {} (`user_id`)",
        q(&suffixed(oauth, "user_id_idx")),
        q(oauth),
    ))
    .await
}

fn token_table_ddl(plan: &Plan, name: &str) -> String {
    format!(
        "CREATE TABLE {} (\
         `digest` BLOB NOT NULL PRIMARY KEY, \
         `user_id` {} REFERENCES {} (`id`) ON DELETE CASCADE, \
         `created_at` TEXT NOT NULL, \
         `family` CHAR(36), \
         `used` BOOLEAN NOT NULL DEFAULT 0)",
        q(name),
        plan.id_fk_ddl,
        q(plan.tables.user()),
    )
}

pub(super) async fn migrate_tokens(ddl: &Ddl<'_>, plan: &Plan) -> Result<(), DbErr> {
    let table = plan.tables.accesstoken();
    if !table_exists(ddl, table).await? {
        ddl.exec(&token_table_ddl(plan, table)).await?;
    } else if has_column(ddl, table, "token").await? && !has_column(ddl, table, "digest").await? {
        // FastAPI Users' plaintext tokens: store each one's digest instead.
        let new = suffixed(table, NEW_SUFFIX);
        ddl.exec(&format!("DROP TABLE IF EXISTS {}", q(&new)))
            .await?;
        ddl.exec(&token_table_ddl(plan, &new)).await?;
        let tokens = ddl
            .rows(&format!("SELECT `token` FROM {}", q(table)), vec![])
            .await?;
        let copy = format!(
            "INSERT INTO {} (`digest`, `user_id`, `created_at`, `family`, `used`) \
             SELECT ?, `user_id`, `created_at`, NULL, 0 FROM {} WHERE `token` = ?",
            q(&new),
            q(table)
        );
        for row in &tokens {
            let token = text_at(row, 0)?;
            let digest = authward_core::TokenDigest::of(&token);
            let bytes = Value::Bytes(Some(Box::new(digest.as_bytes().to_vec())));
            ddl.exec_with(&copy, vec![bytes, Value::from(token)])
                .await?;
        }
        ddl.exec(&format!("DROP TABLE {}", q(table))).await?;
        ddl.exec(&format!("ALTER TABLE {} RENAME TO {}", q(&new), q(table)))
            .await?;
    }
    ddl.exec(&format!(
        "CREATE INDEX IF NOT EXISTS {} ON {} (`user_id`, `created_at`)",
        q(&suffixed(table, "user_created_idx")),
        q(table),
    ))
    .await?;
    ddl.exec(&format!(
        "CREATE INDEX IF NOT EXISTS {} ON {} (`created_at`)",
        q(&suffixed(table, "created_at_idx")),
        q(table),
    ))
    .await
}
