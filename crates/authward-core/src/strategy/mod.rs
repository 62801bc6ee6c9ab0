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
//! | [`JwtStrategy`] | none (optionally a [`JwtRevocationStore`]) | password change / reset statelessly (password fingerprint claim); logout, log-out-everywhere and deactivation with a revocation store |
//! | [`DatabaseStrategy`] | any [`AccessTokenDatabase`](crate::AccessTokenDatabase) | logout deletes the token; log-out-everywhere, password change, deactivation delete all of the user's tokens |
//!
//! [`RefreshTokens`] adds opt-in refresh tokens with rotation and reuse detection over any of
//! them ([`WithRefresh`]).
//!
//! Every strategy says what it can revoke ([`Strategy::revocation`]) and revokes its own
//! sessions ([`Strategy::revoke_all`]); the manager calls every registered
//! [`SessionRevoker`] when all of a user's sessions must end.
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
mod error;
pub mod jwt;
mod random_token;
mod refresh;
mod refresh_exchange;
mod refresh_marks;
mod revoke;
mod token_store;

use async_trait::async_trait;

use crate::db::{IdOf, UserDatabase};
use crate::error::DbError;
use crate::user::AuthUser;

pub use authenticator::{Authenticated, Authenticator, DuplicateBackendName};
pub use database::{DatabaseStrategy, Session};
pub use error::StrategyError;
pub use jwt::{
    JwtAlgorithm, JwtConfigError, JwtKey, JwtKeyError, JwtRevocationStore, JwtStrategy,
    JwtStrategyBuilder,
};
pub use random_token::{RandomTokenError, generate_token, is_well_formed_token};
pub use refresh::{RefreshTokens, TokenPair, WithRefresh};
pub use refresh_exchange::Exchanged;
pub use revoke::{Revocation, RevokeReason, SessionRevoker, StrategyRevoker};

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
impl<D> UserLookup<D::User> for D
where
    D: UserDatabase + ?Sized,
{
    async fn user_by_id(&self, id: &IdOf<D>) -> Result<Option<D::User>, DbError> {
        self.get(id).await
    }
}

/// Reads, issues and revokes tokens for users of type `U`.
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
    /// [`StrategyError::DestroyNotSupported`] when the strategy cannot
    /// ([`Revocation::logout`] is false).
    async fn destroy_token(&self, token: &str, user: &U) -> Result<(), StrategyError>;

    /// Ends every session of the user `user_id` issued by this strategy.
    ///
    /// [`StrategyError::RevokeAllNotSupported`] when it cannot for this `reason` (a strategy
    /// whose [`Revocation::revoke_all`] is false may still cover some reasons, such as a JWT
    /// strategy whose password fingerprint ends its tokens on a password change).
    async fn revoke_all(&self, user_id: &U::Id, reason: RevokeReason) -> Result<(), StrategyError>;

    /// What this strategy, as configured, can revoke.
    fn revocation(&self) -> Revocation;
}
