//! The digests of the records a refresh family keeps besides its live tokens: a tombstone per
//! consumed token, a link per access token issued with the family, and a revocation mark.
//!
//! Each is the SHA-256 of a byte string starting with `0xFF` (which no `&str` contains), so no
//! presented token's digest can match one, and each lives under a key of its own, so deleting a
//! live token can never delete a tombstone (or the other way round).

use sha2::{Digest, Sha256};

use crate::token::{TokenDigest, TokenFamily};

/// The digest under which `domain` keeps the record about `subject`.
fn mark(domain: &[u8], subject: &[u8]) -> TokenDigest {
    let mut hasher = Sha256::new();
    hasher.update([0xFF]);
    hasher.update(b"authward/");
    hasher.update(domain);
    hasher.update(subject);
    TokenDigest::from_stored(hasher.finalize().into())
}

/// The link record of an access token, naming the family issued with it.
pub(super) fn link(access: &TokenDigest) -> TokenDigest {
    mark(b"refresh-link/", access.as_bytes())
}

/// The tombstone of a consumed refresh token: presenting the token again finds it.
pub(super) fn tombstone(consumed: &TokenDigest) -> TokenDigest {
    mark(b"refresh-used/", consumed.as_bytes())
}

/// The mark a revocation of `family` leaves before it lists the family's records.
pub(super) fn revocation(family: TokenFamily) -> TokenDigest {
    mark(b"refresh-revoked/", family.0.as_bytes())
}

/// The mark the end of all of a user's sessions leaves (one per user, dated by the latest).
pub(super) fn all_revoked(user_id: &str) -> TokenDigest {
    mark(b"refresh-all-revoked/", user_id.as_bytes())
}

/// The second copy of [`all_revoked`], written first: while one copy is being replaced with a
/// newer date, the other still holds the latest, so an earlier end of all sessions never
/// goes unseen.
pub(super) fn all_revoked_copy(user_id: &str) -> TokenDigest {
    mark(b"refresh-all-revoked-copy/", user_id.as_bytes())
}

/// Both copies of the user's all-revoked mark, the first (which earlier versions read alone)
/// first.
pub(super) fn all_revoked_marks(user_id: &str) -> [TokenDigest; 2] {
    [all_revoked(user_id), all_revoked_copy(user_id)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_digest_is_the_one_stored_links_were_written_with() {
        // Links written before this module existed used this exact byte string.
        let access = TokenDigest::of("an access token");
        let mut hasher = Sha256::new();
        hasher.update([0xFF]);
        hasher.update(b"authward/refresh-link/");
        hasher.update(access.as_bytes());
        let expected = TokenDigest::from_stored(hasher.finalize().into());
        assert_eq!(link(&access), expected);
    }

    #[test]
    fn marks_of_one_subject_differ_by_kind_and_from_the_token() {
        let digest = TokenDigest::of("a refresh token");
        let family = TokenFamily(uuid::Uuid::from_bytes(*b"0123456789abcdef"));
        let all = [
            digest,
            link(&digest),
            tombstone(&digest),
            revocation(family),
            all_revoked("0123456789abcdef"),
            all_revoked_copy("0123456789abcdef"),
            mark(b"refresh-link/", b"0123456789abcdef"),
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
