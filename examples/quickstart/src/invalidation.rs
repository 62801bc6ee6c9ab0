//! `AUTHWARD_CACHE_INVALIDATION=redis`: several quickstart servers on one database tell each
//! other which users changed, over Redis pub/sub.
//!
//! Every server keeps loaded users in memory for `AUTHWARD_USER_CACHE_MS`. Alone, a change
//! made through another server (deactivation, password change, role change, deletion) is seen
//! here only when the entry expires; with the bus on, every write is announced and every
//! server evicts the user within a Redis round trip. While a server's subscription is down
//! its cache is suspended (every request reads the database), so it never serves an entry it
//! may have missed an announcement for.
//!
//! The bus's nodes are `AUTHWARD_CACHE_INVALIDATION_URLS` (comma-separated; more than one
//! means a Redis Cluster, which forwards pub/sub messages between its nodes), by default
//! `AUTHWARD_REDIS_URL`.

use authward::cache::CachedUserDatabase;
use authward::redis::invalidation::{
    InvalidationListener, RedisInvalidation, RedisInvalidationPublisher,
};
use authward::redis::redis::cluster::ClusterClient;
use authward::{BoxError, UserDatabase};

/// Announces `users`' writes on the bus and subscribes its cache to the other servers'
/// announcements, when the bus is configured (`nodes` is not empty). Keep the listener for as
/// long as the server runs: dropping it suspends the cache.
pub async fn connect<DB>(
    nodes: &[String],
    users: CachedUserDatabase<DB>,
) -> Result<(CachedUserDatabase<DB>, Option<InvalidationListener>), BoxError>
where
    DB: UserDatabase + 'static,
{
    let bus = RedisInvalidation::new();
    let users = match nodes {
        [] => return Ok((users, None)),
        [one] => users.with_publisher(RedisInvalidationPublisher::connect(one, &bus).await?),
        cluster => {
            let conn = ClusterClient::new(cluster.to_vec())?
                .get_async_connection()
                .await?;
            users.with_publisher(RedisInvalidationPublisher::new(conn, &bus))
        }
    };
    let listener = bus.listen(nodes, users.handle()).await?;
    tracing::info!(nodes = ?nodes, "user cache invalidation over Redis pub/sub");
    Ok((users, Some(listener)))
}
