//! The token store: [`SqlxAccessTokenDatabase`].
//!
//! Tokens are stored as their SHA-256 digest (`BYTEA` / `BINARY(32)` / `BLOB` primary key)
//! with `user_id` (foreign key, `ON DELETE CASCADE`), `created_at`, `family` and `used`.

use std::marker::PhantomData;
use std::sync::Arc;

use authward_core::{DbError, TokenDigest, TokenFamily};

use crate::backend::Backend;
use crate::handoff::Handoff;
use crate::id::SqlId;
use crate::migrate::{MigrateError, TokenPlan};
use crate::sql::TokenSql;
use authward_sql_schema::TableNames;

/// Access (or refresh) tokens in a SQL table, by digest.
///
/// One store per token kind: the default table is FastAPI Users' `accesstoken`; use
/// [`TableNames::with_token_table`] for a second one (e.g. `refreshtoken`). The table
/// references the user table named in the same [`TableNames`].
///
/// ```no_run
/// # #[cfg(feature = "sqlite")]
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use authward_sqlx::{SqlxAccessTokenDatabase, SqlxUserDatabase, sqlx::SqlitePool};
///
/// let pool = SqlitePool::connect("sqlite:app.db?mode=rwc").await?;
/// SqlxUserDatabase::<_, i64>::new(pool.clone())?.migrate().await?;
/// let tokens = SqlxAccessTokenDatabase::<_, i64>::new(pool);
/// tokens.migrate().await?;
/// # Ok(()) }
/// ```
pub struct SqlxAccessTokenDatabase<DB: Backend, ID> {
    pub(crate) pool: sqlx::Pool<DB>,
    /// The pool's connections, handed from call to call while calls wait (shared by clones).
    pub(crate) handoff: Arc<Handoff<DB>>,
    pub(crate) tables: TableNames,
    pub(crate) sql: Arc<TokenSql>,
    _marker: PhantomData<fn() -> ID>,
}

impl<DB: Backend, ID> Clone for SqlxAccessTokenDatabase<DB, ID> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            handoff: Arc::clone(&self.handoff),
            tables: self.tables.clone(),
            sql: Arc::clone(&self.sql),
            _marker: PhantomData,
        }
    }
}

impl<DB: Backend, ID> std::fmt::Debug for SqlxAccessTokenDatabase<DB, ID> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlxAccessTokenDatabase")
            .field("tables", &self.tables)
            .finish_non_exhaustive()
    }
}

impl<DB: Backend, ID: SqlId<DB>> SqlxAccessTokenDatabase<DB, ID> {
    /// A store over the `accesstoken` table (referencing `user`).
    pub fn new(pool: sqlx::Pool<DB>) -> Self {
        Self::with_tables(pool, TableNames::default())
    }

    /// A store over `tables.accesstoken`, referencing `tables.user`.
    pub fn with_tables(pool: sqlx::Pool<DB>, tables: TableNames) -> Self {
        Self {
            sql: Arc::new(TokenSql::new::<DB>(&tables)),
            handoff: Arc::new(Handoff::new(pool.clone())),
            pool,
            tables,
            _marker: PhantomData,
        }
    }

    /// The pool the store uses.
    pub fn pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }

    /// Creates the token table, or converts FastAPI Users' plaintext `accesstoken` table to
    /// digests (each token is hashed, so sessions survive). Idempotent. The user table must
    /// exist first ([`crate::SqlxUserDatabase::migrate`]).
    pub async fn migrate(&self) -> Result<(), MigrateError> {
        let plan = TokenPlan {
            tables: self.tables.clone(),
            id_fk_ddl: ID::FK_DDL,
        };
        DB::migrate_tokens(&self.pool, &plan).await
    }
}

/// Stored digest bytes back to a [`TokenDigest`].
pub(crate) fn digest_from_stored(bytes: Vec<u8>) -> Result<TokenDigest, DbError> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|bytes: Vec<u8>| DbError::backend(InvalidStoredDigest { len: bytes.len() }))?;
    Ok(TokenDigest::from_stored(bytes))
}

/// A stored family back to a [`TokenFamily`].
pub(crate) fn family_from_stored<DB: Backend>(
    stored: Option<<uuid::Uuid as SqlId<DB>>::Wire>,
) -> Result<Option<TokenFamily>, DbError>
where
    uuid::Uuid: SqlId<DB>,
{
    stored
        .map(|wire| <uuid::Uuid as SqlId<DB>>::from_wire(wire).map(TokenFamily))
        .transpose()
}

/// A stored digest that is not 32 bytes long.
#[derive(Debug, thiserror::Error)]
#[error("stored token digest has {len} bytes, expected 32")]
pub struct InvalidStoredDigest {
    /// The length found.
    pub len: usize,
}

macro_rules! impl_token_database {
    ($db:ty, $feature:literal) => {
        #[cfg(feature = $feature)]
        #[async_trait::async_trait]
        impl<ID> authward_core::AccessTokenDatabase<ID>
            for $crate::tokens::SqlxAccessTokenDatabase<$db, ID>
        where
            ID: $crate::id::SqlId<$db>,
        {
            async fn get_by_token(
                &self,
                digest: &authward_core::TokenDigest,
                max_age: Option<time::OffsetDateTime>,
            ) -> Result<Option<authward_core::AccessToken<ID>>, authward_core::DbError> {
                use sqlx::Row as _;
                use $crate::dialect::Dialect as _;
                let map = |e| $crate::error::db_error(e, "token");
                let query = match max_age {
                    None => sqlx::query(&self.sql.get).bind(digest.as_bytes().as_slice()),
                    Some(cutoff) => sqlx::query(&self.sql.get_fresh)
                        .bind(digest.as_bytes().as_slice())
                        .bind(<$db>::time_to_wire(cutoff)?),
                };
                let row = $crate::handoff::on_handoff!(self.handoff, map, |conn| query
                    .fetch_optional(conn));
                let Some(row) = row else {
                    return Ok(None);
                };
                let user_id: ID::Wire = row.try_get(0).map_err(authward_core::DbError::backend)?;
                let created_at: <$db as $crate::dialect::Dialect>::Time =
                    row.try_get(1).map_err(authward_core::DbError::backend)?;
                let family: Option<<uuid::Uuid as $crate::id::SqlId<$db>>::Wire> =
                    row.try_get(2).map_err(authward_core::DbError::backend)?;
                let used: bool = row.try_get(3).map_err(authward_core::DbError::backend)?;
                Ok(Some(authward_core::AccessToken {
                    digest: *digest,
                    user_id: ID::from_wire(user_id)?,
                    created_at: <$db>::time_from_wire(created_at)?,
                    family: $crate::tokens::family_from_stored::<$db>(family)?,
                    used,
                }))
            }

            async fn create(
                &self,
                token: authward_core::NewAccessToken<ID>,
            ) -> Result<authward_core::AccessToken<ID>, authward_core::DbError> {
                use $crate::dialect::Dialect as _;
                let query = sqlx::query(&self.sql.insert)
                    .bind(token.digest.as_bytes().as_slice())
                    .bind(token.user_id.to_wire())
                    .bind(<$db>::time_to_wire(token.created_at)?)
                    .bind(
                        token
                            .family
                            .map(|f| <uuid::Uuid as $crate::id::SqlId<$db>>::to_wire(&f.0)),
                    )
                    .bind(token.used);
                $crate::handoff::on_handoff!(
                    self.handoff,
                    |e| $crate::error::db_error_owned(e, "token"),
                    |conn| query.execute(conn)
                );
                Ok(token.into_token())
            }

            async fn delete(
                &self,
                digest: &authward_core::TokenDigest,
            ) -> Result<bool, authward_core::DbError> {
                let query = sqlx::query(&self.sql.delete).bind(digest.as_bytes().as_slice());
                let done = $crate::handoff::on_handoff!(
                    self.handoff,
                    |e| $crate::error::db_error(e, "token"),
                    |conn| query.execute(conn)
                );
                Ok(done.rows_affected() > 0)
            }

            async fn any_for_user(
                &self,
                user_id: &ID,
                digests: &[authward_core::TokenDigest],
            ) -> Result<bool, authward_core::DbError> {
                // One query per pair of digests (a single digest is bound twice).
                for pair in digests.chunks(2) {
                    let (Some(first), Some(last)) = (pair.first(), pair.last()) else {
                        continue;
                    };
                    let query = sqlx::query(&self.sql.any_for_user)
                        .bind(user_id.to_wire())
                        .bind(first.as_bytes().as_slice())
                        .bind(last.as_bytes().as_slice());
                    let found = $crate::handoff::on_handoff!(
                        self.handoff,
                        |e| $crate::error::db_error(e, "token"),
                        |conn| query.fetch_optional(conn)
                    );
                    if found.is_some() {
                        return Ok(true);
                    }
                }
                Ok(false)
            }

            async fn delete_all_for_user(
                &self,
                user_id: &ID,
            ) -> Result<u64, authward_core::DbError> {
                let done = sqlx::query(&self.sql.delete_for_user)
                    .bind(user_id.to_wire())
                    .execute(&self.pool)
                    .await
                    .map_err(|e| $crate::error::db_error(e, "token"))?;
                Ok(done.rows_affected())
            }

            async fn list_for_user(
                &self,
                user_id: &ID,
            ) -> Result<Vec<authward_core::AccessToken<ID>>, authward_core::DbError> {
                use sqlx::Row as _;
                use $crate::dialect::Dialect as _;
                let query = sqlx::query(&self.sql.list_for_user).bind(user_id.to_wire());
                let rows = $crate::handoff::on_handoff!(
                    self.handoff,
                    |e| $crate::error::db_error(e, "token"),
                    |conn| query.fetch_all(conn)
                );
                let mut out = Vec::with_capacity(rows.len());
                for row in &rows {
                    let backend = authward_core::DbError::backend;
                    let digest: Vec<u8> = row.try_get(0).map_err(backend)?;
                    let created_at: <$db as $crate::dialect::Dialect>::Time =
                        row.try_get(1).map_err(backend)?;
                    let family: Option<<uuid::Uuid as $crate::id::SqlId<$db>>::Wire> =
                        row.try_get(2).map_err(backend)?;
                    out.push(authward_core::AccessToken {
                        digest: $crate::tokens::digest_from_stored(digest)?,
                        user_id: user_id.clone(),
                        created_at: <$db>::time_from_wire(created_at)?,
                        family: $crate::tokens::family_from_stored::<$db>(family)?,
                        used: row.try_get(3).map_err(backend)?,
                    });
                }
                Ok(out)
            }

            async fn delete_expired(
                &self,
                created_before: time::OffsetDateTime,
            ) -> Result<u64, authward_core::DbError> {
                use $crate::dialect::Dialect as _;
                let done = sqlx::query(&self.sql.delete_expired)
                    .bind(<$db>::time_to_wire(created_before)?)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| $crate::error::db_error(e, "token"))?;
                Ok(done.rows_affected())
            }
        }
    };
}

impl_token_database!(sqlx::Postgres, "postgres");
impl_token_database!(sqlx::MySql, "mysql");
impl_token_database!(sqlx::Sqlite, "sqlite");
