//! Token strategies: how a token becomes a user and a user becomes a token.
//!
//! A [`Strategy`] turns a token presented by a client into a user ([`Strategy::read_token`]),
//! issues tokens at login ([`Strategy::write_token`]) and destroys them at logout
//! ([`Strategy::destroy_token`]). Strategies are object-safe, so an application can hold several
//! at once (bearer + JWT, cookie + database) inside an [`Authenticator`], which tries them in
//! order.
//!
//! | strategy | state | revocation |
//! |---|---|---|
//! | [`JwtStrategy`] | none (optionally a [`JwtRevocationStore`]) | password change / reset statelessly (password fingerprint claim); logout and log-out-everywhere with a revocation store |
//! | [`DatabaseStrategy`] | any [`AccessTokenDatabase`](crate::AccessTokenDatabase) | logout deletes the token, log-out-everywhere deletes all of the user's tokens |
//!
//! [`RefreshTokens`] adds opt-in refresh tokens with rotation and reuse detection over any of
//! them ([`WithRefresh`]).
//!
//! # Outcome of reading a token
//!
//! [`Strategy::read_token`] answers `Ok(None)` for anything a client can get wrong: an empty,
//! malformed, expired, revoked or unknown token, an ID that does not parse, a user that no longer
//! exists. Only a failure of the server's own storage is an error ([`StrategyError::Db`]; its
//! [`DbError::Unavailable`] becomes `503` in the HTTP layer).
//!
//! **Inactive users are returned** (as FastAPI Users does): whether an inactive account may use a
//! route is the route's decision (`current_user(active = true)` answers `401`). Refreshing an
//! access token, which amounts to a new login, is refused for inactive users.

mod authenticator;
mod database;
pub mod jwt;
mod refresh;
mod token_gen;

use async_trait::async_trait;

use crate::db::UserDatabase;
use crate::error::{BoxError, DbError};
use crate::user::AuthUser;

pub use authenticator::{Authenticated, Authenticator, DuplicateBackendName};
pub use database::{DatabaseStrategy, Session};
pub use jwt::{
    JwtAlgorithm, JwtConfigError, JwtKey, JwtKeyError, JwtRevocationStore, JwtStrategy,
    JwtStrategyBuilder,
};
pub use refresh::{RefreshTokens, TokenPair, WithRefresh};
pub use token_gen::{RandomTokenError, generate_token, is_well_formed_token};

/// How a strategy reads a user by ID: implemented by every [`UserDatabase`] (blanket impl) and
/// by anything else that can load users (a user manager, a cache).
///
/// Object-safe, so strategies take `&dyn UserLookup<U>` and never depend on the store's type.
#[async_trait]
pub trait UserLookup<U: AuthUser>: Send + Sync {
    /// The user with this ID, if any.
    async fn user_by_id(&self, id: &U::Id) -> Result<Option<U>, DbError>;
}

#[async_trait]
impl<D, U> UserLookup<U> for D
where
    U: AuthUser,
    D: UserDatabase<U::Id, User = U> + ?Sized,
{
    async fn user_by_id(&self, id: &U::Id) -> Result<Option<U>, DbError> {
        self.get(id).await
    }
}

/// What can go wrong in a strategy, apart from "no user" (which is `Ok(None)`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StrategyError {
    /// A store (users, tokens, revocations) failed; [`DbError::Unavailable`] means `503`.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The strategy cannot destroy a single token (a JWT strategy without a revocation store).
    ///
    /// Like FastAPI Users' `StrategyDestroyNotSupportedError`: the logout route ignores it and
    /// answers `204`, the token stays valid until it expires.
    #[error("this strategy cannot destroy a token")]
    DestroyNotSupported,
    /// The strategy cannot revoke every token of a user (a JWT strategy without a revocation
    /// store can only revoke through a password change).
    #[error("this strategy cannot revoke every session without a revocation store")]
    RevokeAllNotSupported,
    /// The refresh token is unknown, malformed, expired, or belongs to a deleted or inactive
    /// user.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// An already-exchanged refresh token was presented again: its whole family has been
    /// revoked (RFC 9700 refresh token reuse detection).
    #[error("refresh token reused; every token of its family has been revoked")]
    RefreshTokenReused,
    /// The operating system's random number generator failed.
    #[error(transparent)]
    Random(#[from] RandomTokenError),
    /// Signing a token failed (a key the crypto backend rejected at signing time).
    #[error("token signing failed")]
    Signing(#[source] BoxError),
}

impl StrategyError {
    /// True when a store was unreachable (the HTTP layer answers `503`).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Db(e) if e.is_unavailable())
    }
}

/// Reads, issues and destroys tokens for users of type `U`.
///
/// Object-safe (`Arc<dyn Strategy<U>>`), so several can be held at once.
#[async_trait]
pub trait Strategy<U: AuthUser>: Send + Sync {
    /// The user a token belongs to.
    ///
    /// `Ok(None)` for every kind of bad token (empty, malformed, expired, revoked, unknown,
    /// deleted user); an error only when storage fails. Inactive users are returned.
    async fn read_token(
        &self,
        token: &str,
        users: &dyn UserLookup<U>,
    ) -> Result<Option<U>, StrategyError>;

    /// Issues a new token for `user` (login).
    async fn write_token(&self, user: &U) -> Result<String, StrategyError>;

    /// Destroys one token of `user` (logout).
    ///
    /// [`StrategyError::DestroyNotSupported`] when the strategy cannot (see its docs).
    async fn destroy_token(&self, token: &str, user: &U) -> Result<(), StrategyError>;
}
