//! authward-mongodb next to the same operations written directly with the driver, on the
//! MongoDB server of `AUTHWARD_TEST_MONGODB_URL` (skipped when unset).
//!
//! ```sh
//! eval "$(bash scripts/services.sh)"
//! cargo bench -p authward-mongodb --bench queries
//! ```
//!
//! Groups: get a user by id, by email (the direct query uses the same collation, so the same
//! index), look a token up by digest with a `max_age` cut-off, and create a user. The direct
//! versions read and write a typed struct in Beanie's layout through `Collection<T>`. The two
//! functions of a group are measured in alternation (each timed call of one is followed by an
//! untimed call of the other), so load from other processes weighs on both alike, and a paired
//! ratio is printed after each group.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration as StdDuration, Instant};

use authward_core::{
    AccessTokenDatabase, NewAccessToken, NewUser, TokenDigest, User, UserDatabase,
};
use authward_mongodb::bson::oid::ObjectId;
use authward_mongodb::bson::{DateTime, doc};
use authward_mongodb::mongodb::{Collection, Database};
use authward_mongodb::{MongoAccessTokenDatabase, MongoUserDatabase, email_collation};
use criterion::{Criterion, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use tokio::runtime::Runtime;

const USERS: usize = 1000;
/// Calls per function in the paired ratio printed after each group.
const PAIRED_CALLS: u32 = 2000;

/// A user as a hand-written Beanie-compatible application would map it.
#[derive(Debug, Serialize, Deserialize)]
struct BeanieUser {
    #[serde(rename = "_id")]
    id: ObjectId,
    email: String,
    hashed_password: String,
    is_active: bool,
    is_superuser: bool,
    is_verified: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct TokenDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    token: String,
    user_id: ObjectId,
    created_at: DateTime,
}

struct Fixture {
    db: Database,
    users: MongoUserDatabase<User<ObjectId>>,
    tokens: MongoAccessTokenDatabase<ObjectId>,
    direct_users: Collection<BeanieUser>,
    direct_tokens: Collection<TokenDoc>,
    id: ObjectId,
    email: String,
    digest: TokenDigest,
    cutoff: OffsetDateTime,
}

async fn fill(db: Database) -> Fixture {
    let users = MongoUserDatabase::<User<ObjectId>>::new(&db);
    users.bootstrap().await.expect("bootstrap users");
    let tokens =
        MongoAccessTokenDatabase::<ObjectId>::new(&db).with_lifetime(Some(Duration::hours(1)));
    tokens.bootstrap().await.expect("bootstrap tokens");
    let now = OffsetDateTime::now_utc();
    let mut last = None;
    for i in 0..USERS {
        let user = users
            .create(NewUser::new(
                format!("Knight.{i}@Camelot.bt"),
                "$argon2id$bench",
            ))
            .await
            .expect("create");
        let token = format!("bench-token-{i}");
        tokens
            .create(NewAccessToken::new(&token, user.id, now))
            .await
            .expect("token");
        last = Some((user, token));
    }
    let (user, token) = last.expect("users were created");
    Fixture {
        direct_users: db.collection("User"),
        direct_tokens: db.collection("AccessToken"),
        db,
        users,
        tokens,
        id: user.id,
        email: user.email.to_uppercase(),
        digest: TokenDigest::of(&token),
        cutoff: now - Duration::hours(1),
    }
}

/// Times `iters` calls of `measured`, each followed by an untimed call of `other`.
async fn alternating(iters: u64, measured: &impl AsyncFn(), other: &impl AsyncFn()) -> StdDuration {
    let mut total = StdDuration::ZERO;
    for _ in 0..iters {
        let start = Instant::now();
        measured().await;
        total += start.elapsed();
        other().await;
    }
    total
}

/// One group: `authward` and `direct`, measured in alternation, then a paired ratio.
fn pair(
    c: &mut Criterion,
    rt: &Runtime,
    name: &str,
    authward: impl AsyncFn(),
    direct: impl AsyncFn(),
) {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(20)
        .measurement_time(StdDuration::from_secs(5));
    group.bench_function("authward", |b| {
        b.iter_custom(|iters| rt.block_on(alternating(iters, &authward, &direct)))
    });
    group.bench_function("direct", |b| {
        b.iter_custom(|iters| rt.block_on(alternating(iters, &direct, &authward)))
    });
    group.finish();
    let (mut a, mut d) = (StdDuration::ZERO, StdDuration::ZERO);
    rt.block_on(async {
        for _ in 0..PAIRED_CALLS {
            let start = Instant::now();
            authward().await;
            a += start.elapsed();
            let start = Instant::now();
            direct().await;
            d += start.elapsed();
        }
    });
    println!(
        "{name}: authward / direct = {:.3} over {PAIRED_CALLS} paired calls \
         (authward {:.1} µs, direct {:.1} µs per call)",
        a.as_secs_f64() / d.as_secs_f64(),
        a.as_secs_f64() * 1e6 / f64::from(PAIRED_CALLS),
        d.as_secs_f64() * 1e6 / f64::from(PAIRED_CALLS),
    );
}

fn benches(c: &mut Criterion) {
    let Ok(url) = std::env::var("AUTHWARD_TEST_MONGODB_URL") else {
        eprintln!("mongodb benches skipped: AUTHWARD_TEST_MONGODB_URL is not set");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let client = rt
        .block_on(authward_mongodb::connect(&url))
        .expect("the server answers");
    let name = format!(
        "aw_bench_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let f = rt.block_on(fill(client.database(&name)));

    pair(
        c,
        &rt,
        "mongodb/get_by_id",
        async || {
            black_box(f.users.get(&f.id).await.expect("get"));
        },
        async || {
            black_box(
                f.direct_users
                    .find_one(doc! { "_id": f.id })
                    .await
                    .expect("find"),
            );
        },
    );
    pair(
        c,
        &rt,
        "mongodb/get_by_email",
        async || {
            black_box(f.users.get_by_email(&f.email).await.expect("get"));
        },
        async || {
            black_box(
                f.direct_users
                    .find_one(doc! { "email": &f.email })
                    .collation(email_collation())
                    .await
                    .expect("find"),
            );
        },
    );
    pair(
        c,
        &rt,
        "mongodb/token_lookup",
        async || {
            black_box(
                f.tokens
                    .get_by_token(&f.digest, Some(f.cutoff))
                    .await
                    .expect("get"),
            );
        },
        async || {
            let cutoff =
                DateTime::from_millis((f.cutoff.unix_timestamp_nanos() / 1_000_000) as i64);
            black_box(
                f.direct_tokens
                    .find_one(doc! { "token": f.digest.to_hex(), "created_at": { "$gte": cutoff } })
                    .await
                    .expect("find"),
            );
        },
    );
    let counter = AtomicU64::new(0);
    let next = || counter.fetch_add(1, Ordering::Relaxed);
    pair(
        c,
        &rt,
        "mongodb/create",
        async || {
            let email = format!("new.{}@Camelot.bt", next());
            black_box(
                f.users
                    .create(NewUser::new(email, "$argon2id$bench"))
                    .await
                    .expect("create"),
            );
        },
        async || {
            let user = BeanieUser {
                id: ObjectId::new(),
                email: format!("new.{}@Camelot.bt", next()),
                hashed_password: "$argon2id$bench".into(),
                is_active: true,
                is_superuser: false,
                is_verified: false,
            };
            black_box(f.direct_users.insert_one(&user).await.expect("insert"));
        },
    );

    rt.block_on(async {
        let _ = f.db.drop().await;
        client.shutdown().await;
    });
}

criterion_group!(mongodb, benches);
criterion_main!(mongodb);
