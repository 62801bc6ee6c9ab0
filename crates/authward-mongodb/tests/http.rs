//! NoSQL injection through the real routers on a MongoDB-backed app: JSON objects and arrays
//! where strings belong are refused with 422 before any query, on every route that takes an
//! email, a token, a password or an ID; regex characters in an email are literal.

mod common;

use authward_core::{UserDatabase, UserPatch};
use axum::http::StatusCode;
use common::Scratch;
use common::app::{self, MongoApp, get, json};
use serde_json::{Value, json};

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// What an attacker puts where a string belongs.
fn payloads() -> Vec<Value> {
    vec![
        json!({ "$ne": null }),
        json!({ "$gt": "" }),
        json!({ "$regex": ".*" }),
        json!(["victim@example.com"]),
        json!([{ "$ne": null }]),
    ]
}

/// Sends the request and checks: 422 in FastAPI's shape, naming the field, and no store call
/// received anything.
async fn refused(app: &MongoApp, what: &str, request: axum::http::Request<axum::body::Body>) {
    let before = app.seen.lock().expect("lock").len();
    let reply = app.send(request).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{what}: {}",
        reply.body
    );
    assert!(reply.body["detail"].is_array(), "{what}: {}", reply.body);
    let seen = app.seen.lock().expect("lock");
    let leaked: Vec<_> = seen[before..]
        .iter()
        .filter(|v| v.contains('$') || v.contains('[') || v.contains('{'))
        .collect();
    assert!(leaked.is_empty(), "{what}: the store saw {leaked:?}");
}

#[test]
fn objects_and_arrays_where_strings_belong_are_refused_on_every_route() {
    block_on(async {
        let Some(scratch) = Scratch::new().await else {
            return;
        };
        let app = app::app(&scratch).await;
        assert_eq!(
            app.register("victim@example.com", "password-1")
                .await
                .status,
            StatusCode::CREATED
        );
        let admin = app.register("admin@example.com", "password-1").await;
        let admin_id = admin.body["id"].as_str().expect("id").to_owned();
        let admin_oid = authward_mongodb::bson::oid::ObjectId::parse_str(&admin_id).expect("oid");
        app.users
            .update(
                &admin_oid,
                UserPatch {
                    is_superuser: Some(true),
                    ..UserPatch::default()
                },
            )
            .await
            .expect("promote");
        let login = app.login("admin@example.com", "password-1").await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.body);
        let token = login.body["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        let victim = app
            .users
            .get_by_email("victim@example.com")
            .await
            .expect("get")
            .expect("victim");
        let victim_path = format!("/users/{}", victim.id.to_hex());
        let bearer = Some(token.as_str());

        for p in payloads() {
            let cases: Vec<(&str, &str, &str, Option<&str>, Value)> = vec![
                (
                    "register email",
                    "POST",
                    "/auth/register",
                    None,
                    json!({ "email": p, "password": "password-1" }),
                ),
                (
                    "register password",
                    "POST",
                    "/auth/register",
                    None,
                    json!({ "email": "new@example.com", "password": p }),
                ),
                (
                    "forgot-password",
                    "POST",
                    "/auth/forgot-password",
                    None,
                    json!({ "email": p }),
                ),
                (
                    "reset-password token",
                    "POST",
                    "/auth/reset-password",
                    None,
                    json!({ "token": p, "password": "password-2" }),
                ),
                (
                    "reset-password password",
                    "POST",
                    "/auth/reset-password",
                    None,
                    json!({ "token": "t", "password": p }),
                ),
                (
                    "request-verify-token",
                    "POST",
                    "/auth/request-verify-token",
                    None,
                    json!({ "email": p }),
                ),
                (
                    "verify",
                    "POST",
                    "/auth/verify",
                    None,
                    json!({ "token": p }),
                ),
                (
                    "PATCH /users/me email",
                    "PATCH",
                    "/users/me",
                    bearer,
                    json!({ "email": p }),
                ),
                (
                    "PATCH /users/me password",
                    "PATCH",
                    "/users/me",
                    bearer,
                    json!({ "password": p }),
                ),
                (
                    "change-password current",
                    "POST",
                    "/users/me/change-password",
                    bearer,
                    json!({ "current_password": p, "new_password": "password-2" }),
                ),
                (
                    "change-password new",
                    "POST",
                    "/users/me/change-password",
                    bearer,
                    json!({ "current_password": "password-1", "new_password": p }),
                ),
                (
                    "PATCH /users/{id} email",
                    "PATCH",
                    &victim_path,
                    bearer,
                    json!({ "email": p }),
                ),
                (
                    "PATCH /users/{id} password",
                    "PATCH",
                    &victim_path,
                    bearer,
                    json!({ "password": p }),
                ),
                (
                    "refresh (bearer)",
                    "POST",
                    "/auth/jwt/refresh",
                    None,
                    json!({ "refresh_token": p }),
                ),
                (
                    "refresh (cookie)",
                    "POST",
                    "/auth/cookie/refresh",
                    None,
                    json!({ "refresh_token": p }),
                ),
                (
                    "logout",
                    "POST",
                    "/auth/jwt/logout",
                    bearer,
                    json!({ "refresh_token": p }),
                ),
                // Login is a form: a JSON body, whatever it holds, is refused.
                (
                    "login as JSON",
                    "POST",
                    "/auth/jwt/login",
                    None,
                    json!({ "username": p, "password": p }),
                ),
            ];
            for (what, method, uri, auth, body) in cases {
                refused(
                    &app,
                    &format!("{what} with {p}"),
                    json(method, uri, auth, &body),
                )
                .await;
            }
        }
        // A form cannot carry an object: bracketed keys are not `username`.
        refused(
            &app,
            "login form with username[$ne]",
            app::form(
                "/auth/jwt/login",
                "username%5B%24ne%5D=x&password%5B%24ne%5D=x",
            ),
        )
        .await;

        // IDs come from the path as text and are parsed into an ObjectId before any query:
        // anything else is 404, as FastAPI Users answers.
        for raw in [r#"{"$ne":null}"#, r#"["x"]"#, "$ne"] {
            let uri = format!("/users/{}", app::urlencode(raw));
            let before = app.seen.lock().expect("lock").len();
            for method in ["GET", "DELETE"] {
                let request = axum::http::Request::builder()
                    .method(method)
                    .uri(&uri)
                    .header("authorization", format!("Bearer {token}"))
                    .body(axum::body::Body::empty())
                    .expect("request");
                assert_eq!(
                    app.send(request).await.status,
                    StatusCode::NOT_FOUND,
                    "{method} {raw}"
                );
            }
            let reply = app
                .send(json("PATCH", &uri, bearer, &json!({ "is_active": false })))
                .await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "PATCH {raw}");
            let seen = app.seen.lock().expect("lock");
            assert!(seen[before..].iter().all(|v| !v.contains('$')), "{seen:?}");
        }

        // Nothing changed: the victim is as registered, and still logs in.
        let after = app.users.get(&victim.id).await.expect("get");
        assert_eq!(after, Some(victim));
        assert_eq!(
            app.login("victim@example.com", "password-1").await.status,
            StatusCode::OK
        );
        let me = app.send(get("/users/me", bearer)).await;
        assert_eq!(me.body["email"], "admin@example.com");
    });
}

#[test]
fn regex_characters_in_an_email_are_literal_over_http() {
    block_on(async {
        let Some(scratch) = Scratch::new().await else {
            return;
        };
        let app = app::app(&scratch).await;
        let email = "dot.*star+x?{1}^$|@example.com";
        let registered = app.register(email, "password-1").await;
        assert_eq!(
            registered.status,
            StatusCode::CREATED,
            "{}",
            registered.body
        );
        for lookalike in [
            "dotXYZstar+x?{1}^$|@example.com",
            "dot.*@example.com",
            ".*@example.com",
        ] {
            let reply = app.login(lookalike, "password-1").await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{lookalike}");
            assert_eq!(reply.body["detail"], "LOGIN_BAD_CREDENTIALS");
        }
        let reply = app.login(&email.to_uppercase(), "password-1").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    });
}
