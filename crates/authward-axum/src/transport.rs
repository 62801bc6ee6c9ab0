//! Transports: where a token travels. Bearer (`Authorization: Bearer <t>`, login answers JSON)
//! and cookie (login answers 204 with `Set-Cookie`), with FastAPI Users' defaults and
//! responses.
//!
//! With refresh tokens, the bearer transport returns the refresh token in the login JSON; the
//! cookie transport keeps it in a second `HttpOnly` cookie ([`CookieTransport::refresh_name`])
//! scoped to the auth router's path, so it is sent to `/refresh` and `/logout` only, rotated on
//! every refresh and cleared on logout.

use std::borrow::Cow;
use std::fmt;

use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use serde::Serialize;

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

impl CookieSameSite {
    /// The attribute as the `cookie` crate spells it. Public for authward-oauth's CSRF
    /// cookie; not part of the API.
    #[doc(hidden)]
    pub fn to_cookie(self) -> SameSite {
        match self {
            Self::Lax => SameSite::Lax,
            Self::Strict => SameSite::Strict,
            Self::None => SameSite::None,
        }
    }
}

/// The body of a bearer login or refresh.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct BearerResponse<'a> {
    // The fields in alphabetical order: the order of the keys on the wire, as in every JSON
    // body of authward's routes.
    access_token: &'a str,
    /// Only from backends with refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    refresh_token: Option<&'a str>,
    #[cfg_attr(feature = "openapi", schema(inline))]
    token_type: TokenType,
}

impl<'a> BearerResponse<'a> {
    fn new(access_token: &'a str, refresh_token: Option<&'a str>) -> Self {
        Self {
            access_token,
            refresh_token,
            token_type: TokenType::Bearer,
        }
    }
}

/// The `token_type` of a bearer response: `bearer`, always.
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
enum TokenType {
    Bearer,
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
    /// Name of the refresh-token cookie (backends with refresh tokens); default
    /// `fastapiusersrefresh`.
    pub refresh_name: String,
    /// `Path` of the refresh-token cookie; default `None`: the path the auth router is mounted
    /// at (e.g. `/auth/cookie`), which covers its `/refresh` and `/logout` and nothing else.
    pub refresh_path: Option<String>,
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
            refresh_name: "fastapiusersrefresh".into(),
            refresh_path: None,
        }
    }
}

impl CookieTransport {
    fn cookie(&self, value: String, max_age: Option<i64>) -> Cookie<'static> {
        self.build(self.name.clone(), self.path.clone(), value, max_age)
    }

    fn build(
        &self,
        name: String,
        path: String,
        value: String,
        max_age: Option<i64>,
    ) -> Cookie<'static> {
        let mut cookie = Cookie::build((name, value))
            .path(path)
            .secure(self.secure)
            .http_only(self.httponly)
            .same_site(self.samesite.to_cookie());
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

    fn refresh_cookie_path(&self, mount: &str) -> String {
        self.refresh_path.clone().unwrap_or_else(|| {
            if mount.is_empty() {
                "/".into()
            } else {
                mount.to_owned()
            }
        })
    }

    /// The `Set-Cookie` value that stores a refresh token for the auth router mounted at
    /// `mount`, living `max_age` seconds (a session cookie when `None`).
    pub fn set_refresh_cookie(&self, token: &str, mount: &str, max_age: Option<i64>) -> String {
        self.build(
            self.refresh_name.clone(),
            self.refresh_cookie_path(mount),
            token.to_owned(),
            max_age,
        )
        .to_string()
    }

    /// The `Set-Cookie` value that clears the refresh-token cookie.
    pub fn clear_refresh_cookie(&self, mount: &str) -> String {
        self.build(
            self.refresh_name.clone(),
            self.refresh_cookie_path(mount),
            String::new(),
            Some(0),
        )
        .to_string()
    }
}

/// A refresh token to hand out with a login or refresh response.
#[derive(Clone, Copy)]
pub struct IssuedRefresh<'a> {
    /// The refresh token.
    pub token: &'a str,
    /// How long it lives, in seconds (the refresh cookie's `Max-Age`).
    pub max_age: Option<i64>,
    /// Where the auth router is mounted (the refresh cookie's default `Path`).
    pub mount: &'a str,
}

impl fmt::Debug for IssuedRefresh<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedRefresh")
            .field("token", &"<redacted>")
            .field("max_age", &self.max_age)
            .field("mount", &self.mount)
            .finish()
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
        self.token_in(parts).map(Cow::into_owned)
    }

    /// [`Transport::token`], borrowed from the request where it can be (a bearer token): no
    /// copy on the path of every authenticated request.
    pub(crate) fn token_in<'p>(&self, parts: &'p Parts) -> Option<Cow<'p, str>> {
        match self {
            Self::Bearer(_) => {
                let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
                let (scheme, token) = value.split_once(' ')?;
                let token = token.trim();
                (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty())
                    .then_some(Cow::Borrowed(token))
            }
            Self::Cookie(config) => cookie_value(parts, &config.name).map(Cow::Owned),
        }
    }

    /// The refresh token the cookie transport finds in its refresh cookie (`None` for bearer,
    /// whose clients send it in the body).
    pub fn refresh_token(&self, parts: &Parts) -> Option<String> {
        match self {
            Self::Bearer(_) => None,
            Self::Cookie(config) => cookie_value(parts, &config.refresh_name),
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
    /// `refresh_token` when one was issued); cookie 204 with `Set-Cookie` (plus the refresh
    /// cookie when one was issued).
    pub fn login_response(&self, token: &str, refresh: Option<IssuedRefresh<'_>>) -> Response {
        match self {
            Self::Bearer(_) => {
                let body = BearerResponse::new(token, refresh.map(|r| r.token));
                (StatusCode::OK, axum::Json(body)).into_response()
            }
            Self::Cookie(config) => {
                let mut cookies = vec![config.set_cookie(token)];
                if let Some(refresh) = refresh {
                    cookies.push(config.set_refresh_cookie(
                        refresh.token,
                        refresh.mount,
                        refresh.max_age,
                    ));
                }
                with_cookies(StatusCode::NO_CONTENT, &cookies)
            }
        }
    }

    /// Whether the refresh cookie's `Path` is the auth router's mount (a cookie transport
    /// without [`CookieTransport::refresh_path`]).
    pub(crate) fn scopes_refresh_to_mount(&self) -> bool {
        matches!(self, Self::Cookie(cookie) if cookie.refresh_path.is_none())
    }

    /// The logout response: 204, clearing the cookie for the cookie transport (and the
    /// refresh cookie of the auth router mounted at `refresh_mount`, when given).
    pub fn logout_response(&self, refresh_mount: Option<&str>) -> Response {
        match self {
            Self::Bearer(_) => StatusCode::NO_CONTENT.into_response(),
            Self::Cookie(config) => {
                let mut cookies = vec![config.clear_cookie()];
                if let Some(mount) = refresh_mount {
                    cookies.push(config.clear_refresh_cookie(mount));
                }
                with_cookies(StatusCode::NO_CONTENT, &cookies)
            }
        }
    }
}

fn cookie_value(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_owned()))
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

fn with_cookies(status: StatusCode, set_cookies: &[String]) -> Response {
    let mut response = status.into_response();
    for set_cookie in set_cookies {
        if let Ok(value) = HeaderValue::from_str(set_cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
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
    fn the_bearer_body_has_its_keys_in_alphabetical_order() {
        let body = |refresh| {
            serde_json::to_string(&BearerResponse::new("a", refresh)).expect("body serializes")
        };
        assert_eq!(body(None), r#"{"access_token":"a","token_type":"bearer"}"#);
        assert_eq!(
            body(Some("r")),
            r#"{"access_token":"a","refresh_token":"r","token_type":"bearer"}"#
        );
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
        assert_eq!(
            t.refresh_token(&parts(
                "cookie",
                "fastapiusersauth=a; fastapiusersrefresh=r"
            )),
            Some("r".into())
        );
    }

    #[test]
    fn the_refresh_cookie_is_http_only_and_scoped_to_the_auth_router() {
        let c = CookieTransport::default();
        let set = c.set_refresh_cookie("r", "/auth/cookie", Some(604_800));
        for part in [
            "fastapiusersrefresh=r",
            "HttpOnly",
            "Secure",
            "Path=/auth/cookie",
            "Max-Age=604800",
        ] {
            assert!(set.contains(part), "{set} lacks {part}");
        }
        let clear = c.clear_refresh_cookie("/auth/cookie");
        assert!(clear.contains("Max-Age=0") && clear.contains("Path=/auth/cookie"));
        let pinned = CookieTransport {
            refresh_path: Some("/auth/cookie/refresh".into()),
            ..CookieTransport::default()
        };
        assert!(
            pinned
                .set_refresh_cookie("r", "/auth/cookie", None)
                .contains("Path=/auth/cookie/refresh")
        );
    }
}
