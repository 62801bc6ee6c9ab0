//! Serves the example: `cargo run -p sea-orm-example`.
//!
//! Environment: `DATABASE_URL` (default `sqlite:sea-orm-example.db?mode=rwc`),
//! `AUTHWARD_SECRET` (at least 32 bytes; a random one with a warning when unset),
//! `AUTHWARD_BIND` (default `127.0.0.1:8000`).

use authward::{BoxError, PasswordHelper};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "sqlite:sea-orm-example.db?mode=rwc".into());
    let secret = match std::env::var("AUTHWARD_SECRET") {
        Ok(secret) => secret,
        Err(_) => {
            eprintln!("warning: AUTHWARD_SECRET is unset; tokens will not survive a restart");
            PasswordHelper::generate()
        }
    };
    let bind = std::env::var("AUTHWARD_BIND").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let db = authward::sea_orm::connect(url).await?;
    let app = sea_orm_example::app(db, &secret, PasswordHelper::default()).await?;
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("listening on http://{bind}");
    axum::serve(listener, app).await?;
    Ok(())
}
