//! The user store: [`SqlxUserDatabase`] and its `UserDatabase` implementation.

use std::marker::PhantomData;
use std::sync::Arc;

use authward_core::{DbError, NewUser, User};
use sqlx::{ColumnIndex, Decode, Encode, Pool, Row, Type};

use crate::backend::{Backend, SqlQuery};
use crate::extra::ExtraColumns;
use crate::handoff::Handoff;
use crate::id::SqlId;
use crate::migrate::{MigrateError, UserPlan};
use crate::sql::{RESERVED_COLUMNS, UserSql};
use authward_sql_schema::{Ident, InvalidIdent, TableNames};

/// Users and OAuth accounts in a SQL database, through sqlx.
///
/// - `DB`: [`sqlx::Postgres`], [`sqlx::MySql`] or [`sqlx::Sqlite`];
/// - `ID`: `uuid::Uuid`, `i64` (assigned by the database) or `String`;
/// - `E`: the custom fields: `()` for none, [`crate::JsonExtra<X>`] for any serde type in one
///   JSON column, or your own [`ExtraColumns`] marker for real columns.
///
/// Cloning is cheap (the pool is shared). Call [`SqlxUserDatabase::migrate`] once at start-up.
///
/// ```no_run
/// # #[cfg(feature = "postgres")]
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use authward_core::{NewUser, UserDatabase};
/// use authward_sqlx::{SqlxUserDatabase, sqlx::PgPool};
///
/// let pool = PgPool::connect("postgres://postgres@127.0.0.1/app").await?;
/// let users = SqlxUserDatabase::<_, uuid::Uuid>::new(pool)?;
/// users.migrate().await?;
/// let ada = users.create(NewUser::new("Ada@Example.com", "$argon2id$...")).await?;
/// assert_eq!(users.get_by_email("ada@example.com").await?, Some(ada));
/// # Ok(()) }
/// ```
pub struct SqlxUserDatabase<DB: Backend, ID, E = ()> {
    pub(crate) pool: Pool<DB>,
    /// The pool's connections, handed from call to call while calls wait (shared by clones).
    pub(crate) handoff: Arc<Handoff<DB>>,
    pub(crate) tables: TableNames,
    pub(crate) sql: Arc<UserSql>,
    _marker: PhantomData<fn() -> (ID, E)>,
}

impl<DB: Backend, ID, E> Clone for SqlxUserDatabase<DB, ID, E> {
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

impl<DB: Backend, ID, E> std::fmt::Debug for SqlxUserDatabase<DB, ID, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlxUserDatabase")
            .field("tables", &self.tables)
            .finish_non_exhaustive()
    }
}

impl<DB, ID, E> SqlxUserDatabase<DB, ID, E>
where
    DB: Backend,
    ID: SqlId<DB>,
    E: ExtraColumns<DB>,
{
    /// A store over FastAPI Users' table names (`user`, `oauth_account`).
    ///
    /// Fails only when `E` declares an invalid or reserved column name.
    pub fn new(pool: Pool<DB>) -> Result<Self, InvalidIdent> {
        Self::with_tables(pool, TableNames::default())
    }

    /// A store over the given table names.
    pub fn with_tables(pool: Pool<DB>, tables: TableNames) -> Result<Self, InvalidIdent> {
        let extra = extra_columns::<DB, E>()?;
        Ok(Self {
            sql: Arc::new(UserSql::new::<DB>(&tables, &extra)),
            handoff: Arc::new(Handoff::new(pool.clone())),
            pool,
            tables,
            _marker: PhantomData,
        })
    }

    /// The pool the store uses.
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// The table names the store uses.
    pub fn tables(&self) -> &TableNames {
        &self.tables
    }

    /// Creates the user and OAuth account tables, or brings existing ones (an older authward
    /// schema, or FastAPI Users' SQLAlchemy tables) up to date. Idempotent.
    ///
    /// See the crate documentation for what adopting a FastAPI Users database changes.
    pub async fn migrate(&self) -> Result<(), MigrateError> {
        let plan = UserPlan {
            tables: self.tables.clone(),
            id_pk_ddl: ID::PK_DDL,
            id_fk_ddl: ID::FK_DDL,
            id_db_assigned: ID::generate().is_none(),
            extra: E::columns().to_vec(),
        };
        DB::migrate_users(&self.pool, &plan).await
    }
}

/// Validates the custom column names of `E`.
fn extra_columns<DB: Backend, E: ExtraColumns<DB>>() -> Result<Vec<Ident>, InvalidIdent> {
    let mut seen: Vec<Ident> = Vec::new();
    for column in E::columns() {
        let ident = Ident::new(column.name)?;
        let taken = RESERVED_COLUMNS
            .iter()
            .any(|r| r.eq_ignore_ascii_case(column.name))
            || seen
                .iter()
                .any(|s| s.as_str().eq_ignore_ascii_case(column.name));
        if taken {
            return Err(InvalidIdent {
                name: column.name.to_owned(),
                reason: "the column name is reserved or declared twice",
            });
        }
        seen.push(ident);
    }
    Ok(seen)
}

/// Reads a user row: authward's columns by position, the custom ones through `E`.
pub(crate) fn decode_user<DB, ID, E>(row: &DB::Row) -> Result<User<ID, E::Value>, DbError>
where
    DB: Backend,
    ID: SqlId<DB>,
    E: ExtraColumns<DB>,
    for<'r> bool: Decode<'r, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let read = || -> Result<_, sqlx::Error> {
        Ok(User {
            id: row.try_get::<ID::Wire, _>(0)?,
            email: row.try_get(1)?,
            hashed_password: row.try_get(2)?,
            is_active: row.try_get(3)?,
            is_superuser: row.try_get(4)?,
            is_verified: row.try_get(5)?,
            extra: E::decode(row)?,
        })
    };
    let user = read().map_err(DbError::backend)?;
    Ok(User {
        id: ID::from_wire(user.id)?,
        email: user.email,
        hashed_password: user.hashed_password,
        is_active: user.is_active,
        is_superuser: user.is_superuser,
        is_verified: user.is_verified,
        extra: user.extra,
    })
}

/// Binds the columns of an insert after the optional ID: email, email_key, hash, flags, extra.
pub(crate) fn bind_new_user<'q, DB, E>(
    query: SqlQuery<'q, DB>,
    user: &'q NewUser<E::Value>,
    key: &'q str,
) -> SqlQuery<'q, DB>
where
    DB: Backend,
    E: ExtraColumns<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
{
    let query = query
        .bind(user.email.as_str())
        .bind(key)
        .bind(user.hashed_password.as_str())
        .bind(user.is_active)
        .bind(user.is_superuser)
        .bind(user.is_verified);
    E::bind(&user.extra, query)
}

/// Implements `UserDatabase` for one backend (the code is the same; the types differ).
macro_rules! impl_user_database {
    ($db:ty, $feature:literal) => {
        #[cfg(feature = $feature)]
        impl<ID, E> $crate::users::SqlxUserDatabase<$db, ID, E>
        where
            ID: $crate::id::SqlId<$db>,
            E: $crate::extra::ExtraColumns<$db>,
        {
            /// The user `query` finds, if any.
            pub(crate) async fn fetch_user<'q>(
                &self,
                query: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
            ) -> Result<Option<authward_core::User<ID, E::Value>>, authward_core::DbError> {
                let row = $crate::handoff::on_handoff!(
                    self.handoff,
                    |e| $crate::error::db_error(e, "user"),
                    |conn| query.fetch_optional(conn)
                );
                row.as_ref()
                    .map($crate::users::decode_user::<$db, ID, E>)
                    .transpose()
            }

            /// Binds a patch's values (those it sets, in the order of `UserSql::update`'s
            /// columns) and the ID to `query`.
            fn bind_patch<'q>(
                mut query: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
                patch: &'q authward_core::UserPatch<E::Value>,
                key: Option<&'q str>,
                id: &ID,
            ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>> {
                if let (Some(email), Some(key)) = (&patch.email, key) {
                    query = query.bind(email.as_str()).bind(key);
                }
                if let Some(hash) = &patch.hashed_password {
                    query = query.bind(hash.as_str());
                }
                for flag in [patch.is_active, patch.is_superuser, patch.is_verified]
                    .into_iter()
                    .flatten()
                {
                    query = query.bind(flag);
                }
                if let Some(extra) = &patch.extra {
                    query = E::bind(extra, query);
                }
                query.bind(id.to_wire())
            }

            /// Inserts `user` (whose email key is `key`) on `conn` and returns its ID: generated
            /// here, or assigned by the database (read back on the same connection).
            pub(crate) async fn insert_user(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                user: &authward_core::NewUser<E::Value>,
                key: &str,
            ) -> Result<ID, authward_core::DbError> {
                use sqlx::Row as _;
                let map = |e| $crate::error::db_error(e, "user email");
                Ok(match ID::generate() {
                    Some(id) => {
                        let query = sqlx::query(&self.sql.insert_with_id).bind(id.to_wire());
                        $crate::users::bind_new_user::<$db, E>(query, user, key)
                            .execute(&mut *conn)
                            .await
                            .map_err(map)?;
                        id
                    }
                    None if <$db as $crate::dialect::Dialect>::INSERT_RETURNING => {
                        let query = sqlx::query(&self.sql.insert_assigned);
                        let row = $crate::users::bind_new_user::<$db, E>(query, user, key)
                            .fetch_one(&mut *conn)
                            .await
                            .map_err(map)?;
                        let wire: ID::Wire =
                            row.try_get(0).map_err(authward_core::DbError::backend)?;
                        ID::from_wire(wire)?
                    }
                    None => {
                        // LAST_INSERT_ID() is per connection: ask on the one that inserted.
                        let query = sqlx::query(&self.sql.insert_assigned);
                        $crate::users::bind_new_user::<$db, E>(query, user, key)
                            .execute(&mut *conn)
                            .await
                            .map_err(map)?;
                        let wire: ID::Wire =
                            sqlx::query_scalar("SELECT CAST(LAST_INSERT_ID() AS SIGNED)")
                                .fetch_one(&mut *conn)
                                .await
                                .map_err(|e| $crate::error::db_error(e, "user"))?;
                        ID::from_wire(wire)?
                    }
                })
            }

            /// Names the rule a unique violation broke while writing `email_key` (`None` when
            /// the write did not touch the email): the email only when that email belongs to
            /// another user; a unique column of the application's own otherwise.
            pub(crate) async fn classify_conflict(
                &self,
                err: authward_core::DbError,
                email_key: Option<&str>,
                own_id: Option<&ID>,
            ) -> authward_core::DbError {
                use authward_core::{AuthUser as _, DbError, UniqueKey};
                let DbError::AlreadyExists {
                    constraint, source, ..
                } = err
                else {
                    return err;
                };
                let what = match (email_key, constraint.as_deref()) {
                    (None, _) => UniqueKey::Other,
                    (Some(_), Some(name)) if name.contains("email") => UniqueKey::Email,
                    (Some(_), Some(_)) => UniqueKey::Other,
                    // The driver does not name the constraint (MySQL, SQLite): look.
                    (Some(key), None) => {
                        let owner = sqlx::query(&self.sql.get_by_email)
                            .bind(key)
                            .fetch_optional(&self.pool)
                            .await;
                        match owner {
                            Ok(Some(row)) => match $crate::users::decode_user::<$db, ID, E>(&row) {
                                Ok(user) if Some(user.id()) != own_id => UniqueKey::Email,
                                Ok(_) => UniqueKey::Other,
                                Err(_) => UniqueKey::Email,
                            },
                            Ok(None) => UniqueKey::Other,
                            // Cannot tell: the email is the only unique rule authward adds.
                            Err(_) => UniqueKey::Email,
                        }
                    }
                };
                DbError::AlreadyExists {
                    what,
                    constraint,
                    source,
                }
            }
        }

        #[cfg(feature = $feature)]
        #[async_trait::async_trait]
        impl<ID, E> authward_core::UserDatabase for $crate::users::SqlxUserDatabase<$db, ID, E>
        where
            ID: $crate::id::SqlId<$db>,
            E: $crate::extra::ExtraColumns<$db>,
        {
            type User = authward_core::User<ID, E::Value>;
            type Extra = E::Value;

            async fn get(&self, id: &ID) -> Result<Option<Self::User>, authward_core::DbError> {
                self.fetch_user(sqlx::query(&self.sql.get_by_id).bind(id.to_wire()))
                    .await
            }

            async fn get_by_email(
                &self,
                email: &str,
            ) -> Result<Option<Self::User>, authward_core::DbError> {
                let key = authward_core::user::email_key(email);
                self.fetch_user(sqlx::query(&self.sql.get_by_email).bind(key.as_str()))
                    .await
            }

            async fn create(
                &self,
                user: authward_core::NewUser<E::Value>,
            ) -> Result<Self::User, authward_core::DbError> {
                let key = authward_core::user::email_key(&user.email);
                let inserted = match self.pool.acquire().await {
                    Ok(mut conn) => self.insert_user(&mut conn, &user, &key).await,
                    Err(e) => Err($crate::error::db_error(e, "user")),
                };
                match inserted {
                    Ok(id) => Ok(user.into_user(id)),
                    Err(err) => Err(self.classify_conflict(err, Some(&key), None).await),
                }
            }

            async fn update(
                &self,
                id: &ID,
                patch: authward_core::UserPatch<E::Value>,
            ) -> Result<Self::User, authward_core::DbError> {
                use $crate::dialect::Dialect as _;
                let not_found = authward_core::DbError::NotFound { what: "user" };
                let q = <$db>::quote;
                let key = patch.email.as_deref().map(authward_core::user::email_key);
                let mut set = Vec::new();
                if patch.email.is_some() {
                    set.push(q("email"));
                    set.push(q("email_key"));
                }
                for (column, given) in [
                    ("hashed_password", patch.hashed_password.is_some()),
                    ("is_active", patch.is_active.is_some()),
                    ("is_superuser", patch.is_superuser.is_some()),
                    ("is_verified", patch.is_verified.is_some()),
                ] {
                    if given {
                        set.push(q(column));
                    }
                }
                if patch.extra.is_some() {
                    set.extend(self.sql.extra.iter().cloned());
                }
                if set.is_empty() {
                    return authward_core::UserDatabase::get(self, id)
                        .await?
                        .ok_or(not_found);
                }
                let sql = self.sql.update::<$db>(&set);
                let map = |e| $crate::error::db_error(e, "user email");
                let written: Result<_, authward_core::DbError> = if <$db>::UPDATE_RETURNING {
                    Self::bind_patch(sqlx::query(&sql), &patch, key.as_deref(), id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map)
                } else {
                    // The connection is waited for here (dropping this call stops the wait);
                    // the transaction then runs to its end even if this call is dropped.
                    let mut conn = self.pool.acquire().await.map_err(map)?;
                    let this = self.clone();
                    let (id, key) = (id.clone(), key.clone());
                    authward_core::db::detached(async move {
                        let query =
                            Self::bind_patch(sqlx::query(&sql), &patch, key.as_deref(), &id);
                        let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(map)?;
                        query.execute(&mut *tx).await.map_err(map)?;
                        let row = sqlx::query(&this.sql.get_by_id)
                            .bind(id.to_wire())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(map)?;
                        tx.commit().await.map_err(map)?;
                        Ok(row)
                    })
                    .await
                };
                let row = match written {
                    Ok(row) => row,
                    Err(err) => {
                        return Err(self.classify_conflict(err, key.as_deref(), Some(id)).await);
                    }
                };
                match row {
                    Some(row) => $crate::users::decode_user::<$db, ID, E>(&row),
                    None => Err(not_found),
                }
            }

            async fn replace_password_hash(
                &self,
                id: &ID,
                current_hash: &str,
                new_hash: String,
            ) -> Result<Option<Self::User>, authward_core::DbError> {
                use authward_core::AuthUser as _;
                use $crate::dialect::Dialect as _;
                if new_hash == current_hash {
                    // Nothing to write (and MySQL would count no changed row).
                    let user = authward_core::UserDatabase::get(self, id).await?;
                    return Ok(user.filter(|u| u.hashed_password() == current_hash));
                }
                let map = |e| $crate::error::db_error(e, "user");
                // One conditional statement: of two writers, only the one that finds its
                // expected hash changes the row.
                let row = if <$db>::UPDATE_RETURNING {
                    sqlx::query(&self.sql.replace_password)
                        .bind(new_hash.as_str())
                        .bind(id.to_wire())
                        .bind(current_hash)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map)?
                } else {
                    // The connection is waited for here (dropping this call stops the wait);
                    // the transaction then runs to its end even if this call is dropped.
                    let mut conn = self.pool.acquire().await.map_err(map)?;
                    let this = self.clone();
                    let (id, current_hash) = (id.clone(), current_hash.to_owned());
                    authward_core::db::detached(async move {
                        let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(map)?;
                        let done = sqlx::query(&this.sql.replace_password)
                            .bind(new_hash.as_str())
                            .bind(id.to_wire())
                            .bind(current_hash.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(map)?;
                        let row = if done.rows_affected() == 0 {
                            None
                        } else {
                            sqlx::query(&this.sql.get_by_id)
                                .bind(id.to_wire())
                                .fetch_optional(&mut *tx)
                                .await
                                .map_err(map)?
                        };
                        tx.commit().await.map_err(map)?;
                        Ok(row)
                    })
                    .await?
                };
                row.map(|row| $crate::users::decode_user::<$db, ID, E>(&row))
                    .transpose()
            }

            async fn delete(&self, id: &ID) -> Result<(), authward_core::DbError> {
                // OAuth accounts and tokens go with the user: their foreign keys cascade.
                let done = sqlx::query(&self.sql.delete)
                    .bind(id.to_wire())
                    .execute(&self.pool)
                    .await
                    .map_err(|e| $crate::error::db_error(e, "user"))?;
                if done.rows_affected() == 0 {
                    return Err(authward_core::DbError::NotFound { what: "user" });
                }
                Ok(())
            }
        }
    };
}

impl_user_database!(sqlx::Postgres, "postgres");
impl_user_database!(sqlx::MySql, "mysql");
impl_user_database!(sqlx::Sqlite, "sqlite");
