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
}
