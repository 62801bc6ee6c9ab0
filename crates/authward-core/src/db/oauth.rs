use async_trait::async_trait;

use crate::db::{IdOf, UserDatabase};
use crate::error::DbError;
use crate::oauth::{NewOAuthAccount, OAuthAccount, OAuthAccountPatch};
use crate::user::{AuthUser, NewUser};

/// Storage of OAuth accounts linked to users.
///
/// A `(oauth_name, account_id)` pair belongs to at most one user, enforced by the store.
#[async_trait]
pub trait OAuthUserDatabase: UserDatabase {
    /// The user owning the provider account, if any.
    async fn get_by_oauth_account(
        &self,
        oauth_name: &str,
        account_id: &str,
    ) -> Result<Option<Self::User>, DbError>;

    /// Links a provider account to a user.
    ///
    /// [`DbError::NotFound`] when the user does not exist; [`DbError::AlreadyExists`] when the
    /// `(oauth_name, account_id)` pair is already linked, to this user or another.
    async fn add_oauth_account(
        &self,
        user_id: &IdOf<Self>,
        account: NewOAuthAccount,
    ) -> Result<OAuthAccount<IdOf<Self>>, DbError>;

    /// Creates a user with a provider account linked to it, as **one atomic step**: both or
    /// neither are stored, whatever fails and even if the call is dropped midway.
    ///
    /// An OAuth sign-up uses it: a user created without its link would hold the address with
    /// a password nobody knows, and every later sign-up with that provider account would be
    /// refused as "user already exists". Errors are those of [`UserDatabase::create`] and
    /// [`OAuthUserDatabase::add_oauth_account`] (`AlreadyExists` with
    /// [`UniqueKey::Email`](crate::UniqueKey::Email) or
    /// [`UniqueKey::OAuthAccount`](crate::UniqueKey::OAuthAccount); `Email` when both are
    /// taken, as when two callbacks of one sign-up race). Every store of authward
    /// overrides it (a transaction in SQL, one document in MongoDB, one lock in memory); the
    /// conformance suite's `create_with_oauth_account_is_all_or_nothing` checks the outcome.
    ///
    /// The default creates the user, links the account and deletes the user again when the
    /// link fails: not atomic (a failing delete, or a call dropped between the steps, leaves
    /// the user behind), for stores that cannot do better.
    async fn create_with_oauth_account(
        &self,
        user: NewUser<Self::Extra>,
        account: NewOAuthAccount,
    ) -> Result<Self::User, DbError> {
        let created = self.create(user).await?;
        if let Err(err) = self.add_oauth_account(created.id(), account).await {
            if let Err(cleanup) = self.delete(created.id()).await {
                tracing::warn!(error = %cleanup, "removing a user whose OAuth link failed");
            }
            return Err(err);
        }
        Ok(created)
    }

    /// Replaces the provider tokens of a linked account.
    ///
    /// [`DbError::NotFound`] when that user has no such linked account.
    async fn update_oauth_account(
        &self,
        user_id: &IdOf<Self>,
        oauth_name: &str,
        account_id: &str,
        patch: OAuthAccountPatch,
    ) -> Result<OAuthAccount<IdOf<Self>>, DbError>;

    /// The accounts linked to a user, in the order they were linked.
    async fn oauth_accounts(
        &self,
        user_id: &IdOf<Self>,
    ) -> Result<Vec<OAuthAccount<IdOf<Self>>>, DbError>;
}
