//! Verify and reset tokens: HS256 JWTs with FastAPI Users' claim names and audiences.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;
use time::{Duration, OffsetDateTime};

use super::ManagerError;
use crate::user::email_key;

/// The audience of verification tokens.
pub const VERIFY_AUDIENCE: &str = "fastapi-users:verify";
/// The audience of reset-password tokens.
pub const RESET_AUDIENCE: &str = "fastapi-users:reset";

/// Tokens longer than this are refused before any parsing.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Signs and checks one kind of token.
pub(super) struct TokenCodec {
    secret: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    audience: &'static str,
    pub(super) lifetime: Duration,
}

impl TokenCodec {
    pub(super) fn new(secret: &[u8], audience: &'static str, lifetime: Duration) -> Self {
        // The algorithm is pinned: a token whose header names anything but HS256 (`none`,
        // HS512, RS256 with the secret as a "public key") is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the injected clock instead (see `decode`).
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.set_audience(&[audience]);
        Self {
            secret: secret.to_vec(),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            audience,
            lifetime,
        }
    }

    fn expiry(&self, now: OffsetDateTime) -> i64 {
        // In seconds, saturating: a lifetime past the calendar's end never expires.
        now.unix_timestamp()
            .saturating_add(self.lifetime.whole_seconds())
    }

    fn sign<C: Serialize>(&self, claims: &C) -> Result<String, ManagerError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| ManagerError::Token(Box::new(e)))
    }

    /// The claims of a well-signed, unexpired token of this audience, or `None`.
    fn decode<C: DeserializeOwned + Expiring>(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Option<C> {
        if token.len() > MAX_TOKEN_BYTES {
            return None;
        }
        let data = jsonwebtoken::decode::<C>(token, &self.decoding, &self.validation).ok()?;
        if !registered_claims_are_typed(token) {
            return None;
        }
        // Expired when `now >= exp`, as PyJWT does.
        (now.unix_timestamp() < data.claims.exp()).then_some(data.claims)
    }

    pub(super) fn issue_verify(
        &self,
        sub: String,
        email: &str,
        now: OffsetDateTime,
    ) -> Result<String, ManagerError> {
        self.sign(&VerifyClaimsOut {
            sub,
            email,
            aud: self.audience,
            exp: self.expiry(now),
        })
    }

    pub(super) fn decode_verify(&self, token: &str, now: OffsetDateTime) -> Option<VerifyClaims> {
        self.decode(token, now)
    }

    pub(super) fn issue_reset(
        &self,
        sub: String,
        hashed_password: &str,
        email: &str,
        now: OffsetDateTime,
    ) -> Result<String, ManagerError> {
        let password_fgpt = self.fingerprint(&sub, hashed_password, email);
        self.sign(&ResetClaimsOut {
            sub,
            password_fgpt,
            aud: self.audience,
            exp: self.expiry(now),
        })
    }

    pub(super) fn decode_reset(&self, token: &str, now: OffsetDateTime) -> Option<ResetClaims> {
        self.decode(token, now)
    }

    /// HMAC-SHA256, keyed by the reset secret, over the user ID, the current password hash
    /// and the email key. It changes whenever the password is set (fresh salt), so a reset
    /// token works once, and it changes with the email, so a token sent to an old address
    /// dies with it. Unlike FastAPI Users' argon2 fingerprint it costs microseconds.
    fn fingerprint(&self, sub: &str, hashed_password: &str, email: &str) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.secret) {
            Ok(mac) => mac,
            // HMAC accepts keys of any length; this arm is unreachable in practice.
            Err(_) => return String::new(),
        };
        for part in [
            b"authward reset fingerprint v1".as_slice(),
            sub.as_bytes(),
            hashed_password.as_bytes(),
            email_key(email).as_bytes(),
        ] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Whether `claimed` is the current fingerprint of this user, in constant time.
    pub(super) fn fingerprint_matches(
        &self,
        claimed: &str,
        sub: &str,
        hashed_password: &str,
        email: &str,
    ) -> bool {
        let expected = self.fingerprint(sub, hashed_password, email);
        !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(claimed.as_bytes()))
    }
}

trait Expiring {
    fn exp(&self) -> i64;
}

#[derive(Serialize)]
struct VerifyClaimsOut<'a> {
    sub: String,
    email: &'a str,
    aud: &'a str,
    exp: i64,
}

#[derive(Serialize)]
struct ResetClaimsOut<'a> {
    sub: String,
    password_fgpt: String,
    aud: &'a str,
    exp: i64,
}

/// The claims of a verification token.
#[derive(Deserialize)]
pub(super) struct VerifyClaims {
    pub(super) sub: String,
    pub(super) email: String,
    exp: i64,
}

impl Expiring for VerifyClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// The claims of a reset-password token.
#[derive(Deserialize)]
pub(super) struct ResetClaims {
    pub(super) sub: String,
    pub(super) password_fgpt: String,
    exp: i64,
}

impl Expiring for ResetClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// The registered claims a token carries are not `null` (jsonwebtoken reads a `null` `nbf` or
/// `iat` as absent); called once the signature has been checked.
fn registered_claims_are_typed(token: &str) -> bool {
    use base64::Engine as _;
    let Some(payload) = token.split('.').nth(1) else {
        return false;
    };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload) else {
        return false;
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes)
    else {
        return false;
    };
    ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"]
        .iter()
        .all(|name| !claims.get(*name).is_some_and(serde_json::Value::is_null))
}
