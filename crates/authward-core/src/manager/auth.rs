//! Login: checking an email and password, upgrading legacy hashes, the after-login hook.

use super::{ManagerError, RequestInfo, UserManager, call_hook};
use crate::db::UserDatabase;
use crate::password::Verification;
use crate::user::AuthUser;

impl<DB: UserDatabase> UserManager<DB> {
    /// Checks an email and password; `Ok(None)` for bad credentials.
    ///
    /// - An unknown email still runs one password verification (against a dummy hash made with the
    ///   current parameters), so response time does not reveal which emails exist; with [legacy
    ///   hash classes](crate::password::PasswordHelper::with_legacy_hash_classes) declared, every
    ///   login verifies one hash of each class (the user's own and dummies), so an adopted, not yet
    ///   upgraded hash is no more expensive than an unknown email.
    /// - A password longer than the policy's maximum is refused before any lookup or hashing.
    /// - A correct password whose stored hash is legacy (bcrypt, older argon2 parameters) is
    ///   re-hashed and saved (one conditional write, [`UserDatabase::replace_password_hash`]);
    ///   the updated user is returned. If hashing or saving fails, the failure is logged and
    ///   the login still succeeds while the stored hash is the one checked. If the password
    ///   was changed while it was being checked, nothing is saved and the answer is
    ///   `Ok(None)`: the password checked is no longer the user's.
    /// - Like FastAPI Users, inactive users are returned too: the caller decides (the login route
    ///   answers `LOGIN_BAD_CREDENTIALS` for them).
    ///
    /// [`Hooks::on_after_login`](super::Hooks::on_after_login) is not called here (see
    /// [`UserManager::after_login`]).
    pub async fn authenticate(
        &self,
        email: &str,
        password: &str,
        _request: Option<&RequestInfo>,
    ) -> Result<Option<DB::User>, ManagerError> {
        if password.len() > self.inner.policy.max_bytes() {
            return Ok(None);
        }
        let Some(user) = self.inner.db.get_by_email(email.trim()).await? else {
            self.inner.passwords.verify_dummy(password).await?;
            return Ok(None);
        };
        match self
            .inner
            .passwords
            .verify_padded(password, user.hashed_password())
            .await?
        {
            Verification::Invalid => Ok(None),
            Verification::Valid => Ok(Some(user)),
            Verification::ValidNeedsRehash => self.rehash(user, password).await,
        }
    }

    /// Replaces a legacy hash after a successful login; returns the freshest user available,
    /// or `None` when the password was changed while it was being checked (the one checked is
    /// no longer the user's, and writing its new hash would undo the change).
    async fn rehash(
        &self,
        user: DB::User,
        password: &str,
    ) -> Result<Option<DB::User>, ManagerError> {
        match self.inner.passwords.hash(password).await {
            Ok(hashed_password) => {
                // One conditional write: it lands only while the stored hash is still the one
                // checked, so a password change made while the login was checked (or this hash
                // was made) is never overwritten by the hash of the old password.
                let written = self
                    .inner
                    .db
                    .replace_password_hash(user.id(), user.hashed_password(), hashed_password)
                    .await;
                match written {
                    Ok(Some(updated)) => return Ok(Some(updated)),
                    Ok(None) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, user_id = %user.id(), "saving an upgraded password hash failed");
                    }
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, user_id = %user.id(), "re-hashing a legacy password hash failed");
            }
        }
        // Nothing was written (the hash changed meanwhile, or hashing or the write failed):
        // whether the password still signs in decides. It does when the hash is still the one checked (a
        // failed write), or another login upgraded it (or the password was set to the same
        // one); otherwise the password was changed, and the one checked is no longer the
        // user's. (Read by email, which no cache answers.)
        match self.inner.db.get_by_email(user.email()).await? {
            Some(current)
                if current.id() == user.id()
                    && (current.hashed_password() == user.hashed_password()
                        || self.verifies(password, current.hashed_password()).await?) =>
            {
                Ok(Some(current))
            }
            _ => Ok(None),
        }
    }

    /// Whether `password`, which signed `user` in a moment ago, still does: the stored user
    /// (read again by email, which no cache answers) is the same one, still active, and its
    /// password hash is the one checked or one `password` verifies against (another login may
    /// have upgraded a legacy hash meanwhile).
    ///
    /// The login route asks this after storing its tokens, and withdraws them when the answer
    /// is no: a password change writes the user before revoking every session, so either this
    /// sees the change, or the revocation comes after the tokens were stored and ends them.
    pub async fn still_signs_in(
        &self,
        user: &DB::User,
        password: &str,
    ) -> Result<bool, ManagerError> {
        let Some(stored) = self.inner.db.get_by_email(user.email()).await? else {
            return Ok(false);
        };
        if stored.id() != user.id() || !stored.is_active() {
            return Ok(false);
        }
        if stored.hashed_password() == user.hashed_password() {
            return Ok(true);
        }
        self.verifies(password, stored.hashed_password()).await
    }

    /// Whether `password` verifies against `hash`.
    async fn verifies(&self, password: &str, hash: &str) -> Result<bool, ManagerError> {
        let verification = self.inner.passwords.verify(password, hash).await?;
        Ok(!matches!(verification, Verification::Invalid))
    }

    /// Calls [`Hooks::on_after_login`](super::Hooks::on_after_login); the HTTP layer calls it once
    /// the login response is ready.
    pub async fn after_login(
        &self,
        user: &DB::User,
        request: Option<&RequestInfo>,
    ) -> Result<(), ManagerError> {
        call_hook!(self, on_after_login(user, request))
    }
}
