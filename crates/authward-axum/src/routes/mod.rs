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
mod email_flow;
mod login_allowed;
mod register;
mod reset;
mod users;
mod verify;

#[cfg(feature = "openapi")]
pub(crate) use {
    auth::RefreshBody, auth::SessionEntry, email_flow::EmailBody, reset::ResetBody,
    users::ChangePasswordBody, verify::TokenBody,
};

use axum::Router;
use axum::extract::FromRef;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::extract::{AuthResolver, Found, Requirements};
use crate::state::{Authward, HttpUserDb};

impl<DB: HttpUserDb> Authward<DB> {
    /// What every router of this module ends with: FastAPI's JSON 405 for a wrong method, the
    /// body limit its extractors read, and this state.
    fn finish_router(&self, router: Router<Self>) -> Router {
        router
            .method_not_allowed_fallback(crate::fallback::method_not_allowed)
            .layer(axum::Extension(self.inner.body_limit))
            .with_state(self.clone())
    }

    /// The signed-in user of a route, with its token and the backend that accepted it: active
    /// (else 401), verified when the application requires it and a superuser when `superuser`
    /// (else 403).
    async fn signed_in(&self, parts: &Parts, superuser: bool) -> Result<Found<DB::User>, ApiError> {
        let requirements = Requirements {
            active: true,
            verified: self.inner.requires_verification,
            superuser,
        };
        AuthResolver::from_ref(self)
            .require(parts, requirements)
            .await
    }
}
