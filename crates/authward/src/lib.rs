//! # authward
//!
//! User authentication for axum that speaks FastAPI Users' HTTP contract (paths, status codes,
//! JSON shapes, `detail` error codes), so existing front ends keep working. This crate is the
//! one dependency an application needs: the core (users, tokens, strategies, the user manager)
//! at its root, and each storage adapter and integration as a module behind a cargo feature.
//!
//! ## A production-shaped application
//!
//! Users in PostgreSQL with two fields of the application's own, JWT access tokens that
//! logout and log-out-everywhere really end (a revocation store in Redis), refresh tokens in
//! Redis, and a route of the application's own for verified users only. `examples/production`
//! is this app with a `main` and a test. Features: `axum`, `sqlx-postgres`, `redis`.
//!
#![cfg_attr(
    all(feature = "axum", feature = "sqlx-postgres", feature = "redis"),
    doc = "```no_run"
)]
#![cfg_attr(
    not(all(feature = "axum", feature = "sqlx-postgres", feature = "redis")),
    doc = "```ignore"
)]
//! use std::sync::Arc;
//!
//! use authward::prelude::*;
//! use authward::redis::{RedisAccessTokenDatabase, RedisTokenOptions};
//! use authward::sqlx::sqlx::{PgPool, Postgres};
//! use authward::sqlx::{JsonExtra, SqlxUserDatabase};
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
//! async fn app(pool: PgPool, secret: &str) -> Result<axum::Router, BoxError> {
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
//!     let app = axum::Router::new()
//!         .nest("/auth/jwt", aw.auth_router("jwt")) // login, logout, logout-all, refresh
//!         .nest("/auth", aw.register_router())
//!         .nest("/auth", aw.reset_password_router())
//!         .nest("/auth", aw.verify_router())
//!         .nest("/users", aw.users_router())
//!         .merge(axum::Router::new()
//!             .route("/dashboard", axum::routing::get(dashboard))
//!             .with_state(aw));
//!     // FastAPI's JSON 404 and 405 for the whole application.
//!     Ok(json_fallbacks(app))
//! }
//! ```
//!
//! The first administrator: `aw.manager().create_superuser(email, password)`.
//!
//! ## Features
//!
//! | Feature | Module | What |
//! |---|---|---|
//! | `axum` (default) | [`axum`](mod@axum) | transports, extractors, FastAPI Users' routers |
//! | `openapi` | | the OpenAPI document of the routes |
//! | `sqlx-sqlite` (default), `sqlx-postgres`, `sqlx-mysql` | `sqlx` | storage over sqlx |
//! | `sea-orm-sqlite`, `sea-orm-postgres`, `sea-orm-mysql` | `sea_orm` | storage over the application's SeaORM entities |
//! | `mongodb` | `mongodb` | MongoDB storage (FastAPI Users' Beanie schema) |
//! | `redis` | `redis` | Redis token stores, strategy, throttle, cache invalidation |
//! | `oauth` | [`oauth`] | OAuth2 / OpenID Connect login and account association |
//! | `memory` | `memory` | in-memory stores |
//! | `testkit` | `testkit` | conformance suites for storage adapters |
//! | `full` | | all of the above |
//!
//! [`prelude`] holds the names an application uses most.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(inline)]
pub use authward_core::*;

pub mod oauth;
pub mod prelude;

/// In-memory implementations of every storage trait (tests, prototypes, single-process apps).
#[cfg(feature = "memory")]
#[cfg_attr(docsrs, doc(cfg(feature = "memory")))]
#[doc(inline)]
pub use authward_core::memory;

/// axum: transports (bearer, cookie), CSRF defence, extractors of the current user and the
/// routers of FastAPI Users' contract (`authward-axum`).
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[doc(inline)]
pub use authward_axum as axum;

/// Storage over sqlx on PostgreSQL, MySQL / MariaDB and SQLite (`authward-sqlx`).
#[cfg(any(
    feature = "sqlx-postgres",
    feature = "sqlx-mysql",
    feature = "sqlx-sqlite"
))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(
        feature = "sqlx-postgres",
        feature = "sqlx-mysql",
        feature = "sqlx-sqlite"
    )))
)]
#[doc(inline)]
pub use authward_sqlx as sqlx;

/// Storage over the application's own SeaORM entities on PostgreSQL, MySQL / MariaDB and
/// SQLite (`authward-sea-orm`).
#[cfg(any(
    feature = "sea-orm-postgres",
    feature = "sea-orm-mysql",
    feature = "sea-orm-sqlite"
))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(
        feature = "sea-orm-postgres",
        feature = "sea-orm-mysql",
        feature = "sea-orm-sqlite"
    )))
)]
#[doc(inline)]
pub use authward_sea_orm as sea_orm;

/// MongoDB storage over the official driver, compatible with FastAPI Users' Beanie schema
/// (`authward-mongodb`).
#[cfg(feature = "mongodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "mongodb")))]
#[doc(inline)]
pub use authward_mongodb as mongodb;

/// Redis (standalone and Redis Cluster): token stores, strategy, throttle and user-cache
/// invalidation (`authward-redis`).
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
#[doc(inline)]
pub use authward_redis as redis;

/// Conformance suites every storage adapter, including one of your own, must pass
/// (`authward-testkit`).
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
#[doc(inline)]
pub use authward_testkit as testkit;

#[cfg(doctest)]
mod book_doctests;
