//! What authward adds to FastAPI Users' contract, and the cross-cutting rules: several
//! backends in order, CSRF defence for cookies, refresh rotation, change-password,
//! log-out-everywhere, session listing, and 503 when the store is down.
#![allow(clippy::unwrap_used)]

mod common;

use async_trait::async_trait;
use authward_core::memory::MemoryUserDatabase;
use authward_core::{DbError, NewUser, UserDatabase, UserPatch};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::json;
use uuid::Uuid;

fn with_header(mut request: Request<Body>, name: &'static str, value: &str) -> Request<Body> {
    request.headers_mut().insert(name, value.parse().unwrap());
    request
}

#[tokio::test]
async fn backends_are_tried_in_order() {
    let users = MemoryUserDatabase::<Uuid>::new();
    let (router, _) = app_with(
        users.clone(),
        &[Setup::BearerJwt, Setup::CookieDatabase],
        false,
    );
    let app = TestApp {
        router,
        users,
        mailbox: Default::default(),
        setup: Setup::BearerJwt,
    };
    let (alice, bearer) = app.user("alice@camelot.bt").await;
    let (bob, _) = app.user("bob@camelot.bt").await;
    // Bob's cookie from the second backend.
    let login = app
        .call(form(
            "/auth/second/login",
            "username=bob%40camelot.bt&password=correct+horse+battery",
        ))
        .await;
    assert_eq!(login.status, StatusCode::NO_CONTENT);
    let set = login.headers["set-cookie"].to_str().unwrap();
    let cookie = set.split(';').next().unwrap().to_owned();

    let only_cookie = app
        .call(with_header(get("/users/me"), "cookie", &cookie))
        .await;
    assert_eq!(only_cookie.body["id"], bob.to_string());
    let both = app
        .call(with_header(
            bearer.apply(get("/users/me")),
            "cookie",
            &cookie,
        ))
        .await;
    assert_eq!(both.body["id"], alice.to_string(), "the first backend wins");
    let bad_bearer_good_cookie = app
        .call(with_header(
            Auth::Bearer("forged".into()).apply(get("/users/me")),
            "cookie",
            &cookie,
        ))
        .await;
    assert_eq!(
        bad_bearer_good_cookie.body["id"],
        bob.to_string(),
        "a backend that finds no user passes to the next"
    );

    // Logging out through the first backend's route ends the cookie session that was
    // presented (destroyed by the backend that accepted it, not by the JWT strategy).
    let out = app
        .call(with_header(
            post_empty("/auth/jwt/logout"),
            "cookie",
            &cookie,
        ))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let after = app
        .call(with_header(get("/users/me"), "cookie", &cookie))
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cookie_auth_refuses_cross_site_state_changes() {
    let app = app(Setup::CookieDatabase);
    let (_, auth) = app.user("gaheris@camelot.bt").await;
    let patch = || json("PATCH", "/users/me", &json!({"email": "g2@camelot.bt"}));

    let evil = with_header(
        with_header(auth.apply(patch()), "origin", "https://evil.example"),
        "host",
        "camelot.bt",
    );
    let refused = app.call(evil).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body, json!({"detail": "CSRF_CHECK_FAILED"}));
    let cross = with_header(auth.apply(patch()), "sec-fetch-site", "cross-site");
    assert_eq!(app.call(cross).await.status, StatusCode::FORBIDDEN);
    let logout = with_header(
        auth.apply(post_empty("/auth/jwt/logout")),
        "sec-fetch-site",
        "cross-site",
    );
    assert_eq!(app.call(logout).await.status, StatusCode::FORBIDDEN);

    let read = with_header(
        auth.apply(get("/users/me")),
        "origin",
        "https://evil.example",
    );
    assert_eq!(app.call(read).await.status, StatusCode::OK, "GET is safe");
    let same = with_header(
        with_header(auth.apply(patch()), "origin", "https://camelot.bt"),
        "host",
        "camelot.bt",
    );
    assert_eq!(app.call(same).await.status, StatusCode::OK);

    // Bearer tokens are not sent by browsers on their own: no CSRF check.
    let app = common::app(Setup::BearerDatabase);
    let (_, auth) = app.user("bearer@camelot.bt").await;
    let cross = with_header(auth.apply(patch()), "sec-fetch-site", "cross-site");
    assert_eq!(app.call(cross).await.status, StatusCode::OK);
}

/// One JWT backend (with its revocation store) handing out refresh tokens.
fn jwt_app_with_refresh() -> TestApp {
    let users = MemoryUserDatabase::<Uuid>::new();
    let (router, _) = app_with(users.clone(), &[Setup::BearerJwt], true);
    TestApp {
        router,
        users,
        mailbox: Default::default(),
        setup: Setup::BearerJwt,
    }
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = jwt_app_with_refresh();
    app.register("owain@camelot.bt", "correct horse battery")
        .await;
    let login = app.login("owain@camelot.bt", "correct horse battery").await;
    assert_eq!(login.status, StatusCode::OK);
    let first = login.body["refresh_token"].as_str().unwrap().to_owned();

    let rotated = app.call(refresh_request(&first)).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let second = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first, "every refresh rotates the token");
    let access = rotated.body["access_token"].as_str().unwrap().to_owned();
    let me = app.call(Auth::Bearer(access).apply(get("/users/me"))).await;
    assert_eq!(me.status, StatusCode::OK);

    let reused = app.call(refresh_request(&first)).await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);
    assert_eq!(reused.body, json!({"detail": "REFRESH_TOKEN_INVALID"}));
    let newest = app.call(refresh_request(&second)).await;
    assert_eq!(
        newest.status,
        StatusCode::BAD_REQUEST,
        "reuse revoked the whole family, the newest token included"
    );
    let garbage = app.call(refresh_request("x")).await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
}

/// A logout whose body cannot be read is refused before it ends anything: it never answers an
/// error after ending some of the session (the refresh family linked to the access token).
#[tokio::test]
async fn a_logout_with_a_malformed_body_ends_nothing() {
    let app = jwt_app_with_refresh();
    app.register("lunete@camelot.bt", "correct horse battery")
        .await;
    let login = app
        .login("lunete@camelot.bt", "correct horse battery")
        .await;
    assert_eq!(login.status, StatusCode::OK);
    let access = Auth::Bearer(login.body["access_token"].as_str().unwrap().to_owned());
    let refresh_token = login.body["refresh_token"].as_str().unwrap().to_owned();

    let refused = app
        .call(access.apply(json(
            "POST",
            "/auth/jwt/logout",
            &json!({"refresh_token": 1}),
        )))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);

    let me = app.call(access.apply(get("/users/me"))).await;
    assert_eq!(me.status, StatusCode::OK, "the access token still works");
    let refreshed = app.call(refresh_request(&refresh_token)).await;
    assert_eq!(
        refreshed.status,
        StatusCode::OK,
        "the refresh family linked to the access token was not ended: {:?}",
        refreshed.body
    );
}

#[tokio::test]
async fn change_password_needs_the_current_one_and_revokes_jwts() {
    let app = app(Setup::BearerJwt);
    let (_, auth) = app.user("yvain@camelot.bt").await;
    let change = |current: &str, new: &str| {
        json(
            "POST",
            "/users/me/change-password",
            &json!({"current_password": current, "new_password": new}),
        )
    };
    let wrong = app
        .call(auth.apply(change("not it at all", "new secret 123")))
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong.body,
        json!({"detail": "CHANGE_PASSWORD_BAD_CURRENT_PASSWORD"})
    );
    let weak = app
        .call(auth.apply(change("correct horse battery", "short")))
        .await;
    assert_eq!(
        weak.body["detail"]["code"],
        "CHANGE_PASSWORD_INVALID_PASSWORD"
    );
    let ok = app
        .call(auth.apply(change("correct horse battery", "new secret 123")))
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    let old = app.call(auth.apply(get("/users/me"))).await;
    assert_eq!(
        old.status,
        StatusCode::UNAUTHORIZED,
        "a JWT issued before the password change no longer works"
    );
    app.login_auth("yvain@camelot.bt", "new secret 123").await;
}

#[tokio::test]
async fn logout_everywhere_and_sessions() {
    let app = app(Setup::BearerDatabase);
    let (_, first) = app.user("enide@camelot.bt").await;
    let second = app
        .login_auth("enide@camelot.bt", "correct horse battery")
        .await;
    let listed = app.call(first.apply(get("/auth/jwt/sessions"))).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body.as_array().unwrap().len(), 2);
    let out = app
        .call(second.apply(post_empty("/auth/jwt/logout-all")))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    for auth in [first, second] {
        let me = app.call(auth.apply(get("/users/me"))).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    }
}

/// A login whose `on_after_login` hook fails answers an error and hands out no token, so it
/// must not leave one behind: its session is withdrawn.
#[tokio::test]
async fn a_login_whose_after_login_hook_fails_leaves_no_session() {
    let app = app(Setup::BearerDatabase);
    let (_, first) = app.user("erec@camelot.bt").await;
    app.mailbox
        .fail_after_login
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let failed = app.login("erec@camelot.bt", "correct horse battery").await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    app.mailbox
        .fail_after_login
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let listed = app.call(first.apply(get("/auth/jwt/sessions"))).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(1),
        "only the first login's session remains: {:?}",
        listed.body
    );
}

/// A store whose server is gone.
#[derive(Clone)]
struct Down;

fn down() -> DbError {
    DbError::unavailable(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "connection refused",
    ))
}

#[async_trait]
impl UserDatabase for Down {
    type User = U;
    type Extra = ();
    async fn get(&self, _: &Uuid) -> Result<Option<U>, DbError> {
        Err(down())
    }
    async fn get_by_email(&self, _: &str) -> Result<Option<U>, DbError> {
        Err(down())
    }
    async fn create(&self, _: NewUser) -> Result<U, DbError> {
        Err(down())
    }
    async fn update(&self, _: &Uuid, _: UserPatch) -> Result<U, DbError> {
        Err(down())
    }
    async fn delete(&self, _: &Uuid) -> Result<(), DbError> {
        Err(down())
    }
}

#[tokio::test]
async fn an_unreachable_store_is_503_with_json() {
    let (router, _) = app_with(Down, &[Setup::BearerJwt], false);
    let jwt = authward_core::strategy::JwtStrategy::<Uuid>::hs256(SECRET, time::Duration::hours(1))
        .unwrap();
    let user = NewUser::<()>::new("x@camelot.bt", "hash").into_user(Uuid::new_v4());
    let token = authward_core::strategy::Strategy::write_token(&jwt, &user)
        .await
        .unwrap();
    let cases = [
        Auth::Bearer(token).apply(get("/users/me")),
        form(
            "/auth/jwt/login",
            "username=x%40camelot.bt&password=whatever1",
        ),
        json(
            "POST",
            "/auth/register",
            &json!({"email": "x@camelot.bt", "password": "whatever1"}),
        ),
        json(
            "POST",
            "/auth/forgot-password",
            &json!({"email": "x@camelot.bt"}),
        ),
    ];
    for request in cases {
        let uri = request.uri().to_string();
        let reply = send(&router, request).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert_eq!(
            reply.body,
            json!({"detail": "Service Unavailable"}),
            "{uri}"
        );
    }
}
