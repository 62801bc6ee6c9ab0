//! authward-sqlx queries next to the same query written directly with sqlx, on PostgreSQL
//! (`AUTHWARD_TEST_POSTGRES_URL`, skipped when unset) and SQLite (a temp file, WAL).
//!
//! ```sh
//! eval "$(bash scripts/services.sh)"
//! cargo bench -p authward-sqlx --all-features --bench queries
//! ```
//!
//! Each group has an `authward` and a `direct` function: get a user by id, by email (the
//! direct query uses the same `email_key` column and index), and look a token up by digest
//! with a `max_age` cut-off. The two are measured in alternation (each timed call of one is
//! followed by an untimed call of the other), so load from other processes on the machine
//! weighs on both alike.

use std::hint::black_box;
use std::str::FromStr;
use std::time::{Duration as StdDuration, Instant};

use authward_core::{
    AccessTokenDatabase, NewAccessToken, NewUser, TokenDigest, User, UserDatabase,
};
use authward_sqlx::{Backend, SqlId, SqlxAccessTokenDatabase, SqlxUserDatabase};
use criterion::{Criterion, criterion_group, criterion_main};
use time::{Duration, OffsetDateTime};
use tokio::runtime::Runtime;
use uuid::Uuid;

const USERS: usize = 1000;

struct Fixture<DB: Backend> {
    users: SqlxUserDatabase<DB, Uuid>,
    tokens: SqlxAccessTokenDatabase<DB, Uuid>,
    pool: sqlx::Pool<DB>,
    id: Uuid,
    email: String,
    digest: TokenDigest,
    cutoff: OffsetDateTime,
}

async fn fill<DB>(pool: sqlx::Pool<DB>) -> Fixture<DB>
where
    DB: Backend,
    Uuid: SqlId<DB>,
    SqlxUserDatabase<DB, Uuid>: UserDatabase<User = User<Uuid>, Extra = ()>,
    SqlxAccessTokenDatabase<DB, Uuid>: AccessTokenDatabase<Uuid>,
{
    let users = SqlxUserDatabase::<DB, Uuid>::new(pool.clone()).expect("store");
    users.migrate().await.expect("migrate");
    let tokens = SqlxAccessTokenDatabase::<DB, Uuid>::new(pool.clone());
    tokens.migrate().await.expect("migrate tokens");
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
        users,
        tokens,
        pool,
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

/// One group: `authward` and `direct`, measured in alternation.
fn pair(
    c: &mut Criterion,
    rt: &Runtime,
    name: &str,
    authward: impl AsyncFn(),
    direct: impl AsyncFn(),
) {
    let mut group = c.benchmark_group(name);
    group.bench_function("authward", |b| {
        b.iter_custom(|iters| rt.block_on(alternating(iters, &authward, &direct)))
    });
    group.bench_function("direct", |b| {
        b.iter_custom(|iters| rt.block_on(alternating(iters, &direct, &authward)))
    });
    group.finish();
    // Criterion samples the two functions one after the other; on a loaded machine the load
    // can differ between those windows. This ratio times both within the same window.
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

/// Calls per function in the paired ratio printed after each group.
const PAIRED_CALLS: u32 = 5000;

/// What a hand-written query decodes a user into.
type UserRow = (Uuid, String, String, bool, bool, bool);
type SqliteUserRow = (String, String, String, bool, bool, bool);

fn postgres(c: &mut Criterion, rt: &Runtime) {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    let Ok(url) = std::env::var("AUTHWARD_TEST_POSTGRES_URL") else {
        eprintln!("postgres benches skipped: AUTHWARD_TEST_POSTGRES_URL is not set");
        return;
    };
    let fixture = rt.block_on(async {
        let base = PgConnectOptions::from_str(&url).expect("url");
        let schema = format!("aw_bench_{}", Uuid::new_v4().simple());
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(base.clone())
            .await
            .expect("connect");
        sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&admin)
            .await
            .expect("schema");
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(base.options([("search_path", schema.as_str())]))
            .await
            .expect("connect");
        (fill(pool).await, admin, schema)
    });
    let (f, admin, schema) = fixture;
    const USER_COLS: &str = "SELECT \"id\", \"email\", \"hashed_password\", \"is_active\", \
                             \"is_superuser\", \"is_verified\" FROM \"user\"";
    let by_id = format!("{USER_COLS} WHERE \"id\" = $1");
    let by_email = format!("{USER_COLS} WHERE \"email_key\" = $1");

    pair(
        c,
        rt,
        "postgres/get_by_id",
        async || {
            black_box(f.users.get(&f.id).await.expect("get"));
        },
        async || {
            let row: Option<UserRow> = sqlx::query_as(&by_id)
                .bind(f.id)
                .fetch_optional(&f.pool)
                .await
                .expect("direct");
            black_box(row);
        },
    );
    pair(
        c,
        rt,
        "postgres/get_by_email",
        async || {
            black_box(f.users.get_by_email(&f.email).await.expect("get"));
        },
        async || {
            let row: Option<UserRow> = sqlx::query_as(&by_email)
                .bind(f.email.to_lowercase())
                .fetch_optional(&f.pool)
                .await
                .expect("direct");
            black_box(row);
        },
    );
    pair(
        c,
        rt,
        "postgres/token_lookup",
        async || {
            let found = f.tokens.get_by_token(&f.digest, Some(f.cutoff)).await;
            black_box(found.expect("get"));
        },
        async || {
            let row: Option<(Uuid, OffsetDateTime, Option<Uuid>, bool)> = sqlx::query_as(
                "SELECT \"user_id\", \"created_at\", \"family\", \"used\" FROM \"accesstoken\" \
                 WHERE \"digest\" = $1 AND \"created_at\" >= $2",
            )
            .bind(f.digest.as_bytes().as_slice())
            .bind(f.cutoff)
            .fetch_optional(&f.pool)
            .await
            .expect("direct");
            black_box(row);
        },
    );

    rt.block_on(async {
        let _ = sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .execute(&admin)
            .await;
    });
}

fn sqlite(c: &mut Criterion, rt: &Runtime) {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    let path = std::env::temp_dir().join(format!("authward-bench-{}.db", Uuid::new_v4()));
    let f = rt.block_on(async {
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .expect("open");
        fill(pool).await
    });

    const USER_COLS: &str = "SELECT `id`, `email`, `hashed_password`, `is_active`, \
                             `is_superuser`, `is_verified` FROM `user`";
    let by_id = format!("{USER_COLS} WHERE `id` = ?1");
    let by_email = format!("{USER_COLS} WHERE `email_key` = ?1");
    let stored_time = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]"
    );

    pair(
        c,
        rt,
        "sqlite/get_by_id",
        async || {
            black_box(f.users.get(&f.id).await.expect("get"));
        },
        async || {
            let row: Option<SqliteUserRow> = sqlx::query_as(&by_id)
                .bind(f.id.hyphenated().to_string())
                .fetch_optional(&f.pool)
                .await
                .expect("direct");
            black_box(row.map(|r| (Uuid::parse_str(&r.0), r)));
        },
    );
    pair(
        c,
        rt,
        "sqlite/get_by_email",
        async || {
            black_box(f.users.get_by_email(&f.email).await.expect("get"));
        },
        async || {
            let row: Option<SqliteUserRow> = sqlx::query_as(&by_email)
                .bind(f.email.to_lowercase())
                .fetch_optional(&f.pool)
                .await
                .expect("direct");
            black_box(row.map(|r| (Uuid::parse_str(&r.0), r)));
        },
    );
    pair(
        c,
        rt,
        "sqlite/token_lookup",
        async || {
            let found = f.tokens.get_by_token(&f.digest, Some(f.cutoff)).await;
            black_box(found.expect("get"));
        },
        async || {
            let row: Option<(String, String, Option<String>, bool)> = sqlx::query_as(
                "SELECT `user_id`, `created_at`, `family`, `used` FROM `accesstoken` \
                 WHERE `digest` = ?1 AND `created_at` >= ?2",
            )
            .bind(f.digest.as_bytes().as_slice())
            .bind(f.cutoff.format(stored_time).expect("format"))
            .fetch_optional(&f.pool)
            .await
            .expect("direct");
            black_box(row);
        },
    );
    drop(f);
    let _ = std::fs::remove_file(&path);
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    postgres(c, &rt);
    sqlite(c, &rt);
}

criterion_group!(queries, benches);
criterion_main!(queries);
