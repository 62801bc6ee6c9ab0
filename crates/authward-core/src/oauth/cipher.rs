//! [`ProviderTokenCipher`]: encryption at rest of provider access and refresh tokens.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

/// The prefix of every encrypted value.
const PREFIX: &str = "awpt.";
/// The version of the current format.
const VERSION: &str = "v1";
/// Key length in bytes.
pub const PROVIDER_TOKEN_KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
const TAG_BYTES: usize = 16;

/// Which of an account's two tokens a value is (part of the associated data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenField {
    /// The provider access token.
    Access,
    /// The provider refresh token.
    Refresh,
}

impl TokenField {
    fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access_token",
            Self::Refresh => "refresh_token",
        }
    }
}

/// A key given to [`ProviderTokenCipher`] is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidTokenKey {
    /// The key is not [`PROVIDER_TOKEN_KEY_BYTES`] bytes long.
    #[error("a provider token key must be {PROVIDER_TOKEN_KEY_BYTES} bytes, got {0}")]
    Length(usize),
    /// The text is not base64 (standard or URL-safe, padded or not).
    #[error("a provider token key must be base64 (32 random bytes)")]
    NotBase64,
    /// Two keys given to one cipher have the same key ID.
    #[error("two provider token keys share the key id {0}")]
    DuplicateKeyId(String),
}

/// A stored value could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenDecryptError {
    /// The value is encrypted but no cipher is configured.
    #[error("provider token is encrypted and no provider token key is configured")]
    NoKey,
    /// The value was encrypted with a key this cipher does not have.
    #[error("provider token was encrypted with an unknown key (id {0})")]
    UnknownKey(String),
    /// The value names a format version this build does not know.
    #[error("provider token has an unknown format version")]
    UnknownVersion,
    /// The value is malformed, was tampered with, or belongs to another account or field.
    #[error("provider token does not decrypt (tampered, or moved from another account)")]
    Corrupt,
}

/// A decrypted (or legacy plaintext) provider token.
#[derive(Clone, PartialEq, Eq)]
pub struct Decrypted {
    token: String,
    needs_reencryption: bool,
}

impl Decrypted {
    /// The provider token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The provider token, owned.
    pub fn into_token(self) -> String {
        self.token
    }

    /// True when the stored value was plaintext or encrypted with a previous key: writing it
    /// back encrypted with the current key is advised
    /// ([`UserManager::reencrypt_oauth_accounts`](crate::UserManager::reencrypt_oauth_accounts)).
    pub fn needs_reencryption(&self) -> bool {
        self.needs_reencryption
    }
}

impl fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decrypted")
            .field("token", &"<redacted>")
            .field("needs_reencryption", &self.needs_reencryption)
            .finish()
    }
}

struct Key {
    id: String,
    aead: XChaCha20Poly1305,
}

impl Key {
    fn new(bytes: &[u8]) -> Result<Self, InvalidTokenKey> {
        if bytes.len() != PROVIDER_TOKEN_KEY_BYTES {
            return Err(InvalidTokenKey::Length(bytes.len()));
        }
        let aead = XChaCha20Poly1305::new_from_slice(bytes)
            .map_err(|_| InvalidTokenKey::Length(bytes.len()))?;
        let mut hasher = Sha256::new();
        hasher.update(b"authward provider token key id\0");
        hasher.update(bytes);
        let id = URL_SAFE_NO_PAD.encode(&hasher.finalize()[..6]);
        Ok(Self { id, aead })
    }
}

/// Encryption at rest of provider access and refresh tokens.
///
/// A provider token lets whoever holds it act as the user at the provider (read their mail,
/// their repositories...), so a leaked `oauth_account` table must not hand them out. The
/// [`UserManager`](crate::UserManager) encrypts both tokens with a [`ProviderTokenCipher`]
/// before they reach any store and decrypts them when the application reads them back
/// ([`UserManager::oauth_accounts`](crate::UserManager::oauth_accounts)); adapters only ever
/// see ciphertext.
///
/// # Format
///
/// `awpt.v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`, self-describing and versioned:
///
/// - `awpt` marks an authward provider token; anything else is a value written before
///   encryption was configured (an adopted FastAPI Users database stores tokens in the clear)
///   and is read as plaintext ([`Decrypted::needs_reencryption`] says so);
/// - `v1` is XChaCha20-Poly1305 with a random 24-byte nonce;
/// - the key ID (8 characters derived from the key, not secret) picks the key, so keys can be
///   rotated: [`ProviderTokenCipher::with_previous_key`] keeps old ones readable;
/// - the associated data binds the ciphertext to its provider, account and field, so a value
///   copied to another account's row, or from `refresh_token` to `access_token`, fails to
///   decrypt instead of being used.
///
/// Ciphertext is about 1.4 times the token's length plus 60 characters: authward's own tables
/// use `TEXT`; an adopted FastAPI Users table (`VARCHAR(1024)`) may need wider columns for
/// long provider tokens.
///
/// ```
/// use authward_core::oauth::{ProviderTokenCipher, TokenField};
///
/// let key = ProviderTokenCipher::generate_key(); // keep it in your secret store
/// let cipher = ProviderTokenCipher::from_base64(&key).unwrap();
/// let stored = cipher.encrypt("ya29.provider-token", "google", "1234", TokenField::Access);
/// assert!(stored.starts_with("awpt.v1."));
/// let read = cipher.decrypt(&stored, "google", "1234", TokenField::Access).unwrap();
/// assert_eq!(read.token(), "ya29.provider-token");
/// // Bound to its account: another account's row cannot reuse it.
/// assert!(cipher.decrypt(&stored, "google", "9999", TokenField::Access).is_err());
/// ```
///
/// Configure it with
/// [`UserManagerBuilder::provider_token_cipher`](crate::manager::UserManagerBuilder::provider_token_cipher).
pub struct ProviderTokenCipher {
    current: Key,
    previous: Vec<Key>,
}

impl fmt::Debug for ProviderTokenCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderTokenCipher")
            .field("key_id", &self.current.id)
            .field(
                "previous_key_ids",
                &self
                    .previous
                    .iter()
                    .map(|k| k.id.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Decodes base64 in any of its usual alphabets, with or without padding.
fn decode_key(text: &str) -> Result<Vec<u8>, InvalidTokenKey> {
    let text = text.trim();
    let unpadded = text.trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(unpadded)
        .or_else(|_| URL_SAFE.decode(text))
        .or_else(|_| STANDARD.decode(text))
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(unpadded))
        .map_err(|_| InvalidTokenKey::NotBase64)
}

impl ProviderTokenCipher {
    /// A cipher encrypting with `key` (exactly [`PROVIDER_TOKEN_KEY_BYTES`] random bytes).
    pub fn new(key: &[u8]) -> Result<Self, InvalidTokenKey> {
        Ok(Self {
            current: Key::new(key)?,
            previous: Vec::new(),
        })
    }

    /// A cipher from a base64 key (what [`ProviderTokenCipher::generate_key`] makes; standard
    /// or URL-safe alphabet, padding optional), e.g. read from the environment.
    pub fn from_base64(key: &str) -> Result<Self, InvalidTokenKey> {
        Self::new(&decode_key(key)?)
    }

    /// A fresh random key, base64url without padding (43 characters).
    pub fn generate_key() -> String {
        let bytes: [u8; PROVIDER_TOKEN_KEY_BYTES] = rand::random();
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Keeps an older key for decryption only (key rotation): values it encrypted still read,
    /// and are reported as [`Decrypted::needs_reencryption`].
    pub fn with_previous_key(mut self, key: &[u8]) -> Result<Self, InvalidTokenKey> {
        let key = Key::new(key)?;
        if key.id == self.current.id || self.previous.iter().any(|k| k.id == key.id) {
            return Err(InvalidTokenKey::DuplicateKeyId(key.id));
        }
        self.previous.push(key);
        Ok(self)
    }

    /// [`ProviderTokenCipher::with_previous_key`] with a base64 key.
    pub fn with_previous_base64(self, key: &str) -> Result<Self, InvalidTokenKey> {
        let bytes = decode_key(key)?;
        self.with_previous_key(&bytes)
    }

    /// The ID of the current key (derived from it, safe to log).
    pub fn key_id(&self) -> &str {
        &self.current.id
    }

    /// Whether a stored value is in authward's encrypted format (of any version and key).
    pub fn is_encrypted(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }

    fn aad(oauth_name: &str, account_id: &str, field: TokenField) -> Vec<u8> {
        let mut aad = Vec::with_capacity(64 + oauth_name.len() + account_id.len());
        for part in [
            "authward provider token v1".as_bytes(),
            oauth_name.as_bytes(),
            account_id.as_bytes(),
            field.as_str().as_bytes(),
        ] {
            aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
            aad.extend_from_slice(part);
        }
        aad
    }

    /// Encrypts the `field` token of the account `(oauth_name, account_id)` with the current
    /// key and a fresh random nonce.
    pub fn encrypt(
        &self,
        token: &str,
        oauth_name: &str,
        account_id: &str,
        field: TokenField,
    ) -> String {
        let nonce_bytes: [u8; NONCE_BYTES] = rand::random();
        let nonce = XNonce::from_slice(&nonce_bytes);
        let aad = Self::aad(oauth_name, account_id, field);
        // Only a message over 256 GiB fails to encrypt; a provider token never is. An empty
        // result would fail closed (it does not decrypt).
        let sealed: Vec<u8> = self
            .current
            .aead
            .encrypt(
                nonce,
                Payload {
                    msg: token.as_bytes(),
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        let mut payload = Vec::with_capacity(NONCE_BYTES + sealed.len());
        payload.extend_from_slice(&nonce_bytes);
        payload.extend_from_slice(&sealed);
        format!(
            "{PREFIX}{VERSION}.{}.{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    /// Decrypts a stored value of the account `(oauth_name, account_id)`. A value without the
    /// `awpt.` prefix is legacy plaintext and is returned as is, marked
    /// [`Decrypted::needs_reencryption`].
    pub fn decrypt(
        &self,
        stored: &str,
        oauth_name: &str,
        account_id: &str,
        field: TokenField,
    ) -> Result<Decrypted, TokenDecryptError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(Decrypted {
                token: stored.to_owned(),
                needs_reencryption: !stored.is_empty(),
            });
        };
        let mut parts = rest.splitn(3, '.');
        let (Some(version), Some(key_id), Some(data)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenDecryptError::Corrupt);
        };
        if version != VERSION {
            return Err(TokenDecryptError::UnknownVersion);
        }
        let (key, current) = if key_id == self.current.id {
            (&self.current, true)
        } else if let Some(key) = self.previous.iter().find(|k| k.id == key_id) {
            (key, false)
        } else {
            return Err(TokenDecryptError::UnknownKey(key_id.to_owned()));
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(data)
            .map_err(|_| TokenDecryptError::Corrupt)?;
        if bytes.len() < NONCE_BYTES + TAG_BYTES {
            return Err(TokenDecryptError::Corrupt);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce = XNonce::from_slice(nonce);
        let aad = Self::aad(oauth_name, account_id, field);
        let plain = key
            .aead
            .decrypt(
                nonce,
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| TokenDecryptError::Corrupt)?;
        let token = String::from_utf8(plain).map_err(|_| TokenDecryptError::Corrupt)?;
        Ok(Decrypted {
            token,
            needs_reencryption: !current,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cipher(byte: u8) -> ProviderTokenCipher {
        ProviderTokenCipher::new(&[byte; 32]).unwrap()
    }

    #[test]
    fn round_trip_with_fresh_nonces() {
        let c = cipher(1);
        let a = c.encrypt("tok", "google", "42", TokenField::Access);
        let b = c.encrypt("tok", "google", "42", TokenField::Access);
        assert_ne!(a, b, "a fresh nonce every time");
        assert!(!a.contains("tok"));
        for stored in [a, b] {
            let d = c
                .decrypt(&stored, "google", "42", TokenField::Access)
                .unwrap();
            assert_eq!(d.token(), "tok");
            assert!(!d.needs_reencryption());
        }
        let empty = c.encrypt("", "google", "42", TokenField::Refresh);
        assert_eq!(
            c.decrypt(&empty, "google", "42", TokenField::Refresh)
                .unwrap()
                .token(),
            ""
        );
    }

    #[test]
    fn bound_to_provider_account_and_field() {
        let c = cipher(1);
        let stored = c.encrypt("tok", "google", "42", TokenField::Access);
        for (name, id, field) in [
            ("github", "42", TokenField::Access),
            ("google", "43", TokenField::Access),
            ("google", "42", TokenField::Refresh),
            // Length-prefixed parts: no ambiguity from moving a character across.
            ("google4", "2", TokenField::Access),
        ] {
            assert_eq!(
                c.decrypt(&stored, name, id, field),
                Err(TokenDecryptError::Corrupt)
            );
        }
    }

    #[test]
    fn tampering_and_garbage_are_refused() {
        let c = cipher(1);
        let stored = c.encrypt("token", "google", "42", TokenField::Access);
        let mut bytes = stored.into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(
            c.decrypt(&tampered, "google", "42", TokenField::Access),
            Err(TokenDecryptError::Corrupt)
        );
        let kid = c.key_id().to_owned();
        for garbage in [
            "awpt.".to_owned(),
            "awpt.v1".to_owned(),
            format!("awpt.v1.{kid}."),
            format!("awpt.v1.{kid}.!!!"),
            format!("awpt.v1.{kid}.AAAA"),
        ] {
            assert_eq!(
                c.decrypt(&garbage, "google", "42", TokenField::Access),
                Err(TokenDecryptError::Corrupt),
                "{garbage}"
            );
        }
        assert_eq!(
            c.decrypt("awpt.v9.x.y", "google", "42", TokenField::Access),
            Err(TokenDecryptError::UnknownVersion)
        );
    }

    #[test]
    fn legacy_plaintext_is_recognised() {
        let c = cipher(1);
        let d = c
            .decrypt("ya29.plain", "google", "42", TokenField::Access)
            .unwrap();
        assert_eq!(d.token(), "ya29.plain");
        assert!(d.needs_reencryption());
        assert!(!ProviderTokenCipher::is_encrypted("ya29.plain"));
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let old = cipher(1);
        let stored = old.encrypt("tok", "google", "42", TokenField::Access);
        let rotated = ProviderTokenCipher::new(&[2; 32])
            .unwrap()
            .with_previous_key(&[1; 32])
            .unwrap();
        let d = rotated
            .decrypt(&stored, "google", "42", TokenField::Access)
            .unwrap();
        assert_eq!(d.token(), "tok");
        assert!(d.needs_reencryption());
        assert_eq!(
            cipher(3).decrypt(&stored, "google", "42", TokenField::Access),
            Err(TokenDecryptError::UnknownKey(old.key_id().to_owned()))
        );
        assert!(matches!(
            cipher(1).with_previous_key(&[1; 32]),
            Err(InvalidTokenKey::DuplicateKeyId(_))
        ));
    }

    #[test]
    fn keys_are_checked_and_parsed() {
        assert_eq!(
            ProviderTokenCipher::new(&[0; 16]).unwrap_err(),
            InvalidTokenKey::Length(16)
        );
        let key = ProviderTokenCipher::generate_key();
        assert_eq!(key.len(), 43);
        let a = ProviderTokenCipher::from_base64(&key).unwrap();
        let padded = STANDARD.encode(URL_SAFE_NO_PAD.decode(&key).unwrap());
        let b = ProviderTokenCipher::from_base64(&padded).unwrap();
        assert_eq!(a.key_id(), b.key_id());
        assert_eq!(
            ProviderTokenCipher::from_base64("not base64 at all!").unwrap_err(),
            InvalidTokenKey::NotBase64
        );
        assert!(!format!("{a:?}").contains(&key));
    }
}
