//! # authward-axum
//!
//! authward for axum: transports (bearer and cookie), CSRF defence for cookies, extractors for
//! the current user, and routers that reproduce FastAPI Users' HTTP contract (paths, status
//! codes, JSON shapes and `detail` error codes), so existing front ends keep working.
//!
//! Build an [`Authward`] from a [`UserManager`](authward_core::UserManager) and one or more
//! [`AuthBackend`]s, then mount its routers (see [`routes`]). Every rejection — malformed JSON,
//! wrong content type, oversized body, store outage — answers JSON in FastAPI's
//! `{"detail": ...}` shape.

pub mod backend;
pub mod body;
pub mod csrf;
pub mod error;
mod errors_map;
pub mod extract;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod routes;
pub mod schema;
pub mod state;
pub mod throttle;
pub mod transport;

pub use backend::{AuthBackend, RefreshFlow, SessionList};
pub use body::{ApiJson, BodyLimit, LoginForm};
pub use csrf::CsrfPolicy;
pub use error::{ApiError, ErrorCode, ValidationIssue};
pub use extract::{
    AnyUser, AuthResolver, CurrentUser, Found, MaybeUser, Requirements, Superuser, VerifiedUser,
};
pub use state::{Authward, AuthwardConfig, BuildError, HttpUserDb};
pub use throttle::{RouteClass, RouteLimits, ThrottleConfig};
pub use transport::{BearerTransport, CookieSameSite, CookieTransport, IssuedRefresh, Transport};
