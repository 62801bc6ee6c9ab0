//! The shared state behind every authward route and extractor.

use std::fmt;
use std::sync::Arc;

use authward_core::manager::RequestInfo;
use authward_core::schema::UserSchema;
use authward_core::strategy::{Authenticator, DuplicateBackendName};
use authward_core::{UserDatabase, UserManager};
use axum::http::header;
use axum::http::request::Parts;

use crate::backend::AuthBackend;
use crate::body::BodyLimit;
use crate::csrf::CsrfPolicy;

/// A user store the routers can serve: any [`UserDatabase`] whose user type declares its JSON
/// shapes ([`UserSchema`], implemented by `User<ID, X>` for `X: UserFields` and by an
/// application's own user type).
pub trait HttpUserDb:
    UserDatabase<User: UserSchema<Extra = <Self as UserDatabase>::Extra>> + 'static
{
}

impl<DB> HttpUserDb for DB where
    DB: UserDatabase<User: UserSchema<Extra = <DB as UserDatabase>::Extra>> + 'static
{
}

/// Everything the routes need: the user manager, the backends in order, and HTTP settings.
///
/// One type parameter, the user store: the user type and its ID follow from it. Cheap to
/// clone (one `Arc`). Build it with [`Authward::new`], then mount its routers (see
/// [`crate::routes`]).
pub struct Authward<DB: HttpUserDb> {
    pub(crate) inner: Arc<Inner<DB>>,
}

pub(crate) struct Inner<DB: HttpUserDb> {
    pub(crate) manager: UserManager<DB>,
    pub(crate) backends: Vec<AuthBackend<DB::User>>,
    /// The same backends' strategies, by name: the one rule that picks the request's user
    /// (first backend with a user wins; a storage failure counts only if none has one).
    pub(crate) authenticator: Authenticator<DB::User>,
    pub(crate) csrf: CsrfPolicy,
    pub(crate) body_limit: BodyLimit,
    pub(crate) requires_verification: bool,
    pub(crate) throttle: Option<crate::throttle::ThrottleConfig>,
    /// Every backend can end every session of a user: `/logout-all` is mounted.
    pub(crate) can_log_out_everywhere: bool,
}

impl<DB: HttpUserDb> Inner<DB> {
    /// The position of the backend called `name`.
    pub(crate) fn backend_index(&self, name: &str) -> Option<usize> {
        self.backends.iter().position(|b| b.name == name)
    }
}

impl<DB: HttpUserDb> Clone for Authward<DB> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<DB: HttpUserDb> fmt::Debug for Authward<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authward")
            .field("backends", &self.inner.backends)
            .field("csrf", &self.inner.csrf)
            .field("requires_verification", &self.inner.requires_verification)
            .field("can_log_out_everywhere", &self.inner.can_log_out_everywhere)
            .finish_non_exhaustive()
    }
}

/// Settings for [`Authward`].
#[derive(Debug, Clone, Default)]
pub struct AuthwardConfig {
    /// Login refuses unverified users and the users routes require verification
    /// (FastAPI Users' `requires_verification`).
    pub requires_verification: bool,
    /// Trusted origins for cookie-authenticated, state-changing requests.
    pub csrf: CsrfPolicy,
    /// Largest accepted request body.
    pub body_limit: BodyLimit,
    /// Rate limits and failed-login delays for the unauthenticated routes (`None`: off).
    pub throttle: Option<crate::throttle::ThrottleConfig>,
}

/// Why an [`Authward`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Two backends share a name.
    #[error(transparent)]
    DuplicateBackend(#[from] DuplicateBackendName),
    /// A backend's strategy cannot end a token, so its `/logout` would answer 204 for nothing.
    #[error(
        "authentication backend {0:?}: its strategy cannot end a token (a JWT strategy without \
         a revocation store?), so logout would not log out. Give the strategy a revocation \
         store, or call AuthBackend::stateless() to accept tokens that live until they expire"
    )]
    CannotRevoke(String),
}

impl<DB: HttpUserDb> Authward<DB> {
    /// Routes over `manager`, authenticating with `backends` tried in order.
    ///
    /// Every backend's strategy (and refresh tokens) is registered with the manager as a
    /// [`SessionRevoker`](authward_core::SessionRevoker), so a password change or reset, a
    /// deactivation, a deletion and `/logout-all` end its sessions without any wiring.
    ///
    /// # Errors
    /// [`BuildError::DuplicateBackend`] when two backends share a name;
    /// [`BuildError::CannotRevoke`] when a backend cannot end a token and is not declared
    /// [`stateless`](AuthBackend::stateless).
    pub fn new(
        manager: UserManager<DB>,
        backends: Vec<AuthBackend<DB::User>>,
        config: AuthwardConfig,
    ) -> Result<Self, BuildError> {
        let mut authenticator = Authenticator::new();
        for backend in &backends {
            authenticator =
                authenticator.with_backend(backend.name.clone(), Arc::clone(&backend.strategy))?;
            if !backend.stateless && !backend.strategy.revocation().logout {
                return Err(BuildError::CannotRevoke(backend.name.clone()));
            }
        }
        // Every refresh revoker before any strategy's: each leaves its revocation marks before a
        // strategy revokes the access tokens a refresh under way may just have written (see
        // `AuthBackend::refresh_revoker`).
        for backend in &backends {
            if let Some(revoker) = backend.refresh_revoker() {
                manager.add_revoker(revoker);
            }
        }
        for (i, backend) in backends.iter().enumerate() {
            // Backends sharing one strategy (bearer and cookie over the same store) register
            // it once.
            let first_use = !backends[..i]
                .iter()
                .any(|b| Arc::ptr_eq(&b.strategy, &backend.strategy));
            if first_use {
                manager.add_revoker(backend.strategy_revoker());
            }
        }
        let can_log_out_everywhere = backends.iter().all(|b| b.strategy.revocation().revoke_all);
        Ok(Self {
            inner: Arc::new(Inner {
                manager,
                backends,
                authenticator,
                csrf: config.csrf,
                body_limit: config.body_limit,
                requires_verification: config.requires_verification,
                throttle: config.throttle,
                can_log_out_everywhere,
            }),
        })
    }

    /// The user manager.
    pub fn manager(&self) -> &UserManager<DB> {
        &self.inner.manager
    }

    /// The backend called `name`.
    pub fn backend(&self, name: &str) -> Option<&AuthBackend<DB::User>> {
        self.inner.backends.iter().find(|b| b.name == name)
    }

    /// Whether `/logout-all` is served: every backend can end every session of a user.
    pub fn can_log_out_everywhere(&self) -> bool {
        self.inner.can_log_out_everywhere
    }

    /// Whether login and the user routes require a verified user
    /// ([`AuthwardConfig::requires_verification`]).
    pub fn requires_verification(&self) -> bool {
        self.inner.requires_verification
    }

    /// The largest accepted request body.
    pub fn body_limit(&self) -> BodyLimit {
        self.inner.body_limit
    }

    /// The CSRF policy for cookie-authenticated requests.
    pub fn csrf_policy(&self) -> &CsrfPolicy {
        &self.inner.csrf
    }

    /// The backend names, in the order they are tried.
    pub fn backend_names(&self) -> impl Iterator<Item = &str> {
        self.inner.backends.iter().map(|b| b.name.as_str())
    }
}

impl<DB: HttpUserDb> Authward<DB> {
    /// Spends one request of `class` (see [`crate::throttle`]); `429` when over budget.
    /// Public for authward-oauth's callbacks; not part of the API.
    #[doc(hidden)]
    pub async fn throttle(
        &self,
        class: crate::throttle::RouteClass,
        parts: &Parts,
        account: Option<&str>,
    ) -> Result<(), crate::error::ApiError> {
        match &self.inner.throttle {
            Some(throttle) => throttle.check(class, parts, account).await,
            None => Ok(()),
        }
    }

    /// Records a login's outcome for the account's failed-login delay.
    pub(crate) async fn login_outcome(&self, account: &str, success: bool) {
        if let Some(throttle) = &self.inner.throttle {
            throttle.login_outcome(account, success).await;
        }
    }
}

/// What hooks learn about the request (its `User-Agent`). Public for authward-oauth's
/// routes, which hand it to the same hooks; not part of the API.
#[doc(hidden)]
pub fn request_info(parts: &Parts) -> RequestInfo {
    let mut info = RequestInfo::new();
    if let Some(agent) = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
    {
        info = info.with_user_agent(agent);
    }
    info
}
