//! The sending end of cross-process cache invalidation.

use async_trait::async_trait;

use crate::error::BoxError;

/// Tells the other processes sharing a store that a user changed, so that their
/// [`CachedUserDatabase`](super::CachedUserDatabase) forgets it.
///
/// `authward_redis::RedisInvalidationPublisher` implements it over Redis pub/sub; any
/// message bus with at-most-once delivery to every subscriber will do.
#[async_trait]
pub trait InvalidationPublisher<ID>: Send + Sync + 'static {
    /// Announces that user `id` changed (or is gone).
    ///
    /// # Errors
    /// When the announcement could not be handed to the bus; the cache logs it and carries
    /// on (the write it announces has been made).
    async fn publish(&self, id: &ID) -> Result<(), BoxError>;
}
