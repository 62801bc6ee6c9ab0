//! `fail_fast_pool_options` checks a pooled connection that sat idle for `IDLE_CHECK_AFTER` or
//! more before handing it out, so a connection the server closed in the meantime (a restart, an
//! administrator's kill) is replaced instead of failing the call. Each test kills the pool's one
//! connection from another session, waits past the bound and queries again; the control pool,
//! which checks nothing, shows that the kill does break an unchecked connection.
#![cfg(any(feature = "postgres", feature = "mysql"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use authward_sqlx::IDLE_CHECK_AFTER;

/// Past the bound, with room for a slow machine's timer.
const WAIT: Duration = IDLE_CHECK_AFTER.saturating_add(Duration::from_millis(300));

/// Waits until the pool's one connection is back in it: sqlx returns a connection (and pings
/// it) in a task of its own after the call, and a kill before that ping would be seen by the
/// ping instead of by what the test checks.
async fn wait_idle<DB: authward_sqlx::sqlx::Database>(pool: &authward_sqlx::sqlx::Pool<DB>) {
    for _ in 0..200 {
        if pool.num_idle() == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the connection did not return to the pool");
}

#[cfg(feature = "postgres")]
mod postgres {
    use authward_sqlx::sqlx::{self, PgPool, postgres::PgPoolOptions};

    use super::WAIT;

    async fn session_id(pool: &PgPool) -> Result<i32, sqlx::Error> {
        sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(pool)
            .await
    }

    /// Kills `pool`'s connection from an admin session, waits past the bound, and returns the id
    /// before and the result of asking again.
    async fn kill_and_ask(url: &str, pool: &PgPool) -> (i32, Result<i32, sqlx::Error>) {
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .unwrap();
        let first = session_id(pool).await.unwrap();
        super::wait_idle(pool).await;
        let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(first)
            .fetch_one(&admin)
            .await
            .unwrap();
        assert!(
            killed,
            "the admin session could not end the pool's connection"
        );
        admin.close().await;
        tokio::time::sleep(WAIT).await;
        (first, session_id(pool).await)
    }

    #[tokio::test]
    async fn a_connection_that_died_while_idle_is_replaced_before_use() {
        let Some(url) = authward_testkit::service_url("AUTHWARD_TEST_POSTGRES_URL") else {
            return;
        };
        let pool = authward_sqlx::fail_fast_pool_options::<sqlx::Postgres>()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        let (first, again) = kill_and_ask(&url, &pool).await;
        let second = again.expect("the dead connection was checked and replaced");
        assert_ne!(first, second, "a new connection serves the call");
    }

    #[tokio::test]
    async fn control_an_unchecked_pool_hands_out_the_dead_connection() {
        let Some(url) = authward_testkit::service_url("AUTHWARD_TEST_POSTGRES_URL") else {
            return;
        };
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect(&url)
            .await
            .unwrap();
        let (_, again) = kill_and_ask(&url, &pool).await;
        assert!(again.is_err(), "the kill did not break the connection");
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use authward_sqlx::sqlx::{self, MySqlPool, mysql::MySqlPoolOptions};

    use super::WAIT;

    async fn session_id(pool: &MySqlPool) -> Result<u64, sqlx::Error> {
        sqlx::query_scalar("SELECT CONNECTION_ID()")
            .fetch_one(pool)
            .await
    }

    /// As the PostgreSQL one, with MariaDB's `KILL`.
    async fn kill_and_ask(url: &str, pool: &MySqlPool) -> (u64, Result<u64, sqlx::Error>) {
        let admin = MySqlPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .unwrap();
        let first = session_id(pool).await.unwrap();
        super::wait_idle(pool).await;
        sqlx::query(&format!("KILL {first}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        tokio::time::sleep(WAIT).await;
        (first, session_id(pool).await)
    }

    #[tokio::test]
    async fn a_connection_that_died_while_idle_is_replaced_before_use() {
        let Some(url) = authward_testkit::service_url("AUTHWARD_TEST_MYSQL_URL") else {
            return;
        };
        let pool = authward_sqlx::fail_fast_pool_options::<sqlx::MySql>()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        let (first, again) = kill_and_ask(&url, &pool).await;
        let second = again.expect("the dead connection was checked and replaced");
        assert_ne!(first, second, "a new connection serves the call");
    }

    #[tokio::test]
    async fn control_an_unchecked_pool_hands_out_the_dead_connection() {
        let Some(url) = authward_testkit::service_url("AUTHWARD_TEST_MYSQL_URL") else {
            return;
        };
        let pool = MySqlPoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect(&url)
            .await
            .unwrap();
        let (_, again) = kill_and_ask(&url, &pool).await;
        assert!(again.is_err(), "the kill did not break the connection");
    }
}
