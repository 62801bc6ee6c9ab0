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
async fn a_zero_ttl_disables_the_cache() {
    let inner = MemoryUserDatabase::<i64>::new();
    let cached = CachedUserDatabase::new(inner.clone()).with_ttl(Duration::ZERO);
    let user = inner.create(NewUser::new("a@b.co", "h")).await.unwrap();
    cached.get(&user.id).await.unwrap();
    inner.delete(&user.id).await.unwrap();
    assert_eq!(cached.get(&user.id).await.unwrap(), None);
}
