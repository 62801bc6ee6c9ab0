//! Stored access and refresh tokens.
//!
//! Stores never see a usable token: they are handed a [`TokenDigest`], and the only way to make
//! one from a token is to hash it ([`TokenDigest::of`]). A leaked table or Redis dump therefore
//! contains nothing a client could present.

use std::fmt;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The SHA-256 digest of a token: the only form in which a store ever holds it.
///
/// Tokens are 256 random bits, so an unsalted fast hash is enough: there is nothing to guess.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// Hashes a token presented by a client or just issued to one.
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// Rebuilds a digest that a store read back from its own records.
    ///
    /// This is for adapters listing stored tokens; it cannot turn a token into a digest.
    pub fn from_stored(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Rebuilds a digest from its lowercase hex form ([`TokenDigest::to_hex`]).
    pub fn from_stored_hex(hex: &str) -> Option<Self> {
        let mut out = [0_u8; 32];
        hex::decode_to_slice(hex, &mut out).ok()?;
        Some(Self(out))
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, 64 characters (for key-value stores and text columns).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenDigest({}…)", &self.to_hex()[..12])
    }
}

/// Groups the refresh tokens descended from one login, so that reuse of any of them can revoke
/// the whole line (RFC 9700, refresh token reuse detection).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
pub struct TokenFamily(pub uuid::Uuid);

impl TokenFamily {
    /// A new random family.
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

impl Default for TokenFamily {
    fn default() -> Self {
        Self::new()
    }
}

/// A token record as stored.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AccessToken<ID> {
    /// Digest of the token.
    pub digest: TokenDigest,
    /// Whose token it is.
    pub user_id: ID,
    /// When it was issued.
    pub created_at: OffsetDateTime,
    /// The refresh family it belongs to (refresh tokens only).
    pub family: Option<TokenFamily>,
    /// True for a refresh token that has already been exchanged; presenting it again is reuse.
    pub used: bool,
}

/// A token record to store.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NewAccessToken<ID> {
    /// Digest of the token.
    pub digest: TokenDigest,
    /// Whose token it is.
    pub user_id: ID,
    /// When it was issued (from the caller's clock, so expiry is testable).
    pub created_at: OffsetDateTime,
    /// The refresh family it belongs to (refresh tokens only).
    pub family: Option<TokenFamily>,
    /// Whether it is an already-exchanged refresh token kept to detect reuse.
    pub used: bool,
}

impl<ID> NewAccessToken<ID> {
    /// A plain access token record for `token`.
    pub fn new(token: &str, user_id: ID, created_at: OffsetDateTime) -> Self {
        Self {
            digest: TokenDigest::of(token),
            user_id,
            created_at,
            family: None,
            used: false,
        }
    }

    /// Builds the stored record.
    pub fn into_token(self) -> AccessToken<ID> {
        AccessToken {
            digest: self.digest,
            user_id: self.user_id,
            created_at: self.created_at,
            family: self.family,
            used: self.used,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_sha256_and_hex_round_trips() {
        let d = TokenDigest::of("abc");
        assert_eq!(
            d.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(TokenDigest::from_stored_hex(&d.to_hex()), Some(d));
        assert_eq!(TokenDigest::from_stored_hex("zz"), None);
        assert_eq!(TokenDigest::from_stored_hex(&"é".repeat(32)), None);
        assert!(!format!("{d:?}").contains(&d.to_hex()));
    }
}
