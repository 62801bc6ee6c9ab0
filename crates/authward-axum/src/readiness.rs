//! A readiness route: whether every store the application needs is reachable.
//!
//! `/health` (the application's own) stays a liveness answer — the process runs. Readiness
//! asks each store ([`Ping`]) and answers `200 {"status": "ok", "stores": {"users": "ok", ...}}`
//! or `503 {"detail": "Service Unavailable", "stores": {"users": "down", ...}}` with
//! `Retry-After`, so a load balancer stops sending traffic while a store is down. It is cheap
//! to poll every second: the stores are asked concurrently, each within a bound, and one answer
//! is reused by every poll within a short window (one round of pings in flight at a time).
//!
//! ```
//! # #[cfg(any())] {
//! use authward_axum::readiness::Readiness;
//!
//! let ready = Readiness::new()
//!     .check("users", users_store.clone())
//!     .check("tokens", token_store.clone());
//! let app = axum::Router::new().merge(ready.router()); // GET /ready
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authward_core::Ping;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::sync::Mutex;

/// How long one store may take to answer a readiness ping.
pub const DEFAULT_PING_TIMEOUT: Duration = Duration::from_millis(1000);
/// How long one answer is reused.
pub const DEFAULT_CACHE: Duration = Duration::from_millis(500);

/// The stores to check (see the module docs).
#[derive(Clone)]
pub struct Readiness {
    checks: Arc<Vec<(String, Arc<dyn Ping>)>>,
    timeout: Duration,
    cache: Duration,
    last: Arc<Mutex<Option<(Instant, Report)>>>,
}

impl fmt::Debug for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Readiness")
            .field(
                "checks",
                &self.checks.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("timeout", &self.timeout)
            .field("cache", &self.cache)
            .finish()
    }
}

impl Default for Readiness {
    fn default() -> Self {
        Self::new()
    }
}

/// One readiness answer: each store's state, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `true` for a store that answered.
    pub stores: BTreeMap<String, bool>,
}

impl Report {
    /// Every store answered.
    pub fn ready(&self) -> bool {
        self.stores.values().all(|up| *up)
    }
}

impl Readiness {
    /// No store yet (always ready).
    pub fn new() -> Self {
        Self {
            checks: Arc::new(Vec::new()),
            timeout: DEFAULT_PING_TIMEOUT,
            cache: DEFAULT_CACHE,
            last: Arc::new(Mutex::new(None)),
        }
    }

    /// Adds a store under `name`.
    pub fn check(mut self, name: impl Into<String>, store: impl Ping + 'static) -> Self {
        Arc::make_mut(&mut self.checks).push((name.into(), Arc::new(store)));
        self
    }

    /// How long a store may take to answer (default [`DEFAULT_PING_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long an answer is reused (default [`DEFAULT_CACHE`]; zero asks every time).
    pub fn with_cache(mut self, cache: Duration) -> Self {
        self.cache = cache;
        self
    }

    /// Asks every store (or reuses an answer younger than the cache window).
    pub async fn report(&self) -> Report {
        let mut last = self.last.lock().await;
        if let Some((at, report)) = last.as_ref()
            && at.elapsed() < self.cache
        {
            return report.clone();
        }
        let pings = self.checks.iter().map(|(name, store)| async move {
            let up = matches!(
                tokio::time::timeout(self.timeout, store.ping()).await,
                Ok(Ok(()))
            );
            (name.clone(), up)
        });
        let report = Report {
            stores: futures::future::join_all(pings).await.into_iter().collect(),
        };
        for (name, up) in &report.stores {
            if !up {
                tracing::warn!(store = %name, "readiness: store unreachable");
            }
        }
        *last = Some((Instant::now(), report.clone()));
        report
    }

    /// `GET /ready`.
    pub fn router(self) -> Router {
        Router::new()
            .route(
                "/ready",
                get(move || {
                    let ready = self.clone();
                    async move { respond(&ready.report().await) }
                }),
            )
            .method_not_allowed_fallback(crate::fallback::method_not_allowed)
    }
}

fn respond(report: &Report) -> Response {
    let stores: serde_json::Map<String, serde_json::Value> = report
        .stores
        .iter()
        .map(|(name, up)| (name.clone(), json!(if *up { "ok" } else { "down" })))
        .collect();
    if report.ready() {
        (
            StatusCode::OK,
            axum::Json(json!({"status": "ok", "stores": stores})),
        )
            .into_response()
    } else {
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"detail": "Service Unavailable", "stores": stores})),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        response
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use async_trait::async_trait;
    use authward_core::DbError;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    #[derive(Default)]
    struct Store {
        down: AtomicBool,
        hang: AtomicBool,
        pings: AtomicUsize,
    }

    #[async_trait]
    impl Ping for Store {
        async fn ping(&self) -> Result<(), DbError> {
            self.pings.fetch_add(1, Ordering::SeqCst);
            if self.hang.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            if self.down.load(Ordering::SeqCst) {
                return Err(DbError::unavailable("refused"));
            }
            Ok(())
        }
    }

    async fn get(router: &Router) -> (StatusCode, Option<String>, serde_json::Value) {
        let response = router
            .clone()
            .oneshot(
                axum::http::Request::builder()
                    .uri("/ready")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status();
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, retry, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn names_the_store_that_is_down_and_recovers() {
        let users = Arc::new(Store::default());
        let tokens = Arc::new(Store::default());
        let router = Readiness::new()
            .check("users", Arc::clone(&users))
            .check("tokens", Arc::clone(&tokens))
            .with_cache(Duration::ZERO)
            .router();
        let (status, _, body) = get(&router).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"status": "ok", "stores": {"users": "ok", "tokens": "ok"}})
        );

        tokens.down.store(true, Ordering::SeqCst);
        let (status, retry, body) = get(&router).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry.as_deref(), Some("1"));
        assert_eq!(
            body,
            json!({"detail": "Service Unavailable", "stores": {"users": "ok", "tokens": "down"}})
        );

        tokens.down.store(false, Ordering::SeqCst);
        assert_eq!(get(&router).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_hanging_store_is_down_within_the_bound_and_answers_are_reused() {
        let store = Arc::new(Store::default());
        store.hang.store(true, Ordering::SeqCst);
        let ready = Readiness::new()
            .check("users", Arc::clone(&store))
            .with_timeout(Duration::from_millis(20))
            .with_cache(Duration::from_secs(60));
        assert!(!ready.report().await.ready());
        for _ in 0..5 {
            assert!(!ready.report().await.ready());
        }
        assert_eq!(
            store.pings.load(Ordering::SeqCst),
            1,
            "one round per window"
        );
    }
}
