//! CSRF defence for cookie authentication.
//!
//! A state-changing request (anything but GET, HEAD, OPTIONS, TRACE) authenticated by a cookie
//! must come from the application's own origin. Browsers tell us where a request comes from
//! without any client change: `Origin` on every cross-origin unsafe request, and
//! `Sec-Fetch-Site` in all current browsers. So:
//! - `Sec-Fetch-Site: cross-site` or `same-site` is refused unless `Origin` is explicitly
//!   trusted; `same-origin` and `none` (user-typed navigation) pass;
//! - an `Origin` that is neither the request's own host nor a trusted origin is refused;
//! - a request with neither header is not from a browser (curl, a mobile app) and cannot be a
//!   CSRF attack, so it passes.

use axum::http::request::Parts;
use axum::http::{Method, header};

use crate::error::ApiError;

/// Which origins may send cookie-authenticated, state-changing requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsrfPolicy {
    /// Extra trusted origins, e.g. `https://app.example.com` (scheme, host and port).
    pub trusted_origins: Vec<String>,
}

impl CsrfPolicy {
    /// Checks a cookie-authenticated request.
    pub fn check(&self, parts: &Parts) -> Result<(), ApiError> {
        if matches!(
            parts.method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        ) {
            return Ok(());
        }
        let header_str = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let origin = header_str(header::ORIGIN.as_str()).filter(|o| *o != "null");
        let trusted = origin.is_some_and(|o| {
            self.trusted_origins
                .iter()
                .any(|t| t.eq_ignore_ascii_case(o))
                || header_str(header::HOST.as_str()).is_some_and(|host| same_host(o, host))
        });
        match header_str("sec-fetch-site") {
            Some("same-origin") | Some("none") => return Ok(()),
            Some(_) => {
                return if trusted {
                    Ok(())
                } else {
                    Err(ApiError::CsrfCheckFailed)
                };
            }
            None => {}
        }
        match (origin, header_str(header::ORIGIN.as_str())) {
            (Some(_), _) if trusted => Ok(()),
            (Some(_), _) => Err(ApiError::CsrfCheckFailed),
            // `Origin: null` comes from sandboxed or privacy-sensitive contexts: refuse.
            (None, Some(_)) => Err(ApiError::CsrfCheckFailed),
            (None, None) => Ok(()),
        }
    }
}

/// `https://example.com:8443` against `Host: example.com:8443`.
fn same_host(origin: &str, host: &str) -> bool {
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(method: Method, headers: &[(&str, &str)]) -> Parts {
        let mut builder = Request::builder().method(method).uri("/users/me");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).expect("request builds").into_parts().0
    }

    #[test]
    fn cross_site_unsafe_requests_are_refused() {
        let policy = CsrfPolicy::default();
        let evil = [("host", "app.example"), ("origin", "https://evil.example")];
        assert!(policy.check(&parts(Method::PATCH, &evil)).is_err());
        let fetch = [("host", "app.example"), ("sec-fetch-site", "cross-site")];
        assert!(policy.check(&parts(Method::POST, &fetch)).is_err());
        let null = [("host", "app.example"), ("origin", "null")];
        assert!(policy.check(&parts(Method::DELETE, &null)).is_err());
    }

    #[test]
    fn same_origin_safe_and_non_browser_requests_pass() {
        let policy = CsrfPolicy::default();
        let same = [("host", "app.example"), ("origin", "https://app.example")];
        assert!(policy.check(&parts(Method::PATCH, &same)).is_ok());
        let fetch = [("sec-fetch-site", "same-origin")];
        assert!(policy.check(&parts(Method::POST, &fetch)).is_ok());
        assert!(policy.check(&parts(Method::POST, &[])).is_ok());
        let evil = [("origin", "https://evil.example")];
        assert!(policy.check(&parts(Method::GET, &evil)).is_ok());
    }

    #[test]
    fn trusted_origins_pass() {
        let policy = CsrfPolicy {
            trusted_origins: vec!["https://spa.example".into()],
        };
        let spa = [
            ("host", "api.example"),
            ("origin", "https://spa.example"),
            ("sec-fetch-site", "same-site"),
        ];
        assert!(policy.check(&parts(Method::POST, &spa)).is_ok());
    }
}
