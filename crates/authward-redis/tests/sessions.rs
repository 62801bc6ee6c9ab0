//! Logout, log-out-everywhere, session listing and what the keys hold.

mod common;

use authward_core::{
    AccessTokenDatabase, NewAccessToken, SessionRevoker, TokenDigest, TokenFamily,
};
use authward_redis::redis;

use common::{fresh_options, now, random_token, standalone};

#[tokio::test]
async fn keys_hold_the_digest_never_the_token() {
    let options = fresh_options().lifetime(Some(time::Duration::minutes(10)));
    let Some(tokens) = standalone::<String>(options).await else {
        return;
    };
    let url = authward_testkit::service_url(common::REDIS_URL).expect("set");
    let mut raw = common::raw(&url).await;
    let token = random_token();
    let user = "knight-of-the-round-table".to_owned();
    tokens
        .create(NewAccessToken::new(&token, user.clone(), now()))
        .await
        .expect("create");
    let prefix = tokens.options().get_key_prefix().to_owned();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut raw)
        .await
        .expect("KEYS");
    assert_eq!(keys.len(), 3, "token, user index, global index: {keys:?}");
    let key = tokens.token_key(&TokenDigest::of(&token));
    assert!(keys.contains(&key));
    assert!(key.starts_with(&prefix) && key.ends_with(&TokenDigest::of(&token).to_hex()));
    for key in &keys {
        assert!(!key.contains(&token), "{key}");
        let dump: Vec<u8> = redis::cmd("DUMP")
            .arg(key)
            .query_async(&mut raw)
            .await
            .expect("DUMP");
        assert!(
            !dump.windows(token.len()).any(|w| w == token.as_bytes()),
            "{key} holds the token"
        );
    }
    let value: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .expect("GET");
    assert!(
        value.ends_with(&user),
        "the value carries the user id: {value}"
    );
}

#[tokio::test]
async fn logout_removes_the_token_and_its_index_entries() {
    let options = fresh_options().lifetime(Some(time::Duration::minutes(10)));
    let Some(tokens) = standalone::<i64>(options).await else {
        return;
    };
    let url = authward_testkit::service_url(common::REDIS_URL).expect("set");
    let kept = tokens
        .create(NewAccessToken::new(&random_token(), 5, now()))
        .await
        .expect("create");
    let token = random_token();
    let digest = TokenDigest::of(&token);
    tokens
        .create(NewAccessToken::new(&token, 5, now()))
        .await
        .expect("create");
    assert!(tokens.delete(&digest).await.expect("logout"));
    assert_eq!(tokens.get_by_token(&digest, None).await.expect("get"), None);
    assert_eq!(tokens.list_for_user(&5).await.expect("list"), vec![kept]);
    // No index still names the digest.
    let prefix = tokens.options().get_key_prefix().to_owned();
    let mut raw = common::raw(&url).await;
    for index in [
        format!("{prefix}{{0}}:user:5"),
        format!("{prefix}{{0}}:all"),
    ] {
        let score: Option<f64> = redis::cmd("ZSCORE")
            .arg(&index)
            .arg(digest.to_hex())
            .query_async(&mut raw)
            .await
            .expect("ZSCORE");
        assert_eq!(score, None, "{index}");
    }
}

#[tokio::test]
async fn log_out_everywhere_revokes_every_session_of_one_user() {
    let options = fresh_options().buckets(16);
    let Some(tokens) = standalone::<i64>(options).await else {
        return;
    };
    for _ in 0..12 {
        tokens
            .create(NewAccessToken::new(&random_token(), 1, now()))
            .await
            .expect("create");
    }
    let other = tokens
        .create(NewAccessToken::new(&random_token(), 2, now()))
        .await
        .expect("create");
    assert_eq!(tokens.list_for_user(&1).await.expect("list").len(), 12);

    tokens
        .revoke_all(&1, authward_core::RevokeReason::LogoutAll)
        .await
        .expect("revoke_all");

    assert!(tokens.list_for_user(&1).await.expect("list").is_empty());
    assert_eq!(tokens.list_for_user(&2).await.expect("list"), vec![other]);
    assert_eq!(tokens.delete_all_for_user(&2).await.expect("cleanup"), 1);
}

#[tokio::test]
async fn listing_spans_buckets_and_keeps_refresh_metadata() {
    let options = fresh_options().buckets(16);
    let Some(tokens) = standalone::<i64>(options).await else {
        return;
    };
    let family = TokenFamily::new();
    let mut expected = Vec::new();
    for minutes in (0..20).rev() {
        let mut record =
            NewAccessToken::new(&random_token(), 3, now() - time::Duration::minutes(minutes));
        record.family = Some(family);
        record.used = minutes % 2 == 0;
        expected.push(tokens.create(record).await.expect("create"));
    }
    assert_eq!(tokens.list_for_user(&3).await.expect("list"), expected);
    assert_eq!(tokens.delete_all_for_user(&3).await.expect("cleanup"), 20);
}

#[tokio::test]
async fn large_sessions_are_deleted_in_batches() {
    let Some(tokens) = standalone::<i64>(fresh_options()).await else {
        return;
    };
    let old = now() - time::Duration::days(1);
    for _ in 0..600 {
        tokens
            .create(NewAccessToken::new(&random_token(), 9, old))
            .await
            .expect("create");
    }
    assert_eq!(
        tokens.delete_expired(now()).await.expect("delete_expired"),
        600
    );
    assert!(tokens.list_for_user(&9).await.expect("list").is_empty());
    for _ in 0..300 {
        tokens
            .create(NewAccessToken::new(&random_token(), 9, old))
            .await
            .expect("create");
    }
    assert_eq!(
        tokens.delete_all_for_user(&9).await.expect("delete_all"),
        300
    );
}
