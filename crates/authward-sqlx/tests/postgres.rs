//! The whole conformance suite on PostgreSQL, each test in a fresh schema (selected through the
//! connection's `search_path`), so tests run in parallel.

#![cfg(feature = "postgres")]

mod common;

use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Schemas left by earlier runs are dropped once they are this old.
const STALE_AFTER_SECS: u64 = 3600;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A fresh schema `aw_<unix seconds>_<random>` and a pool (3 connections) whose
/// `search_path` is that schema; `None` when `AUTHWARD_TEST_POSTGRES_URL` is unset.
pub async fn fresh_pool() -> Option<PgPool> {
    let options = fresh_schema().await?;
    Some(
        PgPoolOptions::new()
            .max_connections(3)
            .connect_with(options)
            .await
            .expect("connect to the test schema"),
    )
}

/// Connection options for a fresh schema `aw_<unix seconds>_<random>` (the `search_path`);
/// `None` when `AUTHWARD_TEST_POSTGRES_URL` is unset.
pub async fn fresh_schema() -> Option<PgConnectOptions> {
    let url = authward_testkit::service_url("AUTHWARD_TEST_POSTGRES_URL")?;
    let base = PgConnectOptions::from_str(&url).expect("valid postgres url");
    let schema = format!("aw_{}_{}", unix_now(), uuid::Uuid::new_v4().simple());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(base.clone())
        .await
        .expect("connect to postgres");
    drop_stale_schemas(&admin).await;
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&admin)
        .await
        .expect("create schema");
    admin.close().await;
    Some(base.options([("search_path", schema.as_str())]))
}

async fn drop_stale_schemas(admin: &PgPool) {
    let schemas: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'aw\\_%'")
            .fetch_all(admin)
            .await
            .expect("list schemas");
    for schema in schemas {
        let created = schema.split('_').nth(1).and_then(|s| s.parse::<u64>().ok());
        if created.is_some_and(|at| at + STALE_AFTER_SECS < unix_now()) {
            // Another run may be dropping it too; either way it is gone.
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .execute(admin)
                .await;
        }
    }
}

common::suite_matrix!(sqlx::Postgres, fresh_pool().await);

mod migrations {
    use super::*;
    use common::adoption;

    const Q: &str = "\"";
    const DROP_NEW_INDEX: &str = "DROP INDEX \"user_email_key2_idx\"";
    const CREATE_OLD_INDEX: &str =
        "CREATE UNIQUE INDEX \"user_email_key_idx\" ON \"user\" (\"email_key\")";
    const CREATE_OLD_INDEX_PROBE: &str =
        "CREATE UNIQUE INDEX \"user_email_key_idx\" ON \"user\" (\"email\")";

    /// Keys of the earlier rule (Unicode lower-casing, index `user_email_key_idx`) are
    /// recomputed under the current one (NFKC, case folding, IDNA).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn earlier_key_rule_is_recomputed() {
        let Some(pool) = fresh_pool().await else {
            return;
        };
        let ids = adoption::seed_earlier_rule(pool.clone()).await;
        for sql in [
            DROP_NEW_INDEX.to_owned(),
            format!(
                "UPDATE {Q}user{Q} SET {Q}email_key{Q} = 'user@bücher.de' WHERE {Q}id{Q} = {}",
                ids[0]
            ),
            format!(
                "UPDATE {Q}user{Q} SET {Q}email_key{Q} = '\u{FF41}\u{FF42}@x.io' WHERE {Q}id{Q} = {}",
                ids[1]
            ),
            CREATE_OLD_INDEX.to_owned(),
        ] {
            sqlx::query(&sql).execute(&pool).await.expect("downgrade");
        }
        adoption::earlier_rule_keys_are_recomputed(pool, ids).await;
    }

    /// Keys that collide under the current rule stop the migration, which names the rows and
    /// changes nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn key_collisions_stop_the_migration_and_change_nothing() {
        let Some(pool) = fresh_pool().await else {
            return;
        };
        let [first, ..] = adoption::seed_earlier_rule(pool.clone()).await;
        for sql in [
            DROP_NEW_INDEX.to_owned(),
            format!(
                "UPDATE {Q}user{Q} SET {Q}email_key{Q} = 'user@bücher.de' WHERE {Q}id{Q} = {first}"
            ),
            CREATE_OLD_INDEX.to_owned(),
            format!(
                "INSERT INTO {Q}user{Q} ({Q}email{Q}, {Q}email_key{Q}, {Q}hashed_password{Q}) \
                     VALUES ('user@xn--bcher-kva.de', 'user@xn--bcher-kva.de', 'h')"
            ),
        ] {
            sqlx::query(&sql).execute(&pool).await.expect("downgrade");
        }
        let second: i64 = sqlx::query_scalar(&format!(
            "SELECT {Q}id{Q} FROM {Q}user{Q} WHERE {Q}email{Q} = 'user@xn--bcher-kva.de'"
        ))
        .fetch_one(&pool)
        .await
        .expect("second id");
        adoption::collisions_are_reported(pool.clone(), [first, second]).await;
        let keys: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT {Q}email_key{Q} FROM {Q}user{Q} ORDER BY {Q}id{Q}"
        ))
        .fetch_all(&pool)
        .await
        .expect("keys");
        assert_eq!(
            keys,
            [
                "user@bücher.de",
                "ab@x.io",
                "plain@x.io",
                "user@xn--bcher-kva.de"
            ]
            .map(String::from),
            "nothing changed"
        );
        assert!(
            sqlx::query(CREATE_OLD_INDEX_PROBE)
                .execute(&pool)
                .await
                .is_err(),
            "the old index is still there"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_unique_app_column_is_not_the_email() {
        let Some(pool) = fresh_pool().await else {
            return;
        };
        adoption::unique_app_column_is_not_the_email(pool).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fastapi_users_database_is_adopted() {
        let Some(pool) = fresh_pool().await else {
            return;
        };
        for statement in adoption::statements(include_str!("fixtures/fastapi_users_postgres.sql")) {
            sqlx::query(&statement)
                .execute(&pool)
                .await
                .expect("fixture statement");
        }
        adoption::adopted_database_works(pool).await;
    }

    /// FastAPI Users' integer variant (`SERIAL` ids) adopted by an `i64` store.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_integer_id_database_is_adopted() {
        use authward_core::{AccessTokenDatabase, NewUser, TokenDigest, UserDatabase};
        use authward_sqlx::{SqlxAccessTokenDatabase, SqlxUserDatabase};
        let Some(pool) = fresh_pool().await else {
            return;
        };
        let ddl = [
            "CREATE TABLE \"user\" (id SERIAL NOT NULL, email VARCHAR(320) NOT NULL, \
             hashed_password VARCHAR(1024) NOT NULL, is_active BOOLEAN NOT NULL, \
             is_superuser BOOLEAN NOT NULL, is_verified BOOLEAN NOT NULL, PRIMARY KEY (id))",
            "CREATE UNIQUE INDEX ix_user_email ON \"user\" (email)",
            "CREATE TABLE accesstoken (user_id INTEGER NOT NULL, token VARCHAR(43) NOT NULL, \
             created_at TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY (token), \
             FOREIGN KEY(user_id) REFERENCES \"user\" (id) ON DELETE cascade)",
            "CREATE TABLE oauth_account (id SERIAL NOT NULL, user_id INTEGER NOT NULL, \
             oauth_name VARCHAR(100) NOT NULL, access_token VARCHAR(1024) NOT NULL, \
             expires_at INTEGER, refresh_token VARCHAR(1024), account_id VARCHAR(320) NOT NULL, \
             account_email VARCHAR(320) NOT NULL, PRIMARY KEY (id), \
             FOREIGN KEY(user_id) REFERENCES \"user\" (id) ON DELETE cascade)",
        ];
        for statement in ddl {
            sqlx::query(statement).execute(&pool).await.expect("ddl");
        }
        sqlx::query(
            "INSERT INTO \"user\" (email, hashed_password, is_active, is_superuser, is_verified) \
             VALUES ('Lancelot@camelot.bt', $1, true, false, true)",
        )
        .bind(adoption::BCRYPT)
        .execute(&pool)
        .await
        .expect("user");
        sqlx::query("INSERT INTO accesstoken VALUES (1, $1, '2030-01-01 12:00:00+00')")
            .bind(adoption::LEGACY_TOKEN)
            .execute(&pool)
            .await
            .expect("token");

        let users = SqlxUserDatabase::<sqlx::Postgres, i64>::new(pool.clone()).expect("store");
        let tokens = SqlxAccessTokenDatabase::<sqlx::Postgres, i64>::new(pool);
        for _ in 0..2 {
            users.migrate().await.expect("adopt users");
            tokens.migrate().await.expect("adopt tokens");
        }
        let lancelot = users
            .get_by_email("LANCELOT@camelot.bt")
            .await
            .expect("get_by_email")
            .expect("found ignoring case");
        assert_eq!(lancelot.id, 1);
        assert_eq!(lancelot.hashed_password, adoption::BCRYPT);
        let next = users
            .create(NewUser::new("Bedivere@camelot.bt", "h"))
            .await
            .expect("create after adoption");
        assert_eq!(next.id, 2, "the SERIAL sequence goes on");
        let session = tokens
            .get_by_token(&TokenDigest::of(adoption::LEGACY_TOKEN), None)
            .await
            .expect("get_by_token");
        assert_eq!(session.map(|t| t.user_id), Some(1));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migrations_are_idempotent() {
        let Some(pool) = fresh_pool().await else {
            return;
        };
        adoption::migrations_are_idempotent(pool).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_outage_is_unavailable() {
        let options = PgConnectOptions::new()
            .host("127.0.0.1")
            .port(1)
            .username("postgres")
            .database("test");
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(2))
            .connect_lazy_with(options);
        adoption::outage_is_unavailable(pool).await;
    }
}

/// Store calls hand a finished call's connection to a waiting call instead of sending it back
/// through the pool (where sqlx pings it), without starving the pool's other users or holding
/// up `Pool::close`.
#[allow(clippy::unwrap_used)]
mod handoff {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use authward_core::UserDatabase as _;
    use authward_core::{AccessTokenDatabase as _, NewAccessToken, NewUser, TokenDigest};
    use sqlx::postgres::PgPoolOptions;
    use sqlx::{PgPool, Postgres};
    use uuid::Uuid;

    use super::{common, fresh_schema};

    type Tokens = authward_sqlx::SqlxAccessTokenDatabase<Postgres, Uuid>;

    /// A pool built with `options` on a fresh schema, counting the connections sqlx takes
    /// back into it.
    async fn counting_releases(options: PgPoolOptions) -> Option<(PgPool, Arc<AtomicUsize>)> {
        let schema = fresh_schema().await?;
        let released = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&released);
        let pool = options
            .after_release(move |_, _| {
                counter.fetch_add(1, Ordering::SeqCst);
                Box::pin(async { Ok(true) })
            })
            .connect_with(schema)
            .await
            .expect("connect to the test schema");
        Some((pool, released))
    }

    /// A pool of `size` connections counting the connections sqlx takes back, with a token
    /// store over it holding one token (whose digest is returned).
    async fn counted(size: u32) -> Option<(PgPool, Arc<AtomicUsize>, Tokens, TokenDigest)> {
        let options = authward_sqlx::fail_fast_pool_options::<Postgres>()
            .max_connections(size)
            .acquire_timeout(Duration::from_secs(5));
        let (pool, released) = counting_releases(options).await?;
        let (tokens, users) = common::tokens::<Postgres, Uuid>(pool.clone()).await;
        let owner = users
            .create(NewUser::new("handoff@example.com", "$argon2id$x"))
            .await
            .unwrap();
        let now = time::OffsetDateTime::now_utc();
        tokens
            .create(NewAccessToken::new("a token", owner.id, now))
            .await
            .unwrap();
        let digest = TokenDigest::of("a token");
        Some((pool, released, tokens, digest))
    }

    /// Waits until every connection is back in the pool (sqlx returns them in tasks of their
    /// own).
    async fn settle(pool: &PgPool) {
        for _ in 0..500 {
            if pool.num_idle() == pool.size() as usize {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("connections did not come back to the pool");
    }

    #[tokio::test]
    async fn a_busy_store_hands_its_connections_over_instead_of_releasing_them() {
        let Some((pool, released, tokens, digest)) = counted(2).await else {
            return;
        };
        settle(&pool).await;
        released.store(0, Ordering::SeqCst);
        const CALLERS: usize = 32;
        const CALLS: usize = 25;
        let callers = (0..CALLERS).map(|_| async {
            for _ in 0..CALLS {
                let found = tokens.get_by_token(&digest, None).await.unwrap();
                assert!(found.is_some());
            }
        });
        futures::future::join_all(callers).await;
        settle(&pool).await;
        let released = released.load(Ordering::SeqCst);
        // Through the pool, every call would be a release (800). A connection goes back after
        // at most 32 hand-overs in a row, or when no call waits.
        assert!(
            released * 4 < CALLERS * CALLS,
            "{released} of {} calls went back through the pool",
            CALLERS * CALLS
        );
        assert!(released > 0, "connections still go back to the pool");
    }

    #[tokio::test]
    async fn a_pool_checking_every_connection_gets_every_connection_back() {
        // sqlx's default pool checks each connection it hands out; a hand-over could cancel
        // that check (and sqlx closes a connection whose check was cancelled), so such a pool
        // gets every call's connection back, as without hand-overs.
        let Some((pool, released)) =
            counting_releases(PgPoolOptions::new().max_connections(2)).await
        else {
            return;
        };
        assert!(pool.options().get_test_before_acquire());
        let (tokens, _) = common::tokens::<Postgres, Uuid>(pool.clone()).await;
        settle(&pool).await;
        released.store(0, Ordering::SeqCst);
        let digest = TokenDigest::of("no such token");
        let callers = (0..16).map(|_| async {
            for _ in 0..10 {
                assert!(tokens.get_by_token(&digest, None).await.unwrap().is_none());
            }
        });
        futures::future::join_all(callers).await;
        settle(&pool).await;
        assert_eq!(released.load(Ordering::SeqCst), 160);
        assert_eq!(pool.size(), 2, "no connection was closed");
    }

    #[tokio::test]
    async fn a_burst_after_a_quiet_second_keeps_the_pools_connections() {
        // Four connections idle for more than a second, then a burst: each call that takes
        // one waits for the pool's check of it (as `fail_fast_pool_options` pings such a
        // connection; here the checks take 30, 60, 90 and 120 ms), which a hand-over must not
        // cancel (sqlx would close the connection and open another).
        let Some(options) = fresh_schema().await else {
            return;
        };
        let opened = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&opened);
        let checks = Arc::new(AtomicUsize::new(0));
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .min_connections(4)
            .test_before_acquire(false)
            .before_acquire(move |_, meta| {
                let nth = checks.fetch_add(1, Ordering::SeqCst) % 4;
                Box::pin(async move {
                    if meta.idle_for >= Duration::from_secs(1) {
                        let slow = u64::try_from(nth).unwrap_or(0) + 1;
                        tokio::time::sleep(Duration::from_millis(30 * slow)).await;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |_, _| {
                counter.fetch_add(1, Ordering::SeqCst);
                Box::pin(async { Ok(()) })
            })
            .connect_with(options)
            .await
            .unwrap();
        let (tokens, _) = common::tokens::<Postgres, Uuid>(pool.clone()).await;
        let digest = TokenDigest::of("no such token");
        for _ in 0..3 {
            settle(&pool).await;
            assert_eq!(pool.size(), 4);
            let before = opened.load(Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(1200)).await;
            let callers = (0..32).map(|_| async {
                for _ in 0..4 {
                    assert!(tokens.get_by_token(&digest, None).await.unwrap().is_none());
                }
            });
            futures::future::join_all(callers).await;
            settle(&pool).await;
            assert_eq!(
                opened.load(Ordering::SeqCst),
                before,
                "no connection was replaced"
            );
        }
    }

    #[tokio::test]
    async fn hand_overs_do_not_keep_the_pool_from_growing() {
        // Thirty-two callers at once on an empty pool of four: the calls that open the pool's
        // connections are not cancelled by a connection handed over meanwhile.
        let Some((pool, _, _, digest)) = counted(4).await else {
            return;
        };
        settle(&pool).await;
        let fresh = authward_sqlx::fail_fast_pool_options::<Postgres>()
            .max_connections(4)
            .connect_with(pool.connect_options().as_ref().clone())
            .await
            .unwrap();
        pool.close().await;
        let tokens = Tokens::new(fresh.clone());
        settle(&fresh).await;
        assert_eq!(fresh.size(), 1, "connect opens one connection");
        let callers = (0..32).map(|_| async {
            for _ in 0..25 {
                assert!(tokens.get_by_token(&digest, None).await.unwrap().is_some());
            }
        });
        futures::future::join_all(callers).await;
        assert_eq!(fresh.size(), 4);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connection_lost_under_load_is_replaced() {
        // Four connections, all busy, calls always waiting; the server ends one of them. The
        // call the pool opens its replacement for must not drop that connection half-open when
        // a hand-over reaches it first, or the pool stays a connection short under load.
        // Opening a connection takes 50 ms here (a database across a network, with TLS), so
        // hand-overs come while it opens.
        let Some(options) = fresh_schema().await else {
            return;
        };
        let name = format!("aw_handoff_{}", Uuid::new_v4().simple());
        let opened = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&opened);
        let pool = authward_sqlx::fail_fast_pool_options::<Postgres>()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |_, _| {
                let counter = Arc::clone(&counter);
                Box::pin(async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    counter.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })
            })
            .connect_with(options.clone().application_name(&name))
            .await
            .unwrap();
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        let (tokens, _) = common::tokens::<Postgres, Uuid>(pool.clone()).await;
        let tokens = Arc::new(tokens);
        let digest = TokenDigest::of("no such token");
        let stop = Arc::new(AtomicBool::new(false));
        let busy: Vec<_> = (0..16)
            .map(|_| {
                let (tokens, stop) = (Arc::clone(&tokens), Arc::clone(&stop));
                tokio::spawn(async move {
                    let mut failed = 0_u32;
                    while !stop.load(Ordering::SeqCst) {
                        match tokens.get_by_token(&digest, None).await {
                            Ok(found) => assert!(found.is_none()),
                            Err(_) => failed += 1,
                        }
                    }
                    failed
                })
            })
            .collect();
        for _ in 0..500 {
            if opened.load(Ordering::SeqCst) == 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            opened.load(Ordering::SeqCst),
            4,
            "the pool grew to its size"
        );
        let ended: i64 = sqlx::query_scalar(
            "SELECT count(pg_terminate_backend(pid)) FROM \
             (SELECT pid FROM pg_stat_activity WHERE application_name = $1 LIMIT 1) AS one",
        )
        .bind(&name)
        .fetch_one(&admin)
        .await
        .unwrap();
        assert_eq!(ended, 1);
        for _ in 0..300 {
            if opened.load(Ordering::SeqCst) > 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stop.store(true, Ordering::SeqCst);
        let mut failed = 0;
        for caller in busy {
            failed += caller.await.unwrap();
        }
        assert!(
            failed <= 1,
            "{failed} calls failed; the ended connection fails one at most"
        );
        assert_eq!(
            opened.load(Ordering::SeqCst),
            5,
            "the ended connection was replaced, once"
        );
        settle(&pool).await;
        assert_eq!(pool.size(), 4);
    }

    #[tokio::test]
    async fn the_pool_gets_its_connection_back_however_busy_the_store_is() {
        // One connection, sixteen store calls always waiting: a query of the application's
        // own, queued on the pool, still gets the connection within the acquire timeout.
        let Some((pool, _, tokens, digest)) = counted(1).await else {
            return;
        };
        let stop = AtomicBool::new(false);
        let busy = (0..16).map(|_| async {
            while !stop.load(Ordering::SeqCst) {
                tokens.get_by_token(&digest, None).await.unwrap();
            }
        });
        let own = async {
            for _ in 0..5 {
                let mut conn = pool
                    .acquire()
                    .await
                    .expect("the pool's connection came back");
                let one: i32 = sqlx::query_scalar("SELECT 1")
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap();
                assert_eq!(one, 1);
            }
            stop.store(true, Ordering::SeqCst);
        };
        futures::future::join(futures::future::join_all(busy), own).await;
    }

    #[tokio::test]
    async fn closing_the_pool_while_the_store_is_busy_does_not_hang() {
        let Some((pool, _, tokens, digest)) = counted(2).await else {
            return;
        };
        let outcomes = (0..16).map(|_| async {
            let mut unavailable = false;
            for _ in 0..200 {
                match tokens.get_by_token(&digest, None).await {
                    Ok(found) => assert!(found.is_some()),
                    Err(e) => {
                        assert!(e.is_unavailable(), "{e}");
                        unavailable = true;
                        break;
                    }
                }
            }
            unavailable
        });
        let close = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            tokio::time::timeout(Duration::from_secs(10), pool.close())
                .await
                .expect("Pool::close finished");
        };
        let (outcomes, ()) =
            futures::future::join(futures::future::join_all(outcomes), close).await;
        assert!(
            outcomes.iter().any(|&closed| closed),
            "the close interrupted the calls"
        );
        assert!(
            tokens
                .get_by_token(&digest, None)
                .await
                .unwrap_err()
                .is_unavailable()
        );
    }
}

/// A token row with a timestamp `time` cannot hold is an error, not a panic.
#[tokio::test]
async fn a_timestamp_beyond_the_calendar_is_an_error_not_a_panic() {
    let Some(pool) = fresh_pool().await else {
        return;
    };
    let (tokens, users) = common::tokens::<sqlx::Postgres, uuid::Uuid>(pool.clone()).await;
    common::stored_timestamps::timestamps_beyond_the_calendar_are_errors(&tokens, &users, &pool)
        .await;
}
