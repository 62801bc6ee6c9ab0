//! authward-sea-orm next to the same queries hand-written with SeaORM and with raw sqlx, on
//! SQLite (a temp file, WAL; `i64` IDs) and PostgreSQL (`AUTHWARD_TEST_POSTGRES_URL`, skipped
//! when unset; `Uuid` IDs): get a user by id, by email (the `email_key` column and its
//! index), create a user, and look a token up by digest with a `max_age` cut-off.
//!
//! ```sh
//! eval "$(bash scripts/services.sh)"
//! cargo bench -p authward-sea-orm --all-features --bench queries
//! ```
//!
//! SQLite runs in WAL mode with `synchronous = NORMAL` (no fsync per commit), so that a create
//! measures the adapter rather than the disk.
//!
//! In each group the three functions are measured in alternation (each timed call of one is
//! followed by untimed calls of the two others), so load from other processes weighs on all
//! alike. After each group, 7 rounds of 1000 calls each time the three round-robin within the
//! same window; the medians of the rounds' ratios authward / SeaORM and authward / sqlx are
//! printed. SQLite uses one pooled connection, shared by the three.

use std::hint::black_box;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration as StdDuration, Instant};

use authward_core::{AccessTokenDatabase, NewAccessToken, NewUser, TokenDigest, UserDatabase};
use authward_sea_orm::entities::{i64_id, uuid_id};
use authward_sea_orm::sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Set,
    SqlxPostgresConnector, SqlxSqliteConnector,
};
use authward_sea_orm::sea_orm_migration::MigratorTrait;
use authward_sea_orm::{Migrator, SeaOrmAccessTokens, SeaOrmUsers};
use criterion::{Criterion, criterion_group, criterion_main};
use time::{Duration, OffsetDateTime, UtcOffset, format_description::FormatItem};
use tokio::runtime::Runtime;
use uuid::Uuid;

const USERS: usize = 1000;

/// Calls per function in each round of the paired ratios printed after each group.
const PAIRED_CALLS: u32 = 1000;
/// Rounds of the paired ratios (the median is printed).
const PAIRED_ROUNDS: usize = 7;

/// Times `iters` calls of `measured`, each followed by an untimed call of each of `others`.
async fn alternating(
    iters: u64,
    measured: &impl AsyncFn(),
    first: &impl AsyncFn(),
    second: &impl AsyncFn(),
) -> StdDuration {
    let mut total = StdDuration::ZERO;
    for _ in 0..iters {
        let start = Instant::now();
        measured().await;
        total += start.elapsed();
        first().await;
        second().await;
    }
    total
}

/// One group: `authward`, `seaorm` and `sqlx`, measured in alternation, then the paired ratios.
fn trio(
    c: &mut Criterion,
    rt: &Runtime,
    name: &str,
    authward: impl AsyncFn(),
    seaorm: impl AsyncFn(),
    raw: impl AsyncFn(),
) {
    let mut group = c.benchmark_group(name);
    group.bench_function("authward", |b| {
        b.iter_custom(|iters| rt.block_on(alternating(iters, &authward, &seaorm, &raw)))
    });
    group.bench_function("seaorm", |b| {
        b.iter_custom(|iters| rt.block_on(alternating(iters, &seaorm, &raw, &authward)))
    });
    group.bench_function("sqlx", |b| {
        b.iter_custom(|iters| rt.block_on(alternating(iters, &raw, &authward, &seaorm)))
    });
    group.finish();
    // Several rounds, each timing the three round-robin in the same window; the median of
    // the rounds' ratios is robust to a burst of load during one of them.
    let mut rounds: Vec<[StdDuration; 3]> = Vec::new();
    rt.block_on(async {
        for _ in 0..PAIRED_ROUNDS {
            let mut t = [StdDuration::ZERO; 3];
            for i in 0..PAIRED_CALLS {
                // The order rotates, so that whatever favours the first (or last) call of a
                // round favours each function alike.
                for slot in 0..3 {
                    let which = (i as usize + slot) % 3;
                    let start = Instant::now();
                    match which {
                        0 => authward().await,
                        1 => seaorm().await,
                        _ => raw().await,
                    }
                    t[which] += start.elapsed();
                }
            }
            rounds.push(t);
        }
    });
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ratio = |of: usize, to: usize| {
        median(
            rounds
                .iter()
                .map(|t| t[of].as_secs_f64() / t[to].as_secs_f64())
                .collect(),
        )
    };
    let per_call = |of: usize| {
        median(
            rounds
                .iter()
                .map(|t| t[of].as_secs_f64() * 1e6 / f64::from(PAIRED_CALLS))
                .collect(),
        )
    };
    println!(
        "{name}: authward / seaorm = {:.3}, authward / sqlx = {:.3} (medians of {PAIRED_ROUNDS} \
         rounds of {PAIRED_CALLS} paired calls; authward {:.1} µs, seaorm {:.1} µs, sqlx {:.1} µs \
         per call)",
        ratio(0, 1),
        ratio(0, 2),
        per_call(0),
        per_call(1),
        per_call(2),
    );
}

/// What the hand-written SeaORM token lookup reads (the columns authward reads).
#[allow(dead_code)] // decoded, not read
#[derive(Debug, FromQueryResult)]
struct PgTokenRow {
    user_id: Uuid,
    created_at: OffsetDateTime,
    family: Option<Uuid>,
    used: bool,
}

/// SQLite keeps timestamps as fixed-width UTC text in the shared schema.
#[allow(dead_code)] // decoded, not read
#[derive(Debug, FromQueryResult)]
struct SqliteTokenRow {
    user_id: i64,
    created_at: String,
    family: Option<String>,
    used: bool,
}

const SQLITE_TIME: &[FormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]"
);

fn sqlite_time(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(SQLITE_TIME)
        .expect("formats")
}

static NEXT: AtomicU64 = AtomicU64::new(0);

fn fresh_email(tag: &str) -> String {
    format!(
        "{tag}.{}@Bench.example",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

type PgUser = (Uuid, String, String, String, bool, bool, bool);
type SqliteUser = (i64, String, String, String, bool, bool, bool);

const USER_COLS: &str = "\"id\", \"email\", \"email_key\", \"hashed_password\", \"is_active\", \
                         \"is_superuser\", \"is_verified\"";

fn postgres(c: &mut Criterion, rt: &Runtime) {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    let Ok(url) = std::env::var("AUTHWARD_TEST_POSTGRES_URL") else {
        eprintln!("postgres benches skipped: AUTHWARD_TEST_POSTGRES_URL is not set");
        return;
    };
    use uuid_id::{access_token, user};
    let (pool, db, admin, schema) = rt.block_on(async {
        let base = PgConnectOptions::from_str(&url).expect("url");
        let schema = format!("aws_bench_{}", Uuid::new_v4().simple());
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
        let db = SqlxPostgresConnector::from_sqlx_postgres_pool(pool.clone());
        Migrator::<Uuid>::up(&db, None).await.expect("migrate");
        (pool, db, admin, schema)
    });
    let users = SeaOrmUsers::<user::Entity>::new(db.clone());
    let tokens = SeaOrmAccessTokens::<access_token::Entity, Uuid>::new(db.clone());
    let (id, email, digest, cutoff) = rt.block_on(fill(&users, &tokens));
    let by_id = format!("SELECT {USER_COLS} FROM \"user\" WHERE \"id\" = $1");
    let by_email = format!("SELECT {USER_COLS} FROM \"user\" WHERE \"email_key\" = $1");
    let token_sql = "SELECT \"user_id\", \"created_at\", \"family\", \"used\" FROM \
                     \"accesstoken\" WHERE \"digest\" = $1 AND \"created_at\" >= $2";
    let insert = "INSERT INTO \"user\" (\"id\", \"email\", \"email_key\", \"hashed_password\", \
                  \"is_active\", \"is_superuser\", \"is_verified\") VALUES ($1, $2, $3, $4, $5, \
                  $6, $7)";

    trio(
        c,
        rt,
        "postgres/get_by_id",
        async || {
            black_box(users.get(&id).await.expect("get"));
        },
        async || {
            black_box(user::Entity::find_by_id(id).one(&db).await.expect("seaorm"));
        },
        async || {
            let row: Option<PgUser> = sqlx::query_as(&by_id)
                .bind(id)
                .fetch_optional(&pool)
                .await
                .expect("sqlx");
            black_box(row);
        },
    );
    trio(
        c,
        rt,
        "postgres/get_by_email",
        async || {
            black_box(users.get_by_email(&email).await.expect("get"));
        },
        async || {
            let key = authward_core::user::email_key(&email);
            let found = user::Entity::find()
                .filter(user::Column::EmailKey.eq(key))
                .one(&db)
                .await
                .expect("seaorm");
            black_box(found);
        },
        async || {
            let key = authward_core::user::email_key(&email);
            let row: Option<PgUser> = sqlx::query_as(&by_email)
                .bind(key)
                .fetch_optional(&pool)
                .await
                .expect("sqlx");
            black_box(row);
        },
    );
    trio(
        c,
        rt,
        "postgres/create",
        async || {
            let new = NewUser::new(fresh_email("A"), "$argon2id$bench");
            black_box(users.create(new).await.expect("create"));
        },
        async || {
            let email = fresh_email("S");
            let model = user::ActiveModel {
                id: Set(Uuid::new_v4()),
                email_key: Set(authward_core::user::email_key(&email)),
                email: Set(email),
                hashed_password: Set("$argon2id$bench".into()),
                is_active: Set(true),
                is_superuser: Set(false),
                is_verified: Set(false),
            };
            black_box(model.insert(&db).await.expect("seaorm"));
        },
        async || {
            let email = fresh_email("X");
            sqlx::query(insert)
                .bind(Uuid::new_v4())
                .bind(authward_core::user::email_key(&email))
                .bind(&email)
                .bind("$argon2id$bench")
                .bind(true)
                .bind(false)
                .bind(false)
                .execute(&pool)
                .await
                .expect("sqlx");
        },
    );
    trio(
        c,
        rt,
        "postgres/token_lookup",
        async || {
            black_box(
                tokens
                    .get_by_token(&digest, Some(cutoff))
                    .await
                    .expect("get"),
            );
        },
        async || {
            let row = access_token::Entity::find()
                .select_only()
                .columns([
                    access_token::Column::UserId,
                    access_token::Column::CreatedAt,
                    access_token::Column::Family,
                    access_token::Column::Used,
                ])
                .filter(access_token::Column::Digest.eq(digest.as_bytes().to_vec()))
                .filter(access_token::Column::CreatedAt.gte(cutoff))
                .into_model::<PgTokenRow>()
                .one(&db)
                .await
                .expect("seaorm");
            black_box(row);
        },
        async || {
            let row: Option<(Uuid, OffsetDateTime, Option<Uuid>, bool)> = sqlx::query_as(token_sql)
                .bind(digest.as_bytes().as_slice())
                .bind(cutoff)
                .fetch_optional(&pool)
                .await
                .expect("sqlx");
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
    use i64_id::{access_token, user};
    use sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    let path = std::env::temp_dir().join(format!("authward-sea-orm-bench-{}.db", Uuid::new_v4()));
    let (pool, db) = rt.block_on(async {
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        // One connection: the three functions share its worker thread and statement cache.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .expect("open");
        let db = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone());
        Migrator::<i64>::up(&db, None).await.expect("migrate");
        (pool, db)
    });
    let users = SeaOrmUsers::<user::Entity>::new(db.clone());
    let tokens = SeaOrmAccessTokens::<access_token::Entity, i64>::new(db.clone());
    let (id, email, digest, cutoff) = rt.block_on(fill(&users, &tokens));
    let by_id = format!("SELECT {USER_COLS} FROM `user` WHERE `id` = ?");
    let by_email = format!("SELECT {USER_COLS} FROM `user` WHERE `email_key` = ?");
    let token_sql = "SELECT `user_id`, `created_at`, `family`, `used` FROM `accesstoken` \
                     WHERE `digest` = ? AND `created_at` >= ?";
    let insert = "INSERT INTO `user` (`email`, `email_key`, `hashed_password`, `is_active`, \
                  `is_superuser`, `is_verified`) VALUES (?, ?, ?, ?, ?, ?)";

    trio(
        c,
        rt,
        "sqlite/get_by_id",
        async || {
            black_box(users.get(&id).await.expect("get"));
        },
        async || {
            black_box(user::Entity::find_by_id(id).one(&db).await.expect("seaorm"));
        },
        async || {
            let row: Option<SqliteUser> = sqlx::query_as(&by_id)
                .bind(id)
                .fetch_optional(&pool)
                .await
                .expect("sqlx");
            black_box(row);
        },
    );
    trio(
        c,
        rt,
        "sqlite/get_by_email",
        async || {
            black_box(users.get_by_email(&email).await.expect("get"));
        },
        async || {
            let key = authward_core::user::email_key(&email);
            let found = user::Entity::find()
                .filter(user::Column::EmailKey.eq(key))
                .one(&db)
                .await
                .expect("seaorm");
            black_box(found);
        },
        async || {
            let key = authward_core::user::email_key(&email);
            let row: Option<SqliteUser> = sqlx::query_as(&by_email)
                .bind(key)
                .fetch_optional(&pool)
                .await
                .expect("sqlx");
            black_box(row);
        },
    );
    trio(
        c,
        rt,
        "sqlite/create",
        async || {
            let new = NewUser::new(fresh_email("A"), "$argon2id$bench");
            black_box(users.create(new).await.expect("create"));
        },
        async || {
            let email = fresh_email("S");
            let model = user::ActiveModel {
                email_key: Set(authward_core::user::email_key(&email)),
                email: Set(email),
                hashed_password: Set("$argon2id$bench".into()),
                is_active: Set(true),
                is_superuser: Set(false),
                is_verified: Set(false),
                ..Default::default()
            };
            black_box(model.insert(&db).await.expect("seaorm"));
        },
        async || {
            let email = fresh_email("X");
            let done = sqlx::query(insert)
                .bind(authward_core::user::email_key(&email))
                .bind(&email)
                .bind("$argon2id$bench")
                .bind(true)
                .bind(false)
                .bind(false)
                .execute(&pool)
                .await
                .expect("sqlx");
            black_box(done.last_insert_rowid());
        },
    );
    let cutoff_text = sqlite_time(cutoff);
    trio(
        c,
        rt,
        "sqlite/token_lookup",
        async || {
            black_box(
                tokens
                    .get_by_token(&digest, Some(cutoff))
                    .await
                    .expect("get"),
            );
        },
        async || {
            let row = access_token::Entity::find()
                .select_only()
                .columns([
                    access_token::Column::UserId,
                    access_token::Column::CreatedAt,
                    access_token::Column::Family,
                    access_token::Column::Used,
                ])
                .filter(access_token::Column::Digest.eq(digest.as_bytes().to_vec()))
                .filter(access_token::Column::CreatedAt.gte(sqlite_time(cutoff)))
                .into_model::<SqliteTokenRow>()
                .one(&db)
                .await
                .expect("seaorm");
            black_box(row);
        },
        async || {
            let row: Option<(i64, String, Option<String>, bool)> = sqlx::query_as(token_sql)
                .bind(digest.as_bytes().as_slice())
                .bind(&cutoff_text)
                .fetch_optional(&pool)
                .await
                .expect("sqlx");
            black_box(row);
        },
    );
    let _ = std::fs::remove_file(&path);
}

/// Fills the tables with `USERS` users and one token each; returns the last user's ID, its
/// email in another case, its token's digest and a cut-off an hour before its creation.
async fn fill<ID, U, T>(users: &U, tokens: &T) -> (ID, String, TokenDigest, OffsetDateTime)
where
    ID: authward_core::UserId,
    U: UserDatabase<User: authward_core::AuthUser<Id = ID>, Extra = ()>,
    T: AccessTokenDatabase<ID>,
{
    use authward_core::AuthUser;
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
            .create(NewAccessToken::new(&token, user.id().clone(), now))
            .await
            .expect("token");
        last = Some((user, token));
    }
    let (user, token) = last.expect("users were created");
    (
        user.id().clone(),
        user.email().to_uppercase(),
        TokenDigest::of(&token),
        now - Duration::hours(1),
    )
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    sqlite(c, &rt);
    postgres(c, &rt);
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(StdDuration::from_secs(1))
        .measurement_time(StdDuration::from_secs(4))
}

criterion_group! {
    name = queries;
    config = config();
    targets = benches
}
criterion_main!(queries);
