//! Revoking sessions: what a strategy can end, why the manager asks, and the trait every
//! revoker implements.
//!
//! The user manager holds a list of revokers and calls every one of them whenever every
//! session of a user must end: log-out-everywhere, a password change or reset, a deactivation,
//! a deletion. Each authentication backend brings its own (a strategy knows how to revoke its
//! own sessions, [`Strategy::revoke_all`]); the axum integration registers them when it is
//! built, so they cannot be forgotten.

use std::sync::Arc;

use async_trait::async_trait;

use crate::id::UserId;
use crate::strategy::{Strategy, StrategyError};
use crate::user::AuthUser;

/// Why every session of a user is being revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevokeReason {
    /// The user asked to log out everywhere.
    LogoutAll,
    /// The password was changed (by the user or an administrator).
    PasswordChanged,
    /// The password was reset with a reset token.
    PasswordReset,
    /// The account was deactivated (`is_active` set to false): its sessions end, and stay
    /// ended when it is reactivated.
    Deactivated,
    /// The account was deleted.
    Deleted,
}

/// Something that can invalidate every outstanding token of one user.
#[async_trait]
pub trait SessionRevoker<ID: UserId>: Send + Sync {
    /// Invalidates every access and refresh token issued to `user_id` so far.
    ///
    /// [`StrategyError::RevokeAllNotSupported`] when it cannot for this `reason`.
    async fn revoke_all(&self, user_id: &ID, reason: RevokeReason) -> Result<(), StrategyError>;
}

/// What a strategy can end, decided when it is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    /// [`Strategy::destroy_token`] ends the one token presented (logout).
    pub logout: bool,
    /// [`Strategy::revoke_all`] ends every session of a user for every [`RevokeReason`]
    /// (log-out-everywhere, deactivation).
    pub revoke_all: bool,
}

impl Revocation {
    /// Logout and revoke-all both work.
    pub const FULL: Self = Self {
        logout: true,
        revoke_all: true,
    };
    /// Neither works: tokens live until they expire.
    pub const NONE: Self = Self {
        logout: false,
        revoke_all: false,
    };
}

/// A [`Strategy`] as a [`SessionRevoker`]: calls [`Strategy::revoke_all`].
pub struct StrategyRevoker<U: AuthUser> {
    strategy: Arc<dyn Strategy<U>>,
}

impl<U: AuthUser> StrategyRevoker<U> {
    /// Revokes through `strategy`.
    pub fn new(strategy: Arc<dyn Strategy<U>>) -> Self {
        Self { strategy }
    }

    /// The wrapped strategy.
    pub fn strategy(&self) -> &Arc<dyn Strategy<U>> {
        &self.strategy
    }
}

impl<U: AuthUser> std::fmt::Debug for StrategyRevoker<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrategyRevoker").finish_non_exhaustive()
    }
}

#[async_trait]
impl<U: AuthUser> SessionRevoker<U::Id> for StrategyRevoker<U> {
    async fn revoke_all(&self, user_id: &U::Id, reason: RevokeReason) -> Result<(), StrategyError> {
        self.strategy.revoke_all(user_id, reason).await
    }
}
