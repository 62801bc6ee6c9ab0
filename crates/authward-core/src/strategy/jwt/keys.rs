//! Signing and verification keys, each pinned to one algorithm.

use std::fmt;

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use sha2::{Sha256, Sha384, Sha512};

use super::asymmetric::{PrivateKey, PublicKey};
use crate::error::BoxError;

/// The JWS algorithms authward accepts (re-exported from `jsonwebtoken`): HS256/384/512,
/// RS256/384/512, PS256/384/512, ES256/384 and EdDSA (Ed25519). There is no `none`.
pub use jsonwebtoken::Algorithm as JwtAlgorithm;

/// Label under which a password-fingerprint key is derived from an HMAC signing secret.
const FINGERPRINT_LABEL: &[u8] = b"authward/jwt/password-fingerprint/v1";

/// A key that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtKeyError {
    /// An HMAC secret shorter than the hash output (RFC 7518 §3.2): 32 bytes for HS256, 48 for
    /// HS384, 64 for HS512.
    #[error("{algorithm:?} needs a secret of at least {min} bytes, got {actual}")]
    SecretTooShort {
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// The minimum length in bytes.
        min: usize,
        /// The length given.
        actual: usize,
    },
    /// The algorithm does not fit the constructor (an RSA algorithm for an HMAC secret, ...).
    #[error("{algorithm:?} cannot be used with {expected} keys")]
    WrongAlgorithm {
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// What kind of key the constructor makes.
        expected: &'static str,
    },
    /// The PEM text could not be parsed as a key of the algorithm's family.
    #[error("invalid PEM key for {algorithm:?}")]
    InvalidPem {
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// The parser's error.
        #[source]
        source: BoxError,
    },
    /// The private and public keys do not belong together, or do not fit the algorithm (an
    /// ES384 curve for ES256, ...): a test signature did not verify.
    #[error("the private and public keys do not form a working {algorithm:?} key pair")]
    KeyPairMismatch {
        /// The algorithm asked for.
        algorithm: Algorithm,
    },
    /// An empty `kid`.
    #[error("a key id (kid) must not be empty")]
    EmptyKid,
}

#[derive(Clone)]
pub(crate) enum HmacKey {
    S256(Hmac<Sha256>),
    S384(Hmac<Sha384>),
    S512(Hmac<Sha512>),
}

impl HmacKey {
    fn new(algorithm: Algorithm, secret: &[u8]) -> Result<Self, JwtKeyError> {
        let min = match algorithm {
            Algorithm::HS256 => 32,
            Algorithm::HS384 => 48,
            Algorithm::HS512 => 64,
            _ => {
                return Err(JwtKeyError::WrongAlgorithm {
                    algorithm,
                    expected: "HMAC secret",
                });
            }
        };
        let too_short = JwtKeyError::SecretTooShort {
            algorithm,
            min,
            actual: secret.len(),
        };
        if secret.len() < min {
            return Err(too_short);
        }
        // HMAC accepts keys of any length, so the errors below cannot happen; still no panic.
        match algorithm {
            Algorithm::HS256 => Hmac::<Sha256>::new_from_slice(secret).map(Self::S256),
            Algorithm::HS384 => Hmac::<Sha384>::new_from_slice(secret).map(Self::S384),
            _ => Hmac::<Sha512>::new_from_slice(secret).map(Self::S512),
        }
        .map_err(|_| too_short)
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        fn run<M: Mac + Clone>(mac: &M, message: &[u8]) -> Vec<u8> {
            let mut mac = mac.clone();
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Self::S256(m) => run(m, message),
            Self::S384(m) => run(m, message),
            Self::S512(m) => run(m, message),
        }
    }

    /// Constant-time comparison of `signature` with the MAC of `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        fn run<M: Mac + Clone>(mac: &M, message: &[u8], signature: &[u8]) -> bool {
            let mut mac = mac.clone();
            mac.update(message);
            mac.verify_slice(signature).is_ok()
        }
        match self {
            Self::S256(m) => run(m, message, signature),
            Self::S384(m) => run(m, message, signature),
            Self::S512(m) => run(m, message, signature),
        }
    }
}

#[derive(Clone)]
pub(crate) enum Verifier {
    Hmac(Box<HmacKey>),
    /// Parsed once, when the key is built.
    Public(Box<PublicKey>),
}

#[derive(Clone)]
pub(crate) enum Signer {
    Hmac(Box<HmacKey>),
    /// Parsed once, when the key is built.
    Private(Box<PrivateKey>),
}

/// A JWT key pinned to one algorithm, optionally named by a key id (`kid`).
///
/// A token is only ever checked with the algorithm of the key its `kid` selects: the `alg` in
/// the token's header must equal it, so `alg: none` and HMAC/RSA confusion (an HS256 token
/// "signed" with the RSA public key as secret) are rejected.
///
/// ```
/// use authward_core::strategy::{JwtAlgorithm, JwtKey};
///
/// let key = JwtKey::hmac(JwtAlgorithm::HS256, b"an HMAC secret of at least 32 bytes!")
///     .unwrap()
///     .with_kid("2030-01");
/// assert_eq!(key.kid(), Some("2030-01"));
/// assert!(JwtKey::hmac(JwtAlgorithm::HS256, b"too short").is_err());
/// ```
#[derive(Clone)]
pub struct JwtKey {
    pub(crate) kid: Option<String>,
    pub(crate) algorithm: Algorithm,
    pub(crate) verifier: Verifier,
    pub(crate) signer: Option<Signer>,
    /// Password-fingerprint key derived from an HMAC secret (none for public-key algorithms).
    pub(crate) derived_fingerprint_key: Option<Hmac<Sha256>>,
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("can_sign", &self.signer.is_some())
            .finish_non_exhaustive()
    }
}

fn family_name(family: AlgorithmFamily) -> &'static str {
    match family {
        AlgorithmFamily::Hmac => "HMAC",
        AlgorithmFamily::Rsa => "RSA",
        AlgorithmFamily::Ec => "EC",
        AlgorithmFamily::Ed => "Ed25519",
    }
}

fn public_key(algorithm: Algorithm, pem: &[u8]) -> Result<PublicKey, JwtKeyError> {
    if algorithm.family() == AlgorithmFamily::Hmac {
        return Err(JwtKeyError::WrongAlgorithm {
            algorithm,
            expected: "PEM public",
        });
    }
    PublicKey::from_pem(algorithm, pem)
        .map_err(|source| JwtKeyError::InvalidPem { algorithm, source })
}

fn private_key(algorithm: Algorithm, pem: &[u8]) -> Result<PrivateKey, JwtKeyError> {
    if algorithm.family() == AlgorithmFamily::Hmac {
        return Err(JwtKeyError::WrongAlgorithm {
            algorithm,
            expected: "PEM private",
        });
    }
    PrivateKey::from_pem(algorithm, pem)
        .map_err(|source| JwtKeyError::InvalidPem { algorithm, source })
}

impl JwtKey {
    /// An HMAC key (HS256, HS384 or HS512) that both signs and verifies.
    ///
    /// The secret must be at least as long as the hash output (32, 48 or 64 bytes); a shorter
    /// one is [`JwtKeyError::SecretTooShort`].
    pub fn hmac(algorithm: Algorithm, secret: impl AsRef<[u8]>) -> Result<Self, JwtKeyError> {
        let secret = secret.as_ref();
        let key = HmacKey::new(algorithm, secret)?;
        let fingerprint = Hmac::<Sha256>::new_from_slice(secret)
            .ok()
            .map(|mut mac| {
                mac.update(FINGERPRINT_LABEL);
                mac.finalize().into_bytes()
            })
            .and_then(|derived| Hmac::<Sha256>::new_from_slice(&derived).ok());
        Ok(Self {
            kid: None,
            algorithm,
            verifier: Verifier::Hmac(Box::new(key.clone())),
            signer: Some(Signer::Hmac(Box::new(key))),
            derived_fingerprint_key: fingerprint,
        })
    }

    /// An HS256 key (the FastAPI Users default).
    pub fn hs256(secret: impl AsRef<[u8]>) -> Result<Self, JwtKeyError> {
        Self::hmac(Algorithm::HS256, secret)
    }

    /// A public-key signing key (RS*, PS*, ES256/384, EdDSA) from its PEM private key (PKCS#8,
    /// or PKCS#1 for RSA) and PEM public key.
    ///
    /// The pair is checked by signing and verifying a test message, so a mismatched pair or a
    /// curve that does not fit the algorithm fails here and not at the first login.
    pub fn from_pem_pair(
        algorithm: Algorithm,
        private_pem: impl AsRef<[u8]>,
        public_pem: impl AsRef<[u8]>,
    ) -> Result<Self, JwtKeyError> {
        if algorithm.family() == AlgorithmFamily::Hmac {
            return Err(JwtKeyError::WrongAlgorithm {
                algorithm,
                expected: family_name(AlgorithmFamily::Hmac),
            });
        }
        let signer = private_key(algorithm, private_pem.as_ref())?;
        let verifier = public_key(algorithm, public_pem.as_ref())?;
        let probe = b"authward key pair check";
        let signature = signer
            .sign(probe)
            .map_err(|_| JwtKeyError::KeyPairMismatch { algorithm })?;
        if !verifier.verify(probe, &signature) {
            return Err(JwtKeyError::KeyPairMismatch { algorithm });
        }
        Ok(Self {
            kid: None,
            algorithm,
            verifier: Verifier::Public(Box::new(verifier)),
            signer: Some(Signer::Private(Box::new(signer))),
            derived_fingerprint_key: None,
        })
    }

    /// A verification-only public key (RS*, PS*, ES256/384, EdDSA) from PEM (SPKI, or PKCS#1
    /// for RSA): for tokens signed elsewhere or by a retired key.
    pub fn verifying_pem(
        algorithm: Algorithm,
        public_pem: impl AsRef<[u8]>,
    ) -> Result<Self, JwtKeyError> {
        let verifier = public_key(algorithm, public_pem.as_ref())?;
        Ok(Self {
            kid: None,
            algorithm,
            verifier: Verifier::Public(Box::new(verifier)),
            signer: None,
            derived_fingerprint_key: None,
        })
    }

    /// Names the key; tokens it signs carry this `kid`, and tokens carrying it are checked
    /// with it.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Drops the private half: the key only verifies (a retired signing key).
    pub fn verification_only(mut self) -> Self {
        self.signer = None;
        self
    }

    /// The key id, if named.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The one algorithm this key is used with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Whether the key can sign.
    pub fn can_sign(&self) -> bool {
        self.signer.is_some()
    }

    /// Verifies `signature_b64` (base64url) over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature_b64: &[u8]) -> bool {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        match &self.verifier {
            Verifier::Hmac(key) => {
                // HMAC-SHA-512 signatures are 64 bytes; anything longer is not a signature.
                let mut signature = [0_u8; 66];
                match URL_SAFE_NO_PAD.decode_slice(signature_b64, &mut signature) {
                    Ok(len) => key.verify(message, &signature[..len]),
                    Err(_) => false,
                }
            }
            Verifier::Public(key) => {
                // RSA-4096 signatures are 512 bytes; a longer signature is refused unread.
                let mut signature = [0_u8; 1026];
                match URL_SAFE_NO_PAD.decode_slice(signature_b64, &mut signature) {
                    Ok(len) => key.verify(message, &signature[..len]),
                    Err(_) => false,
                }
            }
        }
    }
}

pub(crate) fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
    }
}
