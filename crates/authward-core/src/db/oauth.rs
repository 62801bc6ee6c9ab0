use async_trait::async_trait;

use crate::db::{IdOf, UserDatabase};
use crate::error::DbError;
use crate::oauth::{NewOAuthAccount, OAuthAccount, OAuthAccountPatch};

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
