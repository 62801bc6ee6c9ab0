//! # PostgreSQL + Redis + cookies
//!
//! Users live in PostgreSQL (`authward-sqlx`), sessions in Redis (`authward-redis`, tokens
//! stored as digests with a per-user index, so log-out-everywhere works), and browsers carry
//! the token in an `HttpOnly` cookie. Cookie authentication gets CSRF defence: state-changing
//! requests from another origin are refused unless it is listed in `TRUSTED_ORIGINS`.
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1/test REDIS_URL=redis://127.0.0.1:6379/ \
//! SECRET=$(head -c 32 /dev/urandom | base64) COOKIE_SECURE=false \
//!   cargo run -p postgres-redis-cookie
//! curl -i -X POST localhost:8001/auth/cookie/login -d 'username=a@b.co&password=...'
//! ```
//!
//! Environment: `BIND` (default `127.0.0.1:8001`), `DATABASE_URL`, `REDIS_URL`, `SECRET`
//! (≥ 32 bytes), `COOKIE_SECURE` (default `true`; `false` only for plain-HTTP development),
//! `TRUSTED_ORIGINS` (comma-separated, e.g. a front end on another port).

use std::process::ExitCode;
use std::sync::Arc;

use authward::axum::{
    AuthBackend, Authward, AuthwardConfig, CookieTransport, CsrfPolicy, Transport,
};
use authward::redis::RedisStrategy;
use authward::sqlx::sqlx::postgres::PgPoolOptions;
use authward::sqlx::{SqlxAccessTokenDatabase, SqlxUserDatabase};
use authward::{BoxError, UserManager};
use axum::Router;
use time::Duration;
use uuid::Uuid;

fn env(name: &str) -> Result<String, BoxError> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

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
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let secret = env("SECRET")?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect(&env("DATABASE_URL")?)
        .await?;
    let users = SqlxUserDatabase::<_, Uuid>::new(pool.clone())?;
    users.migrate().await?;
    // The token table is not used by this app, but migrating it keeps the schema complete
    // for a later switch to database tokens.
    SqlxAccessTokenDatabase::<_, Uuid>::new(pool)
        .migrate()
        .await?;

    let lifetime = Duration::days(7);
    let sessions =
        Arc::new(RedisStrategy::<Uuid>::connect(&env("REDIS_URL")?, Some(lifetime)).await?);
    // The backend brings its revoker: Authward::new registers it with the manager.
    let manager = UserManager::builder(users, &secret).build()?;

    let cookie = CookieTransport {
        max_age: Some(lifetime.whole_seconds()),
        secure: std::env::var("COOKIE_SECURE").map_or(true, |v| v != "false"),
        ..CookieTransport::default()
    };
    let trusted_origins = std::env::var("TRUSTED_ORIGINS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    let aw = Authward::new(
        manager,
        vec![AuthBackend::new(
            "cookie",
            Transport::Cookie(cookie),
            sessions,
        )],
        AuthwardConfig {
            csrf: CsrfPolicy { trusted_origins },
            ..AuthwardConfig::default()
        },
    )?;
    let app = Router::new()
        .nest("/auth/cookie", aw.auth_router("cookie"))
        .nest("/auth", aw.register_router())
        .nest("/auth", aw.reset_password_router())
        .nest("/auth", aw.verify_router())
        .nest("/users", aw.users_router());

    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8001".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    tracing::info!(address = %bind, "listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
