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

#[cfg(feature = "openapi")]
pub(crate) use {
    auth::RefreshBody, auth::SessionEntry, reset::EmailBody, reset::ResetBody,
    users::ChangePasswordBody, verify::TokenBody,
};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// 202 with the JSON body `null`, as forgot-password and request-verify-token answer.
pub(crate) fn accepted_null() -> Response {
    (StatusCode::ACCEPTED, axum::Json(serde_json::Value::Null)).into_response()
}

/// Runs the part of an email-only flow (forgot-password, request-verify-token) that comes
/// after the user lookup — token, hooks, mail — in a task of its own, so the route answers
/// 202 `null` at once, with the same status, body and work whether the address exists, the
/// user is inactive or verified already, or the mailer fails. A failure is logged at `warn`
/// with the flow's name and the error (never the token).
pub(crate) fn detach_email_flow<F>(flow: &'static str, work: F)
where
    F: std::future::Future<Output = Result<(), authward_core::ManagerError>> + Send + 'static,
{
    tokio::spawn(async move {
        match work.await {
            Ok(())
            | Err(
                authward_core::ManagerError::UserInactive
                | authward_core::ManagerError::UserAlreadyVerified,
            ) => {}
            Err(err) => tracing::warn!(flow, error = %err, "email flow failed after the response"),
        }
    });
}
