//! Session revocation: the registered [`SessionRevoker`]s, and writes that revoke every
//! session of a user.

use std::sync::Arc;

use super::{ManagerError, Revoker, UserManager, revocation_error, user_write_error};
use crate::db::{IdOf, UserDatabase};
use crate::strategy::{RevokeReason, SessionRevoker};
use crate::user::UserPatch;

impl<DB: UserDatabase> UserManager<DB> {
    /// Registers a revoker (see
    /// [`UserManagerBuilder::revoker`](super::UserManagerBuilder::revoker)) on a built manager, for
    /// every clone of it. The axum integration calls it for each authentication backend.
    /// Registering the same `Arc` twice keeps one.
    pub fn add_revoker(&self, revoker: Arc<dyn SessionRevoker<IdOf<DB>>>) {
        let mut revokers = self
            .inner
            .revokers
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        if !revokers.iter().any(|known| Arc::ptr_eq(known, &revoker)) {
            revokers.push(revoker);
        }
    }

    /// How many revokers are registered.
    pub fn revoker_count(&self) -> usize {
        self.revokers().len()
    }

    pub(super) fn revokers(&self) -> Vec<Revoker<DB>> {
        self.inner
            .revokers
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    /// Calls every registered [`SessionRevoker`] for this user ("log out everywhere").
    ///
    /// Every revoker is tried even if one fails; the first failure is returned.
    /// [`ManagerError::NoSessionRevoker`] when none is registered (unless the manager was
    /// built [`without_sessions`](super::UserManagerBuilder::without_sessions)): an answer of
    /// "done" would be a lie.
    ///
    /// Every revoker runs to its end even if this call is dropped (a client gone, a timeout):
    /// a log-out-everywhere is never left half done.
    pub async fn revoke_all_sessions(&self, user_id: &IdOf<DB>) -> Result<(), ManagerError>
    where
        DB: 'static,
    {
        self.revoke_detached(user_id, RevokeReason::LogoutAll).await
    }

    pub(super) async fn revoke(
        &self,
        user_id: &IdOf<DB>,
        reason: RevokeReason,
    ) -> Result<(), ManagerError> {
        let revokers = self.revokers();
        if revokers.is_empty() {
            return if self.inner.without_sessions {
                Ok(())
            } else {
                Err(ManagerError::NoSessionRevoker)
            };
        }
        let mut first_error = None;
        for revoker in &revokers {
            if let Err(err) = revoker.revoke_all(user_id, reason).await {
                tracing::error!(error = %err, user_id = %user_id, ?reason, "revoking sessions failed");
                first_error.get_or_insert(err);
            }
        }
        match first_error {
            None => Ok(()),
            Some(err) => Err(revocation_error(err)),
        }
    }
}

impl<DB: UserDatabase + 'static> UserManager<DB> {
    /// Stores `patch`; when `reason` is given, every session is revoked before (a failure
    /// changes nothing) and after (sessions opened in between die too).
    ///
    /// The write and the revocation after it run on a task of their own: a request dropped
    /// once the write has begun (a client gone, a timeout) still ends the sessions a login
    /// with the old password opened in between. `hold` (a reset's in-flight guard) is
    /// dropped once both are done.
    pub(super) async fn write_revoking<H: Send + 'static>(
        &self,
        id: &IdOf<DB>,
        patch: UserPatch<DB::Extra>,
        reason: Option<RevokeReason>,
        hold: H,
    ) -> Result<DB::User, ManagerError> {
        if let Some(reason) = reason {
            self.revoke(id, reason).await?;
        }
        let (this, id) = (self.clone(), id.clone());
        let write = async move {
            let updated = this
                .inner
                .db
                .update(&id, patch)
                .await
                .map_err(user_write_error)?;
            if let Some(reason) = reason {
                this.revoke(&id, reason).await?;
            }
            drop(hold);
            Ok(updated)
        };
        on_own_task(write).await
    }

    /// [`UserManager::revoke_all_sessions`], run on a task of its own.
    pub(super) async fn revoke_detached(
        &self,
        user_id: &IdOf<DB>,
        reason: RevokeReason,
    ) -> Result<(), ManagerError> {
        let (this, id) = (self.clone(), user_id.clone());
        on_own_task(async move { this.revoke(&id, reason).await }).await
    }
}

/// Runs `work` on a task of its own and waits for it, as [`crate::db::detached`] does:
/// dropping the caller does not stop it midway.
async fn on_own_task<T, F>(work: F) -> Result<T, ManagerError>
where
    F: std::future::Future<Output = Result<T, ManagerError>> + Send + 'static,
    T: Send + 'static,
{
    crate::db::run_to_end(work, ManagerError::Db).await
}
