//! Several named authentication backends, tried in order.

use std::fmt;
use std::sync::Arc;

use crate::strategy::{Strategy, StrategyError, UserLookup};
use crate::user::AuthUser;

/// Two backends were given the same name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("two authentication backends are named {0:?}")]
pub struct DuplicateBackendName(pub String);

/// The user a request authenticated as, and how.
#[derive(Clone)]
pub struct Authenticated<U> {
    /// The user (possibly inactive: check [`AuthUser::is_active`] where it matters).
    pub user: U,
    /// The name of the backend whose token matched.
    pub backend: String,
    /// The token that matched (the logout route destroys it).
    pub token: String,
}

impl<U: fmt::Debug> fmt::Debug for Authenticated<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticated")
            .field("user", &self.user)
            .field("backend", &self.backend)
            .field("token", &"<redacted>")
            .finish()
    }
}

struct Backend<U> {
    name: String,
    strategy: Arc<dyn Strategy<U>>,
}

/// Named backends (a strategy each), tried in the order they were added; the first that
/// yields a user wins, as in FastAPI Users.
///
/// Transport-agnostic: the caller extracts each backend's token from the request (bearer
/// header, cookie, ...) and passes `(backend name, token)` candidates. If no backend yields a
/// user but one of them failed on storage, that error is returned (so the answer is `503`
/// rather than `401`).
///
/// ```
/// use std::sync::Arc;
/// use authward_core::User;
/// use authward_core::strategy::{Authenticator, JwtStrategy};
/// use time::Duration;
///
/// let jwt = JwtStrategy::<i64>::hs256(b"a secret of at least thirty-two bytes", Duration::hours(1))
///     .unwrap();
/// let auth = Authenticator::<User<i64>>::new()
///     .with_backend("jwt", Arc::new(jwt))
///     .unwrap();
/// assert_eq!(auth.backend_names().collect::<Vec<_>>(), ["jwt"]);
/// ```
pub struct Authenticator<U> {
    backends: Vec<Backend<U>>,
}

impl<U> fmt::Debug for Authenticator<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.backends.iter().map(|b| &b.name))
            .finish()
    }
}

impl<U: AuthUser> Default for Authenticator<U> {
    fn default() -> Self {
        Self::new()
    }
}

impl<U: AuthUser> Authenticator<U> {
    /// No backends yet.
    pub fn new() -> Self {
        Self {
            backends: Vec::new(),
        }
    }

    /// Adds a backend after the existing ones. Names must be unique.
    pub fn with_backend(
        mut self,
        name: impl Into<String>,
        strategy: Arc<dyn Strategy<U>>,
    ) -> Result<Self, DuplicateBackendName> {
        let name = name.into();
        if self.backends.iter().any(|b| b.name == name) {
            return Err(DuplicateBackendName(name));
        }
        self.backends.push(Backend { name, strategy });
        Ok(self)
    }

    /// The backend names, in order.
    pub fn backend_names(&self) -> impl Iterator<Item = &str> {
        self.backends.iter().map(|b| b.name.as_str())
    }

    /// The strategy of the backend called `name`.
    pub fn strategy(&self, name: &str) -> Option<&Arc<dyn Strategy<U>>> {
        self.backends
            .iter()
            .find(|b| b.name == name)
            .map(|b| &b.strategy)
    }

    /// Tries each backend in order with the tokens given for it; the first user wins.
    ///
    /// `candidates` are `(backend name, token)` pairs; a backend may have several (they are
    /// tried in the order given), backends without a candidate are skipped, and candidates
    /// naming no backend are ignored (that is how a request restricts the enabled backends).
    pub async fn authenticate<'a, I>(
        &self,
        candidates: I,
        users: &dyn UserLookup<U>,
    ) -> Result<Option<Authenticated<U>>, StrategyError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let candidates: Vec<(&str, &str)> = candidates.into_iter().collect();
        let mut failure = None;
        for backend in &self.backends {
            for (_, token) in candidates.iter().filter(|(name, _)| *name == backend.name) {
                match backend.strategy.read_token(token, users).await {
                    Ok(Some(user)) => {
                        return Ok(Some(Authenticated {
                            user,
                            backend: backend.name.clone(),
                            token: (*token).to_owned(),
                        }));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }
}
