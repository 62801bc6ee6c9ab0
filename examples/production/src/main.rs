//! Serves [`production::app`] on `BIND` (default `127.0.0.1:8002`).
//!
//! Environment: `DATABASE_URL` (PostgreSQL), `REDIS_URL`, `AUTHWARD_SECRET` (≥ 32 bytes).
//! `cargo run -p production -- create-superuser EMAIL PASSWORD` creates an administrator.

use std::process::ExitCode;
use std::time::Duration as StdDuration;

use authward::BoxError;
use production::{Settings, app};
use time::Duration;

fn env(name: &str) -> Result<String, BoxError> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

async fn run() -> Result<(), BoxError> {
    let settings = Settings {
        secret: env("AUTHWARD_SECRET")?,
        redis_url: env("REDIS_URL")?,
        redis_prefix: "production:".into(),
        access_lifetime: Duration::minutes(15),
        refresh_lifetime: Duration::days(30),
    };
    let pool = authward::sqlx::fail_fast_pool_options::<authward::sqlx::sqlx::Postgres>()
        .max_connections(16)
        .acquire_timeout(StdDuration::from_secs(2))
        .connect(&env("DATABASE_URL")?)
        .await?;
    let (router, aw) = app(pool, &settings).await?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let ["create-superuser", email, password] =
        args.iter().map(String::as_str).collect::<Vec<_>>()[..]
    {
        let user = aw.manager().create_superuser(email, password).await?;
        println!("created superuser {} ({})", user.email, user.id);
        return Ok(());
    }
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8002".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    tracing::info!(address = %bind, "listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
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
