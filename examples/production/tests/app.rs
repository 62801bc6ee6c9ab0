//! The production-shaped app through its router, on the real PostgreSQL and Redis
//! (AUTHWARD_TEST_POSTGRES_URL, AUTHWARD_TEST_REDIS_URL): register with a field of its own,
//! the dashboard for verified users only, refresh, logout.
#![allow(clippy::unwrap_used)]

use std::str::FromStr;

use authward::sqlx::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use production::{Settings, app};
use serde_json::{Value, json};
use tower::ServiceExt;

async fn call(
    router: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<&str>,
    form: bool,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request
            .header(
                "content-type",
                if form {
                    "application/x-www-form-urlencoded"
                } else {
                    "application/json"
                },
            )
            .body(Body::from(body.to_owned())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_production_app_end_to_end() {
    let (Some(postgres), Some(redis)) = (
        authward::testkit::service_url("AUTHWARD_TEST_POSTGRES_URL"),
        authward::testkit::service_url("AUTHWARD_TEST_REDIS_URL"),
    ) else {
        return;
    };
    // A schema of its own, so the run leaves the shared database alone.
    let schema = format!("prod_{}", uuid::Uuid::new_v4().simple());
    let base = PgConnectOptions::from_str(&postgres).unwrap();
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(base.clone())
        .await
        .unwrap();
    authward::sqlx::sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&admin)
        .await
        .unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(base.options([("search_path", schema.as_str())]))
        .await
        .unwrap();
    let settings = Settings {
        secret: "a production secret of at least thirty-two bytes".into(),
        redis_url: redis,
        redis_prefix: format!("prod_test_{}:", uuid::Uuid::new_v4().simple()),
        access_lifetime: time::Duration::minutes(15),
        refresh_lifetime: time::Duration::days(30),
    };
    let (router, aw) = app(pool, &settings).await.unwrap();
    aw.manager()
        .create_superuser("root@example.com", "a root password")
        .await
        .unwrap();

    let (status, user) = call(
        &router,
        "POST",
        "/auth/register",
        None,
        Some(r#"{"email": "Ada@Example.com", "password": "analytical engine", "display_name": "Ada", "plan": "enterprise"}"#),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{user:?}");
    assert_eq!(
        (user["display_name"].clone(), user["plan"].clone()),
        (json!("Ada"), json!("free"))
    );

    let (status, login) = call(
        &router,
        "POST",
        "/auth/jwt/login",
        None,
        Some("username=ada%40example.com&password=analytical+engine"),
        true,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{login:?}");
    let access = login["access_token"].as_str().unwrap().to_owned();
    let refresh = login["refresh_token"].as_str().unwrap().to_owned();

    // Unverified: the dashboard answers 403.
    let (status, _) = call(&router, "GET", "/dashboard", Some(&access), None, false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&router, "GET", "/dashboard", None, None, false).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A superuser verifies the user and changes the plan.
    let (_, root) = call(
        &router,
        "POST",
        "/auth/jwt/login",
        None,
        Some("username=root%40example.com&password=a+root+password"),
        true,
    )
    .await;
    let root = root["access_token"].as_str().unwrap().to_owned();
    let uri = format!("/users/{}", user["id"].as_str().unwrap());
    let (status, body) = call(
        &router,
        "PATCH",
        &uri,
        Some(&root),
        Some(r#"{"is_verified": true, "plan": "pro"}"#),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body:?}");

    let (status, dashboard) = call(&router, "GET", "/dashboard", Some(&access), None, false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dashboard, json!({"hello": "Ada", "plan": "pro"}));

    // Refresh rotates; logout ends the access token and the refresh family.
    let (status, next) = call(
        &router,
        "POST",
        "/auth/jwt/refresh",
        None,
        Some(&json!({"refresh_token": refresh}).to_string()),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{next:?}");
    let access = next["access_token"].as_str().unwrap().to_owned();
    let refresh = next["refresh_token"].as_str().unwrap().to_owned();
    let (status, _) = call(
        &router,
        "POST",
        "/auth/jwt/logout",
        Some(&access),
        None,
        false,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&router, "GET", "/dashboard", Some(&access), None, false).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(
        &router,
        "POST",
        "/auth/jwt/refresh",
        None,
        Some(&json!({"refresh_token": refresh}).to_string()),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, ready) = call(&router, "GET", "/ready", None, None, false).await;
    assert_eq!(
        (status, ready["stores"].clone()),
        (StatusCode::OK, json!({"postgres": "ok", "redis": "ok"}))
    );

    authward::sqlx::sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}
