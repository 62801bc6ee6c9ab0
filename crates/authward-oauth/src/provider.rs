//! The provider abstraction: what the routes need from an OAuth2 or OpenID Connect provider.

use std::fmt;

use async_trait::async_trait;
use url::Url;

use crate::http::HttpError;

/// What the authorize route asks a provider for.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AuthorizationRequest<'a> {
    /// The callback URL (from configuration, never from the request), registered with the
    /// provider.
    pub redirect_url: &'a Url,
    /// The `state` parameter (authward's signed state).
    pub state: &'a str,
    /// The PKCE code challenge (`S256`, base64url of SHA-256 of the verifier).
    pub pkce_challenge: &'a str,
    /// The OpenID Connect `nonce`; providers without ID tokens ignore it.
    pub nonce: &'a str,
    /// The scopes to request.
    pub scopes: &'a [String],
}

/// What the callback route hands a provider to exchange.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct CodeExchange<'a> {
    /// The callback URL the authorization request named.
    pub redirect_url: &'a Url,
    /// The authorization code from the callback.
    pub code: &'a str,
    /// The PKCE code verifier (known to the server only).
    pub pkce_verifier: &'a str,
    /// The nonce the ID token must carry (OpenID Connect).
    pub nonce: &'a str,
}

impl fmt::Debug for CodeExchange<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeExchange")
            .field("redirect_url", &self.redirect_url.as_str())
            .finish_non_exhaustive()
    }
}

/// Who the provider says the user is, and the tokens it issued.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderIdentity {
    /// The account's stable ID at the provider (OIDC `sub`, GitHub's numeric ID).
    pub account_id: String,
    /// The account's email address, if the provider shared one.
    pub email: Option<String>,
    /// Whether the provider vouches that the address belongs to the account.
    pub email_verified: bool,
    /// The provider access token.
    pub access_token: String,
    /// The provider refresh token, if any.
    pub refresh_token: Option<String>,
    /// When the access token expires, in unix seconds.
    pub expires_at: Option<i64>,
}

impl fmt::Debug for ProviderIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderIdentity")
            .field("account_id", &self.account_id)
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A provider call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The provider refused the request with an OAuth error (`invalid_grant` for a bad,
    /// reused or expired code or a wrong PKCE verifier, ...). The callback answers
    /// 400 `{"detail": "<error>"}`.
    #[error("the provider refused: {error}")]
    Refused {
        /// The OAuth error code.
        error: String,
        /// The provider's description, logged only.
        description: Option<String>,
    },
    /// The ID token failed validation (signature, issuer, audience, nonce, expiry). The
    /// callback answers 400 `OAUTH_INVALID_ID_TOKEN`.
    #[error("the ID token is invalid")]
    InvalidIdToken(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The provider could not be reached, or answered something unusable. The callback
    /// answers 502.
    #[error("the provider is unavailable or answered something unusable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The provider's configuration is unusable (a missing endpoint). The route answers 500.
    #[error("provider configuration: {0}")]
    Config(String),
}

impl ProviderError {
    pub(crate) fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(err))
    }
}

impl From<HttpError> for ProviderError {
    fn from(err: HttpError) -> Self {
        Self::unavailable(err)
    }
}

/// An OAuth2 or OpenID Connect provider, as the routes use it. Implemented by
/// [`OidcProvider`](crate::OidcProvider) and [`GitHubProvider`](crate::GitHubProvider);
/// implement it for any other provider.
///
/// ```
/// use async_trait::async_trait;
/// use authward_oauth::{
///     AuthorizationRequest, CodeExchange, OAuthProvider, ProviderError, ProviderIdentity,
/// };
///
/// struct Acme;
///
/// #[async_trait]
/// impl OAuthProvider for Acme {
///     fn name(&self) -> &str {
///         "acme"
///     }
///     fn default_scopes(&self) -> Vec<String> {
///         vec!["profile".into()]
///     }
///     async fn authorization_url(
///         &self,
///         request: AuthorizationRequest<'_>,
///     ) -> Result<url::Url, ProviderError> {
///         let mut url = url::Url::parse("https://acme.example/authorize")
///             .map_err(|e| ProviderError::Config(e.to_string()))?;
///         url.query_pairs_mut()
///             .append_pair("response_type", "code")
///             .append_pair("client_id", "my-client")
///             .append_pair("redirect_uri", request.redirect_url.as_str())
///             .append_pair("state", request.state)
///             .append_pair("code_challenge", request.pkce_challenge)
///             .append_pair("code_challenge_method", "S256")
///             .append_pair("scope", &request.scopes.join(" "));
///         Ok(url)
///     }
///     async fn exchange(
///         &self,
///         exchange: CodeExchange<'_>,
///     ) -> Result<ProviderIdentity, ProviderError> {
///         // POST the code and the PKCE verifier to the token endpoint, then read the user.
///         # let _ = exchange;
///         # Err(ProviderError::Config("example".into()))
///     }
/// }
/// ```
#[async_trait]
pub trait OAuthProvider: Send + Sync + 'static {
    /// The provider's name: the `oauth_name` of linked accounts and part of route names
    /// (`oauth:<name>.<backend>.authorize`).
    fn name(&self) -> &str;

    /// The scopes requested when the client names none.
    fn default_scopes(&self) -> Vec<String>;

    /// Scopes that are always requested, whatever the client asks for (`openid` for OpenID
    /// Connect).
    fn required_scopes(&self) -> Vec<String> {
        Vec::new()
    }

    /// The URL to send the user to.
    async fn authorization_url(
        &self,
        request: AuthorizationRequest<'_>,
    ) -> Result<Url, ProviderError>;

    /// Exchanges an authorization code (with its PKCE verifier) for tokens and the user's
    /// identity, validating the ID token for OpenID Connect providers.
    async fn exchange(&self, exchange: CodeExchange<'_>)
    -> Result<ProviderIdentity, ProviderError>;
}

/// The setters every built-in provider has, for a type with the fields `scopes: Vec<String>`
/// and `http: HttpClient`.
macro_rules! provider_setters {
    () => {
        /// Replaces the default scopes. The scopes the provider requires
        /// ([`OAuthProvider::required_scopes`](crate::OAuthProvider::required_scopes):
        /// `openid` for OpenID Connect) are requested all the same.
        pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            self.scopes = scopes.into_iter().map(Into::into).collect();
            self
        }

        /// Uses another HTTP client (timeouts, proxies).
        pub fn with_http_client(mut self, http: $crate::HttpClient) -> Self {
            self.http = http;
            self
        }
    };
}
pub(crate) use provider_setters;

/// `Some(unix seconds)` from a token response's `expires_in`.
pub(crate) fn expires_at(expires_in: Option<std::time::Duration>) -> Option<i64> {
    let seconds = i64::try_from(expires_in?.as_secs()).ok()?;
    time::OffsetDateTime::now_utc()
        .unix_timestamp()
        .checked_add(seconds)
}

/// Maps oauth2's token-request errors.
pub(crate) fn token_error<RE, T>(err: oauth2::RequestTokenError<RE, T>) -> ProviderError
where
    RE: std::error::Error + Send + Sync + 'static,
    T: oauth2::ErrorResponse + Send + Sync + 'static,
{
    match err {
        oauth2::RequestTokenError::ServerResponse(response) => {
            // Serialises as {"error": ..., "error_description": ...}.
            let value = serde_json::to_value(&response).unwrap_or_default();
            ProviderError::Refused {
                error: value
                    .get("error")
                    .and_then(|v| v.as_str())
                    .unwrap_or("invalid_request")
                    .to_owned(),
                description: value
                    .get("error_description")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
            }
        }
        oauth2::RequestTokenError::Request(e) => ProviderError::unavailable(e),
        // GitHub answers a refused exchange with 200 and an error body.
        oauth2::RequestTokenError::Parse(e, body) => {
            let refusal = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| {
                    let error = v.get("error")?.as_str()?.to_owned();
                    let description = v
                        .get("error_description")
                        .and_then(|d| d.as_str())
                        .map(str::to_owned);
                    Some(ProviderError::Refused { error, description })
                });
            refusal.unwrap_or_else(|| ProviderError::unavailable(e))
        }
        oauth2::RequestTokenError::Other(text) => ProviderError::Unavailable(text.into()),
    }
}
