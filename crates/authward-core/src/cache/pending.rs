//! The announcement a write through the cache owes the other processes, made even when the
//! write's caller is dropped.

use std::future::Future;
use std::sync::{Arc, Mutex};

use super::{CachedUserDatabase, Entries, InvalidationPublisher, lock};
use crate::db::{IdOf, UserDatabase};
use crate::error::DbError;

/// Owed once a write through the cache has started: [`Pending::announce`] evicts the user here
/// and tells the other processes. Dropped before that (the write's task panicked, or the
/// runtime shut down), it still evicts here and publishes on a task of its own if it can.
pub(super) struct Pending<DB: UserDatabase> {
    entries: Arc<Mutex<Entries<DB>>>,
    capacity: usize,
    publisher: Option<Arc<dyn InvalidationPublisher<IdOf<DB>>>>,
    /// `None` once announced.
    id: Option<IdOf<DB>>,
}

impl<DB: UserDatabase + 'static> CachedUserDatabase<DB> {
    /// Evicts `id`, then runs `write` on the store and announces `id` (also when the write
    /// failed: a timed-out write may have been applied), on a task of their own: a caller
    /// dropped midway neither stops the write nor skips its announcement, and the
    /// announcement comes after the write.
    pub(super) async fn write_then_announce<T, W, F>(
        &self,
        id: &IdOf<DB>,
        write: W,
    ) -> Result<T, DbError>
    where
        W: FnOnce(Arc<DB>) -> F,
        F: Future<Output = Result<T, DbError>> + Send + 'static,
        T: Send + 'static,
    {
        let pending = self.pending(id);
        let written = write(Arc::clone(&self.db));
        crate::db::detached(async move {
            let result = written.await;
            pending.announce().await;
            result
        })
        .await
    }

    /// Evicts `id` before a write, and owes its announcement.
    fn pending(&self, id: &IdOf<DB>) -> Pending<DB> {
        self.invalidate(id);
        Pending {
            entries: Arc::clone(&self.entries),
            capacity: self.capacity,
            publisher: self.publisher.clone(),
            id: Some(id.clone()),
        }
    }
}

impl<DB: UserDatabase> Pending<DB> {
    /// Evicts the user here (a load racing the write may have cached it meanwhile) and tells
    /// the other processes.
    pub(super) async fn announce(mut self) {
        let Some(id) = self.id.take() else {
            return;
        };
        lock(&self.entries).evict(&id, self.capacity);
        if let Some(publisher) = self.publisher.take() {
            publish(publisher.as_ref(), &id).await;
        }
    }
}

impl<DB: UserDatabase> Drop for Pending<DB> {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else {
            return;
        };
        lock(&self.entries).evict(&id, self.capacity);
        if let Some(publisher) = self.publisher.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move { publish(publisher.as_ref(), &id).await });
        }
    }
}

async fn publish<ID: std::fmt::Display + 'static>(
    publisher: &dyn InvalidationPublisher<ID>,
    id: &ID,
) {
    if let Err(err) = publisher.publish(id).await {
        tracing::error!(
            error = %err,
            user_id = %id,
            "announcing a user change to the other processes failed; they see it when their cached copy expires"
        );
    }
}
