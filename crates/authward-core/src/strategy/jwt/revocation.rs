//! An optional store of JWT revocations: per-user "not before" instants (log-out-everywhere,
//! password reset) and revoked token IDs (logout of one token).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::clock::{Clock, SystemClock};
use crate::db::AccessTokenDatabase;
use crate::error::DbError;
use crate::id::UserId;
use crate::revoke::SessionRevoker;
use crate::token::{NewAccessToken, TokenDigest};

use super::super::token_gen::fill_random;

/// Records JWT revocations in any [`AccessTokenDatabase`], so stateless tokens can still be
/// logged out.
///
/// Two kinds of record, both owned by the user they concern:
/// - a **cut-off** (`used = true`): every token of the user issued before its `created_at` is
///   revoked (log-out-everywhere, password reset);
/// - a **revoked token ID** (`used = false`): the token with that `jti` is revoked (logout).
///
/// Reading a token costs one [`AccessTokenDatabase::list_for_user`]. Record digests are hashes
/// of byte strings that are not UTF-8, so no presentable token can ever match one.
///
/// **Give it a store of its own** (its own table or key prefix): sharing one with database or
/// refresh tokens would show revocations as sessions, and the other strategy's
/// log-out-everywhere would delete the revocations. Records older than the JWT lifetime are
/// useless and can be removed with [`JwtRevocationStore::purge`].
///
/// It is the [`SessionRevoker`] of a JWT setup: register it with the user manager so that
/// password resets, password changes and "log out everywhere" record a cut-off. (A
/// [`JwtStrategy`](super::JwtStrategy) without a store revokes on password changes through
/// its fingerprint alone and has nothing to register.)
pub struct JwtRevocationStore<ID> {
    store: Arc<dyn AccessTokenDatabase<ID>>,
    clock: Arc<dyn Clock>,
}

impl<ID> Clone for JwtRevocationStore<ID> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            clock: Arc::clone(&self.clock),
        }
    }
}

impl<ID> fmt::Debug for JwtRevocationStore<ID> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtRevocationStore").finish_non_exhaustive()
    }
}

/// A digest no client token can produce: the SHA-256 of a byte string starting with `0xFF`,
/// which no `&str` contains.
fn marker(kind: &[u8], parts: &[&[u8]]) -> TokenDigest {
    let mut hasher = Sha256::new();
    hasher.update([0xFF]);
    hasher.update(b"authward/jwt-revocation/");
    hasher.update(kind);
    for part in parts {
        hasher.update([0x00]);
        hasher.update(part);
    }
    TokenDigest::from_stored(hasher.finalize().into())
}

fn jti_marker(jti: &str) -> TokenDigest {
    marker(b"jti", &[jti.as_bytes()])
}

/// Whole seconds, rounded up, in nanoseconds.
fn ceil_to_second(nanos: i128) -> i128 {
    const NANOS: i128 = 1_000_000_000;
    nanos.div_euclid(NANOS) * NANOS
        + if nanos.rem_euclid(NANOS) == 0 {
            0
        } else {
            NANOS
        }
}

impl<ID: UserId> JwtRevocationStore<ID> {
    /// Revocations kept in `store` (give it a store of its own).
    pub fn new(store: impl AccessTokenDatabase<ID> + 'static) -> Self {
        Self::from_arc(Arc::new(store))
    }

    /// Revocations kept in a shared store handle.
    pub fn from_arc(store: Arc<dyn AccessTokenDatabase<ID>>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
        }
    }

    /// Reads "now" (the instant [`SessionRevoker::revoke_all`] records) from `clock`.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub(crate) fn with_shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Revokes every token of `user_id` issued before `at`.
    ///
    /// Tokens carry `iat` in whole seconds, so a token issued in the same second as `at` but
    /// after it is revoked too (the user logs in again a second later).
    pub async fn revoke_user_before(
        &self,
        user_id: &ID,
        at: OffsetDateTime,
    ) -> Result<(), DbError> {
        let mut nonce = [0_u8; 16];
        fill_random(&mut nonce).map_err(DbError::backend)?;
        let id = user_id.to_string();
        let record = NewAccessToken {
            digest: marker(b"not-before", &[id.as_bytes(), &nonce]),
            user_id: user_id.clone(),
            created_at: at,
            family: None,
            used: true,
        };
        self.store.create(record).await.map(|_| ())
    }

    /// Revokes the one token with ID `jti` of `user_id`.
    pub async fn revoke_token_id(
        &self,
        user_id: &ID,
        jti: &str,
        at: OffsetDateTime,
    ) -> Result<(), DbError> {
        let record = NewAccessToken {
            digest: jti_marker(jti),
            user_id: user_id.clone(),
            created_at: at,
            family: None,
            used: false,
        };
        match self.store.create(record).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_already_exists() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Whether a token of `user_id` issued at `iat_nanos` (nanoseconds since the epoch; `None`
    /// when the token has no `iat`) with ID `jti` has been revoked.
    pub(crate) async fn is_revoked(
        &self,
        user_id: &ID,
        iat_nanos: Option<i128>,
        jti: Option<&str>,
    ) -> Result<bool, DbError> {
        let records = self.store.list_for_user(user_id).await?;
        if records.is_empty() {
            return Ok(false);
        }
        let jti_digest = jti.map(jti_marker);
        for record in &records {
            if record.used {
                let cutoff = ceil_to_second(record.created_at.unix_timestamp_nanos());
                match iat_nanos {
                    Some(iat) if iat >= cutoff => {}
                    _ => return Ok(true),
                }
            } else if jti_digest == Some(record.digest) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Deletes the records created before `before` (pass `now - JWT lifetime`: every token
    /// they revoke has expired by then). Returns how many were deleted.
    pub async fn purge(&self, before: OffsetDateTime) -> Result<u64, DbError> {
        self.store.delete_expired(before).await
    }
}

#[async_trait]
impl<ID: UserId> SessionRevoker<ID> for JwtRevocationStore<ID> {
    /// Records a cut-off at the clock's "now": every token of the user issued before is
    /// refused.
    async fn revoke_all(&self, user_id: &ID) -> Result<(), DbError> {
        self.revoke_user_before(user_id, self.clock.now()).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ceil_rounds_up_to_whole_seconds() {
        assert_eq!(ceil_to_second(5_000_000_000), 5_000_000_000);
        assert_eq!(ceil_to_second(5_000_000_001), 6_000_000_000);
        assert_eq!(ceil_to_second(-1), 0);
    }

    #[test]
    fn markers_differ_by_kind_and_cannot_be_presented() {
        assert_ne!(jti_marker("a"), marker(b"not-before", &[b"a"]));
        assert_ne!(jti_marker("a"), TokenDigest::of("a"));
    }
}
