//! `GET /authorize` and `GET /callback`, for login and for association.

use std::sync::Arc;

use authward_axum::state::request_info;
use authward_axum::{ApiError, AuthResolver, ErrorCode, Requirements, RouteClass, Transport};
use authward_core::manager::OAuthLoginOptions;
use authward_core::schema::UserSchema;
use authward_core::{AuthUser, DbError, ManagerError, NewOAuthAccount};
use axum::Router;
use axum::extract::{FromRef, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use subtle::ConstantTimeEq as _;
use url::Url;

use crate::config::{
    AssociateOptions, FlowOptions, LoginOptions, OAuth, OAuthConfigError, OAuthUserDb, Shared,
};
use crate::provider::{AuthorizationRequest, CodeExchange, OAuthProvider, ProviderError};
use crate::state::{StateClaims, StateError, random_token};

/// The longest authorization code accepted (Microsoft's run to about 1.5 KB).
pub(crate) const MAX_CODE_BYTES: usize = 4096;
/// The longest `error` echoed back.
const MAX_ERROR_BYTES: usize = 256;
/// At most this many scopes, each at most [`MAX_SCOPE_BYTES`].
const MAX_SCOPES: usize = 32;
const MAX_SCOPE_BYTES: usize = 256;

/// `detail` when the provider refused the token request without a usable error code.
pub const DETAIL_INVALID_ID_TOKEN: &str = "OAUTH_INVALID_ID_TOKEN";

/// An error answer: an authward one, or `{"detail": <text>}` with a status.
#[derive(Debug)]
pub(crate) enum Failure {
    Api(ApiError),
    Detail(StatusCode, String),
}

impl From<ApiError> for Failure {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl Failure {
    fn code(code: ErrorCode) -> Self {
        Self::Api(ApiError::BadRequest(code))
    }

    fn bad_request() -> Self {
        Self::Detail(StatusCode::BAD_REQUEST, "Bad Request".into())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Self::Api(err) => err.into_response(),
            Self::Detail(status, detail) => {
                (status, axum::Json(json!({ "detail": detail }))).into_response()
            }
        }
    }
}

fn db_failure(err: &DbError) -> Failure {
    Failure::Api(ApiError::from(err))
}

fn manager_failure(err: ManagerError) -> Failure {
    match err {
        ManagerError::UserAlreadyExists => Failure::code(ErrorCode::OAuthUserAlreadyExists),
        ManagerError::OAuthAccountAlreadyLinked => {
            Failure::code(ErrorCode::OAuthAccountAlreadyLinked)
        }
        ManagerError::InvalidEmail { .. } => Failure::code(ErrorCode::OAuthNotAvailableEmail),
        ManagerError::UserNotExists => Failure::bad_request(),
        ManagerError::Db(e) => db_failure(&e),
        other => {
            tracing::error!(error = ?other, "user manager error in an OAuth callback");
            Failure::Api(ApiError::Internal)
        }
    }
}

fn provider_failure(err: ProviderError) -> Failure {
    match err {
        ProviderError::Refused { error, description } => {
            tracing::info!(%error, ?description, "the provider refused the code exchange");
            Failure::Detail(StatusCode::BAD_REQUEST, sanitize_error(&error))
        }
        ProviderError::InvalidIdToken(source) => {
            tracing::warn!(error = %source, "the provider's ID token is invalid");
            Failure::Detail(StatusCode::BAD_REQUEST, DETAIL_INVALID_ID_TOKEN.into())
        }
        ProviderError::Unavailable(source) => {
            tracing::warn!(error = %source, "OAuth provider unavailable");
            Failure::Detail(StatusCode::BAD_GATEWAY, "Bad Gateway".into())
        }
        ProviderError::Config(text) => {
            tracing::error!(error = %text, "OAuth provider misconfigured");
            Failure::Api(ApiError::Internal)
        }
    }
}

/// An OAuth error code as echoed back: the characters RFC 6749 allows, bounded.
fn sanitize_error(error: &str) -> String {
    let clean: String = error
        .chars()
        .filter(|c| matches!(c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e'))
        .take(MAX_ERROR_BYTES)
        .collect();
    if clean.is_empty() {
        "Bad Request".into()
    } else {
        clean
    }
}

/// The query's values of `name`, in order.
fn query_values(query: Option<&str>, name: &str) -> Result<Vec<String>, Failure> {
    let Some(query) = query else {
        return Ok(Vec::new());
    };
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|_| Failure::bad_request())?;
    Ok(pairs
        .into_iter()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value)
        .collect())
}

fn first(query: Option<&str>, name: &str) -> Result<Option<String>, Failure> {
    Ok(query_values(query, name)?.into_iter().next())
}

/// Which router a flow serves.
enum Kind {
    Login {
        backend: String,
        options: OAuthLoginOptions,
    },
    Associate {
        requires_verification: bool,
    },
}

/// One router's state: a provider, its redirect URL and what the callback does.
struct Flow<DB: OAuthUserDb> {
    oauth: OAuth<DB>,
    provider: Arc<dyn OAuthProvider>,
    redirect_url: Url,
    scopes: Vec<String>,
    client_scopes: bool,
    kind: Kind,
}

fn redirect_url(text: &str) -> Result<Url, OAuthConfigError> {
    match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(url),
        _ => Err(OAuthConfigError::InvalidRedirectUrl(text.to_owned())),
    }
}

impl<DB: OAuthUserDb> OAuth<DB> {
    /// FastAPI Users' `get_oauth_router`: `GET /authorize` and `GET /callback` logging users
    /// in through `provider` with the backend `options.backend`. Mount it at
    /// `/auth/<provider>`.
    ///
    /// # Errors
    /// An unknown backend, a cookie backend with refresh tokens and no
    /// `CookieTransport::refresh_path` ([`OAuthConfigError::RefreshPathUnset`]), or a redirect
    /// URL that is not an absolute http(s) URL.
    pub fn login_router(
        &self,
        provider: Arc<dyn OAuthProvider>,
        options: LoginOptions,
    ) -> Result<Router, OAuthConfigError> {
        let Some(backend) = self.aw.backend(&options.backend) else {
            return Err(OAuthConfigError::UnknownBackend(options.backend));
        };
        if backend.has_refresh()
            && matches!(backend.transport(), Transport::Cookie(cookie) if cookie.refresh_path.is_none())
        {
            return Err(OAuthConfigError::RefreshPathUnset(options.backend));
        }
        let kind = Kind::Login {
            backend: options.backend,
            options: OAuthLoginOptions {
                associate_by_email: options.associate_by_email,
                is_verified_by_default: options.is_verified_by_default,
            },
        };
        Ok(Flow::new(self, provider, options.flow, kind)?.router())
    }

    /// FastAPI Users' `get_oauth_associate_router`: `GET /authorize` and `GET /callback`
    /// linking a `provider` account to the signed-in user, answering the user. Mount it at
    /// `/auth/associate/<provider>`.
    ///
    /// # Errors
    /// A redirect URL that is not an absolute http(s) URL.
    pub fn associate_router(
        &self,
        provider: Arc<dyn OAuthProvider>,
        options: AssociateOptions,
    ) -> Result<Router, OAuthConfigError> {
        let kind = Kind::Associate {
            requires_verification: options
                .requires_verification
                .unwrap_or_else(|| self.aw.requires_verification()),
        };
        Ok(Flow::new(self, provider, options.flow, kind)?.router())
    }
}

impl<DB: OAuthUserDb> Flow<DB> {
    /// The flow of one router: `options` checked, the provider's scopes by default.
    fn new(
        oauth: &OAuth<DB>,
        provider: Arc<dyn OAuthProvider>,
        options: FlowOptions,
        kind: Kind,
    ) -> Result<Self, OAuthConfigError> {
        Ok(Self {
            oauth: oauth.clone(),
            redirect_url: redirect_url(&options.redirect_url)?,
            scopes: options.scopes.unwrap_or_else(|| provider.default_scopes()),
            provider,
            client_scopes: options.client_scopes,
            kind,
        })
    }

    fn router(self) -> Router {
        let flow = Arc::new(self);
        Router::new()
            .route(
                "/authorize",
                get(
                    |State(flow): State<Arc<Self>>, RawQuery(query): RawQuery, parts: Parts| async move {
                        flow.authorize(query.as_deref(), &parts)
                            .await
                            .unwrap_or_else(IntoResponse::into_response)
                    },
                ),
            )
            .route(
                "/callback",
                get(
                    |State(flow): State<Arc<Self>>, RawQuery(query): RawQuery, parts: Parts| async move {
                        let mut response = flow
                            .callback(query.as_deref(), &parts)
                            .await
                            .unwrap_or_else(IntoResponse::into_response);
                        // The CSRF cookie has served: cleared after every callback.
                        if let Ok(value) = HeaderValue::from_str(&flow.shared().cookie.clear()) {
                            response.headers_mut().append(header::SET_COOKIE, value);
                        }
                        response
                    },
                ),
            )
            .with_state(flow)
    }

    fn shared(&self) -> &Shared {
        &self.oauth.shared
    }

    fn requirements(&self) -> Option<Requirements> {
        match self.kind {
            Kind::Login { .. } => None,
            Kind::Associate {
                requires_verification,
            } => Some(Requirements {
                active: true,
                verified: requires_verification,
                superuser: false,
            }),
        }
    }

    /// The signed-in user of an associate route (401 / 403 otherwise); `None` for login.
    async fn associating_user(&self, parts: &Parts) -> Result<Option<DB::User>, Failure> {
        let Some(requirements) = self.requirements() else {
            return Ok(None);
        };
        let found = AuthResolver::from_ref(&self.oauth.aw)
            .require(parts, requirements)
            .await?;
        Ok(Some(found.user))
    }

    /// The scopes of an authorization request.
    fn scopes(&self, query: Option<&str>) -> Result<Vec<String>, Failure> {
        let asked = if self.client_scopes {
            query_values(query, "scopes")?
        } else {
            Vec::new()
        };
        if asked.len() > MAX_SCOPES
            || asked.iter().any(|s| {
                s.is_empty()
                    || s.len() > MAX_SCOPE_BYTES
                    || !s
                        .bytes()
                        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
            })
        {
            return Err(Failure::bad_request());
        }
        let mut scopes = if asked.is_empty() {
            self.scopes.clone()
        } else {
            asked
        };
        for required in self.provider.required_scopes() {
            if !scopes.contains(&required) {
                scopes.insert(0, required);
            }
        }
        Ok(scopes)
    }

    #[tracing::instrument(level = "debug", name = "authward.oauth.authorize", skip_all, fields(provider = self.provider.name()))]
    async fn authorize(&self, query: Option<&str>, parts: &Parts) -> Result<Response, Failure> {
        let user = self.associating_user(parts).await?;
        let scopes = self.scopes(query)?;
        let shared = self.shared();
        let csrf = random_token();
        let now = self.oauth.aw.manager().clock().now();
        let (state, claims) = shared
            .codec
            .issue(&csrf, user.map(|u| u.id().to_string()), now)
            .map_err(|e| {
                tracing::error!(error = %e, "signing an OAuth state failed");
                Failure::Api(ApiError::Internal)
            })?;
        let url = self
            .provider
            .authorization_url(AuthorizationRequest {
                redirect_url: &self.redirect_url,
                state: &state,
                pkce_challenge: &shared.codec.pkce_challenge(&claims),
                nonce: &shared.codec.nonce(&claims),
                scopes: &scopes,
            })
            .await
            .map_err(provider_failure)?;
        let mut response = (
            StatusCode::OK,
            axum::Json(json!({ "authorization_url": url.as_str() })),
        )
            .into_response();
        let cookie = shared.cookie.set(&csrf, shared.codec.lifetime);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        Ok(response)
    }

    /// Checks a callback's state before anything reaches the provider: signature, algorithm,
    /// audience, expiry, the double-submit CSRF cookie, the associate flow's user, and that
    /// it has not been used. The use is recorded by [`Self::record_use`], once the provider
    /// has accepted the code.
    async fn check_state(
        &self,
        state: Option<&str>,
        parts: &Parts,
        user: Option<&DB::User>,
    ) -> Result<StateClaims, Failure> {
        let shared = self.shared();
        let now = self.oauth.aw.manager().clock().now();
        let claims = shared
            .codec
            .decode(state.unwrap_or_default(), now)
            .map_err(|err| match err {
                StateError::Decode => Failure::code(ErrorCode::AccessTokenDecodeError),
                StateError::Expired => Failure::code(ErrorCode::AccessTokenAlreadyExpired),
            })?;
        let cookies = shared.cookie.values(parts);
        let matches = cookies
            .iter()
            .any(|value| bool::from(value.as_bytes().ct_eq(claims.csrftoken.as_bytes())));
        if !matches {
            return Err(Failure::code(ErrorCode::OAuthInvalidState));
        }
        match (user, &claims.sub) {
            (Some(user), Some(sub)) if *sub == user.id().to_string() => {}
            (Some(_), _) => return Err(Failure::bad_request()),
            // A state made for association cannot log anybody in.
            (None, Some(_)) => return Err(Failure::code(ErrorCode::OAuthInvalidState)),
            (None, None) => {}
        }
        match shared.store.is_used(&claims.jti).await {
            Ok(false) => Ok(claims),
            Ok(true) => Err(Failure::code(ErrorCode::OAuthInvalidState)),
            Err(e) => Err(db_failure(&e)),
        }
    }

    /// Records the state's use once the provider has accepted its code: a state counts
    /// against the used-state store only for a login completed at the provider, and of two
    /// callbacks racing with one state, one goes on.
    async fn record_use(&self, claims: &StateClaims) -> Result<(), Failure> {
        let shared = self.shared();
        // The state is unexpired, so an `exp` out of range lies past the calendar's end.
        let expires = time::OffsetDateTime::from_unix_timestamp(claims.exp)
            .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc());
        match shared.store.first_use(&claims.jti, expires).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Failure::code(ErrorCode::OAuthInvalidState)),
            Err(e) => Err(db_failure(&e)),
        }
    }

    #[tracing::instrument(level = "debug", name = "authward.oauth.callback", skip_all, fields(provider = self.provider.name()))]
    async fn callback(&self, query: Option<&str>, parts: &Parts) -> Result<Response, Failure> {
        // Before anything is read, recorded or sent to the provider.
        self.oauth
            .aw
            .throttle(RouteClass::OAuthCallback, parts, None)
            .await?;
        let user = self.associating_user(parts).await?;
        if let Some(error) = first(query, "error")? {
            return Err(Failure::Detail(
                StatusCode::BAD_REQUEST,
                sanitize_error(&error),
            ));
        }
        let Some(code) = first(query, "code")?.filter(|c| !c.is_empty()) else {
            return Err(Failure::bad_request());
        };
        if code.len() > MAX_CODE_BYTES {
            return Err(Failure::bad_request());
        }
        let state = first(query, "state")?;
        let claims = self
            .check_state(state.as_deref(), parts, user.as_ref())
            .await?;
        let codec = &self.shared().codec;
        let identity = self
            .provider
            .exchange(CodeExchange {
                redirect_url: &self.redirect_url,
                code: &code,
                pkce_verifier: &codec.pkce_verifier(&claims),
                nonce: &codec.nonce(&claims),
            })
            .await
            .map_err(provider_failure)?;
        self.record_use(&claims).await?;
        let Some(email) = identity.email.filter(|e| !e.trim().is_empty()) else {
            return Err(Failure::code(ErrorCode::OAuthNotAvailableEmail));
        };
        let account = NewOAuthAccount {
            oauth_name: self.provider.name().to_owned(),
            access_token: identity.access_token,
            expires_at: identity.expires_at,
            refresh_token: identity.refresh_token,
            account_id: identity.account_id,
            account_email: email,
        };
        let manager = self.oauth.aw.manager();
        let info = request_info(parts);
        match (&self.kind, user) {
            (Kind::Login { backend, options }, _) => {
                let user = manager
                    .oauth_callback(account, identity.email_verified, *options, Some(&info))
                    .await
                    .map_err(manager_failure)?;
                if !user.is_active() {
                    return Err(Failure::code(ErrorCode::LoginBadCredentials));
                }
                if self.oauth.aw.requires_verification() && !user.is_verified() {
                    return Err(Failure::code(ErrorCode::LoginUserNotVerified));
                }
                Ok(self.oauth.aw.login_response(backend, &user, parts).await?)
            }
            (Kind::Associate { .. }, Some(user)) => {
                let user = manager
                    .oauth_associate_callback(&user, account, Some(&info))
                    .await
                    .map_err(manager_failure)?;
                Ok(axum::Json(user.read()).into_response())
            }
            (Kind::Associate { .. }, None) => Err(Failure::Api(ApiError::Unauthorized {
                challenge: Some("Bearer"),
            })),
        }
    }
}

#[cfg(test)]
mod tests;
