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
