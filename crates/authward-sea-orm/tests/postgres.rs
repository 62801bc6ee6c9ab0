//! Everything on PostgreSQL, each test in a fresh schema (selected through the connection's
//! `search_path`), so tests run in parallel.

#![cfg(feature = "postgres")]

mod common;

use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use authward_sea_orm::sea_orm::{DatabaseConnection, SqlxPostgresConnector};
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

/// A fresh schema `aws_<unix seconds>_<random>` and a pool (5 connections) whose
/// `search_path` is that schema; `None` when `AUTHWARD_TEST_POSTGRES_URL` is unset.
pub async fn fresh_pool() -> Option<PgPool> {
    let url = authward_testkit::service_url("AUTHWARD_TEST_POSTGRES_URL")?;
    let base = PgConnectOptions::from_str(&url).expect("valid postgres url");
    let schema = format!("aws_{}_{}", unix_now(), uuid::Uuid::new_v4().simple());
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
    let options = base.options([("search_path", schema.as_str())]);
    Some(
        PgPoolOptions::new()
            .max_connections(5)
            .connect_with(options)
            .await
            .expect("connect to the test schema"),
    )
}

/// A SeaORM connection over a fresh schema.
pub async fn fresh_db() -> Option<DatabaseConnection> {
    Some(SqlxPostgresConnector::from_sqlx_postgres_pool(
        fresh_pool().await?,
    ))
}

async fn drop_stale_schemas(admin: &PgPool) {
    let schemas: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'aws\\_%'")
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

common::suite_matrix!(fresh_db().await);

mod schema {
    use super::*;
    use common::checks;
    use common::cross::{First, one_schema_two_adapters};

    macro_rules! cross {
        ($name:ident, $id:ty, $first:expr) => {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(pool) = fresh_pool().await else {
                    return;
                };
                let db = SqlxPostgresConnector::from_sqlx_postgres_pool(pool.clone());
                one_schema_two_adapters::<sqlx::Postgres, $id>(pool, db, $first).await;
            }
        };
    }
    cross!(sqlx_schema_uuid, uuid::Uuid, First::Sqlx);
    cross!(sea_orm_schema_uuid, uuid::Uuid, First::SeaOrm);
    cross!(sqlx_schema_i64, i64, First::Sqlx);
    cross!(sea_orm_schema_i64, i64, First::SeaOrm);
    cross!(sqlx_schema_string, String, First::Sqlx);
    cross!(sea_orm_schema_string, String, First::SeaOrm);

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fastapi_users_database_is_adopted() {
        let Some(db) = fresh_db().await else { return };
        checks::load_fixture(
            &db,
            include_str!("../../authward-sqlx/tests/fixtures/fastapi_users_postgres.sql"),
        )
        .await;
        checks::adopted_database_works(db).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migrations_are_idempotent() {
        let Some(db) = fresh_db().await else { return };
        checks::migrations_are_idempotent(db).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_unique_app_column_is_not_the_email() {
        let Some(db) = fresh_db().await else { return };
        checks::unique_app_column_is_not_the_email(db).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreachable_port_is_unavailable_within_the_fail_fast_timeout() {
        let db = authward_sea_orm::connect("postgres://postgres@127.0.0.1:1/test")
            .await
            .expect("a lazy pool connects");
        checks::outage_is_unavailable(db).await;
    }

    /// A server that accepts connections and never answers: without the fail-fast timeouts a
    /// call would wait for sqlx's 30-second default; with them it is `Unavailable` after ~2 s.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_silent_server_is_unavailable_after_the_fail_fast_timeout() {
        use authward_core::{DbError, UserDatabase};
        use authward_sea_orm::SeaOrmUsers;
        use authward_sea_orm::entities::uuid_id::user;
        use std::time::{Duration, Instant};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let db = authward_sea_orm::connect(format!("postgres://postgres@127.0.0.1:{port}/test"))
            .await
            .expect("a lazy pool connects");
        let users = SeaOrmUsers::<user::Entity>::new(db);
        let started = Instant::now();
        match users.get_by_email("a@b.c").await {
            Err(DbError::Unavailable(_)) => {}
            other => panic!("expected Unavailable, got {other:?}"),
        }
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(1500) && took < Duration::from_secs(6),
            "the call gave up after {took:?}, expected about {:?}",
            authward_sea_orm::FAIL_FAST_TIMEOUT
        );
        silent.abort();
    }
}

#[path = "../../authward-sqlx/tests/common/stored_timestamps.rs"]
mod stored_timestamps;

/// A token row with a timestamp `time` cannot hold is an error, not a panic.
#[tokio::test]
async fn a_timestamp_beyond_the_calendar_is_an_error_not_a_panic() {
    use authward_sea_orm::entities::uuid_id::{access_token, user};
    use authward_sea_orm::{SeaOrmAccessTokens, SeaOrmUsers};
    let Some(pool) = fresh_pool().await else {
        return;
    };
    let db = common::migrated::<uuid::Uuid>(SqlxPostgresConnector::from_sqlx_postgres_pool(
        pool.clone(),
    ))
    .await;
    let users = SeaOrmUsers::<user::Entity>::new(db.clone());
    let tokens = SeaOrmAccessTokens::<access_token::Entity, uuid::Uuid>::new(db);
    stored_timestamps::timestamps_beyond_the_calendar_are_errors(&tokens, &users, &pool).await;
}
