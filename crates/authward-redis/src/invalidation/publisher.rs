//! Announcing writes: `PUBLISH` on the group's channel.

use std::fmt;

use async_trait::async_trait;
use authward_core::cache::InvalidationPublisher;
use authward_core::{BoxError, DbError, UserId};
use redis::aio::{ConnectionLike, ConnectionManager};

use super::RedisInvalidation;
use super::message;
use crate::connect::manager_config;
use crate::error::map_redis_error;

/// Publishes a cache's writes to the other processes (see the [module docs](super)). Works on
/// any connection: a [`ConnectionManager`] for one server, a cluster connection for Redis
/// Cluster (where the message reaches every node).
#[derive(Clone)]
pub struct RedisInvalidationPublisher<C = ConnectionManager> {
    conn: C,
    channel: String,
}

impl<C> fmt::Debug for RedisInvalidationPublisher<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisInvalidationPublisher")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl<C> RedisInvalidationPublisher<C> {
    /// Publishes through `conn` on `bus`'s channel.
    pub fn new(conn: C, bus: &RedisInvalidation) -> Self {
        Self {
            conn,
            channel: bus.channel.clone(),
        }
    }
}

impl RedisInvalidationPublisher<ConnectionManager> {
    /// Connects to one server through a [`ConnectionManager`] configured with
    /// [`manager_config`] (reconnects by itself).
    ///
    /// # Errors
    /// [`DbError::Unavailable`] when the server cannot be reached, [`DbError::Backend`] for a
    /// malformed URL.
    pub async fn connect(url: &str, bus: &RedisInvalidation) -> Result<Self, DbError> {
        let client = redis::Client::open(url).map_err(map_redis_error)?;
        let conn = ConnectionManager::new_with_config(client, manager_config())
            .await
            .map_err(map_redis_error)?;
        Ok(Self::new(conn, bus))
    }
}

impl<C> RedisInvalidationPublisher<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// Tells every listener to empty its cache (e.g. after a bulk change made in SQL).
    ///
    /// # Errors
    /// When Redis cannot be reached or refuses the command.
    pub async fn publish_all(&self) -> Result<(), DbError> {
        self.send("all".to_owned()).await
    }

    async fn send(&self, payload: String) -> Result<(), DbError> {
        let mut conn = self.conn.clone();
        let _receivers: i64 = redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(payload)
            .query_async(&mut conn)
            .await
            .map_err(map_redis_error)?;
        Ok(())
    }
}

#[async_trait]
impl<ID, C> InvalidationPublisher<ID> for RedisInvalidationPublisher<C>
where
    ID: UserId,
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn publish(&self, id: &ID) -> Result<(), BoxError> {
        Ok(self.send(message::user(id)).await?)
    }
}
