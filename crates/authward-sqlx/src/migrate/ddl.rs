//! The migration steps every backend shares. What differs between the backends here is data
//! (quoting, catalog queries, type names and literals from [`Migrate`]), not code.

use sqlx::{Encode, Executor, IntoArguments, Type};

use super::{
    KEY_INDEX, KeyRow, Migrate, MigrateError, OLD_KEY_INDEX, TransactionalBackfill, UserPlan,
    plan_email_keys, schema_error,
};
use crate::config::ExtraColumn;

/// A connection a migration runs its statements on.
pub(crate) struct Ddl<'c, DB: Migrate> {
    /// The connection (inside the migration's transaction where the backend has one).
    pub(crate) conn: &'c mut DB::Connection,
}

impl<'c, DB> Ddl<'c, DB>
where
    DB: Migrate,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    /// Runs the migration's statements on `conn`.
    pub(crate) fn new(conn: &'c mut DB::Connection) -> Self {
        Self { conn }
    }

    /// Quotes a validated identifier.
    pub(crate) fn q(&self, ident: &str) -> String {
        DB::quote(ident)
    }

    #[cfg(any(feature = "postgres", feature = "sqlite"))]
    /// `CREATE [UNIQUE] INDEX IF NOT EXISTS name ON table (columns)` (PostgreSQL and SQLite;
    /// MySQL declares its keys in the table's DDL).
    pub(crate) async fn ensure_index(
        &mut self,
        unique: bool,
        name: &str,
        table: &str,
        columns: &[&str],
    ) -> Result<(), MigrateError> {
        let columns: Vec<String> = columns.iter().map(|c| self.q(c)).collect();
        let sql = format!(
            "CREATE {}INDEX IF NOT EXISTS {} ON {} ({})",
            if unique { "UNIQUE " } else { "" },
            self.q(name),
            self.q(table),
            columns.join(", ")
        );
        self.exec(&sql).await
    }

    #[cfg(any(feature = "postgres", feature = "sqlite"))]
    /// The OAuth table's indexes: one user per provider account, and the per-user lookup.
    pub(crate) async fn ensure_oauth_indexes(
        &mut self,
        plan: &UserPlan,
    ) -> Result<(), MigrateError> {
        let names = &plan.tables.oauth_account;
        let table = names.as_str();
        self.ensure_index(
            true,
            &names.suffixed("account_key"),
            table,
            &["oauth_name", "account_id"],
        )
        .await?;
        self.ensure_index(false, &names.suffixed("user_id_idx"), table, &["user_id"])
            .await
    }

    #[cfg(any(feature = "postgres", feature = "sqlite"))]
    /// The token table's indexes: a user's tokens by age, and expiry.
    pub(crate) async fn ensure_token_indexes(
        &mut self,
        plan: &super::TokenPlan,
    ) -> Result<(), MigrateError> {
        let names = &plan.tables.accesstoken;
        let table = names.as_str();
        self.ensure_index(
            false,
            &names.suffixed("user_created_idx"),
            table,
            &["user_id", "created_at"],
        )
        .await?;
        self.ensure_index(
            false,
            &names.suffixed("created_at_idx"),
            table,
            &["created_at"],
        )
        .await
    }

    /// Runs one statement.
    pub(crate) async fn exec(&mut self, sql: &str) -> Result<(), MigrateError> {
        sqlx::query::<DB>(sql)
            .execute(&mut *self.conn)
            .await
            .map_err(schema_error)?;
        Ok(())
    }

    /// Whether a catalog query bound with `params` finds a row.
    async fn found(&mut self, sql: &str, params: &[&str]) -> Result<bool, MigrateError> {
        let mut query = sqlx::query::<DB>(sql);
        for param in params {
            query = query.bind(*param);
        }
        let row = query
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(schema_error)?;
        Ok(row.is_some())
    }

    /// Whether the table exists.
    pub(crate) async fn table_exists(&mut self, table: &str) -> Result<bool, MigrateError> {
        self.found(DB::TABLE_EXISTS, &[table]).await
    }

    /// Whether `table` has an index named `index`.
    pub(crate) async fn index_exists(
        &mut self,
        table: &str,
        index: &str,
    ) -> Result<bool, MigrateError> {
        if DB::INDEX_BY_TABLE {
            self.found(DB::INDEX_EXISTS, &[table, index]).await
        } else {
            self.found(DB::INDEX_EXISTS, &[index]).await
        }
    }

    /// Whether `table` has the column.
    pub(crate) async fn has_column(
        &mut self,
        table: &str,
        column: &str,
    ) -> Result<bool, MigrateError> {
        self.found(DB::COLUMN_EXISTS, &[table, column]).await
    }

    /// Creates table `name` afresh with `create` (dropping a leftover of an interrupted run).
    pub(crate) async fn recreate(&mut self, name: &str, create: &str) -> Result<(), MigrateError> {
        self.exec(&format!("DROP TABLE IF EXISTS {}", self.q(name)))
            .await?;
        self.exec(create).await
    }

    /// Replaces `table` with the rebuilt `new` (inside the migration's transaction, on the
    /// backends with transactional DDL).
    #[cfg_attr(not(any(feature = "postgres", feature = "sqlite")), allow(dead_code))]
    pub(crate) async fn replace(&mut self, table: &str, new: &str) -> Result<(), MigrateError> {
        self.exec(&format!("DROP TABLE {}", self.q(table))).await?;
        let sql = format!("ALTER TABLE {} RENAME TO {}", self.q(new), self.q(table));
        self.exec(&sql).await
    }

    /// Whether `table` is FastAPI Users' token table (plaintext `token`, no `digest`).
    pub(crate) async fn has_plaintext_tokens(&mut self, table: &str) -> Result<bool, MigrateError> {
        Ok(self.has_column(table, "token").await? && !self.has_column(table, "digest").await?)
    }

    /// Stops an adoption when a provider account is linked more than once; `sql` lists each
    /// such `(oauth_name, account_id)` pair once.
    pub(crate) async fn refuse_duplicate_accounts(&mut self, sql: &str) -> Result<(), MigrateError>
    where
        for<'r> (String, String): sqlx::FromRow<'r, DB::Row>,
    {
        let dups: Vec<(String, String)> = sqlx::query_as(sql)
            .fetch_all(&mut *self.conn)
            .await
            .map_err(schema_error)?;
        if dups.is_empty() {
            Ok(())
        } else {
            Err(MigrateError::DuplicateOAuthAccounts { accounts: dups })
        }
    }

    /// Adds every declared custom column that `table` lacks.
    pub(crate) async fn add_missing_columns(
        &mut self,
        table: &str,
        columns: &[ExtraColumn],
    ) -> Result<(), MigrateError> {
        for column in columns {
            if !self.has_column(table, column.name).await? {
                let sql = format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    self.q(table),
                    self.q(column.name),
                    column.sql_type
                );
                self.exec(&sql).await?;
            }
        }
        Ok(())
    }

    /// Computes `email_key` under the current rule for every row whose index says otherwise
    /// (added column, FastAPI Users table, keys of an earlier rule), on a backend with
    /// transactional DDL (PostgreSQL, SQLite): collisions are reported before anything
    /// changes, and the whole step is part of the migration's transaction.
    ///
    /// Rows are found again by [`TransactionalBackfill::ROW_LOCATOR`], read and matched as text.
    #[cfg_attr(not(any(feature = "postgres", feature = "sqlite")), allow(dead_code))]
    pub(crate) async fn backfill_email_keys(&mut self, plan: &UserPlan) -> Result<(), MigrateError>
    where
        DB: TransactionalBackfill,
        for<'r> (String, String, String, Option<String>): sqlx::FromRow<'r, DB::Row>,
    {
        let user = plan.tables.user.as_str();
        let index = plan.tables.user.suffixed(KEY_INDEX);
        if self.index_exists(user, &index).await? {
            return Ok(());
        }
        let has_key = self.has_column(user, "email_key").await?;
        let key = if has_key {
            self.q("email_key")
        } else {
            DB::NULL_TEXT.to_owned()
        };
        let select = format!(
            "SELECT {}, {}, {}, {key} FROM {}",
            DB::ROW_LOCATOR,
            DB::ID_AS_TEXT,
            self.q("email"),
            self.q(user)
        );
        let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(&select)
            .fetch_all(&mut *self.conn)
            .await
            .map_err(schema_error)?;
        let rows = rows
            .into_iter()
            .map(|(locator, id, email, key)| KeyRow {
                locator,
                id,
                email,
                key: key.map(String::into_bytes),
            })
            .collect();
        let changes = plan_email_keys(rows)?;
        if !has_key {
            let sql = format!(
                "ALTER TABLE {} ADD COLUMN {} {}",
                self.q(user),
                self.q("email_key"),
                DB::EMAIL_KEY_TYPE
            );
            self.exec(&sql).await?;
        }
        // No unique index while the keys change (so no transient clash); the new one is built
        // once they are all computed, in the same transaction.
        let old = plan.tables.user.suffixed(OLD_KEY_INDEX);
        self.exec(&format!("DROP INDEX IF EXISTS {}", self.q(&old)))
            .await?;
        let update = format!(
            "UPDATE {} SET {} = {} WHERE {}",
            self.q(user),
            self.q("email_key"),
            DB::placeholder(1),
            DB::ROW_MATCH.replace("{}", &DB::placeholder(2)),
        );
        for (row, key) in changes {
            sqlx::query::<DB>(&update)
                .bind(key)
                .bind(row.locator)
                .execute(&mut *self.conn)
                .await
                .map_err(schema_error)?;
        }
        if let Some(set_not_null) = DB::SET_NOT_NULL {
            let sql = format!(
                "ALTER TABLE {} {}",
                self.q(user),
                set_not_null.replace("{}", &self.q("email_key"))
            );
            self.exec(&sql).await?;
        }
        Ok(())
    }
}

/// `CREATE TABLE` for the user table: authward's columns, the custom ones, then `trailing`
/// (keys declared inline where the backend does that).
pub(crate) fn user_table_ddl<DB: Migrate>(
    plan: &UserPlan,
    name: &str,
    trailing: &[String],
) -> String {
    let q = DB::quote;
    let (t, f) = (DB::TRUE, DB::FALSE);
    let boolean = DB::BOOL_TYPE;
    let mut cols = vec![
        format!("{} {}", q("id"), plan.id_pk_ddl),
        format!("{} VARCHAR(320) NOT NULL", q("email")),
        format!("{} {} NOT NULL", q("email_key"), DB::EMAIL_KEY_TYPE),
        format!("{} VARCHAR(1024) NOT NULL", q("hashed_password")),
        format!("{} {boolean} NOT NULL DEFAULT {t}", q("is_active")),
        format!("{} {boolean} NOT NULL DEFAULT {f}", q("is_superuser")),
        format!("{} {boolean} NOT NULL DEFAULT {f}", q("is_verified")),
    ];
    cols.extend(
        plan.extra
            .iter()
            .map(|c| format!("{} {}", q(c.name), c.sql_type)),
    );
    cols.extend(trailing.iter().cloned());
    format!(
        "CREATE TABLE {} ({}){}",
        q(name),
        cols.join(", "),
        DB::TABLE_OPTIONS
    )
}

/// The OAuth account columns copied when a FastAPI Users table is rebuilt.
pub(crate) fn oauth_copied_columns<DB: Migrate>() -> String {
    [
        "user_id",
        "oauth_name",
        "access_token",
        "expires_at",
        "refresh_token",
        "account_id",
        "account_email",
    ]
    .map(DB::quote)
    .join(", ")
}
