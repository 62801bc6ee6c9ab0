//! # sea-orm-example
//!
//! authward over an application's own SeaORM user entity ([`user`]) with two columns of its
//! own, `display_name` (set at registration, changed by the user) and `plan` (changed by
//! administrators only), with every FastAPI Users router mounted:
//!
//! - `POST /auth/register`, `POST /auth/jwt/login`, `POST /auth/jwt/logout`;
//! - `POST /auth/forgot-password`, `POST /auth/reset-password`;
//! - `POST /auth/request-verify-token`, `POST /auth/verify`;
//! - `GET|PATCH /users/me`, `GET|PATCH|DELETE /users/{id}`.
//!
//! The schema is authward's ([`authward::sea_orm::migration::AuthTables`]) followed by the
//! application's own migration adding its columns ([`migration`]).

pub mod migration;
pub mod user;

use std::sync::Arc;

use authward::axum::{AuthBackend, Authward, AuthwardConfig, BearerTransport, Transport};
use authward::sea_orm::entities::uuid_id::oauth_account;
use authward::sea_orm::sea_orm::DatabaseConnection;
use authward::sea_orm::sea_orm_migration::MigratorTrait;
use authward::sea_orm::{SeaOrmAccessTokens, SeaOrmUsers};
use authward::strategy::{JwtKey, JwtRevocationStore, JwtStrategy};
use authward::{BoxError, PasswordHelper, UserManager};
use axum::Router;
use time::Duration;
use uuid::Uuid;

/// The user store: the application's entity, and the ready-made OAuth account entity.
pub type Users = SeaOrmUsers<user::Entity, oauth_account::Entity>;

/// Migrates `db` and builds the application's router.
///
/// `secret` signs JWTs and reset / verify tokens (at least 32 bytes); `passwords` hashes them.
pub async fn app(
    db: DatabaseConnection,
    secret: &str,
    passwords: PasswordHelper,
) -> Result<Router, BoxError> {
    migration::Migrator::up(&db, None).await?;
    let users = Users::new(db.clone());
    let revocations = JwtRevocationStore::new(SeaOrmAccessTokens::<
        migration::jwt_revocation::Entity,
        Uuid,
    >::new(db));
    let lifetime = Duration::hours(1);
    let jwt = JwtStrategy::builder(JwtKey::hs256(secret)?, lifetime)
        .revocations(revocations)
        .build()?;
    let manager = UserManager::builder(users, secret)
        .password_helper(passwords)
        .build()?;
    let backend = AuthBackend::new(
        "jwt",
        Transport::Bearer(BearerTransport::new("auth/jwt/login")),
        Arc::new(jwt),
    );
    let aw = Authward::new(manager, vec![backend], AuthwardConfig::default())?;
    Ok(Router::new()
        .nest("/auth/jwt", aw.auth_router("jwt"))
        .nest("/auth", aw.register_router())
        .nest("/auth", aw.reset_password_router())
        .nest("/auth", aw.verify_router())
        .nest("/users", aw.users_router()))
}
