//! The manager's OAuth flows: login or sign-up through a provider, association of a provider
//! account with a signed-in user, and the provider tokens kept for the application
//! (encrypted at rest with a [`ProviderTokenCipher`], or not kept at all).

use super::{OAuthLoginOptions, UserManager, call_hook, user_write_error};
use crate::db::{IdOf, OAuthUserDatabase};
use crate::email::validate_email;
use crate::error::{DbError, UniqueKey};
use crate::manager::{ManagerError, RequestInfo, UserChanges};
use crate::oauth::{
    NewOAuthAccount, OAuthAccount, OAuthAccountPatch, ProviderTokenCipher, TokenField,
};
use crate::password::PasswordHelper;
use crate::user::{AuthUser, NewUser};

impl<DB: OAuthUserDatabase> UserManager<DB> {
    /// The cipher of provider tokens, when one is configured
    /// ([`UserManagerBuilder::provider_token_cipher`](super::UserManagerBuilder::provider_token_cipher)).
    pub fn provider_token_cipher(&self) -> Option<&ProviderTokenCipher> {
        self.inner.provider_tokens.as_deref()
    }

    /// Whether provider access and refresh tokens are kept (encrypted). Without a cipher the
    /// accounts are linked with an empty access token and no refresh token.
    pub fn keeps_provider_tokens(&self) -> bool {
        self.inner.provider_tokens.is_some()
    }

    /// What the store receives for a provider token: its ciphertext, or nothing.
    fn seal_tokens(
        &self,
        oauth_name: &str,
        account_id: &str,
        access_token: &str,
        refresh_token: Option<&str>,
    ) -> (String, Option<String>) {
        match self.provider_token_cipher() {
            Some(cipher) => (
                cipher.encrypt(access_token, oauth_name, account_id, TokenField::Access),
                refresh_token
                    .map(|t| cipher.encrypt(t, oauth_name, account_id, TokenField::Refresh)),
            ),
            None => (String::new(), None),
        }
    }

    fn seal(&self, mut account: NewOAuthAccount) -> NewOAuthAccount {
        let (access, refresh) = self.seal_tokens(
            &account.oauth_name,
            &account.account_id,
            &account.access_token,
            account.refresh_token.as_deref(),
        );
        account.access_token = access;
        account.refresh_token = refresh;
        account
    }

    fn sealed_patch(&self, account: &NewOAuthAccount) -> OAuthAccountPatch {
        let (access_token, refresh_token) = self.seal_tokens(
            &account.oauth_name,
            &account.account_id,
            &account.access_token,
            account.refresh_token.as_deref(),
        );
        OAuthAccountPatch {
            access_token,
            expires_at: account.expires_at,
            refresh_token,
            account_email: account.account_email.clone(),
        }
    }

    /// The user linked to a provider account, or [`ManagerError::UserNotExists`].
    pub async fn get_by_oauth_account(
        &self,
        oauth_name: &str,
        account_id: &str,
    ) -> Result<DB::User, ManagerError> {
        self.inner
            .db
            .get_by_oauth_account(oauth_name, account_id)
            .await?
            .ok_or(ManagerError::UserNotExists)
    }

    /// Logs in or signs up through an OAuth provider.
    ///
    /// - Provider account already linked: its tokens are replaced, that user is returned.
    /// - Otherwise a user with the account's email exists: the account is linked to it only
    ///   when `options.associate_by_email` is set, `email_verified` (the provider vouches for
    ///   the address) **and** the local user is verified; otherwise
    ///   [`ManagerError::UserAlreadyExists`]. Requiring both stops pre-account hijacking: an
    ///   attacker who registers a victim's address locally (unverified) cannot have the
    ///   victim's provider login land in the attacker's account, and an attacker who controls
    ///   a provider account with an unverified copy of the victim's address cannot take over
    ///   the victim's local account.
    /// - Otherwise a user is created with an unusable random password, verified when
    ///   `options.is_verified_by_default` and `email_verified`, the account is linked and
    ///   [`Hooks::on_after_register`](super::Hooks::on_after_register) is called.
    ///
    /// Provider tokens are encrypted before they reach the store, or not kept without a
    /// cipher. Inactive users are returned too; the route refuses them.
    pub async fn oauth_callback(
        &self,
        account: NewOAuthAccount,
        email_verified: bool,
        options: OAuthLoginOptions,
        request: Option<&RequestInfo>,
    ) -> Result<DB::User, ManagerError>
    where
        DB::Extra: Default,
    {
        let db = &self.inner.db;
        if let Some(user) = db
            .get_by_oauth_account(&account.oauth_name, &account.account_id)
            .await?
        {
            self.refresh_tokens(user.id(), &account).await?;
            return Ok(user);
        }
        if let Some(user) = db.get_by_email(account.account_email.trim()).await? {
            if !(options.associate_by_email && email_verified && user.is_verified()) {
                return Err(ManagerError::UserAlreadyExists);
            }
            self.link(user.id(), account).await?;
            return Ok(user);
        }
        let email = validate_email(&account.account_email)?;
        let new = NewUser {
            email,
            hashed_password: self
                .inner
                .passwords
                .hash(&PasswordHelper::generate())
                .await?,
            is_active: true,
            is_superuser: false,
            is_verified: options.is_verified_by_default && email_verified,
            extra: Default::default(),
        };
        // One atomic step: a user left without its link (the link refused because another
        // request linked this provider account in between, the store failing, the request
        // dropped) would hold the address with a password nobody knows.
        let created = db
            .create_with_oauth_account(new, self.seal(account))
            .await
            .map_err(|err| match err {
                DbError::AlreadyExists {
                    what: UniqueKey::OAuthAccount,
                    ..
                } => ManagerError::OAuthAccountAlreadyLinked,
                other => user_write_error(other),
            })?;
        call_hook!(self, on_after_register(&created, request))?;
        Ok(created)
    }

    async fn refresh_tokens(
        &self,
        user_id: &IdOf<DB>,
        account: &NewOAuthAccount,
    ) -> Result<(), ManagerError> {
        self.inner
            .db
            .update_oauth_account(
                user_id,
                &account.oauth_name,
                &account.account_id,
                self.sealed_patch(account),
            )
            .await?;
        Ok(())
    }

    async fn link(&self, user_id: &IdOf<DB>, account: NewOAuthAccount) -> Result<(), ManagerError> {
        match self
            .inner
            .db
            .add_oauth_account(user_id, self.seal(account))
            .await
        {
            Ok(_) => Ok(()),
            Err(DbError::AlreadyExists { .. }) => Err(ManagerError::OAuthAccountAlreadyLinked),
            Err(DbError::NotFound { .. }) => Err(ManagerError::UserNotExists),
            Err(other) => Err(ManagerError::Db(other)),
        }
    }

    /// Links a provider account to a signed-in user and returns the user.
    ///
    /// [`ManagerError::OAuthAccountAlreadyLinked`] when that provider account belongs to
    /// another user (FastAPI Users links it a second time). Associating an account already
    /// linked to this user replaces its tokens. Calls
    /// [`Hooks::on_after_update`](super::Hooks::on_after_update) with `oauth_account` set.
    pub async fn oauth_associate_callback(
        &self,
        user: &DB::User,
        account: NewOAuthAccount,
        request: Option<&RequestInfo>,
    ) -> Result<DB::User, ManagerError> {
        match self
            .inner
            .db
            .get_by_oauth_account(&account.oauth_name, &account.account_id)
            .await?
        {
            Some(owner) if owner.id() == user.id() => {
                self.refresh_tokens(user.id(), &account).await?;
            }
            Some(_) => return Err(ManagerError::OAuthAccountAlreadyLinked),
            None => self.link(user.id(), account).await?,
        }
        let changes = UserChanges {
            oauth_account: true,
            ..UserChanges::default()
        };
        call_hook!(self, on_after_update(user, &changes, request))?;
        Ok(user.clone())
    }

    /// The provider accounts linked to a user, in link order, with their tokens decrypted
    /// (empty access token and no refresh token when the manager keeps none). A legacy
    /// plaintext value (from an adopted FastAPI Users database) is returned as is.
    ///
    /// [`ManagerError::ProviderToken`] when a stored token does not decrypt (unknown key,
    /// tampered value, value moved from another account), or is encrypted while no cipher is
    /// configured.
    pub async fn oauth_accounts(
        &self,
        user_id: &IdOf<DB>,
    ) -> Result<Vec<OAuthAccount<IdOf<DB>>>, ManagerError> {
        let accounts = self.inner.db.oauth_accounts(user_id).await?;
        accounts
            .into_iter()
            .map(|account| self.open(account).map(|(account, _)| account))
            .collect()
    }

    /// Decrypts an account's tokens; the flag says whether they should be re-encrypted.
    fn open(
        &self,
        mut account: OAuthAccount<IdOf<DB>>,
    ) -> Result<(OAuthAccount<IdOf<DB>>, bool), ManagerError> {
        let Some(cipher) = self.provider_token_cipher() else {
            let encrypted = ProviderTokenCipher::is_encrypted(&account.access_token)
                || account
                    .refresh_token
                    .as_deref()
                    .is_some_and(ProviderTokenCipher::is_encrypted);
            if encrypted {
                return Err(ManagerError::ProviderToken(
                    crate::oauth::TokenDecryptError::NoKey,
                ));
            }
            return Ok((account, false));
        };
        let access = cipher
            .decrypt(
                &account.access_token,
                &account.oauth_name,
                &account.account_id,
                TokenField::Access,
            )
            .map_err(ManagerError::ProviderToken)?;
        let mut stale = access.needs_reencryption();
        account.access_token = access.into_token();
        if let Some(stored) = account.refresh_token.take() {
            let refresh = cipher
                .decrypt(
                    &stored,
                    &account.oauth_name,
                    &account.account_id,
                    TokenField::Refresh,
                )
                .map_err(ManagerError::ProviderToken)?;
            stale |= refresh.needs_reencryption();
            account.refresh_token = Some(refresh.into_token());
        }
        Ok((account, stale))
    }

    /// Re-encrypts with the current key every token of a user's accounts that is stored in
    /// the clear (adopted from FastAPI Users) or under a previous key (after a rotation);
    /// returns how many accounts were rewritten. Does nothing without a cipher.
    ///
    /// Run it over every user once after configuring or rotating the key; OAuth logins also
    /// rewrite an account's tokens as they come.
    pub async fn reencrypt_oauth_accounts(
        &self,
        user_id: &IdOf<DB>,
    ) -> Result<usize, ManagerError> {
        if !self.keeps_provider_tokens() {
            return Ok(0);
        }
        let mut rewritten = 0;
        for stored in self.inner.db.oauth_accounts(user_id).await? {
            let (account, stale) = self.open(stored)?;
            if !stale {
                continue;
            }
            let (access_token, refresh_token) = self.seal_tokens(
                &account.oauth_name,
                &account.account_id,
                &account.access_token,
                account.refresh_token.as_deref(),
            );
            let patch = OAuthAccountPatch {
                access_token,
                expires_at: account.expires_at,
                refresh_token,
                account_email: account.account_email.clone(),
            };
            self.inner
                .db
                .update_oauth_account(user_id, &account.oauth_name, &account.account_id, patch)
                .await?;
            rewritten += 1;
        }
        Ok(rewritten)
    }
}
