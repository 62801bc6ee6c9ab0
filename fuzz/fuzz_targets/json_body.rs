//! The JSON body extractor (`ApiJson`): any bytes, with or without the JSON content type,
//! as a free-form value and as the typed bodies of the routes. It must answer `Ok` or a
//! 413/422 in FastAPI's shape, never panic.
#![no_main]

use std::collections::HashMap;
use std::sync::LazyLock;

use authward_axum::ApiJson;
use axum::body::Body;
use axum::extract::FromRequest;
use axum::http::{Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
});

#[allow(dead_code)]
#[derive(Deserialize)]
struct Register {
    email: String,
    password: String,
    #[serde(default)]
    is_superuser: Option<bool>,
    #[serde(flatten)]
    rest: HashMap<String, serde_json::Value>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct Reset {
    token: String,
    password: String,
}

fn request(content_type: &str, body: &[u8]) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/auth/register")
        .header("content-type", content_type)
        .body(Body::from(body.to_vec()))
        .expect("request")
}

fn check<T: serde::de::DeserializeOwned>(content_type: &str, body: &[u8]) {
    let result = RUNTIME.block_on(ApiJson::<T>::from_request(request(content_type, body), &()));
    if let Err(err) = result {
        let status = err.status();
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::PAYLOAD_TOO_LARGE,
            "{status}"
        );
        assert!(err.body()["detail"].is_array() || err.body()["detail"].is_string());
    }
}

fuzz_target!(|data: &[u8]| {
    let content_type = match data.first() {
        Some(b) if b % 4 == 0 => "text/plain",
        Some(b) if b % 4 == 1 => "application/json; charset=utf-8",
        _ => "application/json",
    };
    let body = data.get(1..).unwrap_or_default();
    check::<serde_json::Value>(content_type, body);
    check::<Register>(content_type, body);
    check::<Reset>(content_type, body);
});
