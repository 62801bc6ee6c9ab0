//! Unknown routes and wrong methods answer FastAPI's JSON (`{"detail": "Not Found"}`,
//! `{"detail": "Method Not Allowed"}` with `Allow`), driven through the real routers.
#![allow(clippy::unwrap_used)]

mod common;

use authward_axum::fallback::json_fallbacks;
use authward_core::memory::MemoryUserDatabase;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use common::*;
use serde_json::json;
use uuid::Uuid;

fn request(method: &str, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap()
}

/// The methods of the `Allow` header, sorted.
fn allowed(headers: &HeaderMap) -> Vec<String> {
    let value = headers
        .get(header::ALLOW)
        .expect("an Allow header")
        .to_str()
        .unwrap();
    let mut methods: Vec<String> = value.split(',').map(|m| m.trim().to_owned()).collect();
    methods.sort();
    methods
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

#[tokio::test]
async fn the_routers_answer_a_wrong_method_with_json_405_and_allow() {
    // The routers as mounted, without any fallback of the application's.
    let (router, _) = app_with(MemoryUserDatabase::<Uuid>::new(), &[Setup::BearerJwt], true);
    let cases: [(&str, &str, &[&str]); 5] = [
        ("GET", "/auth/register", &["POST"]),
        ("GET", "/auth/jwt/login", &["POST"]),
        ("DELETE", "/auth/forgot-password", &["POST"]),
        ("PUT", "/users/me", &["DELETE", "GET", "HEAD", "PATCH"]),
        ("GET", "/users/me/change-password", &["POST"]),
    ];
    for (method, uri, allow) in cases {
        let reply = send(&router, request(method, uri)).await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}"
        );
        assert_eq!(
            reply.body,
            json!({"detail": "Method Not Allowed"}),
            "{method} {uri}"
        );
        assert!(is_json(&reply.headers), "{method} {uri}");
        assert_eq!(allowed(&reply.headers), allow, "{method} {uri}");
    }
}

#[tokio::test]
async fn an_application_with_json_fallbacks_answers_json_404_and_405() {
    let (router, _) = app_with(
        MemoryUserDatabase::<Uuid>::new(),
        &[Setup::BearerJwt],
        false,
    );
    let app = json_fallbacks(router.route("/hello", axum::routing::get(|| async { "hello" })));

    for uri in ["/nowhere", "/auth/jwt/nowhere", "/users/me/nowhere"] {
        let reply = send(&app, request("GET", uri)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(reply.body, json!({"detail": "Not Found"}), "{uri}");
        assert!(is_json(&reply.headers), "{uri}");
    }

    // The application's own route: JSON 405 with Allow too.
    let reply = send(&app, request("POST", "/hello")).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.body, json!({"detail": "Method Not Allowed"}));
    assert_eq!(allowed(&reply.headers), ["GET", "HEAD"]);

    // Matching routes are untouched.
    let reply = send(&app, request("GET", "/users/me")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, json!({"detail": "Unauthorized"}));
}
