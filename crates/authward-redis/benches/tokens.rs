//! Token read and write against the real Redis (`AUTHWARD_TEST_REDIS_URL`), next to a bare
//! `GET` / `SET` of the same key through the same connection.
//!
//! ```sh
//! eval "$(bash scripts/services.sh)"
//! cargo bench -p authward-redis --bench tokens
//! ```
//!
//! The `any_for_user` group puts the store's override (one `MGET`) next to the trait's default
//! (one `GET` per digest, through a wrapper that does not override it), for the two digests
//! the JWT revocation check asks on every request, neither of them stored (the usual case).
//!
//! After the criterion groups it prints a paired comparison: rounds of 500 authward operations
//! and 500 bare commands, alternated, and the median of the per-round ratios. On a busy machine
//! that figure is steadier than comparing two criterion runs taken a minute apart.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use authward_core::{AccessToken, AccessTokenDatabase, DbError, NewAccessToken, TokenDigest};
use authward_redis::redis::aio::ConnectionManager;
use authward_redis::{RedisAccessTokenDatabase, RedisTokenOptions};
use criterion::{Criterion, criterion_group, criterion_main};
use time::OffsetDateTime;

type Store = RedisAccessTokenDatabase<i64, ConnectionManager>;

/// The store with the trait's default `any_for_user` (one `get_by_token` per digest).
struct DefaultPath<'a>(&'a Store);

#[async_trait]
impl AccessTokenDatabase<i64> for DefaultPath<'_> {
    async fn get_by_token(
        &self,
        digest: &TokenDigest,
        max_age: Option<OffsetDateTime>,
    ) -> Result<Option<AccessToken<i64>>, DbError> {
        self.0.get_by_token(digest, max_age).await
    }
    async fn create(&self, token: NewAccessToken<i64>) -> Result<AccessToken<i64>, DbError> {
        self.0.create(token).await
    }
    async fn delete(&self, digest: &TokenDigest) -> Result<bool, DbError> {
        self.0.delete(digest).await
    }
    async fn delete_all_for_user(&self, user_id: &i64) -> Result<u64, DbError> {
        self.0.delete_all_for_user(user_id).await
    }
    async fn list_for_user(&self, user_id: &i64) -> Result<Vec<AccessToken<i64>>, DbError> {
        self.0.list_for_user(user_id).await
    }
    async fn delete_expired(&self, created_before: OffsetDateTime) -> Result<u64, DbError> {
        self.0.delete_expired(created_before).await
    }
}

fn bench(c: &mut Criterion) {
    let Ok(url) = std::env::var("AUTHWARD_TEST_REDIS_URL") else {
        eprintln!(
            "skipped: AUTHWARD_TEST_REDIS_URL is not set (eval \"$(bash scripts/services.sh)\")"
        );
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let options = RedisTokenOptions::new()
        .key_prefix(format!("authward-bench:{}:", uuid::Uuid::new_v4().simple()))
        .lifetime(Some(time::Duration::seconds(120)));
    let store: Store = rt
        .block_on(RedisAccessTokenDatabase::connect(&url, options))
        .expect("connect to Redis");
    let now = time::OffsetDateTime::now_utc();

    // Read: one stored token, looked up again and again.
    let digest = TokenDigest::of("bench-read-token");
    rt.block_on(store.create(NewAccessToken {
        digest,
        ..NewAccessToken::new("", 42, now)
    }))
    .expect("store the read token");
    let key = store.token_key(&digest);
    let mut group = c.benchmark_group("read");
    group.bench_function("authward get_by_token", |b| {
        b.to_async(&rt).iter(|| async {
            let found = store.get_by_token(&digest, None).await.expect("get");
            assert!(found.is_some());
        });
    });
    group.bench_function("bare GET", |b| {
        b.to_async(&rt).iter(|| async {
            let mut conn = store.connection().clone();
            let found: Option<Vec<u8>> = authward_redis::redis::cmd("GET")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .expect("GET");
            assert!(found.is_some());
        });
    });
    group.finish();

    // The revocation check: two digests, neither stored (42 owns the read token, not these).
    let asked = [
        TokenDigest::of("bench-any-generation"),
        TokenDigest::of("bench-any-jti"),
    ];
    let default_path = DefaultPath(&store);
    let mut group = c.benchmark_group("any_for_user");
    group.bench_function("default (GET per digest)", |b| {
        b.to_async(&rt).iter(|| async {
            let found = default_path.any_for_user(&42, &asked).await.expect("any");
            assert!(!found);
        });
    });
    group.bench_function("override (one MGET)", |b| {
        b.to_async(&rt).iter(|| async {
            let found = store.any_for_user(&42, &asked).await.expect("any");
            assert!(!found);
        });
    });
    group.finish();

    // Write: a new token each time (hashing it is part of both sides).
    let counter = AtomicU64::new(0);
    let next_digest = || {
        TokenDigest::of(&format!(
            "bench-write-{}",
            counter.fetch_add(1, Ordering::Relaxed)
        ))
    };
    let value = "1|1700000000000000|-|-|42";
    let mut group = c.benchmark_group("write");
    group.bench_function("authward create", |b| {
        b.to_async(&rt).iter(|| async {
            let record = NewAccessToken {
                digest: next_digest(),
                ..NewAccessToken::new("", 42, now)
            };
            store.create(record).await.expect("create");
        });
    });
    group.bench_function("bare SET", |b| {
        b.to_async(&rt).iter(|| async {
            let mut conn = store.connection().clone();
            let () = authward_redis::redis::cmd("SET")
                .arg(store.token_key(&next_digest()))
                .arg(value)
                .arg("NX")
                .arg("PX")
                .arg(120_000)
                .query_async(&mut conn)
                .await
                .expect("SET");
        });
    });
    group.finish();

    let bare_get = || async {
        let mut conn = store.connection().clone();
        let found: Option<Vec<u8>> = authward_redis::redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("GET");
        assert!(found.is_some());
    };
    let authward_get = || async {
        let found = store.get_by_token(&digest, None).await.expect("get");
        assert!(found.is_some());
    };
    let bare_set = || async {
        let mut conn = store.connection().clone();
        let () = authward_redis::redis::cmd("SET")
            .arg(store.token_key(&next_digest()))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(120_000)
            .query_async(&mut conn)
            .await
            .expect("SET");
    };
    let authward_create = || async {
        let record = NewAccessToken {
            digest: next_digest(),
            ..NewAccessToken::new("", 42, now)
        };
        store.create(record).await.expect("create");
    };
    rt.block_on(async {
        paired("read: get_by_token vs GET", authward_get, bare_get).await;
        paired("write: create vs SET", authward_create, bare_set).await;
    });
}

/// Alternates rounds of `ours` and `bare` and prints the median per-operation times and the
/// median of the per-round ratios.
async fn paired<A, AF, B, BF>(name: &str, ours: A, bare: B)
where
    A: Fn() -> AF,
    AF: Future<Output = ()>,
    B: Fn() -> BF,
    BF: Future<Output = ()>,
{
    const ROUNDS: usize = 21;
    const OPS: u32 = 500;
    let (mut ours_t, mut bare_t, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..OPS {
            ours().await;
        }
        let a = start.elapsed() / OPS;
        let start = Instant::now();
        for _ in 0..OPS {
            bare().await;
        }
        let b = start.elapsed() / OPS;
        ratios.push(a.as_secs_f64() / b.as_secs_f64());
        ours_t.push(a);
        bare_t.push(b);
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    ratios.sort_by(f64::total_cmp);
    println!(
        "paired {name}: authward {:?}, bare {:?}, ratio {:.2} (median of {ROUNDS} rounds)",
        median(&mut ours_t),
        median(&mut bare_t),
        ratios[ROUNDS / 2]
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
