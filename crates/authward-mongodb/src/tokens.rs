//! The token store: Beanie's `AccessToken` collection, holding digests.

use std::marker::PhantomData;

use async_trait::async_trait;
use authward_core::{
    AccessToken, AccessTokenDatabase, DbError, NewAccessToken, RevokeReason, SessionRevoker,
    StrategyError, TokenDigest, TokenFamily, UniqueKey,
};
use bson::oid::ObjectId;
use bson::spec::BinarySubtype;
use bson::{Binary, Bson, DateTime, Document, Regex, doc};
use futures::TryStreamExt;
use mongodb::options::IndexOptions;
use mongodb::{Collection, Database, IndexModel};
use time::{Duration, OffsetDateTime};

use crate::error::{corrupt, duplicate_key_fields, is_duplicate_key, map_error};
use crate::id::{MongoId, uuid_to_bson};
use crate::names::{CREATED_AT_INDEX, DEFAULT_TOKEN_COLLECTION, TOKEN_INDEX, USER_TOKENS_INDEX};

/// Access or refresh tokens in one MongoDB collection, laid out as FastAPI Users' Beanie
/// adapter lays out `AccessToken`, except that `token` holds the SHA-256 digest of the token
/// (64 lowercase hex characters), never the token.
///
/// Documents: `{_id: ObjectId, token: <digest hex>, user_id: <user ID>, created_at: <date>}`,
/// plus `family` (UUID, binary subtype 4) and `used: true` for refresh tokens that have them.
/// With a lifetime ([`MongoAccessTokenDatabase::with_lifetime`]) the `created_at` index is a
/// TTL index, so the server deletes expired tokens by itself; expiry is still enforced by every
/// lookup (`max_age`), since the server's TTL sweep runs only once a minute.
///
/// [`bootstrap`](MongoAccessTokenDatabase::bootstrap) creates the indexes and adopts a Beanie
/// collection: plaintext tokens are replaced by their digests in place, so sessions survive.
///
/// ```no_run
/// # async fn demo() -> Result<(), authward_core::DbError> {
/// use authward_core::{AccessTokenDatabase, NewAccessToken, TokenDigest};
/// use authward_mongodb::MongoAccessTokenDatabase;
/// use bson::oid::ObjectId;
///
/// let client = authward_mongodb::connect("mongodb://127.0.0.1:27017/").await?;
/// let tokens = MongoAccessTokenDatabase::<ObjectId>::new(&client.database("app"))
///     .with_lifetime(Some(time::Duration::hours(1)));
/// tokens.bootstrap().await?;
/// let owner = ObjectId::new();
/// let now = time::OffsetDateTime::now_utc();
/// tokens.create(NewAccessToken::new("sent-to-the-client", owner, now)).await?;
/// let found = tokens.get_by_token(&TokenDigest::of("sent-to-the-client"), None).await?;
/// assert_eq!(found.map(|t| t.user_id), Some(owner));
/// # Ok(())
/// # }
/// ```
pub struct MongoAccessTokenDatabase<ID> {
    tokens: Collection<Document>,
    lifetime: Option<Duration>,
    _id: PhantomData<fn() -> ID>,
}

impl<ID> Clone for MongoAccessTokenDatabase<ID> {
    fn clone(&self) -> Self {
        Self {
            tokens: self.tokens.clone(),
            lifetime: self.lifetime,
            _id: PhantomData,
        }
    }
}

impl<ID> std::fmt::Debug for MongoAccessTokenDatabase<ID> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoAccessTokenDatabase")
            .field("collection", &self.tokens.namespace())
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// A token lifetime that a TTL index cannot express.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidLifetime(pub Duration);

impl std::fmt::Display for InvalidLifetime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "token lifetime {} is not between 0 and 2^31 - 1 seconds (a TTL index's range)",
            self.0
        )
    }
}

impl std::error::Error for InvalidLifetime {}

/// Milliseconds since the epoch, rounded up: a stored date (whole milliseconds) is at or after
/// `at` exactly when it is at or after this.
fn ceil_millis(at: OffsetDateTime) -> DateTime {
    let nanos = at.unix_timestamp_nanos();
    let millis = nanos.div_euclid(1_000_000) + i128::from(nanos.rem_euclid(1_000_000) != 0);
    DateTime::from_millis(i64::try_from(millis).unwrap_or(i64::MAX))
}

/// Milliseconds since the epoch, rounded down (what MongoDB keeps of a date).
fn floor_millis(at: OffsetDateTime) -> DateTime {
    let millis = at.unix_timestamp_nanos().div_euclid(1_000_000);
    DateTime::from_millis(i64::try_from(millis).unwrap_or(i64::MAX))
}

/// `expireAfterSeconds` for a lifetime: whole seconds, rounded up.
fn ttl_seconds(lifetime: Option<Duration>) -> Result<Option<i64>, DbError> {
    lifetime
        .map(|lifetime| {
            let mut seconds = lifetime.whole_seconds();
            if lifetime.subsec_nanoseconds() > 0 {
                seconds = seconds.saturating_add(1);
            }
            if (0..=i64::from(i32::MAX)).contains(&seconds) {
                Ok(seconds)
            } else {
                Err(DbError::backend(InvalidLifetime(lifetime)))
            }
        })
        .transpose()
}

/// True for what authward stores in `token`: a digest in lowercase hex.
fn is_digest_hex(token: &str) -> bool {
    token.len() == 64
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl<ID> MongoAccessTokenDatabase<ID> {
    /// The store over collection `AccessToken` of `db` (Beanie's default name), without a
    /// lifetime (no TTL index).
    pub fn new(db: &Database) -> Self {
        Self::with_collection(db, DEFAULT_TOKEN_COLLECTION)
    }

    /// The store over collection `name` of `db` (for example a second store for refresh
    /// tokens or JWT revocations).
    pub fn with_collection(db: &Database, name: &str) -> Self {
        Self {
            tokens: db.collection(name),
            lifetime: None,
            _id: PhantomData,
        }
    }

    /// How long a token lives: [`bootstrap`](Self::bootstrap) makes the `created_at` index a
    /// TTL index with `expireAfterSeconds` = this lifetime (rounded up to whole seconds), so
    /// MongoDB deletes expired tokens by itself. `None` (the default): no TTL.
    pub fn with_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The underlying collection.
    pub fn collection(&self) -> &Collection<Document> {
        &self.tokens
    }

    /// Adopts plaintext tokens, then creates the indexes; safe to run at every start.
    ///
    /// 1. Every `token` that is not a digest (a plaintext token written by FastAPI Users'
    ///    Beanie adapter) is replaced, in place, by its SHA-256 digest: clients keep their
    ///    sessions and no usable token remains in the database. Each replacement is one
    ///    conditional update, so concurrent or repeated runs convert each token once.
    /// 2. Indexes: `token_1` (`{token: 1}`, unique: Beanie's own), `user_id_1_created_at_1`
    ///    (log out everywhere, session lists) and `created_at_1` (expired-token purges; a TTL
    ///    index with the store's lifetime, changed when the lifetime changes).
    ///
    /// Errors: [`DbError::Backend`] with [`InvalidLifetime`] for a lifetime a TTL index cannot
    /// hold; the driver's errors otherwise.
    pub async fn bootstrap(&self) -> Result<(), DbError> {
        let ttl = ttl_seconds(self.lifetime)?;
        self.adopt_plaintext_tokens().await?;
        let token = IndexModel::builder()
            .keys(doc! { "token": 1 })
            .options(
                IndexOptions::builder()
                    .name(TOKEN_INDEX.to_owned())
                    .unique(true)
                    .build(),
            )
            .build();
        let per_user = IndexModel::builder()
            .keys(doc! { "user_id": 1, "created_at": 1 })
            .options(
                IndexOptions::builder()
                    .name(USER_TOKENS_INDEX.to_owned())
                    .build(),
            )
            .build();
        for model in [token, per_user] {
            self.tokens.create_index(model).await.map_err(map_error)?;
        }
        self.ensure_created_at_index(ttl).await
    }

    async fn ensure_created_at_index(&self, ttl: Option<i64>) -> Result<(), DbError> {
        let mut existing = self.tokens.list_indexes().await;
        let mut current: Option<Option<i64>> = None;
        if let Ok(indexes) = &mut existing {
            while let Some(index) = indexes.try_next().await.map_err(map_error)? {
                let options = index.options.unwrap_or_default();
                if options.name.as_deref() == Some(CREATED_AT_INDEX) {
                    current = Some(options.expire_after.map(|d| d.as_secs() as i64));
                }
            }
        }
        // A collection that does not exist yet lists no indexes (error 26): create them.
        if let Err(err) = existing
            && crate::error::server_code(&err) != Some(26)
        {
            return Err(map_error(err));
        }
        if current == Some(ttl) {
            return Ok(());
        }
        if current.is_some() {
            // Another lifetime (or none): replace the index. Dropping and creating works on
            // every server version, unlike turning a TTL on or off with collMod.
            self.tokens
                .drop_index(CREATED_AT_INDEX)
                .await
                .map_err(map_error)?;
        }
        let mut options = IndexOptions::builder()
            .name(CREATED_AT_INDEX.to_owned())
            .build();
        options.expire_after = ttl.map(|s| std::time::Duration::from_secs(s.unsigned_abs()));
        let model = IndexModel::builder()
            .keys(doc! { "created_at": 1 })
            .options(options)
            .build();
        self.tokens.create_index(model).await.map_err(map_error)?;
        Ok(())
    }

    /// Replaces every token that is not a digest by its digest. Returns how many were
    /// converted.
    async fn adopt_plaintext_tokens(&self) -> Result<u64, DbError> {
        let not_a_digest = doc! {
            "token": {
                "$type": "string",
                "$not": Regex {
                    pattern: bson::raw::cstr!("^[0-9a-f]{64}$").into(),
                    options: bson::raw::cstr!("").into(),
                },
            }
        };
        let mut cursor = self
            .tokens
            .find(not_a_digest)
            .projection(doc! { "token": 1 })
            .await
            .map_err(map_error)?;
        let mut converted = 0;
        while let Some(doc) = cursor.try_next().await.map_err(map_error)? {
            let (Some(id), Ok(plain)) = (doc.get("_id").cloned(), doc.get_str("token")) else {
                continue;
            };
            if is_digest_hex(plain) {
                continue;
            }
            let digest = TokenDigest::of(plain).to_hex();
            let this = doc! { "_id": id, "token": plain };
            match self
                .tokens
                .update_one(this.clone(), doc! { "$set": { "token": digest } })
                .await
            {
                Ok(result) => converted += result.modified_count,
                // The digest is already stored (the same token twice): keep one record.
                Err(err) if is_duplicate_key(&err) => {
                    self.tokens.delete_one(this).await.map_err(map_error)?;
                }
                Err(err) => return Err(map_error(err)),
            }
        }
        Ok(converted)
    }
}

impl<ID: MongoId> MongoAccessTokenDatabase<ID> {
    fn decode(&self, doc: &Document) -> Result<AccessToken<ID>, DbError> {
        let name = self.tokens.name();
        let token = doc
            .get_str("token")
            .map_err(|_| corrupt(name, "a token without a string token"))?;
        let digest = TokenDigest::from_stored_hex(token).ok_or_else(|| {
            corrupt(
                name,
                "a token that is not a digest (run bootstrap() to adopt plaintext tokens)",
            )
        })?;
        let user_id = doc
            .get("user_id")
            .and_then(ID::from_bson)
            .ok_or_else(|| corrupt(name, "a token whose user_id is not of the store's ID type"))?;
        let created_at = doc
            .get_datetime("created_at")
            .map_err(|_| corrupt(name, "a token without a created_at date"))?;
        let created_at = OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(created_at.timestamp_millis()) * 1_000_000,
        )
        .map_err(|_| corrupt(name, "a token whose created_at is out of range"))?;
        let family = match doc.get("family") {
            None | Some(Bson::Null) => None,
            Some(Bson::Binary(Binary {
                subtype: BinarySubtype::Uuid,
                bytes,
            })) => Some(TokenFamily(
                uuid::Uuid::from_slice(bytes)
                    .map_err(|_| corrupt(name, "a token whose family is not a UUID"))?,
            )),
            Some(_) => return Err(corrupt(name, "a token whose family is not a UUID")),
        };
        let used = match doc.get("used") {
            None | Some(Bson::Null) => false,
            Some(Bson::Boolean(used)) => *used,
            Some(_) => return Err(corrupt(name, "a token whose used flag is not a boolean")),
        };
        Ok(AccessToken {
            digest,
            user_id,
            created_at,
            family,
            used,
        })
    }
}

#[async_trait]
impl<ID: MongoId> AccessTokenDatabase<ID> for MongoAccessTokenDatabase<ID> {
    async fn get_by_token(
        &self,
        digest: &TokenDigest,
        max_age: Option<OffsetDateTime>,
    ) -> Result<Option<AccessToken<ID>>, DbError> {
        let mut filter = doc! { "token": digest.to_hex() };
        if let Some(cutoff) = max_age {
            filter.insert("created_at", doc! { "$gte": ceil_millis(cutoff) });
        }
        let found = self.tokens.find_one(filter).await.map_err(map_error)?;
        found.map(|doc| self.decode(&doc)).transpose()
    }

    async fn create(&self, token: NewAccessToken<ID>) -> Result<AccessToken<ID>, DbError> {
        let mut doc = doc! {
            "_id": ObjectId::new(),
            "token": token.digest.to_hex(),
            "user_id": token.user_id.to_bson(),
            "created_at": floor_millis(token.created_at),
        };
        if let Some(family) = token.family {
            doc.insert("family", uuid_to_bson(family.0));
        }
        if token.used {
            doc.insert("used", true);
        }
        match self.tokens.insert_one(doc).await {
            Ok(_) => {
                let mut stored = token.into_token();
                // What a read returns: MongoDB keeps milliseconds.
                stored.created_at = OffsetDateTime::from_unix_timestamp_nanos(
                    i128::from(floor_millis(stored.created_at).timestamp_millis()) * 1_000_000,
                )
                .unwrap_or(stored.created_at);
                Ok(stored)
            }
            Err(err) if is_duplicate_key(&err) => {
                let what = match duplicate_key_fields(&err).as_deref() {
                    Some([field]) if field == "token" => UniqueKey::Token,
                    Some(_) => UniqueKey::Other,
                    // Only `token` is unique besides `_id`, which is fresh.
                    None => UniqueKey::Token,
                };
                let constraint = (what == UniqueKey::Token).then(|| TOKEN_INDEX.to_owned());
                Err(DbError::duplicate(what, constraint, err))
            }
            Err(err) => Err(map_error(err)),
        }
    }

    async fn delete(&self, digest: &TokenDigest) -> Result<bool, DbError> {
        let deleted = self
            .tokens
            .delete_one(doc! { "token": digest.to_hex() })
            .await
            .map_err(map_error)?;
        Ok(deleted.deleted_count == 1)
    }

    async fn delete_all_for_user(&self, user_id: &ID) -> Result<u64, DbError> {
        let deleted = self
            .tokens
            .delete_many(doc! { "user_id": user_id.to_bson() })
            .await
            .map_err(map_error)?;
        Ok(deleted.deleted_count)
    }

    async fn list_for_user(&self, user_id: &ID) -> Result<Vec<AccessToken<ID>>, DbError> {
        let docs: Vec<Document> = self
            .tokens
            .find(doc! { "user_id": user_id.to_bson() })
            .sort(doc! { "created_at": 1, "token": 1 })
            .await
            .map_err(map_error)?
            .try_collect()
            .await
            .map_err(map_error)?;
        docs.iter().map(|doc| self.decode(doc)).collect()
    }

    async fn delete_expired(&self, created_before: OffsetDateTime) -> Result<u64, DbError> {
        let deleted = self
            .tokens
            .delete_many(doc! { "created_at": { "$lt": ceil_millis(created_before) } })
            .await
            .map_err(map_error)?;
        Ok(deleted.deleted_count)
    }
}

#[async_trait]
impl<ID: MongoId> SessionRevoker<ID> for MongoAccessTokenDatabase<ID> {
    async fn revoke_all(&self, user_id: &ID, _reason: RevokeReason) -> Result<(), StrategyError> {
        Ok(self.delete_all_for_user(user_id).await.map(|_| ())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millisecond_rounding_keeps_the_boundaries() {
        let at = time::macros::datetime!(2024-05-01 12:00:00.000_000_001 UTC);
        assert_eq!(
            floor_millis(at).timestamp_millis() + 1,
            ceil_millis(at).timestamp_millis()
        );
        let whole = time::macros::datetime!(2024-05-01 12:00:00.123 UTC);
        assert_eq!(floor_millis(whole), ceil_millis(whole));
        let before_epoch = time::macros::datetime!(1969-12-31 23:59:59.999_5 UTC);
        assert_eq!(floor_millis(before_epoch).timestamp_millis(), -1);
        assert_eq!(ceil_millis(before_epoch).timestamp_millis(), 0);
    }

    #[test]
    fn digests_are_told_from_plaintext_tokens() {
        assert!(is_digest_hex(&TokenDigest::of("x").to_hex()));
        assert!(!is_digest_hex(
            "legacy-token-0123456789abcdefghijklmnopqrst"
        ));
        assert!(!is_digest_hex(
            &TokenDigest::of("x").to_hex().to_uppercase()
        ));
    }

    #[test]
    fn lifetimes_become_whole_seconds() {
        assert_eq!(
            ttl_seconds(Some(Duration::milliseconds(1500))).ok(),
            Some(Some(2))
        );
        assert_eq!(ttl_seconds(Some(Duration::hours(1))).ok(), Some(Some(3600)));
        assert_eq!(ttl_seconds(None).ok(), Some(None));
        assert!(ttl_seconds(Some(Duration::seconds(-1))).is_err());
        assert!(ttl_seconds(Some(Duration::seconds(i64::from(i32::MAX) + 1))).is_err());
        // Rounding the longest lifetime up does not overflow: it is refused as too long.
        assert!(ttl_seconds(Some(Duration::MAX)).is_err());
    }
}
