//! Cross-process user-cache invalidation over Redis pub/sub.
//!
//! Several servers that each keep a
//! [`CachedUserDatabase`](authward_core::cache::CachedUserDatabase) in front of one user store
//! tell each other which users changed: every write through a cache is announced by a
//! [`RedisInvalidationPublisher`] (`PUBLISH`), and an [`InvalidationListener`] in each
//! process (`SUBSCRIBE`) evicts what it hears through a
//! [`CacheHandle`](authward_core::cache::CacheHandle). A deactivation, password change or
//! deletion on one server therefore reaches the others' caches within a Redis round trip
//! instead of after the cache's TTL.
//!
//! Pub/sub delivers at most once, to whoever is subscribed at that moment, so the listener
//! makes up for what it could miss:
//!
//! - it pings the server every [`RedisInvalidation::ping_every`] (one second by default);
//!   when the connection drops or a ping goes unanswered for two seconds it **suspends** the
//!   cache (every request reads the store) and reconnects, trying each node in turn;
//! - once subscribed again it empties the cache and resumes caching.
//!
//! An announcement the *publisher* fails to send is logged, and the others see the change
//! when their entry expires (the cache's TTL). On a Redis Cluster, classic pub/sub messages
//! reach every node, so the listener subscribes on any one node and publishers publish
//! through the cluster connection.
//!
//! Messages on the channel (default [`DEFAULT_CHANNEL`]) are `u:<user id in text form>`
//! for one user and `all` for every user.
//!
//! ```no_run
//! # async fn demo() -> Result<(), authward_core::DbError> {
//! use authward_core::cache::CachedUserDatabase;
//! use authward_core::memory::MemoryUserDatabase;
//! use authward_redis::invalidation::{RedisInvalidation, RedisInvalidationPublisher};
//!
//! let bus = RedisInvalidation::new();
//! let url = "redis://127.0.0.1:6379/";
//! let publisher = RedisInvalidationPublisher::connect(url, &bus).await?;
//! let users = CachedUserDatabase::new(MemoryUserDatabase::<uuid::Uuid>::new())
//!     .with_ttl(time::Duration::seconds(30))
//!     .with_publisher(publisher);
//! // Keep the listener for as long as the cache serves requests.
//! let _listener = bus.listen([url], users.handle()).await?;
//! # Ok(())
//! # }
//! ```

mod listener;
mod message;
mod publisher;

use std::time::Duration;

pub use listener::InvalidationListener;
pub use publisher::RedisInvalidationPublisher;

/// The channel used unless [`RedisInvalidation::channel`] says otherwise.
pub const DEFAULT_CHANNEL: &str = "authward:cache:users";

/// Settings shared by the publishers and listeners of one group of servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisInvalidation {
    channel: String,
    ping_every: Duration,
}

impl Default for RedisInvalidation {
    fn default() -> Self {
        Self::new()
    }
}

impl RedisInvalidation {
    /// The default channel, pinging every second.
    pub fn new() -> Self {
        Self {
            channel: DEFAULT_CHANNEL.to_owned(),
            ping_every: Duration::from_secs(1),
        }
    }

    /// The pub/sub channel (one per group of servers sharing a user store).
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = channel.into();
        self
    }

    /// How often a listener checks that its subscription is alive (at least 10 ms). A dead
    /// connection is noticed after at most this plus the two-second reply timeout, and
    /// caching is suspended from then until the listener is subscribed again.
    pub fn ping_every(mut self, every: Duration) -> Self {
        self.ping_every = every.max(Duration::from_millis(10));
        self
    }

    /// The channel in use.
    pub fn get_channel(&self) -> &str {
        &self.channel
    }
}
