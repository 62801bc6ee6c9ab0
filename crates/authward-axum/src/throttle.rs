//! Throttling of the unauthenticated routes: login, register, forgot-password,
//! request-verify-token, refresh and the OAuth callbacks (authward-oauth) answer `429 {"detail": "Too Many Requests"}` with
//! `Retry-After` when a client or an account is over its budget, and login is delayed
//! exponentially after consecutive failures of one account (docs/src/security.md has the
//! defaults and the reasoning).
//!
//! - **Client identity**: the socket address (axum's `ConnectInfo<SocketAddr>`; serve with
//!   `into_make_service_with_connect_info::<SocketAddr>()`). `X-Forwarded-For` and `Forwarded`
//!   are read only when the peer is a [trusted proxy](ThrottleConfig::trusted_proxies): the
//!   client is then the right-most address that is not a trusted proxy. When a request
//!   carries both headers and they name different clients, the client wrote one of them
//!   (a proxy passes on the header it does not write), so the request counts against the
//!   proxy's own address instead. IPv6 clients are grouped by their /64 (one host usually
//!   owns a whole /64).
//! - **Accounts**: the submitted email's [`email_key`](authward_core::email_key), so `A@x.io`
//!   and `a@x.io` (or `K` and `k`) are one budget; unknown emails are throttled exactly like
//!   known ones (no enumeration).
//! - **Paths**: buckets belong to the route, not to the request path, so `//auth/jwt/login`,
//!   a trailing slash or another case either reach the same route (and its bucket) or no route.
//! - A store failure lets the request through and logs a warning (throttling must not take
//!   logins down with it).

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use authward_core::throttle::{Limit, Lockout, ThrottleStore};
use axum::extract::ConnectInfo;
use axum::http::request::Parts;

use crate::error::ApiError;

/// The routes throttled, each with its own buckets. More may come: match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RouteClass {
    /// `POST {auth}/login`.
    Login,
    /// `POST /register`.
    Register,
    /// `POST /forgot-password`.
    ForgotPassword,
    /// `POST /request-verify-token`.
    RequestVerify,
    /// `POST {auth}/refresh`.
    Refresh,
    /// `GET {prefix}/callback` of an OAuth router (authward-oauth): each one may record a used
    /// state, which the default store keeps in memory for the state lifetime.
    OAuthCallback,
}

impl RouteClass {
    fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Register => "register",
            Self::ForgotPassword => "forgot",
            Self::RequestVerify => "verify",
            Self::Refresh => "refresh",
            Self::OAuthCallback => "oauth-callback",
        }
    }
}

/// One [`Limit`] per route class (`None`: not limited).
///
/// Built from [`RouteLimits::per_client_defaults`], [`RouteLimits::per_account_defaults`],
/// [`RouteLimits::none`] or [`RouteLimits::all`], then changed field by field or with
/// [`RouteLimits::with`]; a route class added later gets a field here, so the struct cannot
/// be written as a literal outside this crate.
///
/// ```
/// use std::time::Duration;
/// use authward_axum::{RouteClass, RouteLimits};
/// use authward_core::throttle::Limit;
///
/// let limits = RouteLimits::per_client_defaults()
///     .with(RouteClass::Login, Some(Limit::new(5, Duration::from_secs(60))));
/// assert_eq!(limits.get(RouteClass::Login), Some(Limit::new(5, Duration::from_secs(60))));
/// assert_eq!(RouteLimits::none().get(RouteClass::Refresh), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteLimits {
    /// Login.
    pub login: Option<Limit>,
    /// Registration.
    pub register: Option<Limit>,
    /// Forgot-password.
    pub forgot_password: Option<Limit>,
    /// Request-verify-token.
    pub request_verify: Option<Limit>,
    /// Refresh.
    pub refresh: Option<Limit>,
    /// OAuth callbacks.
    pub oauth_callback: Option<Limit>,
}

impl RouteLimits {
    /// No route class limited.
    pub fn none() -> Self {
        Self::all(None)
    }

    /// Every route class with `limit`.
    pub fn all(limit: impl Into<Option<Limit>>) -> Self {
        let limit = limit.into();
        Self {
            login: limit,
            register: limit,
            forgot_password: limit,
            request_verify: limit,
            refresh: limit,
            oauth_callback: limit,
        }
    }

    /// These limits with `class` limited by `limit` (`None`: not limited).
    #[must_use]
    pub fn with(mut self, class: RouteClass, limit: impl Into<Option<Limit>>) -> Self {
        let limit = limit.into();
        *match class {
            RouteClass::Login => &mut self.login,
            RouteClass::Register => &mut self.register,
            RouteClass::ForgotPassword => &mut self.forgot_password,
            RouteClass::RequestVerify => &mut self.request_verify,
            RouteClass::Refresh => &mut self.refresh,
            RouteClass::OAuthCallback => &mut self.oauth_callback,
        } = limit;
        self
    }

    /// The limit of `class`.
    pub fn get(&self, class: RouteClass) -> Option<Limit> {
        match class {
            RouteClass::Login => self.login,
            RouteClass::Register => self.register,
            RouteClass::ForgotPassword => self.forgot_password,
            RouteClass::RequestVerify => self.request_verify,
            RouteClass::Refresh => self.refresh,
            RouteClass::OAuthCallback => self.oauth_callback,
        }
    }

    /// Per client (one IPv4 address or IPv6 /64): login 10 a minute, registration 10 an hour,
    /// forgot-password and request-verify-token 5 per 15 minutes, refresh 30 a minute, OAuth
    /// callbacks 10 a minute.
    pub fn per_client_defaults() -> Self {
        Self {
            login: Some(Limit::new(10, Duration::from_secs(60))),
            register: Some(Limit::new(10, Duration::from_secs(3600))),
            forgot_password: Some(Limit::new(5, Duration::from_secs(900))),
            request_verify: Some(Limit::new(5, Duration::from_secs(900))),
            refresh: Some(Limit::new(30, Duration::from_secs(60))),
            oauth_callback: Some(Limit::new(10, Duration::from_secs(60))),
        }
    }

    /// Per account (email key): login 30 an hour, registration 5 an hour, forgot-password
    /// and request-verify-token 3 an hour; refresh tokens are per session and OAuth callbacks
    /// carry no account, so neither is limited here.
    pub fn per_account_defaults() -> Self {
        Self {
            login: Some(Limit::new(30, Duration::from_secs(3600))),
            register: Some(Limit::new(5, Duration::from_secs(3600))),
            forgot_password: Some(Limit::new(3, Duration::from_secs(3600))),
            request_verify: Some(Limit::new(3, Duration::from_secs(3600))),
            refresh: None,
            oauth_callback: None,
        }
    }
}

/// Throttling settings ([`AuthwardConfig::throttle`](crate::AuthwardConfig::throttle)).
#[derive(Clone)]
pub struct ThrottleConfig {
    /// Where the budgets live (`MemoryThrottle` for one server, `RedisThrottle` for several).
    pub store: Arc<dyn ThrottleStore>,
    /// Per client.
    pub per_client: RouteLimits,
    /// Per account.
    pub per_account: RouteLimits,
    /// The delay after consecutive failed logins of one account.
    pub lockout: Lockout,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` are believed: `(network, prefix length)`.
    pub trusted_proxies: Vec<(IpAddr, u8)>,
}

impl fmt::Debug for ThrottleConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThrottleConfig")
            .field("per_client", &self.per_client)
            .field("per_account", &self.per_account)
            .field("lockout", &self.lockout)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

impl ThrottleConfig {
    /// The defaults ([`RouteLimits::per_client_defaults`],
    /// [`RouteLimits::per_account_defaults`], [`Lockout::default`]) over `store`, no trusted
    /// proxy.
    pub fn new(store: impl ThrottleStore) -> Self {
        Self {
            store: Arc::new(store),
            per_client: RouteLimits::per_client_defaults(),
            per_account: RouteLimits::per_account_defaults(),
            lockout: Lockout::default(),
            trusted_proxies: Vec::new(),
        }
    }

    /// Believes `X-Forwarded-For` / `Forwarded` from these networks (`(address, prefix)`).
    pub fn with_trusted_proxies(mut self, proxies: impl IntoIterator<Item = (IpAddr, u8)>) -> Self {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies
            .iter()
            .any(|(net, prefix)| in_network(ip, *net, *prefix))
    }

    /// The client of a request, as its bucket name: an IPv4 address or an IPv6 /64, or
    /// `unknown` when the server was not given the peer address.
    pub fn client(&self, parts: &Parts) -> String {
        let Some(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| canonical(info.0.ip()))
        else {
            return "unknown".to_owned();
        };
        if !self.trusted(peer) {
            return bucket(peer);
        }
        let forwarded = self.client_in(&forwarded_for(parts));
        let x_forwarded_for = self.client_in(&x_forwarded_for(parts));
        let client = match (forwarded, x_forwarded_for) {
            // A proxy that writes one of the headers passes the other through as the client
            // sent it, so when both are present and name different clients, one of them is
            // the client's own choice, and which one depends on the proxy. Such requests all
            // share the proxy's bucket: a client cannot pick a fresh budget per request.
            (Some(a), Some(b)) if bucket(a) != bucket(b) => peer,
            (Some(client), _) | (None, Some(client)) => client,
            (None, None) => peer,
        };
        bucket(client)
    }

    /// The client a chain of forwarded addresses names: right to left, the first address not
    /// of a trusted proxy (or the left-most, when all are); `None` for an empty chain.
    fn client_in(&self, chain: &[IpAddr]) -> Option<IpAddr> {
        let mut client = None;
        for &hop in chain.iter().rev() {
            client = Some(hop);
            if !self.trusted(hop) {
                break;
            }
        }
        client
    }

    /// Spends one request of `class` for the client and the account (if any); `429` when
    /// either is over budget, or when the account is delayed after failed logins.
    pub(crate) async fn check(
        &self,
        class: RouteClass,
        parts: &Parts,
        account: Option<&str>,
    ) -> Result<(), ApiError> {
        let client = self.client(parts);
        let mut checks = Vec::new();
        if let Some(limit) = self.per_client.get(class) {
            checks.push((format!("{}:c:{client}", class.as_str()), limit));
        }
        let account = account.map(authward_core::email_key);
        if let Some(account) = &account {
            if class == RouteClass::Login {
                let key = lockout_key(account);
                match self.store.blocked(&key).await {
                    Ok(decision) if !decision.allowed => {
                        return Err(too_many(decision.retry_after));
                    }
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "throttle store failed; allowing"),
                }
            }
            if let Some(limit) = self.per_account.get(class) {
                checks.push((format!("{}:a:{account}", class.as_str()), limit));
            }
        }
        for (key, limit) in checks {
            match self.store.check(&key, limit, 1).await {
                Ok(decision) if !decision.allowed => return Err(too_many(decision.retry_after)),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "throttle store failed; allowing"),
            }
        }
        Ok(())
    }

    /// After a login: a failure counts towards the account's delay, a success resets it.
    pub(crate) async fn login_outcome(&self, account: &str, success: bool) {
        let account = authward_core::email_key(account);
        let key = lockout_key(&account);
        let result = if success {
            self.store.reset(&key).await
        } else {
            self.store
                .record_failure(&key, self.lockout)
                .await
                .map(drop)
        };
        if let Err(err) = result {
            tracing::warn!(error = %err, "throttle store failed");
        }
    }
}

fn lockout_key(account: &str) -> String {
    format!("login:f:{account}")
}

fn too_many(retry_after: Duration) -> ApiError {
    ApiError::TooManyRequests {
        retry_after_secs: retry_after
            .as_secs()
            .saturating_add(u64::from(retry_after.subsec_nanos() > 0)),
    }
}

/// An IPv4-mapped IPv6 address is its IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// IPv4 as is; IPv6 as its /64.
fn bucket(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (canonical(ip), canonical(net)) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let prefix = u32::from(prefix.min(32));
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let prefix = u32::from(prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The comma-separated elements of every `name` header, in order.
fn header_elements(parts: &Parts, name: &str) -> Vec<String> {
    parts
        .headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|s| s.trim().to_owned()))
        .collect()
}

/// The `for=` addresses of `Forwarded`, left to right; unparsable entries (obfuscated
/// identifiers, `unknown`) are skipped.
fn forwarded_for(parts: &Parts) -> Vec<IpAddr> {
    header_elements(parts, "forwarded")
        .iter()
        .flat_map(|element| element.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            name.eq_ignore_ascii_case("for")
                .then(|| parse_node(value))?
        })
        .collect()
}

/// The addresses of `X-Forwarded-For`, left to right; unparsable entries are skipped.
fn x_forwarded_for(parts: &Parts) -> Vec<IpAddr> {
    header_elements(parts, "x-forwarded-for")
        .iter()
        .filter_map(|v| parse_node(v))
        .collect()
}

/// `192.0.2.1`, `"[2001:db8::1]:4711"`, `192.0.2.1:80`.
fn parse_node(value: &str) -> Option<IpAddr> {
    let value = value.trim().trim_matches('"');
    if let Ok(ip) = value.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Some(canonical(addr.ip()));
    }
    let inner = value.strip_prefix('[')?.split(']').next()?;
    inner.parse::<IpAddr>().ok().map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use authward_core::throttle::MemoryThrottle;
    use axum::http::Request;

    fn parts(peer: &str, headers: &[(&str, &str)]) -> Parts {
        let mut builder = Request::builder().uri("/auth/jwt/login");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let (mut parts, ()) = builder.body(()).expect("request").into_parts();
        let peer: SocketAddr = peer.parse().expect("socket address");
        parts.extensions.insert(ConnectInfo(peer));
        parts
    }

    #[test]
    fn retry_after_rounds_up_and_saturates() {
        let secs = |d| match too_many(d) {
            ApiError::TooManyRequests { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        };
        assert_eq!(secs(Duration::from_millis(1500)), Some(2));
        assert_eq!(secs(Duration::from_secs(3)), Some(3));
        assert_eq!(secs(Duration::MAX), Some(u64::MAX));
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let config = ThrottleConfig::new(MemoryThrottle::new())
            .with_trusted_proxies([("10.0.0.0".parse().expect("ip"), 8)]);
        let spoof = [("x-forwarded-for", "1.2.3.4")];
        assert_eq!(
            config.client(&parts("203.0.113.9:5000", &spoof)),
            "203.0.113.9"
        );
        assert_eq!(config.client(&parts("10.1.2.3:5000", &spoof)), "1.2.3.4");
        // A client cannot hide behind a forged left-most entry.
        let chain = [("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.2")];
        assert_eq!(
            config.client(&parts("10.1.2.3:5000", &chain)),
            "198.51.100.7"
        );
        let forwarded = [("forwarded", r#"for="[2001:db8:cafe::17]:4711";proto=https"#)];
        assert_eq!(
            config.client(&parts("10.1.2.3:5000", &forwarded)),
            "2001:db8:cafe::/64"
        );
    }

    /// A proxy that appends to `X-Forwarded-For` passes a client's own `Forwarded` through
    /// (and the other way round): a client must not get a fresh budget per request by
    /// writing the header its proxy does not.
    #[test]
    fn a_client_cannot_pick_its_address_with_the_header_the_proxy_does_not_write() {
        let config = ThrottleConfig::new(MemoryThrottle::new())
            .with_trusted_proxies([("10.0.0.0".parse().expect("ip"), 8)]);
        let peer = "10.1.2.3:5000";
        let injected = [
            ("x-forwarded-for", "198.51.100.7"),
            ("forwarded", "for=203.0.113.99"),
        ];
        assert_eq!(config.client(&parts(peer, &injected)), "10.1.2.3");
        let other_way = [
            ("forwarded", "for=198.51.100.7"),
            ("x-forwarded-for", "203.0.113.42"),
        ];
        assert_eq!(config.client(&parts(peer, &other_way)), "10.1.2.3");
        // A proxy that writes both: they agree on the client, whatever is to their left.
        let both = [
            ("x-forwarded-for", "6.6.6.6, 198.51.100.7"),
            ("forwarded", "for=198.51.100.7"),
        ];
        assert_eq!(config.client(&parts(peer, &both)), "198.51.100.7");
    }

    #[test]
    fn ipv6_clients_are_grouped_by_64() {
        let config = ThrottleConfig::new(MemoryThrottle::new());
        let a = config.client(&parts("[2001:db8:1:2:aaaa::1]:1", &[]));
        let b = config.client(&parts("[2001:db8:1:2:bbbb::9]:1", &[]));
        assert_eq!(a, b);
        assert_ne!(a, config.client(&parts("[2001:db8:1:3::1]:1", &[])));
        assert_eq!(
            config.client(&parts("[::ffff:192.0.2.5]:1", &[])),
            "192.0.2.5"
        );
    }
}
