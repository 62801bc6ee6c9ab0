//! OAuth accounts of [`SeaOrmUsers`]: its `OAuthUserDatabase` impl.

use async_trait::async_trait;
use authward_core::{
    DbError, NewOAuthAccount, NewUser, OAuthAccount, OAuthAccountPatch, OAuthUserDatabase,
    UniqueKey,
};
use sea_orm::IdenStatic;
use sea_orm::sea_query::{Expr, IntoIden, Query, SimpleExpr};
use sea_orm::{ActiveModelTrait, ConnectionTrait, TransactionTrait, TryIntoModel};

use crate::entity::{SeaOrmOAuthAccount, SeaOrmUser};
use crate::error::{db_error, db_error_owned};
use crate::id::{SeaOrmId, opt_text, text};
use crate::users::{NewRow, SeaOrmUsers, UserIdOf};

#[async_trait]
impl<U, O> OAuthUserDatabase for SeaOrmUsers<U, O>
where
    U: SeaOrmUser,
    U::ActiveModel: ActiveModelTrait<Entity = U> + TryIntoModel<U::Model> + Send + Sync,
    O: SeaOrmOAuthAccount,
{
    async fn get_by_oauth_account(
        &self,
        oauth_name: &str,
        account_id: &str,
    ) -> Result<Option<U::Model>, DbError> {
        let o = &O::COLUMNS;
        let table = O::default().into_iden();
        let owner = Query::select()
            .column((table.clone(), o.user_id.into_iden()))
            .from(O::default().table_ref())
            .and_where(Expr::col((table.clone(), o.oauth_name.into_iden())).eq(oauth_name))
            .and_where(Expr::col((table, o.account_id.into_iden())).eq(account_id))
            .to_owned();
        let filter =
            Expr::col((U::default().into_iden(), U::COLUMNS.id.into_iden())).in_subquery(owner);
        self.get_where(filter).await
    }

    async fn add_oauth_account(
        &self,
        user_id: &UserIdOf<U>,
        account: NewOAuthAccount,
    ) -> Result<OAuthAccount<UserIdOf<U>>, DbError> {
        // A missing user is a foreign-key violation, mapped to NotFound("user").
        self.insert_account(&self.db, user_id, &account).await?;
        Ok(account.into_account(user_id.clone()))
    }

    async fn create_with_oauth_account(
        &self,
        user: NewUser<U::Extra>,
        account: NewOAuthAccount,
    ) -> Result<U::Model, DbError> {
        // One transaction, run to its end even if this call is dropped: a failed link rolls
        // the user back.
        let this = self.clone();
        authward_core::db::detached(async move {
            let new = NewRow::<U>::of(user);
            let map = |e| db_error(e, UniqueKey::UserId);
            let tx = this.db.begin().await.map_err(map)?;
            let id = match this.insert(&tx, new.columns(), new.id.as_ref()).await {
                Ok(id) => id,
                Err(err) => {
                    // Roll back (and give the connection back) before classifying.
                    drop(tx);
                    return Err(this.classify_conflict(err, Some(&new.key), None).await);
                }
            };
            this.insert_account(&tx, &id, &account).await?;
            tx.commit().await.map_err(map)?;
            this.created(new, id).await
        })
        .await
    }

    async fn update_oauth_account(
        &self,
        user_id: &UserIdOf<U>,
        oauth_name: &str,
        account_id: &str,
        patch: OAuthAccountPatch,
    ) -> Result<OAuthAccount<UserIdOf<U>>, DbError> {
        let o = &O::COLUMNS;
        let backend = self.db.get_database_backend();
        let mut update = Query::update();
        update
            .table(O::default().table_ref())
            .values([
                (o.access_token, patch.access_token.as_str().into()),
                (o.expires_at, patch.expires_at.into()),
                (o.refresh_token, patch.refresh_token.as_deref().into()),
                (o.account_email, patch.account_email.as_str().into()),
            ])
            .and_where(Expr::col(o.user_id).eq(user_id.to_value(backend)))
            .and_where(Expr::col(o.oauth_name).eq(oauth_name))
            .and_where(Expr::col(o.account_id).eq(account_id));
        let done = self
            .db
            .execute(backend.build(&update))
            .await
            .map_err(|e| db_error(e, UniqueKey::OAuthAccount))?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound {
                what: "oauth account",
            });
        }
        Ok(patch.into_account(user_id.clone(), oauth_name, account_id))
    }

    async fn oauth_accounts(
        &self,
        user_id: &UserIdOf<U>,
    ) -> Result<Vec<OAuthAccount<UserIdOf<U>>>, DbError> {
        let o = &O::COLUMNS;
        let backend = self.db.get_database_backend();
        let select = Query::select()
            .columns([
                o.oauth_name,
                o.access_token,
                o.expires_at,
                o.refresh_token,
                o.account_id,
                o.account_email,
            ])
            .from(O::default().table_ref())
            .and_where(Expr::col(o.user_id).eq(user_id.to_value(backend)))
            .order_by(o.id, sea_orm::Order::Asc)
            .to_owned();
        let rows = self
            .db
            .query_all(backend.build(&select))
            .await
            .map_err(|e| db_error(e, UniqueKey::OAuthAccount))?;
        rows.iter()
            .map(|row| {
                Ok(OAuthAccount {
                    user_id: user_id.clone(),
                    oauth_name: text(row, o.oauth_name.as_str())?,
                    access_token: text(row, o.access_token.as_str())?,
                    expires_at: row
                        .try_get("", o.expires_at.as_str())
                        .map_err(DbError::backend)?,
                    refresh_token: opt_text(row, o.refresh_token.as_str())?,
                    account_id: text(row, o.account_id.as_str())?,
                    account_email: text(row, o.account_email.as_str())?,
                })
            })
            .collect()
    }
}

impl<U, O> SeaOrmUsers<U, O>
where
    U: SeaOrmUser,
    O: SeaOrmOAuthAccount,
{
    /// Inserts the account row of `user_id` on `conn` (the connection or a transaction).
    async fn insert_account<C: ConnectionTrait>(
        &self,
        conn: &C,
        user_id: &UserIdOf<U>,
        account: &NewOAuthAccount,
    ) -> Result<(), DbError> {
        let o = &O::COLUMNS;
        let backend = self.db.get_database_backend();
        let mut insert = Query::insert();
        insert
            .into_table(O::default().table_ref())
            .columns([
                o.user_id,
                o.oauth_name,
                o.access_token,
                o.expires_at,
                o.refresh_token,
                o.account_id,
                o.account_email,
            ])
            .values([
                SimpleExpr::Value(user_id.to_value(backend)),
                account.oauth_name.as_str().into(),
                account.access_token.as_str().into(),
                account.expires_at.into(),
                account.refresh_token.as_deref().into(),
                account.account_id.as_str().into(),
                account.account_email.as_str().into(),
            ])
            .map_err(DbError::backend)?;
        conn.execute(backend.build(&insert))
            .await
            .map_err(|e| db_error_owned(e, UniqueKey::OAuthAccount))?;
        Ok(())
    }
}
