//! # quickstart
//!
//! FastAPI Users' HTTP contract in one command: `cargo run -p quickstart` serves
//! `/auth/register`, `/auth/jwt/login`, `/auth/jwt/logout` with JWT bearer
//! auth, password reset, email verification and `/users` on SQLite (`authward.db`, created and
//! migrated on first run), plus `GET /health`.
//!
//! Environment: `AUTHWARD_BIND` (default `127.0.0.1:8000`), `DATABASE_URL` (`sqlite://...`,
//! `postgres://...` or `mongodb://...`, see `mongo.rs`), `AUTHWARD_SECRET` (≥ 32 bytes; random with a warning when unset),
//! `AUTHWARD_STRATEGY` (`jwt`, `database`, `redis`), `AUTHWARD_REDIS_URL`,
//! `AUTHWARD_JWT_REVOCATIONS` (`database`, the default, `redis`, or `none`: where the JWT strategy
//! keeps logouts and log-out-everywhere; `none` is FastAPI Users' behaviour),
//! `AUTHWARD_DEV_MAILBOX` (file receiving verify / reset messages as JSON lines),
//! `AUTHWARD_TOKEN_LIFETIME` (seconds), `AUTHWARD_REFRESH_LIFETIME` (seconds; refresh tokens
//! when set), `AUTHWARD_DB_MAX_CONNECTIONS`, `AUTHWARD_USER_CACHE_MS`
//! (how long a loaded user is served from memory, default 1000, `0` = off),
//! `AUTHWARD_CACHE_INVALIDATION` (`none`, the default, or `redis`: several servers on one
//! database evict each other's cached users over Redis pub/sub, see `src/invalidation.rs`),
//! `AUTHWARD_HASH_CONCURRENCY` (password hashes at once; default cores − 1, at least 1),
//! `AUTHWARD_HASH_NICE` (lower CPU priority of the hashing threads, 0–19, default 10),
//! `AUTHWARD_THROTTLE` (`memory`, the default, `redis` or `off`), `AUTHWARD_TRUSTED_PROXIES`
//! (networks whose `X-Forwarded-For` is believed), `AUTHWARD_LEGACY_HASHES` (`none`,
//! `fastapi-users`, `pwdlib-argon2`, `bcrypt12`: adopted hash classes still in the database).
//!
//! `GET /openapi.json` is the OpenAPI document and `GET /docs` browses it (see `src/docs.rs`);
//! unknown paths and wrong methods answer FastAPI's JSON 404 and 405.
//!
//! `GET /ready` answers 200 when every store answers, 503 naming the one that does not.
//! Every store call is bounded to 2 s and fails at once while its store is known to be down.
//! OAuth login: declare providers with `AUTHWARD_OAUTH_<NAME>_CLIENT_ID` / `_CLIENT_SECRET`
//! (plus `_ISSUER` for any OpenID Connect provider; `google`, `github`, `gitlab` and
//! `microsoft` are presets), `AUTHWARD_OAUTH_TOKEN_KEY` to keep provider tokens encrypted,
//! `AUTHWARD_PUBLIC_URL` for the redirect URLs; see `src/oauth.rs`.
//!
//! `cargo run -p quickstart -- create-superuser EMAIL PASSWORD` creates an administrator.

mod config;
mod docs;
mod invalidation;
mod mailer;
mod mongo;
mod oauth;

use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;

use authward::FailFast;
use authward::axum::openapi::Mounts;
use authward::axum::readiness::Readiness;
use authward::axum::{
    AuthBackend, Authward, AuthwardConfig, BearerTransport, ThrottleConfig, Transport,
};
use authward::cache::CachedUserDatabase;
use authward::redis::{RedisAccessTokenDatabase, RedisThrottle, RedisTokenOptions};
use authward::sqlx::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use authward::sqlx::sqlx::{Pool, Postgres, Sqlite};
use authward::sqlx::{Backend, SqlxAccessTokenDatabase, SqlxUserDatabase, TableNames};
use authward::strategy::{
    DatabaseStrategy, JwtKey, JwtRevocationStore, JwtStrategy, RefreshTokens, Strategy,
};
use authward::throttle::MemoryThrottle;
use authward::{
    AccessTokenDatabase, BoxError, OAuthUserDatabase, PasswordHelper, Ping, User, UserDatabase,
    UserManager,
};
use axum::Router;
use axum::routing::get;
use config::{Config, RevocationsKind, StrategyKind, ThrottleKind};
use mailer::DevMailer;
use time::Duration;
use uuid::Uuid;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let config = Config::from_env()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    if config.database_url.starts_with("mongodb") {
        return mongo::run(config, args).await;
    }
    if config.database_url.starts_with("postgres") {
        // Fail fast when PostgreSQL is down: 2 s to get a connection, not sqlx's 30 s.
        let pool = authward::sqlx::fail_fast_pool_options::<Postgres>()
            .max_connections(config.max_connections.unwrap_or_else(default_pg_pool_size))
            .connect(&config.database_url)
            .await?;
        serve::<Postgres>(config, pool, args).await
    } else {
        let options = SqliteConnectOptions::from_str(&config.database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A write waits at most this long for another writer's lock, then fails (503).
            .busy_timeout(std::time::Duration::from_millis(1500));
        let pool = authward::sqlx::fail_fast_pool_options::<Sqlite>()
            .max_connections(config.max_connections.unwrap_or(4))
            .connect_with(options)
            .await?;
        serve::<Sqlite>(config, pool, args).await
    }
}

type AppUser = User<Uuid>;

/// The PostgreSQL pool size when `AUTHWARD_DB_MAX_CONNECTIONS` is unset: twice the cores, at
/// least 4. That is PostgreSQL's rule of thumb (about twice the database server's cores), with
/// this machine's cores standing in for the server's, as in a quickstart on one machine. More
/// connections than that only make PostgreSQL's backends take turns: on 2 cores, 4 connections
/// gave about 17,000 `/users/me` a second with the database strategy against about 12,300 for
/// 16 (docs/benchmarks.md). Set the variable for a database on a machine of its own.
fn default_pg_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    u32::try_from(cores.saturating_mul(2))
        .unwrap_or(u32::MAX)
        .max(4)
}

/// Removes revoked JWT IDs once their tokens have expired, every ten minutes (generation
/// records stay: `JwtRevocationStore`).
fn spawn_purge(revocations: JwtRevocationStore<Uuid>, lifetime: Duration) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            let cutoff = time::OffsetDateTime::now_utc() - lifetime;
            if let Err(err) = revocations.purge(cutoff).await {
                tracing::warn!(error = %err, "purging JWT revocation records failed");
            }
        }
    });
}

async fn serve<DB>(config: Config, pool: Pool<DB>, args: Vec<String>) -> Result<(), BoxError>
where
    DB: Backend,
    SqlxUserDatabase<DB, Uuid>:
        UserDatabase<User = AppUser, Extra = ()> + OAuthUserDatabase + Ping + Clone + 'static,
    SqlxAccessTokenDatabase<DB, Uuid>: AccessTokenDatabase<Uuid> + Ping + Clone + 'static,
    Uuid: authward::sqlx::SqlId<DB>,
{
    let store = SqlxUserDatabase::<DB, Uuid>::new(pool.clone())?;
    store.migrate().await?;
    // Every store call is bounded (2 s) and fails at once while the database is known to be
    // down (`FailFast`), so an outage answers 503 quickly instead of piling up requests.
    let store = FailFast::new(store);
    let mut readiness = Readiness::new().check("database", store.clone());
    let users = CachedUserDatabase::new(store.clone())
        .with_ttl(Duration::milliseconds(config.user_cache_ms));
    // Kept until the server stops: dropping the listener suspends the cache.
    let (users, _invalidations) = invalidation::connect(&config.invalidation_nodes, users).await?;
    let tokens = SqlxAccessTokenDatabase::<DB, Uuid>::new(pool.clone());
    tokens.migrate().await?;
    let tokens = FailFast::new(tokens);

    let lifetime = Duration::seconds(config.token_lifetime);
    let mut passwords = PasswordHelper::default()
        .with_max_concurrency(config.hash_concurrency)
        .with_legacy_hash_classes(config.legacy_hashes.iter().copied());
    if config.hash_niceness > 0 {
        passwords = passwords.with_low_priority_threads(config.hash_niceness)?;
    }
    let manager = oauth::with_token_key(
        UserManager::builder(users, &config.secret)
            .password_helper(passwords)
            .hooks(DevMailer::new(config.mailbox.clone())),
    )?
    .build()?;

    if let Some(command) = args.first() {
        return match (command.as_str(), args.get(1), args.get(2)) {
            ("create-superuser", Some(email), Some(password)) => {
                let user = manager.create_superuser(email, password).await?;
                println!("created superuser {} ({})", user.email, user.id);
                Ok(())
            }
            _ => Err("usage: quickstart [create-superuser EMAIL PASSWORD]".into()),
        };
    }

    // Every strategy revokes for real: the backend brings its revoker, and Authward registers
    // it with the manager (logout, logout-all, password change or reset, deactivation).
    let transport = Transport::Bearer(BearerTransport::new("auth/jwt/login"));
    let backend = match config.strategy {
        StrategyKind::Jwt => {
            let builder = JwtStrategy::builder(JwtKey::hs256(&config.secret)?, lifetime);
            let revocations = match config.jwt_revocations {
                RevocationsKind::Database => {
                    let names = TableNames::default().with_token_table("jwtrevocation")?;
                    let store =
                        SqlxAccessTokenDatabase::<DB, Uuid>::with_tables(pool.clone(), names);
                    store.migrate().await?;
                    Some(JwtRevocationStore::new(FailFast::new(store)))
                }
                RevocationsKind::Redis => {
                    // No TTL: generation records must outlive every token that carries their
                    // number (the purge job removes the revoked token IDs once expired).
                    let options = RedisTokenOptions::new().key_prefix("authward_jwt_revocation:");
                    let redis = FailFast::new(
                        RedisAccessTokenDatabase::<Uuid>::connect(&config.redis_url, options)
                            .await?,
                    );
                    readiness = readiness.check("redis", redis.clone());
                    Some(JwtRevocationStore::new(redis))
                }
                RevocationsKind::None => None,
            };
            match revocations {
                Some(revocations) => {
                    spawn_purge(revocations.clone(), lifetime);
                    let jwt: Arc<dyn Strategy<AppUser>> =
                        Arc::new(builder.revocations(revocations).build()?);
                    AuthBackend::new("jwt", transport, jwt)
                }
                None => AuthBackend::new("jwt", transport, Arc::new(builder.build()?)).stateless(),
            }
        }
        StrategyKind::Database => AuthBackend::new(
            "jwt",
            transport,
            Arc::new(DatabaseStrategy::new(tokens, Some(lifetime))),
        ),
        StrategyKind::Redis => {
            // FastAPI Users' RedisStrategy layout (key prefix, TTL = lifetime), behind FailFast.
            let options = RedisTokenOptions::new().lifetime(Some(lifetime));
            let redis = FailFast::new(
                RedisAccessTokenDatabase::<Uuid>::connect(&config.redis_url, options).await?,
            );
            readiness = readiness.check("redis", redis.clone());
            AuthBackend::new(
                "jwt",
                transport,
                Arc::new(DatabaseStrategy::new(redis, Some(lifetime))),
            )
        }
    };
    let backend = match config.refresh_lifetime {
        Some(seconds) => {
            let names = TableNames::default().with_token_table("refreshtoken")?;
            let store = SqlxAccessTokenDatabase::<DB, Uuid>::with_tables(pool.clone(), names);
            store.migrate().await?;
            backend.with_refresh(RefreshTokens::new(
                FailFast::new(store),
                Duration::seconds(seconds),
            ))
        }
        None => backend,
    };
    let throttle = match config.throttle {
        ThrottleKind::Off => None,
        ThrottleKind::Memory => Some(ThrottleConfig::new(MemoryThrottle::new())),
        ThrottleKind::Redis => {
            let client = authward::redis::redis::Client::open(config.redis_url.as_str())?;
            let conn = authward::redis::redis::aio::ConnectionManager::new_with_config(
                client,
                authward::redis::manager_config(),
            )
            .await?;
            Some(ThrottleConfig::new(RedisThrottle::new(conn)))
        }
    }
    .map(|t| t.with_trusted_proxies(config.trusted_proxies.iter().copied()));
    let aw_config = AuthwardConfig {
        throttle,
        ..AuthwardConfig::default()
    };
    let aw = Authward::new(manager, vec![backend], aw_config)?;
    let (oauth_routes, oauth_doc) = oauth::routes(&aw, &config.secret, config.bind, "jwt")?;
    let mut doc = aw.openapi(&Mounts::fastapi_users_default(["jwt"]));
    if let Some(oauth_doc) = oauth_doc {
        doc.merge(oauth_doc);
    }
    let app = Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .merge(readiness.router())
        .nest("/auth/jwt", aw.auth_router("jwt"))
        .nest("/auth", aw.register_router())
        .nest("/auth", aw.reset_password_router())
        .nest("/auth", aw.verify_router())
        .nest("/users", aw.users_router())
        .merge(oauth_routes)
        .merge(authward::axum::openapi::json_router(&doc))
        .merge(docs::router());
    // FastAPI's JSON 404 and 405 for every route above.
    let app = authward::axum::fallback::json_fallbacks(app);

    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    tracing::info!(
        address = %config.bind,
        strategy = ?config.strategy,
        database = %config.database_url.split('?').next().unwrap_or_default(),
        "authward quickstart listening"
    );
    // The peer address identifies clients for throttling.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
