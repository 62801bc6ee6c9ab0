//! Everything on MySQL / MariaDB, each test in a fresh database, so tests run in parallel.

#![cfg(feature = "mysql")]

mod common;

use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use authward_sea_orm::sea_orm::{DatabaseConnection, SqlxMySqlConnector};
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

/// A fresh database `aws_<unix seconds>_<random>` and a pool (5 connections) on it; `None`
/// when `AUTHWARD_TEST_MYSQL_URL` is unset.
pub async fn fresh_pool() -> Option<MySqlPool> {
    let url = authward_testkit::service_url("AUTHWARD_TEST_MYSQL_URL")?;
    let base = MySqlConnectOptions::from_str(&url).expect("valid mysql url");
    let database = format!("aws_{}_{}", unix_now(), uuid::Uuid::new_v4().simple());
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
            .max_connections(5)
            .connect_with(base.database(&database))
            .await
            .expect("connect to the test database"),
    )
}

/// A SeaORM connection over a fresh database.
pub async fn fresh_db() -> Option<DatabaseConnection> {
    Some(SqlxMySqlConnector::from_sqlx_mysql_pool(
        fresh_pool().await?,
    ))
}

async fn drop_stale_databases(admin: &MySqlPool) {
    let databases: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
         WHERE schema_name LIKE 'aws\\_%'",
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
                let db = SqlxMySqlConnector::from_sqlx_mysql_pool(pool.clone());
                one_schema_two_adapters::<sqlx::MySql, $id>(pool, db, $first).await;
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
            include_str!("../../authward-sqlx/tests/fixtures/fastapi_users_mysql.sql"),
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
        let db = authward_sea_orm::connect("mysql://root@127.0.0.1:1/test")
            .await
            .expect("a lazy pool connects");
        checks::outage_is_unavailable(db).await;
    }
}

#[path = "../../authward-sqlx/tests/common/dropped.rs"]
mod dropped;

/// A write dropped at any point leaves no connection inside a transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_write_never_leaves_its_connection_inside_a_transaction() {
    use authward_sea_orm::SeaOrmUsers;
    use authward_sea_orm::entities::uuid_id::{oauth_account, user};
    let Some(fresh) = fresh_pool().await else {
        return;
    };
    let pool = dropped::one_connection(fresh).await;
    let db = common::migrated::<uuid::Uuid>(SqlxMySqlConnector::from_sqlx_mysql_pool(pool.clone()))
        .await;
    let users = SeaOrmUsers::<user::Entity, oauth_account::Entity>::new(db);
    dropped::dropped_writes_leave_no_open_transaction(&users, &pool).await;
}
