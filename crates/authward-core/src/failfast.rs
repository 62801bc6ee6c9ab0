//! Failing fast while a store is down: a time bound on every call and a circuit breaker, over
//! any store.
//!
//! A pool whose server is gone makes every call wait for a fresh connection attempt (sqlx's
//! acquire timeout is 30 s by default), so a server in an outage piles up requests. [`FailFast`]
//! wraps any [`UserDatabase`], [`OAuthUserDatabase`] or [`AccessTokenDatabase`]:
//!
//! - every call is bounded by `timeout` (default 2 s): past it, [`DbError::Unavailable`];
//! - a call that ends in [`DbError::Unavailable`] (or the timeout) *opens* the breaker: for
//!   `cooldown` (default 1 s) every call fails at once with [`DbError::Unavailable`], without
//!   touching the store;
//! - after the cooldown one call goes through as a probe (the others keep failing fast): its
//!   success closes the breaker, its failure opens it again.
//!
//! Clones share the breaker. Only outages trip it: `AlreadyExists`, `NotFound` and backend
//! errors pass through untouched. The HTTP layer answers [`DbError::Unavailable`] with `503`
//! and `Retry-After`.
//!
//! A call cut by the timeout may still complete on the server (a slow insert that commits): its
//! caller was answered `503` and never saw the result, so nothing it was not told about was
//! handed out; what the store holds is whole or absent, as each adapter's atomic writes make it.
//!
//! ```
//! # #[cfg(feature = "memory")] {
//! use authward_core::failfast::FailFast;
//! use authward_core::memory::MemoryUserDatabase;
//! use std::time::Duration;
//!
//! let users = FailFast::new(MemoryUserDatabase::<uuid::Uuid>::new())
//!     .with_timeout(Duration::from_millis(1500))
//!     .with_cooldown(Duration::from_millis(500));
//! # let _ = users; }
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::db::{AccessTokenDatabase, IdOf, OAuthUserDatabase, UserDatabase};
use crate::error::DbError;
use crate::health::Ping;
use crate::id::UserId;
use crate::oauth::{NewOAuthAccount, OAuthAccount, OAuthAccountPatch};
use crate::token::{AccessToken, NewAccessToken, TokenDigest};
use crate::user::{NewUser, UserPatch};

/// The default bound on one call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// The default time the breaker stays open after an outage was seen.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(1);

/// Why a call failed fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FailedFast {
    /// The store did not answer within the bound.
    #[error("the store did not answer within {0:?}")]
    Timeout(Duration),
    /// The store was unreachable moments ago; the call was not attempted.
    #[error("the store is unreachable (circuit open); not attempted")]
    CircuitOpen,
}

/// The shared state of a breaker.
struct Breaker {
    /// Monotonic reference for `open_until`.
    epoch: Instant,
    /// Milliseconds since `epoch` until which calls fail fast; 0 when closed.
    open_until: AtomicU64,
    /// An outage was seen and no call has succeeded since.
    tripped: AtomicBool,
}

impl Breaker {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// `Ok` when the call may go to the store (closed, or the one probe after the cooldown).
    fn admit(&self, cooldown: Duration) -> Result<(), FailedFast> {
        if !self.tripped.load(Ordering::Acquire) {
            return Ok(());
        }
        let now = self.now_ms();
        let until = self.open_until.load(Ordering::Acquire);
        if now < until {
            return Err(FailedFast::CircuitOpen);
        }
        // The cooldown is over: the first caller to move the deadline is the probe.
        let next = now.saturating_add(duration_ms(cooldown));
        match self
            .open_until
            .compare_exchange(until, next, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Ok(()),
            Err(_) => Err(FailedFast::CircuitOpen),
        }
    }

    fn trip(&self, cooldown: Duration) {
        let until = self.now_ms().saturating_add(duration_ms(cooldown));
        self.open_until.store(until, Ordering::Release);
        self.tripped.store(true, Ordering::Release);
    }

    fn close(&self) {
        if self.tripped.swap(false, Ordering::AcqRel) {
            self.open_until.store(0, Ordering::Release);
        }
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A store whose calls are bounded in time and fail fast while it is down (see the module
/// docs).
pub struct FailFast<S> {
    inner: S,
    breaker: Arc<Breaker>,
    timeout: Duration,
    cooldown: Duration,
}

impl<S: Clone> Clone for FailFast<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            breaker: Arc::clone(&self.breaker),
            timeout: self.timeout,
            cooldown: self.cooldown,
        }
    }
}

impl<S> fmt::Debug for FailFast<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FailFast")
            .field("timeout", &self.timeout)
            .field("cooldown", &self.cooldown)
            .field("open", &self.is_open())
            .finish_non_exhaustive()
    }
}

impl<S> FailFast<S> {
    /// Wraps `inner` with [`DEFAULT_TIMEOUT`] and [`DEFAULT_COOLDOWN`].
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            breaker: Arc::new(Breaker {
                epoch: Instant::now(),
                open_until: AtomicU64::new(0),
                tripped: AtomicBool::new(false),
            }),
            timeout: DEFAULT_TIMEOUT,
            cooldown: DEFAULT_COOLDOWN,
        }
    }

    /// The bound on one call.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long calls fail fast after an outage was seen.
    pub fn with_cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// True while calls fail fast (an outage was seen and the cooldown is not over).
    pub fn is_open(&self) -> bool {
        self.breaker.tripped.load(Ordering::Acquire)
            && self.breaker.now_ms() < self.breaker.open_until.load(Ordering::Acquire)
    }

    async fn guard<T, F>(&self, call: F) -> Result<T, DbError>
    where
        F: Future<Output = Result<T, DbError>> + Send,
    {
        self.breaker
            .admit(self.cooldown)
            .map_err(DbError::unavailable)?;
        match tokio::time::timeout(self.timeout, call).await {
            Err(_) => {
                self.breaker.trip(self.cooldown);
                Err(DbError::unavailable(FailedFast::Timeout(self.timeout)))
            }
            Ok(Err(err)) if err.is_unavailable() => {
                self.breaker.trip(self.cooldown);
                Err(err)
            }
            Ok(result) => {
                self.breaker.close();
                result
            }
        }
    }
}

#[async_trait]
impl<S: UserDatabase> UserDatabase for FailFast<S> {
    type User = S::User;
    type Extra = S::Extra;

    async fn get(&self, id: &IdOf<S>) -> Result<Option<S::User>, DbError> {
        self.guard(self.inner.get(id)).await
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<S::User>, DbError> {
        self.guard(self.inner.get_by_email(email)).await
    }

    async fn create(&self, user: NewUser<S::Extra>) -> Result<S::User, DbError> {
        self.guard(self.inner.create(user)).await
    }

    async fn update(&self, id: &IdOf<S>, patch: UserPatch<S::Extra>) -> Result<S::User, DbError> {
        self.guard(self.inner.update(id, patch)).await
    }

    async fn delete(&self, id: &IdOf<S>) -> Result<(), DbError> {
        self.guard(self.inner.delete(id)).await
    }

    async fn replace_password_hash(
        &self,
        id: &IdOf<S>,
        current_hash: &str,
        new_hash: String,
    ) -> Result<Option<S::User>, DbError> {
        self.guard(self.inner.replace_password_hash(id, current_hash, new_hash))
            .await
    }
}

#[async_trait]
impl<S: OAuthUserDatabase> OAuthUserDatabase for FailFast<S> {
    async fn get_by_oauth_account(
        &self,
        oauth_name: &str,
        account_id: &str,
    ) -> Result<Option<S::User>, DbError> {
        self.guard(self.inner.get_by_oauth_account(oauth_name, account_id))
            .await
    }

    async fn create_with_oauth_account(
        &self,
        user: NewUser<S::Extra>,
        account: NewOAuthAccount,
    ) -> Result<S::User, DbError> {
        self.guard(self.inner.create_with_oauth_account(user, account))
            .await
    }

    async fn add_oauth_account(
        &self,
        user_id: &IdOf<S>,
        account: NewOAuthAccount,
    ) -> Result<OAuthAccount<IdOf<S>>, DbError> {
        self.guard(self.inner.add_oauth_account(user_id, account))
            .await
    }

    async fn update_oauth_account(
        &self,
        user_id: &IdOf<S>,
        oauth_name: &str,
        account_id: &str,
        patch: OAuthAccountPatch,
    ) -> Result<OAuthAccount<IdOf<S>>, DbError> {
        self.guard(
            self.inner
                .update_oauth_account(user_id, oauth_name, account_id, patch),
        )
        .await
    }

    async fn oauth_accounts(
        &self,
        user_id: &IdOf<S>,
    ) -> Result<Vec<OAuthAccount<IdOf<S>>>, DbError> {
        self.guard(self.inner.oauth_accounts(user_id)).await
    }
}

#[async_trait]
impl<ID: UserId, S: AccessTokenDatabase<ID>> AccessTokenDatabase<ID> for FailFast<S> {
    async fn get_by_token(
        &self,
        digest: &TokenDigest,
        max_age: Option<OffsetDateTime>,
    ) -> Result<Option<AccessToken<ID>>, DbError> {
        self.guard(self.inner.get_by_token(digest, max_age)).await
    }

    async fn create(&self, token: NewAccessToken<ID>) -> Result<AccessToken<ID>, DbError> {
        self.guard(self.inner.create(token)).await
    }

    async fn any_for_user(&self, user_id: &ID, digests: &[TokenDigest]) -> Result<bool, DbError> {
        self.guard(self.inner.any_for_user(user_id, digests)).await
    }

    async fn delete(&self, digest: &TokenDigest) -> Result<bool, DbError> {
        self.guard(self.inner.delete(digest)).await
    }

    async fn delete_all_for_user(&self, user_id: &ID) -> Result<u64, DbError> {
        self.guard(self.inner.delete_all_for_user(user_id)).await
    }

    async fn list_for_user(&self, user_id: &ID) -> Result<Vec<AccessToken<ID>>, DbError> {
        self.guard(self.inner.list_for_user(user_id)).await
    }

    async fn delete_expired(&self, created_before: OffsetDateTime) -> Result<u64, DbError> {
        self.guard(self.inner.delete_expired(created_before)).await
    }
}

#[async_trait]
impl<S: Ping> Ping for FailFast<S> {
    /// Pings through the breaker: while it is open the store is reported down without a call.
    async fn ping(&self) -> Result<(), DbError> {
        self.guard(self.inner.ping()).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// A store that counts pings and answers as told.
    #[derive(Default)]
    struct Flaky {
        calls: AtomicUsize,
        down: AtomicBool,
        hang: AtomicBool,
    }

    #[async_trait]
    impl Ping for Flaky {
        async fn ping(&self) -> Result<(), DbError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.hang.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            if self.down.load(Ordering::SeqCst) {
                Err(DbError::unavailable("connection refused"))
            } else {
                Ok(())
            }
        }
    }

    fn calls(store: &FailFast<Arc<Flaky>>) -> usize {
        store.inner().calls.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn an_outage_opens_the_breaker_and_a_probe_closes_it() {
        let flaky = Arc::new(Flaky::default());
        let store = FailFast::new(Arc::clone(&flaky)).with_cooldown(Duration::from_millis(50));
        store.ping().await.unwrap();
        flaky.down.store(true, Ordering::SeqCst);
        assert!(store.ping().await.unwrap_err().is_unavailable());
        assert!(store.is_open());
        let before = calls(&store);
        for _ in 0..10 {
            let err = store.ping().await.unwrap_err();
            assert!(err.is_unavailable());
        }
        assert_eq!(
            calls(&store),
            before,
            "no call reaches the store while open"
        );
        // Still down after the cooldown: the probe fails and the breaker opens again.
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(store.ping().await.is_err());
        assert_eq!(calls(&store), before + 1, "one probe");
        assert!(store.ping().await.is_err());
        assert_eq!(calls(&store), before + 1, "open again");
        // Back up: the next probe closes it.
        flaky.down.store(false, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(60)).await;
        store.ping().await.unwrap();
        assert!(!store.is_open());
        store.ping().await.unwrap();
        assert_eq!(calls(&store), before + 3);
    }

    #[tokio::test]
    async fn a_call_past_the_bound_is_unavailable_and_opens_the_breaker() {
        let flaky = Arc::new(Flaky::default());
        flaky.hang.store(true, Ordering::SeqCst);
        let store = FailFast::new(Arc::clone(&flaky))
            .with_timeout(Duration::from_millis(30))
            .with_cooldown(Duration::from_secs(60));
        let err = store.ping().await.unwrap_err();
        assert!(err.is_unavailable());
        assert!(format!("{:?}", std::error::Error::source(&err)).contains("Timeout"));
        assert!(store.is_open());
        let clone = store.clone();
        assert!(clone.is_open(), "clones share the breaker");
        assert!(clone.ping().await.is_err());
        assert_eq!(calls(&store), 1);
    }

    #[tokio::test]
    async fn other_errors_pass_through_without_opening_it() {
        #[derive(Default)]
        struct Broken;
        #[async_trait]
        impl Ping for Broken {
            async fn ping(&self) -> Result<(), DbError> {
                Err(DbError::backend("syntax error"))
            }
        }
        let store = FailFast::new(Broken);
        for _ in 0..3 {
            let err = store.ping().await.unwrap_err();
            assert!(!err.is_unavailable());
        }
        assert!(!store.is_open());
    }
}
