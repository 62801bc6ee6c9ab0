//! The users a refresh token may still be exchanged for.

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use authward_core::strategy::UserLookup;
use authward_core::{AuthUser, DbError};

/// A [`UserLookup`] that hides the users `/login` would refuse for want of verification
/// (when the app requires it), so a refresh cannot mint tokens a login would not. An inactive
/// or missing user is already refused by the exchange itself.
pub(super) struct LoginAllowed<'a, U: AuthUser> {
    users: &'a dyn UserLookup<U>,
    requires_verification: bool,
    unverified: AtomicBool,
}

impl<'a, U: AuthUser> LoginAllowed<'a, U> {
    pub(super) fn new(users: &'a dyn UserLookup<U>, requires_verification: bool) -> Self {
        Self {
            users,
            requires_verification,
            unverified: AtomicBool::new(false),
        }
    }

    /// True when a user was hidden for being unverified.
    pub(super) fn refused_unverified(&self) -> bool {
        self.unverified.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl<U: AuthUser> UserLookup<U> for LoginAllowed<'_, U> {
    async fn user_by_id(&self, id: &U::Id) -> Result<Option<U>, DbError> {
        let user = self.users.user_by_id(id).await?;
        if self.requires_verification
            && user
                .as_ref()
                .is_some_and(|u| u.is_active() && !u.is_verified())
        {
            self.unverified.store(true, Ordering::Relaxed);
            return Ok(None);
        }
        Ok(user)
    }
}
