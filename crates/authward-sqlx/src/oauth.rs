//! OAuth accounts: the `OAuthUserDatabase` implementation of [`crate::SqlxUserDatabase`].
//!
//! `(oauth_name, account_id)` is unique in the database; the user's accounts are listed in
//! link order (the table's auto-increment `id`).

use authward_core::{DbError, OAuthAccount};
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::backend::Backend;

/// Reads an account row (`oauth_name, access_token, expires_at, refresh_token, account_id,
/// account_email`) of `user_id`.
pub(crate) fn decode_account<DB, ID>(
    row: &DB::Row,
    user_id: &ID,
) -> Result<OAuthAccount<ID>, DbError>
where
    DB: Backend,
    ID: Clone,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> Option<String>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let read = || -> Result<_, sqlx::Error> {
        Ok(OAuthAccount {
            user_id: user_id.clone(),
            oauth_name: row.try_get::<DB::ExactText, _>(0)?.into(),
            access_token: row.try_get(1)?,
            expires_at: row.try_get(2)?,
            refresh_token: row.try_get(3)?,
            account_id: row.try_get::<DB::ExactText, _>(4)?.into(),
            account_email: row.try_get(5)?,
        })
    };
    read().map_err(DbError::backend)
}

macro_rules! impl_oauth_database {
    ($db:ty, $feature:literal) => {
        #[cfg(feature = $feature)]
        impl<ID, E> $crate::users::SqlxUserDatabase<$db, ID, E>
        where
            ID: $crate::id::SqlId<$db>,
            E: $crate::extra::ExtraColumns<$db>,
        {
            /// Inserts the account row of `user_id` on `conn`. A missing user is a
            /// foreign-key violation, mapped to `NotFound("user")`.
            async fn insert_account(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                user_id: &ID,
                account: &authward_core::NewOAuthAccount,
            ) -> Result<(), authward_core::DbError> {
                sqlx::query(&self.sql.oauth_insert)
                    .bind(user_id.to_wire())
                    .bind(account.oauth_name.as_str())
                    .bind(account.access_token.as_str())
                    .bind(account.expires_at)
                    .bind(account.refresh_token.as_deref())
                    .bind(account.account_id.as_str())
                    .bind(account.account_email.as_str())
                    .execute(conn)
                    .await
                    .map_err(|e| $crate::error::db_error_owned(e, "oauth account"))?;
                Ok(())
            }
        }

        #[cfg(feature = $feature)]
        #[async_trait::async_trait]
        impl<ID, E> authward_core::OAuthUserDatabase for $crate::users::SqlxUserDatabase<$db, ID, E>
        where
            ID: $crate::id::SqlId<$db>,
            E: $crate::extra::ExtraColumns<$db>,
        {
            async fn get_by_oauth_account(
                &self,
                oauth_name: &str,
                account_id: &str,
            ) -> Result<Option<Self::User>, authward_core::DbError> {
                let query = sqlx::query(&self.sql.by_oauth)
                    .bind(oauth_name)
                    .bind(account_id);
                self.fetch_user(query).await
            }

            async fn add_oauth_account(
                &self,
                user_id: &ID,
                account: authward_core::NewOAuthAccount,
            ) -> Result<authward_core::OAuthAccount<ID>, authward_core::DbError> {
                let mut conn = self
                    .pool
                    .acquire()
                    .await
                    .map_err(|e| $crate::error::db_error(e, "oauth account"))?;
                self.insert_account(&mut conn, user_id, &account).await?;
                Ok(account.into_account(user_id.clone()))
            }

            async fn create_with_oauth_account(
                &self,
                user: authward_core::NewUser<E::Value>,
                account: authward_core::NewOAuthAccount,
            ) -> Result<Self::User, authward_core::DbError> {
                // One transaction: a failed link rolls the user back. The connection is waited
                // for here (dropping this call stops the wait); the transaction then runs to
                // its end even if this call is dropped.
                let map = |e| $crate::error::db_error(e, "user");
                let mut conn = self.pool.acquire().await.map_err(map)?;
                let this = self.clone();
                authward_core::db::detached(async move {
                    let key = authward_core::user::email_key(&user.email);
                    let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(map)?;
                    let id = match this.insert_user(&mut tx, &user, &key).await {
                        Ok(id) => id,
                        Err(err) => {
                            // Roll back and give the connection back before classifying.
                            drop(tx);
                            drop(conn);
                            return Err(this.classify_conflict(err, Some(&key), None).await);
                        }
                    };
                    this.insert_account(&mut tx, &id, &account).await?;
                    tx.commit().await.map_err(map)?;
                    Ok(user.into_user(id))
                })
                .await
            }

            async fn update_oauth_account(
                &self,
                user_id: &ID,
                oauth_name: &str,
                account_id: &str,
                patch: authward_core::OAuthAccountPatch,
            ) -> Result<authward_core::OAuthAccount<ID>, authward_core::DbError> {
                let done = sqlx::query(&self.sql.oauth_update)
                    .bind(patch.access_token.as_str())
                    .bind(patch.expires_at)
                    .bind(patch.refresh_token.as_deref())
                    .bind(patch.account_email.as_str())
                    .bind(user_id.to_wire())
                    .bind(oauth_name)
                    .bind(account_id)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| $crate::error::db_error(e, "oauth account"))?;
                if done.rows_affected() == 0 {
                    return Err(authward_core::DbError::NotFound {
                        what: "oauth account",
                    });
                }
                Ok(patch.into_account(user_id.clone(), oauth_name, account_id))
            }

            async fn oauth_accounts(
                &self,
                user_id: &ID,
            ) -> Result<Vec<authward_core::OAuthAccount<ID>>, authward_core::DbError> {
                let rows = sqlx::query(&self.sql.oauth_list)
                    .bind(user_id.to_wire())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| $crate::error::db_error(e, "oauth account"))?;
                rows.iter()
                    .map(|row| $crate::oauth::decode_account::<$db, ID>(row, user_id))
                    .collect()
            }
        }
    };
}

impl_oauth_database!(sqlx::Postgres, "postgres");
impl_oauth_database!(sqlx::MySql, "mysql");
impl_oauth_database!(sqlx::Sqlite, "sqlite");
