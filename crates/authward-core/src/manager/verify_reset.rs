//! The token flows: email verification (request, verify) and password reset (forgot, reset).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::{ManagerError, RequestInfo, UserManager, call_hook, user_write_error};
use crate::db::{IdOf, UserDatabase};
use crate::id::UserId;
use crate::strategy::RevokeReason;
use crate::user::{AuthUser, UserPatch};

/// Removes a user ID from the in-flight reset set when dropped. It owns its share of the set:
/// a reset whose request is dropped while its write runs on (see `write_revoking`) keeps the
/// ID in the set until that write is done.
struct ResetGuard<ID: UserId> {
    set: Arc<Mutex<HashSet<ID>>>,
    id: ID,
}

impl<ID: UserId> Drop for ResetGuard<ID> {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .remove(&self.id);
    }
}

impl<DB: UserDatabase> UserManager<DB> {
    /// Makes a verification token (`{sub, email, aud: "fastapi-users:verify", exp}`, HS256) and
    /// hands it to [`Hooks::on_after_request_verify`](super::Hooks::on_after_request_verify); also
    /// returns it.
    ///
    /// [`ManagerError::UserInactive`] or [`ManagerError::UserAlreadyVerified`] otherwise (the route
    /// swallows both to avoid revealing anything).
    pub async fn request_verify(
        &self,
        user: &DB::User,
        request: Option<&RequestInfo>,
    ) -> Result<String, ManagerError> {
        if !user.is_active() {
            return Err(ManagerError::UserInactive);
        }
        if user.is_verified() {
            return Err(ManagerError::UserAlreadyVerified);
        }
        let token = self.inner.verify.issue_verify(
            user.id().to_string(),
            user.email(),
            self.inner.clock.now(),
        )?;
        call_hook!(self, on_after_request_verify(user, &token, request))?;
        Ok(token)
    }

    /// Verifies the user a verification token was made for, and returns it.
    ///
    /// The user is found by the token's `email` claim, so a token dies when the email changes; the
    /// `sub` claim must name the same user. Errors: [`ManagerError::InvalidVerifyToken`],
    /// [`ManagerError::UserAlreadyVerified`]. Calls
    /// [`Hooks::on_after_verify`](super::Hooks::on_after_verify).
    pub async fn verify(
        &self,
        token: &str,
        request: Option<&RequestInfo>,
    ) -> Result<DB::User, ManagerError> {
        let claims = self
            .inner
            .verify
            .decode_verify(token, self.inner.clock.now())
            .ok_or(ManagerError::InvalidVerifyToken)?;
        let user = self
            .inner
            .db
            .get_by_email(&claims.email)
            .await?
            .ok_or(ManagerError::InvalidVerifyToken)?;
        let id = IdOf::<DB>::parse_id(&claims.sub).map_err(|_| ManagerError::InvalidVerifyToken)?;
        if &id != user.id() {
            return Err(ManagerError::InvalidVerifyToken);
        }
        if user.is_verified() {
            return Err(ManagerError::UserAlreadyVerified);
        }
        let patch = UserPatch {
            is_verified: Some(true),
            ..UserPatch::default()
        };
        let verified = self
            .inner
            .db
            .update(&id, patch)
            .await
            .map_err(user_write_error)?;
        call_hook!(self, on_after_verify(&verified, request))?;
        Ok(verified)
    }

    /// Makes a reset-password token (`{sub, password_fgpt, aud: "fastapi-users:reset", exp}`,
    /// HS256) and hands it to
    /// [`Hooks::on_after_forgot_password`](super::Hooks::on_after_forgot_password); also returns
    /// it.
    ///
    /// [`ManagerError::UserInactive`] for an inactive user (the route swallows it).
    pub async fn forgot_password(
        &self,
        user: &DB::User,
        request: Option<&RequestInfo>,
    ) -> Result<String, ManagerError> {
        if !user.is_active() {
            return Err(ManagerError::UserInactive);
        }
        let token = self.inner.reset.issue_reset(
            user.id().to_string(),
            user.hashed_password(),
            user.email(),
            self.inner.clock.now(),
        )?;
        call_hook!(self, on_after_forgot_password(user, &token, request))?;
        Ok(token)
    }

    /// Sets a new password with a reset token, revokes every session of the user, and returns the
    /// updated user.
    ///
    /// The token works once: its fingerprint covers the password hash (which the reset replaces)
    /// and the email. Sessions are revoked before the password is stored and once more after (a
    /// login with the old password in between cannot survive); when the first revocation fails
    /// nothing is changed. Errors: [`ManagerError::InvalidResetPasswordToken`] (bad, expired,
    /// reused, or used concurrently), [`ManagerError::UserNotExists`],
    /// [`ManagerError::UserInactive`], [`ManagerError::InvalidPassword`], the revocation errors of
    /// [`UserManager::revoke_all_sessions`]. Calls
    /// [`Hooks::on_after_reset_password`](super::Hooks::on_after_reset_password).
    pub async fn reset_password(
        &self,
        token: &str,
        password: &str,
        request: Option<&RequestInfo>,
    ) -> Result<DB::User, ManagerError>
    where
        DB: 'static,
    {
        let claims = self
            .inner
            .reset
            .decode_reset(token, self.inner.clock.now())
            .ok_or(ManagerError::InvalidResetPasswordToken)?;
        let id = IdOf::<DB>::parse_id(&claims.sub)
            .map_err(|_| ManagerError::InvalidResetPasswordToken)?;
        let guard = self.begin_reset(&id)?;
        let user = self.get(&id).await?;
        if !self.inner.reset.fingerprint_matches(
            &claims.password_fgpt,
            &claims.sub,
            user.hashed_password(),
            user.email(),
        ) {
            return Err(ManagerError::InvalidResetPasswordToken);
        }
        if !user.is_active() {
            return Err(ManagerError::UserInactive);
        }
        self.inner.policy.validate(password, user.email())?;
        let patch = UserPatch {
            hashed_password: Some(self.inner.passwords.hash(password).await?),
            ..UserPatch::default()
        };
        let updated = self
            .write_revoking(&id, patch, Some(RevokeReason::PasswordReset), guard)
            .await?;
        call_hook!(self, on_after_reset_password(&updated, request))?;
        Ok(updated)
    }

    fn begin_reset(&self, id: &IdOf<DB>) -> Result<ResetGuard<IdOf<DB>>, ManagerError> {
        let set = &self.inner.resets_in_flight;
        let fresh = set
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(id.clone());
        if fresh {
            Ok(ResetGuard {
                set: Arc::clone(set),
                id: id.clone(),
            })
        } else {
            Err(ManagerError::InvalidResetPasswordToken)
        }
    }
}
