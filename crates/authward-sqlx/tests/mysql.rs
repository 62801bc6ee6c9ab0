//! The whole conformance suite on MySQL / MariaDB, each test in a fresh database, so tests run
//! in parallel.

#![cfg(feature = "mysql")]

mod common;

use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::MySqlPool;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};

/// Databases left by earlier runs are dropped once they are this old.
const STALE_AFTER_SECS: u64 = 3600;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A fresh database `aw_<unix seconds>_<random>` and a pool (3 connections) on it; `None`
/// when `AUTHWARD_TEST_MYSQL_URL` is unset.
pub async fn fresh_pool() -> Option<MySqlPool> {
    let url = authward_testkit::service_url("AUTHWARD_TEST_MYSQL_URL")?;
    let base = MySqlConnectOptions::from_str(&url).expect("valid mysql url");
    let database = format!("aw_{}_{}", unix_now(), uuid::Uuid::new_v4().simple());
    let admin = MySqlPoolOptions::new()
        .max_connections(1)
        .connect_with(base.clone())
        .await
        .expect("connect to mysql");
    drop_stale_databases(&admin).await;
    sqlx::query(&format!(
        "CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
    ))
    .execute(&admin)
    .await
    .expect("create database");
    admin.close().await;
    Some(
        MySqlPoolOptions::new()
            .max_connections(3)
            .connect_with(base.database(&database))
            .await
            .expect("connect to the test database"),
    )
}

async fn drop_stale_databases(admin: &MySqlPool) {
    let databases: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
         WHERE schema_name LIKE 'aw\\_%'",
    )
    .fetch_all(admin)
    .await
    .expect("list databases");
    for database in databases {
        let created = database
            .split('_')
            .nth(1)
            .and_then(|s| s.parse::<u64>().ok());
        if created.is_some_and(|at| at + STALE_AFTER_SECS < unix_now()) {
            // Another run may be dropping it too; either way it is gone.
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS `{database}`"))
                .execute(admin)
                .await;
        }
    }
}

common::suite_matrix!(sqlx::MySql, fresh_pool().await);

mod migrations {
    use super::*;
    use common::adoption;

    const Q: &str = "`";
    const DROP_NEW_INDEX: &str = "ALTER TABLE `user` DROP INDEX `user_email_key2_idx`";
    const CREATE_OLD_INDEX: &str =
        "ALTER TABLE `user` ADD UNIQUE KEY `user_email_key_idx` (`email_key`)";
    const CREATE_OLD_INDEX_PROBE: &str =
        "ALTER TABLE `user` ADD UNIQUE KEY `user_email_key_idx` (`email`)";

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
        let keys: Vec<Vec<u8>> = sqlx::query_scalar(&format!(
            "SELECT {Q}email_key{Q} FROM {Q}user{Q} ORDER BY {Q}id{Q}"
        ))
        .fetch_all(&pool)
        .await
        .expect("keys");
        let keys: Vec<String> = keys
            .into_iter()
            .map(|k| String::from_utf8(k).expect("utf-8 key"))
            .collect();
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
        for statement in adoption::statements(include_str!("fixtures/fastapi_users_mysql.sql")) {
            sqlx::query(&statement)
                .execute(&pool)
                .await
                .expect("fixture statement");
        }
        adoption::adopted_database_works(pool).await;
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
        let options = MySqlConnectOptions::new()
            .host("127.0.0.1")
            .port(1)
            .username("root")
            .database("test");
        let pool = MySqlPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(2))
            .connect_lazy_with(options);
        adoption::outage_is_unavailable(pool).await;
    }
}

/// A write dropped at any point leaves no connection inside a transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_write_never_leaves_its_connection_inside_a_transaction() {
    let Some(fresh) = fresh_pool().await else {
        return;
    };
    let pool = common::dropped::one_connection(fresh).await;
    let users = common::users::<sqlx::MySql, uuid::Uuid, ()>(pool.clone()).await;
    common::dropped::dropped_writes_leave_no_open_transaction(&users, &pool).await;
}
