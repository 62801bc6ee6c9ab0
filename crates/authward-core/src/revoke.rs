//! Revoking every session of a user.
//!
//! The user manager holds a list of revokers and calls each of them when a user's credentials
//! change (password reset, password change) or on "log out everywhere"; token strategies and
//! token stores implement it.

use async_trait::async_trait;

use crate::error::DbError;
use crate::id::UserId;

/// Something that can invalidate every outstanding token of one user.
#[async_trait]
pub trait SessionRevoker<ID: UserId>: Send + Sync {
    /// Invalidates every access and refresh token issued to `user_id` so far.
    async fn revoke_all(&self, user_id: &ID) -> Result<(), DbError>;
}
