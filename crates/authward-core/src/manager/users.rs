//! User CRUD: get, create (registration and superusers), update and delete.

use super::{
    ManagerError, RequestInfo, UserChanges, UserCreate, UserManager, UserUpdate, call_hook,
    user_write_error,
};
use crate::db::{IdOf, UserDatabase};
use crate::email::validate_email;
use crate::strategy::RevokeReason;
use crate::user::{AuthUser, NewUser, UserPatch, email_key};

impl<DB: UserDatabase> UserManager<DB> {
    /// The user with this ID, or [`ManagerError::UserNotExists`].
    pub async fn get(&self, id: &IdOf<DB>) -> Result<DB::User, ManagerError> {
        self.inner
            .db
            .get(id)
            .await?
            .ok_or(ManagerError::UserNotExists)
    }

    /// The user with this email (ignoring case and surrounding whitespace), or
    /// [`ManagerError::UserNotExists`].
    pub async fn get_by_email(&self, email: &str) -> Result<DB::User, ManagerError> {
        self.inner
            .db
            .get_by_email(email.trim())
            .await?
            .ok_or(ManagerError::UserNotExists)
    }

    /// Creates a user.
    ///
    /// With `safe` (public registration) `is_active`, `is_superuser` and `is_verified` from
    /// the client are ignored; without it (an administrator) they are applied. Errors:
    /// [`ManagerError::InvalidEmail`], [`ManagerError::InvalidPassword`],
    /// [`ManagerError::UserAlreadyExists`] (also when a concurrent registration wins the race).
    /// Calls [`Hooks::on_after_register`](super::Hooks::on_after_register).
    pub async fn create(
        &self,
        user: UserCreate<DB::Extra>,
        safe: bool,
        request: Option<&RequestInfo>,
    ) -> Result<DB::User, ManagerError> {
        let email = validate_email(&user.email)?;
        self.inner.policy.validate(&user.password, &email)?;
        if self.inner.db.get_by_email(&email).await?.is_some() {
            return Err(ManagerError::UserAlreadyExists);
        }
        let hashed_password = self.inner.passwords.hash(&user.password).await?;
        let new = if safe {
            NewUser {
                email,
                hashed_password,
                is_active: true,
                is_superuser: false,
                is_verified: false,
                extra: user.extra,
            }
        } else {
            NewUser {
                email,
                hashed_password,
                is_active: user.is_active.unwrap_or(true),
                is_superuser: user.is_superuser.unwrap_or(false),
                is_verified: user.is_verified.unwrap_or(false),
                extra: user.extra,
            }
        };
        let created = self.inner.db.create(new).await.map_err(user_write_error)?;
        call_hook!(self, on_after_register(&created, request))?;
        Ok(created)
    }

    /// Creates an active, verified superuser: what FastAPI Users' cookbook does with a script,
    /// as one call (the first administrator of an application, from a command of its own).
    ///
    /// Errors as [`UserManager::create`] (the password policy applies).
    pub async fn create_superuser(
        &self,
        email: &str,
        password: &str,
    ) -> Result<DB::User, ManagerError>
    where
        DB::Extra: Default,
    {
        let mut create = UserCreate::<DB::Extra>::new(email, password);
        create.is_superuser = Some(true);
        create.is_verified = Some(true);
        create.is_active = Some(true);
        self.create(create, false, None).await
    }

    /// Updates a user and returns the stored result.
    ///
    /// - `email`: validated; when it names a different address (ignoring case) it must be free
    ///   ([`ManagerError::UserAlreadyExists`]) and `is_verified` is reset; a case-only change of
    ///   one's own address is stored as typed and keeps `is_verified`.
    /// - `password`: checked against the policy (with the new email, if any), hashed, and every
    ///   session of the user is revoked (before the write, and once more after it).
    /// - With `safe` (`PATCH /users/me`) the flags are ignored; without it (an administrator) they
    ///   are applied, an explicit `is_verified` winning over the email reset. Deactivating an
    ///   active user revokes every session too, so reactivating it brings no old token back.
    ///
    /// Calls [`Hooks::on_after_update`](super::Hooks::on_after_update) with the fields that
    /// changed.
    pub async fn update(
        &self,
        update: UserUpdate<DB::Extra>,
        user: &DB::User,
        safe: bool,
        request: Option<&RequestInfo>,
    ) -> Result<DB::User, ManagerError>
    where
        DB: 'static,
    {
        let mut patch = UserPatch::default();
        let mut changes = UserChanges::default();
        let mut email = user.email().to_owned();
        if let Some(new_email) = update.email {
            let new_email = validate_email(&new_email)?;
            if new_email != user.email() {
                if email_key(&new_email) != email_key(user.email()) {
                    if let Some(owner) = self.inner.db.get_by_email(&new_email).await?
                        && owner.id() != user.id()
                    {
                        return Err(ManagerError::UserAlreadyExists);
                    }
                    patch.is_verified = Some(false);
                    changes.is_verified = true;
                }
                changes.email = true;
                email.clone_from(&new_email);
                patch.email = Some(new_email);
            }
        }
        if let Some(password) = update.password {
            self.inner.policy.validate(&password, &email)?;
            patch.hashed_password = Some(self.inner.passwords.hash(&password).await?);
            changes.password = true;
        }
        if !safe {
            if let Some(v) = update.is_active {
                patch.is_active = Some(v);
                changes.is_active = true;
            }
            if let Some(v) = update.is_superuser {
                patch.is_superuser = Some(v);
                changes.is_superuser = true;
            }
            if let Some(v) = update.is_verified {
                patch.is_verified = Some(v);
                changes.is_verified = true;
            }
        }
        if let Some(extra) = update.extra {
            patch.extra = Some(extra);
            changes.extra = true;
        }
        let reason = if changes.password {
            Some(RevokeReason::PasswordChanged)
        } else if patch.is_active == Some(false) && user.is_active() {
            Some(RevokeReason::Deactivated)
        } else {
            None
        };
        let updated = self.write_revoking(user.id(), patch, reason, ()).await?;
        call_hook!(self, on_after_update(&updated, &changes, request))?;
        Ok(updated)
    }

    /// Deletes a user: [`Hooks::on_before_delete`](super::Hooks::on_before_delete) (an error
    /// cancels), revocation of every session (an error cancels too), the store's delete
    /// ([`ManagerError::UserNotExists`] if already gone), then
    /// [`Hooks::on_after_delete`](super::Hooks::on_after_delete).
    pub async fn delete(
        &self,
        user: &DB::User,
        request: Option<&RequestInfo>,
    ) -> Result<(), ManagerError> {
        call_hook!(self, on_before_delete(user, request))?;
        self.revoke(user.id(), RevokeReason::Deleted).await?;
        self.inner
            .db
            .delete(user.id())
            .await
            .map_err(user_write_error)?;
        call_hook!(self, on_after_delete(user, request))
    }
}
