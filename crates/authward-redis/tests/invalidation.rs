//! Cross-process user-cache invalidation over pub/sub: two caches over one store stand for
//! two servers; a write through one reaches the other's cache, on one server and on a
//! cluster; a listener that may be missing messages suspends its cache.

mod common;

use std::time::{Duration, Instant};

use authward_core::cache::{CacheHandle, CachedUserDatabase};
use authward_core::memory::MemoryUserDatabase;
use authward_core::{DbError, NewUser, UserDatabase, UserPatch};
use authward_redis::invalidation::{RedisInvalidation, RedisInvalidationPublisher};
use authward_redis::redis;

use common::{CLUSTER_URLS, PrivateServer, REDIS_URL};

type Cache = CachedUserDatabase<MemoryUserDatabase<i64>>;

/// A channel no other test uses, pinging often so that outages are noticed quickly.
fn fresh_bus() -> RedisInvalidation {
    RedisInvalidation::new()
        .channel(format!("authward-test:{}", uuid::Uuid::new_v4().simple()))
        .ping_every(Duration::from_millis(50))
}

/// A cache that keeps users for an hour: only invalidations make it read the store again.
fn cache(store: &MemoryUserDatabase<i64>) -> Cache {
    CachedUserDatabase::new(store.clone()).with_ttl(time::Duration::hours(1))
}

fn active(value: bool) -> UserPatch {
    UserPatch {
        is_active: Some(value),
        ..UserPatch::default()
    }
}

async fn is_active(cache: &Cache, id: i64) -> bool {
    cache
        .get(&id)
        .await
        .expect("get")
        .expect("the user exists")
        .is_active
}

/// Waits until `check` holds, for at most five seconds (a bound for a broken build, not a
/// speed target: docs/src/benchmarks.md has the measured delays).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{what}: never happened"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Server B caches a user; a write made directly in the store is not seen by B (it caches);
/// the same kind of write made through server A's cache reaches B.
async fn a_write_on_one_server_reaches_the_other(
    here: Cache,
    there: Cache,
    store: MemoryUserDatabase<i64>,
) {
    let user = store
        .create(NewUser::new("a@b.co", "h"))
        .await
        .expect("create");
    assert!(is_active(&there, user.id).await);
    store.update(&user.id, active(false)).await.expect("update");
    assert!(
        is_active(&there, user.id).await,
        "an unannounced write is not seen: the cache is caching"
    );
    store.update(&user.id, active(true)).await.expect("update");
    here.update(&user.id, active(false)).await.expect("update");
    eventually("the deactivation reaches the other cache", || async {
        !is_active(&there, user.id).await
    })
    .await;
    here.delete(&user.id).await.expect("delete");
    eventually("the deletion reaches the other cache", || async {
        there.get(&user.id).await.expect("get").is_none()
    })
    .await;
}

#[tokio::test]
async fn invalidations_cross_servers_on_one_redis() {
    let Some(url) = authward_testkit::service_url(REDIS_URL) else {
        return;
    };
    let bus = fresh_bus();
    let store = MemoryUserDatabase::<i64>::new();
    let publisher = RedisInvalidationPublisher::connect(&url, &bus)
        .await
        .expect("connect");
    let here = cache(&store).with_publisher(publisher);
    let there = cache(&store);
    let _listener = bus.listen([&url], there.handle()).await.expect("listen");
    a_write_on_one_server_reaches_the_other(here, there, store).await;
}

#[tokio::test]
async fn invalidations_cross_servers_on_a_cluster_whatever_node_each_uses() {
    let Some(urls) = authward_testkit::service_url(CLUSTER_URLS) else {
        return;
    };
    let nodes: Vec<&str> = urls.split(',').collect();
    let bus = fresh_bus();
    let store = MemoryUserDatabase::<i64>::new();
    let conn = redis::cluster::ClusterClient::new(nodes.clone())
        .expect("cluster client")
        .get_async_connection()
        .await
        .expect("connect to the cluster");
    let here = cache(&store).with_publisher(RedisInvalidationPublisher::new(conn, &bus));
    let there = cache(&store);
    // Subscribed on the last node only: the message crosses the cluster bus.
    let last = nodes.last().expect("a node");
    let _listener = bus.listen([*last], there.handle()).await.expect("listen");
    a_write_on_one_server_reaches_the_other(here, there, store).await;
}

#[tokio::test]
async fn publish_all_empties_every_listening_cache() {
    let Some(url) = authward_testkit::service_url(REDIS_URL) else {
        return;
    };
    let bus = fresh_bus();
    let store = MemoryUserDatabase::<i64>::new();
    let there = cache(&store);
    let _listener = bus.listen([&url], there.handle()).await.expect("listen");
    let user = store
        .create(NewUser::new("a@b.co", "h"))
        .await
        .expect("create");
    assert!(is_active(&there, user.id).await);
    store.update(&user.id, active(false)).await.expect("update");
    let publisher = RedisInvalidationPublisher::connect(&url, &bus)
        .await
        .expect("connect");
    publisher.publish_all().await.expect("publish");
    eventually("the bulk change is seen", || async {
        !is_active(&there, user.id).await
    })
    .await;
}

#[tokio::test]
async fn a_listener_starts_only_when_a_node_answers_and_skips_dead_nodes() {
    let Some(url) = authward_testkit::service_url(REDIS_URL) else {
        return;
    };
    let dead = format!("redis://127.0.0.1:{}/", common_dead_port());
    let there = cache(&MemoryUserDatabase::new());
    match fresh_bus().listen([&dead], there.handle()).await {
        Err(DbError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
    match fresh_bus()
        .listen(Vec::<String>::new(), there.handle())
        .await
    {
        Err(DbError::Backend(_)) => {}
        other => panic!("expected Backend, got {other:?}"),
    }
    let listener = fresh_bus()
        .listen([dead.as_str(), url.as_str()], there.handle())
        .await
        .expect("the second node answers");
    assert!(!there.handle().is_suspended());
    drop(listener);
    assert!(
        there.handle().is_suspended(),
        "nothing keeps the cache current once the listener is gone"
    );
}

/// A loopback port nothing listens on.
fn common_dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// While the listener cannot hear the others, every read goes to the store; once it is
/// subscribed again, caching and invalidation resume.
async fn outage_suspends_then_recovers(server: &mut PrivateServer, freeze: bool) {
    let bus = fresh_bus();
    let store = MemoryUserDatabase::<i64>::new();
    let there = cache(&store);
    let handle: CacheHandle<i64> = there.handle();
    let _listener = bus
        .listen([server.url()], handle.clone())
        .await
        .expect("listen");
    let user = store
        .create(NewUser::new("a@b.co", "h"))
        .await
        .expect("create");
    assert!(is_active(&there, user.id).await);
    if freeze {
        server.freeze();
    } else {
        server.stop();
    }
    eventually("the listener notices the outage", || async {
        handle.is_suspended()
    })
    .await;
    // Suspended: a write nobody could announce is seen at once.
    store.update(&user.id, active(false)).await.expect("update");
    assert!(!is_active(&there, user.id).await);
    if freeze {
        server.thaw();
    } else {
        server.restart();
    }
    eventually("the listener subscribes again", || async {
        !handle.is_suspended()
    })
    .await;
    assert!(!is_active(&there, user.id).await);
    store.update(&user.id, active(true)).await.expect("update");
    assert!(
        !is_active(&there, user.id).await,
        "caching again once subscribed"
    );
    let publisher = RedisInvalidationPublisher::connect(&server.url(), &bus)
        .await
        .expect("connect");
    let here = cache(&store).with_publisher(publisher);
    here.update(&user.id, active(false)).await.expect("update");
    store.update(&user.id, active(true)).await.expect("update");
    eventually("announcements arrive again", || async {
        is_active(&there, user.id).await
    })
    .await;
}

#[tokio::test]
async fn a_stopped_server_suspends_the_cache_until_it_is_back() {
    let Some(mut server) = PrivateServer::start() else {
        return;
    };
    outage_suspends_then_recovers(&mut server, false).await;
}

#[tokio::test]
async fn a_silent_server_suspends_the_cache_until_it_answers_again() {
    let Some(mut server) = PrivateServer::start() else {
        return;
    };
    outage_suspends_then_recovers(&mut server, true).await;
}
