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

/// The two tests for one database: `$db` the sqlx database, `$url` the variable naming the
/// server, `$id` the type of the session id `$session` selects, and `$kill` a function from
/// that id to the statement that ends the session.
macro_rules! pool_check_tests {
    ($module:ident, $feature:literal, $db:ty, $url:literal, $id:ty, $session:literal, $kill:expr) => {
        #[cfg(feature = $feature)]
        mod $module {
            use authward_sqlx::sqlx::{self, Pool, pool::PoolOptions};

            use super::{WAIT, wait_idle};

            async fn session_id(pool: &Pool<$db>) -> Result<$id, sqlx::Error> {
                sqlx::query_scalar($session).fetch_one(pool).await
            }

            /// Kills `pool`'s connection from an admin session, waits past the bound, and
            /// returns the id before and the result of asking again.
            async fn kill_and_ask(url: &str, pool: &Pool<$db>) -> ($id, Result<$id, sqlx::Error>) {
                let admin = PoolOptions::<$db>::new()
                    .max_connections(1)
                    .connect(url)
                    .await
                    .unwrap();
                let first = session_id(pool).await.unwrap();
                wait_idle(pool).await;
                let kill: fn($id) -> String = $kill;
                sqlx::query(&kill(first)).execute(&admin).await.unwrap();
                admin.close().await;
                tokio::time::sleep(WAIT).await;
                (first, session_id(pool).await)
            }

            #[tokio::test]
            async fn a_connection_that_died_while_idle_is_replaced_before_use() {
                let Some(url) = authward_testkit::service_url($url) else {
                    return;
                };
                let pool = authward_sqlx::fail_fast_pool_options::<$db>()
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
                let Some(url) = authward_testkit::service_url($url) else {
                    return;
                };
                let pool = PoolOptions::<$db>::new()
                    .max_connections(1)
                    .test_before_acquire(false)
                    .connect(&url)
                    .await
                    .unwrap();
                let (_, again) = kill_and_ask(&url, &pool).await;
                assert!(again.is_err(), "the kill did not break the connection");
            }
        }
    };
}

pool_check_tests!(
    postgres,
    "postgres",
    sqlx::Postgres,
    "AUTHWARD_TEST_POSTGRES_URL",
    i32,
    "SELECT pg_backend_pid()",
    |pid| format!("SELECT pg_terminate_backend({pid})")
);

pool_check_tests!(
    mysql,
    "mysql",
    sqlx::MySql,
    "AUTHWARD_TEST_MYSQL_URL",
    u64,
    "SELECT CONNECTION_ID()",
    |id| format!("KILL {id}")
);
