//! Ready-made connections: a [`ConnectionManager`] for one server, a cluster connection for
//! Redis Cluster.

use std::time::Duration;

use authward_core::{DbError, UserId};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;

use crate::error::map_redis_error;
use crate::options::RedisTokenOptions;
use crate::store::RedisAccessTokenDatabase;

/// How long connecting, and waiting for one reply, may take before the store reports
/// [`DbError::Unavailable`].
const TIMEOUT: Duration = Duration::from_secs(2);

/// The [`ConnectionManagerConfig`] that [`RedisAccessTokenDatabase::connect`] uses: 2 s
/// connection and response timeouts, and 3 reconnection attempts (100 ms to 1 s apart) before
/// a request fails with [`DbError::Unavailable`]; the next request starts reconnecting again.
pub fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(TIMEOUT))
        .set_response_timeout(Some(TIMEOUT))
        .set_number_of_retries(3)
        .set_min_delay(Duration::from_millis(100))
        .set_max_delay(Duration::from_secs(1))
}

impl<ID: UserId> RedisAccessTokenDatabase<ID, ConnectionManager> {
    /// Connects to one Redis server (`redis://[:password@]host:port[/db]`) through a
    /// [`ConnectionManager`] configured with [`manager_config`], which reconnects by itself
    /// after a lost connection.
    ///
    /// Errors: [`DbError::Unavailable`] when the server cannot be reached, [`DbError::Backend`]
    /// for a malformed URL or invalid options.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), authward_core::DbError> {
    /// use authward_redis::{RedisAccessTokenDatabase, RedisTokenOptions};
    ///
    /// let options = RedisTokenOptions::new().lifetime(Some(time::Duration::hours(1)));
    /// let tokens =
    ///     RedisAccessTokenDatabase::<uuid::Uuid>::connect("redis://127.0.0.1:6379/", options)
    ///         .await?;
    /// # let _ = tokens;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str, options: RedisTokenOptions) -> Result<Self, DbError> {
        options.validate().map_err(DbError::backend)?;
        let client = redis::Client::open(url).map_err(map_redis_error)?;
        let conn = ConnectionManager::new_with_config(client, manager_config())
            .await
            .map_err(map_redis_error)?;
        Self::new(conn, options).map_err(DbError::backend)
    }
}

impl<ID: UserId> RedisAccessTokenDatabase<ID, ClusterConnection> {
    /// Connects to a Redis Cluster through any of its nodes (`redis://host:port` each), with
    /// 2 s connection and response timeouts. Use [`RedisTokenOptions::buckets`] (e.g. 16) to
    /// spread the tokens over several slots.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), authward_core::DbError> {
    /// use authward_redis::{RedisAccessTokenDatabase, RedisTokenOptions};
    ///
    /// let nodes = ["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"];
    /// let tokens = RedisAccessTokenDatabase::<i64, _>::connect_cluster(
    ///     nodes,
    ///     RedisTokenOptions::new().buckets(16),
    /// )
    /// .await?;
    /// # let _ = tokens;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_cluster<I, S>(
        nodes: I,
        options: RedisTokenOptions,
    ) -> Result<Self, DbError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        options.validate().map_err(DbError::backend)?;
        let nodes: Vec<String> = nodes.into_iter().map(|n| n.as_ref().to_owned()).collect();
        let client = ClusterClient::builder(nodes)
            .connection_timeout(TIMEOUT)
            .response_timeout(TIMEOUT)
            .retries(3)
            .build()
            .map_err(map_redis_error)?;
        let conn = client
            .get_async_connection()
            .await
            .map_err(map_redis_error)?;
        Self::new(conn, options).map_err(DbError::backend)
    }
}
