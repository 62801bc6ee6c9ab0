//! GitHub: OAuth2 without OpenID Connect; the user and their primary email come from its API.

use std::borrow::Cow;
use std::fmt;

use async_trait::async_trait;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::Deserialize;
use url::Url;

use crate::http::HttpClient;
use crate::oidc::{ProviderConfigError, check_name, provider_url};
use crate::provider::{
    AuthorizationRequest, CodeExchange, OAuthProvider, ProviderError, ProviderIdentity, expires_at,
    provider_setters, token_error,
};

/// GitHub (or GitHub Enterprise Server, or anything answering GitHub's API shapes).
///
/// The authorization code is exchanged at GitHub's token endpoint (with PKCE), then
/// `GET /user` gives the account ID and `GET /user/emails` the **primary** address with its
/// `verified` flag (scope `user:email`, requested by default with `read:user`). Without access
/// to `/user/emails`, the public email of `/user` is used, counted as unverified.
///
/// ```
/// use authward_oauth::GitHubProvider;
///
/// let github = GitHubProvider::new("Iv1.client-id", "client-secret");
/// // GitHub Enterprise Server, or a test stub:
/// let enterprise = GitHubProvider::new("id", "secret")
///     .with_endpoints(
///         "https://github.example.com/login/oauth/authorize",
///         "https://github.example.com/login/oauth/access_token",
///     )
///     .unwrap()
///     .with_api_base_url("https://github.example.com/api/v3")
///     .unwrap();
/// # let _ = (github, enterprise);
/// ```
pub struct GitHubProvider {
    name: String,
    client_id: ClientId,
    client_secret: ClientSecret,
    auth_url: AuthUrl,
    token_url: TokenUrl,
    api_base: Url,
    scopes: Vec<String>,
    http: HttpClient,
}

impl fmt::Debug for GitHubProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubProvider")
            .field("name", &self.name)
            .field("client_id", &self.client_id.as_str())
            .field("auth_url", &self.auth_url.as_str())
            .field("token_url", &self.token_url.as_str())
            .field("api_base", &self.api_base.as_str())
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct GitHubUser {
    id: serde_json::Value,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize)]
struct GitHubEmail {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

/// GitHub's API answered something other than what was expected.
#[derive(Debug, thiserror::Error)]
enum ApiFailure {
    #[error("GET {path} answered HTTP {status}")]
    Status { path: &'static str, status: u16 },
    #[error("GET {path}: unexpected body")]
    Parse {
        path: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("GET /user: the id is neither a number nor a string")]
    Id,
}

fn auth_url(text: &str) -> Result<AuthUrl, ProviderConfigError> {
    let url = provider_url("authorize URL", text)?;
    Ok(AuthUrl::from_url(url))
}

fn token_url(text: &str) -> Result<TokenUrl, ProviderConfigError> {
    let url = provider_url("token URL", text)?;
    Ok(TokenUrl::from_url(url))
}

impl GitHubProvider {
    /// github.com, named `github`, requesting `read:user user:email`.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        #[allow(clippy::expect_used)]
        let api_base = Url::parse("https://api.github.com/").expect("a constant URL parses");
        #[allow(clippy::expect_used)]
        let auth = AuthUrl::new("https://github.com/login/oauth/authorize".into())
            .expect("a constant URL parses");
        #[allow(clippy::expect_used)]
        let token = TokenUrl::new("https://github.com/login/oauth/access_token".into())
            .expect("a constant URL parses");
        Self {
            name: "github".into(),
            client_id: ClientId::new(client_id.into()),
            client_secret: ClientSecret::new(client_secret.into()),
            auth_url: auth,
            token_url: token,
            api_base,
            scopes: vec!["read:user".into(), "user:email".into()],
            http: HttpClient::new(),
        }
    }

    /// Another name (the `oauth_name` of its accounts), e.g. for a second GitHub instance.
    ///
    /// # Errors
    /// A name with characters other than letters, digits, `-` and `_`.
    pub fn with_name(mut self, name: impl Into<String>) -> Result<Self, ProviderConfigError> {
        let name = name.into();
        check_name(&name)?;
        self.name = name;
        Ok(self)
    }

    /// Other authorization and token endpoints (GitHub Enterprise Server, a test stub).
    ///
    /// # Errors
    /// A URL that does not parse, or plain `http` off loopback.
    pub fn with_endpoints(
        mut self,
        authorize_url: &str,
        token_url_text: &str,
    ) -> Result<Self, ProviderConfigError> {
        self.auth_url = auth_url(authorize_url)?;
        self.token_url = token_url(token_url_text)?;
        Ok(self)
    }

    /// Another API base URL (default `https://api.github.com/`; Enterprise Server:
    /// `https://<host>/api/v3`).
    ///
    /// # Errors
    /// A URL that does not parse, or plain `http` off loopback.
    pub fn with_api_base_url(mut self, url: &str) -> Result<Self, ProviderConfigError> {
        let mut base = provider_url("API base URL", url)?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        self.api_base = base;
        Ok(self)
    }

    provider_setters!();

    fn redirect(url: &Url) -> RedirectUrl {
        RedirectUrl::from_url(url.clone())
    }

    async fn api<T: for<'de> Deserialize<'de>>(
        &self,
        path: &'static str,
        token: &str,
    ) -> Result<Result<T, ApiFailure>, ProviderError> {
        let url = self
            .api_base
            .join(path.trim_start_matches('/'))
            .map_err(|e| ProviderError::Config(e.to_string()))?;
        let request = self
            .http
            .reqwest()
            .get(url)
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .build()
            .map_err(ProviderError::unavailable)?;
        let response = self.http.send(request).await?;
        if !response.status().is_success() {
            return Ok(Err(ApiFailure::Status {
                path,
                status: response.status().as_u16(),
            }));
        }
        Ok(serde_json::from_slice(response.body())
            .map_err(|source| ApiFailure::Parse { path, source }))
    }
}

#[async_trait]
impl OAuthProvider for GitHubProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn default_scopes(&self) -> Vec<String> {
        self.scopes.clone()
    }

    async fn authorization_url(
        &self,
        request: AuthorizationRequest<'_>,
    ) -> Result<Url, ProviderError> {
        let client = BasicClient::new(self.client_id.clone()).set_auth_uri(self.auth_url.clone());
        let state = request.state.to_owned();
        let (url, _) = client
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(request.scopes.iter().map(|s| Scope::new(s.clone())))
            .add_extra_param("code_challenge", request.pkce_challenge)
            .add_extra_param("code_challenge_method", "S256")
            .set_redirect_uri(Cow::Owned(Self::redirect(request.redirect_url)))
            .url();
        Ok(url)
    }

    async fn exchange(
        &self,
        exchange: CodeExchange<'_>,
    ) -> Result<ProviderIdentity, ProviderError> {
        let client = BasicClient::new(self.client_id.clone())
            .set_client_secret(self.client_secret.clone())
            .set_auth_uri(self.auth_url.clone())
            .set_token_uri(self.token_url.clone())
            .set_auth_type(AuthType::RequestBody);
        let response = client
            .exchange_code(AuthorizationCode::new(exchange.code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(exchange.pkce_verifier.to_owned()))
            .set_redirect_uri(Cow::Owned(Self::redirect(exchange.redirect_url)))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let token = response.access_token().secret();
        let user: GitHubUser = self
            .api("/user", token)
            .await?
            .map_err(ProviderError::unavailable)?;
        let account_id = match user.id {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) if !s.is_empty() => s,
            _ => return Err(ProviderError::unavailable(ApiFailure::Id)),
        };
        let (email, email_verified) =
            match self.api::<Vec<GitHubEmail>>("/user/emails", token).await? {
                Ok(emails) => match emails.into_iter().find(|e| e.primary) {
                    Some(primary) => (Some(primary.email), primary.verified),
                    None => (None, false),
                },
                // No `user:email` scope granted: the public address, unverified.
                Err(ApiFailure::Status {
                    status: 403 | 404, ..
                }) => (user.email, false),
                Err(other) => return Err(ProviderError::unavailable(other)),
            };
        Ok(ProviderIdentity {
            account_id,
            email,
            email_verified,
            access_token: token.clone(),
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
            expires_at: expires_at(response.expires_in()),
        })
    }
}
