//! OAuth accounts linked to users, and the encryption of their provider tokens at rest
//! ([`ProviderTokenCipher`]).

mod cipher;

use std::fmt;

pub use self::cipher::{
    Decrypted, InvalidTokenKey, PROVIDER_TOKEN_KEY_BYTES, ProviderTokenCipher, TokenDecryptError,
    TokenField,
};

use serde::{Deserialize, Serialize};

/// A provider account linked to a user.
///
/// `(oauth_name, account_id)` is unique across all users: one provider account can belong to
/// one user only. The provider's tokens are secrets, so [`Debug`] hides them. Read through the
/// [`UserManager`](crate::UserManager) they arrive in the store encrypted
/// ([`ProviderTokenCipher`]), or empty when the manager keeps no provider tokens;
/// [`UserManager::oauth_accounts`](crate::UserManager::oauth_accounts) decrypts them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthAccount<ID> {
    /// The user the account is linked to.
    pub user_id: ID,
    /// The provider's name, e.g. `"google"`.
    pub oauth_name: String,
    /// The provider access token.
    pub access_token: String,
    /// When the access token expires, in unix seconds.
    pub expires_at: Option<i64>,
    /// The provider refresh token.
    pub refresh_token: Option<String>,
    /// The account's ID at the provider.
    pub account_id: String,
    /// The account's email address at the provider.
    pub account_email: String,
}

impl<ID: fmt::Debug> fmt::Debug for OAuthAccount<ID> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthAccount")
            .field("user_id", &self.user_id)
            .field("oauth_name", &self.oauth_name)
            .field("access_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("account_id", &self.account_id)
            .field("account_email", &self.account_email)
            .finish()
    }
}

/// A provider account to link to a user.
#[derive(Clone, PartialEq, Eq)]
pub struct NewOAuthAccount {
    /// The provider's name.
    pub oauth_name: String,
    /// The provider access token.
    pub access_token: String,
    /// When the access token expires, in unix seconds.
    pub expires_at: Option<i64>,
    /// The provider refresh token.
    pub refresh_token: Option<String>,
    /// The account's ID at the provider.
    pub account_id: String,
    /// The account's email address at the provider.
    pub account_email: String,
}

impl NewOAuthAccount {
    /// Builds the stored record for `user_id`.
    pub fn into_account<ID>(self, user_id: ID) -> OAuthAccount<ID> {
        OAuthAccount {
            user_id,
            oauth_name: self.oauth_name,
            access_token: self.access_token,
            expires_at: self.expires_at,
            refresh_token: self.refresh_token,
            account_id: self.account_id,
            account_email: self.account_email,
        }
    }
}

impl fmt::Debug for NewOAuthAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewOAuthAccount")
            .field("oauth_name", &self.oauth_name)
            .field("account_id", &self.account_id)
            .field("account_email", &self.account_email)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// New provider tokens for a linked account (what a repeated OAuth login brings).
///
/// `expires_at` and `refresh_token` are written as given, `None` included, because a provider
/// that stops sending a refresh token has revoked the old one.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthAccountPatch {
    /// The new provider access token.
    pub access_token: String,
    /// When it expires, in unix seconds.
    pub expires_at: Option<i64>,
    /// The new provider refresh token.
    pub refresh_token: Option<String>,
    /// The account's current email at the provider.
    pub account_email: String,
}

impl OAuthAccountPatch {
    /// Applies the patch to a stored account in place.
    pub fn apply_to<ID>(self, account: &mut OAuthAccount<ID>) {
        account.access_token = self.access_token;
        account.expires_at = self.expires_at;
        account.refresh_token = self.refresh_token;
        account.account_email = self.account_email;
    }

    /// The account `(oauth_name, account_id)` of `user_id` as it is once the patch is written,
    /// for stores that update in place without reading the account back.
    pub fn into_account<ID>(
        self,
        user_id: ID,
        oauth_name: &str,
        account_id: &str,
    ) -> OAuthAccount<ID> {
        OAuthAccount {
            user_id,
            oauth_name: oauth_name.to_owned(),
            access_token: self.access_token,
            expires_at: self.expires_at,
            refresh_token: self.refresh_token,
            account_id: account_id.to_owned(),
            account_email: self.account_email,
        }
    }
}

impl fmt::Debug for OAuthAccountPatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthAccountPatch")
            .field("expires_at", &self.expires_at)
            .field("account_email", &self.account_email)
            .finish_non_exhaustive()
    }
}
