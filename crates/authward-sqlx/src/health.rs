//! Reachability ([`Ping`]) of the stores, and pool settings that fail fast.

use std::time::Duration;

use async_trait::async_trait;
use authward_core::{DbError, Ping};
use sqlx::Connection as _;
use sqlx::pool::PoolOptions;

use crate::backend::Backend;
use crate::error::db_error;
use crate::tokens::SqlxAccessTokenDatabase;
use crate::users::SqlxUserDatabase;

/// How long a call may wait for a pooled connection (and so for a new one to be opened) before
/// it fails with `DbError::Unavailable`, in [`fail_fast_pool_options`]. sqlx's own default is
/// 30 seconds.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a pooled connection may sit idle before [`fail_fast_pool_options`] checks it (a ping)
/// on its way out of the pool.
///
/// sqlx pings every connection when it goes back to the pool, so a connection idle for less than
/// this was known to be alive less than this long ago. Checking it again on every acquire (sqlx's
/// `test_before_acquire`) adds a round trip to every call: dropping that check raised the
/// quickstart's `/users/me` on PostgreSQL with the database strategy from about 9,700 to 13,000
/// requests a second (docs/benchmarks.md). A connection that sat idle longer, as every pooled
/// connection has after a database restart, is checked and replaced if dead.
pub const IDLE_CHECK_AFTER: Duration = Duration::from_secs(1);

/// Pool options that fail fast when the database is down: a call waits at most
/// [`DEFAULT_ACQUIRE_TIMEOUT`] for a connection (opening one included, which bounds the connect
/// time), then fails with `DbError::Unavailable` (503 over HTTP). Pooled connections idle for
/// [`IDLE_CHECK_AFTER`] or more are checked before use, so after a server restart dead
/// connections are replaced instead of failing one request each; connections in steady use are
/// not pinged again (sqlx already pings each one when it is returned to the pool).
///
/// Combine with `authward_core::FailFast` to stop waiting altogether while the database is
/// known to be down.
///
/// ```no_run
/// # #[cfg(feature = "postgres")]
/// # async fn demo() -> Result<(), sqlx::Error> {
/// let pool = authward_sqlx::fail_fast_pool_options::<sqlx::Postgres>()
///     .max_connections(16)
///     .connect("postgres://localhost/app")
///     .await?;
/// # let _ = pool; Ok(()) }
/// ```
pub fn fail_fast_pool_options<DB: Backend>() -> PoolOptions<DB> {
    PoolOptions::<DB>::new()
        .acquire_timeout(DEFAULT_ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_CHECK_AFTER {
                    // An error closes the connection and the pool tries the next one.
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

macro_rules! impl_ping {
    ($db:ty, $feature:literal) => {
        #[cfg(feature = $feature)]
        #[async_trait]
        impl<ID: Send + Sync, E: Send + Sync> Ping for SqlxUserDatabase<$db, ID, E> {
            /// `SELECT 1` on a pooled connection.
            async fn ping(&self) -> Result<(), DbError> {
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(|e| db_error(e, "user"))
            }
        }

        #[cfg(feature = $feature)]
        #[async_trait]
        impl<ID: Send + Sync> Ping for SqlxAccessTokenDatabase<$db, ID> {
            /// `SELECT 1` on a pooled connection.
            async fn ping(&self) -> Result<(), DbError> {
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(|e| db_error(e, "token"))
            }
        }
    };
}

impl_ping!(sqlx::Postgres, "postgres");
impl_ping!(sqlx::MySql, "mysql");
impl_ping!(sqlx::Sqlite, "sqlite");
