//! Everything on SQLite, in a fresh database file per test.

#![cfg(feature = "sqlite")]

mod common;

use authward_sea_orm::sea_orm::{DatabaseConnection, SqlxSqliteConnector};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

/// A pool over a fresh database file in the temp directory (WAL, 3 connections).
pub async fn file_pool() -> Option<SqlitePool> {
    let path = std::env::temp_dir().join(format!("authward-sea-orm-{}.db", uuid::Uuid::new_v4()));
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(std::time::Duration::from_secs(30));
    Some(
        SqlitePoolOptions::new()
            .max_connections(3)
            .connect_with(options)
            .await
            .expect("open sqlite file"),
    )
}

/// A SeaORM connection over a fresh database file.
pub async fn fresh_db() -> Option<DatabaseConnection> {
    Some(SqlxSqliteConnector::from_sqlx_sqlite_pool(
        file_pool().await?,
    ))
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
                let pool = file_pool().await.expect("pool");
                let db = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone());
                one_schema_two_adapters::<sqlx::Sqlite, $id>(pool, db, $first).await;
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
        let db = fresh_db().await.expect("db");
        checks::load_fixture(
            &db,
            include_str!("../../authward-sqlx/tests/fixtures/fastapi_users_sqlite.sql"),
        )
        .await;
        checks::adopted_database_works(db).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn case_duplicates_stop_the_adoption_and_change_nothing() {
        use authward_sea_orm::sea_orm::ConnectionTrait;
        use authward_sea_orm::sea_orm_migration::MigratorTrait;
        let pool = file_pool().await.expect("pool");
        let db = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone());
        checks::load_fixture(
            &db,
            include_str!("../../authward-sqlx/tests/fixtures/fastapi_users_sqlite.sql"),
        )
        .await;
        db.execute_unprepared(
            "INSERT INTO user VALUES ('a1a1a1a1-0000-4000-8000-000000000003', \
             'KING.ARTHUR@camelot.bt', 'x', 1, 0, 0)",
        )
        .await
        .expect("insert a case duplicate, as FastAPI Users allowed");
        let err = authward_sea_orm::Migrator::<uuid::Uuid>::up(&db, None)
            .await
            .expect_err("the adoption stops");
        assert!(err.to_string().contains("king.arthur@camelot.bt"), "{err}");
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info('user')")
            .fetch_all(&pool)
            .await
            .expect("columns");
        assert!(
            !columns.iter().any(|c| c == "email_key"),
            "the failed migration was rolled back: {columns:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migrations_are_idempotent() {
        checks::migrations_are_idempotent(fresh_db().await.expect("db")).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_unique_app_column_is_not_the_email() {
        checks::unique_app_column_is_not_the_email(fresh_db().await.expect("db")).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_closed_pool_is_unavailable() {
        let db = fresh_db().await.expect("db");
        let closing = db.clone();
        closing.close().await.expect("close");
        checks::outage_is_unavailable(db).await;
    }
}
