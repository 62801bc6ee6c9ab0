//! `RedisStrategy`: login, read, logout, log-out-everywhere, session listing and expiry, on one
//! server and on the cluster.

mod common;

use std::time::Duration as StdDuration;

use authward_core::memory::MemoryUserDatabase;
use authward_core::strategy::{Strategy, StrategyError};
use authward_core::{
    AccessTokenDatabase, ManualClock, NewUser, SessionRevoker, TokenDigest, User, UserDatabase,
};
use authward_redis::{RedisAccessTokenDatabase, RedisStrategy, RedisTokenOptions, redis};
use time::Duration;
use uuid::Uuid;

use common::{PrivateServer, cluster, fresh_options, now, standalone};

type Users = MemoryUserDatabase<Uuid>;

async fn user(users: &Users) -> User<Uuid> {
    users
        .create(NewUser::new(
            authward_testkit::unique_email("knight", "camelot.bt"),
            "$argon2id$hash",
        ))
        .await
        .expect("create user")
}

async fn strategy(lifetime: Option<Duration>) -> Option<RedisStrategy<Uuid>> {
    let store = standalone::<Uuid>(fresh_options().lifetime(lifetime)).await?;
    Some(RedisStrategy::new(store))
}

#[tokio::test]
async fn login_read_logout() {
    let Some(strategy) = strategy(Some(Duration::hours(1))).await else {
        return;
    };
    let url = authward_testkit::service_url(common::REDIS_URL).expect("set");
    let users = Users::new();
    let arthur = user(&users).await;

    let token = strategy.write_token(&arthur).await.expect("login");
    assert_eq!(token.len(), 43);
    let read = strategy.read_token(&token, &users).await.expect("read");
    assert_eq!(read.as_ref().map(|u| u.id), Some(arthur.id));

    // Redis holds the digest under the prefix, with the lifetime as TTL.
    let key = strategy.store().token_key(&TokenDigest::of(&token));
    assert!(key.starts_with("authward-test:") && !key.contains(&token));
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut common::raw(&url).await)
        .await
        .expect("PTTL");
    assert!((3_590_000..=3_600_000).contains(&ttl), "TTL {ttl} ms");

    strategy
        .destroy_token(&token, &arthur)
        .await
        .expect("logout");
    assert_eq!(
        strategy.read_token(&token, &users).await.expect("read"),
        None
    );
}

#[tokio::test]
async fn bad_tokens_read_as_no_user() {
    let Some(strategy) = strategy(Some(Duration::minutes(10))).await else {
        return;
    };
    let users = Users::new();
    let arthur = user(&users).await;
    let token = strategy.write_token(&arthur).await.expect("login");
    let unknown = authward_core::strategy::generate_token().expect("random token");
    for bad in ["", "short", &token[..42], &unknown, &format!("{token} ")] {
        assert_eq!(
            strategy.read_token(bad, &users).await.expect("read"),
            None,
            "{bad:?}"
        );
    }
    // The token of a deleted user reads as no user.
    users.delete(&arthur.id).await.expect("delete user");
    assert_eq!(
        strategy.read_token(&token, &users).await.expect("read"),
        None
    );
}

#[tokio::test]
async fn logout_leaves_someone_elses_token_alone() {
    let Some(strategy) = strategy(Some(Duration::minutes(10))).await else {
        return;
    };
    let users = Users::new();
    let (arthur, lancelot) = (user(&users).await, user(&users).await);
    let token = strategy.write_token(&arthur).await.expect("login");
    strategy
        .destroy_token(&token, &lancelot)
        .await
        .expect("logout");
    assert!(
        strategy
            .read_token(&token, &users)
            .await
            .expect("read")
            .is_some()
    );
}

#[tokio::test]
async fn sessions_are_listed_and_revoked() {
    let Some(strategy) = strategy(Some(Duration::hours(1))).await else {
        return;
    };
    let users = Users::new();
    let (arthur, lancelot) = (user(&users).await, user(&users).await);
    let mut tokens = Vec::new();
    for _ in 0..3 {
        tokens.push(strategy.write_token(&arthur).await.expect("login"));
    }
    let other = strategy.write_token(&lancelot).await.expect("login");

    let sessions = strategy.list_sessions(&arthur.id).await.expect("list");
    assert_eq!(sessions.len(), 3);
    for session in &sessions {
        assert_eq!(
            session.expires_at,
            Some(session.created_at + Duration::hours(1))
        );
    }
    assert!(
        strategy
            .revoke_session(&arthur.id, &sessions[0].id)
            .await
            .expect("revoke one")
    );
    assert_eq!(
        strategy
            .list_sessions(&arthur.id)
            .await
            .expect("list")
            .len(),
        2
    );
    assert!(
        !strategy
            .revoke_session(&lancelot.id, &sessions[1].id)
            .await
            .expect("not lancelot's")
    );

    SessionRevoker::revoke_all(
        &strategy,
        &arthur.id,
        authward_core::RevokeReason::LogoutAll,
    )
    .await
    .expect("log out everywhere");
    for token in &tokens {
        assert_eq!(
            strategy.read_token(token, &users).await.expect("read"),
            None
        );
    }
    assert!(
        strategy
            .list_sessions(&arthur.id)
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        strategy
            .read_token(&other, &users)
            .await
            .expect("read")
            .is_some()
    );
}

#[tokio::test]
async fn tokens_expire_by_ttl_and_by_the_clock() {
    // Real TTL: Redis drops the key.
    let Some(short) = strategy(Some(Duration::seconds(1))).await else {
        return;
    };
    let users = Users::new();
    let arthur = user(&users).await;
    let token = short.write_token(&arthur).await.expect("login");
    assert!(
        short
            .read_token(&token, &users)
            .await
            .expect("read")
            .is_some()
    );
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    assert_eq!(short.read_token(&token, &users).await.expect("read"), None);

    // The strategy's clock: a token past its lifetime is refused even while its key lives.
    let clock = ManualClock::new(now());
    let store = standalone::<Uuid>(fresh_options().lifetime(Some(Duration::hours(1))))
        .await
        .expect("the server was there a moment ago");
    let strategy = RedisStrategy::new(store).with_clock(clock.clone());
    let token = strategy.write_token(&arthur).await.expect("login");
    clock.advance(Duration::hours(1));
    assert!(
        strategy
            .read_token(&token, &users)
            .await
            .expect("read")
            .is_some(),
        "boundary"
    );
    clock.advance(Duration::seconds(1));
    assert_eq!(
        strategy.read_token(&token, &users).await.expect("read"),
        None
    );
    assert!(
        strategy
            .store()
            .get_by_token(&TokenDigest::of(&token), None)
            .await
            .expect("get")
            .is_some()
    );
    assert_eq!(strategy.purge_expired().await.expect("purge"), 1);
}

#[tokio::test]
async fn without_a_lifetime_tokens_have_no_ttl() {
    let Some(strategy) = strategy(None).await else {
        return;
    };
    let url = authward_testkit::service_url(common::REDIS_URL).expect("set");
    let users = Users::new();
    let arthur = user(&users).await;
    let token = strategy.write_token(&arthur).await.expect("login");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(strategy.store().token_key(&TokenDigest::of(&token)))
        .query_async(&mut common::raw(&url).await)
        .await
        .expect("PTTL");
    assert_eq!(ttl, -1);
    assert_eq!(
        strategy
            .log_out_everywhere(&arthur.id)
            .await
            .expect("cleanup"),
        1
    );
}

#[tokio::test]
async fn works_on_the_cluster_and_as_a_trait_object() {
    let options = fresh_options()
        .buckets(16)
        .lifetime(Some(Duration::minutes(5)));
    let Some(store) = cluster::<Uuid>(options).await else {
        return;
    };
    let strategy: Box<dyn Strategy<User<Uuid>>> = Box::new(RedisStrategy::new(store.clone()));
    let users = Users::new();
    let arthur = user(&users).await;
    let mut tokens = Vec::new();
    for _ in 0..10 {
        tokens.push(strategy.write_token(&arthur).await.expect("login"));
    }
    for token in &tokens {
        assert!(
            strategy
                .read_token(token, &users)
                .await
                .expect("read")
                .is_some()
        );
    }
    strategy
        .destroy_token(&tokens[0], &arthur)
        .await
        .expect("logout");
    assert_eq!(
        store
            .delete_all_for_user(&arthur.id)
            .await
            .expect("everywhere"),
        9
    );
    for token in &tokens {
        assert_eq!(
            strategy.read_token(token, &users).await.expect("read"),
            None
        );
    }
}

#[tokio::test]
async fn outage_is_unavailable() {
    if authward_testkit::service_url(common::REDIS_URL).is_none() {
        return;
    }
    let Some(mut server) = PrivateServer::start() else {
        return;
    };
    let store = RedisAccessTokenDatabase::<Uuid>::connect(&server.url(), RedisTokenOptions::new())
        .await
        .expect("connect");
    let strategy = RedisStrategy::new(store);
    let users = Users::new();
    let arthur = user(&users).await;
    let token = strategy.write_token(&arthur).await.expect("login");
    server.stop();
    let err = strategy
        .read_token(&token, &users)
        .await
        .expect_err("the server is down");
    assert!(err.is_unavailable(), "{err:?}");
    assert!(matches!(err, StrategyError::Db(_)));
}
