//! An in-process app over the memory stores, driven through the real routers.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use authward_axum::{
    AuthBackend, Authward, AuthwardConfig, BearerTransport, CookieTransport, Transport,
};
use authward_core::manager::{Hooks, RequestInfo};
use authward_core::memory::{MemoryAccessTokenDatabase, MemoryUserDatabase};
use authward_core::strategy::{DatabaseStrategy, JwtKey, JwtStrategy, RefreshTokens};
use authward_core::{
    Argon2Hasher, BoxError, NewUser, PasswordHelper, User, UserDatabase, UserManager,
};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use time::Duration;
use tower::ServiceExt;
use uuid::Uuid;

pub type U = User<Uuid>;
pub const SECRET: &str = "0123456789abcdef0123456789abcdef-test-secret";

/// Which backend the app authenticates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// JWT with a revocation store (logout and logout-all end tokens).
    BearerJwt,
    /// JWT without a revocation store, declared stateless (FastAPI Users' behaviour).
    BearerJwtStateless,
    BearerDatabase,
    CookieDatabase,
}

pub const ALL: [Setup; 4] = [
    Setup::BearerJwt,
    Setup::BearerJwtStateless,
    Setup::BearerDatabase,
    Setup::CookieDatabase,
];

/// Tokens handed to the hooks (what an app would email).
#[derive(Default)]
pub struct Mailbox {
    pub verify: Mutex<Vec<String>>,
    pub reset: Mutex<Vec<String>>,
    /// While set, `on_after_login` fails.
    pub fail_after_login: std::sync::atomic::AtomicBool,
}

pub struct MailboxHooks(pub Arc<Mailbox>);

#[async_trait]
impl Hooks<U> for MailboxHooks {
    async fn on_after_request_verify(
        &self,
        _user: &U,
        token: &str,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        self.0.verify.lock().unwrap().push(token.to_owned());
        Ok(())
    }
    async fn on_after_forgot_password(
        &self,
        _user: &U,
        token: &str,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        self.0.reset.lock().unwrap().push(token.to_owned());
        Ok(())
    }
    async fn on_after_login(
        &self,
        _user: &U,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        if self
            .0
            .fail_after_login
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err("the after-login hook failed".into());
        }
        Ok(())
    }
}

pub struct TestApp {
    pub router: Router,
    pub users: MemoryUserDatabase<Uuid>,
    pub mailbox: Arc<Mailbox>,
    pub setup: Setup,
}

pub fn fast_passwords() -> PasswordHelper {
    PasswordHelper::new(Argon2Hasher::new(64, 1, 1).unwrap())
}

fn cookie() -> Transport {
    Transport::Cookie(CookieTransport {
        max_age: Some(3600),
        ..CookieTransport::default()
    })
}

fn bearer() -> Transport {
    Transport::Bearer(BearerTransport::new("auth/jwt/login"))
}

/// Builds the app with the given backends (first one is mounted at /auth/jwt).
pub fn app_with<DB: UserDatabase<User = U, Extra = ()> + Clone + 'static>(
    users: DB,
    setups: &[Setup],
    refresh: bool,
) -> (Router, Arc<Mailbox>) {
    let (router, mailbox, _) = app_with_authward(users, setups, refresh);
    (router, mailbox)
}

/// [`app_with`], also returning the `Authward` behind the router. Backends are named `jwt`,
/// `second`, `third` and mounted at `/auth/<name>`; the other routers as FastAPI Users does.
/// No revoker is registered by hand: each backend brings its own.
pub fn app_with_authward<DB: UserDatabase<User = U, Extra = ()> + Clone + 'static>(
    users: DB,
    setups: &[Setup],
    refresh: bool,
) -> (Router, Arc<Mailbox>, Authward<DB>) {
    let mailbox = Arc::new(Mailbox::default());
    let tokens = MemoryAccessTokenDatabase::<Uuid>::new();
    let database = Arc::new(DatabaseStrategy::new(tokens, Some(Duration::hours(1))));
    let jwt: Arc<JwtStrategy<Uuid>> = Arc::new(
        JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::hours(1))
            .revocation_store(MemoryAccessTokenDatabase::<Uuid>::new())
            .build()
            .unwrap(),
    );
    let stateless: Arc<JwtStrategy<Uuid>> =
        Arc::new(JwtStrategy::hs256(SECRET, Duration::hours(1)).unwrap());
    let refresh_tokens = Arc::new(RefreshTokens::new(
        MemoryAccessTokenDatabase::<Uuid>::new(),
        Duration::days(7),
    ));
    let manager = UserManager::builder(users, SECRET)
        .password_helper(fast_passwords())
        .hooks(MailboxHooks(mailbox.clone()))
        .build()
        .unwrap();
    let backends = setups
        .iter()
        .enumerate()
        .map(|(i, setup)| {
            let name = ["jwt", "second", "third"][i];
            let backend = match setup {
                Setup::BearerJwt => AuthBackend::new(name, bearer(), jwt.clone()),
                Setup::BearerJwtStateless => {
                    AuthBackend::new(name, bearer(), stateless.clone()).stateless()
                }
                Setup::BearerDatabase => AuthBackend::new(name, bearer(), database.clone())
                    .with_sessions(database.clone()),
                Setup::CookieDatabase => AuthBackend::new(name, cookie(), database.clone()),
            };
            // As FastAPI Users' examples would: refresh tokens on the JWT backend.
            if refresh && *setup == Setup::BearerJwt {
                backend.with_refresh_arc(refresh_tokens.clone())
            } else {
                backend
            }
        })
        .collect();
    let aw = Authward::new(manager, backends, AuthwardConfig::default()).unwrap();
    let mut router = Router::new()
        .nest("/auth", aw.register_router())
        .nest("/auth", aw.reset_password_router())
        .nest("/auth", aw.verify_router())
        .nest("/users", aw.users_router());
    for (i, _) in setups.iter().enumerate() {
        let name = ["jwt", "second", "third"][i];
        router = router.nest(&format!("/auth/{name}"), aw.auth_router(name));
    }
    (router, mailbox, aw)
}

pub fn app(setup: Setup) -> TestApp {
    let users = MemoryUserDatabase::<Uuid>::new();
    let (router, mailbox) = app_with(users.clone(), &[setup], false);
    TestApp {
        router,
        users,
        mailbox,
        setup,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
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

pub fn json(method: &str, uri: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

pub fn form(uri: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// Credentials of a logged-in user for the app's transport.
#[derive(Debug, Clone)]
pub enum Auth {
    Bearer(String),
    Cookie(String),
}

impl Auth {
    pub fn apply(&self, mut request: Request<Body>) -> Request<Body> {
        let (name, value) = match self {
            Auth::Bearer(t) => ("authorization", format!("Bearer {t}")),
            Auth::Cookie(t) => ("cookie", format!("fastapiusersauth={t}")),
        };
        request.headers_mut().insert(name, value.parse().unwrap());
        request
    }
}

/// `POST /auth/jwt/refresh` with `token` in the body (the bearer transport's refresh).
pub fn refresh_request(token: &str) -> Request<Body> {
    json(
        "POST",
        "/auth/jwt/refresh",
        &serde_json::json!({ "refresh_token": token }),
    )
}

pub fn get(uri: &str) -> Request<Body> {
    Request::builder().uri(uri).body(Body::empty()).unwrap()
}

pub fn post_empty(uri: &str) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(uri)
        .body(Body::empty())
        .unwrap()
}

impl TestApp {
    pub async fn register(&self, email: &str, password: &str) -> Reply {
        send(
            &self.router,
            json(
                "POST",
                "/auth/register",
                &serde_json::json!({"email": email, "password": password}),
            ),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        let body = format!(
            "username={}&password={}",
            urlencode(email),
            urlencode(password)
        );
        send(&self.router, form("/auth/jwt/login", &body)).await
    }

    /// Registers and logs in; returns the user id and credentials.
    pub async fn user(&self, email: &str) -> (Uuid, Auth) {
        let reply = self.register(email, "correct horse battery").await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        let id = Uuid::parse_str(reply.body["id"].as_str().unwrap()).unwrap();
        (id, self.login_auth(email, "correct horse battery").await)
    }

    pub async fn login_auth(&self, email: &str, password: &str) -> Auth {
        let reply = self.login(email, password).await;
        match self.setup {
            Setup::CookieDatabase => {
                assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
                let set = reply.headers["set-cookie"].to_str().unwrap();
                let token = set
                    .split(';')
                    .next()
                    .unwrap()
                    .trim_start_matches("fastapiusersauth=");
                Auth::Cookie(token.to_owned())
            }
            _ => {
                assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
                Auth::Bearer(reply.body["access_token"].as_str().unwrap().to_owned())
            }
        }
    }

    pub async fn superuser(&self, email: &str) -> Auth {
        let hash = fast_passwords()
            .hash("correct horse battery")
            .await
            .unwrap();
        let mut new = NewUser::<()>::new(email, hash);
        new.is_superuser = true;
        self.users.create(new).await.unwrap();
        self.login_auth(email, "correct horse battery").await
    }

    pub async fn call(&self, request: Request<Body>) -> Reply {
        send(&self.router, request).await
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The next token in a mailbox: forgot-password and request-verify-token hand the mail to a
/// task of its own after answering, so it arrives shortly after the 202.
pub async fn next_mail(mailbox: &Mutex<Vec<String>>) -> String {
    for _ in 0..500 {
        if let Some(token) = mailbox.lock().unwrap().pop() {
            return token;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    panic!("no mail arrived");
}
