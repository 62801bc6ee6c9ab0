use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::Duration;

use super::builder::JwtConfigError;
use super::claims::{OutClaims, RawClaims, RawHeader};
use super::keys::{JwtKey, Signer, algorithm_name};
use super::revocation::JwtRevocationStore;
use crate::clock::Clock;
use crate::id::UserId;
use crate::strategy::{Revocation, RevokeReason, Strategy, StrategyError, UserLookup};
use crate::user::AuthUser;

/// Stateless JWT access tokens with FastAPI Users' claims, hardened, and revocable.
///
/// # Claims
/// `sub` (the user ID as text), `aud` (a JSON array, default `["fastapi-users:auth"]`), `exp`,
/// plus `iat`, a random `jti` (two tokens issued in the same second differ), `fgpt`, a keyed
/// fingerprint of the user's password hash, and with a revocation store `gen`, the user's
/// revocation generation when the token was issued.
///
/// # Checks on every token, beyond the `jsonwebtoken` defaults
/// - at most [`DEFAULT_MAX_TOKEN_LEN`](super::DEFAULT_MAX_TOKEN_LEN) bytes, checked before any parsing;
/// - the `kid` picks the key (a token without `kid` uses the one key without a `kid`); an
///   unknown `kid` is refused; the header's `alg` must be that key's one algorithm;
/// - a `crit` header is refused;
/// - `sub`, `aud` and `exp` are required and typed (a string `exp` is refused); `aud` must name
///   an accepted audience; `exp` must be in the future, `nbf` and `iat` must not be (all
///   against the injected [`Clock`], with the configured leeway, default zero);
/// - `fgpt` must match the user's current password hash (so a password change or reset kills
///   every token already issued), unless fingerprints are turned off;
/// - with a revocation store: the token must not have been logged out, nor issued in a
///   generation that a later log-out-everywhere, password change, deactivation or deletion
///   ended (see [`JwtRevocationStore`]). A token issued after a revocation is never refused
///   because of it, whatever the clocks say.
///
/// ```
/// use authward_core::strategy::{JwtKey, JwtStrategy};
/// use time::Duration;
///
/// let jwt = JwtStrategy::<uuid::Uuid>::hs256(
///     b"a secret of at least thirty-two bytes",
///     Duration::hours(1),
/// )
/// .unwrap();
/// # let _ = jwt;
/// ```
pub struct JwtStrategy<ID> {
    pub(super) header_b64: String,
    pub(super) signer: Signer,
    /// `keys[0]` is the signing key.
    pub(super) keys: Vec<JwtKey>,
    pub(super) fingerprint_keys: Vec<Option<Hmac<Sha256>>>,
    pub(super) kidless: Option<usize>,
    pub(super) audience: Vec<String>,
    pub(super) lifetime_secs: i64,
    pub(super) leeway_nanos: i128,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) revocations: Option<JwtRevocationStore<ID>>,
    pub(super) max_token_len: usize,
}

impl<ID> fmt::Debug for JwtStrategy<ID> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtStrategy")
            .field("keys", &self.keys)
            .field("audience", &self.audience)
            .field("lifetime_secs", &self.lifetime_secs)
            .field("leeway_nanos", &self.leeway_nanos)
            .field("revocations", &self.revocations.is_some())
            .finish_non_exhaustive()
    }
}

/// Decoded claims up to this size are read from a buffer on the stack.
const INLINE_PAYLOAD: usize = 512;

/// What a token says once its signature and claims have been checked.
struct Verified<ID> {
    user_id: ID,
    /// The revocation generation (0 when the token carries none).
    generation: u64,
    /// Kept only when a revocation store needs it.
    jti: Option<String>,
    /// The decoded `fgpt` claim, when it is 16 bytes of base64url.
    fgpt: Option<[u8; 16]>,
    key_index: usize,
}

impl<ID: UserId> JwtStrategy<ID> {
    /// The FastAPI Users default: HS256 with `secret` (at least 32 bytes), tokens valid for
    /// `lifetime`, password fingerprints on, no revocation store.
    pub fn hs256(secret: impl AsRef<[u8]>, lifetime: Duration) -> Result<Self, JwtConfigError> {
        Self::builder(JwtKey::hs256(secret)?, lifetime).build()
    }

    /// The revocation store, if one is configured.
    pub fn revocation_store(&self) -> Option<&JwtRevocationStore<ID>> {
        self.revocations.as_ref()
    }

    /// Revokes every token issued to `user_id` so far (log out everywhere).
    ///
    /// [`StrategyError::RevokeAllNotSupported`] without a revocation store: stateless JWTs can
    /// then only be revoked by a password change.
    pub async fn log_out_everywhere(&self, user_id: &ID) -> Result<(), StrategyError> {
        match &self.revocations {
            Some(revocations) => Ok(revocations.revoke_all_tokens(user_id).await?),
            None => Err(StrategyError::RevokeAllNotSupported),
        }
    }

    /// True when tokens carry a password fingerprint (a password change ends them).
    pub fn has_password_fingerprint(&self) -> bool {
        self.fingerprint_keys.first().is_some_and(Option::is_some)
    }

    /// How long a token lives.
    pub fn lifetime(&self) -> Duration {
        Duration::seconds(self.lifetime_secs)
    }

    /// The first 16 bytes of `HMAC-SHA256(fingerprint key, hashed_password)`.
    fn fingerprint(&self, key_index: usize, hashed_password: &str) -> Option<[u8; 16]> {
        let mut mac = self.fingerprint_keys.get(key_index)?.clone()?;
        mac.update(hashed_password.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut out = [0_u8; 16];
        out.copy_from_slice(full.get(..16)?);
        Some(out)
    }

    /// Checks the token's form, signature and claims; `None` for any failure.
    fn verify(&self, token: &str) -> Option<Verified<ID>> {
        if token.is_empty() || token.len() > self.max_token_len {
            return None;
        }
        let bytes = token.as_bytes();
        let mut parts = bytes.split(|b| *b == b'.');
        let (header_b64, payload_b64, signature_b64) =
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(h), Some(p), Some(s), None) if !s.is_empty() => (h, p, s),
                _ => return None,
            };
        let key_index = if header_b64 == self.header_b64.as_bytes() {
            // Byte for byte the header this strategy writes: the signing key, its algorithm,
            // no `crit`.
            0
        } else {
            let header: RawHeader =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header_b64).ok()?).ok()?;
            if header.crit {
                return None;
            }
            let key_index = match header.kid.as_deref() {
                Some(kid) => self
                    .keys
                    .iter()
                    .position(|k| k.kid.as_deref() == Some(kid))?,
                None => self.kidless?,
            };
            if header.alg != algorithm_name(self.keys[key_index].algorithm) {
                return None;
            }
            key_index
        };
        let signed_len = header_b64.len() + 1 + payload_b64.len();
        if !self.keys[key_index].verify(&bytes[..signed_len], signature_b64) {
            return None;
        }
        // Claims of the usual size are decoded on the stack, larger ones on the heap.
        let mut inline = [0_u8; INLINE_PAYLOAD];
        let heap;
        let payload: &[u8] = if base64::decoded_len_estimate(payload_b64.len()) <= INLINE_PAYLOAD {
            let len = URL_SAFE_NO_PAD
                .decode_slice(payload_b64, &mut inline)
                .ok()?;
            inline.get(..len)?
        } else {
            heap = URL_SAFE_NO_PAD.decode(payload_b64).ok()?;
            &heap
        };
        let claims: RawClaims<'_> = serde_json::from_slice(payload).ok()?;
        if !claims.aud.matches(&self.audience) {
            return None;
        }
        let now = self.clock.now().unix_timestamp_nanos();
        if now >= claims.exp.0.saturating_add(self.leeway_nanos) {
            return None;
        }
        let latest = now.saturating_add(self.leeway_nanos);
        if claims.nbf.is_some_and(|nbf| nbf.0 > latest)
            || claims.iat.is_some_and(|iat| iat.0 > latest)
        {
            return None;
        }
        let user_id = ID::parse_id(&claims.sub).ok()?;
        let fgpt = claims.fgpt.and_then(|text| {
            let mut out = [0_u8; 18];
            match URL_SAFE_NO_PAD.decode_slice(text.as_bytes(), &mut out) {
                Ok(16) => {
                    let mut fgpt = [0_u8; 16];
                    fgpt.copy_from_slice(&out[..16]);
                    Some(fgpt)
                }
                _ => None,
            }
        });
        Some(Verified {
            user_id,
            generation: claims.generation.unwrap_or(0),
            jti: match &self.revocations {
                Some(_) => claims.jti.map(Cow::into_owned),
                None => None,
            },
            fgpt,
            key_index,
        })
    }

    fn sign(&self, message: &[u8]) -> Result<String, StrategyError> {
        match &self.signer {
            Signer::Hmac(key) => Ok(URL_SAFE_NO_PAD.encode(key.sign(message))),
            Signer::Private(key) => key
                .sign(message)
                .map(|signature| URL_SAFE_NO_PAD.encode(signature))
                .map_err(StrategyError::Signing),
        }
    }

    /// Issues a token for `user_id` whose password hash is `hashed_password`, in revocation
    /// generation `generation` (with a revocation store).
    fn issue(
        &self,
        user_id: &ID,
        hashed_password: &str,
        generation: Option<u64>,
    ) -> Result<String, StrategyError> {
        let now = self.clock.now().unix_timestamp();
        // The `jti` only has to be unique, not secret: the thread-local CSPRNG (ChaCha12,
        // seeded and periodically reseeded from the OS) saves a system call per token.
        let mut jti = [0_u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut jti);
        let jti = URL_SAFE_NO_PAD.encode(jti);
        let fgpt = self
            .fingerprint(0, hashed_password)
            .map(|fp| URL_SAFE_NO_PAD.encode(fp));
        let sub = user_id.to_string();
        let claims = OutClaims {
            sub: &sub,
            aud: &self.audience,
            exp: now.saturating_add(self.lifetime_secs),
            iat: now,
            jti: &jti,
            fgpt: fgpt.as_deref(),
            generation,
        };
        let payload =
            serde_json::to_vec(&claims).map_err(|e| StrategyError::Signing(Box::new(e)))?;
        let mut token = String::with_capacity(self.header_b64.len() + payload.len() * 4 / 3 + 100);
        token.push_str(&self.header_b64);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let signature = self.sign(token.as_bytes())?;
        token.push('.');
        token.push_str(&signature);
        Ok(token)
    }
}

#[async_trait]
impl<U: AuthUser> Strategy<U> for JwtStrategy<U::Id> {
    async fn read_token(
        &self,
        token: &str,
        users: &dyn UserLookup<U>,
    ) -> Result<Option<U>, StrategyError> {
        let Some(verified) = self.verify(token) else {
            return Ok(None);
        };
        let user_id = verified.user_id;
        if let Some(revocations) = &self.revocations
            && revocations
                .is_revoked(&user_id, verified.generation, verified.jti.as_deref())
                .await?
        {
            return Ok(None);
        }
        let Some(user) = users.user_by_id(&user_id).await? else {
            return Ok(None);
        };
        if self.fingerprint_keys[verified.key_index].is_some() {
            let expected = self.fingerprint(verified.key_index, user.hashed_password());
            let matches = match (verified.fgpt, expected) {
                (Some(got), Some(expected)) => bool::from(got.ct_eq(&expected)),
                _ => false,
            };
            if !matches {
                return Ok(None);
            }
        }
        Ok(Some(user))
    }

    async fn write_token(&self, user: &U) -> Result<String, StrategyError> {
        let generation = match &self.revocations {
            Some(revocations) => Some(revocations.current_generation(user.id()).await?),
            None => None,
        };
        self.issue(user.id(), user.hashed_password(), generation)
    }

    /// With a revocation store, revokes the token's `jti`; without one,
    /// [`StrategyError::DestroyNotSupported`]. A token that does not verify, or belongs to
    /// another user, is left alone.
    async fn destroy_token(&self, token: &str, user: &U) -> Result<(), StrategyError> {
        let Some(revocations) = &self.revocations else {
            return Err(StrategyError::DestroyNotSupported);
        };
        let Some(verified) = self.verify(token) else {
            return Ok(());
        };
        if &verified.user_id != user.id() {
            return Ok(());
        }
        let Some(jti) = verified.jti else {
            return Err(StrategyError::DestroyNotSupported);
        };
        revocations
            .revoke_token_id(user.id(), &jti, self.clock.now())
            .await?;
        Ok(())
    }

    /// With a revocation store, starts a new revocation generation (every token issued so far
    /// is refused). Without one, only what the tokens cover by themselves: a password change or
    /// reset (when fingerprints are on: the fingerprint no longer matches) and a deletion (the
    /// user is gone); anything else is [`StrategyError::RevokeAllNotSupported`].
    async fn revoke_all(&self, user_id: &U::Id, reason: RevokeReason) -> Result<(), StrategyError> {
        if let Some(revocations) = &self.revocations {
            return Ok(revocations.revoke_all_tokens(user_id).await?);
        }
        match reason {
            RevokeReason::PasswordChanged | RevokeReason::PasswordReset
                if self.has_password_fingerprint() =>
            {
                Ok(())
            }
            RevokeReason::Deleted => Ok(()),
            _ => Err(StrategyError::RevokeAllNotSupported),
        }
    }

    fn revocation(&self) -> Revocation {
        if self.revocations.is_some() {
            Revocation::FULL
        } else {
            Revocation::NONE
        }
    }
}
