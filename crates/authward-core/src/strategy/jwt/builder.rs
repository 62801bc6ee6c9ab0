//! Configuring a [`JwtStrategy`]: [`JwtStrategyBuilder`], its defaults and what can be wrong
//! with a configuration ([`JwtConfigError`]).

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::Duration;

use super::JwtStrategy;
use super::keys::{JwtKey, JwtKeyError, algorithm_name};
use super::revocation::JwtRevocationStore;
use crate::clock::{Clock, SystemClock};
use crate::db::AccessTokenDatabase;
use crate::id::UserId;

/// FastAPI Users' audience for access tokens.
pub const DEFAULT_AUDIENCE: &str = "fastapi-users:auth";

/// Tokens longer than this many bytes are refused before any parsing (8 KiB).
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

/// A JWT strategy configuration that cannot work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtConfigError {
    /// A key was refused.
    #[error(transparent)]
    Key(#[from] JwtKeyError),
    /// The signing key has no private half ([`JwtKey::verifying_pem`]).
    #[error("the signing key cannot sign (it is verification-only)")]
    SigningKeyCannotSign,
    /// Two keys share a `kid`.
    #[error("two keys share the kid {0:?}")]
    DuplicateKid(String),
    /// More than one key has no `kid`: a token without `kid` would be ambiguous.
    #[error("at most one key may have no kid")]
    SeveralKeysWithoutKid,
    /// A key has an empty `kid`.
    #[error("a kid must not be empty")]
    EmptyKid,
    /// The lifetime is shorter than one second.
    #[error("the token lifetime must be at least one second")]
    LifetimeTooShort,
    /// The leeway is negative.
    #[error("the leeway must not be negative")]
    NegativeLeeway,
    /// No audience was configured.
    #[error("at least one audience is required")]
    EmptyAudience,
    /// Password fingerprints are on, a key is not an HMAC key, and no fingerprint secret was
    /// given ([`JwtStrategyBuilder::fingerprint_secret`]).
    #[error("public-key algorithms need a fingerprint secret (or fingerprints turned off)")]
    FingerprintSecretRequired,
    /// The fingerprint secret is shorter than 32 bytes.
    #[error("the fingerprint secret must be at least 32 bytes")]
    FingerprintSecretTooShort,
}

/// Configures a [`JwtStrategy`]; made by [`JwtStrategy::builder`].
pub struct JwtStrategyBuilder<ID> {
    signing: JwtKey,
    lifetime: Duration,
    verification: Vec<JwtKey>,
    audience: Vec<String>,
    leeway: Duration,
    clock: Arc<dyn Clock>,
    fingerprints: bool,
    fingerprint_secret: Option<Vec<u8>>,
    revocations: Option<Revocations<ID>>,
    max_token_len: usize,
}

enum Revocations<ID> {
    /// A raw store: gets the strategy's clock at build time.
    Store(Arc<dyn AccessTokenDatabase<ID>>),
    /// A configured revocation store: keeps its own clock.
    Configured(JwtRevocationStore<ID>),
}

impl<ID> fmt::Debug for JwtStrategyBuilder<ID> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtStrategyBuilder")
            .field("signing", &self.signing)
            .field("lifetime", &self.lifetime)
            .field("verification", &self.verification)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

impl<ID: UserId> JwtStrategyBuilder<ID> {
    /// Adds a verification key (key rotation): tokens whose `kid` names it are checked with
    /// it. Retired signing keys go here (see [`JwtKey::verification_only`]).
    pub fn verification_key(mut self, key: JwtKey) -> Self {
        self.verification.push(key);
        self
    }

    /// Replaces the accepted and written audiences (default `["fastapi-users:auth"]`). Tokens
    /// are written with all of them, as a JSON array, and accepted when they name any of them.
    pub fn audience<I, S>(mut self, audience: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audience = audience.into_iter().map(Into::into).collect();
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat` (default zero).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Where "now" comes from (default the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The secret keying the password fingerprint (at least 32 bytes). Required with
    /// public-key algorithms; with HMAC keys a fingerprint key is derived from each key's
    /// secret when none is given.
    pub fn fingerprint_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.fingerprint_secret = Some(secret.as_ref().to_vec());
        self
    }

    /// Turns password fingerprints off: tokens then survive password changes and resets until
    /// they expire (FastAPI Users' behaviour). Not recommended.
    pub fn without_password_fingerprint(mut self) -> Self {
        self.fingerprints = false;
        self
    }

    /// Keeps revocations (logout of one token, log-out-everywhere, deactivation) in a store of
    /// their own. The strategy then revokes its own sessions ([`Strategy::revoke_all`](crate::strategy::Strategy::revoke_all)); the
    /// axum integration registers it with the user manager.
    pub fn revocation_store(mut self, store: impl AccessTokenDatabase<ID> + 'static) -> Self {
        self.revocations = Some(Revocations::Store(Arc::new(store)));
        self
    }

    /// Like [`JwtStrategyBuilder::revocation_store`], with a revocation store configured (and
    /// possibly shared) elsewhere; it keeps its own clock.
    pub fn revocations(mut self, revocations: JwtRevocationStore<ID>) -> Self {
        self.revocations = Some(Revocations::Configured(revocations));
        self
    }

    /// The longest token accepted, in bytes (default [`DEFAULT_MAX_TOKEN_LEN`]).
    pub fn max_token_len(mut self, max: usize) -> Self {
        self.max_token_len = max;
        self
    }

    /// Checks the configuration and builds the strategy.
    pub fn build(self) -> Result<JwtStrategy<ID>, JwtConfigError> {
        let Some(signer) = self.signing.signer.clone() else {
            return Err(JwtConfigError::SigningKeyCannotSign);
        };
        if self.lifetime < Duration::seconds(1) {
            return Err(JwtConfigError::LifetimeTooShort);
        }
        if self.leeway.is_negative() {
            return Err(JwtConfigError::NegativeLeeway);
        }
        if self.audience.is_empty() {
            return Err(JwtConfigError::EmptyAudience);
        }
        let explicit = match &self.fingerprint_secret {
            Some(secret) if secret.len() < 32 => {
                return Err(JwtConfigError::FingerprintSecretTooShort);
            }
            Some(secret) => Hmac::<Sha256>::new_from_slice(secret).ok(),
            None => None,
        };
        let mut keys = Vec::with_capacity(1 + self.verification.len());
        keys.push(self.signing);
        keys.extend(self.verification);
        let mut kidless = None;
        for (index, key) in keys.iter().enumerate() {
            match key.kid.as_deref() {
                None if kidless.is_some() => return Err(JwtConfigError::SeveralKeysWithoutKid),
                None => kidless = Some(index),
                Some("") => return Err(JwtConfigError::EmptyKid),
                Some(kid) => {
                    if keys[..index].iter().any(|k| k.kid.as_deref() == Some(kid)) {
                        return Err(JwtConfigError::DuplicateKid(kid.to_owned()));
                    }
                }
            }
        }
        let mut fingerprint_keys = Vec::with_capacity(keys.len());
        for key in &keys {
            let fp = explicit
                .clone()
                .or_else(|| key.derived_fingerprint_key.clone());
            if self.fingerprints && fp.is_none() {
                return Err(JwtConfigError::FingerprintSecretRequired);
            }
            fingerprint_keys.push(if self.fingerprints { fp } else { None });
        }
        let mut header = format!(
            r#"{{"alg":"{}","typ":"JWT""#,
            algorithm_name(keys[0].algorithm)
        );
        if let Some(kid) = &keys[0].kid {
            header.push_str(r#","kid":"#);
            header.push_str(&serde_json::Value::from(kid.as_str()).to_string());
        }
        header.push('}');
        Ok(JwtStrategy {
            header_b64: URL_SAFE_NO_PAD.encode(header),
            signer,
            keys,
            fingerprint_keys,
            kidless,
            audience: self.audience,
            lifetime_secs: self.lifetime.whole_seconds(),
            leeway_nanos: self.leeway.whole_nanoseconds(),
            revocations: self.revocations.map(|r| match r {
                Revocations::Store(store) => {
                    JwtRevocationStore::from_arc(store).with_shared_clock(Arc::clone(&self.clock))
                }
                Revocations::Configured(configured) => configured,
            }),
            clock: self.clock,
            max_token_len: self.max_token_len,
        })
    }
}

impl<ID: UserId> JwtStrategy<ID> {
    /// Starts a configuration signing with `signing_key`, for tokens valid for `lifetime`.
    pub fn builder(signing_key: JwtKey, lifetime: Duration) -> JwtStrategyBuilder<ID> {
        JwtStrategyBuilder {
            signing: signing_key,
            lifetime,
            verification: Vec::new(),
            audience: vec![DEFAULT_AUDIENCE.to_owned()],
            leeway: Duration::ZERO,
            clock: Arc::new(SystemClock),
            fingerprints: true,
            fingerprint_secret: None,
            revocations: None,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
        }
    }
}
