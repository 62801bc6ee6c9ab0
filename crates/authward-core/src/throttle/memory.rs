//! Throttling state in process memory (one server).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::{Decision, Limit, Lockout, ThrottleStore, gcra};
use crate::clock::{Clock, SystemClock};
use crate::error::DbError;

#[derive(Default)]
struct State {
    /// GCRA theoretical arrival times (ms), with the instant they stop mattering.
    rates: HashMap<String, (u64, u64)>,
    /// Failure counts, blocked-until and forget-at instants (ms).
    failures: HashMap<String, (u32, u64, u64)>,
}

/// A [`ThrottleStore`] in memory: one process's budget (several servers each get their own;
/// use the Redis store to share one). Clones share the state. Entries past their use are
/// swept as the map grows.
#[derive(Clone)]
pub struct MemoryThrottle {
    state: Arc<Mutex<State>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryThrottle").finish_non_exhaustive()
    }
}

impl Default for MemoryThrottle {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryThrottle {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(State::default())),
            clock: Arc::new(SystemClock),
        }
    }

    /// The clock (tests advance a [`ManualClock`](crate::ManualClock)).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A duration in whole milliseconds, saturating at `u64::MAX`.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Above this many keys, expired ones are swept on the next write.
const SWEEP_ABOVE: usize = 100_000;

#[async_trait]
impl ThrottleStore for MemoryThrottle {
    async fn check(&self, key: &str, limit: Limit, cost: u32) -> Result<Decision, DbError> {
        let now = self.now_ms();
        let mut state = self.lock();
        let tat = state.rates.get(key).map(|(tat, _)| *tat);
        let (decision, new_tat) = gcra(tat, now, limit, cost);
        if let Some(new_tat) = new_tat {
            if state.rates.len() > SWEEP_ABOVE {
                state.rates.retain(|_, (_, until)| *until > now);
            }
            state.rates.insert(key.to_owned(), (new_tat, new_tat));
        }
        Ok(decision)
    }

    async fn blocked(&self, key: &str) -> Result<Decision, DbError> {
        let now = self.now_ms();
        let state = self.lock();
        Ok(match state.failures.get(key) {
            Some((_, until, forget)) if *until > now && *forget > now => {
                Decision::deny(Duration::from_millis(until - now))
            }
            _ => Decision::ALLOW,
        })
    }

    async fn record_failure(&self, key: &str, lockout: Lockout) -> Result<u32, DbError> {
        let now = self.now_ms();
        let mut state = self.lock();
        if state.failures.len() > SWEEP_ABOVE {
            state.failures.retain(|_, (_, _, forget)| *forget > now);
        }
        let count = match state.failures.get(key) {
            Some((count, _, forget)) if *forget > now => count.saturating_add(1),
            _ => 1,
        };
        let until = now.saturating_add(millis(lockout.delay_after(count)));
        let forget = now.saturating_add(millis(lockout.forget_after));
        state
            .failures
            .insert(key.to_owned(), (count, until, forget));
        Ok(count)
    }

    async fn reset(&self, key: &str) -> Result<(), DbError> {
        let mut state = self.lock();
        state.failures.remove(key);
        state.rates.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Never forget" and "lock out for good" (`Duration::MAX`) keep counting and locking out
    /// (an unchecked sum would panic, or wrap and forget every failure at once).
    #[tokio::test]
    async fn lockouts_of_any_length_count_and_block() {
        let store = MemoryThrottle::new();
        let lockout = Lockout {
            free_failures: 1,
            base_delay: Duration::MAX,
            max_delay: Duration::MAX,
            forget_after: Duration::MAX,
        };
        for expected in 1..=3 {
            let count = store.record_failure("k", lockout).await;
            assert_eq!(count.ok(), Some(expected));
        }
        let decision = store.blocked("k").await.ok();
        assert!(decision.is_some_and(|d| !d.allowed), "{decision:?}");
    }
}
