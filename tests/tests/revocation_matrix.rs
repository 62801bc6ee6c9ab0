//! The revocation matrix: for bearer + JWT (with its revocation store), bearer + database,
//! bearer + Redis and cookie + database, each with and without refresh tokens, every way a
//! session must end — logout, logout-all, password change, password reset, deactivation (and
//! reactivation: old tokens stay dead), deletion — ends it: the old access token answers 401
//! and the old refresh token is refused. Driven through the real routers; Redis is the real
//! server (AUTHWARD_TEST_REDIS_URL).

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use authward_axum::{
    AuthBackend, Authward, AuthwardConfig, BearerTransport, CookieTransport, Transport,
};
use authward_core::manager::{Hooks, RequestInfo};
use authward_core::memory::{MemoryAccessTokenDatabase, MemoryUserDatabase};
use authward_core::strategy::{DatabaseStrategy, JwtKey, JwtStrategy, RefreshTokens, Strategy};
use authward_core::{Argon2Hasher, BoxError, PasswordHelper, User, UserManager};
use authward_redis::{RedisAccessTokenDatabase, RedisStrategy, RedisTokenOptions};
use axum::Router;
use axum::http::StatusCode;
use common::http::{Reply, empty, form, json, send, urlencode, with};
use serde_json::{Value, json};
use time::Duration;
use uuid::Uuid;

type U = User<Uuid>;

const SECRET: &str = "0123456789abcdef0123456789abcdef-test-secret";
const PASSWORD: &str = "correct horse battery";
const AUTH_COOKIE: &str = "fastapiusersauth";
const REFRESH_COOKIE: &str = "fastapiusersrefresh";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    BearerJwt,
    BearerDatabase,
    BearerRedis,
    CookieDatabase,
}

const KINDS: [Kind; 4] = [
    Kind::BearerJwt,
    Kind::BearerDatabase,
    Kind::BearerRedis,
    Kind::CookieDatabase,
];

/// Reset tokens handed to the hooks.
#[derive(Default)]
struct Mailbox(Mutex<Vec<String>>);

struct MailHooks(Arc<Mailbox>);

#[async_trait]
impl Hooks<U> for MailHooks {
    async fn on_after_forgot_password(
        &self,
        _user: &U,
        token: &str,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        self.0.0.lock().unwrap().push(token.to_owned());
        Ok(())
    }
}

/// A logged-in session: the access token, and the refresh token when there is one.
#[derive(Debug, Clone)]
struct Session {
    access: String,
    refresh: Option<String>,
}

struct App {
    router: Router,
    kind: Kind,
    refresh: bool,
    mailbox: Arc<Mailbox>,
}

fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@camelot.bt", Uuid::new_v4().simple())
}

impl App {
    /// `None` when the kind needs Redis and no Redis is configured (skipped, unless
    /// AUTHWARD_TEST_REQUIRE_SERVICES=1, which makes `service_url` fail instead).
    async fn new(kind: Kind, refresh: bool) -> Option<Self> {
        let mailbox = Arc::new(Mailbox::default());
        let users = MemoryUserDatabase::<Uuid>::new();
        let manager = UserManager::builder(users, SECRET)
            .password_helper(PasswordHelper::new(Argon2Hasher::new(64, 1, 1).unwrap()))
            .hooks(MailHooks(mailbox.clone()))
            .build()
            .unwrap();
        manager
            .create_superuser("admin@camelot.bt", PASSWORD)
            .await
            .unwrap();
        let lifetime = Duration::hours(1);
        let strategy: Arc<dyn Strategy<U>> = match kind {
            Kind::BearerJwt => Arc::new(
                JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), lifetime)
                    .revocation_store(MemoryAccessTokenDatabase::<Uuid>::new())
                    .build()
                    .unwrap(),
            ),
            Kind::BearerDatabase | Kind::CookieDatabase => Arc::new(DatabaseStrategy::new(
                MemoryAccessTokenDatabase::<Uuid>::new(),
                Some(lifetime),
            )),
            Kind::BearerRedis => {
                let url = authward_testkit::service_url("AUTHWARD_TEST_REDIS_URL")?;
                let options = RedisTokenOptions::new()
                    .key_prefix(format!("aw_matrix_{}:", Uuid::new_v4().simple()))
                    .lifetime(Some(lifetime));
                let store = RedisAccessTokenDatabase::<Uuid>::connect(&url, options)
                    .await
                    .expect("connect to Redis");
                Arc::new(RedisStrategy::new(store))
            }
        };
        let transport = match kind {
            Kind::CookieDatabase => Transport::Cookie(CookieTransport {
                max_age: Some(3600),
                ..CookieTransport::default()
            }),
            _ => Transport::Bearer(BearerTransport::new("auth/main/login")),
        };
        let mut backend = AuthBackend::new("main", transport, strategy);
        if refresh {
            backend = backend.with_refresh(RefreshTokens::new(
                MemoryAccessTokenDatabase::<Uuid>::new(),
                Duration::days(7),
            ));
        }
        let aw = Authward::new(manager, vec![backend], AuthwardConfig::default()).unwrap();
        let router = Router::new()
            .nest("/auth/main", aw.auth_router("main"))
            .nest("/auth", aw.register_router())
            .nest("/auth", aw.reset_password_router())
            .nest("/users", aw.users_router());
        Some(Self {
            router,
            kind,
            refresh,
            mailbox,
        })
    }

    fn cookie(&self) -> bool {
        self.kind == Kind::CookieDatabase
    }

    async fn register(&self, email: &str) -> String {
        let reply = send(
            &self.router,
            json(
                "POST",
                "/auth/register",
                &json!({"email": email, "password": PASSWORD}),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    fn session_of(&self, reply: &Reply) -> Session {
        if self.cookie() {
            assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
            Session {
                access: reply.cookie_value(AUTH_COOKIE).expect("auth cookie"),
                refresh: reply.cookie_value(REFRESH_COOKIE),
            }
        } else {
            assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
            Session {
                access: reply.body["access_token"].as_str().unwrap().to_owned(),
                refresh: reply.body["refresh_token"].as_str().map(str::to_owned),
            }
        }
    }

    async fn login_with(&self, email: &str, password: &str) -> Session {
        let body = format!(
            "username={}&password={}",
            urlencode(email),
            urlencode(password)
        );
        let reply = send(&self.router, form("/auth/main/login", &body)).await;
        let session = self.session_of(&reply);
        assert_eq!(session.refresh.is_some(), self.refresh, "{:?}", self.kind);
        session
    }

    async fn login(&self, email: &str) -> Session {
        self.login_with(email, PASSWORD).await
    }

    /// Sends a request as `session` (its access token in the transport's place).
    async fn call(
        &self,
        session: &Session,
        request: axum::http::Request<axum::body::Body>,
    ) -> Reply {
        let request = if self.cookie() {
            let mut cookie = format!("{AUTH_COOKIE}={}", session.access);
            if let Some(refresh) = &session.refresh {
                cookie.push_str(&format!("; {REFRESH_COOKIE}={refresh}"));
            }
            with(request, "cookie", &cookie)
        } else {
            with(
                request,
                "authorization",
                &format!("Bearer {}", session.access),
            )
        };
        send(&self.router, request).await
    }

    async fn me(&self, session: &Session) -> StatusCode {
        self.call(session, empty("GET", "/users/me")).await.status
    }

    /// Exchanges the session's refresh token: the new session, or the refusal's status.
    async fn refresh(&self, session: &Session) -> Result<Session, StatusCode> {
        let token = session.refresh.as_ref().expect("a refresh token");
        let reply = if self.cookie() {
            let request = with(
                empty("POST", "/auth/main/refresh"),
                "cookie",
                &format!("{REFRESH_COOKIE}={token}"),
            );
            send(&self.router, request).await
        } else {
            send(
                &self.router,
                json(
                    "POST",
                    "/auth/main/refresh",
                    &json!({"refresh_token": token}),
                ),
            )
            .await
        };
        if reply.status.is_success() {
            Ok(self.session_of(&reply))
        } else {
            assert_eq!(reply.body, json!({"detail": "REFRESH_TOKEN_INVALID"}));
            Err(reply.status)
        }
    }

    /// The session is over: its access token is refused and so is its refresh token.
    async fn assert_dead(&self, session: &Session, what: &str) {
        assert_eq!(
            self.me(session).await,
            StatusCode::UNAUTHORIZED,
            "{:?} refresh={}: access token after {what}",
            self.kind,
            self.refresh
        );
        if session.refresh.is_some() {
            assert_eq!(
                self.refresh(session).await.err(),
                Some(StatusCode::BAD_REQUEST),
                "{:?}: refresh token after {what}",
                self.kind
            );
        }
    }

    async fn assert_alive(&self, session: &Session, what: &str) {
        assert_eq!(
            self.me(session).await,
            StatusCode::OK,
            "{:?} refresh={}: {what}",
            self.kind,
            self.refresh
        );
    }

    async fn post(&self, session: &Session, uri: &str, body: Option<Value>) -> Reply {
        let request = match body {
            Some(body) => json("POST", uri, &body),
            None => empty("POST", uri),
        };
        self.call(session, request).await
    }

    async fn admin(&self, method: &str, uri: &str, body: Option<Value>) -> StatusCode {
        let admin = self.login("admin@camelot.bt").await;
        let request = match body {
            Some(body) => json(method, uri, &body),
            None => empty(method, uri),
        };
        self.call(&admin, request).await.status
    }
}

async fn each_app(mut cell: impl AsyncFnMut(App)) {
    for kind in KINDS {
        for refresh in [false, true] {
            if let Some(app) = App::new(kind, refresh).await {
                cell(app).await;
            }
        }
    }
}

#[tokio::test]
async fn logout_ends_the_presented_session_and_its_refresh_family_only() {
    each_app(async |app| {
        let email = unique_email("logout");
        app.register(&email).await;
        let kept = app.login(&email).await;
        let ended = app.login(&email).await;
        let reply = app.post(&ended, "/auth/main/logout", None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        if app.cookie() {
            assert!(reply.set_cookie(AUTH_COOKIE).unwrap().contains("Max-Age=0"));
            if app.refresh {
                let cleared = reply
                    .set_cookie(REFRESH_COOKIE)
                    .expect("refresh cookie cleared");
                assert!(cleared.contains("Max-Age=0"), "{cleared}");
                assert!(cleared.contains("Path=/auth/main"), "{cleared}");
            }
        }
        app.assert_dead(&ended, "logout").await;
        app.assert_alive(&kept, "another session survives a logout")
            .await;
        if kept.refresh.is_some() {
            assert!(app.refresh(&kept).await.is_ok(), "{:?}", app.kind);
        }
    })
    .await;
}

#[tokio::test]
async fn a_bearer_logout_with_the_refresh_token_in_the_body_ends_its_family() {
    for kind in [Kind::BearerJwt, Kind::BearerDatabase, Kind::BearerRedis] {
        let Some(app) = App::new(kind, true).await else {
            continue;
        };
        let email = unique_email("body");
        app.register(&email).await;
        let session = app.login(&email).await;
        // Rotate once: the family now has a tombstone and a live token.
        let rotated = app.refresh(&session).await.unwrap();
        let reply = app
            .post(
                &rotated,
                "/auth/main/logout",
                Some(json!({"refresh_token": rotated.refresh})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        app.assert_dead(&rotated, "logout with the refresh token")
            .await;
    }
}

#[tokio::test]
async fn logout_all_ends_every_session_and_a_login_right_after_works() {
    each_app(async |app| {
        let email = unique_email("all");
        app.register(&email).await;
        let first = app.login(&email).await;
        let second = app.login(&email).await;
        let reply = app.post(&first, "/auth/main/logout-all", None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", app.kind);
        app.assert_dead(&first, "logout-all").await;
        app.assert_dead(&second, "logout-all").await;
        // Log out everywhere, log in again at once, use it: never a dead token.
        for round in 0..10 {
            let fresh = app.login(&email).await;
            app.assert_alive(
                &fresh,
                &format!("login right after logout-all, round {round}"),
            )
            .await;
            let reply = app.post(&fresh, "/auth/main/logout-all", None).await;
            assert_eq!(reply.status, StatusCode::NO_CONTENT);
            app.assert_dead(&fresh, "logout-all").await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_password_change_ends_every_session() {
    each_app(async |app| {
        let email = unique_email("change");
        app.register(&email).await;
        let other = app.login(&email).await;
        let current = app.login(&email).await;
        let reply = app
            .post(
                &current,
                "/users/me/change-password",
                Some(json!({"current_password": PASSWORD, "new_password": "a brand new one"})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
        app.assert_dead(&current, "password change").await;
        app.assert_dead(&other, "password change").await;
        let fresh = app.login_with(&email, "a brand new one").await;
        app.assert_alive(&fresh, "login with the new password")
            .await;
    })
    .await;
}

#[tokio::test]
async fn a_password_reset_ends_every_session() {
    each_app(async |app| {
        let email = unique_email("reset");
        app.register(&email).await;
        let session = app.login(&email).await;
        let reply = send(
            &app.router,
            json("POST", "/auth/forgot-password", &json!({"email": email})),
        )
        .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED);
        // The mail is handed over by a task of its own, just after the 202.
        let mut token = None;
        for _ in 0..500 {
            token = app.mailbox.0.lock().unwrap().last().cloned();
            if token.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        let token = token.unwrap();
        let reply = send(
            &app.router,
            json(
                "POST",
                "/auth/reset-password",
                &json!({"token": token, "password": "reset to this"}),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        app.assert_dead(&session, "password reset").await;
        let fresh = app.login_with(&email, "reset to this").await;
        app.assert_alive(&fresh, "login after the reset").await;
    })
    .await;
}

#[tokio::test]
async fn deactivation_ends_every_session_and_reactivation_brings_none_back() {
    each_app(async |app| {
        let email = unique_email("deactivate");
        let id = app.register(&email).await;
        let session = app.login(&email).await;
        let uri = format!("/users/{id}");
        assert_eq!(
            app.admin("PATCH", &uri, Some(json!({"is_active": false})))
                .await,
            StatusCode::OK
        );
        app.assert_dead(&session, "deactivation").await;
        assert_eq!(
            app.admin("PATCH", &uri, Some(json!({"is_active": true})))
                .await,
            StatusCode::OK
        );
        app.assert_dead(&session, "reactivation").await;
        let fresh = app.login(&email).await;
        app.assert_alive(&fresh, "login after reactivation").await;
    })
    .await;
}

#[tokio::test]
async fn deletion_ends_every_session() {
    each_app(async |app| {
        let email = unique_email("delete");
        let id = app.register(&email).await;
        let session = app.login(&email).await;
        assert_eq!(
            app.admin("DELETE", &format!("/users/{id}"), None).await,
            StatusCode::NO_CONTENT
        );
        app.assert_dead(&session, "deletion").await;
    })
    .await;
}

#[tokio::test]
async fn cookie_refresh_tokens_rotate_in_their_own_cookie() {
    let app = App::new(Kind::CookieDatabase, true).await.unwrap();
    let email = unique_email("cookie");
    app.register(&email).await;
    let body = format!(
        "username={}&password={}",
        urlencode(&email),
        urlencode(PASSWORD)
    );
    let login = send(&app.router, form("/auth/main/login", &body)).await;
    let set = login.set_cookie(REFRESH_COOKIE).expect("a refresh cookie");
    for part in ["HttpOnly", "Secure", "Path=/auth/main", "Max-Age=604800"] {
        assert!(set.contains(part), "{set} lacks {part}");
    }
    let first = app.session_of(&login);
    let second = app
        .refresh(&first)
        .await
        .expect("the refresh cookie is exchanged");
    assert_ne!(second.refresh, first.refresh, "rotated on use");
    assert_ne!(second.access, first.access);
    app.assert_alive(&second, "the rotated session").await;
    // The old refresh token is a reused one now: its family is revoked.
    assert_eq!(
        app.refresh(&first).await.err(),
        Some(StatusCode::BAD_REQUEST)
    );
    assert_eq!(
        app.refresh(&second).await.err(),
        Some(StatusCode::BAD_REQUEST)
    );

    // A refresh from another site's page is refused (the cookie rides along by itself).
    let fresh = app.login(&email).await;
    let cross_site = with(
        with(
            empty("POST", "/auth/main/refresh"),
            "cookie",
            &format!("{REFRESH_COOKIE}={}", fresh.refresh.clone().unwrap()),
        ),
        "origin",
        "https://evil.example",
    );
    let reply = send(&app.router, cross_site).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(
        app.refresh(&fresh).await.is_ok(),
        "the refused attempt consumed nothing"
    );
}
