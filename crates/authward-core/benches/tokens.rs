//! Token strategy throughput.
//!
//! `cargo bench -p authward-core --bench tokens --features memory`
//!
//! - `jwt/{HS256,ES256}/write`: issue an access token (claims, `jti` from the OS CSPRNG,
//!   password fingerprint, signature).
//! - `jwt/{HS256,ES256}/read`: read + validate a token (size, header, key by `kid`, signature,
//!   typed claims, time checks) and load the user from the in-memory user store, fingerprint
//!   included: everything a request pays.
//! - `asymmetric/{RS256,ES256,EdDSA}/{read,raw-verify}`: `read` is the strategy's whole read
//!   (as above); `raw-verify` is the verification alone, by the RustCrypto crate underneath,
//!   of the same token's signature over its signing input with a key parsed beforehand: the
//!   floor no JWT library can go below.
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

/// Splits a compact JWT into its signing input and its decoded signature.
fn signed_parts(token: &str) -> (Vec<u8>, Vec<u8>) {
    use base64::Engine as _;
    let (input, signature) = token.rsplit_once('.').expect("three parts");
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .expect("base64url signature");
    (input.as_bytes().to_vec(), signature)
}

fn asymmetric(c: &mut Criterion) {
    use signature::Verifier as _;
    let (users, user) = setup();
    let pem = |name: &str| String::from_utf8(fixture(name)).expect("PEM is text");
    type Raw = Box<dyn Fn(&[u8], &[u8]) -> bool>;
    let rsa_key = {
        use rsa::pkcs8::DecodePublicKey as _;
        rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(
            rsa::RsaPublicKey::from_public_key_pem(&pem("rsa_public.pem")).expect("RSA key"),
        )
    };
    let es_key = {
        use p256::pkcs8::DecodePublicKey as _;
        p256::ecdsa::VerifyingKey::from_public_key_pem(&pem("ec256_public.pem")).expect("P-256 key")
    };
    let ed_key = {
        use ed25519_dalek::pkcs8::DecodePublicKey as _;
        ed25519_dalek::VerifyingKey::from_public_key_pem(&pem("ed25519_public.pem"))
            .expect("Ed25519 key")
    };
    let cases: [(&str, JwtAlgorithm, &str, &str, Raw); 3] = [
        (
            "RS256",
            JwtAlgorithm::RS256,
            "rsa_private.pem",
            "rsa_public.pem",
            Box::new(move |m, s| {
                rsa::pkcs1v15::Signature::try_from(s).is_ok_and(|s| rsa_key.verify(m, &s).is_ok())
            }),
        ),
        (
            "ES256",
            JwtAlgorithm::ES256,
            "ec256_private.pem",
            "ec256_public.pem",
            Box::new(move |m, s| {
                p256::ecdsa::Signature::from_slice(s).is_ok_and(|s| es_key.verify(m, &s).is_ok())
            }),
        ),
        (
            "EdDSA",
            JwtAlgorithm::EdDSA,
            "ed25519_private.pem",
            "ed25519_public.pem",
            Box::new(move |m, s| {
                ed25519_dalek::Signature::from_slice(s).is_ok_and(|s| ed_key.verify(m, &s).is_ok())
            }),
        ),
    ];
    let mut group = c.benchmark_group("asymmetric");
    for (name, algorithm, private, public, raw) in cases {
        let key = JwtKey::from_pem_pair(algorithm, fixture(private), fixture(public))
            .expect("key")
            .with_kid("bench");
        let strategy = JwtStrategy::<Id>::builder(key, Duration::hours(1))
            .fingerprint_secret(SECRET)
            .build()
            .expect("strategy");
        let token = run(strategy.write_token(&user)).expect("token");
        assert!(
            run(strategy.read_token(&token, &users))
                .expect("read")
                .is_some()
        );
        let (input, signature) = signed_parts(&token);
        assert!(
            raw(&input, &signature),
            "{name}: the raw verify accepts the token"
        );
        group.bench_function(format!("{name}/read"), |b| {
            b.iter(|| run(strategy.read_token(black_box(&token), &users)))
        });
        group.bench_function(format!("{name}/raw-verify"), |b| {
            b.iter(|| raw(black_box(&input), black_box(&signature)))
        });
    }
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
    targets = jwt, asymmetric, on_cpu, database, refresh
}
criterion_main!(benches);
