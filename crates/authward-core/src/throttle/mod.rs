//! Throttling: rate limits per client and per account, and an exponential delay after
//! consecutive failed logins, behind one store trait so that several servers can share one
//! budget.
//!
//! - [`Limit`]: a GCRA rate limit (generic cell rate algorithm): `burst` requests at once,
//!   refilled evenly over `period`. One timestamp per key (the *theoretical arrival time*), so
//!   a check is one read-modify-write, which Redis does in one script.
//! - [`Lockout`]: consecutive failures of one account. Below `free_failures` nothing happens;
//!   each further failure blocks the account for `base_delay × 2^(n − free_failures)`, capped
//!   at `max_delay`. A success resets the count; it is forgotten `forget_after` the last
//!   failure. Never permanent, and with the defaults (5 free failures, 1 s doubling to 30
//!   min) fewer than 100 consecutive failures fit in a day, NIST SP 800-63B §5.2.2's bound.
//! - [`ThrottleStore`]: [`MemoryThrottle`] for one process; `authward_redis::RedisThrottle`
//!   for many (atomic, one round trip per call, one key per call so it works on a cluster).
//!
//! The algorithm is written here (a few lines, mirrored by the Redis script) rather than taken
//! from `governor`: `governor`'s keyed limiter fixes one quota per limiter, keeps its state in
//! process only and has no per-key reset, while the two stores must share one definition
//! that Redis can run atomically.

mod memory;

use std::time::Duration;

use async_trait::async_trait;

pub use self::memory::MemoryThrottle;
use crate::error::DbError;

/// A GCRA rate limit: `burst` requests at once, refilled evenly over `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed at once (at least 1).
    pub burst: u32,
    /// The time over which a full burst is refilled.
    pub period: Duration,
}

impl Limit {
    /// `burst` requests per `period`.
    pub const fn new(burst: u32, period: Duration) -> Self {
        Self { burst, period }
    }

    /// The interval between two requests at the sustained rate, in milliseconds (at least 1).
    pub fn emission_ms(&self) -> u64 {
        (self.period.as_millis() as u64 / u64::from(self.burst.max(1))).max(1)
    }

    /// The period in milliseconds.
    pub fn period_ms(&self) -> u64 {
        self.period.as_millis() as u64
    }
}

/// The exponential delay after consecutive failed logins of one account (see the module
/// docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    /// Failures that cost nothing.
    pub free_failures: u32,
    /// The delay after the first failure beyond the free ones; it doubles with each failure.
    pub base_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// The count is forgotten this long after the last failure.
    pub forget_after: Duration,
}

impl Default for Lockout {
    /// 5 free failures, then 1 s doubling up to 30 minutes; forgotten after 24 hours.
    fn default() -> Self {
        Self {
            free_failures: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30 * 60),
            forget_after: Duration::from_secs(24 * 3600),
        }
    }
}

impl Lockout {
    /// The delay imposed after the `failures`-th consecutive failure.
    pub fn delay_after(&self, failures: u32) -> Duration {
        if failures <= self.free_failures {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free_failures - 1).min(40);
        let delay = self
            .base_delay
            .saturating_mul(1_u32.checked_shl(doublings.min(31)).unwrap_or(u32::MAX));
        delay.min(self.max_delay)
    }
}

/// The answer to a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The request may go ahead.
    pub allowed: bool,
    /// When refused: how long until a request would be allowed.
    pub retry_after: Duration,
}

impl Decision {
    /// Allowed.
    pub const ALLOW: Self = Self {
        allowed: true,
        retry_after: Duration::ZERO,
    };

    /// Refused for `retry_after`.
    pub fn deny(retry_after: Duration) -> Self {
        Self {
            allowed: false,
            retry_after: retry_after.max(Duration::from_millis(1)),
        }
    }
}

/// Where throttling state lives. Keys are opaque text chosen by the caller (a route class and
/// a client or account identity); implementations must make each call atomic.
#[async_trait]
pub trait ThrottleStore: Send + Sync + 'static {
    /// GCRA: spends `cost` units of `key`'s budget under `limit` if it has them. A `cost` of 0
    /// only looks: would one request be allowed now?
    async fn check(&self, key: &str, limit: Limit, cost: u32) -> Result<Decision, DbError>;

    /// Whether `key` is blocked by [`ThrottleStore::record_failure`] right now.
    async fn blocked(&self, key: &str) -> Result<Decision, DbError>;

    /// Counts one more consecutive failure of `key` and blocks it for
    /// [`Lockout::delay_after`] that count; returns the count.
    async fn record_failure(&self, key: &str, lockout: Lockout) -> Result<u32, DbError>;

    /// Forgets `key` (a successful login resets its failures).
    async fn reset(&self, key: &str) -> Result<(), DbError>;
}

/// The GCRA step shared by the stores: from the stored theoretical arrival time `tat` (ms, or
/// none), `now` (ms), a limit and a cost, the decision and the new `tat` to store (when
/// allowed and `cost > 0`).
pub fn gcra(tat: Option<u64>, now: u64, limit: Limit, cost: u32) -> (Decision, Option<u64>) {
    let emission = limit.emission_ms();
    let period = limit.period_ms().max(emission);
    let tat = tat.unwrap_or(now).max(now);
    // A look (`cost` 0) answers for one request without spending it.
    let new_tat = tat.saturating_add(emission.saturating_mul(u64::from(cost.max(1))));
    // Allowed while the new arrival time stays within one period of now.
    let allow_at = new_tat.saturating_sub(period);
    if allow_at <= now {
        (Decision::ALLOW, (cost > 0).then_some(new_tat))
    } else {
        (Decision::deny(Duration::from_millis(allow_at - now)), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_allows_a_burst_then_the_sustained_rate() {
        let limit = Limit::new(3, Duration::from_secs(3));
        let mut tat = None;
        for _ in 0..3 {
            let (decision, next) = gcra(tat, 10_000, limit, 1);
            assert!(decision.allowed);
            tat = next;
        }
        let (refused, unchanged) = gcra(tat, 10_000, limit, 1);
        assert!(!refused.allowed && unchanged.is_none());
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        assert!(gcra(tat, 11_000, limit, 1).0.allowed, "one more after 1 s");
        assert!(
            !gcra(tat, 10_000, limit, 0).0.allowed,
            "a look sees the empty budget"
        );
        assert_eq!(
            gcra(None, 10_000, limit, 0),
            (Decision::ALLOW, None),
            "and spends nothing"
        );
    }

    #[test]
    fn lockout_doubles_and_is_bounded() {
        let lockout = Lockout::default();
        assert_eq!(lockout.delay_after(5), Duration::ZERO);
        assert_eq!(lockout.delay_after(6), Duration::from_secs(1));
        assert_eq!(lockout.delay_after(8), Duration::from_secs(4));
        assert_eq!(lockout.delay_after(1000), Duration::from_secs(1800));
        // NIST SP 800-63B: fewer than 100 consecutive failures fit in a day.
        let mut elapsed = Duration::ZERO;
        let mut failures = 0;
        while elapsed < Duration::from_secs(24 * 3600) {
            failures += 1;
            elapsed += lockout.delay_after(failures);
        }
        assert!(failures < 100, "{failures}");
    }
}
