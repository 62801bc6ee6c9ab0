//! Routers reproducing FastAPI Users' contract. Mount them as its full example does:
//!
//! ```no_run
//! # use authward_axum::{Authward, HttpUserDb};
//! # fn app<DB: HttpUserDb>(aw: Authward<DB>) -> axum::Router {
//! axum::Router::new()
//!     .nest("/auth/jwt", aw.auth_router("jwt"))
//!     .nest("/auth", aw.register_router())
//!     .nest("/auth", aw.reset_password_router())
//!     .nest("/auth", aw.verify_router())
//!     .nest("/users", aw.users_router())
//! # }
//! ```

mod auth;
mod register;
mod reset;
mod users;
mod verify;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// 202 with the JSON body `null`, as forgot-password and request-verify-token answer.
pub(crate) fn accepted_null() -> Response {
    (StatusCode::ACCEPTED, axum::Json(serde_json::Value::Null)).into_response()
}
