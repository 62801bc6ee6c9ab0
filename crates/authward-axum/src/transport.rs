//! Transports: where a token travels. Bearer (`Authorization: Bearer <t>`, login answers JSON)
//! and cookie (login answers 204 with `Set-Cookie`), with FastAPI Users' defaults and
//! responses.

use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use serde_json::json;

/// `Authorization: Bearer <token>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerTransport {
    /// The login URL, advertised in OpenAPI (`tokenUrl`), e.g. `auth/jwt/login`.
    pub token_url: String,
}

impl BearerTransport {
    /// A bearer transport whose login route is `token_url`.
    pub fn new(token_url: impl Into<String>) -> Self {
        Self {
            token_url: token_url.into(),
        }
    }
}

/// The `SameSite` attribute of the auth cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CookieSameSite {
    /// `SameSite=Lax` (the default).
    #[default]
    Lax,
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=None` (requires `Secure`).
    None,
}

/// A cookie carrying the token, with FastAPI Users' options and defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieTransport {
    /// Cookie name; default `fastapiusersauth`.
    pub name: String,
    /// `Max-Age` in seconds; `None` makes a session cookie (the default).
    pub max_age: Option<i64>,
    /// `Path`; default `/`.
    pub path: String,
    /// `Domain`; default none.
    pub domain: Option<String>,
    /// `Secure`; default true.
    pub secure: bool,
    /// `HttpOnly`; default true.
    pub httponly: bool,
    /// `SameSite`; default lax.
    pub samesite: CookieSameSite,
}

impl Default for CookieTransport {
    fn default() -> Self {
        Self {
            name: "fastapiusersauth".into(),
            max_age: None,
            path: "/".into(),
            domain: None,
            secure: true,
            httponly: true,
            samesite: CookieSameSite::Lax,
        }
    }
}

impl CookieTransport {
    fn cookie(&self, value: String, max_age: Option<i64>) -> Cookie<'static> {
        let mut cookie = Cookie::build((self.name.clone(), value))
            .path(self.path.clone())
            .secure(self.secure)
            .http_only(self.httponly)
            .same_site(match self.samesite {
                CookieSameSite::Lax => SameSite::Lax,
                CookieSameSite::Strict => SameSite::Strict,
                CookieSameSite::None => SameSite::None,
            });
        if let Some(domain) = &self.domain {
            cookie = cookie.domain(domain.clone());
        }
        if let Some(seconds) = max_age {
            cookie = cookie.max_age(time::Duration::seconds(seconds));
        }
        cookie.build()
    }

    /// The `Set-Cookie` value that stores `token`.
    pub fn set_cookie(&self, token: &str) -> String {
        self.cookie(token.to_owned(), self.max_age).to_string()
    }

    /// The `Set-Cookie` value that clears the cookie, with the same attributes as login.
    pub fn clear_cookie(&self) -> String {
        self.cookie(String::new(), Some(0)).to_string()
    }
}

/// Where a backend's token travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// `Authorization: Bearer`.
    Bearer(BearerTransport),
    /// A cookie.
    Cookie(CookieTransport),
}

impl Transport {
    /// The token this transport finds in a request, if any.
    pub fn token(&self, parts: &Parts) -> Option<String> {
        match self {
            Self::Bearer(_) => {
                let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
                let (scheme, token) = value.split_once(' ')?;
                let token = token.trim();
                (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty())
                    .then(|| token.to_owned())
            }
            Self::Cookie(config) => parts
                .headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| Cookie::split_parse(v.to_owned()))
                .filter_map(Result::ok)
                .find(|c| c.name() == config.name)
                .map(|c| c.value().to_owned())
                .filter(|v| !v.is_empty()),
        }
    }

    /// True for the cookie transport (which needs CSRF defence).
    pub fn is_cookie(&self) -> bool {
        matches!(self, Self::Cookie(_))
    }

    /// The `WWW-Authenticate` challenge for a 401.
    pub fn challenge(&self) -> &'static str {
        match self {
            Self::Bearer(_) => "Bearer",
            Self::Cookie(_) => "Cookie",
        }
    }

    /// The login response: bearer 200 `{"access_token", "token_type": "bearer"}` (plus
    /// `refresh_token` when one was issued); cookie 204 with `Set-Cookie`.
    pub fn login_response(&self, token: &str, refresh_token: Option<&str>) -> Response {
        match self {
            Self::Bearer(_) => {
                let mut body = json!({ "access_token": token, "token_type": "bearer" });
                if let Some(refresh) = refresh_token {
                    body["refresh_token"] = json!(refresh);
                }
                (StatusCode::OK, axum::Json(body)).into_response()
            }
            Self::Cookie(config) => with_cookie(StatusCode::NO_CONTENT, &config.set_cookie(token)),
        }
    }

    /// The logout response: 204, clearing the cookie for the cookie transport.
    pub fn logout_response(&self) -> Response {
        match self {
            Self::Bearer(_) => StatusCode::NO_CONTENT.into_response(),
            Self::Cookie(config) => with_cookie(StatusCode::NO_CONTENT, &config.clear_cookie()),
        }
    }
}

fn with_cookie(status: StatusCode, set_cookie: &str) -> Response {
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(set_cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(name: &str, value: &str) -> Parts {
        let (parts, ()) = Request::builder()
            .header(name, value)
            .body(())
            .expect("request builds")
            .into_parts();
        parts
    }

    #[test]
    fn bearer_reads_the_authorization_header() {
        let t = Transport::Bearer(BearerTransport::new("auth/jwt/login"));
        assert_eq!(
            t.token(&parts("authorization", "Bearer abc")),
            Some("abc".into())
        );
        assert_eq!(
            t.token(&parts("authorization", "bearer abc")),
            Some("abc".into())
        );
        assert_eq!(t.token(&parts("authorization", "Basic abc")), None);
        assert_eq!(t.token(&parts("authorization", "Bearer ")), None);
        assert_eq!(t.token(&parts("x-other", "Bearer abc")), None);
    }

    #[test]
    fn cookie_defaults_match_fastapi_users() {
        let c = CookieTransport {
            max_age: Some(3600),
            ..CookieTransport::default()
        };
        let set = c.set_cookie("tok");
        for part in [
            "fastapiusersauth=tok",
            "HttpOnly",
            "Max-Age=3600",
            "Path=/",
            "Secure",
        ] {
            assert!(set.contains(part), "{set} lacks {part}");
        }
        assert!(set.to_ascii_lowercase().contains("samesite=lax"), "{set}");
        let clear = c.clear_cookie();
        for part in [
            "fastapiusersauth=",
            "HttpOnly",
            "Max-Age=0",
            "Path=/",
            "Secure",
        ] {
            assert!(clear.contains(part), "{clear} lacks {part}");
        }
        assert!(
            clear.to_ascii_lowercase().contains("samesite=lax"),
            "{clear}"
        );
        let t = Transport::Cookie(c);
        assert_eq!(
            t.token(&parts("cookie", "a=1; fastapiusersauth=tok; b=2")),
            Some("tok".into())
        );
        assert_eq!(t.token(&parts("cookie", "fastapiusersauth=")), None);
    }
}
