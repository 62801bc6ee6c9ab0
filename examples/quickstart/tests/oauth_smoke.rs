//! The quickstart with an OpenID Connect provider declared in the environment, against the
//! test provider (AUTHWARD_TEST_OIDC_ISSUER): the routes are mounted, the authorization URL
//! points at the provider with the configured redirect URL, and the OpenAPI document lists
//! the routes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Server;
use serde_json::Value;

/// One HTTP/1.1 request to 127.0.0.1:`port`; returns (status, headers, JSON body or Null).
fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String, Value) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        status,
        head.to_owned(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

#[test]
fn providers_come_from_the_environment() {
    let Some(issuer) = authward::testkit::service_url("AUTHWARD_TEST_OIDC_ISSUER") else {
        return;
    };
    let issuer = issuer.trim_end_matches('/').to_owned();
    let provider_port: u16 = issuer.rsplit(':').next().unwrap().parse().unwrap();
    let port = common::free_port();
    let public = format!("http://127.0.0.1:{port}");
    let (status, _, client) = http(
        provider_port,
        "POST",
        "/reg",
        &serde_json::json!({"redirect_uris": [
            format!("{public}/auth/corp/callback"),
            format!("{public}/auth/associate/corp/callback"),
        ]})
        .to_string(),
    );
    assert_eq!(status, 201, "{client}");

    let dir = std::env::temp_dir().join(format!("authward-oauth-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_quickstart"))
            .env("AUTHWARD_BIND", format!("127.0.0.1:{port}"))
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.join("app.db").display()),
            )
            .env(
                "AUTHWARD_SECRET",
                "smoke-test-secret-smoke-test-secret-0123",
            )
            .env("AUTHWARD_OAUTH_CORP_ISSUER", &issuer)
            .env(
                "AUTHWARD_OAUTH_CORP_CLIENT_ID",
                client["client_id"].as_str().unwrap(),
            )
            .env(
                "AUTHWARD_OAUTH_CORP_CLIENT_SECRET",
                client["client_secret"].as_str().unwrap(),
            )
            .env(
                "AUTHWARD_OAUTH_TOKEN_KEY",
                "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio",
            )
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    common::wait_ready(&mut server.0, port);

    let (status, head, body) = http(port, "GET", "/auth/corp/authorize", "");
    assert_eq!(status, 200, "{body}");
    let url = body["authorization_url"].as_str().unwrap();
    assert!(url.starts_with(&issuer), "{url}");
    let redirect = format!("{public}/auth/corp/callback");
    let encoded: String = url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect();
    assert!(url.contains(&format!("redirect_uri={encoded}")), "{url}");
    assert!(
        head.to_ascii_lowercase()
            .contains("set-cookie: fastapiusersoauthcsrf=")
    );

    let (status, _, doc) = http(port, "GET", "/openapi.json", "");
    assert_eq!(status, 200);
    assert!(doc["paths"]["/auth/corp/callback"]["get"].is_object());
    assert!(doc["paths"]["/auth/associate/corp/authorize"]["get"].is_object());
    assert!(doc["paths"]["/auth/register"]["post"].is_object());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
