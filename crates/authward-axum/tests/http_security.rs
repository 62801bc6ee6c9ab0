//! Defences against attacks from outside: each test fails without the defence it names
//! (docs/security.md lists them).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use authward_axum::{AuthBackend, Authward, AuthwardConfig, CookieTransport, Transport};
use authward_core::UserManager;
use authward_core::memory::{MemoryAccessTokenDatabase, MemoryUserDatabase};
use authward_core::strategy::{DatabaseStrategy, RefreshTokens};
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
