//! Defences against attacks from outside: each test fails without the defence it names
//! (docs/src/security.md lists them).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use authward_axum::{AuthBackend, Authward, AuthwardConfig, CookieTransport, Transport};
use authward_core::memory::{MemoryAccessTokenDatabase, MemoryUserDatabase};
use authward_core::strategy::{DatabaseStrategy, RefreshTokens};
use authward_core::{AccessTokenDatabase as _, UserDatabase as _, UserManager};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::json;
use time::Duration;
use uuid::Uuid;

fn with_header(mut request: Request<Body>, name: &'static str, value: &str) -> Request<Body> {
    request.headers_mut().insert(name, value.parse().unwrap());
    request
}

/// FastAPI reads an empty form field as missing: 422 for each, before any lookup or hash.
#[tokio::test]
async fn empty_login_fields_are_422_like_fastapi() {
    let app = app(Setup::BearerJwt);
    app.user("bors@camelot.bt").await;
    for (body, missing) in [
        ("username=&password=", vec!["username", "password"]),
        ("username=bors%40camelot.bt&password=", vec!["password"]),
        ("username=&password=correct+horse+battery", vec!["username"]),
    ] {
        let reply = app.call(form("/auth/jwt/login", body)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let locs: Vec<_> = reply.body["detail"]
            .as_array()
            .unwrap()
            .iter()
            .map(|issue| {
                assert_eq!(issue["type"], "missing");
                issue["loc"][1].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(locs, missing, "{body}");
    }
}

/// A cookie backend with refresh tokens, mounted at /auth/cookie.
fn cookie_app() -> (Router, MemoryUserDatabase<Uuid>) {
    let users = MemoryUserDatabase::<Uuid>::new();
    let tokens = MemoryAccessTokenDatabase::<Uuid>::new();
    let strategy = Arc::new(DatabaseStrategy::new(tokens, Some(Duration::hours(1))));
    let refresh = RefreshTokens::new(MemoryAccessTokenDatabase::<Uuid>::new(), Duration::days(1));
    let manager = UserManager::builder(users.clone(), SECRET)
        .password_helper(fast_passwords())
        .build()
        .unwrap();
    let backend = AuthBackend::new(
        "cookie",
        Transport::Cookie(CookieTransport::default()),
        strategy,
    )
    .with_refresh(refresh);
    let aw = Authward::new(manager, vec![backend], AuthwardConfig::default()).unwrap();
    let router = Router::new()
        .nest("/auth", aw.register_router())
        .nest("/auth/cookie", aw.auth_router("cookie"));
    (router, users)
}

fn set_cookies(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect()
}

/// Login CSRF: a cross-site form POST to the cookie login (or refresh) would put the
/// attacker's session into the victim's browser. The CSRF policy applies to both.
#[tokio::test]
async fn cookie_login_and_refresh_refuse_cross_site_requests() {
    let (router, _) = cookie_app();
    let register = json(
        "POST",
        "/auth/register",
        &json!({"email": "mallory@evil.example", "password": "attacker's password"}),
    );
    assert_eq!(send(&router, register).await.status, StatusCode::CREATED);
    let login = || {
        form(
            "/auth/cookie/login",
            "username=mallory%40evil.example&password=attacker%27s+password",
        )
    };
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("origin", "null"),
    ] {
        let forged = with_header(with_header(login(), name, value), "host", "app.example");
        let reply = send(&router, forged).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{name}: {value}");
        assert_eq!(reply.body, json!({"detail": "CSRF_CHECK_FAILED"}));
        assert!(set_cookies(&reply).is_empty(), "no cookie is set");
    }
    let same = with_header(
        with_header(login(), "origin", "https://app.example"),
        "host",
        "app.example",
    );
    let reply = send(&router, same).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let refresh_cookie = set_cookies(&reply)
        .into_iter()
        .find(|c| c.starts_with("fastapiusersrefresh="))
        .unwrap();
    let refresh_token = refresh_cookie
        .trim_start_matches("fastapiusersrefresh=")
        .to_owned();
    // A non-browser client (no Origin, no Sec-Fetch-Site) logs in as before.
    assert_eq!(send(&router, login()).await.status, StatusCode::NO_CONTENT);

    // Refresh with the attacker's token in the body, from another site: refused.
    let forged = with_header(
        json(
            "POST",
            "/auth/cookie/refresh",
            &json!({"refresh_token": refresh_token}),
        ),
        "sec-fetch-site",
        "cross-site",
    );
    let reply = send(&router, forged).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(set_cookies(&reply).is_empty());
    let own = json(
        "POST",
        "/auth/cookie/refresh",
        &json!({"refresh_token": refresh_token}),
    );
    assert_eq!(send(&router, own).await.status, StatusCode::NO_CONTENT);
}

/// Counts the store calls and hash operations made on a request's path.
#[derive(Clone, Default)]
struct Counters {
    lookups: Arc<std::sync::atomic::AtomicUsize>,
    hashes: Arc<std::sync::atomic::AtomicUsize>,
    hooks: Arc<std::sync::atomic::AtomicUsize>,
}

impl Counters {
    fn snapshot(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering::SeqCst;
        (self.lookups.load(SeqCst), self.hashes.load(SeqCst))
    }
}

#[derive(Clone)]
struct CountingUsers {
    inner: MemoryUserDatabase<Uuid>,
    counters: Counters,
}

#[async_trait::async_trait]
impl authward_core::UserDatabase for CountingUsers {
    type User = U;
    type Extra = ();
    async fn get(&self, id: &Uuid) -> Result<Option<U>, authward_core::DbError> {
        self.inner.get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<U>, authward_core::DbError> {
        self.counters
            .lookups
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.get_by_email(email).await
    }
    async fn create(&self, user: authward_core::NewUser) -> Result<U, authward_core::DbError> {
        self.inner.create(user).await
    }
    async fn update(
        &self,
        id: &Uuid,
        patch: authward_core::UserPatch,
    ) -> Result<U, authward_core::DbError> {
        self.inner.update(id, patch).await
    }
    async fn delete(&self, id: &Uuid) -> Result<(), authward_core::DbError> {
        self.inner.delete(id).await
    }
}

struct CountingHasher {
    inner: authward_core::Argon2Hasher,
    counters: Counters,
}

impl authward_core::PasswordHasher for CountingHasher {
    fn hash(&self, password: &str) -> Result<String, authward_core::PasswordError> {
        self.counters
            .hashes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.hash(password)
    }
    fn verify(&self, password: &str, hash: &str) -> authward_core::Verification {
        self.counters
            .hashes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.verify(password, hash)
    }
}

/// Hooks whose mailer is down: every send fails (and is counted).
struct BrokenMailer(Counters);

#[async_trait::async_trait]
impl authward_core::manager::Hooks<U> for BrokenMailer {
    async fn on_after_forgot_password(
        &self,
        _user: &U,
        _token: &str,
        _request: Option<&authward_core::manager::RequestInfo>,
    ) -> Result<(), authward_core::BoxError> {
        self.0
            .hooks
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Err("SMTP connection refused".into())
    }
    async fn on_after_request_verify(
        &self,
        _user: &U,
        _token: &str,
        _request: Option<&authward_core::manager::RequestInfo>,
    ) -> Result<(), authward_core::BoxError> {
        self.0
            .hooks
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Err("SMTP connection refused".into())
    }
}

/// With the mailer failing, forgot-password and request-verify-token answer exactly as for an
/// unknown address (202, `null`), with the same counted work on the request's path; the mail
/// is attempted (and its failure logged) after the response.
#[tokio::test]
async fn a_failing_mailer_is_no_enumeration_oracle() {
    let counters = Counters::default();
    let users = CountingUsers {
        inner: MemoryUserDatabase::<Uuid>::new(),
        counters: counters.clone(),
    };
    let hasher = CountingHasher {
        inner: authward_core::Argon2Hasher::new(64, 1, 1).unwrap(),
        counters: counters.clone(),
    };
    let manager = UserManager::builder(users.clone(), SECRET)
        .password_helper(authward_core::PasswordHelper::new(hasher))
        .hooks(BrokenMailer(counters.clone()))
        .without_sessions()
        .build()
        .unwrap();
    let backend = AuthBackend::new(
        "jwt",
        Transport::Bearer(authward_axum::BearerTransport::new("auth/jwt/login")),
        Arc::new(authward_core::JwtStrategy::hs256(SECRET, Duration::hours(1)).unwrap()),
    )
    .stateless();
    let aw = Authward::new(manager, vec![backend], AuthwardConfig::default()).unwrap();
    let router = Router::new()
        .nest("/auth", aw.reset_password_router())
        .nest("/auth", aw.verify_router());
    users
        .inner
        .create(authward_core::NewUser::new("elaine@camelot.bt", "x"))
        .await
        .unwrap();

    for route in ["/auth/forgot-password", "/auth/request-verify-token"] {
        let mut seen = Vec::new();
        for email in ["elaine@camelot.bt", "nobody@camelot.bt"] {
            let before = counters.snapshot();
            let reply = send(&router, json("POST", route, &json!({"email": email}))).await;
            let after = counters.snapshot();
            seen.push((
                reply.status,
                reply.body,
                after.0 - before.0,
                after.1 - before.1,
            ));
        }
        assert_eq!(seen[0], seen[1], "{route}: known and unknown answer alike");
        assert_eq!(seen[0].0, StatusCode::ACCEPTED);
        assert_eq!(seen[0].1, serde_json::Value::Null);
        assert_eq!((seen[0].2, seen[0].3), (1, 0), "one lookup, no hash");
    }
    // The mails were attempted for the known address only, after the responses.
    for _ in 0..500 {
        if counters.hooks.load(std::sync::atomic::Ordering::SeqCst) == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    assert_eq!(counters.hooks.load(std::sync::atomic::Ordering::SeqCst), 2);
}

mod throttling {
    use super::*;
    use authward_axum::{RouteLimits, ThrottleConfig};
    use authward_core::ManualClock;
    use authward_core::throttle::{Limit, Lockout, MemoryThrottle};
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;

    fn throttled_app(
        config: impl FnOnce(ThrottleConfig) -> ThrottleConfig,
    ) -> (Router, ManualClock) {
        let clock = ManualClock::new(time::macros::datetime!(2030-01-01 0:00 UTC));
        let store = MemoryThrottle::new().with_clock(clock.clone());
        let users = MemoryUserDatabase::<Uuid>::new();
        let manager = UserManager::builder(users, SECRET)
            .password_helper(fast_passwords())
            .without_sessions()
            .build()
            .unwrap();
        let backend = AuthBackend::new(
            "jwt",
            Transport::Bearer(authward_axum::BearerTransport::new("auth/jwt/login")),
            Arc::new(authward_core::JwtStrategy::hs256(SECRET, Duration::hours(1)).unwrap()),
        )
        .stateless();
        let aw_config = AuthwardConfig {
            throttle: Some(config(ThrottleConfig::new(store))),
            ..AuthwardConfig::default()
        };
        let aw = Authward::new(manager, vec![backend], aw_config).unwrap();
        let router = Router::new()
            .nest("/auth", aw.register_router())
            .nest("/auth", aw.reset_password_router())
            .nest("/auth", aw.verify_router())
            .nest("/auth/jwt", aw.auth_router("jwt"))
            .nest("/users", aw.users_router());
        (router, clock)
    }

    fn from(peer: &str, mut request: Request<Body>) -> Request<Body> {
        let peer: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    }

    fn login(uri: &str, email: &str, password: &str) -> Request<Body> {
        form(
            uri,
            &format!(
                "username={}&password={}",
                urlencode(email),
                urlencode(password)
            ),
        )
    }

    fn only(limit: Limit) -> RouteLimits {
        RouteLimits::all(limit)
    }

    /// No rate limits, only the failed-login delay: 2 free failures, then 10 s doubling up
    /// to 60 s.
    fn lockout_only(c: ThrottleConfig) -> ThrottleConfig {
        ThrottleConfig {
            per_client: no_limits(),
            per_account: no_limits(),
            lockout: Lockout {
                free_failures: 2,
                base_delay: std::time::Duration::from_secs(10),
                max_delay: std::time::Duration::from_secs(60),
                forget_after: std::time::Duration::from_secs(3600),
            },
            ..c
        }
    }

    fn no_limits() -> RouteLimits {
        RouteLimits::none()
    }

    /// Per client: 3 logins a minute; the 4th is 429 with Retry-After and the JSON detail,
    /// whatever the email, path variant or forged X-Forwarded-For; another client (IPv6: another
    /// /64) is not affected; the budget comes back with time.
    #[tokio::test]
    async fn clients_are_limited_whatever_they_vary() {
        let (router, clock) = throttled_app(|c| ThrottleConfig {
            per_client: only(Limit::new(3, std::time::Duration::from_secs(60))),
            per_account: no_limits(),
            ..c
        });
        let peer = "[2001:db8:1:2::10]:5000";
        for i in 0..3 {
            let reply = send(
                &router,
                from(peer, login("/auth/jwt/login", &format!("u{i}@x.io"), "pw")),
            )
            .await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "attempt {i}");
        }
        let refused = send(
            &router,
            from(peer, login("/auth/jwt/login", "other@x.io", "pw")),
        )
        .await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.body, json!({"detail": "Too Many Requests"}));
        assert_eq!(refused.headers["retry-after"], "20");
        // Another address of the same /64, a forged X-Forwarded-For, path variants: same bucket
        // or no route at all.
        let same_64 = send(
            &router,
            from(
                "[2001:db8:1:2::99]:1",
                login("/auth/jwt/login", "a@x.io", "pw"),
            ),
        )
        .await;
        assert_eq!(same_64.status, StatusCode::TOO_MANY_REQUESTS);
        let mut forged = from(peer, login("/auth/jwt/login", "a@x.io", "pw"));
        forged
            .headers_mut()
            .insert("x-forwarded-for", "198.51.100.1".parse().unwrap());
        assert_eq!(
            send(&router, forged).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );
        for variant in [
            "//auth/jwt/login",
            "/auth/jwt/login/",
            "/AUTH/JWT/LOGIN",
            "/auth//jwt/login",
            "/auth/jwt/./login",
        ] {
            let status = send(&router, from(peer, login(variant, "a@x.io", "pw")))
                .await
                .status;
            assert!(
                status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::NOT_FOUND,
                "{variant}: {status}"
            );
        }
        let elsewhere = send(
            &router,
            from(
                "[2001:db8:1:3::10]:5000",
                login("/auth/jwt/login", "a@x.io", "pw"),
            ),
        )
        .await;
        assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST);
        clock.advance(Duration::seconds(20));
        let later = send(
            &router,
            from(peer, login("/auth/jwt/login", "a@x.io", "pw")),
        )
        .await;
        assert_eq!(later.status, StatusCode::BAD_REQUEST);
        // The other routes have their own buckets and answer 429 the same way.
        for _ in 0..3 {
            let r = send(
                &router,
                from(
                    peer,
                    json("POST", "/auth/forgot-password", &json!({"email": "a@x.io"})),
                ),
            )
            .await;
            assert_eq!(r.status, StatusCode::ACCEPTED);
        }
        let r = send(
            &router,
            from(
                peer,
                json("POST", "/auth/forgot-password", &json!({"email": "b@x.io"})),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    }

    /// `POST /users/me/change-password` checks the current password as a login does: its
    /// failures count against the account's budget and delay it, so a stolen access token
    /// does not make it a password oracle; a success resets the count.
    #[tokio::test]
    async fn change_password_failures_delay_the_account_like_logins() {
        let (router, clock) = throttled_app(lockout_only);
        let peer = "192.0.2.1:1";
        let register = json(
            "POST",
            "/auth/register",
            &json!({"email": "elaine@camelot.bt", "password": "correct horse"}),
        );
        assert_eq!(
            send(&router, from(peer, register)).await.status,
            StatusCode::CREATED
        );
        let logged_in = send(
            &router,
            from(
                peer,
                login("/auth/jwt/login", "elaine@camelot.bt", "correct horse"),
            ),
        )
        .await;
        assert_eq!(logged_in.status, StatusCode::OK);
        let token = logged_in.body["access_token"].as_str().unwrap().to_owned();
        let change = |current: &str| {
            let mut request = json(
                "POST",
                "/users/me/change-password",
                &json!({"current_password": current, "new_password": "a new horse battery"}),
            );
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
            from(peer, request)
        };
        let mut statuses = Vec::new();
        for guess in ["guess one", "guess two", "guess three", "correct horse"] {
            statuses.push(send(&router, change(guess)).await.status.as_u16());
        }
        assert_eq!(statuses, [400, 400, 400, 429], "even the right one waits");
        // The delay covers the login route too: one budget per account.
        let login_now = send(
            &router,
            from(
                peer,
                login("/auth/jwt/login", "elaine@camelot.bt", "correct horse"),
            ),
        )
        .await;
        assert_eq!(login_now.status, StatusCode::TOO_MANY_REQUESTS);
        clock.advance(Duration::seconds(10));
        assert_eq!(
            send(&router, change("correct horse")).await.status,
            StatusCode::NO_CONTENT
        );
    }

    /// Per account: consecutive failures delay the account exponentially (never for good),
    /// for known and unknown emails alike and whatever the case of the address; a success
    /// resets the count; forgot-password keeps working for the owner meanwhile.
    #[tokio::test]
    async fn failed_logins_delay_the_account_and_success_resets() {
        let (router, clock) = throttled_app(lockout_only);
        let register = json(
            "POST",
            "/auth/register",
            &json!({"email": "elaine@camelot.bt", "password": "correct horse"}),
        );
        assert_eq!(
            send(&router, from("192.0.2.1:1", register)).await.status,
            StatusCode::CREATED
        );
        for email in ["elaine@camelot.bt", "nobody@camelot.bt"] {
            let mut statuses = Vec::new();
            for i in 0..4 {
                // Each attempt from another client: the account is what is throttled.
                let peer = format!("192.0.2.{}:1", 10 + i);
                let who = if i % 2 == 0 {
                    email.to_uppercase()
                } else {
                    email.to_owned()
                };
                let reply = send(
                    &router,
                    from(&peer, login("/auth/jwt/login", &who, "wrong")),
                )
                .await;
                statuses.push(reply.status.as_u16());
            }
            assert_eq!(statuses, [400, 400, 400, 429], "{email}");
        }
        // The owner can still reset the password.
        let forgot = json(
            "POST",
            "/auth/forgot-password",
            &json!({"email": "elaine@camelot.bt"}),
        );
        assert_eq!(
            send(&router, from("192.0.2.99:1", forgot)).await.status,
            StatusCode::ACCEPTED
        );
        // After the delay a correct login works and resets the count.
        clock.advance(Duration::seconds(10));
        let ok = send(
            &router,
            from(
                "192.0.2.1:1",
                login("/auth/jwt/login", "elaine@camelot.bt", "correct horse"),
            ),
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK);
        for _ in 0..2 {
            let r = send(
                &router,
                from(
                    "192.0.2.1:1",
                    login("/auth/jwt/login", "elaine@camelot.bt", "wrong"),
                ),
            )
            .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "the count restarted");
        }
        // The delay doubles, and stays bounded.
        let third = send(
            &router,
            from(
                "192.0.2.1:1",
                login("/auth/jwt/login", "elaine@camelot.bt", "wrong"),
            ),
        )
        .await;
        assert_eq!(third.status, StatusCode::BAD_REQUEST);
        let blocked = send(
            &router,
            from(
                "192.0.2.1:1",
                login("/auth/jwt/login", "elaine@camelot.bt", "wrong"),
            ),
        )
        .await;
        assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(blocked.headers["retry-after"], "10");
        clock.advance(Duration::seconds(10));
        let fourth = send(
            &router,
            from(
                "192.0.2.1:1",
                login("/auth/jwt/login", "elaine@camelot.bt", "wrong"),
            ),
        )
        .await;
        assert_eq!(fourth.status, StatusCode::BAD_REQUEST);
        let blocked = send(
            &router,
            from(
                "192.0.2.1:1",
                login("/auth/jwt/login", "elaine@camelot.bt", "wrong"),
            ),
        )
        .await;
        assert_eq!(blocked.headers["retry-after"], "20");
    }
}

/// With `requires_verification`, `/refresh` refuses the users `/login` refuses: after an
/// email change leaves the user unverified, a refresh token gets no new tokens (`400
/// LOGIN_USER_NOT_VERIFIED`) and is not spent by the attempt, so it works again once the
/// user is verified.
#[tokio::test]
async fn refresh_requires_verification_like_login() {
    use authward_core::manager::UserCreate;

    let users = MemoryUserDatabase::<Uuid>::new();
    let manager = UserManager::builder(users.clone(), SECRET)
        .password_helper(fast_passwords())
        .build()
        .unwrap();
    let verified = |email: &str, superuser: bool| {
        let mut create = UserCreate::new(email, "correct horse");
        create.is_verified = Some(true);
        create.is_superuser = Some(superuser);
        create
    };
    let user = manager
        .create(verified("percival@camelot.bt", false), false, None)
        .await
        .unwrap();
    manager
        .create(verified("arthur@camelot.bt", true), false, None)
        .await
        .unwrap();
    let strategy = Arc::new(
        authward_core::JwtStrategy::builder(
            authward_core::strategy::JwtKey::hs256(SECRET).unwrap(),
            Duration::hours(1),
        )
        .revocation_store(MemoryAccessTokenDatabase::<Uuid>::new())
        .build()
        .unwrap(),
    );
    let backend = AuthBackend::new(
        "jwt",
        Transport::Bearer(authward_axum::BearerTransport::new("auth/jwt/login")),
        strategy,
    )
    .with_refresh_arc(Arc::new(RefreshTokens::new(
        MemoryAccessTokenDatabase::<Uuid>::new(),
        Duration::days(7),
    )));
    let config = AuthwardConfig {
        requires_verification: true,
        ..AuthwardConfig::default()
    };
    let aw = Authward::new(manager, vec![backend], config).unwrap();
    let router = Router::new()
        .nest("/auth/jwt", aw.auth_router("jwt"))
        .nest("/users", aw.users_router());
    let log_in = |email: &str| {
        form(
            "/auth/jwt/login",
            &format!("username={}&password=correct+horse", urlencode(email)),
        )
    };
    let bearer = |mut request: Request<Body>, token: &str| {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        request
    };
    let refresh = |token: &str| {
        json(
            "POST",
            "/auth/jwt/refresh",
            &json!({"refresh_token": token}),
        )
    };

    let logged_in = send(&router, log_in("percival@camelot.bt")).await;
    assert_eq!(logged_in.status, StatusCode::OK);
    let access = logged_in.body["access_token"].as_str().unwrap().to_owned();
    let refresh_token = logged_in.body["refresh_token"].as_str().unwrap().to_owned();

    // The email change leaves the user unverified (and logged in).
    let changed = send(
        &router,
        bearer(
            json("PATCH", "/users/me", &json!({"email": "grail@camelot.bt"})),
            &access,
        ),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.body["is_verified"], json!(false));
    assert_eq!(
        send(&router, log_in("grail@camelot.bt")).await.body,
        json!({"detail": "LOGIN_USER_NOT_VERIFIED"})
    );
    let refused = send(&router, refresh(&refresh_token)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.body, json!({"detail": "LOGIN_USER_NOT_VERIFIED"}));

    // Verified again (by a superuser here), the same refresh token works: it was not spent.
    let admin = send(&router, log_in("arthur@camelot.bt")).await;
    let admin_token = admin.body["access_token"].as_str().unwrap().to_owned();
    let verify = send(
        &router,
        bearer(
            json(
                "PATCH",
                &format!("/users/{}", user.id),
                &json!({"is_verified": true}),
            ),
            &admin_token,
        ),
    )
    .await;
    assert_eq!(verify.status, StatusCode::OK);
    let renewed = send(&router, refresh(&refresh_token)).await;
    assert_eq!(renewed.status, StatusCode::OK, "{:?}", renewed.body);
    assert!(renewed.body["refresh_token"].is_string());
}

/// An application route logging users in (a magic link, an OAuth callback) cannot know where
/// the auth router is mounted: a refresh cookie it set would get the wrong `Path` (and survive
/// logout). Without `refresh_path` it answers 500 before issuing anything.
#[tokio::test]
async fn a_login_outside_the_auth_router_needs_the_refresh_cookie_path() {
    use axum::http::request::Parts;
    use axum::response::IntoResponse;

    for (refresh_path, status) in [
        (None, StatusCode::INTERNAL_SERVER_ERROR),
        (Some("/auth/cookie"), StatusCode::NO_CONTENT),
    ] {
        let users = MemoryUserDatabase::<Uuid>::new();
        let tokens = MemoryAccessTokenDatabase::<Uuid>::new();
        let refresh_tokens = MemoryAccessTokenDatabase::<Uuid>::new();
        let manager = UserManager::builder(users.clone(), SECRET)
            .password_helper(fast_passwords())
            .build()
            .unwrap();
        let transport = CookieTransport {
            refresh_path: refresh_path.map(str::to_owned),
            ..CookieTransport::default()
        };
        let backend = AuthBackend::new(
            "cookie",
            Transport::Cookie(transport),
            Arc::new(DatabaseStrategy::new(
                tokens.clone(),
                Some(Duration::hours(1)),
            )),
        )
        .with_refresh(RefreshTokens::new(
            refresh_tokens.clone(),
            Duration::days(1),
        ));
        let aw = Authward::new(manager, vec![backend], AuthwardConfig::default()).unwrap();
        let magic = {
            let aw = aw.clone();
            axum::routing::post(move |parts: Parts| async move {
                let user = aw
                    .manager()
                    .get_by_email("lancelot@camelot.bt")
                    .await
                    .unwrap();
                aw.login_response("cookie", &user, &parts)
                    .await
                    .into_response()
            })
        };
        let router = Router::new()
            .nest("/auth", aw.register_router())
            .nest("/auth/cookie", aw.auth_router("cookie"))
            .route("/magic/login", magic);
        let register = json(
            "POST",
            "/auth/register",
            &json!({"email": "lancelot@camelot.bt", "password": "correct horse battery"}),
        );
        assert_eq!(send(&router, register).await.status, StatusCode::CREATED);
        let id = users
            .get_by_email("lancelot@camelot.bt")
            .await
            .unwrap()
            .unwrap()
            .id;

        let reply = send(&router, form("/magic/login", "")).await;
        assert_eq!(reply.status, status, "{refresh_path:?}");
        let issued = tokens.list_for_user(&id).await.unwrap().len()
            + refresh_tokens.list_for_user(&id).await.unwrap().len();
        match refresh_path {
            None => {
                assert_eq!(issued, 0, "nothing issued");
                assert!(set_cookies(&reply).is_empty());
            }
            Some(path) => {
                let refresh = reply
                    .headers
                    .get_all("set-cookie")
                    .iter()
                    .map(|v| v.to_str().unwrap().to_owned())
                    .find(|c| c.starts_with("fastapiusersrefresh="))
                    .unwrap();
                assert!(refresh.contains(&format!("Path={path};")), "{refresh}");
            }
        }
    }
}

/// A strategy that holds its next token write when armed, so a test can change the password
/// (or end every session) while a login or a refresh is between its checks and its token.
struct HoldsNextWrite {
    inner: Arc<dyn authward_core::strategy::Strategy<authward_core::User<Uuid>>>,
    armed: std::sync::atomic::AtomicBool,
    reached: tokio::sync::Notify,
    release: tokio::sync::Notify,
    /// When set, each revocation of all of a user's sessions notes whether this refresh store
    /// already held the user's all-revoked mark (a used record without a family).
    refresh_tokens: Option<MemoryAccessTokenDatabase<Uuid>>,
    saw_mark: std::sync::Mutex<Vec<bool>>,
}

impl HoldsNextWrite {
    fn over(
        inner: Arc<dyn authward_core::strategy::Strategy<authward_core::User<Uuid>>>,
        refresh_tokens: Option<MemoryAccessTokenDatabase<Uuid>>,
    ) -> Self {
        Self {
            inner,
            armed: std::sync::atomic::AtomicBool::new(false),
            reached: tokio::sync::Notify::new(),
            release: tokio::sync::Notify::new(),
            refresh_tokens,
            saw_mark: std::sync::Mutex::new(Vec::new()),
        }
    }
}

#[async_trait::async_trait]
impl authward_core::strategy::Strategy<authward_core::User<Uuid>> for HoldsNextWrite {
    async fn read_token(
        &self,
        token: &str,
        users: &dyn authward_core::strategy::UserLookup<authward_core::User<Uuid>>,
    ) -> Result<Option<authward_core::User<Uuid>>, authward_core::strategy::StrategyError> {
        self.inner.read_token(token, users).await
    }
    async fn write_token(
        &self,
        user: &authward_core::User<Uuid>,
    ) -> Result<String, authward_core::strategy::StrategyError> {
        if self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            self.reached.notify_one();
            self.release.notified().await;
        }
        self.inner.write_token(user).await
    }
    async fn destroy_token(
        &self,
        token: &str,
        user: &authward_core::User<Uuid>,
    ) -> Result<(), authward_core::strategy::StrategyError> {
        self.inner.destroy_token(token, user).await
    }
    async fn revoke_all(
        &self,
        user_id: &Uuid,
        reason: authward_core::RevokeReason,
    ) -> Result<(), authward_core::strategy::StrategyError> {
        if let Some(refresh_tokens) = &self.refresh_tokens {
            let records = refresh_tokens.list_for_user(user_id).await.unwrap();
            let marked = records
                .iter()
                .any(|record| record.used && record.family.is_none());
            self.saw_mark.lock().unwrap().push(marked);
        }
        self.inner.revoke_all(user_id, reason).await
    }
    fn revocation(&self) -> authward_core::strategy::Revocation {
        self.inner.revocation()
    }
}

/// An app whose `db` backend (database strategy, refresh tokens) holds its next token write
/// when armed, with one registered user.
struct HeldLogin {
    users: MemoryUserDatabase<Uuid>,
    tokens: MemoryAccessTokenDatabase<Uuid>,
    refresh_tokens: MemoryAccessTokenDatabase<Uuid>,
    strategy: Arc<HoldsNextWrite>,
    aw: Authward<MemoryUserDatabase<Uuid>>,
    router: Router,
    user: authward_core::User<Uuid>,
}

async fn held_login_app(email: &str, password: &str) -> HeldLogin {
    let users = MemoryUserDatabase::<Uuid>::new();
    let tokens = MemoryAccessTokenDatabase::<Uuid>::new();
    let refresh_tokens = MemoryAccessTokenDatabase::<Uuid>::new();
    let strategy = Arc::new(HoldsNextWrite::over(
        Arc::new(DatabaseStrategy::new(
            tokens.clone(),
            Some(Duration::hours(1)),
        )),
        None,
    ));
    let manager = UserManager::builder(users.clone(), SECRET)
        .password_helper(fast_passwords())
        .build()
        .unwrap();
    let backend = AuthBackend::new(
        "db",
        Transport::Bearer(authward_axum::BearerTransport::new("auth/db/login")),
        strategy.clone(),
    )
    .with_refresh(RefreshTokens::new(
        refresh_tokens.clone(),
        Duration::days(1),
    ));
    let aw = Authward::new(manager, vec![backend], AuthwardConfig::default()).unwrap();
    let router = Router::new()
        .nest("/auth", aw.register_router())
        .nest("/auth/db", aw.auth_router("db"));
    let register = json(
        "POST",
        "/auth/register",
        &json!({"email": email, "password": password}),
    );
    assert_eq!(send(&router, register).await.status, StatusCode::CREATED);
    let user = aw.manager().get_by_email(email).await.unwrap();
    HeldLogin {
        users,
        tokens,
        refresh_tokens,
        strategy,
        aw,
        router,
        user,
    }
}

impl HeldLogin {
    /// Logs the user in with `password`, running `meanwhile` while the login waits to write
    /// its token (after its password check).
    async fn login_while(&self, password: &str, meanwhile: impl Future<Output = ()>) -> Reply {
        self.strategy
            .armed
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let login = form(
            "/auth/db/login",
            &format!(
                "username={}&password={}",
                urlencode(&self.user.email),
                urlencode(password)
            ),
        );
        let (reply, ()) = tokio::join!(send(&self.router, login), async {
            self.strategy.reached.notified().await;
            meanwhile.await;
            self.strategy.release.notify_one();
        });
        reply
    }
}

/// A password change landing while a login with the old password is between its check and its
/// tokens: the change's revocation ran before the tokens existed, so the login must not hand
/// them out.
#[tokio::test]
async fn a_login_racing_a_password_change_hands_out_nothing() {
    let app = held_login_app("gawain@camelot.bt", "the old password").await;
    let reply = app
        .login_while("the old password", async {
            let change = authward_core::manager::UserUpdate {
                password: Some("the new password".into()),
                ..authward_core::manager::UserUpdate::default()
            };
            app.aw
                .manager()
                .update(change, &app.user, true, None)
                .await
                .unwrap();
        })
        .await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert_eq!(reply.body, json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
    let id = app.user.id;
    assert!(app.tokens.list_for_user(&id).await.unwrap().is_empty());
    let refresh_left = app.refresh_tokens.list_for_user(&id).await.unwrap();
    assert!(
        refresh_left.iter().all(|record| record.used),
        "no live refresh token"
    );
    // The new password logs in as usual.
    let login = form(
        "/auth/db/login",
        "username=gawain%40camelot.bt&password=the+new+password",
    );
    assert_eq!(send(&app.router, login).await.status, StatusCode::OK);
}

/// Another login upgraded the user's hash (a new hash of the same password) while this one
/// was between its check and its tokens: the password still signs in, so the login stands.
#[tokio::test]
async fn a_login_stands_when_the_same_password_was_rehashed_meanwhile() {
    let app = held_login_app("percival@camelot.bt", "the same password").await;
    let reply = app
        .login_while("the same password", async {
            let passwords = app.aw.manager().passwords();
            let rehashed = passwords.hash("the same password").await.unwrap();
            let patch = authward_core::UserPatch {
                hashed_password: Some(rehashed),
                ..authward_core::UserPatch::default()
            };
            app.users.update(&app.user.id, patch).await.unwrap();
        })
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert!(reply.body["access_token"].as_str().is_some());
    assert_eq!(
        app.tokens.list_for_user(&app.user.id).await.unwrap().len(),
        1
    );
}

/// Log-out-everywhere landing while `/refresh` has exchanged its refresh token and is writing
/// the access token: the revocation ended the access tokens before that one existed, so the
/// refresh must hand out nothing, and the access token must not outlive the revocation.
#[tokio::test]
async fn a_refresh_racing_log_out_everywhere_hands_out_nothing() {
    let app = held_login_app("bors@camelot.bt", "a good password").await;
    let login = form(
        "/auth/db/login",
        "username=bors%40camelot.bt&password=a+good+password",
    );
    let login = send(&app.router, login).await;
    assert_eq!(login.status, StatusCode::OK, "{:?}", login.body);
    let access = login.body["access_token"].as_str().unwrap().to_owned();
    let refresh_token = login.body["refresh_token"].as_str().unwrap().to_owned();

    app.strategy
        .armed
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let refresh = json(
        "POST",
        "/auth/db/refresh",
        &json!({"refresh_token": refresh_token}),
    );
    let (reply, ()) = tokio::join!(send(&app.router, refresh), async {
        app.strategy.reached.notified().await;
        let mut everywhere = post_empty("/auth/db/logout-all");
        everywhere
            .headers_mut()
            .insert("authorization", format!("Bearer {access}").parse().unwrap());
        let ended = send(&app.router, everywhere).await;
        assert_eq!(ended.status, StatusCode::NO_CONTENT, "{:?}", ended.body);
        app.strategy.release.notify_one();
    });

    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert_eq!(reply.body, json!({"detail": "REFRESH_TOKEN_INVALID"}));
    let id = app.user.id;
    assert!(
        app.tokens.list_for_user(&id).await.unwrap().is_empty(),
        "the access token written meanwhile is destroyed"
    );
    let refresh_left = app.refresh_tokens.list_for_user(&id).await.unwrap();
    assert!(
        refresh_left.iter().all(|record| record.used),
        "no live refresh token"
    );
}

/// A refresh checks the refresh tokens' marks after writing its access token, which ends that
/// token only if every mark is written before any strategy revokes its access tokens. With a
/// strategy shared by a backend without refresh tokens listed first, the strategy must still
/// be revoked after the refresh tokens.
#[tokio::test]
async fn refresh_tokens_are_revoked_before_any_strategy_whatever_the_backend_order() {
    let refresh_tokens = MemoryAccessTokenDatabase::<Uuid>::new();
    let strategy = Arc::new(HoldsNextWrite::over(
        Arc::new(DatabaseStrategy::new(
            MemoryAccessTokenDatabase::<Uuid>::new(),
            Some(Duration::hours(1)),
        )),
        Some(refresh_tokens.clone()),
    ));
    let users = MemoryUserDatabase::<Uuid>::new();
    let manager = UserManager::builder(users.clone(), SECRET)
        .password_helper(fast_passwords())
        .build()
        .unwrap();
    let plain = AuthBackend::new(
        "plain",
        Transport::Bearer(authward_axum::BearerTransport::new("auth/plain/login")),
        strategy.clone(),
    );
    let with_refresh = AuthBackend::new(
        "db",
        Transport::Bearer(authward_axum::BearerTransport::new("auth/db/login")),
        strategy.clone(),
    )
    .with_refresh(RefreshTokens::new(refresh_tokens, Duration::days(1)));
    let aw = Authward::new(
        manager,
        vec![plain, with_refresh],
        AuthwardConfig::default(),
    )
    .unwrap();
    let user = aw
        .manager()
        .create(
            authward_core::manager::UserCreate::new("lancelot@camelot.bt", "a good password"),
            false,
            None,
        )
        .await
        .unwrap();

    aw.manager().revoke_all_sessions(&user.id).await.unwrap();

    assert_eq!(*strategy.saw_mark.lock().unwrap(), vec![true]);
}
