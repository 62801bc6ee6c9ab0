//! The user manager: every FastAPI Users flow over any [`UserDatabase`].
//!
//! [`UserManager`] is what the HTTP layer drives: register ([`UserManager::create`]), log in
//! ([`UserManager::authenticate`]), verify ([`UserManager::request_verify`] /
//! [`UserManager::verify`]), reset ([`UserManager::forgot_password`] /
//! [`UserManager::reset_password`]), the users routes ([`UserManager::get`],
//! [`UserManager::update`], [`UserManager::delete`]) and OAuth
//! ([`UserManager::oauth_callback`], [`UserManager::oauth_associate_callback`]).
//!
//! Differences from FastAPI Users, all on the safe side:
//! - a reset token works once and dies when the email changes; a reset, a password change, a
//!   deactivation or a deletion revokes every session through the registered
//!   [`SessionRevoker`]s, and with none registered it fails ([`ManagerError::NoSessionRevoker`])
//!   instead of leaving sessions alive;
//! - changing only the case of one's own email is allowed (FastAPI Users answers
//!   `UPDATE_USER_EMAIL_ALREADY_EXISTS`) and keeps `is_verified`;
//! - OAuth association by email needs the provider to say the email is verified and the local
//!   account to be verified; a provider account linked to one user is never linked to another;
//!   provider tokens are encrypted at rest (or not kept at all) — see [`UserManager::oauth_callback`];
//! - an unknown stored hash fails the login instead of a 500; a registration race gives
//!   [`ManagerError::UserAlreadyExists`] instead of a 500.
//!
//! ```
//! # tokio_test_shim::run(async {
//! use authward_core::manager::{UserCreate, UserManager};
//! use authward_core::memory::MemoryUserDatabase;
//! use authward_core::{Argon2Hasher, PasswordHelper};
//!
//! let manager = UserManager::builder(
//!     MemoryUserDatabase::<uuid::Uuid>::new(),
//!     "a secret of at least thirty-two bytes!!",
//! )
//! .password_helper(PasswordHelper::new(Argon2Hasher::new(1024, 1, 1).unwrap()))
//! .without_sessions() // no token strategy in this example
//! .build()
//! .unwrap();
//!
//! let user = manager
//!     .create(UserCreate::new("King.Arthur@camelot.bt", "guinevere"), true, None)
//!     .await
//!     .unwrap();
//! assert_eq!(user.email, "King.Arthur@camelot.bt");
//! let found = manager.authenticate("king.arthur@CAMELOT.bt", "guinevere", None).await.unwrap();
//! assert_eq!(found.map(|u| u.id), Some(user.id));
//! # });
//! # mod tokio_test_shim { pub fn run<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(f) } }
//! ```

mod auth;
mod builder;
mod error;
mod hooks;
mod oauth;
mod sessions;
mod types;
mod users;
mod verify_reset;
mod verify_reset_tokens;

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use time::Duration;

pub use self::builder::UserManagerBuilder;
pub use self::error::{ConfigError, ManagerError};
pub use self::hooks::{Hooks, NoHooks, RequestInfo, UserChanges};
pub use self::types::{OAuthLoginOptions, UserCreate, UserUpdate};
use self::verify_reset_tokens::TokenCodec;
pub use self::verify_reset_tokens::{RESET_AUDIENCE, VERIFY_AUDIENCE};
use crate::clock::Clock;
use crate::db::{IdOf, UserDatabase};
use crate::error::{DbError, UniqueKey};
use crate::id::UserId;
use crate::oauth::ProviderTokenCipher;
use crate::password::PasswordHelper;
use crate::policy::PasswordPolicy;
use crate::strategy::{SessionRevoker, StrategyError};

/// A shared revoker of sessions of users of the store `DB`.
type Revoker<DB> = Arc<dyn SessionRevoker<IdOf<DB>>>;

/// The shortest accepted token secret, in bytes (HS256 with a shorter key can be brute-forced
/// offline from a single token).
pub const MIN_SECRET_BYTES: usize = 32;

/// The default lifetime of verify and reset tokens: one hour.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::seconds(3600);

/// The user manager. Cheap to clone (clones share everything).
///
/// `DB` is the user store; the user type is `DB::User` and the ID type its
/// [`AuthUser::Id`](crate::user::AuthUser::Id) ([`IdOf<DB>`](crate::db::IdOf)).
pub struct UserManager<DB: UserDatabase> {
    inner: Arc<Inner<DB>>,
}

struct Inner<DB: UserDatabase> {
    db: DB,
    passwords: PasswordHelper,
    policy: PasswordPolicy,
    hooks: Arc<dyn Hooks<DB::User>>,
    clock: Arc<dyn Clock>,
    /// Written while the application is wired (`add_revoker`), read on every revocation.
    revokers: RwLock<Vec<Revoker<DB>>>,
    without_sessions: bool,
    verify: TokenCodec,
    reset: TokenCodec,
    /// User IDs whose password is being reset right now, so two concurrent uses of one reset
    /// token in this process cannot both succeed.
    resets_in_flight: Arc<Mutex<HashSet<IdOf<DB>>>>,
    /// Encrypts provider tokens at rest; `None`: provider tokens are not kept.
    provider_tokens: Option<Arc<ProviderTokenCipher>>,
}

impl<DB: UserDatabase> Clone for UserManager<DB> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<DB: UserDatabase> fmt::Debug for UserManager<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserManager")
            .field("verify_lifetime", &self.inner.verify.lifetime)
            .field("reset_lifetime", &self.inner.reset.lifetime)
            .field("passwords", &self.inner.passwords)
            .field("policy", &self.inner.policy)
            .field("revokers", &self.revokers().len())
            .finish_non_exhaustive()
    }
}

/// Calls the hook `$hook` of the manager's [`Hooks`] with `$arg`s and awaits it; a failure
/// becomes [`ManagerError::Hook`] naming that hook.
macro_rules! call_hook {
    ($manager:expr, $hook:ident($($arg:expr),* $(,)?)) => {
        $manager
            .inner
            .hooks
            .$hook($($arg),*)
            .await
            .map_err(|source| $crate::manager::ManagerError::Hook {
                hook: stringify!($hook),
                source,
            })
    };
}
use call_hook;

/// Maps a store's uniqueness and not-found errors onto the manager's. Only a collision on the
/// email is "user already exists"; one on a unique column of the application's own stays a
/// [`DbError::AlreadyExists`] with its constraint.
fn user_write_error(err: DbError) -> ManagerError {
    match err {
        DbError::AlreadyExists {
            what: UniqueKey::Email,
            ..
        } => ManagerError::UserAlreadyExists,
        DbError::NotFound { .. } => ManagerError::UserNotExists,
        other => ManagerError::Db(other),
    }
}

/// Maps a revoker's failure onto the manager's errors.
fn revocation_error(err: StrategyError) -> ManagerError {
    match err {
        StrategyError::Db(db) => ManagerError::Db(db),
        StrategyError::RevokeAllNotSupported => ManagerError::RevocationUnsupported,
        other => ManagerError::Revocation(other),
    }
}

impl<DB: UserDatabase> UserManager<DB> {
    /// The user store.
    pub fn db(&self) -> &DB {
        &self.inner.db
    }

    /// The password hasher.
    pub fn passwords(&self) -> &PasswordHelper {
        &self.inner.passwords
    }

    /// The password policy.
    pub fn policy(&self) -> &PasswordPolicy {
        &self.inner.policy
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The hooks.
    pub fn hooks(&self) -> &Arc<dyn Hooks<DB::User>> {
        &self.inner.hooks
    }

    /// Parses a user ID from text (a URL segment, a token's `sub`).
    pub fn parse_id(&self, text: &str) -> Result<IdOf<DB>, ManagerError> {
        Ok(IdOf::<DB>::parse_id(text)?)
    }
}
