//! Provider tokens reach the `oauth_account` table encrypted: what a leaked table holds.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used)]

use std::str::FromStr;

use authward_core::manager::OAuthLoginOptions;
use authward_core::oauth::ProviderTokenCipher;
use authward_core::{
    Argon2Hasher, NewOAuthAccount, OAuthUserDatabase, PasswordHelper, UserManager,
};
use authward_sqlx::SqlxUserDatabase;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

fn account(access: &str, refresh: Option<&str>) -> NewOAuthAccount {
    NewOAuthAccount {
        oauth_name: "google".into(),
        access_token: access.into(),
        expires_at: Some(1_900_000_000),
        refresh_token: refresh.map(str::to_owned),
        account_id: "g-1".into(),
        account_email: "gawain@orkney.bt".into(),
    }
}

#[tokio::test]
async fn the_table_holds_ciphertext_only() {
    let options = SqliteConnectOptions::from_str("sqlite::memory:").unwrap();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .unwrap();
    let db = SqlxUserDatabase::<sqlx::Sqlite, uuid::Uuid>::new(pool.clone()).unwrap();
    db.migrate().await.unwrap();
    let manager = UserManager::builder(db.clone(), "0123456789abcdef0123456789abcdef-secret")
        .password_helper(PasswordHelper::new(Argon2Hasher::new(64, 1, 1).unwrap()))
        .without_sessions()
        .provider_token_cipher(ProviderTokenCipher::new(&[9; 32]).unwrap())
        .build()
        .unwrap();
    let user = manager
        .oauth_callback(
            account("ya29.secret-access", Some("1//secret-refresh")),
            true,
            OAuthLoginOptions::default(),
            None,
        )
        .await
        .unwrap();
    let row = sqlx::query("SELECT access_token, refresh_token FROM oauth_account")
        .fetch_one(&pool)
        .await
        .unwrap();
    let access: String = row.get(0);
    let refresh: String = row.get(1);
    for stored in [&access, &refresh] {
        assert!(stored.starts_with("awpt.v1."), "{stored}");
        assert!(!stored.contains("secret"));
    }
    let read = manager.oauth_accounts(&user.id).await.unwrap();
    assert_eq!(read[0].access_token, "ya29.secret-access");
    assert_eq!(read[0].refresh_token.as_deref(), Some("1//secret-refresh"));

    // A row adopted from FastAPI Users (plaintext) is read, then re-encrypted in place.
    sqlx::query(
        "UPDATE oauth_account SET access_token = 'plain-from-python', refresh_token = NULL",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        manager.oauth_accounts(&user.id).await.unwrap()[0].access_token,
        "plain-from-python"
    );
    assert_eq!(manager.reencrypt_oauth_accounts(&user.id).await.unwrap(), 1);
    let access: String = sqlx::query("SELECT access_token FROM oauth_account")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    assert!(access.starts_with("awpt.v1."));
    assert_eq!(db.oauth_accounts(&user.id).await.unwrap().len(), 1);
}
