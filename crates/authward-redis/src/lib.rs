//! # authward-redis
//!
//! Redis storage for authward's access and refresh tokens, on a single server or a Redis
//! Cluster: [`RedisAccessTokenDatabase`] implements
//! [`AccessTokenDatabase`](authward_core::AccessTokenDatabase) (and
//! [`SessionRevoker`](authward_core::SessionRevoker)), so the database strategy and refresh
//! tokens run on it, and [`RedisStrategy`] is FastAPI Users' Redis strategy built on it.
//!
//! Compared with FastAPI Users' `RedisStrategy` (same default key prefix
//! `fastapi_users_token:`, same TTL = lifetime, no TTL without a lifetime):
//!
//! - keys hold the SHA-256 digest of the token, never the token, so a dump of Redis contains
//!   nothing a client could present;
//! - a per-user index makes log-out-everywhere and session listing work without `SCAN`, and a
//!   global index lets [`delete_expired`](authward_core::AccessTokenDatabase::delete_expired)
//!   purge without one;
//! - writes that touch several keys run as one Lua script, so a crash leaves no orphan, and
//!   `delete` consumes a token exactly once under concurrency.
//!
//! ## Key layout
//!
//! ```text
//! <prefix>{<b>}:<digest hex>      string      1|<created_at µs>|<u|->|<family|->|<user id>
//! <prefix>{<b>}:user:<user id>    sorted set  the user's token digests, score created_at (µs)
//! <prefix>{<b>}:all               sorted set  every token digest, score created_at (µs)
//! ```
//!
//! `<b>` is a bucket number derived from the digest (its first two bytes modulo
//! [`RedisTokenOptions::buckets`]), and `{<b>}` is the Redis Cluster hash tag: a token and the
//! index entries that change with it share one slot. A lookup needs only the digest. With one
//! bucket (the default) everything lives in one slot; with more, a cluster spreads the tokens
//! and per-user operations visit every bucket concurrently. `docs/src/adapters/redis.md` discusses
//! the trade-off.
//!
//! Token keys expire through their TTL; index entries left behind by expired tokens are
//! ignored and removed lazily (when listing or logging out everywhere, by `delete_expired`, and
//! as a user's index grows past 64 entries in a bucket). Each index key carries the TTL of its longest-lived token, so with a
//! lifetime set nothing outlives the tokens, even if `delete_expired` never runs.
//!
//! ## Throttling
//!
//! [`RedisThrottle`] keeps the rate limits and failed-login delays of the axum routers
//! (`authward_axum::ThrottleConfig`) in Redis, so several servers share one budget: one Lua
//! script and one key per call (atomic, one round trip, cluster-safe).
//!
//! ## Several servers, one user cache each
//!
//! The [`invalidation`] module keeps the in-process user caches of several servers current
//! over Redis pub/sub: a write on one server evicts the user from every other server's cache.
//!
//! ## Errors
//!
//! A refused, dropped or timed-out connection, or a cluster that is down, is
//! [`DbError::Unavailable`](authward_core::DbError::Unavailable); anything else is
//! [`DbError::Backend`](authward_core::DbError::Backend); the redis error is kept as the
//! source. The [`ConnectionManager`](redis::aio::ConnectionManager) made by
//! [`RedisAccessTokenDatabase::connect`] reconnects by itself once the server is back.
//!
//! ```no_run
//! # async fn demo() -> Result<(), authward_core::DbError> {
//! use authward_core::{AccessTokenDatabase, NewAccessToken, TokenDigest};
//! use authward_redis::{RedisAccessTokenDatabase, RedisTokenOptions};
//!
//! let options = RedisTokenOptions::new().lifetime(Some(time::Duration::hours(1)));
//! let tokens = RedisAccessTokenDatabase::<i64>::connect("redis://127.0.0.1:6379/", options).await?;
//! let now = time::OffsetDateTime::now_utc();
//! tokens.create(NewAccessToken::new("token-sent-to-the-client", 42, now)).await?;
//! let found = tokens.get_by_token(&TokenDigest::of("token-sent-to-the-client"), None).await?;
//! assert_eq!(found.map(|t| t.user_id), Some(42));
//! assert_eq!(tokens.delete_all_for_user(&42).await?, 1); // log out everywhere
//! # Ok(())
//! # }
//! ```

mod connect;
mod error;
mod health;
pub mod invalidation;
mod keys;
mod options;
mod ownership;
mod record;
mod scripts;
mod store;
mod strategy;
mod throttle;

pub use connect::manager_config;
pub use error::{CorruptRecord, is_unavailable, map_redis_error};
pub use options::{DEFAULT_KEY_PREFIX, InvalidOptions, MAX_BUCKETS, RedisTokenOptions};
pub use store::RedisAccessTokenDatabase;
pub use strategy::RedisStrategy;
pub use throttle::{DEFAULT_THROTTLE_PREFIX, RedisThrottle};

/// The redis crate this adapter is built on, for making connections of a matching version.
pub use redis;
