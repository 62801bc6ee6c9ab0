//! Authentication backends: a name, a transport and a strategy (FastAPI Users'
//! `AuthenticationBackend`), optionally with refresh tokens and session listing.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use authward_core::strategy::{
    DatabaseStrategy, Exchanged, RefreshTokens, RevokeReason, Session, SessionRevoker, Strategy,
    StrategyError, StrategyRevoker, UserLookup,
};
use authward_core::{AccessTokenDatabase, AuthUser, UserId};

use crate::transport::Transport;

/// Refresh tokens as the HTTP layer uses them; implemented by [`RefreshTokens`].
#[async_trait]
pub trait RefreshFlow<U: AuthUser>: Send + Sync {
    /// Login: the first refresh token of a new family, linked to `access_token` (so a logout
    /// with the access token alone ends the family).
    async fn issue(&self, user_id: &U::Id, access_token: &str) -> Result<String, StrategyError>;
    /// Exchanges a refresh token for its (active) user, the next token of its family and the
    /// family (rotation; reuse revokes the family).
    async fn exchange(
        &self,
        refresh_token: &str,
        users: &dyn UserLookup<U>,
    ) -> Result<Exchanged<U>, StrategyError>;
    /// Links an access token issued by a refresh to the family, then checks that the family
    /// still stands ([`RefreshTokens::link_issued`]): on an error neither token may be handed
    /// out.
    async fn link_issued(
        &self,
        exchanged: &Exchanged<U>,
        access_token: &str,
    ) -> Result<(), StrategyError>;
    /// Logout: revokes the family of `refresh_token` when it belongs to `owner`.
    async fn revoke_family(
        &self,
        refresh_token: &str,
        owner: &U::Id,
    ) -> Result<bool, StrategyError>;
    /// Logout: revokes the family linked to `access_token` when it belongs to `owner`.
    async fn revoke_linked(&self, access_token: &str, owner: &U::Id)
    -> Result<bool, StrategyError>;
    /// Revokes every refresh token of `user_id`.
    async fn revoke_all(&self, user_id: &U::Id) -> Result<(), StrategyError>;
    /// How long a refresh token lives, in seconds (the refresh cookie's `Max-Age`).
    fn lifetime_secs(&self) -> Option<i64>;
}

#[async_trait]
impl<U, S> RefreshFlow<U> for RefreshTokens<S, U::Id>
where
    U: AuthUser,
    S: AccessTokenDatabase<U::Id> + 'static,
{
    async fn issue(&self, user_id: &U::Id, access_token: &str) -> Result<String, StrategyError> {
        self.issue_for(user_id, access_token).await
    }
    async fn exchange(
        &self,
        refresh_token: &str,
        users: &dyn UserLookup<U>,
    ) -> Result<Exchanged<U>, StrategyError> {
        self.exchange_in_family(refresh_token, users).await
    }
    async fn link_issued(
        &self,
        exchanged: &Exchanged<U>,
        access_token: &str,
    ) -> Result<(), StrategyError> {
        RefreshTokens::link_issued(self, exchanged, access_token).await
    }
    async fn revoke_linked(
        &self,
        access_token: &str,
        owner: &U::Id,
    ) -> Result<bool, StrategyError> {
        RefreshTokens::revoke_linked(self, access_token, owner).await
    }
    async fn revoke_family(
        &self,
        refresh_token: &str,
        owner: &U::Id,
    ) -> Result<bool, StrategyError> {
        self.revoke_owned(refresh_token, Some(owner)).await
    }
    async fn revoke_all(&self, user_id: &U::Id) -> Result<(), StrategyError> {
        self.revoke_all_for_user(user_id).await.map(|_| ())
    }
    fn lifetime_secs(&self) -> Option<i64> {
        Some(self.lifetime().whole_seconds())
    }
}

/// Lists a user's active sessions; implemented by [`DatabaseStrategy`].
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
    pub(crate) stateless: bool,
}

impl<U: AuthUser> Clone for AuthBackend<U> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            transport: self.transport.clone(),
            strategy: Arc::clone(&self.strategy),
            refresh: self.refresh.clone(),
            sessions: self.sessions.clone(),
            stateless: self.stateless,
        }
    }
}

impl<U: AuthUser> fmt::Debug for AuthBackend<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthBackend")
            .field("name", &self.name)
            .field("transport", &self.transport)
            .field("revocation", &self.strategy.revocation())
            .field("refresh", &self.refresh.is_some())
            .field("sessions", &self.sessions.is_some())
            .field("stateless", &self.stateless)
            .finish_non_exhaustive()
    }
}

impl<U: AuthUser> AuthBackend<U> {
    /// A backend called `name` (e.g. `"jwt"`) reading tokens from `transport` with `strategy`.
    ///
    /// The strategy must be able to end a token (a database or Redis strategy, a JWT strategy
    /// with a revocation store), or the backend must be declared
    /// [`stateless`](AuthBackend::stateless): `Authward::new` refuses it otherwise.
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
            stateless: false,
        }
    }

    /// Adds refresh tokens (pass the [`RefreshTokens`] itself): login also issues a refresh
    /// token (in the JSON body for bearer, in an `HttpOnly` cookie of its own for the cookie
    /// transport), the auth router gains `POST /refresh`, logout revokes the refresh token's
    /// family, and every revocation of the user's sessions includes its refresh tokens.
    pub fn with_refresh(self, refresh: impl RefreshFlow<U> + 'static) -> Self {
        self.with_refresh_arc(Arc::new(refresh))
    }

    /// [`AuthBackend::with_refresh`] with a shared flow (several backends may share one).
    pub fn with_refresh_arc(mut self, refresh: Arc<dyn RefreshFlow<U>>) -> Self {
        self.refresh = Some(refresh);
        self
    }

    /// Whether the backend issues refresh tokens ([`AuthBackend::with_refresh`]).
    pub fn has_refresh(&self) -> bool {
        self.refresh.is_some()
    }

    /// Adds session listing: the auth router gains `GET /sessions`.
    pub fn with_sessions(mut self, sessions: Arc<dyn SessionList<U::Id>>) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// Accepts that this backend's strategy cannot end a token: FastAPI Users' JWT behaviour,
    /// for a JWT strategy without a revocation store. Then `/logout` answers 204 (and clears
    /// the cookie of a cookie transport) while the token stays valid until it expires,
    /// `/logout-all` is not mounted on any backend, and deactivating a user only pauses its
    /// tokens (they work again if it is reactivated before they expire). A password change or
    /// reset still ends them (the password fingerprint) and so does a deletion.
    pub fn stateless(mut self) -> Self {
        self.stateless = true;
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

    /// The revoker of this backend's refresh tokens, if it has them.
    ///
    /// [`Authward::new`](crate::Authward::new) registers every backend's refresh revoker before
    /// any strategy's: a refresh under way checks the refresh tokens' revocation marks after
    /// writing its access token ([`RefreshTokens::link_issued`]), which closes the race only
    /// when every mark is written before any strategy revokes its access tokens.
    pub(crate) fn refresh_revoker(&self) -> Option<Arc<dyn SessionRevoker<U::Id>>> {
        let refresh = self.refresh.as_ref()?;
        Some(Arc::new(RefreshRevoker(Arc::clone(refresh))))
    }

    /// The revoker of this backend's strategy (pausing its tokens instead when the backend is
    /// stateless).
    pub(crate) fn strategy_revoker(&self) -> Arc<dyn SessionRevoker<U::Id>> {
        let revoker = StrategyRevoker::new(Arc::clone(&self.strategy));
        if self.stateless {
            Arc::new(Pausing(revoker))
        } else {
            Arc::new(revoker)
        }
    }
}

/// The revoker of a stateless backend: a deactivation pauses its tokens (the routes refuse an
/// inactive user) instead of failing.
struct Pausing<U: AuthUser>(StrategyRevoker<U>);

#[async_trait]
impl<U: AuthUser> SessionRevoker<U::Id> for Pausing<U> {
    async fn revoke_all(&self, user_id: &U::Id, reason: RevokeReason) -> Result<(), StrategyError> {
        match self.0.revoke_all(user_id, reason).await {
            Err(StrategyError::RevokeAllNotSupported) if reason == RevokeReason::Deactivated => {
                tracing::warn!(
                    user_id = %user_id,
                    "a stateless backend cannot end the tokens of a deactivated user: they are \
                     refused while the user is inactive and work again if it is reactivated"
                );
                Ok(())
            }
            other => other,
        }
    }
}

struct RefreshRevoker<U: AuthUser>(Arc<dyn RefreshFlow<U>>);

#[async_trait]
impl<U: AuthUser> SessionRevoker<U::Id> for RefreshRevoker<U> {
    async fn revoke_all(
        &self,
        user_id: &U::Id,
        _reason: RevokeReason,
    ) -> Result<(), StrategyError> {
        self.0.revoke_all(user_id).await
    }
}
