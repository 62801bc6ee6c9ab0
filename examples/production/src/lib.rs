//! # A production-shaped authward app
//!
//! What a team wiring authward into its own axum service needs, in one place:
//!
//! - users in **PostgreSQL**, with two fields of the application's own (`display_name`,
//!   `plan`) in real columns; registration may set the display name, a user may change it, only
//!   a superuser may change the plan (declared shapes: no mass assignment);
//! - **JWT** access tokens whose logout, log-out-everywhere, password change and deactivation
//!   end them (a revocation store in **Redis**);
//! - **refresh tokens** in Redis, rotated on every use, ended by logout;
//! - FastAPI Users' routes, `/ready`, and a route of the application's own that requires a
//!   **verified** user;
//! - every store behind `FailFast`, so an outage answers 503 at once.
//!
//! `main.rs` reads `DATABASE_URL`, `REDIS_URL` and `AUTHWARD_SECRET` and serves [`app`];
//! `tests/app.rs` drives the same router in process.

use std::sync::Arc;

use authward::axum::readiness::Readiness;
use authward::axum::{
    AuthBackend, Authward, AuthwardConfig, BearerTransport, Transport, VerifiedUser,
};
use authward::redis::{RedisAccessTokenDatabase, RedisTokenOptions};
use authward::schema::UserFields;
use authward::sqlx::sqlx::{PgPool, Postgres, Row};
use authward::sqlx::{ExtraColumn, ExtraColumns, SqlQuery, SqlxUserDatabase};
use authward::strategy::{JwtKey, JwtRevocationStore, JwtStrategy, RefreshTokens};
use authward::{BoxError, FailFast, User, UserManager};
use axum::Router;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use time::Duration;
use uuid::Uuid;

/// The application's own fields of a user, in columns of the `user` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Shown to other users; chosen at registration, changeable by the user.
    pub display_name: String,
    /// The subscription plan; only a superuser changes it.
    pub plan: String,
}

/// What registration and `PATCH /users/me` may set: the display name only.
#[derive(Deserialize)]
pub struct DisplayName {
    display_name: Option<String>,
}

/// What a superuser may set with `PATCH /users/{id}`.
#[derive(Deserialize)]
pub struct AdminProfile {
    display_name: Option<String>,
    plan: Option<String>,
}

impl UserFields for Profile {
    type Create = DisplayName;
    type Update = DisplayName;
    type AdminUpdate = AdminProfile;

    fn from_create(fields: DisplayName) -> Self {
        Profile {
            display_name: fields.display_name.unwrap_or_default(),
            plan: "free".into(),
        }
    }

    fn apply_update(&mut self, fields: DisplayName) -> bool {
        fields.display_name.map(|n| self.display_name = n).is_some()
    }

    fn apply_admin_update(&mut self, fields: AdminProfile) -> bool {
        let name = fields.display_name.map(|n| self.display_name = n).is_some();
        fields.plan.map(|p| self.plan = p).is_some() || name
    }
}

/// `Profile` as two real columns (created by `migrate()` when missing).
pub struct ProfileColumns;

impl ExtraColumns<Postgres> for ProfileColumns {
    type Value = Profile;

    fn columns() -> &'static [ExtraColumn] {
        &[
            ExtraColumn {
                name: "display_name",
                sql_type: "VARCHAR(100) NOT NULL DEFAULT ''",
            },
            ExtraColumn {
                name: "plan",
                sql_type: "VARCHAR(20) NOT NULL DEFAULT 'free'",
            },
        ]
    }

    fn bind<'q>(p: &'q Profile, query: SqlQuery<'q, Postgres>) -> SqlQuery<'q, Postgres> {
        query.bind(&p.display_name).bind(&p.plan)
    }

    fn decode(
        row: &authward::sqlx::sqlx::postgres::PgRow,
    ) -> Result<Profile, authward::sqlx::sqlx::Error> {
        Ok(Profile {
            display_name: row.try_get("display_name")?,
            plan: row.try_get("plan")?,
        })
    }
}

/// The user type: the ready-made `User` with the application's fields.
pub type AppUser = User<Uuid, Profile>;
/// The user store.
pub type Users = FailFast<SqlxUserDatabase<Postgres, Uuid, ProfileColumns>>;

/// Settings of [`app`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// Signs JWTs and verify / reset tokens (at least 32 bytes).
    pub secret: String,
    /// `redis://...`.
    pub redis_url: String,
    /// Prefix of every Redis key (several apps, or test runs, can share a server).
    pub redis_prefix: String,
    /// How long an access token lives.
    pub access_lifetime: Duration,
    /// How long a refresh token lives.
    pub refresh_lifetime: Duration,
}

/// Builds the whole application over `pool` (migrated here) and Redis.
pub async fn app(pool: PgPool, settings: &Settings) -> Result<(Router, Authward<Users>), BoxError> {
    let store = SqlxUserDatabase::<Postgres, Uuid, ProfileColumns>::new(pool)?;
    store.migrate().await?;
    let users = FailFast::new(store);

    let redis = |kind: &str, lifetime: Duration| {
        RedisTokenOptions::new()
            .key_prefix(format!("{}{kind}:", settings.redis_prefix))
            .lifetime(Some(lifetime))
    };
    let revocations = FailFast::new(
        RedisAccessTokenDatabase::<Uuid>::connect(
            &settings.redis_url,
            redis("jwt-revocation", settings.access_lifetime),
        )
        .await?,
    );
    let refresh_tokens = FailFast::new(
        RedisAccessTokenDatabase::<Uuid>::connect(
            &settings.redis_url,
            redis("refresh", settings.refresh_lifetime),
        )
        .await?,
    );

    let jwt = JwtStrategy::builder(JwtKey::hs256(&settings.secret)?, settings.access_lifetime)
        .revocations(JwtRevocationStore::new(revocations.clone()))
        .build()?;
    let backend = AuthBackend::new(
        "jwt",
        Transport::Bearer(BearerTransport::new("auth/jwt/login")),
        Arc::new(jwt),
    )
    .with_refresh(RefreshTokens::new(
        refresh_tokens,
        settings.refresh_lifetime,
    ));

    let manager = UserManager::builder(users.clone(), &settings.secret).build()?;
    // The backend brings its revokers (the JWT revocations, the refresh tokens): `new`
    // registers them with the manager, so every way a session must end ends it.
    let aw = Authward::new(manager, vec![backend], AuthwardConfig::default())?;

    let ready = Readiness::new()
        .check("postgres", users)
        .check("redis", revocations);
    let router = Router::new()
        .nest("/auth/jwt", aw.auth_router("jwt"))
        .nest("/auth", aw.register_router())
        .nest("/auth", aw.reset_password_router())
        .nest("/auth", aw.verify_router())
        .nest("/users", aw.users_router())
        .merge(
            Router::new()
                .route("/dashboard", get(dashboard))
                .with_state(aw.clone()),
        )
        .merge(ready.router());
    Ok((router, aw))
}

/// A route of the application's own, for verified users only (401 without a user, 403 when
/// unverified).
async fn dashboard(
    VerifiedUser { user, .. }: VerifiedUser<AppUser>,
) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "hello": user.extra.display_name,
        "plan": user.extra.plan,
    }))
}
