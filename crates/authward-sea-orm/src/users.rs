//! The user store: [`SeaOrmUsers`] and its `UserDatabase` impl (OAuth accounts: `oauth.rs`).

use std::marker::PhantomData;

use async_trait::async_trait;
use authward_core::{AuthUser, DbError, NewUser, UniqueKey, UserDatabase, UserPatch};
use sea_orm::IdenStatic;
use sea_orm::sea_query::{Alias, Expr, Func, IntoIden, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, Iterable, QueryFilter, QuerySelect, Select, TransactionTrait, TryIntoModel, Value,
};

use crate::entity::SeaOrmUser;
use crate::error::db_error;
use crate::id::{SeaOrmId, quote};

/// The ID type of user entity `U`.
pub type UserIdOf<U> = <<U as EntityTrait>::Model as AuthUser>::Id;

/// Users (entity `U`) and their OAuth accounts (entity `O`) through SeaORM.
///
/// - `U`: the application's user entity ([`SeaOrmUser`]); its `Model` is the user type;
/// - `O`: the OAuth account entity ([`SeaOrmOAuthAccount`](crate::SeaOrmOAuthAccount)), or `()` (the default) for a store
///   without OAuth (`UserDatabase` only).
///
/// Cloning is cheap (the connection pool is shared).
///
/// ```no_run
/// # #[cfg(feature = "sqlite")]
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use authward_core::{NewUser, UserDatabase};
/// use authward_sea_orm::entities::uuid_id::{oauth_account, user};
/// use authward_sea_orm::{Migrator, SeaOrmUsers, sea_orm_migration::MigratorTrait};
///
/// let db = authward_sea_orm::connect("sqlite:app.db?mode=rwc").await?;
/// Migrator::<uuid::Uuid>::up(&db, None).await?;
/// let users = SeaOrmUsers::<user::Entity, oauth_account::Entity>::new(db);
/// let ada = users.create(NewUser::new("Ada@Example.com", "$argon2id$...")).await?;
/// assert_eq!(users.get_by_email("ada@example.com").await?, Some(ada));
/// # Ok(()) }
/// ```
pub struct SeaOrmUsers<U, O = ()> {
    pub(crate) db: DatabaseConnection,
    _marker: PhantomData<fn() -> (U, O)>,
}

impl<U, O> Clone for SeaOrmUsers<U, O> {
    fn clone(&self) -> Self {
        Self {
            db: self.db.clone(),
            _marker: PhantomData,
        }
    }
}

impl<U, O> std::fmt::Debug for SeaOrmUsers<U, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeaOrmUsers").finish_non_exhaustive()
    }
}

impl<U: SeaOrmUser, O> SeaOrmUsers<U, O> {
    /// A store over `db`. The tables must exist ([`crate::Migrator`]).
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

    /// A `SELECT` of the user entity that reads on every backend.
    ///
    /// Use it instead of `Entity::find()` for queries of your own: the shared schema stores a
    /// `Uuid` ID as text on SQLite and MySQL, and the email key as `VARBINARY` on MySQL, which
    /// SeaORM's plain decoding of the entity's field types does not read.
    pub fn find(&self) -> Select<U> {
        select_users::<U>(self.db.get_database_backend())
    }

    /// [`SeaOrmUsers::find`] filtered on the ID (bound as the shared schema stores it).
    pub fn find_by_id(&self, id: &UserIdOf<U>) -> Select<U> {
        let backend = self.db.get_database_backend();
        select_users::<U>(backend).filter(id_is::<U>(id, backend))
    }
}

/// `id = <value>`, with the ID bound as stored on `backend`.
fn id_is<U: SeaOrmUser>(id: &UserIdOf<U>, backend: DbBackend) -> SimpleExpr {
    Expr::col((U::default().into_iden(), U::COLUMNS.id.into_iden())).eq(id.to_value(backend))
}

/// Every column of `U`, with the ID and the email key read through expressions where the
/// backend stores them in another form than SeaORM decodes.
pub(crate) fn select_users<U: SeaOrmUser>(backend: DbBackend) -> Select<U> {
    let cols = &U::COLUMNS;
    let id_name = cols.id.as_str();
    let key_name = cols.email_key.as_str();
    let id_expr = UserIdOf::<U>::select_expr(backend, &quote(backend, id_name));
    if id_expr.is_none() && backend != DbBackend::MySql {
        return U::find();
    }
    let mut select = U::find().select_only();
    for column in U::Column::iter() {
        let name = column.as_str();
        select = if name == id_name && id_expr.is_some() {
            let expr = UserIdOf::<U>::select_expr(backend, &quote(backend, name));
            match expr {
                Some(expr) => select.column_as(expr, name),
                None => select.column(column),
            }
        } else if name == key_name && backend == DbBackend::MySql {
            let expr = Expr::cust(format!("CAST({} AS CHAR)", quote(backend, name)));
            select.column_as(expr, name)
        } else {
            select.column(column)
        };
    }
    select
}

/// The application's columns that `model` sets.
fn set_columns<U: SeaOrmUser>(model: &U::ActiveModel) -> Vec<(U::Column, Value)>
where
    U::ActiveModel: ActiveModelTrait<Entity = U>,
{
    U::Column::iter()
        .filter(|c| !U::COLUMNS.contains(c))
        .filter_map(|c| match model.get(c) {
            ActiveValue::Set(v) | ActiveValue::Unchanged(v) => Some((c, v)),
            ActiveValue::NotSet => None,
        })
        .collect()
}

impl<U: SeaOrmUser, O> SeaOrmUsers<U, O>
where
    U::ActiveModel: ActiveModelTrait<Entity = U> + TryIntoModel<U::Model> + Send,
{
    pub(crate) async fn get_where(&self, filter: SimpleExpr) -> Result<Option<U::Model>, DbError> {
        self.find()
            .filter(filter)
            .one(&self.db)
            .await
            .map_err(|e| db_error(e, UniqueKey::UserId))
    }

    /// Names the rule a unique violation broke while writing `email_key` (`None` when the write
    /// did not touch the email): the email only when it belongs to another user, a unique
    /// column of the application's own otherwise.
    pub(crate) async fn classify_conflict(
        &self,
        err: DbError,
        email_key: Option<&str>,
        own_id: Option<&UserIdOf<U>>,
    ) -> DbError {
        let DbError::AlreadyExists {
            constraint, source, ..
        } = err
        else {
            return err;
        };
        let key_column = U::COLUMNS.email_key;
        let key_column = key_column.as_str();
        let what = match (email_key, constraint.as_deref()) {
            (None, _) => UniqueKey::Other,
            (Some(_), Some(name)) if name.contains(key_column) || name.contains("email") => {
                UniqueKey::Email
            }
            (Some(_), Some(_)) => UniqueKey::Other,
            // The driver does not name the constraint (MySQL, SQLite): look.
            (Some(key), None) => {
                let owner = self
                    .get_where(U::COLUMNS.email_key.eq(key.to_owned()))
                    .await;
                match owner {
                    Ok(Some(user)) if Some(user.id()) != own_id => UniqueKey::Email,
                    Ok(Some(_)) | Ok(None) => UniqueKey::Other,
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

    /// Inserts the row on `conn` (the connection or a transaction); returns the ID (assigned
    /// by the database for `i64`).
    pub(crate) async fn insert<C: ConnectionTrait>(
        &self,
        conn: &C,
        columns: Vec<(U::Column, Value)>,
        id: Option<&UserIdOf<U>>,
    ) -> Result<UserIdOf<U>, DbError> {
        let backend = self.db.get_database_backend();
        let id_column = U::COLUMNS.id;
        let mut insert = Query::insert();
        insert.into_table(U::default().table_ref());
        let mut names = Vec::with_capacity(columns.len() + 1);
        let mut values = Vec::with_capacity(columns.len() + 1);
        if let Some(id) = id {
            names.push(id_column.into_iden());
            values.push(SimpleExpr::Value(id.to_value(backend)));
        }
        for (column, value) in columns {
            names.push(column.into_iden());
            values.push(SimpleExpr::Value(value));
        }
        insert.columns(names);
        insert.values(values).map_err(DbError::backend)?;
        let map = |e| db_error(e, UniqueKey::Email);
        match id {
            Some(id) => {
                conn.execute(backend.build(&insert)).await.map_err(map)?;
                Ok(id.clone())
            }
            None if backend == DbBackend::Postgres => {
                insert.returning_col(id_column);
                let row = conn.query_one(backend.build(&insert)).await.map_err(map)?;
                let row = row.ok_or_else(|| DbError::backend(NoRowReturned))?;
                UserIdOf::<U>::from_row(&row, id_column.as_str(), backend)
            }
            None => {
                // The insert's own result carries the connection's last insert ID.
                let done = conn.execute(backend.build(&insert)).await.map_err(map)?;
                let assigned = i64::try_from(done.last_insert_id()).map_err(DbError::backend)?;
                let text = assigned.to_string();
                <UserIdOf<U> as authward_core::UserId>::parse_id(&text).map_err(DbError::backend)
            }
        }
    }
}

/// A new user's row, ready to insert.
pub(crate) struct NewRow<U: SeaOrmUser> {
    /// The model, with the application's columns set.
    model: U::ActiveModel,
    /// authward's columns and their values.
    own: [(U::Column, Value); 6],
    /// The email key.
    pub(crate) key: String,
    /// The ID generated here (`None` when the database assigns it).
    pub(crate) id: Option<UserIdOf<U>>,
}

impl<U: SeaOrmUser> NewRow<U>
where
    U::ActiveModel: ActiveModelTrait<Entity = U>,
{
    pub(crate) fn of(user: NewUser<U::Extra>) -> Self {
        let cols = &U::COLUMNS;
        let key = authward_core::user::email_key(&user.email);
        let mut model = <U::ActiveModel as ActiveModelTrait>::default();
        U::set_extra(&mut model, user.extra);
        let own = [
            (cols.email, Value::from(user.email)),
            (cols.email_key, Value::from(key.clone())),
            (cols.hashed_password, Value::from(user.hashed_password)),
            (cols.is_active, Value::from(user.is_active)),
            (cols.is_superuser, Value::from(user.is_superuser)),
            (cols.is_verified, Value::from(user.is_verified)),
        ];
        Self {
            model,
            own,
            key,
            id: <UserIdOf<U> as authward_core::UserId>::generate(),
        }
    }

    /// Every column the insert writes (the ID aside).
    pub(crate) fn columns(&self) -> Vec<(U::Column, Value)> {
        let mut columns = set_columns::<U>(&self.model);
        columns.extend(self.own.iter().cloned());
        columns
    }
}

impl<U: SeaOrmUser, O> SeaOrmUsers<U, O>
where
    U::ActiveModel: ActiveModelTrait<Entity = U> + TryIntoModel<U::Model> + Send,
{
    /// The user inserted from `new` as `id`: built from what was written, or read back when
    /// the application leaves a column to a database default.
    pub(crate) async fn created(
        &self,
        new: NewRow<U>,
        id: UserIdOf<U>,
    ) -> Result<U::Model, DbError> {
        let NewRow { mut model, own, .. } = new;
        let mut complete = model.try_set(U::COLUMNS.id, id.clone().into()).is_ok();
        for (column, value) in own {
            complete &= model.try_set(column, value).is_ok();
        }
        if complete && let Ok(built) = model.try_into_model() {
            return Ok(built);
        }
        self.get_where(id_is::<U>(&id, self.db.get_database_backend()))
            .await?
            .ok_or(DbError::NotFound { what: "user" })
    }
}

/// An `INSERT ... RETURNING` returned no row.
#[derive(Debug, thiserror::Error)]
#[error("the insert returned no row")]
pub struct NoRowReturned;

#[async_trait]
impl<U, O> UserDatabase for SeaOrmUsers<U, O>
where
    U: SeaOrmUser,
    U::ActiveModel: ActiveModelTrait<Entity = U> + TryIntoModel<U::Model> + Send + Sync,
    O: Send + Sync + 'static,
{
    type User = U::Model;
    type Extra = U::Extra;

    async fn get(&self, id: &UserIdOf<U>) -> Result<Option<U::Model>, DbError> {
        let backend = self.db.get_database_backend();
        self.get_where(id_is::<U>(id, backend)).await
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<U::Model>, DbError> {
        let key = authward_core::user::email_key(email);
        self.get_where(U::COLUMNS.email_key.eq(key)).await
    }

    async fn create(&self, user: NewUser<U::Extra>) -> Result<U::Model, DbError> {
        let new = NewRow::<U>::of(user);
        let id = match self.insert(&self.db, new.columns(), new.id.as_ref()).await {
            Ok(id) => id,
            Err(err) => return Err(self.classify_conflict(err, Some(&new.key), None).await),
        };
        self.created(new, id).await
    }

    async fn update(
        &self,
        id: &UserIdOf<U>,
        patch: UserPatch<U::Extra>,
    ) -> Result<U::Model, DbError> {
        let cols = &U::COLUMNS;
        let not_found = DbError::NotFound { what: "user" };
        let backend = self.db.get_database_backend();
        let key = patch.email.as_deref().map(authward_core::user::email_key);
        let mut set: Vec<(U::Column, Value)> = Vec::new();
        if let (Some(email), Some(key)) = (patch.email, &key) {
            set.push((cols.email, email.into()));
            set.push((cols.email_key, key.clone().into()));
        }
        if let Some(hash) = patch.hashed_password {
            set.push((cols.hashed_password, hash.into()));
        }
        for (column, flag) in [
            (cols.is_active, patch.is_active),
            (cols.is_superuser, patch.is_superuser),
            (cols.is_verified, patch.is_verified),
        ] {
            if let Some(flag) = flag {
                set.push((column, flag.into()));
            }
        }
        if let Some(extra) = patch.extra {
            let mut model = <U::ActiveModel as ActiveModelTrait>::default();
            U::set_extra(&mut model, extra);
            set.extend(set_columns::<U>(&model));
        }
        if set.is_empty() {
            return self.get(id).await?.ok_or(not_found);
        }
        let mut update = Query::update();
        update
            .table(U::default().table_ref())
            .values(
                set.into_iter()
                    .map(|(c, v)| (c.into_iden(), SimpleExpr::Value(v))),
            )
            .and_where(id_is::<U>(id, backend));
        let map = |e| db_error(e, UniqueKey::Email);
        let (db, write) = (self.db.clone(), backend.build(&update));
        let read = select_users::<U>(backend).filter(id_is::<U>(id, backend));
        // A transaction runs to its end even if this call is dropped.
        let written: Result<Option<U::Model>, DbError> = authward_core::db::detached(async move {
            let tx = db.begin().await.map_err(map)?;
            tx.execute(write).await.map_err(map)?;
            let row = read.one(&tx).await.map_err(map)?;
            tx.commit().await.map_err(map)?;
            Ok(row)
        })
        .await;
        match written {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(not_found),
            Err(err) => Err(self.classify_conflict(err, key.as_deref(), Some(id)).await),
        }
    }

    async fn replace_password_hash(
        &self,
        id: &UserIdOf<U>,
        current_hash: &str,
        new_hash: String,
    ) -> Result<Option<U::Model>, DbError> {
        let column = U::COLUMNS.hashed_password;
        let backend = self.db.get_database_backend();
        if new_hash == current_hash {
            // Nothing to write (and MySQL would count no changed row).
            let user = self.get(id).await?;
            return Ok(user.filter(|u| u.hashed_password() == current_hash));
        }
        // One conditional statement: of two writers, only the one that finds its expected
        // hash changes the row.
        let mut update = Query::update();
        update
            .table(U::default().table_ref())
            .values([(column.into_iden(), SimpleExpr::Value(new_hash.into()))])
            .and_where(id_is::<U>(id, backend))
            .and_where(hash_is::<U>(current_hash, backend));
        let map = |e| db_error(e, UniqueKey::UserId);
        let (db, write) = (self.db.clone(), backend.build(&update));
        let read = select_users::<U>(backend).filter(id_is::<U>(id, backend));
        // A transaction runs to its end even if this call is dropped.
        authward_core::db::detached(async move {
            let tx = db.begin().await.map_err(map)?;
            let done = tx.execute(write).await.map_err(map)?;
            let row = if done.rows_affected() == 0 {
                None
            } else {
                read.one(&tx).await.map_err(map)?
            };
            tx.commit().await.map_err(map)?;
            Ok(row)
        })
        .await
    }

    async fn delete(&self, id: &UserIdOf<U>) -> Result<(), DbError> {
        // OAuth accounts and tokens go with the user: their foreign keys cascade.
        let backend = self.db.get_database_backend();
        let mut delete = Query::delete();
        delete
            .from_table(U::default().table_ref())
            .and_where(id_is::<U>(id, backend));
        let done = self
            .db
            .execute(backend.build(&delete))
            .await
            .map_err(|e| db_error(e, UniqueKey::UserId))?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound { what: "user" });
        }
        Ok(())
    }
}

/// The stored hash equals `hash` byte for byte: MySQL compares text under the column's
/// collation (case-insensitive by default), so there both sides are compared as binary.
fn hash_is<U: SeaOrmUser>(hash: &str, backend: DbBackend) -> SimpleExpr {
    let column = Expr::col((
        U::default().into_iden(),
        U::COLUMNS.hashed_password.into_iden(),
    ));
    match backend {
        DbBackend::MySql => Expr::expr(Func::cast_as(column, Alias::new("BINARY")))
            .eq(Func::cast_as(Expr::val(hash), Alias::new("BINARY"))),
        _ => column.eq(hash),
    }
}
