//! An in-process app with the OAuth routers, driven with `oneshot`, and a browser (reqwest
//! with a cookie jar) that walks the provider's pages up to the app's redirect URL.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use authward_axum::{
    AuthBackend, Authward, AuthwardConfig, BearerTransport, CookieTransport, Transport,
};
use authward_core::memory::{MemoryAccessTokenDatabase, MemoryUserDatabase};
use authward_core::oauth::ProviderTokenCipher;
use authward_core::strategy::{DatabaseStrategy, JwtStrategy, RefreshTokens};
use authward_core::{Argon2Hasher, PasswordHelper, User, UserManager};
use authward_oauth::{AssociateOptions, LoginOptions, OAuth, OAuthBuilder, OAuthProvider};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine as _;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::Duration;
use tower::ServiceExt;
use uuid::Uuid;

pub type Db = MemoryUserDatabase<Uuid>;
pub type U = User<Uuid>;
pub const SECRET: &str = "0123456789abcdef0123456789abcdef-test-secret";
pub const STATE_SECRET: &str = "the OAuth state secret, 32 bytes or more";
pub const TOKEN_KEY: [u8; 32] = [42; 32];
/// The app's public origin: the provider redirects the browser here, where the test stops.
pub const APP: &str = "http://app.test";
pub const CSRF_COOKIE: &str = "fastapiusersoauthcsrf";

/// Which backend the OAuth login uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Bearer,
    Cookie,
    /// `cookie-refresh`: a cookie backend with refresh tokens, its refresh cookie scoped to
    /// [`REFRESH_MOUNT`].
    CookieRefresh,
}

/// Where the `cookie-refresh` backend's auth router is mounted.
pub const REFRESH_MOUNT: &str = "/auth/cookie-refresh";

/// A cookie backend called `cookie-refresh` with refresh tokens, its refresh cookie's path
/// set to `refresh_path`.
pub fn cookie_refresh_backend(refresh_path: Option<&str>) -> AuthBackend<U> {
    let transport = CookieTransport {
        refresh_path: refresh_path.map(str::to_owned),
        ..CookieTransport::default()
    };
    let strategy = Arc::new(DatabaseStrategy::new(
        MemoryAccessTokenDatabase::<Uuid>::new(),
        Some(Duration::hours(1)),
    ));
    let refresh = RefreshTokens::new(MemoryAccessTokenDatabase::<Uuid>::new(), Duration::days(1));
    AuthBackend::new("cookie-refresh", Transport::Cookie(transport), strategy).with_refresh(refresh)
}

pub struct TestApp {
    pub router: Router,
    pub users: Db,
    pub aw: Authward<Db>,
    pub backend: Backend,
}

pub fn fast_passwords() -> PasswordHelper {
    PasswordHelper::new(Argon2Hasher::new(64, 1, 1).unwrap())
}

/// Builds the app: backends `jwt` (bearer) and `cookie`, the users router at `/users`, the
/// provider's login router at `/auth/<name>` (logging in with `backend`) and its associate
/// router at `/auth/associate/<name>`.
pub fn build_app(
    provider: Arc<dyn OAuthProvider>,
    backend: Backend,
    configure: impl FnOnce(LoginOptions) -> LoginOptions,
    requires_verification: bool,
) -> TestApp {
    build_app_with_states(
        provider,
        backend,
        configure,
        requires_verification,
        Arc::new(authward_oauth::MemoryStateStore::new()),
    )
}

/// [`build_app`] recording used states in `states`.
pub fn build_app_with_states(
    provider: Arc<dyn OAuthProvider>,
    backend: Backend,
    configure: impl FnOnce(LoginOptions) -> LoginOptions,
    requires_verification: bool,
    states: Arc<dyn authward_oauth::StateStore>,
) -> TestApp {
    build_app_with_oauth(
        provider,
        backend,
        configure,
        requires_verification,
        |oauth| oauth.state_store_arc(states),
    )
}

/// [`build_app`] with the OAuth configuration changed by `configure_oauth`.
pub fn build_app_with_oauth(
    provider: Arc<dyn OAuthProvider>,
    backend: Backend,
    configure: impl FnOnce(LoginOptions) -> LoginOptions,
    requires_verification: bool,
    configure_oauth: impl FnOnce(OAuthBuilder<Db>) -> OAuthBuilder<Db>,
) -> TestApp {
    let users = Db::new();
    let manager = UserManager::builder(users.clone(), SECRET)
        .password_helper(fast_passwords())
        .provider_token_cipher(ProviderTokenCipher::new(&TOKEN_KEY).unwrap())
        .build()
        .unwrap();
    let jwt: Arc<JwtStrategy<Uuid>> = Arc::new(
        JwtStrategy::builder(
            authward_core::JwtKey::hs256(SECRET).unwrap(),
            Duration::hours(1),
        )
        .revocation_store(MemoryAccessTokenDatabase::<Uuid>::new())
        .build()
        .unwrap(),
    );
    let database = Arc::new(DatabaseStrategy::new(
        MemoryAccessTokenDatabase::<Uuid>::new(),
        Some(Duration::hours(1)),
    ));
    let mut backends = vec![
        AuthBackend::new(
            "jwt",
            Transport::Bearer(BearerTransport::new("auth/jwt/login")),
            jwt,
        ),
        AuthBackend::new(
            "cookie",
            Transport::Cookie(CookieTransport::default()),
            database,
        ),
    ];
    if backend == Backend::CookieRefresh {
        backends.push(cookie_refresh_backend(Some(REFRESH_MOUNT)));
    }
    let config = AuthwardConfig {
        requires_verification,
        ..AuthwardConfig::default()
    };
    let aw = Authward::new(manager, backends, config).unwrap();
    let oauth = configure_oauth(OAuth::builder(aw.clone(), STATE_SECRET))
        .build()
        .unwrap();
    let name = provider.name().to_owned();
    let backend_name = match backend {
        Backend::Bearer => "jwt",
        Backend::Cookie => "cookie",
        Backend::CookieRefresh => "cookie-refresh",
    };
    let login = configure(LoginOptions::new(
        backend_name,
        format!("{APP}/auth/{name}/callback"),
    ));
    let mut router = Router::new().nest("/auth/jwt", aw.auth_router("jwt"));
    if backend == Backend::CookieRefresh {
        router = router.nest(REFRESH_MOUNT, aw.auth_router("cookie-refresh"));
    }
    let router = router
        .nest("/auth", aw.register_router())
        .nest("/users", aw.users_router())
        .nest(
            &format!("/auth/{name}"),
            oauth.login_router(provider.clone(), login).unwrap(),
        )
        .nest(
            &format!("/auth/associate/{name}"),
            oauth
                .associate_router(
                    provider,
                    AssociateOptions::new(format!("{APP}/auth/associate/{name}/callback")),
                )
                .unwrap(),
        );
    TestApp {
        router,
        users,
        aw,
        backend,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Every `Set-Cookie` value.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// The value a `Set-Cookie` gives `name`, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies().into_iter().find_map(|c| {
            c.split(';')
                .next()
                .and_then(|pair| pair.strip_prefix(&format!("{name}=")))
                .map(str::to_owned)
        })
    }
}

pub async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("non-JSON body: {:?}", String::from_utf8_lossy(&bytes)))
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// Credentials of a signed-in user.
#[derive(Debug, Clone)]
pub enum Auth {
    Bearer(String),
    Cookie(String),
}

pub fn get(uri: &str, csrf: Option<&str>, auth: Option<&Auth>) -> Request<Body> {
    let mut builder = Request::builder().uri(uri);
    let mut cookies = Vec::new();
    if let Some(csrf) = csrf {
        cookies.push(format!("{CSRF_COOKIE}={csrf}"));
    }
    match auth {
        Some(Auth::Bearer(token)) => {
            builder = builder.header("authorization", format!("Bearer {token}"))
        }
        Some(Auth::Cookie(token)) => cookies.push(format!("fastapiusersauth={token}")),
        None => {}
    }
    if !cookies.is_empty() {
        builder = builder.header("cookie", cookies.join("; "));
    }
    builder.body(Body::empty()).unwrap()
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl TestApp {
    pub async fn call(&self, request: Request<Body>) -> Reply {
        send(&self.router, request).await
    }

    /// `GET <prefix>/authorize`: the authorization URL and the CSRF cookie's value.
    pub async fn authorize(&self, prefix: &str, auth: Option<&Auth>) -> (String, String) {
        let reply = self
            .call(get(&format!("{prefix}/authorize"), None, auth))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        let url = reply.body["authorization_url"].as_str().unwrap().to_owned();
        let csrf = reply.cookie(CSRF_COOKIE).expect("the CSRF cookie is set");
        (url, csrf)
    }

    /// `GET <prefix>/callback?code=..&state=..` with the CSRF cookie.
    pub async fn callback(
        &self,
        prefix: &str,
        code: &str,
        state: &str,
        csrf: Option<&str>,
        auth: Option<&Auth>,
    ) -> Reply {
        let uri = format!("{prefix}/callback?code={}&state={}", enc(code), enc(state));
        self.call(get(&uri, csrf, auth)).await
    }

    /// Registers and logs in a user with a password; returns its id and bearer token.
    pub async fn password_user(&self, email: &str, verified: bool) -> (Uuid, Auth) {
        let reply = self
            .call(
                Request::builder()
                    .method("POST")
                    .uri("/auth/register")
                    .header("content-type", "application/json")
                    .body(Body::from(
                        json!({"email": email, "password": "correct horse battery"}).to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        let id = Uuid::parse_str(reply.body["id"].as_str().unwrap()).unwrap();
        if verified {
            use authward_core::UserDatabase;
            let patch = authward_core::UserPatch {
                is_verified: Some(true),
                ..authward_core::UserPatch::default()
            };
            self.users.update(&id, patch).await.unwrap();
        }
        let login = self
            .call(
                Request::builder()
                    .method("POST")
                    .uri("/auth/jwt/login")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(format!(
                        "username={}&password=correct+horse+battery",
                        enc(email)
                    )))
                    .unwrap(),
            )
            .await;
        assert_eq!(login.status, StatusCode::OK, "{:?}", login.body);
        (
            id,
            Auth::Bearer(login.body["access_token"].as_str().unwrap().to_owned()),
        )
    }

    /// The credentials a login callback answered with.
    pub fn auth_from(&self, reply: &Reply) -> Auth {
        match self.backend {
            Backend::Bearer => {
                assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
                Auth::Bearer(reply.body["access_token"].as_str().unwrap().to_owned())
            }
            Backend::Cookie | Backend::CookieRefresh => {
                assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
                Auth::Cookie(reply.cookie("fastapiusersauth").expect("auth cookie"))
            }
        }
    }

    pub async fn me(&self, auth: &Auth) -> Reply {
        self.call(get("/users/me", None, Some(auth))).await
    }
}

/// Asserts the CSRF cookie is cleared by this answer.
pub fn assert_csrf_cleared(reply: &Reply) {
    let cleared = reply
        .set_cookies()
        .iter()
        .any(|c| c.starts_with(&format!("{CSRF_COOKIE}=;")) && c.contains("Max-Age=0"));
    assert!(
        cleared,
        "CSRF cookie not cleared: {:?}",
        reply.set_cookies()
    );
}

/// The query parameters of a URL.
pub fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn param(url: &str, name: &str) -> Option<String> {
    query_of(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A browser: follows redirects with a cookie jar, and stops at the app's origin.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.url().as_str().starts_with(APP) {
                attempt.stop()
            } else if attempt.previous().len() > 20 {
                attempt.error("too many redirects")
            } else {
                attempt.follow()
            }
        }))
        .build()
        .unwrap()
}

/// Opens `authorization_url` in a fresh browser and returns where the provider sent it back:
/// the app URL with `code`/`state` (or `error`).
pub async fn visit(authorization_url: &str) -> String {
    let response = browser().get(authorization_url).send().await.unwrap();
    assert!(
        response.status().is_redirection(),
        "the provider did not redirect back: {} {:?}",
        response.status(),
        response.text().await
    );
    let location = response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(location.starts_with(APP), "{location}");
    location
}

/// The login_hint naming an account at the test provider.
pub fn hint(sub: &str, email: &str, email_verified: bool) -> String {
    let json = json!({"sub": sub, "email": email, "email_verified": email_verified});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
}

/// A login_hint for a user who refuses.
pub fn refusing_hint(sub: &str) -> String {
    let json = json!({"sub": sub, "email": format!("{sub}@example.com"), "error": "access_denied"});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
}

/// A unique suffix for subs and emails.
pub fn unique() -> String {
    Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// A `POST` to `uri` sending `cookies`.
pub fn cookie_request(uri: &str, cookies: &[(&str, &str)]) -> Request<Body> {
    let cookie = cookies
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ");
    Request::builder()
        .method("POST")
        .uri(uri)
        .header("cookie", cookie)
        .body(Body::empty())
        .unwrap()
}

/// The `Set-Cookie` of `name` in `reply`, attributes included.
pub fn set_cookie_of(reply: &Reply, name: &str) -> String {
    let prefix = format!("{name}=");
    reply
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", reply.set_cookies()))
}

impl TestApp {
    /// Checks that a cookie login with refresh tokens (`reply`) scoped its refresh cookie to
    /// the auth router at [`REFRESH_MOUNT`] (not the callback's path or `/`), then refreshes
    /// with it there: the refresh's answer (204, a new auth cookie, the rotated refresh cookie).
    pub async fn refresh_with_cookie(&self, reply: &Reply) -> Reply {
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
        let issued = set_cookie_of(reply, "fastapiusersrefresh");
        assert!(
            issued.contains(&format!("Path={REFRESH_MOUNT};")),
            "the auth router's path: {issued}"
        );
        let refresh = reply.cookie("fastapiusersrefresh").unwrap();
        let refreshed = self
            .call(cookie_request(
                &format!("{REFRESH_MOUNT}/refresh"),
                &[("fastapiusersrefresh", &refresh)],
            ))
            .await;
        assert_eq!(
            refreshed.status,
            StatusCode::NO_CONTENT,
            "{:?}",
            refreshed.body
        );
        refreshed
    }
}
