//! An optional store of JWT revocations: per-user revocation *generations* (log-out-everywhere,
//! password change or reset, deactivation) and revoked token IDs (logout of one token).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::clock::{Clock, SystemClock};
use crate::db::AccessTokenDatabase;
use crate::error::DbError;
use crate::id::UserId;
use crate::strategy::{RevokeReason, SessionRevoker, StrategyError};
use crate::token::{NewAccessToken, TokenDigest, TokenFamily};

/// Records JWT revocations in any [`AccessTokenDatabase`], so stateless tokens can still be
/// logged out.
///
/// Two kinds of record, both owned by the user they concern:
/// - a **generation** `g` (`used = true`, `g` kept in the record's family): every token of the
///   user issued in an earlier generation is revoked. Tokens carry the generation that was
///   current when they were issued (claim `gen`); [`SessionRevoker::revoke_all`] starts the
///   next one. The order of events decides, never the clocks: a token issued after a
///   revocation finished reads the new generation and is valid, however close in time and
///   however skewed the clocks of several servers are;
/// - a **revoked token ID** (`used = false`): the token with that `jti` is revoked (logout).
///
/// Reading a token costs one [`AccessTokenDatabase::any_for_user`] over two digests ("does
/// generation `gen + 1` exist, or is this `jti` revoked": one query on the SQL stores, one
/// `MGET` on Redis, two point lookups on the others); issuing one costs one
/// [`AccessTokenDatabase::list_for_user`]. Record digests are hashes of byte strings that are
/// not UTF-8, so no presentable token can ever match one.
///
/// **Give it a store of its own** (its own table or key prefix): sharing one with database or
/// refresh tokens would show revocations as sessions, and the other strategy's
/// log-out-everywhere would delete the revocations. Revoked token IDs older than the JWT
/// lifetime are useless (the token has expired) and can be removed with
/// [`JwtRevocationStore::purge`]. Generation records are never purged: they are written with a
/// `created_at` far in the future (the year 9000), because the newest one is
/// what later tokens carry, however old it is, and numbering must never start again below it
/// (a token of generation `g` is refused by record `g + 1` only). There is one per
/// log-out-everywhere, password change or reset, deactivation or deletion of a user. For the
/// same reason a Redis store used for revocations must not expire its records (no `lifetime`
/// in its options): run the purge instead.
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

/// The `created_at` of every generation record: far enough in the future that no purge
/// ([`JwtRevocationStore::purge`], or a store's own `delete_expired`) removes it, and within
/// what every store keeps (MySQL's `DATETIME` ends with the year 9999).
pub(crate) const GENERATION_CREATED_AT: OffsetDateTime =
    time::macros::datetime!(9000-01-01 0:00 UTC);

fn generation_marker(user_id: &str, generation: u64) -> TokenDigest {
    marker(
        b"generation",
        &[user_id.as_bytes(), &generation.to_be_bytes()],
    )
}

/// The generation number a record carries in its family.
fn generation_of(family: Option<TokenFamily>) -> Option<u64> {
    family.and_then(|f| u64::try_from(f.0.as_u128()).ok())
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

    /// Reads "now" (the creation time of records, which [`JwtRevocationStore::purge`] compares)
    /// from `clock`.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub(crate) fn with_shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The user's current generation: the highest one recorded, 0 when none is. Tokens issued
    /// now carry it.
    pub async fn current_generation(&self, user_id: &ID) -> Result<u64, DbError> {
        let id = user_id.to_string();
        Ok(self
            .store
            .list_for_user(user_id)
            .await?
            .into_iter()
            .filter(|record| record.used)
            .filter_map(|record| {
                let generation = generation_of(record.family)?;
                (record.digest == generation_marker(&id, generation)).then_some(generation)
            })
            .max()
            .unwrap_or(0))
    }

    /// Revokes every token of `user_id` issued so far: starts the generation after the current
    /// one. Tokens issued once this returns carry the new generation and stay valid.
    pub async fn revoke_all_tokens(&self, user_id: &ID) -> Result<(), DbError> {
        let next = self.current_generation(user_id).await?.saturating_add(1);
        let record = NewAccessToken {
            digest: generation_marker(&user_id.to_string(), next),
            user_id: user_id.clone(),
            // Never purged: see the type's documentation.
            created_at: GENERATION_CREATED_AT,
            family: Some(TokenFamily(uuid::Uuid::from_u128(u128::from(next)))),
            used: true,
        };
        match self.store.create(record).await {
            Ok(_) => Ok(()),
            // A concurrent revocation started that generation: tokens of the older ones are
            // revoked either way.
            Err(e) if e.is_already_exists() => Ok(()),
            Err(e) => Err(e),
        }
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

    /// Whether a token of `user_id` issued in `generation` with ID `jti` has been revoked:
    /// one [`AccessTokenDatabase::any_for_user`] over the next generation's marker and the
    /// token's own marker (one query on the SQL stores). Both kinds of record belong to the
    /// user they revoke, so a record of another user never counts.
    pub(crate) async fn is_revoked(
        &self,
        user_id: &ID,
        generation: u64,
        jti: Option<&str>,
    ) -> Result<bool, DbError> {
        let next = generation_marker(&user_id.to_string(), generation.saturating_add(1));
        match jti {
            Some(jti) => {
                self.store
                    .any_for_user(user_id, &[next, jti_marker(jti)])
                    .await
            }
            None => self.store.any_for_user(user_id, &[next]).await,
        }
    }

    /// Deletes the revoked token IDs recorded before `before` (pass `now - JWT lifetime`: those
    /// tokens have expired by then); generation records stay. Returns how many were deleted.
    pub async fn purge(&self, before: OffsetDateTime) -> Result<u64, DbError> {
        self.store.delete_expired(before).await
    }
}

#[async_trait]
impl<ID: UserId> SessionRevoker<ID> for JwtRevocationStore<ID> {
    /// Starts a new generation: every token of the user issued before is refused.
    async fn revoke_all(&self, user_id: &ID, _reason: RevokeReason) -> Result<(), StrategyError> {
        Ok(self.revoke_all_tokens(user_id).await?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn markers_differ_by_kind_user_and_generation_and_cannot_be_presented() {
        assert_ne!(jti_marker("a"), generation_marker("a", 0));
        assert_ne!(generation_marker("a", 1), generation_marker("a", 2));
        assert_ne!(generation_marker("1", 1), generation_marker("2", 1));
        assert_ne!(jti_marker("a"), TokenDigest::of("a"));
    }

    #[test]
    fn generations_round_trip_through_the_family() {
        for generation in [1_u64, 2, u64::MAX] {
            let family = Some(TokenFamily(uuid::Uuid::from_u128(u128::from(generation))));
            assert_eq!(generation_of(family), Some(generation));
        }
        assert_eq!(generation_of(None), None);
        assert_eq!(generation_of(Some(TokenFamily(uuid::Uuid::max()))), None);
    }
}
