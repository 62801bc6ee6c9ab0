//! SQLite: transactional DDL (a migration either completes or changes nothing).

use crate::email_keys::KEY_INDEX;
use crate::runner::{Param, Runner};
use crate::steps::{Ddl, NEW_SUFFIX, StepResult, TransactionalBackfill};
use crate::{TokenPlan, UserPlan};

const BACKFILL: TransactionalBackfill = TransactionalBackfill {
    null_text: "NULL",
    id_as_text: "CAST(`id` AS TEXT)",
    row_locator: "CAST(rowid AS TEXT)",
    row_match: "rowid = CAST({} AS INTEGER)",
    set_not_null: None,
};

fn oauth_table_ddl<R: Runner>(ddl: &Ddl<'_, R>, plan: &UserPlan, name: &str) -> String {
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
        ddl.q(name),
        plan.id_fk_ddl,
        ddl.q(plan.tables.user.as_str()),
    )
}

pub(crate) async fn migrate_users<R: Runner>(
    ddl: &mut Ddl<'_, R>,
    plan: &UserPlan,
) -> StepResult<(), R> {
    let user = plan.tables.user.as_str();
    if !ddl.table_exists(user).await? {
        ddl.exec(&ddl.user_table_ddl(plan, user, &[])).await?;
    } else {
        ddl.backfill_email_keys(plan, &BACKFILL).await?;
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

async fn migrate_oauth<R: Runner>(ddl: &mut Ddl<'_, R>, plan: &UserPlan) -> StepResult<(), R> {
    let oauth = plan.tables.oauth_account.as_str();
    let account_key = plan.tables.oauth_account.suffixed("account_key");
    let exists = ddl.table_exists(oauth).await?;
    if exists && !ddl.index_exists(oauth, &account_key).await? {
        // A table from FastAPI Users: rebuild it in authward's layout.
        let dups = format!(
            "SELECT `oauth_name`, `account_id` FROM {} \
             GROUP BY `oauth_name`, `account_id` HAVING COUNT(*) > 1",
            ddl.q(oauth)
        );
        ddl.refuse_duplicate_accounts(&dups).await?;
        let new = plan.tables.oauth_account.suffixed(NEW_SUFFIX);
        ddl.recreate(&new, &oauth_table_ddl(ddl, plan, &new))
            .await?;
        let cols = ddl.oauth_copied_columns();
        let copy = format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ORDER BY rowid",
            ddl.q(&new),
            ddl.q(oauth)
        );
        ddl.exec(&copy).await?;
        ddl.replace(oauth, &new).await?;
    } else if !exists {
        ddl.exec(&oauth_table_ddl(ddl, plan, oauth)).await?;
    }
    ddl.ensure_oauth_indexes(plan).await
}

fn token_table_ddl<R: Runner>(ddl: &Ddl<'_, R>, plan: &TokenPlan, name: &str) -> String {
    format!(
        "CREATE TABLE {} (\
         `digest` BLOB NOT NULL PRIMARY KEY, \
         `user_id` {} REFERENCES {} (`id`) ON DELETE CASCADE, \
         `created_at` TEXT NOT NULL, \
         `family` CHAR(36), \
         `used` BOOLEAN NOT NULL DEFAULT 0)",
        ddl.q(name),
        plan.id_fk_ddl,
        ddl.q(plan.tables.user.as_str()),
    )
}

pub(crate) async fn migrate_tokens<R: Runner>(
    ddl: &mut Ddl<'_, R>,
    plan: &TokenPlan,
) -> StepResult<(), R> {
    let table = plan.tables.accesstoken.as_str();
    if !ddl.table_exists(table).await? {
        ddl.exec(&token_table_ddl(ddl, plan, table)).await?;
    } else if ddl.has_plaintext_tokens(table).await? {
        // FastAPI Users' plaintext tokens: store each one's digest instead (SQLite has no
        // SHA-256 of its own, so each token is hashed here).
        let new = plan.tables.accesstoken.suffixed(NEW_SUFFIX);
        ddl.recreate(&new, &token_table_ddl(ddl, plan, &new))
            .await?;
        let select = format!("SELECT `token` FROM {}", ddl.q(table));
        let tokens = ddl.texts(&select, &[], 1).await?;
        let copy = format!(
            "INSERT INTO {} (`digest`, `user_id`, `created_at`, `family`, `used`) \
             SELECT ?1, `user_id`, `created_at`, NULL, 0 FROM {} WHERE `token` = ?2",
            ddl.q(&new),
            ddl.q(table)
        );
        for token in tokens.into_iter().flatten() {
            let digest = authward_core::TokenDigest::of(&token);
            let params = [Param::Bytes(digest.as_bytes()), Param::Text(&token)];
            ddl.exec_with(&copy, &params).await?;
        }
        ddl.replace(table, &new).await?;
    }
    ddl.ensure_token_indexes(plan).await
}
