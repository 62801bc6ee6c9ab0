//! # authward-core
//!
//! The storage-independent heart of authward: the user and token models, the storage traits
//! every adapter implements ([`UserDatabase`], [`OAuthUserDatabase`], [`AccessTokenDatabase`]),
//! the storage error type and an injectable clock.
//!
//! Adapters live in their own crates (`authward-sqlx`, `authward-redis`, ...); the feature
//! `memory` adds in-memory implementations of every trait, and `authward-testkit` holds the
//! conformance suites that every adapter, including yours, must pass.
//!
//! ```
//! use authward_core::{NewUser, User, UserId};
//!
//! let id = uuid::Uuid::parse_id("0b8ab2b4-7d0f-4a1e-9d2a-0d1f5f2b6a11").unwrap();
//! let user: User<uuid::Uuid> = NewUser::new("King.Arthur@camelot.bt", "$argon2id$...").into_user(id);
//! assert!(user.is_active && !user.is_superuser && !user.is_verified);
//! // The password hash never shows in debug output.
//! assert!(!format!("{user:?}").contains("argon2"));
//! ```

pub mod cache;
pub mod clock;
pub mod db;
pub mod email;
pub mod error;
pub mod failfast;
pub mod health;
pub mod id;
pub mod manager;
#[cfg(feature = "memory")]
pub mod memory;
pub mod oauth;
pub mod password;
pub mod policy;
pub mod schema;
pub mod strategy;
// The file says what it holds; the public path stays `authward_core::token`.
pub mod throttle;
#[path = "stored_token.rs"]
pub mod token;
pub mod user;

pub use clock::{Clock, ManualClock, SystemClock};
pub use db::{AccessTokenDatabase, IdOf, OAuthUserDatabase, UserDatabase};
pub use email::{InvalidEmail, email_key, validate_email};
pub use error::{BoxError, DbError, UniqueKey};
pub use failfast::FailFast;
pub use health::Ping;
pub use id::{InvalidId, UserId};
pub use manager::{ManagerError, UserManager};
pub use oauth::{NewOAuthAccount, OAuthAccount, OAuthAccountPatch};
pub use password::{
    Argon2Hasher, HashClass, PasswordError, PasswordHasher, PasswordHelper, Verification,
};
pub use policy::{InvalidPassword, PasswordPolicy};
pub use schema::{NoFields, UserFields, UserSchema};
pub use strategy::{
    Authenticator, DatabaseStrategy, JwtKey, JwtStrategy, RefreshTokens, Revocation, RevokeReason,
    SessionRevoker, Strategy, StrategyError, UserLookup, WithRefresh,
};
pub use token::{AccessToken, NewAccessToken, TokenDigest, TokenFamily};
pub use user::{AuthUser, NewUser, User, UserPatch, UserRecord};
