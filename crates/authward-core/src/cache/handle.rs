//! The receiving end of cross-process cache invalidation: a handle on a cache's entries.

use std::fmt;
use std::sync::{Arc, Mutex};

use super::{Entries, lock};
use crate::db::{IdOf, UserDatabase};

/// What a [`CacheHandle`] does to the entries, whatever the store's user type.
pub(super) trait Control<ID>: Send + Sync {
    fn evict(&self, id: &ID, capacity: usize);
    fn clear(&self);
    fn set_suspended(&self, suspended: bool);
    fn is_suspended(&self) -> bool;
}

impl<DB: UserDatabase> Control<IdOf<DB>> for Mutex<Entries<DB>> {
    fn evict(&self, id: &IdOf<DB>, capacity: usize) {
        lock(self).evict(id, capacity);
    }

    fn clear(&self) {
        lock(self).clear();
    }

    fn set_suspended(&self, suspended: bool) {
        let mut entries = lock(self);
        // Either way nothing read before now may be served afterwards.
        entries.clear();
        entries.suspended = suspended;
    }

    fn is_suspended(&self) -> bool {
        lock(self).suspended
    }
}

/// Evicts from, empties, suspends and resumes one
/// [`CachedUserDatabase`](super::CachedUserDatabase) (and its clones) from outside, e.g. from
/// a task that listens to other processes' announcements. Cheap to clone.
#[derive(Clone)]
pub struct CacheHandle<ID> {
    control: Arc<dyn Control<ID>>,
    capacity: usize,
}

impl<ID> fmt::Debug for CacheHandle<ID> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheHandle")
            .field("suspended", &self.control.is_suspended())
            .finish_non_exhaustive()
    }
}

impl<ID> CacheHandle<ID> {
    pub(super) fn new(control: Arc<dyn Control<ID>>, capacity: usize) -> Self {
        Self { control, capacity }
    }

    /// Forgets user `id` (see [`CachedUserDatabase::invalidate`](super::CachedUserDatabase::invalidate)).
    pub fn invalidate(&self, id: &ID) {
        self.control.evict(id, self.capacity);
    }

    /// Forgets every user.
    pub fn invalidate_all(&self) {
        self.control.clear();
    }

    /// Stops caching: every load reads the store until [`CacheHandle::resume`], and what was
    /// cached is forgotten. For while this process may be missing invalidations (its
    /// subscription to the other processes' announcements is down).
    pub fn suspend(&self) {
        self.control.set_suspended(true);
    }

    /// Caches again, starting empty.
    pub fn resume(&self) {
        self.control.set_suspended(false);
    }

    /// Whether the cache is suspended.
    pub fn is_suspended(&self) -> bool {
        self.control.is_suspended()
    }
}
