//! Runs the real quickstart binary with `DATABASE_URL=mongodb://...` (the shared test server,
//! a fresh database dropped at the end) and drives it over HTTP, with JWT revocations and with
//! the database strategy in MongoDB.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Stdio};

use authward::mongodb::bson::{Document, doc};
use common::{FORM, JSON, Server, http};
use serde_json::Value;

fn start(database_url: &str, strategy: &str) -> (Server, u16) {
    let port = common::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env("AUTHWARD_BIND", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", database_url)
        .env("AUTHWARD_STRATEGY", strategy)
        .env(
            "AUTHWARD_SECRET",
            "smoke-test-secret-smoke-test-secret-0123",
        )
        .env("AUTHWARD_USER_CACHE_MS", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    common::wait_ready(&mut server.0, port);
    (server, port)
}

fn login(port: u16, email: &str) -> String {
    let form = format!("username={}&password=guinevere1", email.replace('@', "%40"));
    let (status, login) = http(port, "POST", "/auth/jwt/login", &[FORM], &form);
    assert_eq!(status, 200, "{login}");
    format!("Bearer {}", login["access_token"].as_str().unwrap())
}

fn me(port: u16, bearer: &str) -> (u16, Value) {
    http(port, "GET", "/users/me", &[("authorization", bearer)], "")
}

fn round_trip(port: u16, email: &str) {
    assert_eq!(http(port, "GET", "/health", &[], "").1["status"], "ok");
    let register = serde_json::json!({"email": email, "password": "guinevere1"});
    let (status, user) = http(
        port,
        "POST",
        "/auth/register",
        &[JSON],
        &register.to_string(),
    );
    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_str().expect("an ObjectId as its hex string");
    assert_eq!(id.len(), 24);
    let bearer = login(port, &email.to_uppercase());
    let (status, found) = me(port, &bearer);
    assert_eq!((status, found["id"].as_str()), (200, Some(id)));
    let (status, _) = http(
        port,
        "POST",
        "/auth/jwt/logout",
        &[("authorization", &bearer)],
        "",
    );
    assert_eq!(status, 204);
    assert_eq!(me(port, &bearer).0, 401, "logout ended the token");
    let first = login(port, email);
    let (status, _) = http(
        port,
        "POST",
        "/auth/jwt/logout-all",
        &[("authorization", &first)],
        "",
    );
    assert_eq!(status, 204);
    assert_eq!(me(port, &first).0, 401, "logout-all ended the token");
    assert_eq!(me(port, &login(port, email)).0, 200);
}

#[test]
fn mongodb_is_chosen_by_environment() {
    let Some(url) = authward::testkit::service_url("AUTHWARD_TEST_MONGODB_URL") else {
        return;
    };
    let name = format!("aw_qs_{}", std::process::id());
    // The database is the URL's path.
    let (base, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let database_url = format!("{}/{name}?{query}", base.trim_end_matches('/'));
    for strategy in ["jwt", "database"] {
        let (_server, port) = start(&database_url, strategy);
        round_trip(port, &format!("Arthur.{strategy}@Camelot.bt"));
    }

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = authward::mongodb::connect(&url).await.unwrap();
        let db = client.database(&name);
        let users = db
            .collection::<Document>("User")
            .count_documents(doc! {})
            .await
            .unwrap();
        assert_eq!(users, 2, "both users are in the database named by the URL");
        let collections = db.list_collection_names().await.unwrap();
        for expected in ["User", "AccessToken", "JwtRevocation"] {
            assert!(collections.iter().any(|c| c == expected), "{collections:?}");
        }
        db.drop().await.unwrap();
        client.shutdown().await;
    });
}
