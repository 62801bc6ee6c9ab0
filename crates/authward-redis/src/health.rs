//! Reachability ([`Ping`]) of the Redis stores.

use async_trait::async_trait;
use authward_core::{DbError, Ping, UserId};
use redis::aio::ConnectionLike;

use crate::error::map_redis_error;
use crate::store::RedisAccessTokenDatabase;
use crate::strategy::RedisStrategy;

#[async_trait]
impl<ID, C> Ping for RedisAccessTokenDatabase<ID, C>
where
    ID: UserId,
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// `PING` (on a cluster, on the node the connection picks).
    async fn ping(&self) -> Result<(), DbError> {
        let mut conn = self.connection().clone();
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(map_redis_error)?;
        Ok(())
    }
}

#[async_trait]
impl<ID, C> Ping for RedisStrategy<ID, C>
where
    ID: UserId,
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// `PING` on the strategy's store.
    async fn ping(&self) -> Result<(), DbError> {
        self.store().ping().await
    }
}
