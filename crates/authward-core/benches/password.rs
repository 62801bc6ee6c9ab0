//! Password hashing and login throughput.
//!
//! `cargo bench -p authward-core --bench password --features memory`
//!
//! - `hash` / `verify`: one argon2id operation at the default (OWASP) parameters, and the
//!   legacy formats a FastAPI Users migration brings (pwdlib argon2 `m=65536,t=3,p=4`, bcrypt
//!   cost 12), on the calling thread.
//! - `login_64_at_once`: 64 logins started together through `UserManager::authenticate` over
//!   the in-memory store, with the default `PasswordHelper` (one hash in flight per core).
//!   Throughput is logins per second.

use std::hint::black_box;

use authward_core::manager::{UserCreate, UserManager};
use authward_core::memory::MemoryUserDatabase;
use authward_core::{Argon2Hasher, PasswordHasher, PasswordHelper};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const PWDLIB_ARGON2: &str = "$argon2id$v=19$m=65536,t=3,p=4$NZ0X5lA9LOMR9GOZ5jEmIQ$ZVdXexxFE7IElkKApfi//afmLqmESBg8uI3kQL0vd+Q";
const PWDLIB_BCRYPT: &str = "$2b$12$K9WRdCjf0BNCF9SkWHidJup6q1n12caCpjUAarDVD0bkmz1JmAfEC";

fn hashing(c: &mut Criterion) {
    let hasher = Argon2Hasher::default();
    let Ok(stored) = hasher.hash("correct horse battery staple") else {
        return;
    };
    let mut group = c.benchmark_group("password");
    group.sample_size(20);
    group.bench_function("hash/argon2id m=19456,t=2,p=1", |b| {
        b.iter(|| hasher.hash(black_box("correct horse battery staple")))
    });
    group.bench_function("verify/argon2id m=19456,t=2,p=1", |b| {
        b.iter(|| hasher.verify(black_box("correct horse battery staple"), &stored))
    });
    group.bench_function("verify/pwdlib argon2id m=65536,t=3,p=4", |b| {
        b.iter(|| hasher.verify(black_box("correct horse battery staple"), PWDLIB_ARGON2))
    });
    group.bench_function("verify/bcrypt cost 12", |b| {
        b.iter(|| hasher.verify(black_box("Tr0ub4dor&3 legacy"), PWDLIB_BCRYPT))
    });
    group.finish();
}

type Manager = UserManager<MemoryUserDatabase<uuid::Uuid>>;

const LOGINS: usize = 64;

fn login_storm(c: &mut Criterion) {
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let manager: Manager = match UserManager::builder(
        MemoryUserDatabase::new(),
        "benchmark secret of at least thirty-two bytes",
    )
    .password_helper(PasswordHelper::default())
    .build()
    {
        Ok(manager) => manager,
        Err(_) => return,
    };
    let emails: Vec<String> = (0..LOGINS).map(|i| format!("user{i}@bench.test")).collect();
    let created = rt.block_on(async {
        for email in &emails {
            if manager
                .create(UserCreate::new(email.clone(), "bench password"), true, None)
                .await
                .is_err()
            {
                return false;
            }
        }
        true
    });
    if !created {
        return;
    }

    let mut group = c.benchmark_group("login_64_at_once");
    group.sample_size(10);
    group.throughput(Throughput::Elements(LOGINS as u64));
    for (name, password, prefix) in [
        ("valid", "bench password", "user"),
        ("wrong password", "wrong password", "user"),
        ("unknown email", "bench password", "ghost"),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| {
                let manager = manager.clone();
                async move {
                    let tasks: Vec<_> = (0..LOGINS)
                        .map(|i| {
                            let manager = manager.clone();
                            let email = format!("{prefix}{i}@bench.test");
                            tokio::spawn(async move {
                                manager.authenticate(&email, password, None).await
                            })
                        })
                        .collect();
                    for task in tasks {
                        let _ = black_box(task.await);
                    }
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, hashing, login_storm);
criterion_main!(benches);
