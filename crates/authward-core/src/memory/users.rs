use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::lock;
use crate::db::{OAuthUserDatabase, UserDatabase};
use crate::error::DbError;
use crate::id::UserId;
use crate::oauth::{NewOAuthAccount, OAuthAccount, OAuthAccountPatch};
use crate::user::{NewUser, User, UserPatch, email_key};

/// Users and OAuth accounts held in memory.
///
/// IDs come from [`UserId::generate`]; for store-assigned ID types (`i64`) a counter starting
/// at 1 is used.
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
pub struct MemoryUserDatabase<ID, X = ()> {
    inner: Arc<Mutex<Inner<ID, X>>>,
    _marker: PhantomData<fn() -> X>,
}

struct Inner<ID, X> {
    users: HashMap<ID, User<ID, X>>,
    by_email: HashMap<String, ID>,
    oauth: Vec<OAuthAccount<ID>>,
    next_id: i64,
}

impl<ID, X> Clone for MemoryUserDatabase<ID, X> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            _marker: PhantomData,
        }
    }
}

impl<ID, X> Default for MemoryUserDatabase<ID, X> {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                users: HashMap::new(),
                by_email: HashMap::new(),
                oauth: Vec::new(),
                next_id: 1,
            })),
            _marker: PhantomData,
        }
    }
}

impl<ID, X> MemoryUserDatabase<ID, X> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<ID: UserId, X> Inner<ID, X> {
    fn fresh_id(&mut self) -> Result<ID, DbError> {
        if let Some(id) = ID::generate() {
            return Ok(id);
        }
        let n = self.next_id;
        self.next_id += 1;
        ID::parse_id(&n.to_string()).map_err(DbError::backend)
    }
}

#[async_trait]
impl<ID, X> UserDatabase<ID> for MemoryUserDatabase<ID, X>
where
    ID: UserId,
    X: Clone + Send + Sync + 'static,
{
    type User = User<ID, X>;
    type Extra = X;

    async fn get(&self, id: &ID) -> Result<Option<Self::User>, DbError> {
        Ok(lock(&self.inner).users.get(id).cloned())
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<Self::User>, DbError> {
        let inner = lock(&self.inner);
        Ok(inner
            .by_email
            .get(&email_key(email))
            .and_then(|id| inner.users.get(id))
            .cloned())
    }

    async fn create(&self, user: NewUser<X>) -> Result<Self::User, DbError> {
        let mut inner = lock(&self.inner);
        let key = email_key(&user.email);
        if inner.by_email.contains_key(&key) {
            return Err(DbError::AlreadyExists { what: "user email" });
        }
        let id = inner.fresh_id()?;
        if inner.users.contains_key(&id) {
            return Err(DbError::AlreadyExists { what: "user id" });
        }
        let user = user.into_user(id.clone());
        inner.by_email.insert(key, id.clone());
        inner.users.insert(id, user.clone());
        Ok(user)
    }

    async fn update(&self, id: &ID, patch: UserPatch<X>) -> Result<Self::User, DbError> {
        let mut inner = lock(&self.inner);
        let Some(current) = inner.users.get(id) else {
            return Err(DbError::NotFound { what: "user" });
        };
        let old_key = email_key(&current.email);
        let new_key = patch.email.as_deref().map(email_key);
        if let Some(key) = &new_key
            && inner.by_email.get(key).is_some_and(|owner| owner != id)
        {
            return Err(DbError::AlreadyExists { what: "user email" });
        }
        let mut updated = current.clone();
        patch.apply_to(&mut updated);
        if let Some(key) = new_key {
            inner.by_email.remove(&old_key);
            inner.by_email.insert(key, id.clone());
        }
        inner.users.insert(id.clone(), updated.clone());
        Ok(updated)
    }

    async fn delete(&self, id: &ID) -> Result<(), DbError> {
        let mut inner = lock(&self.inner);
        let Some(user) = inner.users.remove(id) else {
            return Err(DbError::NotFound { what: "user" });
        };
        inner.by_email.remove(&email_key(&user.email));
        inner.oauth.retain(|account| &account.user_id != id);
        Ok(())
    }
}

#[async_trait]
impl<ID, X> OAuthUserDatabase<ID> for MemoryUserDatabase<ID, X>
where
    ID: UserId,
    X: Clone + Send + Sync + 'static,
{
    async fn get_by_oauth_account(
        &self,
        oauth_name: &str,
        account_id: &str,
    ) -> Result<Option<Self::User>, DbError> {
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
        user_id: &ID,
        account: NewOAuthAccount,
    ) -> Result<OAuthAccount<ID>, DbError> {
        let mut inner = lock(&self.inner);
        if !inner.users.contains_key(user_id) {
            return Err(DbError::NotFound { what: "user" });
        }
        if inner
            .oauth
            .iter()
            .any(|a| a.oauth_name == account.oauth_name && a.account_id == account.account_id)
        {
            return Err(DbError::AlreadyExists {
                what: "oauth account",
            });
        }
        let account = account.into_account(user_id.clone());
        inner.oauth.push(account.clone());
        Ok(account)
    }

    async fn update_oauth_account(
        &self,
        user_id: &ID,
        oauth_name: &str,
        account_id: &str,
        patch: OAuthAccountPatch,
    ) -> Result<OAuthAccount<ID>, DbError> {
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

    async fn oauth_accounts(&self, user_id: &ID) -> Result<Vec<OAuthAccount<ID>>, DbError> {
        Ok(lock(&self.inner)
            .oauth
            .iter()
            .filter(|a| &a.user_id == user_id)
            .cloned()
            .collect())
    }
}
