//! Shared test helpers: a scratch database per test (dropped at the end, client shut down),
//! stores over it, and a document type of an application's own.

#![allow(dead_code, unused_imports, unused_macros)]

use std::sync::Arc;

use async_trait::async_trait;
use authward_core::{
    AccessToken, AccessTokenDatabase, AuthUser, DbError, IdOf, NewAccessToken, NewOAuthAccount,
    NewUser, OAuthAccount, OAuthAccountPatch, OAuthUserDatabase, TokenDigest, UserDatabase,
    UserPatch, UserRecord,
};
use authward_mongodb::mongodb::{Client, Database};
use authward_mongodb::{MongoAccessTokenDatabase, MongoId, MongoUserDatabase};
use authward_testkit::{SampleId, UserFixture};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub mod app;
pub mod member;

/// The server's URL, or `None` (test skipped) without `AUTHWARD_TEST_MONGODB_URL`.
pub fn url() -> Option<String> {
    authward_testkit::service_url("AUTHWARD_TEST_MONGODB_URL")
}

/// A fresh database `aw_<random>` on the test server. Dropping the last handle drops the
/// database and shuts the client down (inside the test's multi-threaded runtime), so no
/// driver task outlives the runtime.
pub struct Scratch {
    pub client: Client,
    pub db: Database,
}

impl Scratch {
    /// `None` when the test is skipped.
    pub async fn new() -> Option<Arc<Self>> {
        let url = url()?;
        let client = authward_mongodb::connect(&url)
            .await
            .expect("the test server answers");
        let name = format!("aw_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
        let db = client.database(&name);
        Some(Arc::new(Self { client, db }))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let client = self.client.clone();
        let db = self.db.clone();
        tokio::task::block_in_place(move || {
            handle.block_on(async move {
                let _ = db.drop().await;
                client.shutdown().await;
            });
        });
    }
}

/// A store that keeps its scratch database alive, and delegates everything.
pub struct Scoped<S> {
    pub inner: S,
    pub scratch: Arc<Scratch>,
}

impl<S> Scoped<S> {
    pub fn new(inner: S, scratch: &Arc<Scratch>) -> Self {
        Self {
            inner,
            scratch: Arc::clone(scratch),
        }
    }
}

#[async_trait]
impl<S: UserDatabase> UserDatabase for Scoped<S> {
    type User = S::User;
    type Extra = S::Extra;
    async fn get(&self, id: &IdOf<S>) -> Result<Option<S::User>, DbError> {
        self.inner.get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<S::User>, DbError> {
        self.inner.get_by_email(email).await
    }
    async fn create(&self, user: NewUser<S::Extra>) -> Result<S::User, DbError> {
        self.inner.create(user).await
    }
    async fn update(&self, id: &IdOf<S>, patch: UserPatch<S::Extra>) -> Result<S::User, DbError> {
        self.inner.update(id, patch).await
    }
    async fn delete(&self, id: &IdOf<S>) -> Result<(), DbError> {
        self.inner.delete(id).await
    }
    async fn replace_password_hash(
        &self,
        id: &IdOf<S>,
        current_hash: &str,
        new_hash: String,
    ) -> Result<Option<S::User>, DbError> {
        self.inner
            .replace_password_hash(id, current_hash, new_hash)
            .await
    }
}

#[async_trait]
impl<S: OAuthUserDatabase> OAuthUserDatabase for Scoped<S> {
    async fn get_by_oauth_account(
        &self,
        oauth_name: &str,
        account_id: &str,
    ) -> Result<Option<S::User>, DbError> {
        self.inner
            .get_by_oauth_account(oauth_name, account_id)
            .await
    }
    async fn add_oauth_account(
        &self,
        user_id: &IdOf<S>,
        account: NewOAuthAccount,
    ) -> Result<OAuthAccount<IdOf<S>>, DbError> {
        self.inner.add_oauth_account(user_id, account).await
    }
    async fn create_with_oauth_account(
        &self,
        user: NewUser<S::Extra>,
        account: NewOAuthAccount,
    ) -> Result<S::User, DbError> {
        self.inner.create_with_oauth_account(user, account).await
    }
    async fn update_oauth_account(
        &self,
        user_id: &IdOf<S>,
        oauth_name: &str,
        account_id: &str,
        patch: OAuthAccountPatch,
    ) -> Result<OAuthAccount<IdOf<S>>, DbError> {
        self.inner
            .update_oauth_account(user_id, oauth_name, account_id, patch)
            .await
    }
    async fn oauth_accounts(
        &self,
        user_id: &IdOf<S>,
    ) -> Result<Vec<OAuthAccount<IdOf<S>>>, DbError> {
        self.inner.oauth_accounts(user_id).await
    }
}

#[async_trait]
impl<ID: authward_core::UserId, S: AccessTokenDatabase<ID>> AccessTokenDatabase<ID> for Scoped<S> {
    async fn get_by_token(
        &self,
        digest: &TokenDigest,
        max_age: Option<OffsetDateTime>,
    ) -> Result<Option<AccessToken<ID>>, DbError> {
        self.inner.get_by_token(digest, max_age).await
    }
    async fn create(&self, token: NewAccessToken<ID>) -> Result<AccessToken<ID>, DbError> {
        self.inner.create(token).await
    }
    async fn delete(&self, digest: &TokenDigest) -> Result<bool, DbError> {
        self.inner.delete(digest).await
    }
    async fn delete_all_for_user(&self, user_id: &ID) -> Result<u64, DbError> {
        self.inner.delete_all_for_user(user_id).await
    }
    async fn list_for_user(&self, user_id: &ID) -> Result<Vec<AccessToken<ID>>, DbError> {
        self.inner.list_for_user(user_id).await
    }
    async fn delete_expired(&self, created_before: OffsetDateTime) -> Result<u64, DbError> {
        self.inner.delete_expired(created_before).await
    }
}

/// A bootstrapped user store of `U` in a scratch database.
pub async fn users<U>() -> Option<Scoped<MongoUserDatabase<U>>>
where
    U: UserRecord + Serialize + serde::de::DeserializeOwned,
    U::Id: MongoId,
{
    let scratch = Scratch::new().await?;
    let store = MongoUserDatabase::<U>::new(&scratch.db);
    store.bootstrap().await.expect("bootstrap users");
    Some(Scoped::new(store, &scratch))
}

/// A bootstrapped token store (with a lifetime) and the user store that makes token owners.
pub async fn tokens<ID>() -> Option<(
    Scoped<MongoAccessTokenDatabase<ID>>,
    Scoped<MongoUserDatabase<authward_core::User<ID>>>,
)>
where
    ID: MongoId,
{
    let scratch = Scratch::new().await?;
    let users = MongoUserDatabase::<authward_core::User<ID>>::new(&scratch.db);
    users.bootstrap().await.expect("bootstrap users");
    let tokens = MongoAccessTokenDatabase::<ID>::new(&scratch.db)
        .with_lifetime(Some(time::Duration::hours(1)));
    tokens.bootstrap().await.expect("bootstrap tokens");
    Some((Scoped::new(tokens, &scratch), Scoped::new(users, &scratch)))
}
