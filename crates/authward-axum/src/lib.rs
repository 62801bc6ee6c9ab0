//! # authward-axum
//!
//! authward for axum: transports (bearer and cookie), CSRF defence for cookies, extractors for
//! the current user, and routers that reproduce FastAPI Users' HTTP contract (paths, status
//! codes, JSON shapes and `detail` error codes), so existing front ends keep working.

pub mod body;
pub mod csrf;
pub mod error;
pub mod transport;

pub use body::{ApiJson, BodyLimit, LoginForm};
pub use csrf::CsrfPolicy;
pub use error::{ApiError, ErrorCode, ValidationIssue};
pub use transport::{BearerTransport, CookieSameSite, CookieTransport, Transport};
