//! SQL text, built once per store from validated names so each call only binds values.

use crate::backend::Backend;
use authward_sql_schema::{Ident, OAUTH_ACCOUNT_COLUMNS, TableNames, USER_COLUMNS};

/// Column names an application's extra columns may not use: the user table's own.
pub(crate) const RESERVED_COLUMNS: [&str; 7] = USER_COLUMNS;

/// Comma-separated placeholders `from..from+count`.
fn placeholders<DB: Backend>(from: usize, count: usize) -> String {
    (from..from + count)
        .map(DB::placeholder)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Queries of the user and OAuth account tables.
#[derive(Debug, Clone)]
pub(crate) struct UserSql {
    pub user: String,
    pub extra: Vec<String>,
    pub get_by_id: String,
    pub get_by_email: String,
    pub insert_with_id: String,
    pub insert_assigned: String,
    pub delete: String,
    /// `UPDATE user SET hashed_password = ? WHERE id = ? AND hashed_password = ?` (compared
    /// byte for byte), with `RETURNING` when available.
    pub replace_password: String,
    pub by_oauth: String,
    pub oauth_insert: String,
    pub oauth_update: String,
    pub oauth_list: String,
    returning: String,
}

impl UserSql {
    pub(crate) fn new<DB: Backend>(tables: &TableNames, extra: &[Ident]) -> Self {
        let q = |name: &str| DB::quote(name);
        let user = q(tables.user.as_str());
        let oauth = q(tables.oauth_account.as_str());
        let extra: Vec<String> = extra.iter().map(|c| q(c.as_str())).collect();
        // Every column but `email_key`, which only lookups and uniqueness use.
        let select: Vec<String> = USER_COLUMNS
            .iter()
            .filter(|c| **c != "email_key")
            .map(|c| q(c))
            .chain(extra.iter().cloned())
            .collect();
        let cols = select.join(", ");
        let u_cols = select
            .iter()
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let id = q("id");
        let mut insert_cols: Vec<String> = USER_COLUMNS
            .iter()
            .filter(|c| **c != "id")
            .map(|c| q(c))
            .chain(extra.iter().cloned())
            .collect();
        let n = insert_cols.len();
        let mut insert_assigned = format!(
            "INSERT INTO {user} ({}) VALUES ({})",
            insert_cols.join(", "),
            placeholders::<DB>(1, n)
        );
        if DB::INSERT_RETURNING {
            insert_assigned.push_str(&format!(" RETURNING {id}"));
        }
        insert_cols.insert(0, id.clone());
        let insert_with_id = format!(
            "INSERT INTO {user} ({}) VALUES ({})",
            insert_cols.join(", "),
            placeholders::<DB>(1, n + 1)
        );
        let p1 = DB::placeholder(1);
        let p2 = DB::placeholder(2);
        let oauth_cols = OAUTH_ACCOUNT_COLUMNS.map(q).join(", ");
        Self {
            get_by_id: format!("SELECT {cols} FROM {user} WHERE {id} = {p1}"),
            get_by_email: format!("SELECT {cols} FROM {user} WHERE {} = {p1}", q("email_key")),
            insert_with_id,
            insert_assigned,
            delete: format!("DELETE FROM {user} WHERE {id} = {p1}"),
            replace_password: {
                let hash = q("hashed_password");
                let mut sql = format!(
                    "UPDATE {user} SET {hash} = {p1} WHERE {id} = {p2} AND {}",
                    DB::equals_exactly(&hash, &DB::placeholder(3))
                );
                if DB::UPDATE_RETURNING {
                    sql.push_str(&format!(" RETURNING {cols}"));
                }
                sql
            },
            by_oauth: format!(
                "SELECT {u_cols} FROM {user} u JOIN {oauth} o ON o.{} = u.{id} \
                 WHERE o.{} = {p1} AND o.{} = {p2}",
                q("user_id"),
                q("oauth_name"),
                q("account_id"),
            ),
            oauth_insert: format!(
                "INSERT INTO {oauth} ({}, {oauth_cols}) VALUES ({})",
                q("user_id"),
                placeholders::<DB>(1, 7)
            ),
            oauth_update: format!(
                "UPDATE {oauth} SET {} = {p1}, {} = {p2}, {} = {}, {} = {} \
                 WHERE {} = {} AND {} = {} AND {} = {}",
                q("access_token"),
                q("expires_at"),
                q("refresh_token"),
                DB::placeholder(3),
                q("account_email"),
                DB::placeholder(4),
                q("user_id"),
                DB::placeholder(5),
                q("oauth_name"),
                DB::placeholder(6),
                q("account_id"),
                DB::placeholder(7),
            ),
            oauth_list: format!(
                "SELECT {oauth_cols} FROM {oauth} WHERE {} = {p1} ORDER BY {id}",
                q("user_id")
            ),
            returning: format!(" RETURNING {cols}"),
            user,
            extra,
        }
    }

    /// `UPDATE user SET <each of set> = ?, ... WHERE id = ?`, with `RETURNING` when available.
    pub(crate) fn update<DB: Backend>(&self, set: &[String]) -> String {
        let assignments = set
            .iter()
            .enumerate()
            .map(|(i, col)| format!("{col} = {}", DB::placeholder(i + 1)))
            .collect::<Vec<_>>()
            .join(", ");
        let mut sql = format!(
            "UPDATE {} SET {assignments} WHERE {} = {}",
            self.user,
            DB::quote("id"),
            DB::placeholder(set.len() + 1)
        );
        if DB::UPDATE_RETURNING {
            sql.push_str(&self.returning);
        }
        sql
    }
}

/// Queries of one token table.
#[derive(Debug, Clone)]
pub(crate) struct TokenSql {
    pub get: String,
    pub get_fresh: String,
    pub any_for_user: String,
    pub insert: String,
    pub delete: String,
    pub delete_for_user: String,
    pub list_for_user: String,
    pub delete_expired: String,
}

impl TokenSql {
    pub(crate) fn new<DB: Backend>(tables: &TableNames) -> Self {
        let q = |name: &str| DB::quote(name);
        let t = q(tables.accesstoken.as_str());
        let (digest, user_id, created_at, family, used) = (
            q("digest"),
            q("user_id"),
            q("created_at"),
            q("family"),
            q("used"),
        );
        let p1 = DB::placeholder(1);
        let p2 = DB::placeholder(2);
        let get = format!(
            "SELECT {user_id}, {created_at}, {family}, {used} FROM {t} WHERE {digest} = {p1}"
        );
        Self {
            get_fresh: format!("{get} AND {created_at} >= {p2}"),
            get,
            any_for_user: format!(
                "SELECT 1 FROM {t} WHERE {user_id} = {p1} AND {digest} IN ({p2}, {}) LIMIT 1",
                DB::placeholder(3)
            ),
            insert: format!(
                "INSERT INTO {t} ({digest}, {user_id}, {created_at}, {family}, {used}) \
                 VALUES ({})",
                placeholders::<DB>(1, 5)
            ),
            delete: format!("DELETE FROM {t} WHERE {digest} = {p1}"),
            delete_for_user: format!("DELETE FROM {t} WHERE {user_id} = {p1}"),
            list_for_user: format!(
                "SELECT {digest}, {created_at}, {family}, {used} FROM {t} \
                 WHERE {user_id} = {p1} ORDER BY {created_at}, {digest}"
            ),
            delete_expired: format!("DELETE FROM {t} WHERE {created_at} < {p1}"),
        }
    }
}
