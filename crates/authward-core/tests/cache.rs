//! The user cache: conformance (it is a store like any other), expiry, and eviction on writes.
#![allow(clippy::unwrap_used)]
#![cfg(feature = "memory")]

use authward_core::cache::CachedUserDatabase;
use authward_core::memory::MemoryUserDatabase;
use authward_core::{ManualClock, NewUser, UserDatabase, UserPatch};
use time::{Duration, macros::datetime};

#[tokio::test]
async fn writes_through_the_cache_are_seen_at_once() {
    let inner = MemoryUserDatabase::<i64>::new();
    let cached = CachedUserDatabase::new(inner.clone()).with_ttl(Duration::hours(1));
    let user = cached.create(NewUser::new("a@b.co", "h")).await.unwrap();
    assert!(cached.get(&user.id).await.unwrap().unwrap().is_active);
    let patch = UserPatch {
        is_active: Some(false),
        ..UserPatch::default()
    };
    cached.update(&user.id, patch).await.unwrap();
    assert!(!cached.get(&user.id).await.unwrap().unwrap().is_active);
    cached.delete(&user.id).await.unwrap();
    assert_eq!(cached.get(&user.id).await.unwrap(), None);
}

#[tokio::test]
async fn writes_elsewhere_are_seen_after_the_ttl() {
    let clock = ManualClock::new(datetime!(2030-01-01 0:00 UTC));
    let inner = MemoryUserDatabase::<i64>::new();
    let cached = CachedUserDatabase::new(inner.clone())
        .with_ttl(Duration::seconds(1))
        .with_clock(clock.clone());
    let user = inner.create(NewUser::new("a@b.co", "h")).await.unwrap();
    assert!(cached.get(&user.id).await.unwrap().unwrap().is_active);
    let patch = UserPatch {
        is_active: Some(false),
        ..UserPatch::default()
    };
    inner.update(&user.id, patch).await.unwrap();
    assert!(
        cached.get(&user.id).await.unwrap().unwrap().is_active,
        "within the ttl the cached copy is served"
    );
    clock.advance(Duration::seconds(1));
    assert!(
        !cached.get(&user.id).await.unwrap().unwrap().is_active,
        "at the ttl the store is read again"
    );
}

#[tokio::test]
async fn a_ttl_past_the_calendar_serves_until_a_write_evicts() {
    let clock = ManualClock::new(datetime!(2030-01-01 0:00 UTC));
    let inner = MemoryUserDatabase::<i64>::new();
    let cached = CachedUserDatabase::new(inner.clone())
        .with_ttl(Duration::MAX)
        .with_clock(clock.clone());
    let user = inner.create(NewUser::new("a@b.co", "h")).await.unwrap();
    assert!(cached.get(&user.id).await.unwrap().unwrap().is_active);
    inner
        .update(
            &user.id,
            UserPatch {
                is_active: Some(false),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    clock.advance(Duration::days(365 * 1000));
    assert!(
        cached.get(&user.id).await.unwrap().unwrap().is_active,
        "the cached copy is served for as long as the calendar goes"
    );
    cached.update(&user.id, UserPatch::default()).await.unwrap();
    assert!(!cached.get(&user.id).await.unwrap().unwrap().is_active);
}

#[tokio::test]
async fn a_zero_ttl_disables_the_cache() {
    let inner = MemoryUserDatabase::<i64>::new();
    let cached = CachedUserDatabase::new(inner.clone()).with_ttl(Duration::ZERO);
    let user = inner.create(NewUser::new("a@b.co", "h")).await.unwrap();
    cached.get(&user.id).await.unwrap();
    inner.delete(&user.id).await.unwrap();
    assert_eq!(cached.get(&user.id).await.unwrap(), None);
}

/// A store whose next `get` pauses after reading, until released: a load that read the old
/// value and finishes after a concurrent update.
#[derive(Clone)]
struct Gate {
    inner: MemoryUserDatabase<i64>,
    armed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    reached: std::sync::Arc<tokio::sync::Notify>,
    release: std::sync::Arc<tokio::sync::Notify>,
}

#[async_trait::async_trait]
impl UserDatabase for Gate {
    type User = authward_core::User<i64>;
    type Extra = ();
    async fn get(&self, id: &i64) -> Result<Option<Self::User>, authward_core::DbError> {
        let read = self.inner.get(id).await;
        if self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            self.reached.notify_one();
            self.release.notified().await;
        }
        read
    }
    async fn get_by_email(
        &self,
        email: &str,
    ) -> Result<Option<Self::User>, authward_core::DbError> {
        self.inner.get_by_email(email).await
    }
    async fn create(&self, user: NewUser) -> Result<Self::User, authward_core::DbError> {
        self.inner.create(user).await
    }
    async fn update(
        &self,
        id: &i64,
        patch: UserPatch,
    ) -> Result<Self::User, authward_core::DbError> {
        self.inner.update(id, patch).await
    }
    async fn delete(&self, id: &i64) -> Result<(), authward_core::DbError> {
        self.inner.delete(id).await
    }
}

/// The race of issue 15: a load reads an active user, a deactivation is stored and evicts,
/// then the load finishes. Its stale value must not be cached for the whole TTL.
#[tokio::test]
async fn a_load_racing_an_update_does_not_cache_the_stale_user() {
    for write in ["deactivate", "password", "delete", "invalidate"] {
        let gate = Gate {
            inner: MemoryUserDatabase::<i64>::new(),
            armed: Default::default(),
            reached: Default::default(),
            release: Default::default(),
        };
        let cached = CachedUserDatabase::new(gate.clone()).with_ttl(Duration::hours(1));
        let user = cached
            .create(NewUser::new("a@b.co", "old-hash"))
            .await
            .unwrap();
        gate.armed.store(true, std::sync::atomic::Ordering::SeqCst);
        let loader = {
            let cached = cached.clone();
            let id = user.id;
            tokio::spawn(async move { cached.get(&id).await })
        };
        gate.reached.notified().await;
        match write {
            "deactivate" => {
                let patch = UserPatch {
                    is_active: Some(false),
                    ..UserPatch::default()
                };
                cached.update(&user.id, patch).await.unwrap();
            }
            "password" => {
                let patch = UserPatch {
                    hashed_password: Some("new-hash".into()),
                    ..UserPatch::default()
                };
                cached.update(&user.id, patch).await.unwrap();
            }
            "delete" => cached.delete(&user.id).await.unwrap(),
            _ => {
                // A write elsewhere, announced to this process.
                let patch = UserPatch {
                    is_active: Some(false),
                    ..UserPatch::default()
                };
                gate.inner.update(&user.id, patch).await.unwrap();
                cached.invalidate(&user.id);
            }
        }
        gate.release.notify_one();
        let stale = loader.await.unwrap().unwrap().unwrap();
        assert!(
            stale.is_active,
            "{write}: the racing load read the old user"
        );
        let now = cached.get(&user.id).await.unwrap();
        match write {
            "delete" => assert_eq!(now, None, "{write}"),
            "password" => assert_eq!(now.unwrap().hashed_password, "new-hash", "{write}"),
            _ => assert!(
                !now.unwrap().is_active,
                "{write}: served stale from the cache"
            ),
        }
    }
}

/// Records what it is asked to announce; fails when told to.
#[derive(Clone, Default)]
struct Recorder {
    sent: std::sync::Arc<std::sync::Mutex<Vec<i64>>>,
    fail: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

#[async_trait::async_trait]
impl authward_core::cache::InvalidationPublisher<i64> for Recorder {
    async fn publish(&self, id: &i64) -> Result<(), authward_core::BoxError> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("the bus is down".into());
        }
        self.sent.lock().unwrap().push(*id);
        Ok(())
    }
}

#[tokio::test]
async fn every_write_through_the_cache_is_announced() {
    use authward_core::{NewOAuthAccount, OAuthAccountPatch, OAuthUserDatabase};
    let recorder = Recorder::default();
    let cached =
        CachedUserDatabase::new(MemoryUserDatabase::<i64>::new()).with_publisher(recorder.clone());
    let user = cached.create(NewUser::new("a@b.co", "h")).await.unwrap();
    assert!(
        recorder.sent.lock().unwrap().is_empty(),
        "a new user is in no cache yet"
    );
    let patch = UserPatch {
        is_active: Some(false),
        ..UserPatch::default()
    };
    cached.update(&user.id, patch).await.unwrap();
    cached
        .add_oauth_account(
            &user.id,
            NewOAuthAccount {
                oauth_name: "p".into(),
                access_token: "t".into(),
                expires_at: None,
                refresh_token: None,
                account_id: "1".into(),
                account_email: "a@b.co".into(),
            },
        )
        .await
        .unwrap();
    let patch = OAuthAccountPatch {
        access_token: "t2".into(),
        expires_at: None,
        refresh_token: None,
        account_email: "a@b.co".into(),
    };
    cached
        .update_oauth_account(&user.id, "p", "1", patch)
        .await
        .unwrap();
    cached.delete(&user.id).await.unwrap();
    assert_eq!(*recorder.sent.lock().unwrap(), vec![user.id; 4]);
    // A failed write is announced too (a timed-out write may have been applied).
    let missing = cached.update(&(user.id + 100), UserPatch::default()).await;
    assert!(missing.is_err());
    assert_eq!(recorder.sent.lock().unwrap().len(), 5);
}

#[tokio::test]
async fn a_failed_announcement_leaves_the_write_and_the_local_eviction_in_place() {
    let recorder = Recorder::default();
    recorder
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let cached = CachedUserDatabase::new(MemoryUserDatabase::<i64>::new())
        .with_ttl(Duration::hours(1))
        .with_publisher(recorder);
    let user = cached.create(NewUser::new("a@b.co", "h")).await.unwrap();
    cached.get(&user.id).await.unwrap();
    let patch = UserPatch {
        is_active: Some(false),
        ..UserPatch::default()
    };
    let updated = cached.update(&user.id, patch).await.unwrap();
    assert!(!updated.is_active);
    assert!(!cached.get(&user.id).await.unwrap().unwrap().is_active);
}

#[tokio::test]
async fn a_handle_evicts_and_empties_the_cache_it_came_from() {
    let inner = MemoryUserDatabase::<i64>::new();
    let cached = CachedUserDatabase::new(inner.clone()).with_ttl(Duration::hours(1));
    let handle = cached.handle();
    let a = inner.create(NewUser::new("a@b.co", "h")).await.unwrap();
    let b = inner.create(NewUser::new("b@b.co", "h")).await.unwrap();
    cached.get(&a.id).await.unwrap();
    cached.get(&b.id).await.unwrap();
    let off = UserPatch {
        is_active: Some(false),
        ..UserPatch::default()
    };
    inner.update(&a.id, off.clone()).await.unwrap();
    inner.update(&b.id, off).await.unwrap();
    assert!(
        cached.get(&a.id).await.unwrap().unwrap().is_active,
        "cached"
    );
    handle.invalidate(&a.id);
    assert!(!cached.get(&a.id).await.unwrap().unwrap().is_active);
    assert!(
        cached.get(&b.id).await.unwrap().unwrap().is_active,
        "only a was evicted"
    );
    handle.invalidate_all();
    assert!(!cached.get(&b.id).await.unwrap().unwrap().is_active);
}

#[tokio::test]
async fn a_suspended_cache_reads_the_store_every_time_until_resumed() {
    let inner = MemoryUserDatabase::<i64>::new();
    let cached = CachedUserDatabase::new(inner.clone()).with_ttl(Duration::hours(1));
    let handle = cached.handle();
    let user = inner.create(NewUser::new("a@b.co", "h")).await.unwrap();
    cached.get(&user.id).await.unwrap();
    handle.suspend();
    assert!(handle.is_suspended());
    for active in [false, true, false] {
        let patch = UserPatch {
            is_active: Some(active),
            ..UserPatch::default()
        };
        inner.update(&user.id, patch).await.unwrap();
        assert_eq!(
            cached.get(&user.id).await.unwrap().unwrap().is_active,
            active,
            "suspended: read from the store"
        );
    }
    handle.resume();
    assert!(!handle.is_suspended());
    assert!(!cached.get(&user.id).await.unwrap().unwrap().is_active);
    let on = UserPatch {
        is_active: Some(true),
        ..UserPatch::default()
    };
    inner.update(&user.id, on).await.unwrap();
    assert!(
        !cached.get(&user.id).await.unwrap().unwrap().is_active,
        "resumed: cached again"
    );
}

/// Writes that take a moment.
struct Slow(MemoryUserDatabase<i64>);

#[async_trait::async_trait]
impl UserDatabase for Slow {
    type User = authward_core::User<i64>;
    type Extra = ();
    async fn get(&self, id: &i64) -> Result<Option<Self::User>, authward_core::DbError> {
        self.0.get(id).await
    }
    async fn get_by_email(
        &self,
        email: &str,
    ) -> Result<Option<Self::User>, authward_core::DbError> {
        self.0.get_by_email(email).await
    }
    async fn create(&self, user: NewUser) -> Result<Self::User, authward_core::DbError> {
        self.0.create(user).await
    }
    async fn update(
        &self,
        id: &i64,
        patch: UserPatch,
    ) -> Result<Self::User, authward_core::DbError> {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        self.0.update(id, patch).await
    }
    async fn delete(&self, id: &i64) -> Result<(), authward_core::DbError> {
        self.0.delete(id).await
    }
}

/// A write whose caller is dropped still runs to its end, and is announced once it has landed
/// (locally evicted and published): an announcement made when the caller went away would let
/// a load before the write cache the old user until its copy expires.
#[tokio::test]
async fn a_write_whose_caller_is_dropped_is_still_announced() {
    let recorder = Recorder::default();
    let cached = CachedUserDatabase::new(Slow(MemoryUserDatabase::<i64>::new()))
        .with_ttl(Duration::hours(1))
        .with_publisher(recorder.clone());
    let user = cached.create(NewUser::new("a@b.co", "h")).await.unwrap();
    let patch = UserPatch {
        is_active: Some(false),
        ..UserPatch::default()
    };
    let dropped = tokio::time::timeout(
        std::time::Duration::from_millis(5),
        cached.update(&user.id, patch),
    )
    .await;
    assert!(
        dropped.is_err(),
        "the caller gave up before the write finished"
    );
    // A load while the write is under way reads, and may cache, the old user.
    assert!(cached.get(&user.id).await.unwrap().unwrap().is_active);
    for _ in 0..200 {
        if !recorder.sent.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(*recorder.sent.lock().unwrap(), vec![user.id]);
    assert!(
        !cached.get(&user.id).await.unwrap().unwrap().is_active,
        "the write landed, and the cache holds no copy from before it"
    );
}
