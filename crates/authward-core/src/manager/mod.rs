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

mod error;
mod hooks;
mod oauth;
mod tokens;
mod types;

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use time::Duration;

pub use self::error::{ConfigError, ManagerError};
pub use self::hooks::{Hooks, NoHooks, RequestInfo, UserChanges};
use self::tokens::TokenCodec;
pub use self::tokens::{RESET_AUDIENCE, VERIFY_AUDIENCE};
pub use self::types::{OAuthLoginOptions, UserCreate, UserUpdate};
use crate::clock::{Clock, SystemClock};
use crate::db::{IdOf, UserDatabase};
use crate::email::validate_email;
use crate::error::{BoxError, DbError, UniqueKey};
use crate::id::UserId;
use crate::oauth::ProviderTokenCipher;
use crate::password::{PasswordHelper, Verification};
use crate::policy::PasswordPolicy;
use crate::strategy::{RevokeReason, SessionRevoker, StrategyError};
use crate::user::{AuthUser, NewUser, UserPatch, email_key};

/// A shared revoker of sessions of users of the store `DB`.
type Revoker<DB> = Arc<dyn SessionRevoker<IdOf<DB>>>;

/// The shortest accepted token secret, in bytes (HS256 with a shorter key can be brute-forced
/// offline from a single token).
pub const MIN_SECRET_BYTES: usize = 32;

/// The default lifetime of verify and reset tokens: one hour.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::seconds(3600);

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

    /// How long a verification token is valid (default one hour).
    pub fn verify_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.verify_lifetime = lifetime;
        self
    }

    /// How long a reset-password token is valid (default one hour).
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
    /// registered. Without it they fail with [`ManagerError::NoSessionRevoker`], so that a
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
                resets_in_flight: Mutex::new(HashSet::new()),
                provider_tokens: self.provider_tokens,
            }),
        })
    }
}

/// The user manager. Cheap to clone (clones share everything).
///
/// `DB` is the user store; the user type is `DB::User` and the ID type its
/// [`AuthUser::Id`] ([`IdOf<DB>`](crate::db::IdOf)).
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
    resets_in_flight: Mutex<HashSet<IdOf<DB>>>,
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

/// Removes a user ID from the in-flight reset set when dropped.
struct ResetGuard<'a, ID: UserId> {
    set: &'a Mutex<HashSet<ID>>,
    id: ID,
}

impl<ID: UserId> Drop for ResetGuard<'_, ID> {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .remove(&self.id);
    }
}

fn hook_failed(hook: &'static str) -> impl FnOnce(BoxError) -> ManagerError {
    move |source| ManagerError::Hook { hook, source }
}

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

    /// Registers a revoker (see [`UserManagerBuilder::revoker`]) on a built manager, for every
    /// clone of it. The axum integration calls it for each authentication backend. Registering
    /// the same `Arc` twice keeps one.
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

    fn revokers(&self) -> Vec<Revoker<DB>> {
        self.inner
            .revokers
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

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
    /// Calls [`Hooks::on_after_register`].
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
        self.inner
            .hooks
            .on_after_register(&created, request)
            .await
            .map_err(hook_failed("on_after_register"))?;
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

    /// Checks an email and password; `Ok(None)` for bad credentials.
    ///
    /// - An unknown email still runs one password verification (against a dummy hash made
    ///   with the current parameters), so response time does not reveal which emails exist;
    ///   with [legacy hash classes](PasswordHelper::with_legacy_hash_classes) declared, every
    ///   login verifies one hash of each class (the user's own and dummies), so an adopted,
    ///   not yet upgraded hash is no more expensive than an unknown email.
    /// - A password longer than the policy's maximum is refused before any lookup or hashing.
    /// - A correct password whose stored hash is legacy (bcrypt, older argon2 parameters) is
    ///   re-hashed and saved; the updated user is returned. If saving fails, the login still
    ///   succeeds and the failure is logged.
    /// - Like FastAPI Users, inactive users are returned too: the caller decides (the login
    ///   route answers `LOGIN_BAD_CREDENTIALS` for them).
    ///
    /// [`Hooks::on_after_login`] is not called here (see [`UserManager::after_login`]).
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
            Verification::ValidNeedsRehash => Ok(Some(self.rehash(user, password).await)),
        }
    }

    /// Replaces a legacy hash after a successful login; returns the freshest user available.
    async fn rehash(&self, user: DB::User, password: &str) -> DB::User {
        let hashed_password = match self.inner.passwords.hash(password).await {
            Ok(hash) => hash,
            Err(err) => {
                tracing::warn!(error = %err, user_id = %user.id(), "re-hashing a legacy password hash failed");
                return user;
            }
        };
        let patch = UserPatch {
            hashed_password: Some(hashed_password),
            ..UserPatch::default()
        };
        match self.inner.db.update(user.id(), patch).await {
            Ok(updated) => updated,
            Err(err) => {
                tracing::warn!(error = %err, user_id = %user.id(), "saving an upgraded password hash failed");
                user
            }
        }
    }

    /// Calls [`Hooks::on_after_login`]; the HTTP layer calls it once the login response is
    /// ready.
    pub async fn after_login(
        &self,
        user: &DB::User,
        request: Option<&RequestInfo>,
    ) -> Result<(), ManagerError> {
        self.inner
            .hooks
            .on_after_login(user, request)
            .await
            .map_err(hook_failed("on_after_login"))
    }

    /// Makes a verification token (`{sub, email, aud: "fastapi-users:verify", exp}`, HS256)
    /// and hands it to [`Hooks::on_after_request_verify`]; also returns it.
    ///
    /// [`ManagerError::UserInactive`] or [`ManagerError::UserAlreadyVerified`] otherwise (the
    /// route swallows both to avoid revealing anything).
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
        self.inner
            .hooks
            .on_after_request_verify(user, &token, request)
            .await
            .map_err(hook_failed("on_after_request_verify"))?;
        Ok(token)
    }

    /// Verifies the user a verification token was made for, and returns it.
    ///
    /// The user is found by the token's `email` claim, so a token dies when the email changes;
    /// the `sub` claim must name the same user. Errors: [`ManagerError::InvalidVerifyToken`],
    /// [`ManagerError::UserAlreadyVerified`]. Calls [`Hooks::on_after_verify`].
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
        self.inner
            .hooks
            .on_after_verify(&verified, request)
            .await
            .map_err(hook_failed("on_after_verify"))?;
        Ok(verified)
    }

    /// Makes a reset-password token (`{sub, password_fgpt, aud: "fastapi-users:reset", exp}`,
    /// HS256) and hands it to [`Hooks::on_after_forgot_password`]; also returns it.
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
        self.inner
            .hooks
            .on_after_forgot_password(user, &token, request)
            .await
            .map_err(hook_failed("on_after_forgot_password"))?;
        Ok(token)
    }

    /// Sets a new password with a reset token, revokes every session of the user, and returns
    /// the updated user.
    ///
    /// The token works once: its fingerprint covers the password hash (which the reset
    /// replaces) and the email. Sessions are revoked before the password is stored and once
    /// more after (a login with the old password in between cannot survive); when the first
    /// revocation fails nothing is changed. Errors: [`ManagerError::InvalidResetPasswordToken`]
    /// (bad, expired, reused, or used concurrently), [`ManagerError::UserNotExists`],
    /// [`ManagerError::UserInactive`], [`ManagerError::InvalidPassword`], the revocation errors
    /// of [`UserManager::revoke_all_sessions`]. Calls [`Hooks::on_after_reset_password`].
    pub async fn reset_password(
        &self,
        token: &str,
        password: &str,
        request: Option<&RequestInfo>,
    ) -> Result<DB::User, ManagerError> {
        let claims = self
            .inner
            .reset
            .decode_reset(token, self.inner.clock.now())
            .ok_or(ManagerError::InvalidResetPasswordToken)?;
        let id = IdOf::<DB>::parse_id(&claims.sub)
            .map_err(|_| ManagerError::InvalidResetPasswordToken)?;
        let _guard = self.begin_reset(&id)?;
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
            .write_revoking(&id, patch, Some(RevokeReason::PasswordReset))
            .await?;
        self.inner
            .hooks
            .on_after_reset_password(&updated, request)
            .await
            .map_err(hook_failed("on_after_reset_password"))?;
        Ok(updated)
    }

    /// Stores `patch`; when `reason` is given, every session is revoked before (a failure
    /// changes nothing) and after (sessions opened in between die too).
    async fn write_revoking(
        &self,
        id: &IdOf<DB>,
        patch: UserPatch<DB::Extra>,
        reason: Option<RevokeReason>,
    ) -> Result<DB::User, ManagerError> {
        if let Some(reason) = reason {
            self.revoke(id, reason).await?;
        }
        let updated = self
            .inner
            .db
            .update(id, patch)
            .await
            .map_err(user_write_error)?;
        if let Some(reason) = reason {
            self.revoke(id, reason).await?;
        }
        Ok(updated)
    }

    fn begin_reset(&self, id: &IdOf<DB>) -> Result<ResetGuard<'_, IdOf<DB>>, ManagerError> {
        let set = &self.inner.resets_in_flight;
        let fresh = set
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(id.clone());
        if fresh {
            Ok(ResetGuard {
                set,
                id: id.clone(),
            })
        } else {
            Err(ManagerError::InvalidResetPasswordToken)
        }
    }

    /// Updates a user and returns the stored result.
    ///
    /// - `email`: validated; when it names a different address (ignoring case) it must be
    ///   free ([`ManagerError::UserAlreadyExists`]) and `is_verified` is reset; a case-only
    ///   change of one's own address is stored as typed and keeps `is_verified`.
    /// - `password`: checked against the policy (with the new email, if any), hashed, and
    ///   every session of the user is revoked (before the write, and once more after it).
    /// - With `safe` (`PATCH /users/me`) the flags are ignored; without it (an administrator)
    ///   they are applied, an explicit `is_verified` winning over the email reset.
    ///   Deactivating an active user revokes every session too, so reactivating it brings no
    ///   old token back.
    ///
    /// Calls [`Hooks::on_after_update`] with the fields that changed.
    pub async fn update(
        &self,
        update: UserUpdate<DB::Extra>,
        user: &DB::User,
        safe: bool,
        request: Option<&RequestInfo>,
    ) -> Result<DB::User, ManagerError> {
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
        let updated = self.write_revoking(user.id(), patch, reason).await?;
        self.inner
            .hooks
            .on_after_update(&updated, &changes, request)
            .await
            .map_err(hook_failed("on_after_update"))?;
        Ok(updated)
    }

    /// Deletes a user: [`Hooks::on_before_delete`] (an error cancels), revocation of every
    /// session (an error cancels too), the store's delete ([`ManagerError::UserNotExists`] if
    /// already gone), then [`Hooks::on_after_delete`].
    pub async fn delete(
        &self,
        user: &DB::User,
        request: Option<&RequestInfo>,
    ) -> Result<(), ManagerError> {
        self.inner
            .hooks
            .on_before_delete(user, request)
            .await
            .map_err(hook_failed("on_before_delete"))?;
        self.revoke(user.id(), RevokeReason::Deleted).await?;
        self.inner
            .db
            .delete(user.id())
            .await
            .map_err(user_write_error)?;
        self.inner
            .hooks
            .on_after_delete(user, request)
            .await
            .map_err(hook_failed("on_after_delete"))
    }

    /// Calls every registered [`SessionRevoker`] for this user ("log out everywhere").
    ///
    /// Every revoker is tried even if one fails; the first failure is returned.
    /// [`ManagerError::NoSessionRevoker`] when none is registered (unless the manager was
    /// built [`without_sessions`](UserManagerBuilder::without_sessions)): an answer of
    /// "done" would be a lie.
    pub async fn revoke_all_sessions(&self, user_id: &IdOf<DB>) -> Result<(), ManagerError> {
        self.revoke(user_id, RevokeReason::LogoutAll).await
    }

    async fn revoke(&self, user_id: &IdOf<DB>, reason: RevokeReason) -> Result<(), ManagerError> {
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
