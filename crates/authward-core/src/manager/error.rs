//! The manager's errors.

use crate::email::InvalidEmail;
use crate::error::{BoxError, DbError};
use crate::id::InvalidId;
use crate::password::PasswordError;
use crate::policy::InvalidPassword;
use crate::strategy::StrategyError;

/// What a [`UserManager`](super::UserManager) operation can fail with.
///
/// The first variants mirror FastAPI Users' exceptions one to one, so the HTTP layer maps them
/// onto the same status codes and `detail` codes; storage, hashing and hook failures keep their
/// source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerError {
    /// A user with this email (ignoring case) already exists.
    #[error("a user with this email already exists")]
    UserAlreadyExists,
    /// No such user.
    #[error("user does not exist")]
    UserNotExists,
    /// The user is inactive.
    #[error("user is inactive")]
    UserInactive,
    /// The user's email is already verified.
    #[error("user is already verified")]
    UserAlreadyVerified,
    /// The verification token is malformed, forged, expired, for another audience, or no
    /// longer matches the user (email changed, user deleted).
    #[error("invalid verification token")]
    InvalidVerifyToken,
    /// The reset token is malformed, forged, expired, for another audience, already used, or
    /// no longer matches the user (password or email changed).
    #[error("invalid reset-password token")]
    InvalidResetPasswordToken,
    /// The password policy refused the password.
    #[error("invalid password: {reason}")]
    InvalidPassword {
        /// Why, shown to the user as `detail.reason`.
        reason: String,
    },
    /// The email address is malformed.
    #[error("invalid email address: {reason}")]
    InvalidEmail {
        /// Why.
        reason: String,
    },
    /// A user ID could not be parsed.
    #[error("invalid user id")]
    InvalidId,
    /// The OAuth provider account is already linked to a user.
    #[error("this OAuth account is already linked to a user")]
    OAuthAccountAlreadyLinked,
    /// A stored provider token does not decrypt: encrypted with a key the configured
    /// [`ProviderTokenCipher`](crate::oauth::ProviderTokenCipher) lacks, tampered with, moved
    /// from another account, or encrypted while no cipher is configured.
    #[error("a stored provider token cannot be read")]
    ProviderToken(#[source] crate::oauth::TokenDecryptError),
    /// A hook returned an error; the operation stopped there (for `on_before_delete`, nothing
    /// was deleted; for the `on_after_*` hooks, the change itself is already stored).
    #[error("hook {hook} failed")]
    Hook {
        /// The hook's name, e.g. `"on_after_register"`.
        hook: &'static str,
        /// The hook's error.
        #[source]
        source: BoxError,
    },
    /// Every session of a user had to end (password change or reset, deactivation,
    /// deletion, log-out-everywhere) and no [`SessionRevoker`](crate::SessionRevoker) is
    /// registered. Nothing was changed.
    #[error("no session revoker is registered, so sessions cannot be ended")]
    NoSessionRevoker,
    /// A registered revoker cannot end every session for this reason (for example a JWT
    /// strategy without a revocation store asked to log out everywhere).
    #[error("a session revoker cannot end every session for this reason")]
    RevocationUnsupported,
    /// A revoker failed for a reason other than its store.
    #[error("revoking sessions failed")]
    Revocation(#[source] StrategyError),
    /// Signing a verify or reset token failed.
    #[error("token signing failed")]
    Token(#[source] BoxError),
    /// Hashing a password failed.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// The store failed ([`DbError::Unavailable`] means `503`), including a token store while
    /// revoking sessions. Revocation runs before a password change, reset or deactivation is
    /// written (its failure changes nothing) and once more after; only a failure of the second
    /// round comes after the change is stored, when every session older than the request is
    /// already gone.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<InvalidPassword> for ManagerError {
    fn from(err: InvalidPassword) -> Self {
        Self::InvalidPassword { reason: err.reason }
    }
}

impl From<InvalidEmail> for ManagerError {
    fn from(err: InvalidEmail) -> Self {
        Self::InvalidEmail { reason: err.reason }
    }
}

impl From<InvalidId> for ManagerError {
    fn from(_: InvalidId) -> Self {
        Self::InvalidId
    }
}

/// The manager's configuration was refused by [`UserManagerBuilder::build`](super::UserManagerBuilder::build).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A token secret is shorter than [`MIN_SECRET_BYTES`](super::MIN_SECRET_BYTES).
    #[error("the {which} token secret must be at least {min} bytes")]
    SecretTooShort {
        /// `"verify"` or `"reset"`.
        which: &'static str,
        /// The minimum length in bytes.
        min: usize,
    },
    /// A token lifetime is zero or negative.
    #[error("the {which} token lifetime must be positive")]
    InvalidLifetime {
        /// `"verify"` or `"reset"`.
        which: &'static str,
    },
}
