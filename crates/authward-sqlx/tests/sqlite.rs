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

    const Q: &str = "`";
    const DROP_NEW_INDEX: &str = "DROP INDEX `user_email_key2_idx`";
    const CREATE_OLD_INDEX: &str =
        "CREATE UNIQUE INDEX `user_email_key_idx` ON `user` (`email_key`)";
    const CREATE_OLD_INDEX_PROBE: &str =
        "CREATE UNIQUE INDEX `user_email_key_idx` ON `user` (`email`)";

    /// Keys of the earlier rule (Unicode lower-casing, index `user_email_key_idx`) are
    /// recomputed under the current one (NFKC, case folding, IDNA).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn earlier_key_rule_is_recomputed() {
        let Some(pool) = file_pool().await else {
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
        let Some(pool) = file_pool().await else {
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
            Err(MigrateError::EmailKeyCollisions { collisions }) => {
                assert_eq!(collisions.len(), 1);
                assert_eq!(collisions[0].key, "king.arthur@camelot.bt");
                assert_eq!(collisions[0].users.len(), 2, "{collisions:?}");
            }
            other => panic!("expected EmailKeyCollisions, got {other:?}"),
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
