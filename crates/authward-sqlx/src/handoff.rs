//! Passing a connection straight from a finished store call to a waiting one.
//!
//! sqlx pings every connection it takes back into its pool (in a task of its own), so a
//! one-statement call costs two round trips to the database. When the pool is busy and another
//! call of the same store is waiting for a connection, a call that finished its statement hands
//! its connection to that call instead: no ping, no trip through the pool. Only a connection
//! whose statement completed is handed over; one whose call failed or was cancelled (and may
//! be in the middle of a statement) goes back through sqlx, which checks it.
//!
//! Hand-overs need a pool that does not check every connection it hands out
//! ([`fail_fast_pool_options`](crate::fail_fast_pool_options) checks only long-idle ones; sqlx's
//! default `test_before_acquire` checks all): over such a pool every call goes through the
//! pool as before.
//!
//! Nothing is ever held idle here: with no call waiting, the connection goes back to the pool
//! at once, so `Pool::close`, idle checks and other users of the pool see what they would
//! without this. A connection also goes back to the pool after [`MAX_HANDOFFS`] hand-overs in
//! a row, so code queued on the pool itself (the application's own queries, another store)
//! gets its turn however busy the store is.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use std::task::Poll;

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool};
use tokio::sync::oneshot;

/// Hand-overs in a row after which a connection goes back to the pool (and is pinged there).
pub(crate) const MAX_HANDOFFS: u32 = 32;

/// Waiting calls beyond which the queue drops the entries of calls that stopped waiting.
const PRUNE_ABOVE: usize = 32;

/// A pool's connections, handed from call to call of one store while calls are waiting.
pub(crate) struct Handoff<DB: Database> {
    pool: Pool<DB>,
    /// Off for a pool that checks every connection it hands out (sqlx's default
    /// `test_before_acquire`): a hand-over arriving while the pool checks a connection for a
    /// waiting call would cancel that check, and sqlx closes a connection whose check was
    /// cancelled.
    enabled: bool,
    waiting: Mutex<Waiting<DB>>,
}

/// The calls waiting for a hand-over, oldest first (some may have stopped waiting).
struct Waiting<DB: Database> {
    calls: VecDeque<oneshot::Sender<Lent<DB>>>,
    /// The length at which the queue next drops the calls that stopped waiting (doubling, so
    /// pruning stays linear overall).
    prune_at: usize,
}

/// A connection lent to one call: give it back with [`Handoff::give`] once its statement
/// completed, or drop it (an error, a cancellation) to send it back through sqlx's checks.
pub(crate) struct Lent<DB: Database> {
    conn: PoolConnection<DB>,
    handoffs: u32,
}

impl<DB: Database> Handoff<DB> {
    pub(crate) fn new(pool: Pool<DB>) -> Self {
        Self {
            enabled: !pool.options().get_test_before_acquire(),
            pool,
            waiting: Mutex::new(Waiting {
                calls: VecDeque::new(),
                prune_at: PRUNE_ABOVE,
            }),
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Waiting<DB>> {
        // The queue holds no invariant a panic could break midway.
        self.waiting
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// A connection: from the pool when it has one ready, else whichever comes first of the
    /// pool's next one and one handed over by a call of this store that finished.
    pub(crate) async fn acquire(&self) -> Result<Lent<DB>, sqlx::Error> {
        if !self.enabled {
            return self.pool.acquire().await.map(Lent::new);
        }
        // Below its size, the pool may open a connection for this call, and a call that took
        // an idle connection may be waiting for the pool's check of it (`before_acquire`): a
        // hand-over cancelling either would cost a connection (and, for the first, keep the
        // pool from growing). Such a call waits for the pool alone.
        let max = self.pool.options().get_max_connections();
        let full = self.pool.size() >= max;
        let idle_before = self.pool.num_idle();
        let mut from_pool = Box::pin(self.pool.acquire());
        if let Poll::Ready(acquired) = futures::poll!(from_pool.as_mut()) {
            return acquired.map(Lent::new);
        }
        if !full || self.pool.num_idle() < idle_before {
            return from_pool.await.map(Lent::new);
        }
        let (sender, handed) = oneshot::channel();
        {
            let mut queue = self.queue();
            if queue.calls.len() >= queue.prune_at {
                queue.calls.retain(|waiting| !waiting.is_closed());
                queue.prune_at = PRUNE_ABOVE.max(queue.calls.len() * 2);
            }
            queue.calls.push_back(sender);
        }
        tokio::select! {
            biased;
            Ok(lent) = handed => {
                // A connection closed meanwhile, and the pool may be opening one for this
                // call: let it finish (its connection goes back to the pool) rather than
                // cancel it.
                if self.pool.size() < max
                    && let Ok(runtime) = tokio::runtime::Handle::try_current()
                {
                    runtime.spawn(from_pool);
                }
                Ok(lent)
            }
            acquired = &mut from_pool => acquired.map(Lent::new),
        }
    }

    /// Gives back the connection of a call whose statement completed: to the longest-waiting
    /// call of this store, or (none waiting, the pool closing, or [`MAX_HANDOFFS`] reached) to
    /// the pool.
    pub(crate) fn give(&self, mut lent: Lent<DB>) {
        lent.handoffs += 1;
        if !self.enabled || lent.handoffs > MAX_HANDOFFS || self.pool.is_closed() {
            return;
        }
        loop {
            let Some(waiting) = self.queue().calls.pop_front() else {
                return;
            };
            match waiting.send(lent) {
                Ok(()) => return,
                // That call got a connection from the pool meanwhile: the next one.
                Err(back) => lent = back,
            }
        }
    }
}

impl<DB: Database> Lent<DB> {
    fn new(conn: PoolConnection<DB>) -> Self {
        Self { conn, handoffs: 0 }
    }
}

impl<DB: Database> Deref for Lent<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl<DB: Database> DerefMut for Lent<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}

/// Runs `$run` (an expression using the connection `$conn`, a `&mut DB::Connection`, giving a
/// future of `Result<T, sqlx::Error>`) on a connection of `$handoff`; errors go through `$map`
/// (and `?`). The connection is given back only when the statement completed.
macro_rules! on_handoff {
    ($handoff:expr, $map:expr, |$conn:ident| $run:expr) => {{
        let mut lent = $handoff.acquire().await.map_err($map)?;
        let out = {
            let $conn = &mut *lent;
            $run.await.map_err($map)?
        };
        $handoff.give(lent);
        out
    }};
}
pub(crate) use on_handoff;
