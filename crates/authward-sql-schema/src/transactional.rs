//! The migration on a database with transactional DDL (PostgreSQL, SQLite): it either
//! completes or changes nothing, so an adopted table is rebuilt beside the old one and swapped
//! in by a plain drop and rename.

use crate::email_keys::KEY_INDEX;
use crate::flavor::Flavor;
use crate::runner::Runner;
use crate::steps::{Ddl, StepResult, TransactionalBackfill};
use crate::{Dialect, TokenPlan, UserPlan, postgres};

/// Creates or adopts the user and OAuth account tables.
pub(crate) async fn migrate_users<R: Runner>(
    ddl: &mut Ddl<'_, R>,
    plan: &UserPlan,
    flavor: &Flavor,
    backfill: &TransactionalBackfill,
) -> StepResult<(), R> {
    let user = plan.tables.user.as_str();
    if !ddl.table_exists(user).await? {
        ddl.exec(&ddl.user_table_ddl(plan, user, &[])).await?;
    } else {
        ddl.backfill_email_keys(plan, backfill).await?;
        if ddl.dialect == Dialect::Postgres {
            postgres::widen_serial_id(ddl, plan).await?;
        }
        ddl.add_missing_columns(user, &plan.extra).await?;
    }
    ddl.ensure_index(
        true,
        &plan.tables.user.suffixed(KEY_INDEX),
        user,
        &["email_key"],
    )
    .await?;
    let oauth = plan.tables.oauth_account.as_str();
    let account_key = plan.tables.oauth_account.suffixed("account_key");
    let exists = ddl.table_exists(oauth).await?;
    if exists && !ddl.index_exists(oauth, &account_key).await? {
        // A table from FastAPI Users: rebuild it in authward's layout.
        let new = ddl.rebuild_oauth(plan, flavor).await?;
        ddl.replace(oauth, &new).await?;
    } else if !exists {
        ddl.exec(&(flavor.oauth_table)(plan, oauth)).await?;
    }
    ddl.ensure_oauth_indexes(plan).await
}

/// Creates a token table, or converts FastAPI Users' plaintext one to digests.
pub(crate) async fn migrate_tokens<R: Runner>(
    ddl: &mut Ddl<'_, R>,
    plan: &TokenPlan,
    flavor: &Flavor,
) -> StepResult<(), R> {
    let table = plan.tables.accesstoken.as_str();
    if !ddl.table_exists(table).await? {
        ddl.exec(&(flavor.token_table)(plan, table)).await?;
    } else if ddl.has_plaintext_tokens(table).await? {
        let new = ddl.digest_plaintext_tokens(plan, flavor).await?;
        ddl.replace(table, &new).await?;
    }
    ddl.ensure_token_indexes(plan).await
}
