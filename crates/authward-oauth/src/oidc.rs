//! Generic OpenID Connect providers by discovery, and the Google, Microsoft and GitLab presets.
//!
//! Over 500 lines on purpose: discovery, the cached key set and the ID token checks of one
//! provider type read best together (its tests are in `oidc/tests.rs`).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine as _;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeVerifier, RedirectUrl, Scope, SignatureVerificationError, TokenResponse,
};
use tokio::sync::Mutex;
use url::Url;

use crate::http::HttpClient;
use crate::provider::{
    AuthorizationRequest, CodeExchange, OAuthProvider, ProviderError, ProviderIdentity, expires_at,
    provider_setters, token_error,
};

type Discovered = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The shortest time between two re-discoveries prompted by an ID token signed with an
/// unknown key (the provider rotated its keys).
const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// The signature algorithms accepted for ID tokens: asymmetric only (never `none`, never an
/// HMAC keyed with the client secret).
const ID_TOKEN_ALGORITHMS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// How the ID token's issuer is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum IssuerCheck {
    /// Exactly the configured issuer (the discovery document must name it too).
    Exact,
    /// Microsoft's multi-tenant endpoints (`common`, `organizations`, `consumers`): the
    /// document names `https://login.microsoftonline.com/{tenantid}/v2.0`, and each token's
    /// `iss` must be that template with the token's own `tid`.
    MicrosoftTenant,
}

/// An error reading the discovery document.
#[derive(Debug, thiserror::Error)]
enum DiscoveryFailure {
    #[error("discovery document answered HTTP {0}")]
    Status(u16),
    #[error("discovery document is not valid provider metadata")]
    Parse(#[source] serde_json::Error),
    #[error("discovery document names issuer {found:?}, expected {expected:?}")]
    IssuerMismatch { expected: String, found: String },
    #[error("fetching the JWKS failed: {0}")]
    Jwks(String),
}

struct Cached {
    client: Arc<Discovered>,
    fetched: Instant,
}

/// A generic OpenID Connect provider, configured by discovery
/// (`<issuer>/.well-known/openid-configuration`).
///
/// Discovery happens on first use and is cached (call [`OidcProvider::discover`] at startup to
/// fail fast). Every ID token is validated: signature against the provider's JWKS
/// (asymmetric algorithms only), issuer, audience (and `azp` with several audiences), expiry,
/// and the nonce of its authorization request. When a token is signed with a key the cached
/// JWKS lacks, the document and keys are fetched again (at most once a minute), so a key
/// rotation needs no restart. The email comes from the ID token, or from the userinfo
/// endpoint when the token has none.
///
/// ```
/// use authward_oauth::OidcProvider;
///
/// let keycloak = OidcProvider::new(
///     "keycloak",
///     "https://sso.example.com/realms/main",
///     "my-client-id",
///     Some("my-client-secret".into()),
/// )
/// .unwrap();
/// let google = OidcProvider::google("id.apps.googleusercontent.com", "secret").unwrap();
/// # let _ = (keycloak, google);
/// ```
pub struct OidcProvider {
    name: String,
    issuer: IssuerUrl,
    issuer_check: IssuerCheck,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    scopes: Vec<String>,
    http: HttpClient,
    cache: Mutex<Option<Cached>>,
}

impl fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcProvider")
            .field("name", &self.name)
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id.as_str())
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// A provider configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderConfigError {
    /// A URL does not parse.
    #[error("{what}: not a valid URL: {url}")]
    InvalidUrl {
        /// Which URL.
        what: &'static str,
        /// The text given.
        url: String,
    },
    /// A URL is plain `http` on a host other than loopback.
    #[error("{what} must use https (plain http is accepted on loopback only): {url}")]
    Insecure {
        /// Which URL.
        what: &'static str,
        /// The text given.
        url: String,
    },
    /// The provider name is empty or has characters unfit for a URL path or route name.
    #[error("provider name {0:?}: use letters, digits, '-' and '_'")]
    InvalidName(String),
}

/// Checks a provider URL: it parses, and is https unless its host is loopback.
pub(crate) fn provider_url(what: &'static str, text: &str) -> Result<Url, ProviderConfigError> {
    let url = Url::parse(text).map_err(|_| ProviderConfigError::InvalidUrl {
        what,
        url: text.to_owned(),
    })?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(ProviderConfigError::Insecure {
            what,
            url: text.to_owned(),
        }),
    }
}

pub(crate) fn check_name(name: &str) -> Result<(), ProviderConfigError> {
    if name.is_empty()
        || name.len() > 100
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ProviderConfigError::InvalidName(name.to_owned()));
    }
    Ok(())
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(String::from).to_vec()
}

impl OidcProvider {
    /// A provider named `name` (the `oauth_name` of its accounts, e.g. `"google"`) whose
    /// issuer is `issuer`, with the client registered there. Requests `openid email profile`
    /// by default. Nothing is fetched until first use.
    ///
    /// # Errors
    /// An invalid name, an issuer that is not a URL, or plain `http` off loopback.
    pub fn new(
        name: impl Into<String>,
        issuer: &str,
        client_id: impl Into<String>,
        client_secret: Option<String>,
    ) -> Result<Self, ProviderConfigError> {
        let name = name.into();
        check_name(&name)?;
        provider_url("issuer", issuer)?;
        let issuer =
            IssuerUrl::new(issuer.to_owned()).map_err(|_| ProviderConfigError::InvalidUrl {
                what: "issuer",
                url: issuer.to_owned(),
            })?;
        Ok(Self {
            name,
            issuer,
            issuer_check: IssuerCheck::Exact,
            client_id: ClientId::new(client_id.into()),
            client_secret: client_secret.map(ClientSecret::new),
            scopes: default_scopes(),
            http: HttpClient::new(),
            cache: Mutex::new(None),
        })
    }

    /// Google (`https://accounts.google.com`), named `google`.
    ///
    /// # Errors
    /// Never in practice (the issuer is fixed); kept for symmetry with [`OidcProvider::new`].
    pub fn google(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Result<Self, ProviderConfigError> {
        Self::new(
            "google",
            "https://accounts.google.com",
            client_id,
            Some(client_secret.into()),
        )
    }

    /// Microsoft Entra ID (`https://login.microsoftonline.com/<tenant>/v2.0`), named
    /// `microsoft`. `tenant` is a tenant ID or domain, or `common`, `organizations` or
    /// `consumers` for multi-tenant applications: then each ID token's issuer must be
    /// Microsoft's issuer for the token's own tenant (`tid`).
    ///
    /// Microsoft's ID tokens do not carry `email_verified`, so its emails count as unverified:
    /// no association by email, and new users are not marked verified.
    ///
    /// # Errors
    /// A tenant with characters unfit for a URL path.
    pub fn microsoft(
        tenant: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Result<Self, ProviderConfigError> {
        if tenant.is_empty()
            || !tenant
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(ProviderConfigError::InvalidUrl {
                what: "microsoft tenant",
                url: tenant.to_owned(),
            });
        }
        let mut provider = Self::new(
            "microsoft",
            &format!("https://login.microsoftonline.com/{tenant}/v2.0"),
            client_id,
            Some(client_secret.into()),
        )?;
        if matches!(tenant, "common" | "organizations" | "consumers") {
            provider.issuer_check = IssuerCheck::MicrosoftTenant;
        }
        Ok(provider)
    }

    /// GitLab.com (`https://gitlab.com`), named `gitlab`. For a self-managed instance use
    /// [`OidcProvider::new`] with its URL.
    ///
    /// # Errors
    /// Never in practice (the issuer is fixed).
    pub fn gitlab(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Result<Self, ProviderConfigError> {
        Self::new(
            "gitlab",
            "https://gitlab.com",
            client_id,
            Some(client_secret.into()),
        )
    }

    provider_setters!();

    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    /// Fetches the discovery document and the JWKS now (they are cached), so a wrong issuer
    /// or an unreachable provider shows at startup rather than at the first login.
    ///
    /// # Errors
    /// [`ProviderError::Unavailable`] when the provider cannot be reached or its document is
    /// unusable (for example it names another issuer).
    pub async fn discover(&self) -> Result<(), ProviderError> {
        self.client(false).await.map(|_| ())
    }

    async fn fetch(&self) -> Result<Discovered, ProviderError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.as_str().trim_end_matches('/')
        );
        let request = self
            .http
            .reqwest()
            .get(&url)
            .header(reqwest::header::ACCEPT, "application/json")
            .build()
            .map_err(ProviderError::unavailable)?;
        let response = self.http.send(request).await?;
        if !response.status().is_success() {
            return Err(ProviderError::unavailable(DiscoveryFailure::Status(
                response.status().as_u16(),
            )));
        }
        let metadata: CoreProviderMetadata = serde_json::from_slice(response.body())
            .map_err(|e| ProviderError::unavailable(DiscoveryFailure::Parse(e)))?;
        let expected = match self.issuer_check {
            IssuerCheck::Exact => self.issuer.as_str().to_owned(),
            IssuerCheck::MicrosoftTenant => {
                "https://login.microsoftonline.com/{tenantid}/v2.0".to_owned()
            }
        };
        if metadata.issuer().as_str() != expected {
            return Err(ProviderError::unavailable(
                DiscoveryFailure::IssuerMismatch {
                    expected,
                    found: metadata.issuer().as_str().to_owned(),
                },
            ));
        }
        let jwks = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| ProviderError::unavailable(DiscoveryFailure::Jwks(e.to_string())))?;
        let metadata = metadata.set_jwks(jwks);
        Ok(CoreClient::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            self.client_secret.clone(),
        ))
    }

    /// The discovered client; with `refresh`, fetched again unless it was fetched less than
    /// [`KEY_REFRESH_INTERVAL`] ago.
    async fn client(&self, refresh: bool) -> Result<Arc<Discovered>, ProviderError> {
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref()
            && (!refresh || cached.fetched.elapsed() < KEY_REFRESH_INTERVAL)
        {
            return Ok(Arc::clone(&cached.client));
        }
        let client = Arc::new(self.fetch().await?);
        *cache = Some(Cached {
            client: Arc::clone(&client),
            fetched: Instant::now(),
        });
        Ok(client)
    }

    fn redirect(url: &Url) -> Result<RedirectUrl, ProviderError> {
        RedirectUrl::new(url.as_str().to_owned()).map_err(|e| ProviderError::Config(e.to_string()))
    }

    /// Verifies the ID token and returns `(sub, email, email_verified)`.
    fn verify(
        &self,
        client: &Discovered,
        token: &openidconnect::core::CoreIdToken,
        nonce: &str,
    ) -> Result<(String, Option<String>, Option<bool>), ClaimsVerificationError> {
        let mut verifier = client
            .id_token_verifier()
            .set_allowed_algs(ID_TOKEN_ALGORITHMS);
        if self.issuer_check == IssuerCheck::MicrosoftTenant {
            verifier = verifier.require_issuer_match(false);
        }
        let claims = token.claims(&verifier, &Nonce::new(nonce.to_owned()))?;
        if self.issuer_check == IssuerCheck::MicrosoftTenant {
            let tid = raw_claim(&token.to_string(), "tid").unwrap_or_default();
            let expected = format!("https://login.microsoftonline.com/{tid}/v2.0");
            if tid.is_empty() || claims.issuer().as_str() != expected {
                return Err(ClaimsVerificationError::InvalidIssuer(format!(
                    "expected {expected}, found {}",
                    claims.issuer().as_str()
                )));
            }
        }
        Ok((
            claims.subject().as_str().to_owned(),
            claims.email().map(|e| e.as_str().to_owned()),
            claims.email_verified(),
        ))
    }
}

/// One string claim of a JWT whose signature was verified already.
fn raw_claim(jwt: &str, name: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get(name)?.as_str().map(str::to_owned)
}

/// An ID token signed with a key the cached JWKS does not have.
fn unknown_key(err: &ClaimsVerificationError) -> bool {
    matches!(
        err,
        ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)
    )
}

#[async_trait]
impl OAuthProvider for OidcProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn default_scopes(&self) -> Vec<String> {
        self.scopes.clone()
    }

    fn required_scopes(&self) -> Vec<String> {
        vec!["openid".into()]
    }

    async fn authorization_url(
        &self,
        request: AuthorizationRequest<'_>,
    ) -> Result<Url, ProviderError> {
        let client = self.client(false).await?;
        let state = request.state.to_owned();
        let nonce = request.nonce.to_owned();
        let (url, _, _) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            // openid is added by the library.
            .add_scopes(
                request
                    .scopes
                    .iter()
                    .filter(|s| s.as_str() != "openid")
                    .map(|s| Scope::new(s.clone())),
            )
            .add_extra_param("code_challenge", request.pkce_challenge)
            .add_extra_param("code_challenge_method", "S256")
            .set_redirect_uri(std::borrow::Cow::Owned(Self::redirect(
                request.redirect_url,
            )?))
            .url();
        Ok(url)
    }

    async fn exchange(
        &self,
        exchange: CodeExchange<'_>,
    ) -> Result<ProviderIdentity, ProviderError> {
        let client = self.client(false).await?;
        let response = client
            .exchange_code(AuthorizationCode::new(exchange.code.to_owned()))
            .map_err(|e| ProviderError::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(exchange.pkce_verifier.to_owned()))
            .set_redirect_uri(std::borrow::Cow::Owned(Self::redirect(
                exchange.redirect_url,
            )?))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let id_token = response.id_token().ok_or_else(|| {
            ProviderError::InvalidIdToken("the token response has no ID token".into())
        })?;
        let verified = match self.verify(&client, id_token, exchange.nonce) {
            Err(err) if unknown_key(&err) => {
                // The provider may have rotated its keys: fetch them again, once.
                let fresh = self.client(true).await?;
                self.verify(&fresh, id_token, exchange.nonce)
            }
            other => other,
        };
        let (sub, mut email, mut email_verified) =
            verified.map_err(|e| ProviderError::InvalidIdToken(Box::new(e)))?;
        if email.is_none()
            && let Ok(request) = client.user_info(
                response.access_token().clone(),
                Some(openidconnect::SubjectIdentifier::new(sub.clone())),
            )
        {
            let info: openidconnect::core::CoreUserInfoClaims = request
                .request_async(&self.http)
                .await
                .map_err(|e| ProviderError::Unavailable(e.to_string().into()))?;
            email = info.email().map(|e| e.as_str().to_owned());
            email_verified = info.email_verified();
        }
        Ok(ProviderIdentity {
            account_id: sub,
            email,
            email_verified: email_verified.unwrap_or(false),
            access_token: response.access_token().secret().clone(),
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
            expires_at: expires_at(response.expires_in()),
        })
    }
}

#[cfg(test)]
mod tests;
