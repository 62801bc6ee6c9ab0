//! Extractors for the current user.
//!
//! Backends are tried in order: each one's transport looks for its token, its strategy reads
//! it, and the first user found wins (FastAPI Users' `current_user`). A token that came in a
//! cookie must also pass the CSRF check on state-changing requests.
//!
//! - [`CurrentUser`]`<U>`: an active user, else 401 (with `WWW-Authenticate`);
//!   [`VerifiedUser`] additionally 403 when unverified; [`Superuser`] 403 when not a superuser;
//! - [`MaybeUser`]`<U>`: `None` instead of 401.
//!
//! They work in any router whose state provides an [`AuthResolver`] through `FromRef` (an
//! [`Authward`] does).

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use authward_core::AuthUser;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::{Authward, HttpUserDb, Inner};

/// A user found from a request, with the token and the backend that found it. Its
/// [`Debug`](std::fmt::Debug) hides the token.
#[derive(Clone)]
pub struct Found<U> {
    /// The user.
    pub user: U,
    /// The raw token as presented.
    pub token: String,
    /// Index of the backend that accepted it.
    pub backend: usize,
}

impl<U: std::fmt::Debug> std::fmt::Debug for Found<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Found")
            .field("user", &self.user)
            .field("token", &"<redacted>")
            .field("backend", &self.backend)
            .finish()
    }
}

/// Resolves the user of a request (type-erased, cheap to clone).
pub struct AuthResolver<U> {
    inner: Arc<dyn ResolveUser<U>>,
}

impl<U> Clone for AuthResolver<U> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<U: AuthUser> AuthResolver<U> {
    /// The user of this request, if any backend accepts its token.
    ///
    /// # Errors
    /// 403 when a cookie token fails the CSRF check, 503 when a store is unreachable.
    pub async fn resolve(&self, parts: &Parts) -> Result<Option<Found<U>>, ApiError> {
        self.inner.resolve(parts).await
    }

    /// The user of this request under `requirements`.
    ///
    /// # Errors
    /// 401 without an (active, when required) user, 403 when verification or superuser
    /// rights are required and missing, plus the errors of [`AuthResolver::resolve`].
    pub async fn require(
        &self,
        parts: &Parts,
        requirements: Requirements,
    ) -> Result<Found<U>, ApiError> {
        let unauthorized = ApiError::Unauthorized {
            challenge: Some(self.inner.challenge()),
        };
        let Some(found) = self.resolve(parts).await? else {
            return Err(unauthorized);
        };
        if requirements.active && !found.user.is_active() {
            return Err(unauthorized);
        }
        if (requirements.verified && !found.user.is_verified())
            || (requirements.superuser && !found.user.is_superuser())
        {
            return Err(ApiError::Forbidden);
        }
        Ok(found)
    }
}

/// What a route requires of its user (FastAPI Users' `current_user(...)` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Requirements {
    /// The user must be active (else 401).
    pub active: bool,
    /// The user must be verified (else 403).
    pub verified: bool,
    /// The user must be a superuser (else 403).
    pub superuser: bool,
}

#[async_trait]
trait ResolveUser<U>: Send + Sync {
    async fn resolve(&self, parts: &Parts) -> Result<Option<Found<U>>, ApiError>;
    fn challenge(&self) -> &'static str;
}

#[async_trait]
impl<DB: HttpUserDb> ResolveUser<DB::User> for Inner<DB> {
    async fn resolve(&self, parts: &Parts) -> Result<Option<Found<DB::User>>, ApiError> {
        // Each backend's transport finds its token; the core's `Authenticator` decides.
        let tokens: Vec<(&str, Cow<'_, str>)> = self
            .backends
            .iter()
            .filter_map(|b| b.transport.token_in(parts).map(|t| (b.name.as_str(), t)))
            .collect();
        let candidates = tokens.iter().map(|(name, token)| (*name, token.as_ref()));
        let Some(found) = self
            .authenticator
            .authenticate(candidates, self.manager.db())
            .await?
        else {
            return Ok(None);
        };
        let Some(backend) = self.backend_index(&found.backend) else {
            return Ok(None);
        };
        if self.backends[backend].transport.is_cookie() {
            self.csrf.check(parts)?;
        }
        Ok(Some(Found {
            user: found.user,
            token: found.token,
            backend,
        }))
    }

    fn challenge(&self) -> &'static str {
        self.backends
            .first()
            .map_or("Bearer", |b| b.transport.challenge())
    }
}

impl<DB: HttpUserDb> FromRef<Authward<DB>> for AuthResolver<DB::User> {
    fn from_ref(state: &Authward<DB>) -> Self {
        Self {
            inner: state.inner.clone(),
        }
    }
}

/// The current user, with requirements chosen by const parameters (active by default). Its
/// [`Debug`](std::fmt::Debug) hides the token.
#[derive(Clone)]
pub struct CurrentUser<
    U,
    const ACTIVE: bool = true,
    const VERIFIED: bool = false,
    const SUPERUSER: bool = false,
> {
    /// The user.
    pub user: U,
    /// The raw token the request carried.
    pub token: String,
}

impl<U: std::fmt::Debug, const ACTIVE: bool, const VERIFIED: bool, const SUPERUSER: bool>
    std::fmt::Debug for CurrentUser<U, ACTIVE, VERIFIED, SUPERUSER>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentUser")
            .field("user", &self.user)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// An active, verified user (403 when unverified).
pub type VerifiedUser<U> = CurrentUser<U, true, true, false>;
/// An active superuser (403 otherwise).
pub type Superuser<U> = CurrentUser<U, true, false, true>;
/// Any authenticated user, active or not.
pub type AnyUser<U> = CurrentUser<U, false, false, false>;

impl<S, U, const ACTIVE: bool, const VERIFIED: bool, const SUPERUSER: bool> FromRequestParts<S>
    for CurrentUser<U, ACTIVE, VERIFIED, SUPERUSER>
where
    S: Send + Sync,
    U: AuthUser,
    AuthResolver<U>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let requirements = Requirements {
            active: ACTIVE,
            verified: VERIFIED,
            superuser: SUPERUSER,
        };
        let found = AuthResolver::<U>::from_ref(state)
            .require(parts, requirements)
            .await?;
        Ok(Self {
            user: found.user,
            token: found.token,
        })
    }
}

/// The current user if there is one (any state, active or not), never a 401.
#[derive(Debug, Clone)]
pub struct MaybeUser<U>(pub Option<U>);

impl<S, U> FromRequestParts<S> for MaybeUser<U>
where
    S: Send + Sync,
    U: AuthUser,
    AuthResolver<U>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let found = AuthResolver::<U>::from_ref(state).resolve(parts).await?;
        Ok(Self(found.map(|f| f.user)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_token() {
        let found = Found {
            user: "alice",
            token: "tok-SECRET".to_owned(),
            backend: 0,
        };
        let shown = format!("{found:?}");
        assert!(
            !shown.contains("SECRET") && shown.contains("alice"),
            "{shown}"
        );
        let current: CurrentUser<&str> = CurrentUser {
            user: "alice",
            token: "tok-SECRET".to_owned(),
        };
        let shown = format!("{current:?}");
        assert!(
            !shown.contains("SECRET") && shown.contains("alice"),
            "{shown}"
        );
    }
}
