//! The HTTP client every provider talks through: reqwest over rustls, redirects never
//! followed, a timeout, and a cap on response bodies.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

/// The largest provider response read (discovery documents, JWKS, tokens, user info).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// A request to a provider failed before an answer could be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// Connecting, sending, or reading failed (including the timeout).
    #[error("provider request failed")]
    Transport(#[source] reqwest::Error),
    /// The request could not be built.
    #[error("provider request could not be built")]
    Request(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The response body is larger than [`MAX_RESPONSE_BYTES`].
    #[error("provider response larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
}

/// The HTTP client of the OAuth providers: reqwest with rustls (no OpenSSL), no redirects
/// followed (a token or discovery request that is redirected fails instead of reaching
/// another host), a 10-second timeout by default, and bodies capped at
/// [`MAX_RESPONSE_BYTES`]. Cheap to clone (clones share the connection pool).
///
/// ```
/// use std::time::Duration;
/// let http = authward_oauth::HttpClient::new().with_timeout(Duration::from_secs(5)).unwrap();
/// # let _ = http;
/// ```
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new()
    }
}

fn builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("authward-oauth/", env!("CARGO_PKG_VERSION")))
}

impl HttpClient {
    /// The default client (10-second timeout).
    ///
    /// # Panics
    /// When the TLS backend cannot be initialised, as `reqwest::Client::new` does (rustls
    /// with bundled root certificates needs nothing from the system).
    pub fn new() -> Self {
        #[allow(clippy::expect_used)]
        let client = builder(Duration::from_secs(10))
            .build()
            .expect("the rustls TLS backend initialises");
        Self { client }
    }

    /// A client with another timeout (connection and whole request).
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised.
    pub fn with_timeout(self, timeout: Duration) -> Result<Self, HttpError> {
        Ok(Self {
            client: builder(timeout).build().map_err(HttpError::Transport)?,
        })
    }

    /// A client over a reqwest client of the application's own (proxies, extra root
    /// certificates). It should not follow redirects.
    pub fn from_reqwest(client: reqwest::Client) -> Self {
        Self { client }
    }

    /// The underlying reqwest client.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a request and reads at most [`MAX_RESPONSE_BYTES`] of its body.
    pub(crate) async fn send(&self, request: reqwest::Request) -> Result<HttpResponse, HttpError> {
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(HttpError::Transport)?;
        if response
            .content_length()
            .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
        {
            return Err(HttpError::TooLarge);
        }
        let mut builder = oauth2::http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(HttpError::Transport)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(HttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        builder
            .body(body)
            .map_err(|e| HttpError::Request(Box::new(e)))
    }
}

impl<'c> AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request =
                reqwest::Request::try_from(request).map_err(|e| HttpError::Request(Box::new(e)))?;
            self.send(request).await
        })
    }
}
