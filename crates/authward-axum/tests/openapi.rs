//! The OpenAPI document (feature `openapi`) matches the routes the routers really serve.
#![cfg(feature = "openapi")]
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use authward_axum::Authward;
use authward_axum::openapi::Mounts;
use authward_core::memory::MemoryUserDatabase;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Setup, app_with_authward, get, send};
use serde_json::{Value, json};
use uuid::Uuid;

type Aw = Authward<MemoryUserDatabase<Uuid>>;

const ALL_SETUPS: [Setup; 3] = [
    Setup::BearerJwt,
    Setup::BearerDatabase,
    Setup::CookieDatabase,
];

/// The test app (backends `jwt`, `second`, `third`), its `Authward` and its document as JSON.
fn build(setups: &[Setup], refresh: bool) -> (Router, Aw, Value) {
    let (router, _, aw) = app_with_authward(MemoryUserDatabase::<Uuid>::new(), setups, refresh);
    let doc = serde_json::to_value(aw.openapi(&aw.fastapi_users_mounts())).unwrap();
    (router, aw, doc)
}

/// Every `(METHOD, path)` of the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ] {
            if item.get(method).is_some() {
                out.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    out
}

fn ops(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect()
}

fn request(method: &str, path: &str) -> Request<Body> {
    let uri = path.replace("{id}", &Uuid::new_v4().to_string());
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap()
}

#[test]
fn default_mounts_match_fastapi_users() {
    let mounts = Mounts::fastapi_users_default(["jwt", "cookie"]);
    assert_eq!(
        mounts,
        Mounts {
            auth: vec![
                ("jwt".into(), "/auth/jwt".into()),
                ("cookie".into(), "/auth/cookie".into()),
            ],
            register: Some("/auth".into()),
            reset: Some("/auth".into()),
            verify: Some("/auth".into()),
            users: Some("/users".into()),
        }
    );
    let (_, aw, _) = build(&ALL_SETUPS, false);
    assert_eq!(
        aw.fastapi_users_mounts(),
        Mounts::fastapi_users_default(["jwt", "second", "third"])
    );
}

#[tokio::test]
async fn every_mounted_route_is_documented_and_served() {
    let (router, _, doc) = build(&ALL_SETUPS, true);
    let expected = ops(&[
        ("POST", "/auth/jwt/login"),
        ("POST", "/auth/jwt/logout"),
        ("POST", "/auth/jwt/logout-all"),
        ("POST", "/auth/jwt/refresh"),
        ("POST", "/auth/second/login"),
        ("POST", "/auth/second/logout"),
        ("POST", "/auth/second/logout-all"),
        ("GET", "/auth/second/sessions"),
        ("POST", "/auth/third/login"),
        ("POST", "/auth/third/logout"),
        ("POST", "/auth/third/logout-all"),
        ("POST", "/auth/register"),
        ("POST", "/auth/forgot-password"),
        ("POST", "/auth/reset-password"),
        ("POST", "/auth/request-verify-token"),
        ("POST", "/auth/verify"),
        ("GET", "/users/me"),
        ("PATCH", "/users/me"),
        ("DELETE", "/users/me"),
        ("POST", "/users/me/change-password"),
        ("GET", "/users/{id}"),
        ("PATCH", "/users/{id}"),
        ("DELETE", "/users/{id}"),
    ]);
    let documented = operations(&doc);
    assert_eq!(documented, expected);

    // Both ways: each documented operation answers (not 404/405), and every other method on a
    // documented path is 405, so the document cannot drift from the routers.
    let paths: BTreeSet<&String> = documented.iter().map(|(_, p)| p).collect();
    for path in paths {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let reply = send(&router, request(method, path)).await;
            if documented.contains(&(method.to_owned(), path.clone())) {
                assert!(
                    reply.status != StatusCode::NOT_FOUND
                        && reply.status != StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is documented but answers {}",
                    reply.status
                );
            } else {
                assert_eq!(
                    reply.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is not documented but answers"
                );
            }
        }
    }
    // Routes a backend lacks are neither served nor documented.
    for (method, path) in [
        ("POST", "/auth/second/refresh"),
        ("POST", "/auth/third/refresh"),
        ("GET", "/auth/jwt/sessions"),
        ("GET", "/auth/third/sessions"),
    ] {
        assert_eq!(
            send(&router, request(method, path)).await.status,
            StatusCode::NOT_FOUND,
            "{method} {path}"
        );
        assert!(doc["paths"].get(path).is_none(), "{path}");
    }
}

#[tokio::test]
async fn refresh_is_documented_only_when_enabled() {
    let (router, _, doc) = build(&[Setup::BearerJwt], false);
    assert!(doc["paths"].get("/auth/jwt/refresh").is_none());
    assert_eq!(
        send(&router, request("POST", "/auth/jwt/refresh"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        doc["components"]["securitySchemes"]
            .as_object()
            .unwrap()
            .len(),
        1
    );

    let (router, _, doc) = build(&[Setup::BearerJwt], true);
    let refresh = &doc["paths"]["/auth/jwt/refresh"]["post"];
    assert_eq!(
        refresh["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/RefreshRequest"
    );
    for status in ["200", "400", "422", "413", "503"] {
        assert!(refresh["responses"].get(status).is_some(), "{status}");
    }
    assert_eq!(
        send(&router, request("POST", "/auth/jwt/refresh"))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[test]
fn security_schemes_follow_the_backends() {
    let (_, _, doc) = build(&ALL_SETUPS, false);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["jwt"],
        json!({"type": "oauth2", "flows": {"password": {"tokenUrl": "/auth/jwt/login", "scopes": {}}}})
    );
    assert_eq!(
        schemes["second"]["flows"]["password"]["tokenUrl"],
        "/auth/second/login"
    );
    assert_eq!(
        schemes["third"],
        json!({"type": "apiKey", "in": "cookie", "name": "fastapiusersauth"})
    );

    let every_backend = json!([{"jwt": []}, {"second": []}, {"third": []}]);
    for (method, path) in [
        ("get", "/users/me"),
        ("patch", "/users/me"),
        ("post", "/users/me/change-password"),
        ("delete", "/users/{id}"),
        ("post", "/auth/third/logout"),
    ] {
        let op = &doc["paths"][path][method];
        assert_eq!(op["security"], every_backend, "{method} {path}");
        assert!(op["responses"].get("401").is_some(), "{method} {path}");
    }
    for (method, path) in [("post", "/auth/register"), ("post", "/auth/jwt/login")] {
        assert!(
            doc["paths"][path][method].get("security").is_none(),
            "{path}"
        );
    }
    // 403: superuser routes always; a cookie backend makes state-changing routes CSRF-checked;
    // a GET of one's own user without required verification cannot be 403.
    assert!(doc["paths"]["/users/{id}"]["get"]["responses"]["403"].is_object());
    assert!(doc["paths"]["/users/me"]["patch"]["responses"]["403"].is_object());
    assert!(
        doc["paths"]["/users/me"]["get"]["responses"]
            .get("403")
            .is_none()
    );
}

#[test]
fn bodies_and_statuses_follow_the_contract() {
    let (_, _, doc) = build(&ALL_SETUPS, false);
    let paths = &doc["paths"];

    let register = &paths["/auth/register"]["post"];
    assert_eq!(
        register["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/UserCreate"
    );
    for status in ["201", "400", "422", "413", "503"] {
        assert!(register["responses"].get(status).is_some(), "{status}");
    }
    assert_eq!(
        register["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/UserRead"
    );
    assert_eq!(
        register["responses"]["400"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorModel"
    );

    let login = &paths["/auth/jwt/login"]["post"];
    assert_eq!(
        login["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["$ref"],
        "#/components/schemas/LoginForm"
    );
    assert!(login["responses"]["200"].is_object());
    assert!(login["responses"]["400"].is_object());
    let cookie_login = &paths["/auth/third/login"]["post"]["responses"];
    assert!(cookie_login["204"]["headers"]["Set-Cookie"].is_object());
    assert!(cookie_login.get("200").is_none());

    for (path, accepted) in [
        ("/auth/forgot-password", "202"),
        ("/auth/request-verify-token", "202"),
        ("/auth/reset-password", "200"),
    ] {
        let responses = &paths[path]["post"]["responses"];
        assert_eq!(
            responses[accepted]["content"]["application/json"]["schema"],
            json!({"type": "null"}),
            "{path}"
        );
        assert!(responses["422"].is_object(), "{path}");
    }
    for status in ["200", "401", "403", "404", "503"] {
        assert!(
            paths["/users/{id}"]["get"]["responses"]
                .get(status)
                .is_some(),
            "{status}"
        );
    }
    assert_eq!(paths["/users/{id}"]["get"]["parameters"][0]["name"], "id");
    assert_eq!(paths["/users/{id}"]["get"]["parameters"][0]["in"], "path");

    let schemas = &doc["components"]["schemas"];
    let login_form: BTreeSet<&str> = schemas["LoginForm"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for field in ["username", "password", "grant_type"] {
        assert!(login_form.contains(field), "{field}");
    }
    assert_eq!(
        schemas["LoginForm"]["required"],
        json!(["username", "password"])
    );
    assert_eq!(
        schemas["UserRead"]["required"],
        json!(["id", "email", "is_active", "is_superuser", "is_verified"])
    );
    assert_eq!(schemas["UserRead"]["properties"]["id"]["format"], "uuid");
    assert_eq!(
        schemas["ErrorModel"]["properties"]["detail"]["oneOf"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn openapi_json_is_served() {
    let (router, aw, doc) = build(&ALL_SETUPS, true);
    let router = router.merge(aw.openapi_router(aw.fastapi_users_mounts()));
    let reply = send(&router, get("/openapi.json")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "application/json");
    assert!(
        reply.body["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        reply.body["openapi"]
    );
    assert_eq!(reply.body, doc);
}

#[test]
fn custom_prefixes_and_partial_mounts() {
    let (_, aw, _) = build(&[Setup::BearerJwt], false);
    let mounts = Mounts {
        auth: vec![
            ("jwt".into(), "/api/v1/auth/".into()),
            ("no-such-backend".into(), "/nowhere".into()),
        ],
        users: Some("api/v1/users".into()),
        ..Mounts::default()
    };
    let doc = serde_json::to_value(aw.openapi(&mounts)).unwrap();
    let paths: BTreeSet<String> = operations(&doc).into_iter().map(|(_, p)| p).collect();
    let expected: BTreeSet<String> = [
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/logout-all",
        "/api/v1/users/me",
        "/api/v1/users/me/change-password",
        "/api/v1/users/{id}",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(paths, expected);
    assert_eq!(
        doc["components"]["securitySchemes"]["jwt"]["flows"]["password"]["tokenUrl"],
        "/api/v1/auth/login"
    );
}
