//! The token store: [`SeaOrmAccessTokens`].
//!
//! Tokens are stored as their SHA-256 digest (`BYTEA` / `BINARY(32)` / `BLOB` primary key)
//! with `user_id` (foreign key, `ON DELETE CASCADE`), `created_at`, `family` and `used`,
//! exactly as `authward-sqlx` stores them.

use std::marker::PhantomData;

use async_trait::async_trait;
use authward_core::{
    AccessToken, AccessTokenDatabase, DbError, NewAccessToken, TokenDigest, TokenFamily, UniqueKey,
};
use sea_orm::IdenStatic;
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Value};
use time::OffsetDateTime;

use crate::entity::SeaOrmAccessToken;
use crate::error::{InvalidStored, db_error, db_error_owned};
use crate::id::SeaOrmId;
use crate::time::{time_from_row, time_value};

/// Access (or refresh) tokens in the table of token entity `T`, by digest, for users with IDs
/// of type `ID`.
///
/// One store per token kind: the ready-made entity is FastAPI Users' `accesstoken` table; a
/// second kind (refresh tokens) uses an entity of its own over another table (see
/// [`crate::migration::TokenTable`]).
///
/// ```no_run
/// # #[cfg(feature = "sqlite")]
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use authward_sea_orm::entities::i64_id::access_token;
/// use authward_sea_orm::{Migrator, SeaOrmAccessTokens, sea_orm_migration::MigratorTrait};
///
/// let db = authward_sea_orm::connect("sqlite:app.db?mode=rwc").await?;
/// Migrator::<i64>::up(&db, None).await?;
/// let tokens = SeaOrmAccessTokens::<access_token::Entity, i64>::new(db);
/// # let _ = tokens;
/// # Ok(()) }
/// ```
pub struct SeaOrmAccessTokens<T, ID> {
    db: DatabaseConnection,
    _marker: PhantomData<fn() -> (T, ID)>,
}

impl<T, ID> Clone for SeaOrmAccessTokens<T, ID> {
    fn clone(&self) -> Self {
        Self {
            db: self.db.clone(),
            _marker: PhantomData,
        }
    }
}

impl<T, ID> std::fmt::Debug for SeaOrmAccessTokens<T, ID> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeaOrmAccessTokens").finish_non_exhaustive()
    }
}

impl<T: SeaOrmAccessToken, ID: SeaOrmId> SeaOrmAccessTokens<T, ID> {
    /// A store over `db`. The table must exist ([`crate::Migrator`]).
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            _marker: PhantomData,
        }
    }

    /// The connection the store uses.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    fn digest_is(digest: &TokenDigest) -> SimpleExpr {
        Expr::col(T::COLUMNS.digest).eq(Value::Bytes(Some(Box::new(digest.as_bytes().to_vec()))))
    }

    fn user_is(user_id: &ID, backend: DbBackend) -> SimpleExpr {
        Expr::col(T::COLUMNS.user_id).eq(user_id.to_value(backend))
    }

    async fn execute(&self, statement: sea_orm::Statement) -> Result<u64, DbError> {
        self.db
            .execute(statement)
            .await
            .map(|done| done.rows_affected())
            .map_err(|e| db_error(e, UniqueKey::Token))
    }
}

/// The family column as stored: `UUID` on PostgreSQL, hyphenated text elsewhere.
fn family_value(family: Option<TokenFamily>, backend: DbBackend) -> Value {
    match (family, backend) {
        (Some(f), _) => f.0.to_value(backend),
        (None, DbBackend::Postgres) => Value::Uuid(None),
        (None, _) => Value::String(None),
    }
}

fn family_from_row(
    row: &QueryResult,
    column: &str,
    backend: DbBackend,
) -> Result<Option<TokenFamily>, DbError> {
    let stored: Option<uuid::Uuid> = match backend {
        DbBackend::Postgres => row.try_get("", column).map_err(DbError::backend)?,
        _ => crate::id::opt_text(row, column)?
            .map(|t| {
                uuid::Uuid::try_parse(&t)
                    .map_err(|_| DbError::backend(InvalidStored::new("uuid", t)))
            })
            .transpose()?,
    };
    Ok(stored.map(TokenFamily))
}

fn digest_from_row(row: &QueryResult, column: &str) -> Result<TokenDigest, DbError> {
    let bytes: Vec<u8> = row.try_get("", column).map_err(DbError::backend)?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|bytes: Vec<u8>| {
        DbError::backend(InvalidStored::new(
            "32-byte digest",
            format!("{} bytes", bytes.len()),
        ))
    })?;
    Ok(TokenDigest::from_stored(bytes))
}

#[async_trait]
impl<T: SeaOrmAccessToken, ID: SeaOrmId> AccessTokenDatabase<ID> for SeaOrmAccessTokens<T, ID> {
    async fn get_by_token(
        &self,
        digest: &TokenDigest,
        max_age: Option<OffsetDateTime>,
    ) -> Result<Option<AccessToken<ID>>, DbError> {
        let c = &T::COLUMNS;
        let backend = self.db.get_database_backend();
        let mut select = Query::select();
        select
            .columns([c.user_id, c.created_at, c.family, c.used])
            .from(T::default().table_ref())
            .and_where(Self::digest_is(digest));
        if let Some(cutoff) = max_age {
            select.and_where(Expr::col(c.created_at).gte(time_value(cutoff, backend)?));
        }
        let row = self
            .db
            .query_one(backend.build(&select))
            .await
            .map_err(|e| db_error(e, UniqueKey::Token))?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(AccessToken {
            digest: *digest,
            user_id: ID::from_row(&row, c.user_id.as_str(), backend)?,
            created_at: time_from_row(&row, c.created_at.as_str(), backend)?,
            family: family_from_row(&row, c.family.as_str(), backend)?,
            used: row.try_get("", c.used.as_str()).map_err(DbError::backend)?,
        }))
    }

    async fn create(&self, token: NewAccessToken<ID>) -> Result<AccessToken<ID>, DbError> {
        let c = &T::COLUMNS;
        let backend = self.db.get_database_backend();
        let mut insert = Query::insert();
        insert
            .into_table(T::default().table_ref())
            .columns([c.digest, c.user_id, c.created_at, c.family, c.used])
            .values([
                Value::Bytes(Some(Box::new(token.digest.as_bytes().to_vec()))).into(),
                token.user_id.to_value(backend).into(),
                time_value(token.created_at, backend)?.into(),
                family_value(token.family, backend).into(),
                token.used.into(),
            ])
            .map_err(DbError::backend)?;
        self.db
            .execute(backend.build(&insert))
            .await
            .map_err(|e| db_error_owned(e, UniqueKey::Token))?;
        Ok(token.into_token())
    }

    async fn delete(&self, digest: &TokenDigest) -> Result<bool, DbError> {
        let backend = self.db.get_database_backend();
        let mut delete = Query::delete();
        delete
            .from_table(T::default().table_ref())
            .and_where(Self::digest_is(digest));
        Ok(self.execute(backend.build(&delete)).await? > 0)
    }

    async fn delete_all_for_user(&self, user_id: &ID) -> Result<u64, DbError> {
        let backend = self.db.get_database_backend();
        let mut delete = Query::delete();
        delete
            .from_table(T::default().table_ref())
            .and_where(Self::user_is(user_id, backend));
        self.execute(backend.build(&delete)).await
    }

    async fn list_for_user(&self, user_id: &ID) -> Result<Vec<AccessToken<ID>>, DbError> {
        let c = &T::COLUMNS;
        let backend = self.db.get_database_backend();
        let mut select = Query::select();
        select
            .columns([c.digest, c.created_at, c.family, c.used])
            .from(T::default().table_ref())
            .and_where(Self::user_is(user_id, backend))
            .order_by(c.created_at, sea_orm::Order::Asc)
            .order_by(c.digest, sea_orm::Order::Asc);
        let rows = self
            .db
            .query_all(backend.build(&select))
            .await
            .map_err(|e| db_error(e, UniqueKey::Token))?;
        rows.iter()
            .map(|row| {
                Ok(AccessToken {
                    digest: digest_from_row(row, c.digest.as_str())?,
                    user_id: user_id.clone(),
                    created_at: time_from_row(row, c.created_at.as_str(), backend)?,
                    family: family_from_row(row, c.family.as_str(), backend)?,
                    used: row.try_get("", c.used.as_str()).map_err(DbError::backend)?,
                })
            })
            .collect()
    }

    async fn delete_expired(&self, created_before: OffsetDateTime) -> Result<u64, DbError> {
        let c = &T::COLUMNS;
        let backend = self.db.get_database_backend();
        let mut delete = Query::delete();
        delete
            .from_table(T::default().table_ref())
            .and_where(Expr::col(c.created_at).lt(time_value(created_before, backend)?));
        self.execute(backend.build(&delete)).await
    }
}
