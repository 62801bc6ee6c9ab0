//! MySQL and MariaDB.
//!
//! DDL is not transactional here: each migration step checks before it acts, and a rebuilt
//! table is swapped in with one atomic `RENAME TABLE`, so an interrupted migration can simply
//! be run again. A named lock (`GET_LOCK`) serialises concurrent migrations. The email key
//! backfill is MySQL's own for the same reason (see [`sync_email_keys`]).

use crate::email_keys::{KEY_INDEX, KeyRow, OLD_KEY_INDEX, plan_email_keys};
use crate::flavor::Flavor;
use crate::runner::{Cell, Kind, Param, Runner};
use crate::steps::{Ddl, StepResult, text};
use crate::{Dialect, SchemaError, TokenPlan, UserPlan};

const FLAVOR: Flavor = Flavor {
    oauth_table: oauth_table_ddl,
    token_table: token_table_ddl,
    // The columns are binary-collated: group by their bytes.
    oauth_duplicates: "SELECT MIN(`oauth_name`), MIN(`account_id`) FROM {} \
                       GROUP BY BINARY `oauth_name`, BINARY `account_id` HAVING COUNT(*) > 1",
    link_order: "`id`",
    token_digest: Some("UNHEX(SHA2(`token`, 256))"),
};

fn q(ident: &str) -> String {
    Dialect::MySql.quote(ident)
}

/// The named lock every migration takes.
const LOCK: &str = "authward_sqlx_migrate";

/// Takes the named lock (waiting up to a minute for another migration to finish).
pub(crate) async fn lock<R: Runner>(ddl: &mut Ddl<'_, R>) -> StepResult<(), R> {
    ddl.fetch("SELECT GET_LOCK(?, 60)", &[Param::Text(LOCK)], &[])
        .await
        .map(drop)
}

/// Releases the named lock.
pub(crate) async fn unlock<R: Runner>(ddl: &mut Ddl<'_, R>) -> StepResult<(), R> {
    ddl.fetch("SELECT RELEASE_LOCK(?)", &[Param::Text(LOCK)], &[])
        .await
        .map(drop)
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
         FOREIGN KEY (`user_id`) REFERENCES {} (`id`) ON DELETE CASCADE){}",
        q(name),
        plan.id_fk_ddl,
        q(&names.suffixed("account_key")),
        q(&names.suffixed("user_id_idx")),
        q(plan.tables.user.as_str()),
        Dialect::MySql.table_options(),
    )
}

pub(crate) async fn migrate_users<R: Runner>(
    ddl: &mut Ddl<'_, R>,
    plan: &UserPlan,
) -> StepResult<(), R> {
    let user = plan.tables.user.as_str();
    if !ddl.table_exists(user).await? {
        let unique_key = format!(
            "UNIQUE KEY {} (`email_key`)",
            q(&plan.tables.user.suffixed(KEY_INDEX))
        );
        ddl.exec(&ddl.user_table_ddl(plan, user, &[unique_key]))
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
async fn sync_email_keys<R: Runner>(ddl: &mut Ddl<'_, R>, plan: &UserPlan) -> StepResult<(), R> {
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
    let select = format!("SELECT {id}, `email`, {key} FROM {}", q(user));
    let rows = ddl
        .fetch(&select, &[], &[Kind::Text, Kind::Text, Kind::Bytes])
        .await?;
    let rows = rows
        .into_iter()
        .map(|row| {
            let mut cells = row.into_iter();
            let id = text(&select, 0, cells.next().unwrap_or(Cell::Null))?;
            let email = text(&select, 1, cells.next().unwrap_or(Cell::Null))?;
            let key = match cells.next() {
                Some(Cell::Bytes(key)) => Some(key),
                Some(Cell::Text(key)) => Some(key.into_bytes()),
                Some(Cell::Null) | None => None,
            };
            Ok(KeyRow {
                locator: match &key {
                    Some(key) => Locator::Key(key.clone()),
                    None => Locator::Email(email.clone()),
                },
                id,
                email,
                key,
            })
        })
        .collect::<StepResult<Vec<_>, R>>()?;
    let changes = plan_email_keys(rows)
        .map_err(|collisions| SchemaError::EmailKeyCollisions { collisions })?;
    if !has_key {
        let sql = format!(
            "ALTER TABLE {} ADD COLUMN `email_key` VARBINARY(1280) NULL",
            q(user)
        );
        ddl.exec(&sql).await?;
    }
    if !changes.is_empty() {
        ddl.exec("START TRANSACTION").await?;
        let result = rewrite_keys(ddl, user, changes).await;
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

async fn rewrite_keys<R: Runner>(
    ddl: &mut Ddl<'_, R>,
    user: &str,
    changes: Vec<(KeyRow<Locator>, String)>,
) -> StepResult<(), R> {
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
        let staged = temporary(key);
        match &row.locator {
            Locator::Key(old) => {
                let params = [Param::Bytes(&staged), Param::Bytes(old)];
                ddl.exec_with(&by_key, &params).await?;
            }
            Locator::Email(email) => {
                let params = [Param::Bytes(&staged), Param::Text(email)];
                ddl.exec_with(&by_email, &params).await?;
            }
        }
    }
    for (_, key) in &changes {
        let staged = temporary(key);
        let params = [Param::Bytes(key.as_bytes()), Param::Bytes(&staged)];
        ddl.exec_with(&by_key, &params).await?;
    }
    Ok(())
}

async fn migrate_oauth<R: Runner>(ddl: &mut Ddl<'_, R>, plan: &UserPlan) -> StepResult<(), R> {
    let oauth = plan.tables.oauth_account.as_str();
    let account_key = plan.tables.oauth_account.suffixed("account_key");
    if !ddl.table_exists(oauth).await? {
        return ddl.exec(&oauth_table_ddl(plan, oauth)).await;
    }
    if ddl.index_exists(oauth, &account_key).await? {
        return Ok(());
    }
    // A table from FastAPI Users: rebuild it in authward's layout.
    let new = ddl.rebuild_oauth(plan, &FLAVOR).await?;
    let old = plan.tables.oauth_account.suffixed("fastapi_users");
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
         FOREIGN KEY (`user_id`) REFERENCES {} (`id`) ON DELETE CASCADE){}",
        q(name),
        plan.id_fk_ddl,
        q(&names.suffixed("user_created_idx")),
        q(&names.suffixed("created_at_idx")),
        q(plan.tables.user.as_str()),
        Dialect::MySql.table_options(),
    )
}

pub(crate) async fn migrate_tokens<R: Runner>(
    ddl: &mut Ddl<'_, R>,
    plan: &TokenPlan,
) -> StepResult<(), R> {
    let table = plan.tables.accesstoken.as_str();
    if !ddl.table_exists(table).await? {
        return ddl.exec(&token_table_ddl(plan, table)).await;
    }
    if !ddl.has_plaintext_tokens(table).await? {
        return Ok(());
    }
    // FastAPI Users' plaintext tokens: keep each one's SHA-256 digest instead.
    let new = ddl.digest_plaintext_tokens(plan, &FLAVOR).await?;
    let old = plan.tables.accesstoken.suffixed("fastapi_users");
    swap_in(ddl, table, &new, &old).await
}

/// Puts the rebuilt `new` in place of `table` with one atomic `RENAME TABLE` (the original
/// passing through `old`), then drops the original.
async fn swap_in<R: Runner>(
    ddl: &mut Ddl<'_, R>,
    table: &str,
    new: &str,
    old: &str,
) -> StepResult<(), R> {
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
