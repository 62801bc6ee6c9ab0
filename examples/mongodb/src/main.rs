//! # mongodb-example
//!
//! FastAPI Users' HTTP contract over MongoDB, on the database a FastAPI Users + Beanie
//! application already has: `User` and `AccessToken` collections, ObjectId IDs, a custom field
//! (`nickname`) stored at the top level of each user document.
//!
//! ```sh
//! MONGODB_URL="mongodb://127.0.0.1:27017/" MONGODB_DATABASE=app cargo run -p mongodb-example
//! ```
//!
//! At start-up the indexes are created (idempotently) and plaintext tokens written by
//! `fastapi-users-db-beanie` are replaced by their digests, so its users keep their sessions.
//! Routes: `/auth/register`, `/auth/db/login` and `/auth/db/logout` (bearer tokens stored in
//! `AccessToken`, one hour), password reset, email verification, `/users/...`. A MongoDB
//! outage answers 503 after at most about 2 s.

use std::sync::Arc;

use authward::axum::{AuthBackend, Authward, AuthwardConfig, BearerTransport, Transport};
use authward::mongodb::bson::oid::ObjectId;
use authward::mongodb::{MongoAccessTokenDatabase, MongoUserDatabase};
use authward::schema::UserFields;
use authward::strategy::DatabaseStrategy;
use authward::{BoxError, User, UserManager};
use axum::Router;
use serde::{Deserialize, Serialize};
use time::Duration;

/// The application's own field, stored beside Beanie's in each user document.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Profile {
    #[serde(default)]
    nickname: String,
}

/// What registration and `PATCH /users/me` may set.
#[derive(Debug, Deserialize)]
struct NicknameOnly {
    nickname: Option<String>,
}

impl UserFields for Profile {
    type Create = NicknameOnly;
    type Update = NicknameOnly;
    type AdminUpdate = NicknameOnly;

    fn from_create(fields: NicknameOnly) -> Self {
        Self {
            nickname: fields.nickname.unwrap_or_default(),
        }
    }
    fn apply_update(&mut self, fields: NicknameOnly) -> bool {
        fields.nickname.map(|n| self.nickname = n).is_some()
    }
    fn apply_admin_update(&mut self, fields: NicknameOnly) -> bool {
        self.apply_update(fields)
    }
}

type AppUser = User<ObjectId, Profile>;

fn env(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let url = env(
        "MONGODB_URL",
        "mongodb://127.0.0.1:27017/?directConnection=true",
    );
    let secret = env("AUTHWARD_SECRET", "change-me-change-me-change-me-change-me");
    let bind = env("AUTHWARD_BIND", "127.0.0.1:8000");

    // Fail-fast defaults: 2 s to find a server, 2 s to connect, and a ping now.
    let client = authward::mongodb::connect(&url).await?;
    let db = client.database(&env("MONGODB_DATABASE", "app"));
    let users = MongoUserDatabase::<AppUser>::new(&db);
    users.bootstrap().await?;
    let lifetime = Duration::hours(1);
    let tokens = MongoAccessTokenDatabase::<ObjectId>::new(&db).with_lifetime(Some(lifetime));
    tokens.bootstrap().await?;

    let manager = UserManager::builder(users, &secret).build()?;
    let strategy = Arc::new(DatabaseStrategy::new(tokens, Some(lifetime)));
    let backend = AuthBackend::new(
        "db",
        Transport::Bearer(BearerTransport::new("auth/db/login")),
        strategy.clone(),
    )
    .with_sessions(strategy);
    let aw = Authward::new(manager, vec![backend], AuthwardConfig::default())?;
    let app = Router::new()
        .nest("/auth/db", aw.auth_router("db"))
        .nest("/auth", aw.register_router())
        .nest("/auth", aw.reset_password_router())
        .nest("/auth", aw.verify_router())
        .nest("/users", aw.users_router());

    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("listening on http://{bind}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    // End the driver's server sessions before the runtime stops.
    client.shutdown().await;
    Ok(())
}
