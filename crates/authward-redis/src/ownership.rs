//! [`AccessTokenDatabase::any_for_user`](authward_core::AccessTokenDatabase::any_for_user) in
//! one round trip: one `MGET` of the digests' token keys, where the trait's default sends one
//! `GET` per digest.
//!
//! The JWT revocation check asks it on every authenticated request, with two digests.
//!
//! ## On a cluster
//!
//! Two digests share a hash slot only when they fall in the same bucket (always, with one
//! bucket). A cluster node refuses an `MGET` whose keys span slots (`CROSSSLOT`), but the redis
//! crate's cluster connection never sends it as one command: it splits a multi-key `MGET` by
//! slot, sends the parts to their nodes concurrently (each part follows `MOVED`/`ASK` and is
//! retried on its own) and puts the replies back in key order; keys of one slot stay one
//! command. So the check costs one round trip on a single server, and on a cluster one
//! concurrent round trip per slot involved. `tests/cluster.rs` checks it on the test cluster with
//! keys spread over several slots.
//!
//! ## Same answers as the default
//!
//! - The replies are read in the order of the digests, and the first record whose owner (the
//!   last field of the stored value, parsed as `ID`) is the user answers `true`; records of
//!   other users do not count.
//! - A token whose TTL ran out is gone from Redis, so it reads as absent, as with `GET`; the
//!   default asks `get_by_token` without `max_age`, so no other age limit applies.
//! - An unreadable record met before a match is [`DbError::Backend`] with a
//!   [`CorruptRecord`](crate::CorruptRecord) source, as `get_by_token` reports it; redis errors
//!   go through [`map_redis_error`] like every other call of the store.
//! - One difference: `MGET` reads a key holding a non-string value (a list, a hash) as absent,
//!   where `GET` fails with `WRONGTYPE`. This store never writes such a value under a token key.

use authward_core::{DbError, TokenDigest, UserId};
use redis::ErrorKind;
use redis::aio::ConnectionLike;

use crate::error::map_redis_error;
use crate::record::decode;
use crate::store::RedisAccessTokenDatabase;

impl<ID, C> RedisAccessTokenDatabase<ID, C>
where
    ID: UserId,
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// Whether any of `digests` is stored for `user_id`, in one `MGET` (see the module
    /// documentation). `false` for no digest, without asking Redis.
    pub(crate) async fn any_owned_by(
        &self,
        user_id: &ID,
        digests: &[TokenDigest],
    ) -> Result<bool, DbError> {
        if digests.is_empty() {
            return Ok(false);
        }
        let keys: Vec<String> = digests.iter().map(|d| self.token_key(d)).collect();
        let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut self.connection().clone())
            .await
            .map_err(map_redis_error)?;
        if values.len() != digests.len() {
            return Err(map_redis_error(
                (
                    ErrorKind::UnexpectedReturnType,
                    "MGET answered a different number of values than keys asked",
                )
                    .into(),
            ));
        }
        first_owned_by(user_id, digests, values)
    }
}

/// Reads `values` (the stored records of `digests`, in the same order, `None` where absent)
/// as the default `any_for_user` reads its `GET`s one by one: `true` at the first record owned
/// by `user_id`, an unreadable record before that is an error.
fn first_owned_by<ID: UserId>(
    user_id: &ID,
    digests: &[TokenDigest],
    values: Vec<Option<Vec<u8>>>,
) -> Result<bool, DbError> {
    for (digest, value) in digests.iter().zip(values) {
        if let Some(raw) = value
            && decode::<ID>(*digest, &raw)?.user_id == *user_id
        {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use authward_core::AccessToken;
    use time::macros::datetime;

    use crate::error::CorruptRecord;
    use crate::record::encode;

    fn record(digest: TokenDigest, user_id: i64) -> Option<Vec<u8>> {
        let token = AccessToken {
            digest,
            user_id,
            created_at: datetime!(2030-01-01 0:00 UTC),
            family: None,
            used: false,
        };
        Some(encode(&token).into_bytes())
    }

    #[test]
    fn only_a_record_of_the_user_counts() {
        let [a, b, c] = ["a", "b", "c"].map(TokenDigest::of);
        let ask = |values| first_owned_by(&7_i64, &[a, b, c], values);
        assert_eq!(ask(vec![None, None, None]).ok(), Some(false));
        assert_eq!(
            ask(vec![record(a, 8), None, record(c, 9)]).ok(),
            Some(false)
        );
        assert_eq!(ask(vec![record(a, 8), None, record(c, 7)]).ok(), Some(true));
        assert_eq!(ask(vec![record(a, 7), None, None]).ok(), Some(true));
    }

    #[test]
    fn an_unreadable_record_fails_only_before_a_match() {
        let [a, b] = ["a", "b"].map(TokenDigest::of);
        let garbage = Some(b"not a record".to_vec());
        let after = first_owned_by(&7_i64, &[a, b], vec![record(a, 7), garbage.clone()]);
        assert_eq!(after.ok(), Some(true), "the default stops at the match");
        match first_owned_by(&7_i64, &[a, b], vec![garbage, record(b, 7)]) {
            Err(DbError::Backend(source)) => assert_eq!(
                source.downcast_ref::<CorruptRecord>(),
                Some(&CorruptRecord { digest: a })
            ),
            other => panic!("expected Backend(CorruptRecord), got {other:?}"),
        }
    }
}
