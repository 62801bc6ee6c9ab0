//! Token extraction from `Authorization` and `Cookie` headers, and the CSRF check on
//! arbitrary `Origin` / `Sec-Fetch-Site` / `Host` values: never panic; a bearer token is
//! non-empty and has no surrounding whitespace; a cookie token is non-empty.
#![no_main]

use authward_axum::{BearerTransport, CookieTransport, CsrfPolicy, Transport};
use axum::http::{HeaderValue, Method, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Up to four header values separated by 0xFF: authorization, cookie, origin, sec-fetch-site.
    let mut parts = data.split(|b| *b == 0xFF);
    let mut builder = Request::builder().method(Method::POST).uri("/users/me");
    for name in [
        "authorization",
        "cookie",
        "origin",
        "sec-fetch-site",
        "host",
    ] {
        if let Some(value) = parts.next()
            && let Ok(value) = HeaderValue::from_bytes(value)
        {
            builder = builder.header(name, value);
        }
    }
    let Ok(request) = builder.body(()) else {
        return;
    };
    let (parts, ()) = request.into_parts();
    let bearer = Transport::Bearer(BearerTransport::new("auth/jwt/login"));
    if let Some(token) = bearer.token(&parts) {
        assert!(!token.is_empty() && token.trim() == token, "{token:?}");
    }
    let cookie = Transport::Cookie(CookieTransport::default());
    if let Some(token) = cookie.token(&parts) {
        assert!(!token.is_empty());
    }
    let _ = cookie.refresh_token(&parts);
    let _ = CsrfPolicy::default().check(&parts);
    let _ = CsrfPolicy {
        trusted_origins: vec!["https://app.example".into()],
    }
    .check(&parts);
});
