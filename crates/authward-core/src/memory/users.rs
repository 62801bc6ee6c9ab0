use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::lock;
use crate::db::{OAuthUserDatabase, UserDatabase};
use crate::error::{DbError, UniqueKey};
use crate::id::UserId;
use crate::oauth::{NewOAuthAccount, OAuthAccount, OAuthAccountPatch};
use crate::user::{AuthUser, NewUser, User, UserPatch, UserRecord, email_key};

/// Users of any [`UserRecord`] type, and their OAuth accounts, held in memory.
///
/// IDs come from [`UserId::generate`]; for store-assigned ID types (`i64`) a counter starting
/// at 1 is used. Clones share the same data. For the ready-made [`User`] see the alias
/// [`MemoryUserDatabase`].
///
/// ```
/// # tokio_test_shim::run(async {
/// use authward_core::{NewUser, UserDatabase, memory::MemoryUserDatabase};
///
/// let db = MemoryUserDatabase::<i64>::new();
/// let user = db.create(NewUser::new("Ada@Example.com", "hash")).await.unwrap();
/// assert_eq!(user.id, 1);
/// assert_eq!(db.get_by_email("ada@example.COM").await.unwrap(), Some(user));
/// # });
/// # mod tokio_test_shim { pub fn run<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f) } }
/// ```
pub struct MemoryUsers<U: AuthUser> {
    inner: Arc<Mutex<Inner<U>>>,
}

/// [`MemoryUsers`] of the ready-made [`User<ID, X>`].
pub type MemoryUserDatabase<ID, X = ()> = MemoryUsers<User<ID, X>>;

struct Inner<U: AuthUser> {
    users: HashMap<U::Id, U>,
    by_email: HashMap<String, U::Id>,
    oauth: Vec<OAuthAccount<U::Id>>,
    next_id: i64,
}

impl<U: AuthUser> Clone for MemoryUsers<U> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<U: AuthUser> Default for MemoryUsers<U> {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                users: HashMap::new(),
                by_email: HashMap::new(),
                oauth: Vec::new(),
                next_id: 1,
            })),
        }
    }
}

impl<U: AuthUser> MemoryUsers<U> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<U: AuthUser> Inner<U> {
    fn fresh_id(&mut self) -> Result<U::Id, DbError> {
        if let Some(id) = U::Id::generate() {
            return Ok(id);
        }
        let n = self.next_id;
        self.next_id += 1;
        U::Id::parse_id(&n.to_string()).map_err(DbError::backend)
    }
}

impl<U: UserRecord> Inner<U> {
    /// Stores a new user, its email unique by key.
    fn insert(&mut self, user: NewUser<U::Extra>) -> Result<U, DbError> {
        let key = email_key(&user.email);
        if self.by_email.contains_key(&key) {
            return Err(DbError::already_exists(UniqueKey::Email));
        }
        let id = self.fresh_id()?;
        if self.users.contains_key(&id) {
            return Err(DbError::already_exists(UniqueKey::UserId));
        }
        let user = U::from_new(id.clone(), user);
        self.by_email.insert(key, id.clone());
        self.users.insert(id, user.clone());
        Ok(user)
    }
}

#[async_trait]
impl<U: UserRecord> UserDatabase for MemoryUsers<U> {
    type User = U;
    type Extra = U::Extra;

    async fn get(&self, id: &U::Id) -> Result<Option<U>, DbError> {
        Ok(lock(&self.inner).users.get(id).cloned())
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<U>, DbError> {
        let inner = lock(&self.inner);
        Ok(inner
            .by_email
            .get(&email_key(email))
            .and_then(|id| inner.users.get(id))
            .cloned())
    }

    async fn create(&self, user: NewUser<U::Extra>) -> Result<U, DbError> {
        lock(&self.inner).insert(user)
    }

    async fn update(&self, id: &U::Id, patch: UserPatch<U::Extra>) -> Result<U, DbError> {
        let mut inner = lock(&self.inner);
        let Some(current) = inner.users.get(id) else {
            return Err(DbError::NotFound { what: "user" });
        };
        let old_key = email_key(current.email());
        let new_key = patch.email.as_deref().map(email_key);
        if let Some(key) = &new_key
            && inner.by_email.get(key).is_some_and(|owner| owner != id)
        {
            return Err(DbError::already_exists(UniqueKey::Email));
        }
        let mut updated = current.clone();
        updated.apply_patch(patch);
        if let Some(key) = new_key {
            inner.by_email.remove(&old_key);
            inner.by_email.insert(key, id.clone());
        }
        inner.users.insert(id.clone(), updated.clone());
        Ok(updated)
    }

    async fn replace_password_hash(
        &self,
        id: &U::Id,
        current_hash: &str,
        new_hash: String,
    ) -> Result<Option<U>, DbError> {
        let mut inner = lock(&self.inner);
        let Some(current) = inner.users.get(id) else {
            return Ok(None);
        };
        if current.hashed_password() != current_hash {
            return Ok(None);
        }
        let mut updated = current.clone();
        updated.apply_patch(UserPatch {
            hashed_password: Some(new_hash),
            ..UserPatch::default()
        });
        inner.users.insert(id.clone(), updated.clone());
        Ok(Some(updated))
    }

    async fn delete(&self, id: &U::Id) -> Result<(), DbError> {
        let mut inner = lock(&self.inner);
        let Some(user) = inner.users.remove(id) else {
            return Err(DbError::NotFound { what: "user" });
        };
        inner.by_email.remove(&email_key(user.email()));
        inner.oauth.retain(|account| &account.user_id != id);
        Ok(())
    }
}

#[async_trait]
impl<U: UserRecord> OAuthUserDatabase for MemoryUsers<U> {
    async fn get_by_oauth_account(
        &self,
        oauth_name: &str,
        account_id: &str,
    ) -> Result<Option<U>, DbError> {
        let inner = lock(&self.inner);
        Ok(inner
            .oauth
            .iter()
            .find(|a| a.oauth_name == oauth_name && a.account_id == account_id)
            .and_then(|a| inner.users.get(&a.user_id))
            .cloned())
    }

    async fn add_oauth_account(
        &self,
        user_id: &U::Id,
        account: NewOAuthAccount,
    ) -> Result<OAuthAccount<U::Id>, DbError> {
        let mut inner = lock(&self.inner);
        if !inner.users.contains_key(user_id) {
            return Err(DbError::NotFound { what: "user" });
        }
        if inner
            .oauth
            .iter()
            .any(|a| a.oauth_name == account.oauth_name && a.account_id == account.account_id)
        {
            return Err(DbError::already_exists(UniqueKey::OAuthAccount));
        }
        let account = account.into_account(user_id.clone());
        inner.oauth.push(account.clone());
        Ok(account)
    }

    async fn create_with_oauth_account(
        &self,
        user: NewUser<U::Extra>,
        account: NewOAuthAccount,
    ) -> Result<U, DbError> {
        // One lock. The email is checked first (by `insert`), as the other stores do.
        let mut inner = lock(&self.inner);
        if !inner.by_email.contains_key(&email_key(&user.email))
            && inner
                .oauth
                .iter()
                .any(|a| a.oauth_name == account.oauth_name && a.account_id == account.account_id)
        {
            return Err(DbError::already_exists(UniqueKey::OAuthAccount));
        }
        let user = inner.insert(user)?;
        inner.oauth.push(account.into_account(user.id().clone()));
        Ok(user)
    }

    async fn update_oauth_account(
        &self,
        user_id: &U::Id,
        oauth_name: &str,
        account_id: &str,
        patch: OAuthAccountPatch,
    ) -> Result<OAuthAccount<U::Id>, DbError> {
        let mut inner = lock(&self.inner);
        let Some(account) = inner.oauth.iter_mut().find(|a| {
            &a.user_id == user_id && a.oauth_name == oauth_name && a.account_id == account_id
        }) else {
            return Err(DbError::NotFound {
                what: "oauth account",
            });
        };
        patch.apply_to(account);
        Ok(account.clone())
    }

    async fn oauth_accounts(&self, user_id: &U::Id) -> Result<Vec<OAuthAccount<U::Id>>, DbError> {
        Ok(lock(&self.inner)
            .oauth
            .iter()
            .filter(|a| &a.user_id == user_id)
            .cloned()
            .collect())
    }
}
