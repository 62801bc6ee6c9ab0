//! Reachability of a store, for readiness checks.

use async_trait::async_trait;

use crate::error::DbError;

/// A store that can tell whether it is reachable, cheaply (`SELECT 1`, `PING`, `ping`).
///
/// Adapters implement it for their stores; the axum integration's readiness route polls every
/// store it is given.
#[async_trait]
pub trait Ping: Send + Sync {
    /// `Ok` when the store answers; [`DbError::Unavailable`] when it cannot be reached.
    async fn ping(&self) -> Result<(), DbError>;
}

#[async_trait]
impl<T: Ping + ?Sized> Ping for std::sync::Arc<T> {
    async fn ping(&self) -> Result<(), DbError> {
        (**self).ping().await
    }
}
