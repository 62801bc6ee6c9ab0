//! Throttling state in Redis: every server sharing the Redis (or Redis Cluster) shares one
//! budget per client and per account.
//!
//! Each call is one Lua script over one key, so it is atomic and costs one round trip, and a
//! cluster routes it by the key's hash tag (the whole throttle key is the tag: `<prefix>{<key>}`).
//! Time is the server's (`TIME`), so the clocks of the application servers do not matter. The
//! scripts mirror [`authward_core::throttle::gcra`] and [`Lockout::delay_after`].

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use authward_core::DbError;
use authward_core::throttle::{Decision, Limit, Lockout, ThrottleStore};
use redis::Script;
use redis::aio::{ConnectionLike, ConnectionManager};

use crate::error::map_redis_error;

/// The default key prefix.
pub const DEFAULT_THROTTLE_PREFIX: &str = "authward_throttle:";

const NOW_MS: &str = "local t = redis.call('TIME')\n\
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n";

/// KEYS: the rate key. ARGV: emission ms, period ms, cost. Returns {allowed, retry ms}.
static CHECK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{NOW_MS}{}",
        r"
local emission, period, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if period < emission then period = emission end
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + emission * math.max(cost, 1)
local allow_at = new_tat - period
if allow_at <= now then
  if cost > 0 then redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.max(new_tat - now, 1)) end
  return {1, 0}
end
return {0, allow_at - now}
"
    ))
});

/// KEYS: the failure hash. ARGV: free failures, base ms, max ms, forget ms. Returns the count.
static FAILURE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{NOW_MS}{}",
        r"
local free, base, max, forget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local count = redis.call('HINCRBY', KEYS[1], 'n', 1)
local delay = 0
if count > free then
  delay = math.min(base * (2 ^ math.min(count - free - 1, 40)), max)
end
redis.call('HSET', KEYS[1], 'until', string.format('%d', now + delay))
redis.call('PEXPIRE', KEYS[1], forget)
return count
"
    ))
});

/// KEYS: the failure hash. Returns the ms the key is still blocked for (0: not blocked).
static BLOCKED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{NOW_MS}{}",
        r"
local blocked_until = tonumber(redis.call('HGET', KEYS[1], 'until') or 0)
if blocked_until > now then return blocked_until - now end
return 0
"
    ))
});

/// A [`ThrottleStore`] in Redis, standalone or cluster (any connection: a
/// [`ConnectionManager`], a `ClusterConnection`, ...). Clones share the connection.
#[derive(Clone)]
pub struct RedisThrottle<C = ConnectionManager> {
    conn: C,
    prefix: String,
}

impl<C> fmt::Debug for RedisThrottle<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisThrottle")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl<C> RedisThrottle<C> {
    /// A store over `conn` with keys `authward_throttle:{<key>}`.
    pub fn new(conn: C) -> Self {
        Self {
            conn,
            prefix: DEFAULT_THROTTLE_PREFIX.to_owned(),
        }
    }

    /// Another key prefix (several applications on one Redis).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The Redis key of a throttle key: the whole key is the hash tag. `{`, `}` and `%` in it
    /// are percent-encoded, so they cannot end the tag early and two throttle keys never share
    /// a Redis key (emails may hold braces: `john{smith@x.io` is not `john_smith@x.io`).
    pub fn redis_key(&self, key: &str) -> String {
        let mut safe = String::with_capacity(key.len());
        for c in key.chars() {
            match c {
                '{' => safe.push_str("%7B"),
                '}' => safe.push_str("%7D"),
                '%' => safe.push_str("%25"),
                c => safe.push(c),
            }
        }
        format!("{}{{{safe}}}", self.prefix)
    }
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[async_trait]
impl<C> ThrottleStore for RedisThrottle<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn check(&self, key: &str, limit: Limit, cost: u32) -> Result<Decision, DbError> {
        let mut conn = self.conn.clone();
        let (allowed, retry_ms): (i64, i64) = CHECK
            .key(self.redis_key(key))
            .arg(limit.emission_ms())
            .arg(limit.period_ms())
            .arg(cost)
            .invoke_async(&mut conn)
            .await
            .map_err(map_redis_error)?;
        Ok(if allowed == 1 {
            Decision::ALLOW
        } else {
            Decision::deny(Duration::from_millis(retry_ms.max(1).unsigned_abs()))
        })
    }

    async fn blocked(&self, key: &str) -> Result<Decision, DbError> {
        let mut conn = self.conn.clone();
        let remaining: i64 = BLOCKED
            .key(self.redis_key(key))
            .invoke_async(&mut conn)
            .await
            .map_err(map_redis_error)?;
        Ok(if remaining > 0 {
            Decision::deny(Duration::from_millis(remaining.unsigned_abs()))
        } else {
            Decision::ALLOW
        })
    }

    async fn record_failure(&self, key: &str, lockout: Lockout) -> Result<u32, DbError> {
        let mut conn = self.conn.clone();
        let count: i64 = FAILURE
            .key(self.redis_key(key))
            .arg(lockout.free_failures)
            .arg(ms(lockout.base_delay))
            .arg(ms(lockout.max_delay))
            .arg(ms(lockout.forget_after).max(1))
            .invoke_async(&mut conn)
            .await
            .map_err(map_redis_error)?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn reset(&self, key: &str) -> Result<(), DbError> {
        let mut conn = self.conn.clone();
        redis::cmd("DEL")
            .arg(self.redis_key(key))
            .query_async::<()>(&mut conn)
            .await
            .map_err(map_redis_error)
    }
}
