//! The example through its router, in process: registration with the application's fields,
//! login, `/users/me`, `PATCH /users/me` and a superuser's `PATCH /users/{id}`, on SQLite.

use authward::{Argon2Hasher, PasswordHelper, UserDatabase, UserPatch};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "an example secret of at least thirty-two bytes";

async fn app() -> (Router, sea_orm_example::Users) {
    let path = std::env::temp_dir().join(format!(
        "authward-sea-orm-example-{}.db",
        uuid::Uuid::new_v4()
    ));
    let url = format!("sqlite:{}?mode=rwc", path.display());
    let db = authward::sea_orm::connect(url).await.expect("connect");
    let passwords = PasswordHelper::new(Argon2Hasher::new(64, 1, 1).expect("params"));
    let router = sea_orm_example::app(db.clone(), SECRET, passwords)
        .await
        .expect("app");
    (router, sea_orm_example::Users::new(db))
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("JSON body")
    };
    (status, body)
}

fn json_request(method: &str, uri: &str, token: Option<&str>, body: &Value) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::from(body.to_string())).expect("request")
}

fn get(uri: &str, token: &str) -> Request<Body> {
    Request::builder()
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request")
}

async fn login(router: &Router, email: &str, password: &str) -> String {
    let request = Request::builder()
        .method("POST")
        .uri("/auth/jwt/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "username={}&password={password}",
            email.replace('@', "%40")
        )))
        .expect("request");
    let (status, body) = send(router, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "bearer");
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_login_me_and_patch_with_custom_fields() {
    let (router, users) = app().await;

    // Registration sets display_name; plan is not settable there and flags are ignored.
    let (status, body) = send(
        &router,
        json_request(
            "POST",
            "/auth/register",
            None,
            &json!({"email": "Ada@Example.com", "password": "correct horse battery",
                    "display_name": "Ada", "plan": "enterprise", "is_superuser": true}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["email"], "Ada@Example.com");
    assert_eq!(body["display_name"], "Ada");
    assert_eq!(body["plan"], "free", "registration cannot choose the plan");
    assert_eq!(body["is_superuser"], false);
    assert!(body.get("hashed_password").is_none(), "{body}");
    let id = body["id"].as_str().expect("id").to_owned();

    // The row holds the columns.
    let stored = users
        .get_by_email("ada@example.com")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(
        (stored.display_name.as_str(), stored.plan.as_str()),
        ("Ada", "free")
    );

    // Login ignores the email's case; /users/me reads the columns.
    let token = login(&router, "ADA@example.com", "correct horse battery").await;
    let (status, me) = send(&router, get("/users/me", &token)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["id"], id.as_str());
    assert_eq!(me["display_name"], "Ada");
    assert_eq!(me["plan"], "free");

    // PATCH /users/me changes display_name, not the plan.
    let (status, patched) = send(
        &router,
        json_request(
            "PATCH",
            "/users/me",
            Some(&token),
            &json!({"display_name": "Ada Lovelace", "plan": "enterprise"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["display_name"], "Ada Lovelace");
    assert_eq!(patched["plan"], "free");
    let (_, me) = send(&router, get("/users/me", &token)).await;
    assert_eq!(me["display_name"], "Ada Lovelace");

    // A superuser may change the plan.
    let (status, body) = send(
        &router,
        json_request(
            "POST",
            "/auth/register",
            None,
            &json!({"email": "root@example.com", "password": "another long password"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let root_id = authward::UserId::parse_id(body["id"].as_str().expect("id")).expect("a uuid");
    users
        .update(
            &root_id,
            UserPatch {
                is_superuser: Some(true),
                ..UserPatch::default()
            },
        )
        .await
        .expect("promote");
    let admin = login(&router, "root@example.com", "another long password").await;
    let (status, body) = send(
        &router,
        json_request(
            "PATCH",
            &format!("/users/{id}"),
            Some(&admin),
            &json!({"plan": "pro"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["plan"], "pro");
    assert_eq!(body["display_name"], "Ada Lovelace", "other fields kept");
    let (_, me) = send(&router, get("/users/me", &token)).await;
    assert_eq!(me["plan"], "pro");

    // Logging out revokes the JWT (the revocation store is a SeaORM token table).
    let logout = Request::builder()
        .method("POST")
        .uri("/auth/jwt/logout")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let (status, _) = send(&router, logout).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(&router, get("/users/me", &token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
