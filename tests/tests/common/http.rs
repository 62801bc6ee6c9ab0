//! Driving a router in process: requests, replies, and the cookies a browser would keep.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// A response: status, headers, body as JSON (`Null` when empty).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The value of the `Set-Cookie` header that sets (or clears) cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The value a `Set-Cookie` header gives cookie `name` (empty when it clears it).
    pub fn cookie_value(&self, name: &str) -> Option<String> {
        let set = self.set_cookie(name)?;
        let first = set.split(';').next()?;
        Some(first.split_once('=')?.1.to_owned())
    }
}

pub async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("the body is read")
        .to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("non-JSON body: {:?}", String::from_utf8_lossy(&bytes)))
    };
    Reply {
        status,
        headers,
        body,
    }
}

pub fn request(method: &str, uri: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(uri)
}

pub fn json(method: &str, uri: &str, body: &Value) -> Request<Body> {
    request(method, uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request builds")
}

pub fn empty(method: &str, uri: &str) -> Request<Body> {
    request(method, uri)
        .body(Body::empty())
        .expect("request builds")
}

pub fn form(uri: &str, body: &str) -> Request<Body> {
    request("POST", uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .expect("request builds")
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Adds a header to a request.
pub fn with(mut request: Request<Body>, name: &'static str, value: &str) -> Request<Body> {
    request
        .headers_mut()
        .insert(name, value.parse().expect("a valid header value"));
    request
}
