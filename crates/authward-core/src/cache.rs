//! A read-through cache in front of any [`UserDatabase`], for the per-request user load.
//!
//! Every authenticated request loads its user by ID (to check that it still exists, is
//! active, and that a JWT's password fingerprint still matches). On SQLite that load costs more
//! than everything else in the request. [`CachedUserDatabase`] keeps users by ID for a short
//! `ttl`:
//!
//! - writes made **through the cache** (update, delete — which is what the user manager does)
//!   evict the entry at once, so within one process a deactivation, a password change or a
//!   deletion takes effect on the next request;
//! - writes made by **another process** (a second server, a SQL console) are seen after at most
//!   `ttl`. That is the trade-off: with several servers, a revocation by password change can
//!   lag by up to `ttl` on the others. Keep `ttl` short (the default is one second) or do not
//!   use the cache when that matters more than throughput.
//!
//! Lookups by email (login, registration) always go to the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::clock::{Clock, SystemClock};
use crate::db::{IdOf, OAuthUserDatabase, UserDatabase};
use crate::error::DbError;
use crate::oauth::{NewOAuthAccount, OAuthAccount, OAuthAccountPatch};
use crate::user::{NewUser, UserPatch};

/// Cached users by ID, each with the instant its entry stops being served.
type Map<DB> = HashMap<IdOf<DB>, (<DB as UserDatabase>::User, OffsetDateTime)>;
type Entries<DB> = Arc<Mutex<Map<DB>>>;

/// A [`UserDatabase`] with a short-lived in-process cache of users by ID (see the module
/// docs for the consistency trade-off). Clones share the cache.
pub struct CachedUserDatabase<DB: UserDatabase> {
    db: DB,
    entries: Entries<DB>,
    ttl: Duration,
    capacity: usize,
    clock: Arc<dyn Clock>,
}

impl<DB: UserDatabase + Clone> Clone for CachedUserDatabase<DB> {
    fn clone(&self) -> Self {
        Self {
            db: self.db.clone(),
            entries: Arc::clone(&self.entries),
            ttl: self.ttl,
            capacity: self.capacity,
            clock: Arc::clone(&self.clock),
        }
    }
}

impl<DB: UserDatabase> std::fmt::Debug for CachedUserDatabase<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedUserDatabase")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<DB: UserDatabase> CachedUserDatabase<DB> {
    /// Caches `db`'s users for one second, at most 10 000 of them.
    pub fn new(db: DB) -> Self {
        Self {
            db,
            entries: Arc::new(Mutex::new(HashMap::new())),
            ttl: Duration::seconds(1),
            capacity: 10_000,
            clock: Arc::new(SystemClock),
        }
    }

    /// How long an entry is served (zero or negative disables the cache).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The most users held; when full, the cache is emptied and starts again.
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// The clock deciding expiry.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The wrapped store.
    pub fn inner(&self) -> &DB {
        &self.db
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map<DB>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn evict(&self, id: &IdOf<DB>) {
        self.lock().remove(id);
    }
}

#[async_trait]
impl<DB: UserDatabase> UserDatabase for CachedUserDatabase<DB> {
    type User = DB::User;
    type Extra = DB::Extra;

    async fn get(&self, id: &IdOf<DB>) -> Result<Option<DB::User>, DbError> {
        let now = self.clock.now();
        if let Some((user, expires)) = self.lock().get(id)
            && now < *expires
        {
            return Ok(Some(user.clone()));
        }
        let user = self.db.get(id).await?;
        if let Some(user) = &user
            && self.ttl.is_positive()
            && self.capacity > 0
        {
            let mut entries = self.lock();
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(id.clone(), (user.clone(), now + self.ttl));
        }
        Ok(user)
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<DB::User>, DbError> {
        self.db.get_by_email(email).await
    }

    async fn create(&self, user: NewUser<DB::Extra>) -> Result<DB::User, DbError> {
        self.db.create(user).await
    }

    async fn update(
        &self,
        id: &IdOf<DB>,
        patch: UserPatch<DB::Extra>,
    ) -> Result<DB::User, DbError> {
        self.evict(id);
        let result = self.db.update(id, patch).await;
        self.evict(id);
        result
    }

    async fn delete(&self, id: &IdOf<DB>) -> Result<(), DbError> {
        self.evict(id);
        let result = self.db.delete(id).await;
        self.evict(id);
        result
    }
}

#[async_trait]
impl<DB: OAuthUserDatabase> OAuthUserDatabase for CachedUserDatabase<DB> {
    async fn get_by_oauth_account(
        &self,
        oauth_name: &str,
        account_id: &str,
    ) -> Result<Option<DB::User>, DbError> {
        self.db.get_by_oauth_account(oauth_name, account_id).await
    }

    async fn add_oauth_account(
        &self,
        user_id: &IdOf<DB>,
        account: NewOAuthAccount,
    ) -> Result<OAuthAccount<IdOf<DB>>, DbError> {
        self.db.add_oauth_account(user_id, account).await
    }

    async fn update_oauth_account(
        &self,
        user_id: &IdOf<DB>,
        oauth_name: &str,
        account_id: &str,
        patch: OAuthAccountPatch,
    ) -> Result<OAuthAccount<IdOf<DB>>, DbError> {
        self.db
            .update_oauth_account(user_id, oauth_name, account_id, patch)
            .await
    }

    async fn oauth_accounts(
        &self,
        user_id: &IdOf<DB>,
    ) -> Result<Vec<OAuthAccount<IdOf<DB>>>, DbError> {
        self.db.oauth_accounts(user_id).await
    }
}
