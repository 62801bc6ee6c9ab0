//! # authward-axum
//!
//! authward for axum: transports (bearer and cookie), CSRF defence for cookies, extractors for
//! the current user, and routers that reproduce FastAPI Users' HTTP contract (paths, status
//! codes, JSON shapes and `detail` error codes), so existing front ends keep working.
//!
//! ## A complete application
//!
//! Users in PostgreSQL with two fields of the application's own, JWT access tokens that logout
//! and log-out-everywhere really end (a revocation store in Redis), refresh tokens in Redis, and
//! a route of the application's own for verified users only. `examples/production` is this app
//! with a `main` and a test.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use authward_axum::{AuthBackend, Authward, AuthwardConfig, BearerTransport, Transport,
//!     VerifiedUser};
//! use authward_core::schema::UserFields;
//! use authward_core::strategy::{JwtKey, JwtRevocationStore, JwtStrategy, RefreshTokens};
//! use authward_core::{FailFast, User, UserManager};
//! use authward_redis::{RedisAccessTokenDatabase, RedisTokenOptions};
//! use authward_sqlx::sqlx::{PgPool, Postgres};
//! use authward_sqlx::{JsonExtra, SqlxUserDatabase};
//! use serde::{Deserialize, Serialize};
//! use time::Duration;
//! use uuid::Uuid;
//!
//! /// The application's fields (here in one JSON column; `ExtraColumns` maps real columns).
//! #[derive(Clone, Debug, Default, Serialize, Deserialize)]
//! struct Profile {
//!     display_name: String,
//!     plan: String,
//! }
//!
//! /// Registration and `PATCH /users/me` may set the display name, nothing else.
//! #[derive(Deserialize)]
//! struct DisplayName {
//!     display_name: Option<String>,
//! }
//!
//! impl UserFields for Profile {
//!     type Create = DisplayName;
//!     type Update = DisplayName;
//!     type AdminUpdate = Profile; // a superuser sets both (send both)
//!     fn from_create(f: DisplayName) -> Self {
//!         Profile { display_name: f.display_name.unwrap_or_default(), plan: "free".into() }
//!     }
//!     fn apply_update(&mut self, f: DisplayName) -> bool {
//!         f.display_name.map(|n| self.display_name = n).is_some()
//!     }
//!     fn apply_admin_update(&mut self, f: Profile) -> bool {
//!         *self = f;
//!         true
//!     }
//! }
//!
//! type AppUser = User<Uuid, Profile>;
//!
//! /// A route of the application's own: 401 without a user, 403 when unverified.
//! async fn dashboard(VerifiedUser { user, .. }: VerifiedUser<AppUser>) -> String {
//!     format!("hello {}", user.extra.display_name)
//! }
//!
//! async fn app(pool: PgPool, secret: &str) -> Result<axum::Router, authward_core::BoxError> {
//!     let users = SqlxUserDatabase::<Postgres, Uuid, JsonExtra<Profile>>::new(pool)?;
//!     users.migrate().await?;
//!     let users = FailFast::new(users); // 503 at once while PostgreSQL is down
//!
//!     let redis = "redis://127.0.0.1:6379/";
//!     let options = |prefix: &str, lifetime| {
//!         RedisTokenOptions::new().key_prefix(prefix).lifetime(Some(lifetime))
//!     };
//!     let revocations = RedisAccessTokenDatabase::<Uuid>::connect(
//!         redis, options("app:jwt-revoked:", Duration::minutes(15))).await?;
//!     let refresh = RedisAccessTokenDatabase::<Uuid>::connect(
//!         redis, options("app:refresh:", Duration::days(30))).await?;
//!
//!     let jwt = JwtStrategy::builder(JwtKey::hs256(secret)?, Duration::minutes(15))
//!         .revocations(JwtRevocationStore::new(FailFast::new(revocations)))
//!         .build()?;
//!     let backend = AuthBackend::new(
//!         "jwt",
//!         Transport::Bearer(BearerTransport::new("auth/jwt/login")),
//!         Arc::new(jwt),
//!     )
//!     .with_refresh(RefreshTokens::new(FailFast::new(refresh), Duration::days(30)));
//!
//!     let manager = UserManager::builder(users, secret).build()?;
//!     // Each backend brings its revokers; `new` registers them with the manager, so logout,
//!     // log-out-everywhere, a password change or reset, a deactivation and a deletion end the
//!     // sessions (and the refresh tokens) with no wiring.
//!     let aw = Authward::new(manager, vec![backend], AuthwardConfig::default())?;
//!     Ok(axum::Router::new()
//!         .nest("/auth/jwt", aw.auth_router("jwt")) // login, logout, logout-all, refresh
//!         .nest("/auth", aw.register_router())
//!         .nest("/auth", aw.reset_password_router())
//!         .nest("/auth", aw.verify_router())
//!         .nest("/users", aw.users_router())
//!         .merge(axum::Router::new()
//!             .route("/dashboard", axum::routing::get(dashboard))
//!             .with_state(aw)))
//! }
//! ```
//!
//! The first administrator: `aw.manager().create_superuser(email, password)`.
//!
//! ## How it fits together
//!
//! Build an [`Authward`] from a [`UserManager`](authward_core::UserManager) and one or more
//! [`AuthBackend`]s, then mount its routers (see [`routes`]). Every rejection — malformed JSON,
//! wrong content type, oversized body, store outage — answers JSON in FastAPI's
//! `{"detail": ...}` shape. The application's own fields follow the shapes its user type
//! declares ([`UserSchema`](authward_core::schema::UserSchema)): nothing a request did not
//! declare is written. Extractors ([`CurrentUser`], [`VerifiedUser`], [`Superuser`],
//! [`MaybeUser`]) work in the application's own routes whose state is the `Authward` (or
//! provides an [`AuthResolver`] through `FromRef`). [`readiness`] serves `/ready`. Wrong
//! methods answer FastAPI's JSON 405; [`fallback::json_fallbacks`] gives the whole application
//! its JSON 404 and 405.

pub mod backend;
pub mod body;
pub mod csrf;
pub mod error;
mod error_body;
pub mod extract;
pub mod fallback;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod readiness;
pub mod routes;
pub mod schema;
pub mod state;
pub mod throttle;
pub mod transport;

pub use backend::{AuthBackend, RefreshFlow, SessionList};
pub use body::{ApiJson, BodyLimit, LoginForm};
pub use csrf::CsrfPolicy;
pub use error::{ApiError, ErrorCode, ValidationIssue};
pub use extract::{
    AnyUser, AuthResolver, CurrentUser, Found, MaybeUser, Requirements, Superuser, VerifiedUser,
};
pub use state::{Authward, AuthwardConfig, BuildError, HttpUserDb};
pub use throttle::{RouteClass, RouteLimits, ThrottleConfig};
pub use transport::{BearerTransport, CookieSameSite, CookieTransport, IssuedRefresh, Transport};
