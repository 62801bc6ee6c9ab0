use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use time::OffsetDateTime;

use super::lock;
use crate::db::AccessTokenDatabase;
use crate::error::{DbError, UniqueKey};
use crate::id::UserId;
use crate::token::{AccessToken, NewAccessToken, TokenDigest};

/// Token records held in memory, keyed by digest. Clones share the same data.
pub struct MemoryAccessTokenDatabase<ID> {
    tokens: Arc<Mutex<HashMap<TokenDigest, AccessToken<ID>>>>,
}

impl<ID> Clone for MemoryAccessTokenDatabase<ID> {
    fn clone(&self) -> Self {
        Self {
            tokens: Arc::clone(&self.tokens),
        }
    }
}

impl<ID> Default for MemoryAccessTokenDatabase<ID> {
    fn default() -> Self {
        Self {
            tokens: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

impl<ID> MemoryAccessTokenDatabase<ID> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many records are held (tests and metrics).
    pub fn len(&self) -> usize {
        lock(&self.tokens).len()
    }

    /// True when no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl<ID: UserId> AccessTokenDatabase<ID> for MemoryAccessTokenDatabase<ID> {
    async fn get_by_token(
        &self,
        digest: &TokenDigest,
        max_age: Option<OffsetDateTime>,
    ) -> Result<Option<AccessToken<ID>>, DbError> {
        Ok(lock(&self.tokens)
            .get(digest)
            .filter(|t| max_age.is_none_or(|cutoff| t.created_at >= cutoff))
            .cloned())
    }

    async fn create(&self, token: NewAccessToken<ID>) -> Result<AccessToken<ID>, DbError> {
        let mut tokens = lock(&self.tokens);
        if tokens.contains_key(&token.digest) {
            return Err(DbError::already_exists(UniqueKey::Token));
        }
        let token = token.into_token();
        tokens.insert(token.digest, token.clone());
        Ok(token)
    }

    async fn delete(&self, digest: &TokenDigest) -> Result<bool, DbError> {
        Ok(lock(&self.tokens).remove(digest).is_some())
    }

    async fn delete_all_for_user(&self, user_id: &ID) -> Result<u64, DbError> {
        let mut tokens = lock(&self.tokens);
        let before = tokens.len();
        tokens.retain(|_, t| &t.user_id != user_id);
        Ok((before - tokens.len()) as u64)
    }

    async fn list_for_user(&self, user_id: &ID) -> Result<Vec<AccessToken<ID>>, DbError> {
        let mut list: Vec<_> = lock(&self.tokens)
            .values()
            .filter(|t| &t.user_id == user_id)
            .cloned()
            .collect();
        list.sort_by_key(|t| (t.created_at, t.digest));
        Ok(list)
    }

    async fn delete_expired(&self, created_before: OffsetDateTime) -> Result<u64, DbError> {
        let mut tokens = lock(&self.tokens);
        let before = tokens.len();
        tokens.retain(|_, t| t.created_at >= created_before);
        Ok((before - tokens.len()) as u64)
    }
}
