//! Token read and write against the real Redis (`AUTHWARD_TEST_REDIS_URL`), next to a bare
//! `GET` / `SET` of the same key through the same connection.
//!
//! ```sh
//! eval "$(bash scripts/services.sh)"
//! cargo bench -p authward-redis --bench tokens
//! ```

use std::sync::atomic::{AtomicU64, Ordering};

use authward_core::{AccessTokenDatabase, NewAccessToken, TokenDigest};
use authward_redis::redis::aio::ConnectionManager;
use authward_redis::{RedisAccessTokenDatabase, RedisTokenOptions};
use criterion::{Criterion, criterion_group, criterion_main};

type Store = RedisAccessTokenDatabase<i64, ConnectionManager>;

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
}

criterion_group!(benches, bench);
criterion_main!(benches);
