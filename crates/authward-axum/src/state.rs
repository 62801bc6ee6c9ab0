//! The shared state behind every authward route and extractor.

use std::fmt;
use std::sync::Arc;

use authward_core::manager::RequestInfo;
use authward_core::{User, UserDatabase, UserId, UserManager};
use axum::http::header;
use axum::http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend::AuthBackend;
use crate::body::BodyLimit;
use crate::csrf::CsrfPolicy;

/// The application's custom user fields, as the HTTP layer needs them: read from and written
/// to JSON next to the standard fields.
pub trait ExtraFields:
    Clone + Default + Serialize + DeserializeOwned + Send + Sync + 'static
{
}
impl<X: Clone + Default + Serialize + DeserializeOwned + Send + Sync + 'static> ExtraFields for X {}

/// A user store the routers can serve: one holding `authward_core::User<ID, X>`.
pub trait HttpUserDb<ID: UserId, X: ExtraFields>:
    UserDatabase<ID, User = User<ID, X>, Extra = X> + 'static
{
}
impl<ID: UserId, X: ExtraFields, DB> HttpUserDb<ID, X> for DB where
    DB: UserDatabase<ID, User = User<ID, X>, Extra = X> + 'static
{
}

/// Everything the routes need: the user manager, the backends in order, and HTTP settings.
///
/// Cheap to clone (one `Arc`). Build it with [`Authward::new`] and the `with_*` methods, then
/// mount its routers (see [`crate::routes`]).
pub struct Authward<ID: UserId, X: ExtraFields, DB: HttpUserDb<ID, X>> {
    pub(crate) inner: Arc<Inner<ID, X, DB>>,
}

pub(crate) struct Inner<ID: UserId, X: ExtraFields, DB: HttpUserDb<ID, X>> {
    pub(crate) manager: UserManager<ID, DB>,
    pub(crate) backends: Vec<AuthBackend<User<ID, X>>>,
    pub(crate) csrf: CsrfPolicy,
    pub(crate) body_limit: BodyLimit,
    pub(crate) requires_verification: bool,
}

impl<ID: UserId, X: ExtraFields, DB: HttpUserDb<ID, X>> Clone for Authward<ID, X, DB> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<ID: UserId, X: ExtraFields, DB: HttpUserDb<ID, X>> fmt::Debug for Authward<ID, X, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authward")
            .field("backends", &self.inner.backends)
            .field("csrf", &self.inner.csrf)
            .field("requires_verification", &self.inner.requires_verification)
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
}

impl<ID: UserId, X: ExtraFields, DB: HttpUserDb<ID, X>> Authward<ID, X, DB> {
    /// Routes over `manager`, authenticating with `backends` tried in order.
    ///
    /// # Errors
    /// [`DuplicateBackend`] when two backends share a name.
    pub fn new(
        manager: UserManager<ID, DB>,
        backends: Vec<AuthBackend<User<ID, X>>>,
        config: AuthwardConfig,
    ) -> Result<Self, DuplicateBackend> {
        for (i, backend) in backends.iter().enumerate() {
            if backends[..i].iter().any(|b| b.name == backend.name) {
                return Err(DuplicateBackend(backend.name.clone()));
            }
        }
        Ok(Self {
            inner: Arc::new(Inner {
                manager,
                backends,
                csrf: config.csrf,
                body_limit: config.body_limit,
                requires_verification: config.requires_verification,
            }),
        })
    }

    /// The user manager.
    pub fn manager(&self) -> &UserManager<ID, DB> {
        &self.inner.manager
    }

    /// The backend called `name`.
    pub fn backend(&self, name: &str) -> Option<&AuthBackend<User<ID, X>>> {
        self.inner.backends.iter().find(|b| b.name == name)
    }
}

/// Two backends were given the same name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("two authentication backends are named {0:?}")]
pub struct DuplicateBackend(pub String);

/// What hooks learn about the request.
pub(crate) fn request_info(parts: &Parts) -> RequestInfo {
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
