//! Configuration of a Redis token store: key prefix, lifetime (TTL) and bucket count.

use time::Duration;

/// The key prefix FastAPI Users' `RedisStrategy` uses, and authward's default.
pub const DEFAULT_KEY_PREFIX: &str = "fastapi_users_token:";

/// The largest accepted [`RedisTokenOptions::buckets`] value.
pub const MAX_BUCKETS: u16 = 1024;

/// How a [`RedisAccessTokenDatabase`](crate::RedisAccessTokenDatabase) lays out its keys and
/// how long they live.
///
/// ```
/// use authward_redis::RedisTokenOptions;
/// use time::Duration;
///
/// let options = RedisTokenOptions::new()
///     .key_prefix("myapp:token:")
///     .lifetime(Some(Duration::hours(1)))
///     .buckets(16); // Redis Cluster: spread the tokens over 16 hash slots
/// assert_eq!(options.get_key_prefix(), "myapp:token:");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisTokenOptions {
    key_prefix: String,
    lifetime: Option<Duration>,
    buckets: u16,
}

impl Default for RedisTokenOptions {
    fn default() -> Self {
        Self {
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            lifetime: None,
            buckets: 1,
        }
    }
}

impl RedisTokenOptions {
    /// Prefix [`DEFAULT_KEY_PREFIX`], no TTL, one bucket.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the prefix of every key the store writes. It must not contain `{` or `}`, which
    /// would change the Redis Cluster hash tag.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Sets the TTL of every stored token, counted from the moment Redis stores it; `None`
    /// (the default) stores tokens without a TTL, as FastAPI Users does without a lifetime.
    pub fn lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Sets how many hash-tag buckets tokens are spread over (1 to [`MAX_BUCKETS`]).
    ///
    /// Keys that change together share a bucket, and each bucket is one Redis Cluster hash
    /// slot, so 1 (the default) is right for a single server and puts everything on one
    /// cluster node; 16 or more spreads a cluster's load at the cost of one round trip per
    /// bucket (run concurrently) for per-user listing and deletion. Changing it for a store
    /// that already holds tokens orphans them: treat it as part of the key layout.
    pub fn buckets(mut self, buckets: u16) -> Self {
        self.buckets = buckets;
        self
    }

    /// The key prefix.
    pub fn get_key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// The TTL of stored tokens.
    pub fn get_lifetime(&self) -> Option<Duration> {
        self.lifetime
    }

    /// The number of buckets.
    pub fn get_buckets(&self) -> u16 {
        self.buckets
    }

    /// Checks the options; the TTL in milliseconds (`None`: no TTL).
    pub(crate) fn validate(&self) -> Result<Option<u64>, InvalidOptions> {
        if self.key_prefix.contains(['{', '}']) {
            return Err(InvalidOptions::PrefixHasBrace);
        }
        if self.buckets == 0 || self.buckets > MAX_BUCKETS {
            return Err(InvalidOptions::Buckets(self.buckets));
        }
        match self.lifetime {
            None => Ok(None),
            Some(lifetime) => match u64::try_from(lifetime.whole_milliseconds()) {
                Ok(ms) if ms > 0 && ms <= i64::MAX as u64 => Ok(Some(ms)),
                _ => Err(InvalidOptions::Lifetime(lifetime)),
            },
        }
    }
}

/// [`RedisTokenOptions`] that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidOptions {
    /// The key prefix contains `{` or `}`.
    PrefixHasBrace,
    /// The bucket count is 0 or above [`MAX_BUCKETS`].
    Buckets(u16),
    /// The lifetime is under a millisecond (or negative) or too large for Redis.
    Lifetime(Duration),
}

impl std::fmt::Display for InvalidOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PrefixHasBrace => f.write_str("the Redis key prefix must not contain '{' or '}'"),
            Self::Buckets(n) => write!(f, "bucket count {n} is not between 1 and {MAX_BUCKETS}"),
            Self::Lifetime(d) => write!(f, "token lifetime {d} is not a usable Redis TTL"),
        }
    }
}

impl std::error::Error for InvalidOptions {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_fastapi_users() {
        let options = RedisTokenOptions::new();
        assert_eq!(options.get_key_prefix(), "fastapi_users_token:");
        assert_eq!(options.get_lifetime(), None);
        assert_eq!(options.validate(), Ok(None));
    }

    #[test]
    fn rejects_unusable_values() {
        let bad = |o: RedisTokenOptions| o.validate().err();
        assert_eq!(
            bad(RedisTokenOptions::new().key_prefix("a{b}:")),
            Some(InvalidOptions::PrefixHasBrace)
        );
        assert_eq!(
            bad(RedisTokenOptions::new().buckets(0)),
            Some(InvalidOptions::Buckets(0))
        );
        assert_eq!(
            bad(RedisTokenOptions::new().buckets(MAX_BUCKETS + 1)),
            Some(InvalidOptions::Buckets(MAX_BUCKETS + 1))
        );
        for unusable in [Duration::microseconds(10), Duration::seconds(-5)] {
            assert_eq!(
                bad(RedisTokenOptions::new().lifetime(Some(unusable))),
                Some(InvalidOptions::Lifetime(unusable))
            );
        }
        assert_eq!(
            RedisTokenOptions::new()
                .lifetime(Some(Duration::seconds(2)))
                .validate(),
            Ok(Some(2000))
        );
    }
}
