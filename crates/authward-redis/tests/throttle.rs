//! The Redis throttle store: GCRA budgets and failed-login delays shared by every server, on a
//! standalone server and on the cluster.

mod common;

use std::time::Duration;

use authward_core::throttle::{Limit, Lockout, ThrottleStore};
use authward_redis::RedisThrottle;
use authward_redis::redis::aio::ConnectionLike;

fn prefix() -> String {
    format!("authward-test-throttle:{}:", uuid::Uuid::new_v4().simple())
}

/// Two stores (two application servers) over one Redis spend one budget.
async fn servers_share_one_budget<C>(a: RedisThrottle<C>, b: RedisThrottle<C>)
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    let limit = Limit::new(4, Duration::from_secs(60));
    for (i, store) in [&a, &b, &a, &b].into_iter().enumerate() {
        assert!(
            store
                .check("login:c:192.0.2.1", limit, 1)
                .await
                .expect("check")
                .allowed,
            "{i}"
        );
    }
    let refused = b.check("login:c:192.0.2.1", limit, 1).await.expect("check");
    assert!(!refused.allowed);
    assert!(
        refused.retry_after > Duration::from_secs(10)
            && refused.retry_after <= Duration::from_secs(15)
    );
    assert!(
        a.check("login:c:192.0.2.2", limit, 1)
            .await
            .expect("check")
            .allowed,
        "other key"
    );
    assert!(
        !a.check("login:c:192.0.2.1", limit, 0)
            .await
            .expect("peek")
            .allowed
    );
    a.reset("login:c:192.0.2.1").await.expect("reset");
    assert!(
        b.check("login:c:192.0.2.1", limit, 1)
            .await
            .expect("check")
            .allowed
    );

    let lockout = Lockout {
        free_failures: 2,
        base_delay: Duration::from_secs(30),
        max_delay: Duration::from_secs(60),
        forget_after: Duration::from_secs(600),
    };
    let key = "login:f:elaine@camelot.bt";
    assert_eq!(a.record_failure(key, lockout).await.expect("failure"), 1);
    assert_eq!(b.record_failure(key, lockout).await.expect("failure"), 2);
    assert!(
        a.blocked(key).await.expect("blocked").allowed,
        "two free failures"
    );
    assert_eq!(b.record_failure(key, lockout).await.expect("failure"), 3);
    let blocked = a.blocked(key).await.expect("blocked");
    assert!(!blocked.allowed && blocked.retry_after > Duration::from_secs(25));
    assert_eq!(a.record_failure(key, lockout).await.expect("failure"), 4);
    assert!(b.blocked(key).await.expect("blocked").retry_after > Duration::from_secs(55));
    b.reset(key).await.expect("reset");
    assert!(
        a.blocked(key).await.expect("blocked").allowed,
        "a success resets"
    );
    assert_eq!(a.record_failure(key, lockout).await.expect("failure"), 1);
}

#[tokio::test]
async fn standalone_servers_share_one_budget() {
    let Some(url) = authward_testkit::service_url(common::REDIS_URL) else {
        return;
    };
    let prefix = prefix();
    let connect = || async {
        let client = authward_redis::redis::Client::open(url.as_str()).expect("url");
        let conn = authward_redis::redis::aio::ConnectionManager::new(client)
            .await
            .expect("connect");
        RedisThrottle::new(conn).with_prefix(prefix.clone())
    };
    servers_share_one_budget(connect().await, connect().await).await;
}

#[tokio::test]
async fn cluster_servers_share_one_budget() {
    let Some(urls) = authward_testkit::service_url(common::CLUSTER_URLS) else {
        return;
    };
    let prefix = prefix();
    let connect = || async {
        let client =
            authward_redis::redis::cluster::ClusterClient::new(urls.split(',').collect::<Vec<_>>())
                .expect("cluster urls");
        let conn = client.get_async_connection().await.expect("connect");
        RedisThrottle::new(conn).with_prefix(prefix.clone())
    };
    servers_share_one_budget(connect().await, connect().await).await;
}

#[test]
fn keys_are_one_hash_tag() {
    let store = RedisThrottle::new(()).with_prefix("p:");
    assert_eq!(store.redis_key("login:c:1.2.3.4"), "p:{login:c:1.2.3.4}");
    assert_eq!(store.redis_key("a}b{c"), "p:{a%7Db%7Bc}");
}

/// Two throttle keys never share a Redis key: an account `john{smith@x.io` (braces are valid
/// in an email's local part) cannot spend or reset the budget of `john_smith@x.io`.
#[test]
fn distinct_throttle_keys_get_distinct_redis_keys() {
    let store = RedisThrottle::new(());
    let keys = [
        "login:f:john{smith@x.io",
        "login:f:john_smith@x.io",
        "login:f:john}smith@x.io",
        "login:f:john%7Bsmith@x.io",
        "login:f:john%smith@x.io",
        "login:f:john%25smith@x.io",
    ];
    let redis_keys: std::collections::HashSet<String> =
        keys.iter().map(|k| store.redis_key(k)).collect();
    assert_eq!(redis_keys.len(), keys.len(), "{redis_keys:?}");
    for key in &redis_keys {
        let tag = key
            .split_once('{')
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        assert!(
            tag.ends_with('}') && !tag[..tag.len() - 1].contains(['{', '}']),
            "one hash tag: {key}"
        );
    }
}
