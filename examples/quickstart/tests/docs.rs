//! The quickstart binary serves its API documentation: `/docs` (an HTML page with a viewer of
//! the OpenAPI document) and `/openapi.json`; unknown paths and wrong methods answer FastAPI's
//! JSON 404 and 405.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Server;
use serde_json::Value;

struct Response {
    status: u16,
    /// Header lines, names lower-cased.
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request without a body.
fn get(port: u16, method: &str, path: &str) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// Starts the binary on a fresh SQLite file of its own (`name` tells the tests apart).
fn start(name: &str) -> (Server, u16) {
    let dir = std::env::temp_dir().join(format!("authward-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = common::free_port();
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_quickstart"))
            .env("AUTHWARD_BIND", format!("127.0.0.1:{port}"))
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.join("app.db").display()),
            )
            .env(
                "AUTHWARD_SECRET",
                "docs-test-secret-docs-test-secret-0123456",
            )
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    common::wait_ready(&mut server.0, port);
    (server, port)
}

#[test]
fn docs_page_and_openapi_document_are_served() {
    let (_server, port) = start("docs");

    let page = get(port, "GET", "/docs");
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .is_some_and(|v| v.starts_with("text/html")),
        "{:?}",
        page.headers
    );
    assert!(page.body.contains("<rapi-doc"), "{}", page.body);
    assert!(
        page.body.contains(r#"spec-url="/openapi.json""#),
        "{}",
        page.body
    );

    let doc = get(port, "GET", "/openapi.json");
    assert_eq!(doc.status, 200);
    assert!(
        doc.header("content-type")
            .is_some_and(|v| v.starts_with("application/json")),
        "{:?}",
        doc.headers
    );
    let doc: Value = serde_json::from_str(&doc.body).expect("a JSON document");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')));
    assert!(doc["paths"]["/auth/register"]["post"].is_object());
}

#[test]
fn unknown_paths_and_wrong_methods_answer_json() {
    let (_server, port) = start("fallbacks");

    let missing = get(port, "GET", "/nowhere");
    assert_eq!(missing.status, 404);
    let body: Value = serde_json::from_str(&missing.body).expect("a JSON body");
    assert_eq!(body, serde_json::json!({"detail": "Not Found"}));

    let wrong = get(port, "DELETE", "/docs");
    assert_eq!(wrong.status, 405);
    let body: Value = serde_json::from_str(&wrong.body).expect("a JSON body");
    assert_eq!(body, serde_json::json!({"detail": "Method Not Allowed"}));
    assert!(
        wrong.header("allow").is_some_and(|v| v.contains("GET")),
        "{:?}",
        wrong.headers
    );
}
