//! The migration steps every database shares. What differs between the databases here is
//! data from [`Dialect`] (quoting, catalog queries, type names and literals), not code.

use crate::email_keys::{KEY_INDEX, KeyRow, OLD_KEY_INDEX, plan_email_keys};
use crate::flavor::Flavor;
use crate::runner::{Cell, Kind, Param, Runner};
use crate::{
    Dialect, ExtraColumn, OAUTH_ACCOUNT_COLUMNS, SchemaError, TOKEN_COLUMNS, TokenPlan, UserPlan,
};

/// The result of a step on runner `R`.
pub(crate) type StepResult<T, R> = Result<T, SchemaError<<R as Runner>::Error>>;

/// Suffix of the table an adoption builds before swapping it in.
pub(crate) const NEW_SUFFIX: &str = "authward_new";

/// The connection a migration runs its statements on, with its dialect.
pub(crate) struct Ddl<'r, R: Runner> {
    runner: &'r mut R,
    pub(crate) dialect: Dialect,
}

impl<'r, R: Runner> Ddl<'r, R> {
    /// Runs the migration's statements through `runner`.
    pub(crate) fn new(runner: &'r mut R) -> Self {
        let dialect = runner.dialect();
        Self { runner, dialect }
    }

    /// Quotes a validated identifier.
    pub(crate) fn q(&self, ident: &str) -> String {
        self.dialect.quote(ident)
    }

    /// Runs one statement.
    pub(crate) async fn exec(&mut self, sql: &str) -> StepResult<(), R> {
        self.exec_with(sql, &[]).await
    }

    /// Runs one statement with bound values.
    pub(crate) async fn exec_with(&mut self, sql: &str, params: &[Param<'_>]) -> StepResult<(), R> {
        self.runner
            .execute(sql, params)
            .await
            .map_err(SchemaError::Driver)
    }

    /// Every row of a query, each column read as `columns` says.
    pub(crate) async fn fetch(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        columns: &[Kind],
    ) -> StepResult<Vec<Vec<Cell>>, R> {
        self.runner
            .fetch(sql, params, columns)
            .await
            .map_err(SchemaError::Driver)
    }

    /// Every row of a query bound with `params` whose `width` columns are all text, none of
    /// them `NULL`.
    pub(crate) async fn texts(
        &mut self,
        sql: &str,
        params: &[&str],
        width: usize,
    ) -> StepResult<Vec<Vec<String>>, R> {
        let params: Vec<Param<'_>> = params.iter().map(|p| Param::Text(p)).collect();
        let rows = self.fetch(sql, &params, &vec![Kind::Text; width]).await?;
        rows.into_iter()
            .map(|row| {
                let mut cells = row.into_iter();
                (0..width)
                    .map(|column| text(sql, column, cells.next().unwrap_or(Cell::Null)))
                    .collect()
            })
            .collect()
    }

    /// Whether a catalog query bound with `params` finds a row.
    async fn found(&mut self, sql: &str, params: &[&str]) -> StepResult<bool, R> {
        let params: Vec<Param<'_>> = params.iter().map(|p| Param::Text(p)).collect();
        Ok(!self.fetch(sql, &params, &[]).await?.is_empty())
    }

    /// Whether the table exists.
    pub(crate) async fn table_exists(&mut self, table: &str) -> StepResult<bool, R> {
        self.found(self.dialect.table_exists_sql(), &[table]).await
    }

    /// Whether `table` has an index named `index`.
    pub(crate) async fn index_exists(&mut self, table: &str, index: &str) -> StepResult<bool, R> {
        let sql = self.dialect.index_exists_sql();
        if self.dialect.index_by_table() {
            self.found(sql, &[table, index]).await
        } else {
            self.found(sql, &[index]).await
        }
    }

    /// Whether `table` has the column.
    pub(crate) async fn has_column(&mut self, table: &str, column: &str) -> StepResult<bool, R> {
        self.found(self.dialect.column_exists_sql(), &[table, column])
            .await
    }

    /// `CREATE [UNIQUE] INDEX IF NOT EXISTS name ON table (columns)` (PostgreSQL and SQLite;
    /// MySQL declares its keys in the table's DDL).
    pub(crate) async fn ensure_index(
        &mut self,
        unique: bool,
        name: &str,
        table: &str,
        columns: &[&str],
    ) -> StepResult<(), R> {
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

    /// The OAuth table's indexes: one user per provider account, and the per-user lookup.
    pub(crate) async fn ensure_oauth_indexes(&mut self, plan: &UserPlan) -> StepResult<(), R> {
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

    /// The token table's indexes: a user's tokens by age, and expiry.
    pub(crate) async fn ensure_token_indexes(&mut self, plan: &TokenPlan) -> StepResult<(), R> {
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

    /// Creates table `name` afresh with `create` (dropping a leftover of an interrupted run).
    pub(crate) async fn recreate(&mut self, name: &str, create: &str) -> StepResult<(), R> {
        self.exec(&format!("DROP TABLE IF EXISTS {}", self.q(name)))
            .await?;
        self.exec(create).await
    }

    /// Replaces `table` with the rebuilt `new` (inside the migration's transaction, on the
    /// databases with transactional DDL).
    pub(crate) async fn replace(&mut self, table: &str, new: &str) -> StepResult<(), R> {
        self.exec(&format!("DROP TABLE {}", self.q(table))).await?;
        let sql = format!("ALTER TABLE {} RENAME TO {}", self.q(new), self.q(table));
        self.exec(&sql).await
    }

    /// Whether `table` is FastAPI Users' token table (plaintext `token`, no `digest`).
    pub(crate) async fn has_plaintext_tokens(&mut self, table: &str) -> StepResult<bool, R> {
        Ok(self.has_column(table, "token").await? && !self.has_column(table, "digest").await?)
    }

    /// Stops an adoption when a provider account is linked more than once; `sql` lists each
    /// such `(oauth_name, account_id)` pair once.
    pub(crate) async fn refuse_duplicate_accounts(&mut self, sql: &str) -> StepResult<(), R> {
        let dups = self.texts(sql, &[], 2).await?;
        if dups.is_empty() {
            return Ok(());
        }
        let accounts = dups
            .into_iter()
            .map(|pair| {
                let mut pair = pair.into_iter();
                let name = pair.next().unwrap_or_default();
                (name, pair.next().unwrap_or_default())
            })
            .collect();
        Err(SchemaError::DuplicateOAuthAccounts { accounts })
    }

    /// Adds every declared custom column that `table` lacks.
    pub(crate) async fn add_missing_columns(
        &mut self,
        table: &str,
        columns: &[ExtraColumn],
    ) -> StepResult<(), R> {
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
    /// (added column, FastAPI Users table, keys of an earlier rule), on a database with
    /// transactional DDL (PostgreSQL, SQLite): collisions are reported before anything
    /// changes, and the whole step is part of the migration's transaction.
    ///
    /// `backfill` says how rows are found again and what the database writes differently.
    pub(crate) async fn backfill_email_keys(
        &mut self,
        plan: &UserPlan,
        backfill: &TransactionalBackfill,
    ) -> StepResult<(), R> {
        let user = plan.tables.user.as_str();
        let index = plan.tables.user.suffixed(KEY_INDEX);
        if self.index_exists(user, &index).await? {
            return Ok(());
        }
        let has_key = self.has_column(user, "email_key").await?;
        let key = if has_key {
            self.q("email_key")
        } else {
            backfill.null_text.to_owned()
        };
        let select = format!(
            "SELECT {}, {}, {}, {key} FROM {}",
            backfill.row_locator,
            backfill.id_as_text,
            self.q("email"),
            self.q(user)
        );
        let rows = self.fetch(&select, &[], &[Kind::Text; 4]).await?;
        let rows = rows
            .into_iter()
            .map(|row| {
                let mut cells = row.into_iter();
                let mut next =
                    |column: usize| text(&select, column, cells.next().unwrap_or(Cell::Null));
                Ok(KeyRow {
                    locator: next(0)?,
                    id: next(1)?,
                    email: next(2)?,
                    key: next(3).ok().map(String::into_bytes),
                })
            })
            .collect::<StepResult<Vec<_>, R>>()?;
        let changes = plan_email_keys(rows)
            .map_err(|collisions| SchemaError::EmailKeyCollisions { collisions })?;
        if !has_key {
            let sql = format!(
                "ALTER TABLE {} ADD COLUMN {} {}",
                self.q(user),
                self.q("email_key"),
                self.dialect.email_key_type()
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
            self.dialect.placeholder(1),
            backfill
                .row_match
                .replace("{}", &self.dialect.placeholder(2)),
        );
        for (row, key) in changes {
            self.exec_with(&update, &[Param::Text(&key), Param::Text(&row.locator)])
                .await?;
        }
        if let Some(set_not_null) = backfill.set_not_null {
            let sql = format!(
                "ALTER TABLE {} {}",
                self.q(user),
                set_not_null.replace("{}", &self.q("email_key"))
            );
            self.exec(&sql).await?;
        }
        Ok(())
    }

    /// Rebuilds FastAPI Users' OAuth account table in authward's layout, as a new table beside
    /// it: refuses accounts linked more than once, then copies the rows in link order. Returns
    /// the new table's name; the caller swaps it in.
    pub(crate) async fn rebuild_oauth(
        &mut self,
        plan: &UserPlan,
        flavor: &Flavor,
    ) -> StepResult<String, R> {
        let oauth = plan.tables.oauth_account.as_str();
        let dups = flavor.oauth_duplicates.replace("{}", &self.q(oauth));
        self.refuse_duplicate_accounts(&dups).await?;
        let new = plan.tables.oauth_account.suffixed(NEW_SUFFIX);
        self.recreate(&new, &(flavor.oauth_table)(plan, &new))
            .await?;
        // The columns copied: all but the new table's own `id` (link order is kept by
        // copying in order).
        let cols = std::iter::once("user_id")
            .chain(OAUTH_ACCOUNT_COLUMNS)
            .map(|c| self.q(c))
            .collect::<Vec<_>>()
            .join(", ");
        let copy = format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ORDER BY {}",
            self.q(&new),
            self.q(oauth),
            flavor.link_order
        );
        self.exec(&copy).await?;
        Ok(new)
    }

    /// Copies FastAPI Users' plaintext token table into a new table in authward's layout,
    /// keeping each token's SHA-256 digest instead (so sessions survive). Returns the new
    /// table's name; the caller swaps it in.
    pub(crate) async fn digest_plaintext_tokens(
        &mut self,
        plan: &TokenPlan,
        flavor: &Flavor,
    ) -> StepResult<String, R> {
        let table = plan.tables.accesstoken.as_str();
        let new = plan.tables.accesstoken.suffixed(NEW_SUFFIX);
        self.recreate(&new, &(flavor.token_table)(plan, &new))
            .await?;
        let (t, f) = (self.q(table), self.q(&new));
        let cols = TOKEN_COLUMNS.map(|c| self.q(c)).join(", ");
        let (token, user_id, created_at) =
            (self.q("token"), self.q("user_id"), self.q("created_at"));
        let unused = self.dialect.literal(false);
        match flavor.token_digest {
            Some(digest) => {
                let copy = format!(
                    "INSERT INTO {f} ({cols}) SELECT {digest}, {user_id}, {created_at}, NULL, \
                     {unused} FROM {t}"
                );
                self.exec(&copy).await?;
            }
            None => {
                let tokens = self
                    .texts(&format!("SELECT {token} FROM {t}"), &[], 1)
                    .await?;
                let copy = format!(
                    "INSERT INTO {f} ({cols}) SELECT {}, {user_id}, {created_at}, NULL, {unused} \
                     FROM {t} WHERE {token} = {}",
                    self.dialect.placeholder(1),
                    self.dialect.placeholder(2)
                );
                for token in tokens.into_iter().flatten() {
                    let digest = authward_core::TokenDigest::of(&token);
                    let params = [Param::Bytes(digest.as_bytes()), Param::Text(&token)];
                    self.exec_with(&copy, &params).await?;
                }
            }
        }
        Ok(new)
    }

    /// `CREATE TABLE` for the user table: authward's columns, the custom ones, then `trailing`
    /// (keys declared inline where the database does that).
    pub(crate) fn user_table_ddl(
        &self,
        plan: &UserPlan,
        name: &str,
        trailing: &[String],
    ) -> String {
        let d = self.dialect;
        let q = |ident: &str| d.quote(ident);
        let (t, f) = (d.literal(true), d.literal(false));
        let boolean = d.bool_type();
        let mut cols = vec![
            format!("{} {}", q("id"), plan.id_pk_ddl),
            format!("{} VARCHAR(320) NOT NULL", q("email")),
            format!("{} {} NOT NULL", q("email_key"), d.email_key_type()),
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
            d.table_options()
        )
    }
}

/// What the email key backfill of a database with transactional DDL (PostgreSQL, SQLite)
/// writes differently; see [`Ddl::backfill_email_keys`]. MySQL has a backfill of its own.
pub(crate) struct TransactionalBackfill {
    /// A text `NULL`, standing for a missing `email_key` column.
    pub(crate) null_text: &'static str,
    /// The user ID, as text.
    pub(crate) id_as_text: &'static str,
    /// Where a user row is, as text.
    pub(crate) row_locator: &'static str,
    /// Matches `row_locator` against the placeholder written in place of `{}`.
    pub(crate) row_match: &'static str,
    /// `ALTER TABLE` clause making the column in place of `{}` `NOT NULL` after the backfill,
    /// where the database can.
    pub(crate) set_not_null: Option<&'static str>,
}

/// A text cell, or the error naming the query and column that answered something else.
pub(crate) fn text<E>(query: &str, column: usize, cell: Cell) -> Result<String, SchemaError<E>> {
    match cell {
        Cell::Text(text) => Ok(text),
        Cell::Null | Cell::Bytes(_) => Err(SchemaError::UnexpectedValue {
            query: query.to_owned(),
            column,
        }),
    }
}
