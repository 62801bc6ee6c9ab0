//! JSON answers for unknown routes and wrong methods, as FastAPI (Starlette) gives them:
//! `404 {"detail": "Not Found"}` and `405 {"detail": "Method Not Allowed"}` (with the `Allow`
//! header axum sets), instead of axum's empty bodies.
//!
//! Every router of [`Authward`](crate::Authward) answers a wrong method with the JSON 405
//! already. An unknown path is the application's router's business (axum's nested routers
//! fall through to their parent's fallback), so apply [`json_fallbacks`] to the whole
//! application, **after** its last route:
//!
//! ```no_run
//! # use authward_axum::{Authward, HttpUserDb};
//! # fn app<DB: HttpUserDb>(aw: Authward<DB>) -> axum::Router {
//! let app = axum::Router::new()
//!     .nest("/auth/jwt", aw.auth_router("jwt"))
//!     .nest("/users", aw.users_router())
//!     .route("/hello", axum::routing::get(|| async { "hello" }));
//! authward_axum::fallback::json_fallbacks(app)
//! # }
//! ```

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error_body::ErrorBody;

/// `404 {"detail": "Not Found"}`: the fallback for a path no route matches.
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(ErrorBody::message("Not Found")),
    )
        .into_response()
}

/// `405 {"detail": "Method Not Allowed"}`: the fallback for a route called with a method it
/// does not serve. axum adds the `Allow` header listing the methods the route serves.
pub async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(ErrorBody::message("Method Not Allowed")),
    )
        .into_response()
}

/// `router` answering unknown paths with [`not_found`] and wrong methods with
/// [`method_not_allowed`].
///
/// The 405 applies to the routes registered so far, so call this on the finished application
/// router. The 404 replaces the router's fallback: a router that has its own fallback already
/// keeps only this one.
pub fn json_fallbacks<S>(router: Router<S>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}
