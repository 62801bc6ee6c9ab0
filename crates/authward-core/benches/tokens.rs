//! Token strategy throughput.
//!
//! `cargo bench -p authward-core --bench tokens --features memory`
//!
//! - `jwt/{HS256,ES256}/write`: issue an access token (claims, `jti` from the OS CSPRNG,
//!   password fingerprint, signature).
//! - `jwt/{HS256,ES256}/read`: read + validate a token (size, header, key by `kid`, signature,
//!   typed claims, time checks) and load the user from the in-memory user store, fingerprint
//!   included: everything a request pays.
//! - `database/read`: read a database token over the in-memory token and user stores.
//! - `refresh/rotate`: exchange a refresh token (read, atomic delete, tombstone, next token).
//!
//! The memory stores never wait, so each future is polled to completion on the bench thread
//! without an executor in the measurement.
//!
//! On a busy machine (other builds sharing the cores) wall-clock figures include time spent
//! waiting for a core; the `on-cpu/*` entries (Unix only) repeat the HS256 measurements with
//! the thread's own CPU time (`CLOCK_THREAD_CPUTIME_ID`) to show the cost of the code itself.

use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration as StdDuration, Instant};

use authward_core::memory::{MemoryAccessTokenDatabase, MemoryUserDatabase};
use authward_core::strategy::{
    DatabaseStrategy, JwtAlgorithm, JwtKey, JwtStrategy, RefreshTokens, Strategy,
};
use authward_core::{NewUser, User, UserDatabase};
use criterion::{Criterion, criterion_group, criterion_main};
use time::Duration;

type Id = uuid::Uuid;

/// Runs a future that never waits (in-memory stores) to completion.
fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-bench-secret";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/jwt/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture key")
}

fn setup() -> (MemoryUserDatabase<Id>, User<Id>) {
    let users = MemoryUserDatabase::<Id>::new();
    let user = run(users.create(NewUser::new(
        "bench@example.com",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    )))
    .expect("user");
    (users, user)
}

fn jwt(c: &mut Criterion) {
    let (users, user) = setup();
    let keys = [
        ("HS256", JwtKey::hs256(SECRET).expect("key")),
        (
            "ES256",
            JwtKey::from_pem_pair(
                JwtAlgorithm::ES256,
                fixture("ec256_private.pem"),
                fixture("ec256_public.pem"),
            )
            .expect("key"),
        ),
    ];
    let mut group = c.benchmark_group("jwt");
    for (name, key) in keys {
        let strategy = JwtStrategy::<Id>::builder(key.with_kid("bench"), Duration::hours(1))
            .fingerprint_secret(SECRET)
            .build()
            .expect("strategy");
        let token = run(strategy.write_token(&user)).expect("token");
        assert!(
            run(strategy.read_token(&token, &users))
                .expect("read")
                .is_some()
        );
        group.bench_function(format!("{name}/write"), |b| {
            b.iter(|| run(strategy.write_token(black_box(&user))))
        });
        group.bench_function(format!("{name}/read"), |b| {
            b.iter(|| run(strategy.read_token(black_box(&token), &users)))
        });
    }
    group.finish();
}

/// The CPU time this thread has used.
#[cfg(unix)]
fn thread_cpu_time() -> StdDuration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    StdDuration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

#[cfg(not(unix))]
fn on_cpu(_: &mut Criterion) {}

#[cfg(unix)]
fn on_cpu(c: &mut Criterion) {
    let (users, user) = setup();
    let strategy = JwtStrategy::<Id>::builder(
        JwtKey::hs256(SECRET).expect("key").with_kid("bench"),
        Duration::hours(1),
    )
    .build()
    .expect("strategy");
    let token = run(strategy.write_token(&user)).expect("token");
    let mut group = c.benchmark_group("on-cpu");
    group.bench_function("jwt/HS256/write", |b| {
        b.iter_custom(|iters| {
            let start = thread_cpu_time();
            for _ in 0..iters {
                black_box(run(strategy.write_token(black_box(&user))).ok());
            }
            thread_cpu_time().saturating_sub(start)
        })
    });
    group.bench_function("jwt/HS256/read", |b| {
        b.iter_custom(|iters| {
            let start = thread_cpu_time();
            for _ in 0..iters {
                black_box(run(strategy.read_token(black_box(&token), &users)).ok());
            }
            thread_cpu_time().saturating_sub(start)
        })
    });
    group.finish();
}

fn database(c: &mut Criterion) {
    let (users, user) = setup();
    let strategy = DatabaseStrategy::new(
        MemoryAccessTokenDatabase::<Id>::new(),
        Some(Duration::hours(1)),
    );
    // A store holding other users' sessions too.
    for _ in 0..10_000 {
        run(strategy.issue(&uuid::Uuid::new_v4())).expect("token");
    }
    let token = run(strategy.write_token(&user)).expect("token");
    c.bench_function("database/read", |b| {
        b.iter(|| run(strategy.read_token(black_box(&token), &users)))
    });
}

fn refresh(c: &mut Criterion) {
    let (users, user) = setup();
    c.bench_function("refresh/rotate", |b| {
        b.iter_custom(|iters| {
            let tokens =
                RefreshTokens::new(MemoryAccessTokenDatabase::<Id>::new(), Duration::days(7));
            let mut current = run(tokens.issue(&user.id)).expect("token");
            let start = Instant::now();
            for _ in 0..iters {
                let (_, next) = run(tokens.exchange(&current, &users)).expect("rotation");
                current = next;
            }
            start.elapsed()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(StdDuration::from_secs(4));
    targets = jwt, on_cpu, database, refresh
}
criterion_main!(benches);
