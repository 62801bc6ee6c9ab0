//! Expiry through Redis' own TTLs (short lifetimes, then waiting on Redis' clock).

mod common;

use std::time::Duration;

use authward_core::{AccessTokenDatabase, NewAccessToken, TokenDigest};
use authward_redis::redis;

use common::{fresh_options, now, random_token, standalone};

async fn pttl(url: &str, key: &str) -> i64 {
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut common::raw(url).await)
        .await
        .expect("PTTL")
}

#[tokio::test]
async fn tokens_expire_with_their_lifetime() {
    let options = fresh_options().lifetime(Some(time::Duration::seconds(2)));
    let Some(tokens) = standalone::<i64>(options).await else {
        return;
    };
    let url = authward_testkit::service_url(common::REDIS_URL).expect("set");
    let token = random_token();
    let digest = TokenDigest::of(&token);
    tokens
        .create(NewAccessToken::new(&token, 7, now()))
        .await
        .expect("create");
    let ttl = pttl(&url, &tokens.token_key(&digest)).await;
    assert!((1..=2000).contains(&ttl), "TTL is the lifetime: {ttl} ms");
    assert_eq!(tokens.list_for_user(&7).await.expect("list").len(), 1);
    assert!(tokens.any_for_user(&7, &[digest]).await.expect("any"));

    tokio::time::sleep(Duration::from_millis(2500)).await;

    assert_eq!(tokens.get_by_token(&digest, None).await.expect("get"), None);
    assert!(
        !tokens.any_for_user(&7, &[digest]).await.expect("any"),
        "an expired token does not count"
    );
    assert!(tokens.list_for_user(&7).await.expect("list").is_empty());
    assert!(!tokens.delete(&digest).await.expect("delete"));
    assert_eq!(tokens.delete_all_for_user(&7).await.expect("delete_all"), 0);
}

#[tokio::test]
async fn a_new_token_keeps_the_user_index_alive() {
    let options = fresh_options().lifetime(Some(time::Duration::seconds(3)));
    let Some(tokens) = standalone::<i64>(options).await else {
        return;
    };
    let first = tokens
        .create(NewAccessToken::new(&random_token(), 7, now()))
        .await
        .expect("create");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second = tokens
        .create(NewAccessToken::new(&random_token(), 7, now()))
        .await
        .expect("create");
    tokio::time::sleep(Duration::from_millis(2000)).await;

    // The first token's TTL has run out; the index, extended by the second, still lists it.
    assert_eq!(
        tokens.get_by_token(&first.digest, None).await.expect("get"),
        None
    );
    assert_eq!(
        tokens.list_for_user(&7).await.expect("list"),
        vec![second.clone()]
    );
    assert_eq!(tokens.delete_all_for_user(&7).await.expect("delete_all"), 1);
}

#[tokio::test]
async fn without_a_lifetime_keys_never_expire() {
    let Some(tokens) = standalone::<i64>(fresh_options()).await else {
        return;
    };
    let url = authward_testkit::service_url(common::REDIS_URL).expect("set");
    let token = tokens
        .create(NewAccessToken::new(&random_token(), 7, now()))
        .await
        .expect("create");
    assert_eq!(pttl(&url, &tokens.token_key(&token.digest)).await, -1);
    assert_eq!(tokens.delete_all_for_user(&7).await.expect("cleanup"), 1);
}

#[tokio::test]
async fn ttl_counts_from_the_write_not_from_created_at() {
    // A token issued (by the application's clock) an hour ago still gets the full lifetime:
    // Redis' clock and the application's need not agree.
    let options = fresh_options().lifetime(Some(time::Duration::seconds(60)));
    let Some(tokens) = standalone::<i64>(options).await else {
        return;
    };
    let url = authward_testkit::service_url(common::REDIS_URL).expect("set");
    let old = now() - time::Duration::hours(1);
    let token = tokens
        .create(NewAccessToken::new(&random_token(), 7, old))
        .await
        .expect("create");
    let ttl = pttl(&url, &tokens.token_key(&token.digest)).await;
    assert!((59_000..=60_000).contains(&ttl), "TTL {ttl} ms");
    assert_eq!(
        tokens.get_by_token(&token.digest, None).await.expect("get"),
        Some(token)
    );
}

#[tokio::test]
async fn with_a_lifetime_nothing_outlives_the_tokens() {
    let options = fresh_options().lifetime(Some(time::Duration::seconds(1)));
    let Some(tokens) = standalone::<i64>(options).await else {
        return;
    };
    let url = authward_testkit::service_url(common::REDIS_URL).expect("set");
    let prefix = tokens.options().get_key_prefix().to_owned();
    for _ in 0..3 {
        tokens
            .create(NewAccessToken::new(&random_token(), 7, now()))
            .await
            .expect("create");
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut common::raw(&url).await)
        .await
        .expect("KEYS");
    assert!(keys.is_empty(), "left behind: {keys:?}");
}

#[tokio::test]
async fn delete_expired_drops_index_entries_of_expired_tokens() {
    let options = fresh_options().lifetime(Some(time::Duration::seconds(3)));
    let Some(tokens) = standalone::<i64>(options).await else {
        return;
    };
    let url = authward_testkit::service_url(common::REDIS_URL).expect("set");
    let all = format!("{}{{0}}:all", tokens.options().get_key_prefix());
    tokens
        .create(NewAccessToken::new(&random_token(), 7, now()))
        .await
        .expect("create");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let live = tokens
        .create(NewAccessToken::new(&random_token(), 8, now()))
        .await
        .expect("create");
    tokio::time::sleep(Duration::from_millis(2000)).await;

    // The first token has expired, the second not; the global index still names both.
    let mut raw = common::raw(&url).await;
    let zcard = |raw: &mut redis::aio::MultiplexedConnection| {
        let mut raw = raw.clone();
        let all = all.clone();
        async move {
            let n: u64 = redis::cmd("ZCARD")
                .arg(&all)
                .query_async(&mut raw)
                .await
                .expect("ZCARD");
            n
        }
    };
    assert_eq!(zcard(&mut raw).await, 2);
    assert_eq!(
        tokens
            .delete_expired(now() + time::Duration::hours(1))
            .await
            .expect("delete_expired"),
        1,
        "only the live token counts"
    );
    assert_eq!(zcard(&mut raw).await, 0, "the stale entry is gone too");
    assert_eq!(
        tokens.get_by_token(&live.digest, None).await.expect("get"),
        None
    );
}

/// The TTL of every index key (sorted set) of the store, in ms.
async fn index_ttls(url: &str, prefix: &str) -> Vec<i64> {
    let mut raw = common::raw(url).await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut raw)
        .await
        .expect("KEYS");
    let mut ttls = Vec::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut raw)
            .await
            .expect("TYPE");
        if kind == "zset" {
            ttls.push(pttl(url, &key).await);
        }
    }
    ttls
}

#[tokio::test]
async fn every_index_outlives_its_newest_token_by_at_most_an_eighth() {
    let options = fresh_options().lifetime(Some(time::Duration::seconds(8)));
    let Some(tokens) = standalone::<i64>(options).await else {
        return;
    };
    let url = authward_testkit::service_url(common::REDIS_URL).expect("set");
    let prefix = tokens.options().get_key_prefix().to_owned();
    let create = || async {
        let token = tokens
            .create(NewAccessToken::new(&random_token(), 7, now()))
            .await
            .expect("create");
        pttl(&url, &tokens.token_key(&token.digest)).await
    };

    let first = create().await;
    let ttls = index_ttls(&url, &prefix).await;
    assert_eq!(ttls.len(), 2, "the user's index and the bucket's: {ttls:?}");
    for ttl in &ttls {
        assert!(
            *ttl >= first,
            "an index dies before its token: {ttl} < {first}"
        );
        assert!(
            *ttl <= 9_000,
            "an index outlives its token by more than an eighth: {ttl}"
        );
    }

    // Right after, a new token fits in the indexes' TTL: they are not extended again.
    let second = create().await;
    let unchanged = index_ttls(&url, &prefix).await;
    for (before, after) in ttls.iter().zip(&unchanged) {
        assert!(after <= before, "extended again: {before} -> {after}");
        assert!(
            *after >= second,
            "an index dies before its token: {after} < {second}"
        );
    }

    // Once an eighth of the lifetime has passed, a new token would outlive them: extended.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let third = create().await;
    for ttl in index_ttls(&url, &prefix).await {
        assert!(
            ttl >= third,
            "an index dies before its token: {ttl} < {third}"
        );
        assert!(
            ttl <= 9_000,
            "an index outlives its token by more than an eighth: {ttl}"
        );
    }
    assert_eq!(tokens.delete_all_for_user(&7).await.expect("cleanup"), 3);
}

/// A user who keeps signing in keeps the per-user index alive (each token extends its TTL);
/// the entries of the tokens that expired meanwhile are dropped as it grows, so it stays near
/// the number of live tokens instead of counting every token ever made.
#[tokio::test]
async fn an_active_users_index_drops_the_entries_of_expired_tokens() {
    let options = fresh_options().lifetime(Some(time::Duration::seconds(1)));
    let Some(tokens) = standalone::<i64>(options).await else {
        return;
    };
    let url = authward_testkit::service_url(common::REDIS_URL).expect("set");
    let user = format!("{}{{0}}:user:7", tokens.options().get_key_prefix());
    let started = std::time::Instant::now();
    let mut made = 0_i64;
    while started.elapsed() < Duration::from_millis(3000) {
        tokens
            .create(NewAccessToken::new(&random_token(), 7, now()))
            .await
            .expect("create");
        made += 1;
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    let indexed: i64 = redis::cmd("ZCARD")
        .arg(&user)
        .query_async(&mut common::raw(&url).await)
        .await
        .expect("ZCARD");
    // Made in the last second (the lifetime), at one per 15 ms or more: at most 67 live.
    let live = tokens.list_for_user(&7).await.expect("list").len() as i64;
    assert!(
        made > 3 * live / 2,
        "{made} made, {live} live: the run was too short"
    );
    assert!(
        indexed <= live + 32,
        "{indexed} entries for {live} live tokens ({made} made)"
    );
}
