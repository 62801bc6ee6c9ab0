//! [`RedisAccessTokenDatabase`]: the [`AccessTokenDatabase`] over Redis.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use authward_core::{
    AccessToken, AccessTokenDatabase, DbError, NewAccessToken, RevokeReason, SessionRevoker,
    StrategyError, TokenDigest, UniqueKey, UserId,
};
use futures::future::try_join_all;
use redis::aio::{ConnectionLike, ConnectionManager};
use time::OffsetDateTime;

use crate::error::map_redis_error;
use crate::keys::KeyLayout;
use crate::options::{InvalidOptions, RedisTokenOptions};
use crate::record::{ceil_micros, decode, encode, micros, stored_time};
use crate::scripts::SCRIPTS;

/// How many index entries one script call handles.
const BATCH: usize = 256;

/// A user's index in one bucket holding this many entries or more is read (dropping the
/// entries of expired tokens) on every [`PRUNE_EVERY`]-th size a create leaves it at.
const PRUNE_FROM: i64 = 64;
/// See [`PRUNE_FROM`].
const PRUNE_EVERY: i64 = 32;

/// Access (or refresh) tokens in Redis, one string key per token digest, with a per-user and a
/// global sorted-set index so that log-out-everywhere, session listing and expired-token purges
/// need no `SCAN`. See the crate documentation for the key layout.
///
/// `C` is any of the redis crate's async connections:
/// [`ConnectionManager`] (the default, reconnects by itself) or
/// [`MultiplexedConnection`](redis::aio::MultiplexedConnection) for one server, and
/// [`ClusterConnection`](redis::cluster_async::ClusterConnection) for Redis Cluster. Clones share
/// the connection.
pub struct RedisAccessTokenDatabase<ID, C = ConnectionManager> {
    conn: C,
    layout: Arc<KeyLayout>,
    options: Arc<RedisTokenOptions>,
    ttl_ms: u64,
    _id: PhantomData<fn() -> ID>,
}

impl<ID, C: Clone> Clone for RedisAccessTokenDatabase<ID, C> {
    fn clone(&self) -> Self {
        Self {
            conn: self.conn.clone(),
            layout: Arc::clone(&self.layout),
            options: Arc::clone(&self.options),
            ttl_ms: self.ttl_ms,
            _id: PhantomData,
        }
    }
}

impl<ID, C> fmt::Debug for RedisAccessTokenDatabase<ID, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisAccessTokenDatabase")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<ID, C> RedisAccessTokenDatabase<ID, C>
where
    ID: UserId,
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// A store over an existing connection.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use authward_redis::{RedisAccessTokenDatabase, RedisTokenOptions};
    ///
    /// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
    /// let conn = client.get_multiplexed_async_connection().await?;
    /// let tokens = RedisAccessTokenDatabase::<uuid::Uuid, _>::new(conn, RedisTokenOptions::new())?;
    /// # let _ = tokens;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(conn: C, options: RedisTokenOptions) -> Result<Self, InvalidOptions> {
        let ttl_ms = options.validate()?.unwrap_or(0);
        Ok(Self {
            conn,
            layout: Arc::new(KeyLayout::new(
                options.get_key_prefix(),
                options.get_buckets(),
            )),
            options: Arc::new(options),
            ttl_ms,
            _id: PhantomData,
        })
    }

    /// The options the store was made with.
    pub fn options(&self) -> &RedisTokenOptions {
        &self.options
    }

    /// The underlying connection.
    pub fn connection(&self) -> &C {
        &self.conn
    }

    /// The Redis key that holds the record of `digest` (for operators and tests; it is derived
    /// from the digest only, never from the token).
    pub fn token_key(&self, digest: &TokenDigest) -> String {
        self.layout
            .token_key(self.layout.bucket_of(digest), &digest.to_hex())
    }

    fn conn(&self) -> C {
        self.conn.clone()
    }

    /// Runs `op` for every bucket concurrently and collects the results.
    async fn per_bucket<T, F, Fut>(&self, op: F) -> Result<Vec<T>, DbError>
    where
        F: Fn(u16) -> Fut,
        Fut: Future<Output = Result<T, DbError>>,
    {
        try_join_all((0..self.layout.buckets()).map(op)).await
    }

    async fn delete_all_in_bucket(&self, bucket: u16, user_id: &ID) -> Result<u64, DbError> {
        let user_key = self.layout.user_key(bucket, user_id);
        let all_key = self.layout.all_key(bucket);
        let mut conn = self.conn();
        let mut deleted = 0;
        loop {
            let members: Vec<String> = redis::cmd("ZRANGE")
                .arg(&user_key)
                .arg(0)
                .arg(BATCH - 1)
                .query_async(&mut conn)
                .await
                .map_err(map_redis_error)?;
            if members.is_empty() {
                return Ok(deleted);
            }
            let mut call = SCRIPTS.delete_many.prepare_invoke();
            call.key(&user_key).key(&all_key);
            for member in &members {
                call.key(self.layout.token_key(bucket, member));
            }
            for member in &members {
                call.arg(member);
            }
            let n: u64 = call
                .invoke_async(&mut conn)
                .await
                .map_err(map_redis_error)?;
            deleted += n;
        }
    }

    async fn list_in_bucket(
        &self,
        bucket: u16,
        user_id: &ID,
    ) -> Result<Vec<AccessToken<ID>>, DbError> {
        let user_key = self.layout.user_key(bucket, user_id);
        let mut conn = self.conn();
        let members: Vec<String> = redis::cmd("ZRANGE")
            .arg(&user_key)
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .map_err(map_redis_error)?;
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = members
            .iter()
            .map(|m| self.layout.token_key(bucket, m))
            .collect();
        let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .map_err(map_redis_error)?;
        let mut listed = Vec::with_capacity(members.len());
        let mut stale = Vec::new();
        for (member, value) in members.iter().zip(values) {
            match (TokenDigest::from_stored_hex(member), value) {
                (Some(digest), Some(raw)) => listed.push(decode(digest, &raw)?),
                _ => stale.push(member),
            }
        }
        if !stale.is_empty() {
            // Entries whose token expired through its TTL: drop them from the index.
            let _: i64 = redis::cmd("ZREM")
                .arg(&user_key)
                .arg(&stale)
                .query_async(&mut conn)
                .await
                .map_err(map_redis_error)?;
        }
        Ok(listed)
    }

    async fn delete_expired_in_bucket(&self, bucket: u16, cutoff_us: i64) -> Result<u64, DbError> {
        let all_key = self.layout.all_key(bucket);
        let mut conn = self.conn();
        let (mut deleted, mut offset) = (0, 0);
        loop {
            let members: Vec<String> = redis::cmd("ZRANGEBYSCORE")
                .arg(&all_key)
                .arg("-inf")
                .arg(format!("({cutoff_us}"))
                .arg("LIMIT")
                .arg(offset)
                .arg(BATCH)
                .query_async(&mut conn)
                .await
                .map_err(map_redis_error)?;
            if members.is_empty() {
                return Ok(deleted);
            }
            let token_keys: Vec<String> = members
                .iter()
                .map(|m| self.layout.token_key(bucket, m))
                .collect();
            let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                .arg(&token_keys)
                .query_async(&mut conn)
                .await
                .map_err(map_redis_error)?;
            let user_keys: Vec<String> = members
                .iter()
                .zip(&values)
                .map(|(member, value)| self.owner_index(bucket, member, value.as_deref()))
                .collect();
            let mut call = SCRIPTS.delete_expired.prepare_invoke();
            call.key(&all_key).key(&token_keys).key(&user_keys);
            call.arg(&members);
            for value in &values {
                call.arg(value.as_deref().unwrap_or_default());
            }
            let (n, kept): (u64, usize) = call
                .invoke_async(&mut conn)
                .await
                .map_err(map_redis_error)?;
            deleted += n;
            offset += kept;
            if members.len() < BATCH {
                return Ok(deleted);
            }
        }
    }

    /// The user index a stored record belongs to; the bucket's global index (a harmless
    /// stand-in in the same slot) when the record is gone or unreadable.
    fn owner_index(&self, bucket: u16, member: &str, value: Option<&[u8]>) -> String {
        TokenDigest::from_stored_hex(member)
            .zip(value)
            .and_then(|(digest, raw)| decode::<ID>(digest, raw).ok())
            .map(|record| self.layout.user_key(bucket, &record.user_id))
            .unwrap_or_else(|| self.layout.all_key(bucket))
    }
}

#[async_trait]
impl<ID, C> AccessTokenDatabase<ID> for RedisAccessTokenDatabase<ID, C>
where
    ID: UserId,
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn get_by_token(
        &self,
        digest: &TokenDigest,
        max_age: Option<OffsetDateTime>,
    ) -> Result<Option<AccessToken<ID>>, DbError> {
        let raw: Option<Vec<u8>> = redis::cmd("GET")
            .arg(self.token_key(digest))
            .query_async(&mut self.conn())
            .await
            .map_err(map_redis_error)?;
        let Some(raw) = raw else {
            return Ok(None);
        };
        let token = decode(*digest, &raw)?;
        Ok(Some(token).filter(|t| max_age.is_none_or(|cutoff| t.created_at >= cutoff)))
    }

    async fn create(&self, token: NewAccessToken<ID>) -> Result<AccessToken<ID>, DbError> {
        let mut record = token.into_token();
        record.created_at = stored_time(record.created_at);
        let bucket = self.layout.bucket_of(&record.digest);
        let hex = record.digest.to_hex();
        let mut call = SCRIPTS.create.prepare_invoke();
        call.key(self.layout.token_key(bucket, &hex))
            .key(self.layout.user_key(bucket, &record.user_id))
            .key(self.layout.all_key(bucket))
            .arg(encode(&record))
            .arg(self.ttl_ms)
            .arg(micros(record.created_at))
            .arg(&hex);
        let indexed: i64 = call
            .invoke_async(&mut self.conn())
            .await
            .map_err(map_redis_error)?;
        if indexed == 0 {
            return Err(DbError::already_exists(UniqueKey::Token));
        }
        if self.ttl_ms > 0 && indexed >= PRUNE_FROM && indexed % PRUNE_EVERY == 0 {
            // The user index of a user who keeps signing in never expires, and keeps the
            // entries of tokens that expired through their TTL: reading it drops them.
            if let Err(error) = self.list_in_bucket(bucket, &record.user_id).await {
                tracing::warn!(%error, "pruning a user's token index failed");
            }
        }
        Ok(record)
    }

    async fn delete(&self, digest: &TokenDigest) -> Result<bool, DbError> {
        let bucket = self.layout.bucket_of(digest);
        let hex = digest.to_hex();
        let token_key = self.layout.token_key(bucket, &hex);
        let mut conn = self.conn();
        let raw: Option<Vec<u8>> = redis::cmd("GET")
            .arg(&token_key)
            .query_async(&mut conn)
            .await
            .map_err(map_redis_error)?;
        let Some(raw) = raw else {
            return Ok(false);
        };
        let mut call = SCRIPTS.delete.prepare_invoke();
        call.key(&token_key)
            .key(self.owner_index(bucket, &hex, Some(&raw)))
            .key(self.layout.all_key(bucket))
            .arg(&raw)
            .arg(&hex);
        let deleted: i64 = call
            .invoke_async(&mut conn)
            .await
            .map_err(map_redis_error)?;
        Ok(deleted == 1)
    }

    async fn delete_all_for_user(&self, user_id: &ID) -> Result<u64, DbError> {
        let counts = self
            .per_bucket(|bucket| self.delete_all_in_bucket(bucket, user_id))
            .await?;
        Ok(counts.into_iter().sum())
    }

    async fn list_for_user(&self, user_id: &ID) -> Result<Vec<AccessToken<ID>>, DbError> {
        let buckets = self
            .per_bucket(|bucket| self.list_in_bucket(bucket, user_id))
            .await?;
        let mut listed: Vec<_> = buckets.into_iter().flatten().collect();
        listed.sort_by_key(|t| (t.created_at, t.digest));
        Ok(listed)
    }

    async fn delete_expired(&self, created_before: OffsetDateTime) -> Result<u64, DbError> {
        let cutoff_us = ceil_micros(created_before);
        let counts = self
            .per_bucket(|bucket| self.delete_expired_in_bucket(bucket, cutoff_us))
            .await?;
        Ok(counts.into_iter().sum())
    }

    /// One `MGET` of the digests' keys: one round trip on a single server, one concurrent
    /// round trip per hash slot on a cluster, where the default costs one `GET` per digest.
    /// Same answers as the default (only records of `user_id` count; an expired token is gone).
    async fn any_for_user(&self, user_id: &ID, digests: &[TokenDigest]) -> Result<bool, DbError> {
        self.any_owned_by(user_id, digests).await
    }
}

#[async_trait]
impl<ID, C> SessionRevoker<ID> for RedisAccessTokenDatabase<ID, C>
where
    ID: UserId,
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn revoke_all(&self, user_id: &ID, _reason: RevokeReason) -> Result<(), StrategyError> {
        Ok(self.delete_all_for_user(user_id).await.map(|_| ())?)
    }
}
