use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::DbError;
use crate::id::UserId;
use crate::token::{AccessToken, NewAccessToken, TokenDigest};

/// Storage of access (or refresh) tokens, keyed by [`TokenDigest`].
///
/// Use one instance per token kind (for example tables `accesstoken` and `refreshtoken`), since
/// [`AccessTokenDatabase::delete_expired`] applies one cut-off to the whole store.
#[async_trait]
pub trait AccessTokenDatabase<ID: UserId>: Send + Sync {
    /// The token with this digest, if it exists and was created at or after `max_age`.
    ///
    /// A token created exactly at `max_age` is still returned; one created a microsecond
    /// earlier is not.
    async fn get_by_token(
        &self,
        digest: &TokenDigest,
        max_age: Option<OffsetDateTime>,
    ) -> Result<Option<AccessToken<ID>>, DbError>;

    /// Stores a token. [`DbError::AlreadyExists`] when the digest is already stored.
    async fn create(&self, token: NewAccessToken<ID>) -> Result<AccessToken<ID>, DbError>;

    /// Deletes a token; `true` if it existed.
    ///
    /// Atomic: when two callers delete the same digest at once, exactly one sees `true`.
    /// Refresh-token rotation relies on this to consume a token once.
    async fn delete(&self, digest: &TokenDigest) -> Result<bool, DbError>;

    /// Deletes every token of a user (log out everywhere); returns how many were deleted.
    async fn delete_all_for_user(&self, user_id: &ID) -> Result<u64, DbError>;

    /// Every token of a user, oldest first (session listing).
    async fn list_for_user(&self, user_id: &ID) -> Result<Vec<AccessToken<ID>>, DbError>;

    /// Deletes every token created before `created_before`; returns how many were deleted.
    async fn delete_expired(&self, created_before: OffsetDateTime) -> Result<u64, DbError>;

    /// Whether any of `digests` is stored **for `user_id`**: what a JWT revocation check asks
    /// on every request ("is there a revocation record of this user among these markers").
    ///
    /// The default asks [`AccessTokenDatabase::get_by_token`] for each digest in turn; stores
    /// that can answer in one round trip (the SQL adapters, the Redis store) override it. An
    /// empty slice is `false`.
    async fn any_for_user(&self, user_id: &ID, digests: &[TokenDigest]) -> Result<bool, DbError> {
        for digest in digests {
            if let Some(record) = self.get_by_token(digest, None).await?
                && &record.user_id == user_id
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
