//! Public-key JWT algorithms on the RustCrypto crates, with keys parsed **once** when the
//! [`JwtKey`](super::JwtKey) is built (`jsonwebtoken`'s own backend re-parses a key on every
//! signature and verification, which made ES256 reads cost as much as a key parse).

use jsonwebtoken::Algorithm;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Sha256, Sha384, Sha512};
use signature::{RandomizedSigner, SignatureEncoding, Signer, Verifier};

use crate::error::BoxError;

/// A parsed verification key, pinned to one algorithm.
#[derive(Clone)]
pub(crate) enum PublicKey {
    Rs256(rsa::pkcs1v15::VerifyingKey<Sha256>),
    Rs384(rsa::pkcs1v15::VerifyingKey<Sha384>),
    Rs512(rsa::pkcs1v15::VerifyingKey<Sha512>),
    Ps256(rsa::pss::VerifyingKey<Sha256>),
    Ps384(rsa::pss::VerifyingKey<Sha384>),
    Ps512(rsa::pss::VerifyingKey<Sha512>),
    Es256(p256::ecdsa::VerifyingKey),
    Es384(p384::ecdsa::VerifyingKey),
    EdDsa(ed25519_dalek::VerifyingKey),
}

/// A parsed signing key, pinned to one algorithm.
#[derive(Clone)]
pub(crate) enum PrivateKey {
    Rs256(rsa::pkcs1v15::SigningKey<Sha256>),
    Rs384(rsa::pkcs1v15::SigningKey<Sha384>),
    Rs512(rsa::pkcs1v15::SigningKey<Sha512>),
    Ps256(rsa::pss::BlindedSigningKey<Sha256>),
    Ps384(rsa::pss::BlindedSigningKey<Sha384>),
    Ps512(rsa::pss::BlindedSigningKey<Sha512>),
    Es256(p256::ecdsa::SigningKey),
    Es384(p384::ecdsa::SigningKey),
    EdDsa(ed25519_dalek::SigningKey),
}

fn rsa_public(pem: &str) -> Result<RsaPublicKey, BoxError> {
    RsaPublicKey::from_public_key_pem(pem)
        .map_err(BoxError::from)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem).map_err(BoxError::from))
}

fn rsa_private(pem: &str) -> Result<RsaPrivateKey, BoxError> {
    RsaPrivateKey::from_pkcs8_pem(pem)
        .map_err(BoxError::from)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem).map_err(BoxError::from))
}

fn text(pem: &[u8]) -> Result<&str, BoxError> {
    std::str::from_utf8(pem).map_err(BoxError::from)
}

impl PublicKey {
    /// Parses a PEM public key (SPKI, or PKCS#1 for RSA) for `algorithm`.
    pub(crate) fn from_pem(algorithm: Algorithm, pem: &[u8]) -> Result<Self, BoxError> {
        let pem = text(pem)?;
        Ok(match algorithm {
            Algorithm::RS256 => Self::Rs256(rsa::pkcs1v15::VerifyingKey::new(rsa_public(pem)?)),
            Algorithm::RS384 => Self::Rs384(rsa::pkcs1v15::VerifyingKey::new(rsa_public(pem)?)),
            Algorithm::RS512 => Self::Rs512(rsa::pkcs1v15::VerifyingKey::new(rsa_public(pem)?)),
            Algorithm::PS256 => Self::Ps256(rsa::pss::VerifyingKey::new(rsa_public(pem)?)),
            Algorithm::PS384 => Self::Ps384(rsa::pss::VerifyingKey::new(rsa_public(pem)?)),
            Algorithm::PS512 => Self::Ps512(rsa::pss::VerifyingKey::new(rsa_public(pem)?)),
            Algorithm::ES256 => Self::Es256(p256::ecdsa::VerifyingKey::from_public_key_pem(pem)?),
            Algorithm::ES384 => Self::Es384(p384::ecdsa::VerifyingKey::from_public_key_pem(pem)?),
            Algorithm::EdDSA => Self::EdDsa(ed25519_dalek::VerifyingKey::from_public_key_pem(pem)?),
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                return Err("an HMAC algorithm has no public key".into());
            }
        })
    }

    /// Whether `signature` (raw bytes: r‖s for ECDSA) signs `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Rs256(key) => rsa_verify(key, message, signature),
            Self::Rs384(key) => rsa_verify(key, message, signature),
            Self::Rs512(key) => rsa_verify(key, message, signature),
            Self::Ps256(key) => pss_verify(key, message, signature),
            Self::Ps384(key) => pss_verify(key, message, signature),
            Self::Ps512(key) => pss_verify(key, message, signature),
            Self::Es256(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok()),
            Self::Es384(key) => p384::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok()),
            Self::EdDsa(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify_strict(message, &sig).is_ok()),
        }
    }
}

fn rsa_verify<V>(key: &V, message: &[u8], signature: &[u8]) -> bool
where
    V: Verifier<rsa::pkcs1v15::Signature>,
{
    rsa::pkcs1v15::Signature::try_from(signature).is_ok_and(|sig| key.verify(message, &sig).is_ok())
}

fn pss_verify<V>(key: &V, message: &[u8], signature: &[u8]) -> bool
where
    V: Verifier<rsa::pss::Signature>,
{
    rsa::pss::Signature::try_from(signature).is_ok_and(|sig| key.verify(message, &sig).is_ok())
}

impl PrivateKey {
    /// Parses a PEM private key (PKCS#8, or PKCS#1 for RSA, or SEC1 for EC) for `algorithm`.
    pub(crate) fn from_pem(algorithm: Algorithm, pem: &[u8]) -> Result<Self, BoxError> {
        let pem = text(pem)?;
        Ok(match algorithm {
            Algorithm::RS256 => Self::Rs256(rsa::pkcs1v15::SigningKey::new(rsa_private(pem)?)),
            Algorithm::RS384 => Self::Rs384(rsa::pkcs1v15::SigningKey::new(rsa_private(pem)?)),
            Algorithm::RS512 => Self::Rs512(rsa::pkcs1v15::SigningKey::new(rsa_private(pem)?)),
            Algorithm::PS256 => Self::Ps256(rsa::pss::BlindedSigningKey::new(rsa_private(pem)?)),
            Algorithm::PS384 => Self::Ps384(rsa::pss::BlindedSigningKey::new(rsa_private(pem)?)),
            Algorithm::PS512 => Self::Ps512(rsa::pss::BlindedSigningKey::new(rsa_private(pem)?)),
            Algorithm::ES256 => {
                Self::Es256(p256::ecdsa::SigningKey::from_pkcs8_pem(pem).or_else(|_| {
                    p256::SecretKey::from_sec1_pem(pem)
                        .map(p256::ecdsa::SigningKey::from)
                        .map_err(BoxError::from)
                })?)
            }
            Algorithm::ES384 => {
                Self::Es384(p384::ecdsa::SigningKey::from_pkcs8_pem(pem).or_else(|_| {
                    p384::SecretKey::from_sec1_pem(pem)
                        .map(p384::ecdsa::SigningKey::from)
                        .map_err(BoxError::from)
                })?)
            }
            Algorithm::EdDSA => Self::EdDsa(ed25519_dalek::SigningKey::from_pkcs8_pem(pem)?),
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                return Err("an HMAC algorithm has no private key".into());
            }
        })
    }

    /// The raw signature of `message` (r‖s for ECDSA).
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, BoxError> {
        let mut rng = rand_core06::OsRng;
        Ok(match self {
            Self::Rs256(key) => key.try_sign(message)?.to_vec(),
            Self::Rs384(key) => key.try_sign(message)?.to_vec(),
            Self::Rs512(key) => key.try_sign(message)?.to_vec(),
            Self::Ps256(key) => key.try_sign_with_rng(&mut rng, message)?.to_vec(),
            Self::Ps384(key) => key.try_sign_with_rng(&mut rng, message)?.to_vec(),
            Self::Ps512(key) => key.try_sign_with_rng(&mut rng, message)?.to_vec(),
            Self::Es256(key) => {
                let sig: p256::ecdsa::Signature = key.try_sign(message)?;
                sig.to_vec()
            }
            Self::Es384(key) => {
                let sig: p384::ecdsa::Signature = key.try_sign(message)?;
                sig.to_vec()
            }
            Self::EdDsa(key) => key.try_sign(message)?.to_vec(),
        })
    }
}
