//! Connections that fail fast: when the database is down, a call returns
//! `DbError::Unavailable` within about two seconds instead of waiting for SeaORM's and sqlx's
//! default 30-second pool timeout.

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// How long a call waits for a pool connection, and a new connection for its server, by
/// default.
pub const FAIL_FAST_TIMEOUT: Duration = Duration::from_secs(2);

/// Connection options with fail-fast defaults: acquire and connect timeouts of
/// [`FAIL_FAST_TIMEOUT`], and a lazy pool, so that an application starts (and answers `503`)
/// while its database is still down. Adjust them like any [`ConnectOptions`]:
///
/// ```
/// use std::time::Duration;
/// let mut options = authward_sea_orm::fail_fast("postgres://postgres@127.0.0.1/app");
/// options.acquire_timeout(Duration::from_secs(5)).max_connections(20);
/// ```
pub fn fail_fast(url: impl Into<String>) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .connect_timeout(FAIL_FAST_TIMEOUT)
        .acquire_timeout(FAIL_FAST_TIMEOUT)
        .connect_lazy(true)
        .sqlx_logging(false);
    options
}

/// Connects with [`fail_fast`] options.
///
/// Only a malformed URL fails here: the pool connects on first use, and an unreachable
/// database then makes each call fail with `DbError::Unavailable` after about two seconds.
///
/// ```no_run
/// # async fn demo() -> Result<(), sea_orm::DbErr> {
/// let db = authward_sea_orm::connect("sqlite:app.db?mode=rwc").await?;
/// # let _ = db;
/// # Ok(()) }
/// ```
pub async fn connect(url: impl Into<String>) -> Result<DatabaseConnection, DbErr> {
    Database::connect(fail_fast(url)).await
}
