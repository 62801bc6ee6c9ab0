//! Authentication backends: a name, a transport and a strategy (FastAPI Users'
//! `AuthenticationBackend`), optionally with refresh tokens and session listing.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use authward_core::strategy::{
    DatabaseStrategy, Session, Strategy, StrategyError, TokenPair, UserLookup, WithRefresh,
};
use authward_core::{AccessTokenDatabase, AuthUser, UserId};

use crate::transport::Transport;

/// Refresh tokens as the HTTP layer uses them; implemented by
/// [`WithRefresh`].
#[async_trait]
pub trait RefreshFlow<U: AuthUser>: Send + Sync {
    /// Login: an access token and the first refresh token of a new family.
    async fn login(&self, user: &U) -> Result<TokenPair, StrategyError>;
    /// Exchanges a refresh token (rotation; reuse revokes the family).
    async fn refresh(
        &self,
        refresh_token: &str,
        users: &dyn UserLookup<U>,
    ) -> Result<(U, TokenPair), StrategyError>;
}

#[async_trait]
impl<U: AuthUser, S: AccessTokenDatabase<U::Id> + 'static> RefreshFlow<U> for WithRefresh<U, S> {
    async fn login(&self, user: &U) -> Result<TokenPair, StrategyError> {
        WithRefresh::login(self, user).await
    }
    async fn refresh(
        &self,
        refresh_token: &str,
        users: &dyn UserLookup<U>,
    ) -> Result<(U, TokenPair), StrategyError> {
        WithRefresh::refresh(self, refresh_token, users).await
    }
}

/// Lists a user's active sessions; implemented by
/// [`DatabaseStrategy`].
#[async_trait]
pub trait SessionList<ID: UserId>: Send + Sync {
    /// The user's active sessions, oldest first.
    async fn list_sessions(&self, user_id: &ID) -> Result<Vec<Session>, StrategyError>;
}

#[async_trait]
impl<S: AccessTokenDatabase<ID> + 'static, ID: UserId> SessionList<ID> for DatabaseStrategy<S, ID> {
    async fn list_sessions(&self, user_id: &ID) -> Result<Vec<Session>, StrategyError> {
        DatabaseStrategy::list_sessions(self, user_id).await
    }
}

/// One authentication backend.
pub struct AuthBackend<U: AuthUser> {
    pub(crate) name: String,
    pub(crate) transport: Transport,
    pub(crate) strategy: Arc<dyn Strategy<U>>,
    pub(crate) refresh: Option<Arc<dyn RefreshFlow<U>>>,
    pub(crate) sessions: Option<Arc<dyn SessionList<U::Id>>>,
}

impl<U: AuthUser> Clone for AuthBackend<U> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            transport: self.transport.clone(),
            strategy: Arc::clone(&self.strategy),
            refresh: self.refresh.clone(),
            sessions: self.sessions.clone(),
        }
    }
}

impl<U: AuthUser> fmt::Debug for AuthBackend<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthBackend")
            .field("name", &self.name)
            .field("transport", &self.transport)
            .field("refresh", &self.refresh.is_some())
            .field("sessions", &self.sessions.is_some())
            .finish_non_exhaustive()
    }
}

impl<U: AuthUser> AuthBackend<U> {
    /// A backend called `name` (e.g. `"jwt"`) reading tokens from `transport` with `strategy`.
    pub fn new(
        name: impl Into<String>,
        transport: Transport,
        strategy: Arc<dyn Strategy<U>>,
    ) -> Self {
        Self {
            name: name.into(),
            transport,
            strategy,
            refresh: None,
            sessions: None,
        }
    }

    /// Adds refresh tokens: login also returns a `refresh_token`, and the auth router gains
    /// `POST /refresh`. The `strategy` should be the same [`WithRefresh`] value's access
    /// strategy.
    pub fn with_refresh(mut self, refresh: Arc<dyn RefreshFlow<U>>) -> Self {
        self.refresh = Some(refresh);
        self
    }

    /// Adds session listing: the auth router gains `GET /sessions`.
    pub fn with_sessions(mut self, sessions: Arc<dyn SessionList<U::Id>>) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// The backend's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The backend's transport.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }
}
