//! [`RedisStrategy`]: FastAPI Users' `RedisStrategy`, on authward's database strategy.

use std::ops::Deref;

use async_trait::async_trait;
use authward_core::strategy::{
    DatabaseStrategy, Revocation, RevokeReason, Strategy, StrategyError, UserLookup,
};
use authward_core::{AuthUser, Clock, DbError, SessionRevoker, UserId};
use redis::aio::{ConnectionLike, ConnectionManager};
use time::Duration;

use crate::options::RedisTokenOptions;
use crate::store::RedisAccessTokenDatabase;

/// Opaque tokens kept in Redis: FastAPI Users' `RedisStrategy` (key prefix
/// `fastapi_users_token:`, TTL = lifetime, no TTL without one) with what it lacks.
///
/// It is a [`DatabaseStrategy`] over a [`RedisAccessTokenDatabase`] whose TTL is the strategy's
/// lifetime, so the two cannot disagree. Through [`Deref`] it offers everything the database
/// strategy does: [`list_sessions`](DatabaseStrategy::list_sessions),
/// [`revoke_session`](DatabaseStrategy::revoke_session),
/// [`log_out_everywhere`](DatabaseStrategy::log_out_everywhere), ...
///
/// Differences from FastAPI Users: the key holds the SHA-256 digest of the token, never the
/// token; the value carries the user id together with the issue time (and refresh metadata);
/// a per-user index gives log-out-everywhere and session listing. Sessions that FastAPI Users
/// stored under the same prefix are not read (their keys hold plaintext tokens): users log in
/// again, and the old keys expire by their own TTL.
///
/// ```no_run
/// # async fn demo() -> Result<(), authward_core::DbError> {
/// use authward_core::User;
/// use authward_core::strategy::Strategy;
/// use authward_redis::RedisStrategy;
///
/// let strategy =
///     RedisStrategy::<uuid::Uuid>::connect("redis://127.0.0.1:6379/", Some(time::Duration::hours(1)))
///         .await?;
/// let boxed: Box<dyn Strategy<User<uuid::Uuid>>> = Box::new(strategy);
/// # let _ = boxed;
/// # Ok(())
/// # }
/// ```
pub struct RedisStrategy<ID, C = ConnectionManager> {
    inner: DatabaseStrategy<RedisAccessTokenDatabase<ID, C>, ID>,
}

impl<ID, C> std::fmt::Debug for RedisStrategy<ID, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStrategy")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<ID, C> RedisStrategy<ID, C>
where
    ID: UserId,
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// A strategy over `store`; tokens live as long as the store's
    /// [`lifetime`](RedisTokenOptions::lifetime).
    pub fn new(store: RedisAccessTokenDatabase<ID, C>) -> Self {
        let lifetime = store.options().get_lifetime();
        Self {
            inner: DatabaseStrategy::new(store, lifetime),
        }
    }

    /// Reads "now" (the issue time of tokens, and the expiry cut-off) from `clock`; the TTL in
    /// Redis still runs on Redis' clock.
    pub fn with_clock(self, clock: impl Clock) -> Self {
        Self {
            inner: self.inner.with_clock(clock),
        }
    }

    /// The token store.
    pub fn store(&self) -> &RedisAccessTokenDatabase<ID, C> {
        self.inner.store()
    }

    /// The database strategy this one is made of.
    pub fn as_database_strategy(&self) -> &DatabaseStrategy<RedisAccessTokenDatabase<ID, C>, ID> {
        &self.inner
    }
}

impl<ID: UserId> RedisStrategy<ID, ConnectionManager> {
    /// Connects to one Redis server (see [`RedisAccessTokenDatabase::connect`]) with the
    /// default key prefix; tokens live for `lifetime` (`None`: until logout).
    pub async fn connect(url: &str, lifetime: Option<Duration>) -> Result<Self, DbError> {
        let options = RedisTokenOptions::new().lifetime(lifetime);
        Ok(Self::new(
            RedisAccessTokenDatabase::connect(url, options).await?,
        ))
    }
}

impl<ID, C> Deref for RedisStrategy<ID, C> {
    type Target = DatabaseStrategy<RedisAccessTokenDatabase<ID, C>, ID>;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

#[async_trait]
impl<U, C> Strategy<U> for RedisStrategy<U::Id, C>
where
    U: AuthUser,
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn read_token(
        &self,
        token: &str,
        users: &dyn UserLookup<U>,
    ) -> Result<Option<U>, StrategyError> {
        self.inner.read_token(token, users).await
    }

    async fn write_token(&self, user: &U) -> Result<String, StrategyError> {
        self.inner.write_token(user).await
    }

    async fn destroy_token(&self, token: &str, user: &U) -> Result<(), StrategyError> {
        self.inner.destroy_token(token, user).await
    }

    async fn revoke_all(&self, user_id: &U::Id, reason: RevokeReason) -> Result<(), StrategyError> {
        SessionRevoker::revoke_all(&self.inner, user_id, reason).await
    }

    fn revocation(&self) -> Revocation {
        Revocation::FULL
    }
}

#[async_trait]
impl<ID, C> SessionRevoker<ID> for RedisStrategy<ID, C>
where
    ID: UserId,
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn revoke_all(&self, user_id: &ID, reason: RevokeReason) -> Result<(), StrategyError> {
        SessionRevoker::revoke_all(&self.inner, user_id, reason).await
    }
}
