//! Faults: every store fails fast, answers 503, and recovers — proven by stopping real servers.
//!
//! Each test starts a private server (PostgreSQL, MariaDB, Redis, a one-node Redis Cluster) on a
//! free port, serves the real routers over it behind `FailFast`, stops the server mid-test
//! (gracefully and with `kill -9`), checks that every kind of route answers 503 with the JSON
//! `detail` and `Retry-After` well within the bound while `/health` keeps answering, restarts
//! it, and checks recovery: old sessions work, and nothing a failed request touched was stored.
//! The bound itself is measured by the soak script (docs/src/benchmarks.md); the tests only check a
//! generous ceiling that a 30-second pool wait would miss.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use authward_axum::readiness::Readiness;
use authward_axum::{AuthBackend, Authward, AuthwardConfig, BearerTransport, Transport};
use authward_core::memory::MemoryUserDatabase;
use authward_core::strategy::{DatabaseStrategy, RefreshTokens};
use authward_core::{
    AccessTokenDatabase, Argon2Hasher, FailFast, PasswordHelper, Ping, User, UserDatabase,
    UserManager,
};
use authward_redis::{RedisAccessTokenDatabase, RedisTokenOptions};
use authward_sqlx::{SqlxAccessTokenDatabase, SqlxUserDatabase, TableNames, sqlx};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use common::http::{Reply, empty, form, json, send, urlencode, with};
use common::servers::{self, STOPS, Stop};
use serde_json::json;
use uuid::Uuid;

type U = User<Uuid>;

const SECRET: &str = "0123456789abcdef0123456789abcdef-test-secret";
const PASSWORD: &str = "correct horse battery";
/// What a request may take while its store is down. The bound is 1 s here (`FailFast`); a
/// pool waiting for its 30 s acquire timeout would miss this ceiling by far.
const CEILING: Duration = Duration::from_secs(6);

fn fail_fast<S>(store: S) -> FailFast<S> {
    FailFast::new(store)
        .with_timeout(Duration::from_secs(1))
        .with_cooldown(Duration::from_millis(300))
}

/// The routers over `users`, with database-strategy tokens and refresh tokens in `tokens` and
/// `refresh` (each behind `FailFast`), plus `/health` (liveness) and `/ready`.
fn app<UDB, T, R>(users: UDB, tokens: T, refresh: R) -> Router
where
    UDB: UserDatabase<User = U, Extra = ()> + Ping + Clone + 'static,
    T: AccessTokenDatabase<Uuid> + Ping + Clone + 'static,
    R: AccessTokenDatabase<Uuid> + Ping + Clone + 'static,
{
    let (users, tokens, refresh) = (fail_fast(users), fail_fast(tokens), fail_fast(refresh));
    let readiness = Readiness::new()
        .check("users", users.clone())
        .check("tokens", tokens.clone())
        .check("refresh", refresh.clone())
        .with_cache(Duration::ZERO);
    let manager = UserManager::builder(users, SECRET)
        .password_helper(PasswordHelper::new(Argon2Hasher::new(64, 1, 1).unwrap()))
        .build()
        .unwrap();
    let backend = AuthBackend::new(
        "db",
        Transport::Bearer(BearerTransport::new("auth/db/login")),
        Arc::new(DatabaseStrategy::new(
            tokens,
            Some(time::Duration::hours(1)),
        )),
    )
    .with_refresh(RefreshTokens::new(refresh, time::Duration::days(1)));
    let aw = Authward::new(manager, vec![backend], AuthwardConfig::default()).unwrap();
    Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .merge(readiness.router())
        .nest("/auth/db", aw.auth_router("db"))
        .nest("/auth", aw.register_router())
        .nest("/auth", aw.reset_password_router())
        .nest("/users", aw.users_router())
}

struct Session {
    access: String,
    refresh: String,
}

async fn register(router: &Router, email: &str) -> Reply {
    send(
        router,
        json(
            "POST",
            "/auth/register",
            &json!({"email": email, "password": PASSWORD}),
        ),
    )
    .await
}

async fn login(router: &Router, email: &str) -> Reply {
    let body = format!(
        "username={}&password={}",
        urlencode(email),
        urlencode(PASSWORD)
    );
    send(router, form("/auth/db/login", &body)).await
}

async fn session(router: &Router, email: &str) -> Session {
    let reply = login(router, email).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    Session {
        access: reply.body["access_token"].as_str().unwrap().to_owned(),
        refresh: reply.body["refresh_token"].as_str().unwrap().to_owned(),
    }
}

fn bearer(
    session: &Session,
    request: axum::http::Request<axum::body::Body>,
) -> axum::http::Request<axum::body::Body> {
    with(
        request,
        "authorization",
        &format!("Bearer {}", session.access),
    )
}

/// Every kind of route, as a (name, request) list; `fresh` is an email not registered yet.
fn route_kinds(
    session: &Session,
    fresh: &str,
) -> Vec<(&'static str, axum::http::Request<axum::body::Body>)> {
    vec![
        (
            "register",
            json(
                "POST",
                "/auth/register",
                &json!({"email": fresh, "password": PASSWORD}),
            ),
        ),
        (
            "login",
            form(
                "/auth/db/login",
                &format!(
                    "username={}&password={}",
                    urlencode(fresh),
                    urlencode(PASSWORD)
                ),
            ),
        ),
        ("me", bearer(session, empty("GET", "/users/me"))),
        (
            "forgot-password",
            json("POST", "/auth/forgot-password", &json!({"email": fresh})),
        ),
        (
            "refresh",
            json(
                "POST",
                "/auth/db/refresh",
                &json!({"refresh_token": session.refresh}),
            ),
        ),
        ("logout", bearer(session, empty("POST", "/auth/db/logout"))),
    ]
}

/// While a store is down: each route kind in `kinds` answers 503 JSON with `Retry-After`
/// within the ceiling, `/health` answers 200 and `/ready` 503.
async fn assert_unavailable(router: &Router, session: &Session, fresh: &str, kinds: &[&str]) {
    for round in 0..2 {
        for (name, request) in route_kinds(session, fresh) {
            if !kinds.contains(&name) {
                continue;
            }
            let started = Instant::now();
            let reply = send(router, request).await;
            let took = started.elapsed();
            assert_eq!(
                reply.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{name} (round {round}): {:?}",
                reply.body
            );
            assert_eq!(
                reply.body,
                json!({"detail": "Service Unavailable"}),
                "{name}"
            );
            assert!(reply.headers.contains_key("retry-after"), "{name}");
            assert!(took < CEILING, "{name} took {took:?}");
        }
        let health = send(router, empty("GET", "/health")).await;
        assert_eq!(health.status, StatusCode::OK);
        let ready = send(router, empty("GET", "/ready")).await;
        assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    }
}

/// After a restart: `/ready` comes back, the old session works, the refresh token too.
async fn assert_recovered(router: &Router, session: &Session) {
    let started = Instant::now();
    loop {
        let ready = send(router, empty("GET", "/ready")).await;
        if ready.status == StatusCode::OK {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not ready again: {:?}",
            ready.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let me = send(router, bearer(session, empty("GET", "/users/me"))).await;
    assert_eq!(
        me.status,
        StatusCode::OK,
        "the old session survived: {:?}",
        me.body
    );
}

const ALL_KINDS: [&str; 6] = [
    "register",
    "login",
    "me",
    "forgot-password",
    "refresh",
    "logout",
];

async fn sql_outage_cycle<DB: authward_sqlx::Backend>(
    pool: sqlx::Pool<DB>,
    mut stop: impl FnMut(Stop),
    mut start: impl FnMut(),
) where
    SqlxUserDatabase<DB, Uuid>: UserDatabase<User = U, Extra = ()> + Ping + Clone + 'static,
    SqlxAccessTokenDatabase<DB, Uuid>: AccessTokenDatabase<Uuid> + Ping + Clone + 'static,
    Uuid: authward_sqlx::SqlId<DB>,
{
    let users = SqlxUserDatabase::<DB, Uuid>::new(pool.clone()).unwrap();
    users.migrate().await.unwrap();
    let tokens = SqlxAccessTokenDatabase::<DB, Uuid>::new(pool.clone());
    tokens.migrate().await.unwrap();
    let refresh = SqlxAccessTokenDatabase::<DB, Uuid>::with_tables(
        pool.clone(),
        TableNames::default()
            .with_token_table("refreshtoken")
            .unwrap(),
    );
    refresh.migrate().await.unwrap();
    let router = app(users.clone(), tokens, refresh);
    for how in STOPS {
        let email = format!("lancelot-{}@camelot.bt", Uuid::new_v4().simple());
        assert_eq!(register(&router, &email).await.status, StatusCode::CREATED);
        let session = session(&router, &email).await;
        let fresh = format!("galahad-{}@camelot.bt", Uuid::new_v4().simple());

        stop(how);
        assert_unavailable(&router, &session, &fresh, &ALL_KINDS).await;
        start();
        assert_recovered(&router, &session).await;

        // Nothing the failed requests touched was stored: the registration left no row.
        assert!(
            users.get_by_email(&fresh).await.unwrap().is_none(),
            "{how:?}"
        );
        assert_eq!(register(&router, &fresh).await.status, StatusCode::CREATED);
        assert_eq!(login(&router, &fresh).await.status, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_outage_fails_fast_and_recovers() {
    let Some(server) = servers::Postgres::start() else {
        return;
    };
    let pool = authward_sqlx::fail_fast_pool_options::<sqlx::Postgres>()
        .max_connections(4)
        .connect(&server.url())
        .await
        .unwrap();
    sql_outage_cycle(pool, |how| server.stop(how), || server.up()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_outage_fails_fast_and_recovers() {
    let Some(server) = servers::MariaDb::start() else {
        return;
    };
    let pool = authward_sqlx::fail_fast_pool_options::<sqlx::MySql>()
        .max_connections(4)
        .connect(&server.url())
        .await
        .unwrap();
    let server = std::sync::Mutex::new(server);
    sql_outage_cycle(
        pool,
        |how| server.lock().unwrap().stop(how),
        || server.lock().unwrap().up(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_database_fails_fast_and_recovers() {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    use std::str::FromStr;
    let dir = std::env::temp_dir().join(format!("authward-fault-sqlite-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("app.db").display());
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_millis(300));
    let pool = authward_sqlx::fail_fast_pool_options::<sqlx::Sqlite>()
        .max_connections(4)
        .connect_with(options.clone())
        .await
        .unwrap();
    let users = SqlxUserDatabase::<sqlx::Sqlite, Uuid>::new(pool.clone()).unwrap();
    users.migrate().await.unwrap();
    let tokens = SqlxAccessTokenDatabase::<sqlx::Sqlite, Uuid>::new(pool.clone());
    tokens.migrate().await.unwrap();
    let refresh = SqlxAccessTokenDatabase::<sqlx::Sqlite, Uuid>::with_tables(
        pool.clone(),
        TableNames::default()
            .with_token_table("refreshtoken")
            .unwrap(),
    );
    refresh.migrate().await.unwrap();
    let router = app(users.clone(), tokens, refresh);
    let email = format!("tristan-{}@camelot.bt", Uuid::new_v4().simple());
    assert_eq!(register(&router, &email).await.status, StatusCode::CREATED);
    let session = session(&router, &email).await;
    let fresh = format!("isolde-{}@camelot.bt", Uuid::new_v4().simple());

    // Another process holds the write lock: every write is busy, then 503.
    let mut locker = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    use sqlx::Connection as _;
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut locker)
        .await
        .unwrap();
    assert_unavailable_writes(&router, &session, &fresh).await;
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    assert_recovered(&router, &session).await;
    assert!(users.get_by_email(&fresh).await.unwrap().is_none());
    assert_eq!(register(&router, &fresh).await.status, StatusCode::CREATED);
    let _ = std::fs::remove_dir_all(&dir);
}

/// With SQLite locked by another writer: the writes (register, login, logout) answer 503 within
/// the ceiling.
async fn assert_unavailable_writes(router: &Router, session: &Session, fresh: &str) {
    for (name, request) in route_kinds(session, fresh) {
        if !["register", "login", "logout"].contains(&name) {
            continue;
        }
        let started = Instant::now();
        let reply = send(router, request).await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{name}: {:?}",
            reply.body
        );
        assert!(started.elapsed() < CEILING, "{name}");
    }
    let health = send(router, empty("GET", "/health")).await;
    assert_eq!(health.status, StatusCode::OK);
}

async fn redis_outage_cycle(mut server: servers::Redis, cluster: bool) {
    let users = MemoryUserDatabase::<Uuid>::new();
    let options = |prefix: &str| {
        RedisTokenOptions::new()
            .key_prefix(format!("aw_fault_{prefix}_{}:", Uuid::new_v4().simple()))
            .lifetime(Some(time::Duration::hours(1)))
    };
    let router = if cluster {
        let url = server.url();
        let tokens = RedisAccessTokenDatabase::<Uuid, _>::connect_cluster([&url], options("t"))
            .await
            .unwrap();
        let refresh = RedisAccessTokenDatabase::<Uuid, _>::connect_cluster([&url], options("r"))
            .await
            .unwrap();
        app(MemoryPing(users.clone()), tokens, refresh)
    } else {
        let tokens = RedisAccessTokenDatabase::<Uuid>::connect(&server.url(), options("t"))
            .await
            .unwrap();
        let refresh = RedisAccessTokenDatabase::<Uuid>::connect(&server.url(), options("r"))
            .await
            .unwrap();
        app(MemoryPing(users.clone()), tokens, refresh)
    };
    for how in STOPS {
        let email = format!("gawain-{}@camelot.bt", Uuid::new_v4().simple());
        assert_eq!(register(&router, &email).await.status, StatusCode::CREATED);
        let session = session(&router, &email).await;
        server.stop(how);
        // The user store is up: register and forgot-password work; every token route fails.
        assert_unavailable(
            &router,
            &session,
            &email,
            &["login", "me", "refresh", "logout"],
        )
        .await;
        server.up();
        assert_recovered(&router, &session).await;
    }
}

/// The memory store as an always-reachable `Ping` store.
#[derive(Clone)]
struct MemoryPing(MemoryUserDatabase<Uuid>);

#[async_trait::async_trait]
impl UserDatabase for MemoryPing {
    type User = U;
    type Extra = ();
    async fn get(&self, id: &Uuid) -> Result<Option<U>, authward_core::DbError> {
        self.0.get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<U>, authward_core::DbError> {
        self.0.get_by_email(email).await
    }
    async fn create(&self, user: authward_core::NewUser) -> Result<U, authward_core::DbError> {
        self.0.create(user).await
    }
    async fn update(
        &self,
        id: &Uuid,
        patch: authward_core::UserPatch,
    ) -> Result<U, authward_core::DbError> {
        self.0.update(id, patch).await
    }
    async fn delete(&self, id: &Uuid) -> Result<(), authward_core::DbError> {
        self.0.delete(id).await
    }
}

#[async_trait::async_trait]
impl Ping for MemoryPing {
    async fn ping(&self) -> Result<(), authward_core::DbError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_fails_fast_and_recovers() {
    let Some(server) = servers::Redis::start(false) else {
        return;
    };
    redis_outage_cycle(server, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cluster_outage_fails_fast_and_recovers() {
    let Some(server) = servers::Redis::start(true) else {
        return;
    };
    redis_outage_cycle(server, true).await;
}

/// With one backend's token store down, a password change, a deactivation and a deletion fail
/// (503) and change nothing — revocation comes first — so no session of that backend outlives a
/// change it was not told about; once the store is back, the same requests succeed and end the
/// sessions. The requests themselves authenticate through a second backend (JWT with its
/// revocation store in memory), so they do reach the revocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_changes_with_a_token_store_down_change_nothing() {
    use authward_core::memory::MemoryAccessTokenDatabase;
    use authward_core::strategy::{JwtKey, JwtStrategy};
    let Some(mut server) = servers::Redis::start(false) else {
        return;
    };
    let users = MemoryUserDatabase::<Uuid>::new();
    let options = RedisTokenOptions::new()
        .key_prefix(format!("aw_partial_{}:", Uuid::new_v4().simple()))
        .lifetime(Some(time::Duration::hours(1)));
    let redis = fail_fast(
        RedisAccessTokenDatabase::<Uuid>::connect(&server.url(), options)
            .await
            .unwrap(),
    );
    let manager = UserManager::builder(users.clone(), SECRET)
        .password_helper(PasswordHelper::new(Argon2Hasher::new(64, 1, 1).unwrap()))
        .build()
        .unwrap();
    manager
        .create_superuser("admin@camelot.bt", PASSWORD)
        .await
        .unwrap();
    let jwt = JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), time::Duration::hours(1))
        .revocation_store(MemoryAccessTokenDatabase::<Uuid>::new())
        .build()
        .unwrap();
    let backends = vec![
        AuthBackend::new(
            "jwt",
            Transport::Bearer(BearerTransport::new("auth/jwt/login")),
            Arc::new(jwt),
        ),
        AuthBackend::new(
            "redis",
            Transport::Bearer(BearerTransport::new("auth/redis/login")),
            Arc::new(DatabaseStrategy::new(redis, Some(time::Duration::hours(1)))),
        ),
    ];
    let aw = Authward::new(manager, backends, AuthwardConfig::default()).unwrap();
    let router = Router::new()
        .nest("/auth/jwt", aw.auth_router("jwt"))
        .nest("/auth/redis", aw.auth_router("redis"))
        .nest("/auth", aw.register_router())
        .nest("/users", aw.users_router());
    let login_at = async |backend: &str, email: &str| -> String {
        let body = format!(
            "username={}&password={}",
            urlencode(email),
            urlencode(PASSWORD)
        );
        let reply = send(&router, form(&format!("/auth/{backend}/login"), &body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        format!("Bearer {}", reply.body["access_token"].as_str().unwrap())
    };
    let call = async |token: &str, request: axum::http::Request<axum::body::Body>| {
        send(&router, with(request, "authorization", token)).await
    };

    let email = format!("percival-{}@camelot.bt", Uuid::new_v4().simple());
    let id = register(&router, &email).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = login_at("jwt", "admin@camelot.bt").await;
    let victim = login_at("jwt", &email).await;
    let redis_session = login_at("redis", &email).await;
    let before = users.get_by_email(&email).await.unwrap().unwrap();

    server.stop(Stop::Kill);
    let changes = [
        (
            "password change",
            victim.clone(),
            json(
                "PATCH",
                "/users/me",
                &json!({"password": "a new password entirely"}),
            ),
        ),
        (
            "deactivation",
            admin.clone(),
            json(
                "PATCH",
                &format!("/users/{id}"),
                &json!({"is_active": false}),
            ),
        ),
        (
            "deletion",
            admin.clone(),
            empty("DELETE", &format!("/users/{id}")),
        ),
    ];
    for (name, token, request) in changes {
        let reply = call(&token, request).await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{name}: {:?}",
            reply.body
        );
    }
    assert_eq!(
        users.get_by_email(&email).await.unwrap().unwrap(),
        before,
        "nothing changed"
    );

    server.up();
    // A failed request may have ended sessions already (the revokers that could run did):
    // revocation errs on the safe side. The password is unchanged, so logging in works; until
    // the store is back each attempt fails (and ends that attempt's session), then one succeeds.
    let started = Instant::now();
    let victim = loop {
        let victim = login_at("jwt", &email).await;
        let reply = call(
            &victim,
            json(
                "PATCH",
                "/users/me",
                &json!({"password": "a new password entirely"}),
            ),
        )
        .await;
        if reply.status == StatusCode::OK {
            break victim;
        }
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{:?}",
            reply.body
        );
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The change ended the sessions of both backends.
    for token in [&victim, &redis_session] {
        let me = call(token, empty("GET", "/users/me")).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    }
}
