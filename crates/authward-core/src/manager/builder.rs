//! [`UserManagerBuilder`]: how a [`UserManager`] is configured and built.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use time::Duration;

use super::verify_reset_tokens::{RESET_AUDIENCE, TokenCodec, VERIFY_AUDIENCE};
use super::{
    ConfigError, DEFAULT_TOKEN_LIFETIME, Hooks, Inner, MIN_SECRET_BYTES, NoHooks, Revoker,
    UserManager,
};
use crate::clock::{Clock, SystemClock};
use crate::db::{IdOf, UserDatabase};
use crate::oauth::ProviderTokenCipher;
use crate::password::PasswordHelper;
use crate::policy::PasswordPolicy;
use crate::strategy::SessionRevoker;

/// Builds a [`UserManager`]; see [`UserManager::builder`].
pub struct UserManagerBuilder<DB: UserDatabase> {
    db: DB,
    verify_secret: Vec<u8>,
    reset_secret: Vec<u8>,
    verify_lifetime: Duration,
    reset_lifetime: Duration,
    passwords: PasswordHelper,
    policy: PasswordPolicy,
    hooks: Arc<dyn Hooks<DB::User>>,
    clock: Arc<dyn Clock>,
    revokers: Vec<Revoker<DB>>,
    without_sessions: bool,
    provider_tokens: Option<Arc<ProviderTokenCipher>>,
}

impl<DB: UserDatabase> fmt::Debug for UserManagerBuilder<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserManagerBuilder")
            .field("verify_lifetime", &self.verify_lifetime)
            .field("reset_lifetime", &self.reset_lifetime)
            .field("passwords", &self.passwords)
            .field("policy", &self.policy)
            .field("revokers", &self.revokers.len())
            .finish_non_exhaustive()
    }
}

impl<DB: UserDatabase> UserManagerBuilder<DB> {
    /// A separate secret for verification tokens.
    pub fn verify_token_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.verify_secret = secret.as_ref().to_vec();
        self
    }

    /// A separate secret for reset-password tokens.
    pub fn reset_token_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.reset_secret = secret.as_ref().to_vec();
        self
    }

    /// How long a verification token is valid (default one hour; one reaching past the
    /// calendar's end never expires).
    pub fn verify_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.verify_lifetime = lifetime;
        self
    }

    /// How long a reset-password token is valid (default one hour; one reaching past the
    /// calendar's end never expires).
    pub fn reset_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.reset_lifetime = lifetime;
        self
    }

    /// The password hasher (default: argon2id with OWASP parameters, one operation per core).
    pub fn password_helper(mut self, passwords: PasswordHelper) -> Self {
        self.passwords = passwords;
        self
    }

    /// The password policy (default: [`PasswordPolicy::default`]).
    pub fn password_policy(mut self, policy: PasswordPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The lifecycle hooks (default: [`NoHooks`]).
    pub fn hooks(self, hooks: impl Hooks<DB::User>) -> Self {
        self.hooks_arc(Arc::new(hooks))
    }

    /// The lifecycle hooks, shared.
    pub fn hooks_arc(mut self, hooks: Arc<dyn Hooks<DB::User>>) -> Self {
        self.hooks = hooks;
        self
    }

    /// The clock token expiry is measured with (default: [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Adds a revoker called whenever every session of a user must end (password reset,
    /// password change, deactivation, deletion, [`UserManager::revoke_all_sessions`]).
    ///
    /// The axum integration registers the revoker of every authentication backend itself
    /// (`Authward::new`), so this is for token stores the HTTP layer does not know about, or
    /// for a manager used without it (a command-line tool changing passwords must revoke the
    /// server's sessions too).
    pub fn revoker(mut self, revoker: Arc<dyn SessionRevoker<IdOf<DB>>>) -> Self {
        self.revokers.push(revoker);
        self
    }

    /// Declares that users of this manager have no sessions to revoke (a batch job, a test):
    /// password changes, resets, deactivations and deletions then proceed with no revoker
    /// registered. Without it they fail with
    /// [`ManagerError::NoSessionRevoker`](super::ManagerError::NoSessionRevoker), so that a
    /// forgotten revoker can never leave sessions alive silently.
    pub fn without_sessions(mut self) -> Self {
        self.without_sessions = true;
        self
    }

    /// Encrypts the provider access and refresh tokens of OAuth accounts with `cipher` before
    /// they reach the store (see [`ProviderTokenCipher`]).
    ///
    /// Without a cipher the manager keeps no provider tokens at all: accounts are linked with
    /// an empty access token and no refresh token, which is all a login needs, and nothing a
    /// leaked table could use. Configure one when the application calls the provider's API
    /// on the user's behalf.
    pub fn provider_token_cipher(mut self, cipher: ProviderTokenCipher) -> Self {
        self.provider_tokens = Some(Arc::new(cipher));
        self
    }

    /// Checks the configuration and builds the manager.
    pub fn build(self) -> Result<UserManager<DB>, ConfigError> {
        for (which, secret) in [
            ("verify", &self.verify_secret),
            ("reset", &self.reset_secret),
        ] {
            if secret.len() < MIN_SECRET_BYTES {
                return Err(ConfigError::SecretTooShort {
                    which,
                    min: MIN_SECRET_BYTES,
                });
            }
        }
        for (which, lifetime) in [
            ("verify", self.verify_lifetime),
            ("reset", self.reset_lifetime),
        ] {
            if !lifetime.is_positive() {
                return Err(ConfigError::InvalidLifetime { which });
            }
        }
        Ok(UserManager {
            inner: Arc::new(Inner {
                verify: TokenCodec::new(&self.verify_secret, VERIFY_AUDIENCE, self.verify_lifetime),
                reset: TokenCodec::new(&self.reset_secret, RESET_AUDIENCE, self.reset_lifetime),
                db: self.db,
                passwords: self.passwords,
                policy: self.policy,
                hooks: self.hooks,
                clock: self.clock,
                revokers: RwLock::new(self.revokers),
                without_sessions: self.without_sessions,
                resets_in_flight: Arc::new(Mutex::new(HashSet::new())),
                provider_tokens: self.provider_tokens,
            }),
        })
    }
}

impl<DB: UserDatabase> UserManager<DB> {
    /// Starts building a manager over `db`, with `secret` signing both verify and reset
    /// tokens (at least [`MIN_SECRET_BYTES`] bytes; separate secrets can be set on the
    /// builder).
    pub fn builder(db: DB, secret: impl AsRef<[u8]>) -> UserManagerBuilder<DB> {
        let secret = secret.as_ref().to_vec();
        UserManagerBuilder {
            db,
            verify_secret: secret.clone(),
            reset_secret: secret,
            verify_lifetime: DEFAULT_TOKEN_LIFETIME,
            reset_lifetime: DEFAULT_TOKEN_LIFETIME,
            passwords: PasswordHelper::default(),
            policy: PasswordPolicy::default(),
            hooks: Arc::new(NoHooks),
            clock: Arc::new(SystemClock),
            revokers: Vec::new(),
            without_sessions: false,
            provider_tokens: None,
        }
    }
}
