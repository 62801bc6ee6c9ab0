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
//!
//! # No stale value after an eviction
//!
//! A load that started before a write and finishes after the write's eviction must not put the
//! value it read (a user since deactivated, an old password hash) back into the cache for a
//! whole `ttl`. Each key has a *generation* taken from one counter: an eviction gives the key a
//! new generation, and a load stores its value only when the key's generation (and the count
//! of full clears) is the one it saw before reading the store. [`CachedUserDatabase::invalidate`]
//! evicts the same way, for invalidations that come from elsewhere (another server's writes
//! announced over a message bus).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::clock::{Clock, SystemClock};
use crate::db::{IdOf, OAuthUserDatabase, UserDatabase};
use crate::error::DbError;
use crate::oauth::{NewOAuthAccount, OAuthAccount, OAuthAccountPatch};
use crate::user::{NewUser, UserPatch};

/// One key of the cache: its generation (0 until first evicted) and its value, if cached.
struct Slot<U> {
    generation: u64,
    value: Option<(U, OffsetDateTime)>,
}

/// The cached users by ID, the generation counter, and how many times the map was emptied.
struct Entries<DB: UserDatabase> {
    slots: HashMap<IdOf<DB>, Slot<DB::User>>,
    counter: u64,
    clears: u64,
}

/// What a load saw before reading the store.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Ticket {
    generation: u64,
    clears: u64,
}

/// A [`UserDatabase`] with a short-lived in-process cache of users by ID (see the module
/// docs for the consistency trade-off). Clones share the cache.
pub struct CachedUserDatabase<DB: UserDatabase> {
    db: DB,
    entries: Arc<Mutex<Entries<DB>>>,
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
            entries: Arc::new(Mutex::new(Entries {
                slots: HashMap::new(),
                counter: 0,
                clears: 0,
            })),
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<DB>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets the user `id`: the next load reads the store, and a load already under way
    /// does not store what it read. Writes through the cache call it; call it for writes made
    /// elsewhere that this process learns about.
    pub fn invalidate(&self, id: &IdOf<DB>) {
        let mut entries = self.lock();
        entries.counter += 1;
        let generation = entries.counter;
        if entries.slots.len() >= self.capacity.max(1) && !entries.slots.contains_key(id) {
            entries.slots.clear();
            entries.clears += 1;
        }
        entries.slots.insert(
            id.clone(),
            Slot {
                generation,
                value: None,
            },
        );
    }

    /// Forgets every user (loads under way store nothing).
    pub fn invalidate_all(&self) {
        let mut entries = self.lock();
        entries.slots.clear();
        entries.clears += 1;
    }
}

#[async_trait]
impl<DB: UserDatabase> UserDatabase for CachedUserDatabase<DB> {
    type User = DB::User;
    type Extra = DB::Extra;

    async fn get(&self, id: &IdOf<DB>) -> Result<Option<DB::User>, DbError> {
        let now = self.clock.now();
        let ticket = {
            let entries = self.lock();
            let slot = entries.slots.get(id);
            if let Some((user, expires)) = slot.and_then(|s| s.value.as_ref())
                && now < *expires
            {
                return Ok(Some(user.clone()));
            }
            Ticket {
                generation: slot.map_or(0, |s| s.generation),
                clears: entries.clears,
            }
        };
        let user = self.db.get(id).await?;
        if let Some(user) = &user
            && self.ttl.is_positive()
            && self.capacity > 0
        {
            let mut entries = self.lock();
            let current = Ticket {
                generation: entries.slots.get(id).map_or(0, |s| s.generation),
                clears: entries.clears,
            };
            // Evicted (or emptied) while the store was read: what was read may be stale.
            if current != ticket {
                return Ok(Some(user.clone()));
            }
            if entries.slots.len() >= self.capacity && !entries.slots.contains_key(id) {
                entries.slots.clear();
                entries.clears += 1;
            }
            entries.slots.insert(
                id.clone(),
                Slot {
                    generation: ticket.generation,
                    value: Some((user.clone(), now + self.ttl)),
                },
            );
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
        self.invalidate(id);
        let result = self.db.update(id, patch).await;
        self.invalidate(id);
        result
    }

    async fn delete(&self, id: &IdOf<DB>) -> Result<(), DbError> {
        self.invalidate(id);
        let result = self.db.delete(id).await;
        self.invalidate(id);
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
