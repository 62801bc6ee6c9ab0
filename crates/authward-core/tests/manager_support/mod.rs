//! Shared fixtures for the manager tests: a counting hasher, recording hooks and revokers.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use authward_core::manager::{Hooks, RequestInfo, UserChanges, UserCreate, UserManager};
use authward_core::memory::MemoryUserDatabase;
use authward_core::password::{PasswordError, PasswordHasher, Verification};
use authward_core::{
    Argon2Hasher, BoxError, DbError, ManualClock, PasswordHelper, RevokeReason, SessionRevoker,
    StrategyError, User,
};
use base64::Engine as _;
use time::macros::datetime;
use uuid::Uuid;

pub const SECRET: &str = "test secret, thirty-two bytes or more";
pub const OTHER_SECRET: &str = "another secret, also thirty-two bytes long";

pub type Db = MemoryUserDatabase<Uuid>;
pub type Manager = UserManager<Db>;
pub type TestUser = User<Uuid>;

/// A cheap argon2id hasher that counts its calls.
#[derive(Default)]
pub struct CountingHasher {
    pub hashes: AtomicUsize,
    pub verifies: AtomicUsize,
    /// The class of every hash verified (`authward_core::password::class_key`), in order.
    pub classes: Mutex<Vec<String>>,
    inner: Option<Argon2Hasher>,
}

impl CountingHasher {
    pub fn cheap() -> Self {
        Self {
            inner: Some(Argon2Hasher::new(1024, 1, 1).unwrap()),
            ..Self::default()
        }
    }
    pub fn wrapping(inner: Argon2Hasher) -> Self {
        Self {
            inner: Some(inner),
            ..Self::default()
        }
    }
    pub fn verifies(&self) -> usize {
        self.verifies.load(Ordering::SeqCst)
    }
    pub fn hashes(&self) -> usize {
        self.hashes.load(Ordering::SeqCst)
    }
    fn inner(&self) -> &Argon2Hasher {
        self.inner.as_ref().unwrap()
    }
}

impl PasswordHasher for CountingHasher {
    fn hash(&self, password: &str) -> Result<String, PasswordError> {
        self.hashes.fetch_add(1, Ordering::SeqCst);
        self.inner().hash(password)
    }
    fn verify(&self, password: &str, hash: &str) -> Verification {
        self.verifies.fetch_add(1, Ordering::SeqCst);
        self.classes
            .lock()
            .unwrap()
            .push(authward_core::password::class_key(hash));
        self.inner().verify(password, hash)
    }
}

/// Records every hook call as a line of text; can be told to fail one hook.
#[derive(Default)]
pub struct RecordingHooks {
    pub events: Mutex<Vec<String>>,
    pub tokens: Mutex<Vec<String>>,
    pub fail: Mutex<Option<&'static str>>,
}

impl RecordingHooks {
    pub fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }
    pub fn last_token(&self) -> String {
        self.tokens.lock().unwrap().last().cloned().unwrap()
    }
    pub fn clear(&self) {
        self.events.lock().unwrap().clear();
    }
    pub fn fail_on(&self, hook: &'static str) {
        *self.fail.lock().unwrap() = Some(hook);
    }
    fn record(
        &self,
        hook: &'static str,
        user: &TestUser,
        detail: String,
        request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        let ua = request
            .and_then(|r| r.user_agent.clone())
            .unwrap_or_else(|| "-".into());
        self.events
            .lock()
            .unwrap()
            .push(format!("{hook} {} {detail} ua={ua}", user.email).replace("  ", " "));
        if *self.fail.lock().unwrap() == Some(hook) {
            return Err(format!("{hook} refused").into());
        }
        Ok(())
    }
}

#[async_trait]
impl Hooks<TestUser> for RecordingHooks {
    async fn on_after_register(
        &self,
        user: &TestUser,
        request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        self.record("on_after_register", user, String::new(), request)
    }
    async fn on_after_update(
        &self,
        user: &TestUser,
        changes: &UserChanges,
        request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        let mut fields = Vec::new();
        for (set, name) in [
            (changes.email, "email"),
            (changes.password, "password"),
            (changes.is_active, "is_active"),
            (changes.is_superuser, "is_superuser"),
            (changes.is_verified, "is_verified"),
            (changes.extra, "extra"),
            (changes.oauth_account, "oauth_account"),
        ] {
            if set {
                fields.push(name);
            }
        }
        self.record(
            "on_after_update",
            user,
            format!("[{}]", fields.join(",")),
            request,
        )
    }
    async fn on_after_request_verify(
        &self,
        user: &TestUser,
        token: &str,
        request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        self.tokens.lock().unwrap().push(token.to_owned());
        self.record("on_after_request_verify", user, String::new(), request)
    }
    async fn on_after_verify(
        &self,
        user: &TestUser,
        request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        self.record(
            "on_after_verify",
            user,
            format!("verified={}", user.is_verified),
            request,
        )
    }
    async fn on_after_forgot_password(
        &self,
        user: &TestUser,
        token: &str,
        request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        self.tokens.lock().unwrap().push(token.to_owned());
        self.record("on_after_forgot_password", user, String::new(), request)
    }
    async fn on_after_reset_password(
        &self,
        user: &TestUser,
        request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        self.record("on_after_reset_password", user, String::new(), request)
    }
    async fn on_after_login(
        &self,
        user: &TestUser,
        request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        self.record("on_after_login", user, String::new(), request)
    }
    async fn on_before_delete(
        &self,
        user: &TestUser,
        request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        self.record("on_before_delete", user, String::new(), request)
    }
    async fn on_after_delete(
        &self,
        user: &TestUser,
        request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        self.record("on_after_delete", user, String::new(), request)
    }
}

/// Records the user IDs (and reasons) it was asked to revoke; can be told to fail.
#[derive(Default)]
pub struct RecordingRevoker {
    pub revoked: Mutex<Vec<(Uuid, RevokeReason)>>,
    pub fail: Mutex<bool>,
}

impl RecordingRevoker {
    /// Every revocation's user ID, in order.
    pub fn revoked(&self) -> Vec<Uuid> {
        self.revoked
            .lock()
            .unwrap()
            .iter()
            .map(|(id, _)| *id)
            .collect()
    }
    /// Every revocation's reason, in order.
    pub fn reasons(&self) -> Vec<RevokeReason> {
        self.revoked
            .lock()
            .unwrap()
            .iter()
            .map(|(_, r)| *r)
            .collect()
    }
}

#[async_trait]
impl SessionRevoker<Uuid> for RecordingRevoker {
    async fn revoke_all(&self, user_id: &Uuid, reason: RevokeReason) -> Result<(), StrategyError> {
        self.revoked.lock().unwrap().push((*user_id, reason));
        if *self.fail.lock().unwrap() {
            return Err(DbError::unavailable("revocation store down").into());
        }
        Ok(())
    }
}

pub struct Fixture {
    pub manager: Manager,
    pub db: Db,
    pub clock: ManualClock,
    pub hooks: Arc<RecordingHooks>,
    pub revokers: [Arc<RecordingRevoker>; 2],
    pub hasher: Arc<CountingHasher>,
}

pub fn fixture() -> Fixture {
    fixture_with(CountingHasher::cheap(), |b| b)
}

pub fn fixture_with(
    hasher: CountingHasher,
    configure: impl FnOnce(
        authward_core::manager::UserManagerBuilder<Db>,
    ) -> authward_core::manager::UserManagerBuilder<Db>,
) -> Fixture {
    let db = Db::new();
    let clock = ManualClock::new(datetime!(2030-01-01 0:00 UTC));
    let hooks = Arc::new(RecordingHooks::default());
    let revokers = [
        Arc::new(RecordingRevoker::default()),
        Arc::new(RecordingRevoker::default()),
    ];
    let hasher = Arc::new(hasher);
    let builder = UserManager::builder(db.clone(), SECRET)
        .password_helper(PasswordHelper::from_arc(hasher.clone()))
        .clock(clock.clone())
        .hooks_arc(hooks.clone())
        .revoker(revokers[0].clone())
        .revoker(revokers[1].clone());
    let manager = configure(builder).build().unwrap();
    Fixture {
        manager,
        db,
        clock,
        hooks,
        revokers,
        hasher,
    }
}

impl Fixture {
    /// Registers an active, unverified user through the manager.
    pub async fn register(&self, email: &str, password: &str) -> TestUser {
        self.manager
            .create(UserCreate::new(email, password), true, None)
            .await
            .unwrap()
    }

    pub fn revoked(&self) -> Vec<Vec<Uuid>> {
        self.revokers.iter().map(|r| r.revoked()).collect()
    }
}

/// The claims of a JWT, without checking anything.
pub fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Signs arbitrary claims with HS256.
pub fn sign(claims: &serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// Signs arbitrary claims with another algorithm.
pub fn sign_with(claims: &serde_json::Value, secret: &str, alg: jsonwebtoken::Algorithm) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// An unsigned (`alg: none`) token carrying `claims`.
pub fn unsigned(claims: &serde_json::Value) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(serde_json::to_vec(claims).unwrap())
    )
}

/// Flips one character of the signature.
pub fn tamper_signature(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let last = chars.len() - 2;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// Replaces the payload, keeping the original header and signature.
pub fn swap_payload(token: &str, claims: &serde_json::Value) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(claims).unwrap());
    parts.join(".")
}

pub fn ua(agent: &str) -> RequestInfo {
    RequestInfo::new().with_user_agent(agent)
}
