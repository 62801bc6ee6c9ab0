//! Key names. Every key of one bucket carries the same hash tag `{<bucket>}`, so a token, its
//! owner's index and the bucket's global index live in one Redis Cluster slot and can change
//! together in one script.
//!
//! ```text
//! <prefix>{<b>}:<digest hex>      string      the token record
//! <prefix>{<b>}:user:<user id>    sorted set  digests of one user's tokens, by created_at (µs)
//! <prefix>{<b>}:all               sorted set  digests of every token, by created_at (µs)
//! ```
//!
//! `<b>` is the first two bytes of the digest modulo the bucket count, so the digest alone (all
//! a client presents) names the token's key.

use std::fmt::Display;

use authward_core::TokenDigest;

/// The key names of one store.
#[derive(Debug, Clone)]
pub(crate) struct KeyLayout {
    prefix: String,
    buckets: u16,
}

impl KeyLayout {
    /// A layout; `buckets` is at least 1 (checked by the options).
    pub(crate) fn new(prefix: &str, buckets: u16) -> Self {
        Self {
            prefix: prefix.to_owned(),
            buckets: buckets.max(1),
        }
    }

    /// How many buckets there are.
    pub(crate) fn buckets(&self) -> u16 {
        self.buckets
    }

    /// The bucket a digest belongs to.
    pub(crate) fn bucket_of(&self, digest: &TokenDigest) -> u16 {
        let bytes = digest.as_bytes();
        u16::from_be_bytes([bytes[0], bytes[1]]) % self.buckets
    }

    fn base(&self, bucket: u16) -> String {
        format!("{}{{{bucket}}}:", self.prefix)
    }

    /// The key of a token record, from its bucket and hex digest.
    pub(crate) fn token_key(&self, bucket: u16, hex: &str) -> String {
        let mut key = self.base(bucket);
        key.push_str(hex);
        key
    }

    /// The index of one user's tokens in one bucket.
    pub(crate) fn user_key(&self, bucket: u16, user_id: &impl Display) -> String {
        format!("{}user:{user_id}", self.base(bucket))
    }

    /// The index of every token in one bucket.
    pub(crate) fn all_key(&self, bucket: u16) -> String {
        let mut key = self.base(bucket);
        key.push_str("all");
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_a_token_share_one_hash_tag() {
        let layout = KeyLayout::new("fastapi_users_token:", 16);
        let digest = TokenDigest::of("secret");
        let bucket = layout.bucket_of(&digest);
        assert!(bucket < 16);
        let hex = digest.to_hex();
        let token = layout.token_key(bucket, &hex);
        assert_eq!(token, format!("fastapi_users_token:{{{bucket}}}:{hex}"));
        assert!(
            !token.contains("secret"),
            "the token itself never names a key"
        );
        let tag = format!("{{{bucket}}}");
        assert!(layout.user_key(bucket, &42).contains(&tag));
        assert!(layout.all_key(bucket).contains(&tag));
    }

    #[test]
    fn digests_spread_over_buckets() {
        let layout = KeyLayout::new("p:", 16);
        let used: std::collections::HashSet<u16> = (0..200)
            .map(|i| layout.bucket_of(&TokenDigest::of(&i.to_string())))
            .collect();
        assert_eq!(used.len(), 16);
        let single = KeyLayout::new("p:", 1);
        assert_eq!(single.bucket_of(&TokenDigest::of("x")), 0);
    }
}
