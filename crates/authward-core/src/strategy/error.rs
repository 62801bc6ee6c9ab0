//! What a strategy can fail with.

use crate::error::{BoxError, DbError};
use crate::strategy::random_token::RandomTokenError;

/// What can go wrong in a strategy, apart from "no user" (which is `Ok(None)`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StrategyError {
    /// A store (users, tokens, revocations) failed; [`DbError::Unavailable`] means `503`.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The strategy cannot destroy a single token (a JWT strategy without a revocation store).
    #[error("this strategy cannot destroy a token")]
    DestroyNotSupported,
    /// The strategy cannot revoke every token of a user for this reason (a JWT strategy
    /// without a revocation store can only revoke through a password change).
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
