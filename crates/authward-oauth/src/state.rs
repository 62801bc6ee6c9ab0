//! The `state` parameter: FastAPI Users' signed JWT, decoded by strict rules, used once, and
//! the source of the PKCE verifier and the OIDC nonce.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Mutex;

use async_trait::async_trait;
use authward_core::{AccessTokenDatabase, DbError, NewAccessToken, TokenDigest, UserId};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

/// The audience of state tokens (FastAPI Users' `STATE_TOKEN_AUDIENCE`).
pub const STATE_AUDIENCE: &str = "fastapi-users:oauth-state";

/// The default lifetime of a state, and of the CSRF cookie: one hour, as FastAPI Users.
pub const DEFAULT_STATE_LIFETIME: Duration = Duration::seconds(3600);

/// States longer than this are refused unread.
pub(crate) const MAX_STATE_BYTES: usize = 4096;

/// The claims of a state token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StateClaims {
    /// The double-submit CSRF token, also in the CSRF cookie.
    pub(crate) csrftoken: String,
    pub(crate) aud: String,
    pub(crate) exp: i64,
    /// The state's unique ID, recorded on first use.
    pub(crate) jti: String,
    /// The associate flow: the user who asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sub: Option<String>,
}

/// Why a state was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateError {
    /// Bad signature, garbage, wrong or missing audience, another algorithm, missing claims:
    /// `ACCESS_TOKEN_DECODE_ERROR`.
    Decode,
    /// Well signed but expired: `ACCESS_TOKEN_ALREADY_EXPIRED`.
    Expired,
}

/// Signs and reads states, and derives their PKCE verifier and nonce.
pub(crate) struct StateCodec {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Key of the PKCE verifier and nonce derivations (itself derived from the secret).
    derive_key: [u8; 32],
    pub(crate) lifetime: Duration,
}

impl fmt::Debug for StateCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateCodec")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl StateCodec {
    pub(crate) fn new(secret: &[u8], lifetime: Duration) -> Self {
        // Pinned algorithm: `alg: none`, HS512, RS256 with the secret as a "public key" are
        // all refused. The audience is required and must match; the expiry is required and
        // checked against the manager's clock below (PyJWT: expired when now >= exp).
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "aud"]);
        validation.set_audience(&[STATE_AUDIENCE]);
        let mut hasher = Sha256::new();
        hasher.update(b"authward oauth state derivation key v1\0");
        hasher.update(secret);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            derive_key: hasher.finalize().into(),
            lifetime,
        }
    }

    /// A new state for `csrftoken` (and `sub` in the associate flow).
    pub(crate) fn issue(
        &self,
        csrftoken: &str,
        sub: Option<String>,
        now: OffsetDateTime,
    ) -> Result<(String, StateClaims), jsonwebtoken::errors::Error> {
        let claims = StateClaims {
            csrftoken: csrftoken.to_owned(),
            aud: STATE_AUDIENCE.to_owned(),
            // Saturating: a lifetime past the calendar's end never expires.
            exp: now
                .unix_timestamp()
                .saturating_add(self.lifetime.whole_seconds()),
            jti: random_token(),
            sub,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims))
    }

    /// Reads a state by authward's rules.
    pub(crate) fn decode(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<StateClaims, StateError> {
        if token.is_empty() || token.len() > MAX_STATE_BYTES {
            return Err(StateError::Decode);
        }
        let claims =
            match jsonwebtoken::decode::<StateClaims>(token, &self.decoding, &self.validation) {
                Ok(data) => data.claims,
                Err(err) => {
                    return Err(match err.kind() {
                        ErrorKind::ExpiredSignature => StateError::Expired,
                        _ => StateError::Decode,
                    });
                }
            };
        if now.unix_timestamp() >= claims.exp {
            return Err(StateError::Expired);
        }
        if claims.jti.len() < 16 || claims.csrftoken.is_empty() {
            return Err(StateError::Decode);
        }
        Ok(claims)
    }

    fn derive(&self, label: &[u8], claims: &StateClaims) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.derive_key) {
            Ok(mac) => mac,
            // HMAC takes keys of any length.
            Err(_) => return String::new(),
        };
        for part in [label, claims.jti.as_bytes(), claims.csrftoken.as_bytes()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The PKCE verifier of a state: an HMAC of its ID and CSRF token under a key derived from
    /// the state secret, 43 characters. Only the server can compute it; the authorization
    /// URL carries only its SHA-256.
    pub(crate) fn pkce_verifier(&self, claims: &StateClaims) -> String {
        self.derive(b"pkce verifier", claims)
    }

    /// The PKCE challenge (`S256`) of a state.
    pub(crate) fn pkce_challenge(&self, claims: &StateClaims) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.pkce_verifier(claims).as_bytes()))
    }

    /// The OIDC nonce of a state, bound to it the same way.
    pub(crate) fn nonce(&self, claims: &StateClaims) -> String {
        self.derive(b"oidc nonce", claims)
    }
}

/// 32 random bytes, base64url (Python's `secrets.token_urlsafe(32)`).
pub(crate) fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Where used states are recorded, so that each works once.
///
/// A callback asks [`StateStore::is_used`] before the code goes to the provider, so a replay
/// never reaches it, and calls [`StateStore::first_use`] once the provider has accepted the
/// code. A state is therefore recorded only for a code the provider issued for it (PKCE binds
/// the two), and a client cannot fill the store with states it fetched from `/authorize`.
///
/// Every node serving callbacks must share one store: with a per-process store
/// ([`MemoryStateStore`], the default) a state used on one node is still usable once on each
/// other node. For several nodes use [`TokenStateStore`] over a shared token store (Redis).
#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    /// Whether the state `jti` has been recorded as used. A read only: of two concurrent
    /// callbacks both may see `false`; [`StateStore::first_use`] decides between them.
    ///
    /// The default answers `false`: single use still holds (`first_use` refuses the replay
    /// once the provider has answered), but a replayed callback then reaches the provider,
    /// which should refuse its spent code. Both stores of this crate look the state up.
    async fn is_used(&self, jti: &str) -> Result<bool, DbError> {
        let _ = jti;
        Ok(false)
    }

    /// Records the use of the state `jti`, valid until `expires_at`. `Ok(true)` the first
    /// time, `Ok(false)` on every later call; atomic: of two concurrent calls, one wins.
    async fn first_use(&self, jti: &str, expires_at: OffsetDateTime) -> Result<bool, DbError>;
}

/// How many used states a [`MemoryStateStore`] holds at most by default (about 10 MB).
pub const DEFAULT_MEMORY_STATE_CAPACITY: usize = 100_000;

/// Used states in this process's memory (the default store). Entries are dropped once the
/// state has expired.
///
/// The store holds at most its capacity ([`DEFAULT_MEMORY_STATE_CAPACITY`] unless set with
/// [`MemoryStateStore::with_capacity`]). A state is recorded only once the provider has accepted
/// its code, and stays until it expires (one state lifetime), so the store holds at most the
/// logins completed at the provider in one state lifetime. When every entry is an unexpired
/// state, a new state is refused with [`DbError::Unavailable`] (the callback answers 503) rather
/// than growing without bound or forgetting a state that must not work twice; a replayed state
/// is still refused as such.
#[derive(Debug)]
pub struct MemoryStateStore {
    inner: Mutex<MemoryStates>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct MemoryStates {
    used: HashMap<String, OffsetDateTime>,
    /// Size after the last sweep of expired entries.
    swept_at: usize,
    /// The earliest expiry left after the last sweep: while the store is full, sweeping
    /// again before then frees nothing.
    next_expiry: Option<OffsetDateTime>,
}

impl MemoryStates {
    fn sweep(&mut self, now: OffsetDateTime) {
        self.used.retain(|_, until| *until > now);
        self.swept_at = self.used.len();
        self.next_expiry = self.used.values().min().copied();
    }
}

impl MemoryStateStore {
    /// An empty store holding up to [`DEFAULT_MEMORY_STATE_CAPACITY`] used states.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_MEMORY_STATE_CAPACITY)
    }

    /// An empty store holding up to `capacity` used states (about 100 bytes each; `0` refuses
    /// every state).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(MemoryStates::default()),
            capacity,
        }
    }
}

impl Default for MemoryStateStore {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl StateStore for MemoryStateStore {
    async fn is_used(&self, jti: &str) -> Result<bool, DbError> {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        Ok(inner.used.contains_key(jti))
    }

    async fn first_use(&self, jti: &str, expires_at: OffsetDateTime) -> Result<bool, DbError> {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let now = OffsetDateTime::now_utc();
        let full = inner.used.len() >= self.capacity;
        // Sweep expired entries whenever the map has doubled since the last sweep, or when it
        // is full and an entry has expired since.
        if inner.used.len() >= 2 * inner.swept_at.max(512)
            || (full && inner.next_expiry.is_none_or(|next| next <= now))
        {
            inner.sweep(now);
        }
        if inner.used.contains_key(jti) {
            return Ok(false);
        }
        if inner.used.len() >= self.capacity {
            return Err(DbError::unavailable(
                "the OAuth used-state store is full of unexpired states \
                 (MemoryStateStore::with_capacity, or TokenStateStore over a shared store)",
            ));
        }
        inner.used.insert(jti.to_owned(), expires_at);
        // Keep the earliest expiry true for states of a shorter lifetime recorded since.
        inner.next_expiry = Some(
            inner
                .next_expiry
                .map_or(expires_at, |next| next.min(expires_at)),
        );
        Ok(true)
    }
}

/// The digest under which [`TokenStateStore`] records the state `jti`.
fn state_digest(jti: &str) -> TokenDigest {
    TokenDigest::of(&format!("authward oauth state {jti}"))
}

/// Used states in any [`AccessTokenDatabase`]: the first use creates a record keyed by the
/// digest of the state's ID, and the store's uniqueness (`DbError::AlreadyExists`) refuses
/// every later one, atomically, across every node sharing the store.
///
/// Records belong to the placeholder user `owner` (no user is known at login), so the store
/// must not require its users to exist: Redis (with a key prefix of its own and a lifetime of
/// at least the state lifetime, so records expire by themselves) or a table without a foreign
/// key. Run [`AccessTokenDatabase::delete_expired`] with a cut-off one state lifetime ago
/// where records do not expire by themselves.
///
/// ```
/// use authward_core::memory::MemoryAccessTokenDatabase;
/// use authward_oauth::TokenStateStore;
///
/// let states = TokenStateStore::new(MemoryAccessTokenDatabase::<uuid::Uuid>::new(), uuid::Uuid::nil());
/// # let _ = states;
/// ```
pub struct TokenStateStore<S, ID> {
    store: S,
    owner: ID,
    _id: PhantomData<fn() -> ID>,
}

impl<S, ID: fmt::Debug> fmt::Debug for TokenStateStore<S, ID> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStateStore")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl<S: AccessTokenDatabase<ID>, ID: UserId> TokenStateStore<S, ID> {
    /// Records used states in `store`, owned by the placeholder user `owner`.
    pub fn new(store: S, owner: ID) -> Self {
        Self {
            store,
            owner,
            _id: PhantomData,
        }
    }
}

#[async_trait]
impl<S, ID> StateStore for TokenStateStore<S, ID>
where
    S: AccessTokenDatabase<ID> + 'static,
    ID: UserId,
{
    async fn is_used(&self, jti: &str) -> Result<bool, DbError> {
        let found = self.store.get_by_token(&state_digest(jti), None).await?;
        Ok(found.is_some())
    }

    async fn first_use(&self, jti: &str, _expires_at: OffsetDateTime) -> Result<bool, DbError> {
        let record = NewAccessToken {
            digest: state_digest(jti),
            user_id: self.owner.clone(),
            created_at: OffsetDateTime::now_utc(),
            family: None,
            used: true,
        };
        match self.store.create(record).await {
            Ok(_) => Ok(true),
            Err(DbError::AlreadyExists { .. }) => Ok(false),
            Err(other) => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SECRET: &[u8] = b"a state secret of at least 32 bytes!!";

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap()
    }

    #[test]
    fn round_trip_and_expiry() {
        let codec = StateCodec::new(SECRET, DEFAULT_STATE_LIFETIME);
        let (token, claims) = codec.issue("csrf", Some("42".into()), now()).unwrap();
        let read = codec.decode(&token, now()).unwrap();
        assert_eq!(read.csrftoken, "csrf");
        assert_eq!(read.sub.as_deref(), Some("42"));
        assert_eq!(read.jti, claims.jti);
        assert_eq!(read.aud, STATE_AUDIENCE);
        let later = now() + DEFAULT_STATE_LIFETIME;
        assert_eq!(
            codec.decode(&token, later).unwrap_err(),
            StateError::Expired
        );
        assert_eq!(
            codec
                .decode(&token, later - Duration::seconds(1))
                .unwrap()
                .jti,
            claims.jti
        );
    }

    #[test]
    fn another_secret_or_garbage_is_a_decode_error() {
        let codec = StateCodec::new(SECRET, DEFAULT_STATE_LIFETIME);
        let other = StateCodec::new(
            b"another secret of at least 32 bytes!",
            DEFAULT_STATE_LIFETIME,
        );
        let (token, _) = other.issue("csrf", None, now()).unwrap();
        for bad in [token.as_str(), "", "garbage", "a.b.c"] {
            assert_eq!(codec.decode(bad, now()).unwrap_err(), StateError::Decode);
        }
        assert_eq!(
            codec
                .decode(&"a".repeat(MAX_STATE_BYTES + 1), now())
                .unwrap_err(),
            StateError::Decode
        );
    }

    #[test]
    fn derivations_are_bound_to_the_state_and_secret() {
        let codec = StateCodec::new(SECRET, DEFAULT_STATE_LIFETIME);
        let (_, a) = codec.issue("csrf", None, now()).unwrap();
        let (_, b) = codec.issue("csrf", None, now()).unwrap();
        let verifier = codec.pkce_verifier(&a);
        assert_eq!(verifier.len(), 43);
        assert_ne!(verifier, codec.pkce_verifier(&b));
        assert_ne!(verifier, codec.nonce(&a));
        let other = StateCodec::new(
            b"another secret of at least 32 bytes!",
            DEFAULT_STATE_LIFETIME,
        );
        assert_ne!(verifier, other.pkce_verifier(&a));
        assert_eq!(
            codec.pkce_challenge(&a),
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
        );
    }

    #[tokio::test]
    async fn token_store_allows_one_use_even_concurrently() {
        use authward_core::memory::MemoryAccessTokenDatabase;
        let store = std::sync::Arc::new(TokenStateStore::new(
            MemoryAccessTokenDatabase::<uuid::Uuid>::new(),
            uuid::Uuid::nil(),
        ));
        let until = OffsetDateTime::now_utc() + Duration::hours(1);
        let attempts = (0..8).map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.first_use("jti-1", until).await.unwrap() })
        });
        let mut wins = 0;
        for attempt in attempts {
            wins += usize::from(attempt.await.unwrap());
        }
        assert_eq!(wins, 1);
        assert!(store.first_use("jti-2", until).await.unwrap());
    }

    #[tokio::test]
    async fn is_used_reads_what_first_use_recorded() {
        use authward_core::memory::MemoryAccessTokenDatabase;
        let until = OffsetDateTime::now_utc() + Duration::hours(1);
        let memory = MemoryStateStore::new();
        let tokens = TokenStateStore::new(
            MemoryAccessTokenDatabase::<uuid::Uuid>::new(),
            uuid::Uuid::nil(),
        );
        for store in [&memory as &dyn StateStore, &tokens] {
            assert!(!store.is_used("a").await.unwrap());
            assert!(store.first_use("a", until).await.unwrap());
            assert!(store.is_used("a").await.unwrap());
            assert!(!store.is_used("b").await.unwrap());
        }
    }

    #[tokio::test]
    async fn a_full_memory_store_refuses_new_states_and_still_refuses_replays() {
        let store = MemoryStateStore::with_capacity(2);
        let until = OffsetDateTime::now_utc() + Duration::hours(1);
        assert!(store.first_use("a", until).await.unwrap());
        assert!(store.first_use("b", until).await.unwrap());
        let err = store.first_use("c", until).await.unwrap_err();
        assert!(err.is_unavailable(), "{err}");
        assert!(!store.first_use("a", until).await.unwrap(), "a replay");
        assert_eq!(store.inner.lock().unwrap().used.len(), 2);
    }

    #[tokio::test]
    async fn a_full_memory_store_makes_room_as_states_expire() {
        let store = MemoryStateStore::with_capacity(2);
        let now = OffsetDateTime::now_utc();
        assert!(
            store
                .first_use("gone", now - Duration::seconds(1))
                .await
                .unwrap()
        );
        assert!(
            store
                .first_use("b", now + Duration::hours(1))
                .await
                .unwrap()
        );
        assert!(
            store
                .first_use("c", now + Duration::hours(1))
                .await
                .unwrap()
        );
        let inner = store.inner.lock().unwrap();
        assert!(!inner.used.contains_key("gone"));
        assert_eq!(inner.used.len(), 2);
    }

    #[tokio::test]
    async fn a_full_memory_store_frees_a_shorter_lived_state_recorded_after_its_sweep() {
        let store = MemoryStateStore::with_capacity(2);
        let now = OffsetDateTime::now_utc();
        assert!(
            store
                .first_use("long", now + Duration::hours(1))
                .await
                .unwrap()
        );
        // Fill the store, then sweep (nothing expired): the earliest expiry is an hour away.
        assert!(
            store
                .first_use("short", now + Duration::hours(1))
                .await
                .unwrap()
        );
        assert!(store.first_use("x", now).await.is_err());
        store.inner.lock().unwrap().used.remove("short");
        // A state of a shorter lifetime, already expired by the next call.
        assert!(
            store
                .first_use("brief", now - Duration::seconds(1))
                .await
                .unwrap()
        );
        assert!(
            store
                .first_use("next", now + Duration::hours(1))
                .await
                .unwrap(),
            "the expired state's room is found without waiting for the hour"
        );
    }

    #[tokio::test]
    async fn memory_store_allows_one_use() {
        let store = MemoryStateStore::new();
        let until = OffsetDateTime::now_utc() + Duration::hours(1);
        assert!(store.first_use("a", until).await.unwrap());
        assert!(!store.first_use("a", until).await.unwrap());
        assert!(store.first_use("b", until).await.unwrap());
    }
}
