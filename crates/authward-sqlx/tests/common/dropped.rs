//! Writes dropped midway (a client gone, a timeout around the call) over MySQL / MariaDB.
//!
//! sqlx's MySQL driver, dropped while its `BEGIN` is under way, hands the connection back to
//! the pool inside a transaction it no longer tracks: later statements of other calls on that
//! connection are neither committed nor seen by other connections. The stores run their
//! transactions detached (`authward_core::db::detached`), so no dropped write leaves one.
//! Shared with `authward-sea-orm`'s tests.

use std::time::Duration;

use authward_core::{AuthUser, NewOAuthAccount, NewUser, OAuthUserDatabase, UserPatch};
use sqlx::MySqlPool;

/// MySQL's error number for an unknown system variable.
const ER_UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;

/// A pool of one connection on the database of `fresh` (which is closed).
pub async fn one_connection(fresh: MySqlPool) -> MySqlPool {
    let options = (*fresh.connect_options()).clone();
    fresh.close().await;
    sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("connect")
}

/// Whether the pool's connection is inside a transaction (MariaDB's `@@in_transaction`);
/// `None` on a server without that variable (MySQL).
pub async fn in_transaction(pool: &MySqlPool) -> Option<bool> {
    let open: Result<i64, _> = sqlx::query_scalar("SELECT CAST(@@in_transaction AS SIGNED)")
        .fetch_one(pool)
        .await;
    match open {
        Ok(open) => Some(open != 0),
        Err(sqlx::Error::Database(e))
            if e.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .is_some_and(|e| e.number() == ER_UNKNOWN_SYSTEM_VARIABLE) =>
        {
            None
        }
        Err(e) => panic!("@@in_transaction: {e}"),
    }
}

/// Drops every write that runs a transaction (an update, a password-hash replacement, an
/// OAuth sign-up) after 0 to 1.5 ms, 300 times each, over `pool` (one connection), and checks
/// after each that the connection is not left inside a transaction.
pub async fn dropped_writes_leave_no_open_transaction<DB>(store: &DB, pool: &MySqlPool)
where
    DB: OAuthUserDatabase<Extra = ()>,
{
    assert_eq!(
        pool.options().get_max_connections(),
        1,
        "one connection to watch"
    );
    let user = store
        .create(NewUser::new("dropped@example.com", "$argon2id$h"))
        .await
        .expect("create");
    for step in 0..300_u64 {
        let limit = Duration::from_micros(step * 5);
        let patch = UserPatch {
            is_verified: Some(step % 2 == 0),
            ..UserPatch::default()
        };
        let _ = tokio::time::timeout(limit, store.update(user.id(), patch)).await;
        assert_eq!(
            in_transaction(pool).await,
            Some(false),
            "an update dropped after {limit:?}"
        );
        let stored = store.get(user.id()).await.expect("get").expect("the user");
        let replace = store.replace_password_hash(
            user.id(),
            stored.hashed_password(),
            format!("$argon2id$h{step}"),
        );
        let _ = tokio::time::timeout(limit, replace).await;
        assert_eq!(
            in_transaction(pool).await,
            Some(false),
            "a hash replacement dropped after {limit:?}"
        );
        let account = NewOAuthAccount {
            oauth_name: "google".to_owned(),
            access_token: "at".to_owned(),
            expires_at: None,
            refresh_token: None,
            account_id: format!("dropped-{step}"),
            account_email: format!("dropped{step}@example.com"),
        };
        let new = NewUser::new(format!("dropped{step}@example.com"), "$argon2id$x");
        let _ = tokio::time::timeout(limit, store.create_with_oauth_account(new, account)).await;
        assert_eq!(
            in_transaction(pool).await,
            Some(false),
            "an OAuth sign-up dropped after {limit:?}"
        );
    }
}
