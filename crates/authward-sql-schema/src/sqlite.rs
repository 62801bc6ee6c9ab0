//! SQLite: what it writes in its own way (types, `rowid`, tokens hashed here for want of a
//! SHA-256 in SQL). Its DDL is transactional: the steps are [`crate::transactional`]'s.

use crate::flavor::Flavor;
use crate::steps::TransactionalBackfill;
use crate::{Dialect, TokenPlan, UserPlan};

pub(crate) const BACKFILL: TransactionalBackfill = TransactionalBackfill {
    null_text: "NULL",
    id_as_text: "CAST(`id` AS TEXT)",
    row_locator: "CAST(rowid AS TEXT)",
    row_match: "rowid = CAST({} AS INTEGER)",
    set_not_null: None,
};

pub(crate) const FLAVOR: Flavor = Flavor {
    oauth_table: oauth_table_ddl,
    token_table: token_table_ddl,
    oauth_duplicates: "SELECT `oauth_name`, `account_id` FROM {} \
                       GROUP BY `oauth_name`, `account_id` HAVING COUNT(*) > 1",
    link_order: "rowid",
    token_digest: None,
};

fn q(ident: &str) -> String {
    Dialect::Sqlite.quote(ident)
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
