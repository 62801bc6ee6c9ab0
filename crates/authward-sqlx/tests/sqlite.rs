//! The whole conformance suite on SQLite, in a fresh database file per test and in memory.

#![cfg(feature = "sqlite")]

mod common;

use std::str::FromStr;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

/// A pool over a fresh database file in the temp directory (WAL, 3 connections).
pub async fn file_pool() -> Option<SqlitePool> {
    let path = std::env::temp_dir().join(format!("authward-sqlx-{}.db", uuid::Uuid::new_v4()));
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

/// A pool over a private in-memory database: one connection, kept open for the pool's life.
pub async fn memory_pool() -> Option<SqlitePool> {
    let options = SqliteConnectOptions::from_str("sqlite::memory:").expect("valid url");
    Some(
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .expect("open sqlite memory"),
    )
}

mod file {
    use super::*;
    common::suite_matrix!(sqlx::Sqlite, file_pool().await);
}

mod memory {
    use super::*;
    common::suite_matrix!(sqlx::Sqlite, memory_pool().await);
}

mod migrations {
    use super::*;
    use authward_sqlx::{MigrateError, SqlxUserDatabase};
    use common::adoption;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_unique_app_column_is_not_the_email() {
        adoption::unique_app_column_is_not_the_email(file_pool().await.expect("pool")).await;
    }

    async fn load_fixture(pool: &SqlitePool) {
        let sql = include_str!("fixtures/fastapi_users_sqlite.sql");
        for statement in adoption::statements(sql) {
            sqlx::query(&statement)
                .execute(pool)
                .await
                .expect("fixture statement");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fastapi_users_database_is_adopted() {
        let pool = file_pool().await.expect("pool");
        load_fixture(&pool).await;
        adoption::adopted_database_works(pool).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fastapi_users_database_in_memory_is_adopted() {
        let pool = memory_pool().await.expect("pool");
        load_fixture(&pool).await;
        adoption::adopted_database_works(pool).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migrations_are_idempotent() {
        adoption::migrations_are_idempotent(file_pool().await.expect("pool")).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn case_duplicates_stop_the_adoption_and_change_nothing() {
        let pool = file_pool().await.expect("pool");
        load_fixture(&pool).await;
        sqlx::query(
            "INSERT INTO user VALUES ('a1a1a1a1-0000-4000-8000-000000000003', \
             'KING.ARTHUR@camelot.bt', 'x', 1, 0, 0)",
        )
        .execute(&pool)
        .await
        .expect("insert a case duplicate, as FastAPI Users allowed");
        let users = SqlxUserDatabase::<sqlx::Sqlite, uuid::Uuid>::new(pool.clone()).expect("store");
        match users.migrate().await {
            Err(MigrateError::DuplicateEmails { emails }) => {
                assert_eq!(emails, ["king.arthur@camelot.bt"]);
            }
            other => panic!("expected DuplicateEmails, got {other:?}"),
        }
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info('user')")
            .fetch_all(&pool)
            .await
            .expect("columns");
        assert!(
            !columns.iter().any(|c| c == "email_key"),
            "the failed migration was rolled back: {columns:?}"
        );
    }
}
