//! Opaque random tokens kept (as digests) in any [`AccessTokenDatabase`].

use std::fmt;

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::clock::Clock;
use crate::db::AccessTokenDatabase;
use crate::id::UserId;
use crate::strategy::random_token::is_well_formed_token;
use crate::strategy::token_store::{TokenStore, oldest_valid};
use crate::strategy::{
    Revocation, RevokeReason, SessionRevoker, Strategy, StrategyError, UserLookup,
};
use crate::token::TokenDigest;
use crate::user::AuthUser;

/// One active session (access token) of a user, as listed by
/// [`DatabaseStrategy::list_sessions`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Identifies the session (the token's digest; it cannot be presented as a token). Its
    /// [`TokenDigest::to_hex`] form is what an API shows and takes back for
    /// [`DatabaseStrategy::revoke_session`].
    pub id: TokenDigest,
    /// When the token was issued.
    pub created_at: OffsetDateTime,
    /// When it stops working (`None`: never).
    pub expires_at: Option<OffsetDateTime>,
}

/// FastAPI Users' database strategy, with tokens hashed at rest.
///
/// Tokens are 32 bytes from the OS CSPRNG in base64url (43 characters); the store only ever
/// sees their SHA-256 [`TokenDigest`]. A token works until `lifetime` after it was issued
/// (inclusive: at exactly `created_at + lifetime` it still works), until logout deletes it, or
/// until log-out-everywhere deletes all of the user's tokens.
///
/// ```
/// # #[cfg(feature = "memory")] {
/// use authward_core::memory::MemoryAccessTokenDatabase;
/// use authward_core::strategy::DatabaseStrategy;
/// use time::Duration;
///
/// let strategy = DatabaseStrategy::<_, uuid::Uuid>::new(
///     MemoryAccessTokenDatabase::<uuid::Uuid>::new(),
///     Some(Duration::hours(1)),
/// );
/// # let _ = strategy; }
/// ```
pub struct DatabaseStrategy<S, ID> {
    tokens: TokenStore<S, ID, Option<Duration>>,
}

impl<S: Clone, ID> Clone for DatabaseStrategy<S, ID> {
    /// A handle on the same store (for stores whose clones share data, like the memory and
    /// SQL pool-backed ones), e.g. to register as a [`SessionRevoker`] as well.
    fn clone(&self) -> Self {
        Self {
            tokens: self.tokens.clone(),
        }
    }
}

impl<S, ID> fmt::Debug for DatabaseStrategy<S, ID> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.tokens.fmt_as("DatabaseStrategy", f)
    }
}

impl<S: AccessTokenDatabase<ID>, ID: UserId> DatabaseStrategy<S, ID> {
    /// Tokens kept in `store`, valid for `lifetime` (`None`: until logout).
    pub fn new(store: S, lifetime: Option<Duration>) -> Self {
        Self {
            tokens: TokenStore::new(store, lifetime),
        }
    }

    /// Reads "now" from `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.tokens.set_clock(clock);
        self
    }

    /// The token store.
    pub fn store(&self) -> &S {
        &self.tokens.store
    }

    fn max_age(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.tokens
            .lifetime
            .map(|lifetime| oldest_valid(now, lifetime))
    }

    /// Issues and stores a new token for `user_id`.
    pub async fn issue(&self, user_id: &ID) -> Result<String, StrategyError> {
        self.tokens.create(user_id, None, self.tokens.now()).await
    }

    /// The ID of the user owning a valid `token`, without loading the user.
    pub async fn user_id_of(&self, token: &str) -> Result<Option<ID>, StrategyError> {
        if !is_well_formed_token(token) {
            return Ok(None);
        }
        let max_age = self.max_age(self.tokens.now());
        let record = self
            .tokens
            .store
            .get_by_token(&TokenDigest::of(token), max_age)
            .await?;
        // Refresh-token records (family set) are never access tokens.
        Ok(record
            .filter(|r| r.family.is_none() && !r.used)
            .map(|r| r.user_id))
    }

    /// The user's active sessions, oldest first.
    pub async fn list_sessions(&self, user_id: &ID) -> Result<Vec<Session>, StrategyError> {
        let now = self.tokens.now();
        let max_age = self.max_age(now);
        Ok(self
            .tokens
            .store
            .list_for_user(user_id)
            .await?
            .into_iter()
            .filter(|r| r.family.is_none() && !r.used)
            .filter(|r| max_age.is_none_or(|cutoff| r.created_at >= cutoff))
            .map(|r| Session {
                id: r.digest,
                created_at: r.created_at,
                expires_at: self
                    .tokens
                    .lifetime
                    .and_then(|l| r.created_at.checked_add(l)),
            })
            .collect())
    }

    /// Ends one session of `user_id` (by [`Session::id`]); `false` if it was not theirs or did
    /// not exist.
    pub async fn revoke_session(
        &self,
        user_id: &ID,
        session: &TokenDigest,
    ) -> Result<bool, StrategyError> {
        match self.tokens.store.get_by_token(session, None).await? {
            Some(record) if &record.user_id == user_id && record.family.is_none() => {
                Ok(self.tokens.store.delete(session).await?)
            }
            _ => Ok(false),
        }
    }

    /// Deletes every token of `user_id` (log out everywhere); returns how many.
    pub async fn log_out_everywhere(&self, user_id: &ID) -> Result<u64, StrategyError> {
        Ok(self.tokens.store.delete_all_for_user(user_id).await?)
    }

    /// Deletes the expired tokens (nothing when tokens never expire); returns how many.
    pub async fn purge_expired(&self) -> Result<u64, StrategyError> {
        match self.max_age(self.tokens.now()) {
            Some(cutoff) => Ok(self.tokens.store.delete_expired(cutoff).await?),
            None => Ok(0),
        }
    }
}

#[async_trait]
impl<S, U> Strategy<U> for DatabaseStrategy<S, U::Id>
where
    U: AuthUser,
    S: AccessTokenDatabase<U::Id>,
{
    async fn read_token(
        &self,
        token: &str,
        users: &dyn UserLookup<U>,
    ) -> Result<Option<U>, StrategyError> {
        match self.user_id_of(token).await? {
            Some(user_id) => Ok(users.user_by_id(&user_id).await?),
            None => Ok(None),
        }
    }

    async fn write_token(&self, user: &U) -> Result<String, StrategyError> {
        self.issue(user.id()).await
    }

    /// Deletes the token if it belongs to `user` (a token of someone else is left alone).
    async fn destroy_token(&self, token: &str, user: &U) -> Result<(), StrategyError> {
        if !is_well_formed_token(token) {
            return Ok(());
        }
        self.revoke_session(user.id(), &TokenDigest::of(token))
            .await?;
        Ok(())
    }

    /// Deletes every token of the user, whatever the reason.
    async fn revoke_all(
        &self,
        user_id: &U::Id,
        _reason: RevokeReason,
    ) -> Result<(), StrategyError> {
        self.log_out_everywhere(user_id).await.map(|_| ())
    }

    fn revocation(&self) -> Revocation {
        Revocation::FULL
    }
}

#[async_trait]
impl<S: AccessTokenDatabase<ID>, ID: UserId> SessionRevoker<ID> for DatabaseStrategy<S, ID> {
    async fn revoke_all(&self, user_id: &ID, _reason: RevokeReason) -> Result<(), StrategyError> {
        self.log_out_everywhere(user_id).await.map(|_| ())
    }
}
