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
//!
//! # Several processes
//!
//! With an [`InvalidationPublisher`] ([`CachedUserDatabase::with_publisher`]) every write
//! through the cache is also announced, after the store answered, to the other processes; each
//! of them feeds what it hears into its own cache through a [`CacheHandle`]
//! ([`CachedUserDatabase::handle`]). `authward-redis` ships both ends over Redis pub/sub. The
//! handle can also [`suspend`](CacheHandle::suspend) the cache while the process cannot hear
//! announcements (its subscription is down), so that it serves nothing it might have missed an
//! eviction for. What remains is an announcement lost on its way out (the publisher could not
//! reach the bus): the write stands, the failure is logged, and the other processes see the
//! change when their entry expires, after at most `ttl`. `ttl` therefore stays the bound
//! when things fail, and the propagation delay is the bound when they do not.

mod handle;
mod pending;
mod publish;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::clock::{Clock, SystemClock};
use crate::db::{IdOf, OAuthUserDatabase, UserDatabase};
use crate::error::DbError;
use crate::oauth::{NewOAuthAccount, OAuthAccount, OAuthAccountPatch};
use crate::user::{NewUser, UserPatch};

pub use handle::CacheHandle;
pub use publish::InvalidationPublisher;

/// One key of the cache: its generation (0 until first evicted) and its value, if cached.
struct Slot<U> {
    generation: u64,
    value: Option<(U, OffsetDateTime)>,
}

/// The cached users by ID, the generation counter, how many times the map was emptied, and
/// whether caching is suspended.
struct Entries<DB: UserDatabase> {
    slots: HashMap<IdOf<DB>, Slot<DB::User>>,
    counter: u64,
    clears: u64,
    suspended: bool,
}

impl<DB: UserDatabase> Entries<DB> {
    fn new() -> Self {
        Self {
            slots: HashMap::new(),
            counter: 0,
            clears: 0,
            suspended: false,
        }
    }

    /// Empties the map; loads under way store nothing.
    fn clear(&mut self) {
        self.slots.clear();
        self.clears += 1;
    }

    /// Gives `id` a new generation without a value (emptying the map first when it is full).
    fn evict(&mut self, id: &IdOf<DB>, capacity: usize) {
        self.counter += 1;
        let generation = self.counter;
        if self.slots.len() >= capacity.max(1) && !self.slots.contains_key(id) {
            self.clear();
        }
        self.slots.insert(
            id.clone(),
            Slot {
                generation,
                value: None,
            },
        );
    }
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
    db: Arc<DB>,
    entries: Arc<Mutex<Entries<DB>>>,
    ttl: Duration,
    capacity: usize,
    clock: Arc<dyn Clock>,
    publisher: Option<Arc<dyn InvalidationPublisher<IdOf<DB>>>>,
}

impl<DB: UserDatabase> Clone for CachedUserDatabase<DB> {
    fn clone(&self) -> Self {
        Self {
            db: Arc::clone(&self.db),
            entries: Arc::clone(&self.entries),
            ttl: self.ttl,
            capacity: self.capacity,
            clock: Arc::clone(&self.clock),
            publisher: self.publisher.clone(),
        }
    }
}

impl<DB: UserDatabase> std::fmt::Debug for CachedUserDatabase<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedUserDatabase")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .field("publishes", &self.publisher.is_some())
            .finish_non_exhaustive()
    }
}

impl<DB: UserDatabase> CachedUserDatabase<DB> {
    /// Caches `db`'s users for one second, at most 10 000 of them.
    pub fn new(db: DB) -> Self {
        Self {
            db: Arc::new(db),
            entries: Arc::new(Mutex::new(Entries::new())),
            ttl: Duration::seconds(1),
            capacity: 10_000,
            clock: Arc::new(SystemClock),
            publisher: None,
        }
    }

    /// How long an entry is served (zero or negative disables the cache; past the calendar's
    /// end, until a write through the cache or an invalidation evicts it).
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

    /// Announces every write made through the cache (user updates and deletions, OAuth
    /// account changes) to the other processes, once the store has answered (also when the
    /// write's caller was dropped meanwhile: the write and its announcement run on a task of
    /// their own, bounded by the store's own timeouts; wrap the store in
    /// [`FailFast`](crate::FailFast) *inside* the cache, as the quickstart does, to bound them).
    /// An announcement still pending when the runtime shuts down is lost. See the module docs
    /// for what happens when an announcement fails.
    pub fn with_publisher(mut self, publisher: impl InvalidationPublisher<IdOf<DB>>) -> Self {
        self.publisher = Some(Arc::new(publisher));
        self
    }

    /// The wrapped store.
    pub fn inner(&self) -> &DB {
        &self.db
    }

    /// A handle that evicts from, empties, suspends and resumes this cache (and its clones)
    /// without being a store itself: what a subscriber to other processes' announcements
    /// holds. Make it after [`CachedUserDatabase::with_capacity`].
    pub fn handle(&self) -> CacheHandle<IdOf<DB>>
    where
        DB: 'static,
    {
        CacheHandle::new(Arc::clone(&self.entries) as _, self.capacity)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<DB>> {
        lock(&self.entries)
    }

    /// Forgets the user `id`: the next load reads the store, and a load already under way
    /// does not store what it read. Writes through the cache call it; call it for writes made
    /// elsewhere that this process learns about.
    pub fn invalidate(&self, id: &IdOf<DB>) {
        self.lock().evict(id, self.capacity);
    }

    /// Forgets every user (loads under way store nothing).
    pub fn invalidate_all(&self) {
        self.lock().clear();
    }
}

/// Locks the entries, recovering them from a poisoned lock (every update leaves them
/// consistent).
fn lock<T>(entries: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    entries.lock().unwrap_or_else(|p| p.into_inner())
}

#[async_trait]
impl<DB: UserDatabase + 'static> UserDatabase for CachedUserDatabase<DB> {
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
        // (A suspended cache holds no values, so the lookup above found nothing; the check
        // below keeps it from storing what is read now.)
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
            // Evicted (or emptied, or suspended) while the store was read: what was read may be
            // stale.
            if current != ticket || entries.suspended {
                return Ok(Some(user.clone()));
            }
            if entries.slots.len() >= self.capacity && !entries.slots.contains_key(id) {
                entries.clear();
            }
            entries.slots.insert(
                id.clone(),
                Slot {
                    generation: ticket.generation,
                    // Past the calendar's end, an entry stays until invalidated or evicted.
                    value: Some((
                        user.clone(),
                        now.checked_add(self.ttl)
                            .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc()),
                    )),
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
        let id = id.clone();
        self.write_then_announce(
            &id.clone(),
            move |db| async move { db.update(&id, patch).await },
        )
        .await
    }

    async fn delete(&self, id: &IdOf<DB>) -> Result<(), DbError> {
        let id = id.clone();
        self.write_then_announce(&id.clone(), move |db| async move { db.delete(&id).await })
            .await
    }

    async fn replace_password_hash(
        &self,
        id: &IdOf<DB>,
        current_hash: &str,
        new_hash: String,
    ) -> Result<Option<DB::User>, DbError> {
        let (id, current_hash) = (id.clone(), current_hash.to_owned());
        self.write_then_announce(&id.clone(), move |db| async move {
            db.replace_password_hash(&id, &current_hash, new_hash).await
        })
        .await
    }
}

#[async_trait]
impl<DB: OAuthUserDatabase + 'static> OAuthUserDatabase for CachedUserDatabase<DB> {
    async fn get_by_oauth_account(
        &self,
        oauth_name: &str,
        account_id: &str,
    ) -> Result<Option<DB::User>, DbError> {
        self.db.get_by_oauth_account(oauth_name, account_id).await
    }

    async fn create_with_oauth_account(
        &self,
        user: NewUser<DB::Extra>,
        account: NewOAuthAccount,
    ) -> Result<DB::User, DbError> {
        // As `create`: a new user has nothing cached.
        self.db.create_with_oauth_account(user, account).await
    }

    async fn add_oauth_account(
        &self,
        user_id: &IdOf<DB>,
        account: NewOAuthAccount,
    ) -> Result<OAuthAccount<IdOf<DB>>, DbError> {
        // A user type may carry its OAuth accounts.
        let id = user_id.clone();
        self.write_then_announce(user_id, move |db| async move {
            db.add_oauth_account(&id, account).await
        })
        .await
    }

    async fn update_oauth_account(
        &self,
        user_id: &IdOf<DB>,
        oauth_name: &str,
        account_id: &str,
        patch: OAuthAccountPatch,
    ) -> Result<OAuthAccount<IdOf<DB>>, DbError> {
        let id = user_id.clone();
        let (oauth_name, account_id) = (oauth_name.to_owned(), account_id.to_owned());
        self.write_then_announce(user_id, move |db| async move {
            db.update_oauth_account(&id, &oauth_name, &account_id, patch)
                .await
        })
        .await
    }

    async fn oauth_accounts(
        &self,
        user_id: &IdOf<DB>,
    ) -> Result<Vec<OAuthAccount<IdOf<DB>>>, DbError> {
        self.db.oauth_accounts(user_id).await
    }
}
