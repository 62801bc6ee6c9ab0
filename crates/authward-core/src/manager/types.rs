//! The values the HTTP layer hands to the manager.

use std::fmt;

/// A user to create: FastAPI Users' `UserCreate`, with a plain password.
///
/// In *safe* mode ([`UserManager::create`](super::UserManager::create) with `safe = true`,
/// what the public register route uses) the three flags are ignored and the user is active,
/// not a superuser and not verified. The ID is always chosen by the store.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCreate<X = ()> {
    /// The email address, as typed (it is trimmed and validated).
    pub email: String,
    /// The plain password (checked against the password policy, then hashed).
    pub password: String,
    /// Privileged mode only; defaults to `true`.
    pub is_active: Option<bool>,
    /// Privileged mode only; defaults to `false`.
    pub is_superuser: Option<bool>,
    /// Privileged mode only; defaults to `false`.
    pub is_verified: Option<bool>,
    /// The application's own fields.
    pub extra: X,
}

impl<X: Default> UserCreate<X> {
    /// A user with this email and password, default flags and default custom fields.
    pub fn new(email: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            password: password.into(),
            is_active: None,
            is_superuser: None,
            is_verified: None,
            extra: X::default(),
        }
    }
}

impl<X> UserCreate<X> {
    /// Replaces the custom fields.
    pub fn with_extra<Y>(self, extra: Y) -> UserCreate<Y> {
        UserCreate {
            email: self.email,
            password: self.password,
            is_active: self.is_active,
            is_superuser: self.is_superuser,
            is_verified: self.is_verified,
            extra,
        }
    }
}

impl<X: fmt::Debug> fmt::Debug for UserCreate<X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCreate")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("is_active", &self.is_active)
            .field("is_superuser", &self.is_superuser)
            .field("is_verified", &self.is_verified)
            .field("extra", &self.extra)
            .finish()
    }
}

/// A partial update: FastAPI Users' `UserUpdate`. `None` leaves a field unchanged.
///
/// In safe mode (`PATCH /users/me`) the three flags are ignored.
#[derive(Clone, PartialEq, Eq)]
pub struct UserUpdate<X = ()> {
    /// A new email address (validated; uniqueness ignores case; a different address resets
    /// `is_verified`).
    pub email: Option<String>,
    /// A new plain password (checked against the policy, hashed; every session is revoked).
    pub password: Option<String>,
    /// Privileged mode only.
    pub is_active: Option<bool>,
    /// Privileged mode only.
    pub is_superuser: Option<bool>,
    /// Privileged mode only; wins over the reset caused by an email change.
    pub is_verified: Option<bool>,
    /// The custom fields after the update, complete: the store writes them all. The HTTP layer
    /// builds them from the user's current fields and what the request's declared shape may
    /// change ([`UserSchema::update_extra`](crate::schema::UserSchema::update_extra)), so a
    /// `PATCH` that names one field leaves the others as they are.
    pub extra: Option<X>,
}

impl<X> Default for UserUpdate<X> {
    fn default() -> Self {
        Self {
            email: None,
            password: None,
            is_active: None,
            is_superuser: None,
            is_verified: None,
            extra: None,
        }
    }
}

impl<X: fmt::Debug> fmt::Debug for UserUpdate<X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserUpdate")
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("is_active", &self.is_active)
            .field("is_superuser", &self.is_superuser)
            .field("is_verified", &self.is_verified)
            .field("extra", &self.extra)
            .finish()
    }
}

/// Options of [`UserManager::oauth_callback`](super::UserManager::oauth_callback), as given to
/// FastAPI Users' `get_oauth_router`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OAuthLoginOptions {
    /// Link the provider account to an existing user with the same email. Only done when the
    /// provider reports the email as verified (otherwise anyone who can put that address on
    /// some provider account could take the local account over) and the local user is
    /// verified (otherwise whoever registered the address first, unverified, would receive
    /// the real owner's provider login: pre-account hijacking).
    pub associate_by_email: bool,
    /// Mark users created through OAuth as verified, when the provider reports the email as
    /// verified.
    pub is_verified_by_default: bool,
}
