//! Reachability ([`Ping`]) of the stores, and pool settings that fail fast.

use std::time::Duration;

use async_trait::async_trait;
use authward_core::{DbError, Ping};
use sqlx::pool::PoolOptions;

use crate::backend::Backend;
use crate::error::db_error;
use crate::tokens::SqlxAccessTokenDatabase;
use crate::users::SqlxUserDatabase;

/// How long a call may wait for a pooled connection (and so for a new one to be opened) before
/// it fails with `DbError::Unavailable`, in [`fail_fast_pool_options`]. sqlx's own default is
/// 30 seconds.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Pool options that fail fast when the database is down: a call waits at most
/// [`DEFAULT_ACQUIRE_TIMEOUT`] for a connection (opening one included, which bounds the connect
/// time), then fails with `DbError::Unavailable` (503 over HTTP). Pooled connections are
/// checked before use (sqlx's `test_before_acquire`), so after a server restart dead
/// connections are replaced instead of failing one request each.
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
        .test_before_acquire(true)
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
