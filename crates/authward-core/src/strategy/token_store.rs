//! What the strategies keeping random tokens in an [`AccessTokenDatabase`] share: the store,
//! how long its tokens live, and the clock that dates them.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use crate::clock::{Clock, SystemClock};
use crate::db::AccessTokenDatabase;
use crate::id::UserId;
use crate::strategy::StrategyError;
use crate::strategy::random_token::generate_token;
use crate::token::{NewAccessToken, TokenFamily};

/// A token store with the lifetime of its tokens (`L`: `Option<Duration>` for access tokens
/// that may never expire, `Duration` for refresh tokens) and the clock reading "now".
pub(super) struct TokenStore<S, ID, L> {
    /// The records, as digests.
    pub(super) store: S,
    /// How long a token lives after it was issued.
    pub(super) lifetime: L,
    clock: Arc<dyn Clock>,
    _id: PhantomData<fn() -> ID>,
}

impl<S: Clone, ID, L: Copy> Clone for TokenStore<S, ID, L> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            lifetime: self.lifetime,
            clock: Arc::clone(&self.clock),
            _id: PhantomData,
        }
    }
}

impl<S, ID, L> TokenStore<S, ID, L> {
    /// Tokens kept in `store` for `lifetime`, dated by the system clock.
    pub(super) fn new(store: S, lifetime: L) -> Self {
        Self {
            store,
            lifetime,
            clock: Arc::new(SystemClock),
            _id: PhantomData,
        }
    }

    /// Reads "now" from `clock` instead.
    pub(super) fn set_clock(&mut self, clock: impl Clock) {
        self.clock = Arc::new(clock);
    }

    /// The current instant.
    pub(super) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The `Debug` output of the strategy `name` holding these tokens: their lifetime.
    pub(super) fn fmt_as(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result
    where
        L: fmt::Debug,
    {
        f.debug_struct(name)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl<S: AccessTokenDatabase<ID>, ID: UserId, L> TokenStore<S, ID, L> {
    /// Generates a token for `user_id`, issued at `now` (in `family` for a refresh token), and
    /// stores its record.
    pub(super) async fn create(
        &self,
        user_id: &ID,
        family: Option<TokenFamily>,
        now: OffsetDateTime,
    ) -> Result<String, StrategyError> {
        let token = generate_token()?;
        let mut record = NewAccessToken::new(&token, user_id.clone(), now);
        record.family = family;
        self.store.create(record).await?;
        Ok(token)
    }
}

/// The oldest issue time of a token living `lifetime` that still works at `now` (the Unix
/// epoch when `now - lifetime` is out of range).
pub(super) fn oldest_valid(now: OffsetDateTime, lifetime: Duration) -> OffsetDateTime {
    now.checked_sub(lifetime)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
