//! The OAuth routes' configuration: [`OAuth`] (state secret, state store, CSRF cookie) and the
//! per-router [`LoginOptions`] and [`AssociateOptions`].

use std::fmt;
use std::sync::Arc;

use authward_axum::{Authward, CookieSameSite, HttpUserDb};
use authward_core::OAuthUserDatabase;
use authward_core::manager::MIN_SECRET_BYTES;
use cookie::Cookie;
use time::Duration;

use crate::state::{DEFAULT_STATE_LIFETIME, MemoryStateStore, StateCodec, StateStore};

/// A user store the OAuth routes can serve: an [`HttpUserDb`] that links OAuth accounts
/// ([`OAuthUserDatabase`]) and can create users with default custom fields (sign-up through
/// a provider sets none of them).
pub trait OAuthUserDb: HttpUserDb + OAuthUserDatabase<Extra: Default> {}

impl<DB> OAuthUserDb for DB where DB: HttpUserDb + OAuthUserDatabase<Extra: Default> {}

/// The OAuth configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthConfigError {
    /// The state secret is shorter than [`MIN_SECRET_BYTES`].
    #[error("the OAuth state secret must be at least {MIN_SECRET_BYTES} bytes")]
    SecretTooShort,
    /// The state lifetime is not positive.
    #[error("the OAuth state lifetime must be positive")]
    InvalidLifetime,
    /// No authentication backend has this name.
    #[error("no authentication backend named {0:?}")]
    UnknownBackend(String),
    /// The login backend is a cookie backend with refresh tokens and no
    /// `CookieTransport::refresh_path`: its refresh cookie is scoped to the auth router's path,
    /// which an OAuth callback (mounted elsewhere) cannot know.
    #[error(
        "backend {0:?} sets a refresh cookie: set CookieTransport::refresh_path to its auth \
         router's path (e.g. \"/auth/cookie\") to log in through OAuth with it"
    )]
    RefreshPathUnset(String),
    /// The redirect URL does not parse, or is not absolute http(s).
    #[error("invalid OAuth redirect URL {0:?}: an absolute http or https URL is required")]
    InvalidRedirectUrl(String),
    /// `SameSite=None` without `Secure` (browsers drop such cookies).
    #[error("the CSRF cookie cannot be SameSite=None without Secure")]
    InsecureSameSiteNone,
}

/// The CSRF cookie set by `/authorize` and checked (then cleared) by `/callback`, with
/// FastAPI Users' name and defaults: `fastapiusersoauthcsrf`, `Path=/`, `Secure`, `HttpOnly`,
/// `SameSite=Lax`. Its `Max-Age` is the state lifetime.
///
/// `SameSite=Lax` is what lets the browser send it on the provider's redirect back (a
/// top-level GET); `Strict` would drop it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfCookie {
    /// The name; default `fastapiusersoauthcsrf`.
    pub name: String,
    /// `Path`; default `/`.
    pub path: String,
    /// `Domain`; default none.
    pub domain: Option<String>,
    /// `Secure`; default true.
    pub secure: bool,
    /// `HttpOnly`; default true.
    pub httponly: bool,
    /// `SameSite`; default lax.
    pub samesite: CookieSameSite,
}

impl Default for CsrfCookie {
    fn default() -> Self {
        Self {
            name: "fastapiusersoauthcsrf".into(),
            path: "/".into(),
            domain: None,
            secure: true,
            httponly: true,
            samesite: CookieSameSite::Lax,
        }
    }
}

impl CsrfCookie {
    fn build(&self, value: String, max_age: Duration) -> String {
        let mut cookie = Cookie::build((self.name.clone(), value))
            .path(self.path.clone())
            .secure(self.secure)
            .http_only(self.httponly)
            .same_site(self.samesite.to_cookie())
            .max_age(max_age);
        if let Some(domain) = &self.domain {
            cookie = cookie.domain(domain.clone());
        }
        cookie.build().to_string()
    }

    /// The `Set-Cookie` value storing `token` for `max_age`.
    pub(crate) fn set(&self, token: &str, max_age: Duration) -> String {
        self.build(token.to_owned(), max_age)
    }

    /// The `Set-Cookie` value clearing the cookie.
    pub(crate) fn clear(&self) -> String {
        self.build(String::new(), Duration::ZERO)
    }

    /// The cookie's values in a request (every `Cookie` header; a name may repeat).
    pub(crate) fn values(&self, parts: &axum::http::request::Parts) -> Vec<String> {
        parts
            .headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|header| Cookie::split_parse(header.to_owned()))
            .filter_map(Result::ok)
            .filter(|c| c.name() == self.name)
            .map(|c| c.value().to_owned())
            .collect()
    }
}

/// What every OAuth router of an application shares.
pub(crate) struct Shared {
    pub(crate) codec: StateCodec,
    pub(crate) store: Arc<dyn StateStore>,
    pub(crate) cookie: CsrfCookie,
}

/// Builds an [`OAuth`]; see [`OAuth::builder`].
pub struct OAuthBuilder<DB: OAuthUserDb> {
    aw: Authward<DB>,
    secret: Vec<u8>,
    lifetime: Duration,
    store: Arc<dyn StateStore>,
    cookie: CsrfCookie,
}

impl<DB: OAuthUserDb> fmt::Debug for OAuthBuilder<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthBuilder")
            .field("lifetime", &self.lifetime)
            .field("cookie", &self.cookie)
            .finish_non_exhaustive()
    }
}

impl<DB: OAuthUserDb> OAuthBuilder<DB> {
    /// How long a state (and the CSRF cookie) lives; default one hour, as FastAPI Users (a
    /// lifetime reaching past the calendar's end never expires).
    pub fn state_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Where used states are recorded (default: [`MemoryStateStore`], right for one process
    /// only; see [`StateStore`]).
    pub fn state_store(self, store: impl StateStore) -> Self {
        self.state_store_arc(Arc::new(store))
    }

    /// [`OAuthBuilder::state_store`], shared.
    pub fn state_store_arc(mut self, store: Arc<dyn StateStore>) -> Self {
        self.store = store;
        self
    }

    /// The CSRF cookie's name and attributes.
    pub fn csrf_cookie(mut self, cookie: CsrfCookie) -> Self {
        self.cookie = cookie;
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// A state secret shorter than [`MIN_SECRET_BYTES`], a lifetime that is not positive,
    /// or a `SameSite=None` cookie without `Secure`.
    pub fn build(self) -> Result<OAuth<DB>, OAuthConfigError> {
        if self.secret.len() < MIN_SECRET_BYTES {
            return Err(OAuthConfigError::SecretTooShort);
        }
        if !self.lifetime.is_positive() {
            return Err(OAuthConfigError::InvalidLifetime);
        }
        if self.cookie.samesite == CookieSameSite::None && !self.cookie.secure {
            return Err(OAuthConfigError::InsecureSameSiteNone);
        }
        if !self.aw.manager().keeps_provider_tokens() {
            tracing::info!(
                "no provider token cipher is configured: OAuth accounts are linked without \
                 their provider tokens (UserManagerBuilder::provider_token_cipher keeps them, \
                 encrypted)"
            );
        }
        Ok(OAuth {
            aw: self.aw,
            shared: Arc::new(Shared {
                codec: StateCodec::new(&self.secret, self.lifetime),
                store: self.store,
                cookie: self.cookie,
            }),
        })
    }
}

/// The OAuth routes of an application: FastAPI Users' `get_oauth_router` and
/// `get_oauth_associate_router`, one router per provider, over an [`Authward`].
///
/// Cheap to clone. See the [crate documentation](crate) for a complete example.
pub struct OAuth<DB: OAuthUserDb> {
    pub(crate) aw: Authward<DB>,
    pub(crate) shared: Arc<Shared>,
}

impl<DB: OAuthUserDb> Clone for OAuth<DB> {
    fn clone(&self) -> Self {
        Self {
            aw: self.aw.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<DB: OAuthUserDb> fmt::Debug for OAuth<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("state_lifetime", &self.shared.codec.lifetime)
            .field("cookie", &self.shared.cookie)
            .finish_non_exhaustive()
    }
}

impl<DB: OAuthUserDb> OAuth<DB> {
    /// Starts the configuration: routes over `aw`, signing states with `state_secret` (at
    /// least [`MIN_SECRET_BYTES`] bytes; FastAPI Users' `state_secret`).
    pub fn builder(aw: Authward<DB>, state_secret: impl AsRef<[u8]>) -> OAuthBuilder<DB> {
        OAuthBuilder {
            aw,
            secret: state_secret.as_ref().to_vec(),
            lifetime: DEFAULT_STATE_LIFETIME,
            store: Arc::new(MemoryStateStore::new()),
            cookie: CsrfCookie::default(),
        }
    }

    /// [`OAuth::builder`] with every default.
    ///
    /// # Errors
    /// A state secret shorter than [`MIN_SECRET_BYTES`].
    pub fn new(aw: Authward<DB>, state_secret: impl AsRef<[u8]>) -> Result<Self, OAuthConfigError> {
        Self::builder(aw, state_secret).build()
    }

    /// The [`Authward`] the routes use.
    pub fn authward(&self) -> &Authward<DB> {
        &self.aw
    }
}

/// What the options of every OAuth router hold: where the provider sends the user back,
/// and the scopes it is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlowOptions {
    pub(crate) redirect_url: String,
    pub(crate) scopes: Option<Vec<String>>,
    pub(crate) client_scopes: bool,
}

impl FlowOptions {
    fn new(redirect_url: String) -> Self {
        Self {
            redirect_url,
            scopes: None,
            client_scopes: true,
        }
    }
}

/// The scope setters of an options type, which keeps its [`FlowOptions`] in `flow`.
macro_rules! scope_setters {
    () => {
        /// The scopes requested when the client names none (default: the provider's).
        pub fn scopes<I, S>(mut self, scopes: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            self.flow.scopes = Some(scopes.into_iter().map(Into::into).collect());
            self
        }

        /// Whether `/authorize?scopes=...` may choose the scopes (default true, as FastAPI
        /// Users); when false the configured scopes are always used.
        pub fn client_scopes(mut self, yes: bool) -> Self {
            self.flow.client_scopes = yes;
            self
        }
    };
}

/// Options of [`OAuth::login_router`] (FastAPI Users' `get_oauth_router` arguments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginOptions {
    pub(crate) backend: String,
    pub(crate) flow: FlowOptions,
    pub(crate) associate_by_email: bool,
    pub(crate) is_verified_by_default: bool,
}

impl LoginOptions {
    /// Logs users in through the authentication backend `backend`, with the provider sending
    /// them back to `redirect_url`: the absolute URL of this router's `/callback` (or of the
    /// front-end page that forwards `code` and `state` to it), registered with the provider.
    /// It comes from configuration only; no request can change it.
    pub fn new(backend: impl Into<String>, redirect_url: impl Into<String>) -> Self {
        Self {
            backend: backend.into(),
            flow: FlowOptions::new(redirect_url.into()),
            associate_by_email: false,
            is_verified_by_default: false,
        }
    }

    /// Link the provider account to an existing user with the same email, when the provider
    /// says the email is verified **and** the local user is verified (default off).
    pub fn associate_by_email(mut self, yes: bool) -> Self {
        self.associate_by_email = yes;
        self
    }

    /// Mark users created through this provider as verified when the provider says the email
    /// is verified (default off).
    pub fn is_verified_by_default(mut self, yes: bool) -> Self {
        self.is_verified_by_default = yes;
        self
    }

    scope_setters!();
}

/// Options of [`OAuth::associate_router`] (FastAPI Users' `get_oauth_associate_router`
/// arguments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociateOptions {
    pub(crate) flow: FlowOptions,
    pub(crate) requires_verification: Option<bool>,
}

impl AssociateOptions {
    /// The provider sends the user back to `redirect_url` (this router's `/callback`, from
    /// configuration only).
    pub fn new(redirect_url: impl Into<String>) -> Self {
        Self {
            flow: FlowOptions::new(redirect_url.into()),
            requires_verification: None,
        }
    }

    /// Whether the signed-in user must be verified (403 otherwise); default: the
    /// [`Authward`]'s `requires_verification`.
    pub fn requires_verification(mut self, yes: bool) -> Self {
        self.requires_verification = Some(yes);
        self
    }

    scope_setters!();
}
