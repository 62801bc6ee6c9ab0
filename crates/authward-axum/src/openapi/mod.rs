//! An OpenAPI 3.1 document of the authward routes (feature `openapi`).
//!
//! Routers are mounted wherever the application chooses, so the document is built from a
//! [`Mounts`] that says where each router went. It lists exactly the routes those routers
//! serve — `/refresh` and `/sessions` only for backends that have them — with their request
//! bodies, every status code of the contract (see `docs/src/http.md`) and FastAPI Users' security
//! schemes: an OAuth2 password flow per bearer backend (`tokenUrl` = its login path) and an API
//! key in a cookie per cookie backend.
//!
//! ```no_run
//! # use authward_axum::{Authward, HttpUserDb, openapi::{IdSchema, Mounts}};
//! # fn app<DB: HttpUserDb>(aw: Authward<DB>) -> axum::Router
//! # where authward_core::IdOf<DB>: IdSchema {
//! let mounts = Mounts::fastapi_users_default(["jwt"]);
//! axum::Router::new()
//!     .nest("/auth/jwt", aw.auth_router("jwt"))
//!     .nest("/auth", aw.register_router())
//!     .nest("/auth", aw.reset_password_router())
//!     .nest("/auth", aw.verify_router())
//!     .nest("/users", aw.users_router())
//!     .merge(aw.openapi_router(mounts)) // GET /openapi.json
//! # }
//! ```

mod id;
mod paths;
mod responses;
mod schemas;
mod security;

use authward_core::IdOf;
use authward_core::schema::UserSchema;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::openapi::path::PathsBuilder;
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};

use crate::error::ApiError;
use crate::state::{Authward, HttpUserDb};

pub use id::IdSchema;
pub(crate) use schemas::validation_loc;

use paths::DocContext;

/// Where the application mounted each authward router (the prefix given to
/// [`axum::Router::nest`]); `None` / absent means not mounted, and its routes are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mounts {
    /// `(backend name, prefix)` for each [`Authward::auth_router`], e.g.
    /// `("jwt", "/auth/jwt")`. Names of no backend are skipped.
    pub auth: Vec<(String, String)>,
    /// Prefix of [`Authward::register_router`], e.g. `/auth`.
    pub register: Option<String>,
    /// Prefix of [`Authward::reset_password_router`], e.g. `/auth`.
    pub reset: Option<String>,
    /// Prefix of [`Authward::verify_router`], e.g. `/auth`.
    pub verify: Option<String>,
    /// Prefix of [`Authward::users_router`], e.g. `/users`.
    pub users: Option<String>,
}

impl Mounts {
    /// FastAPI Users' mounting (its full example, and `docs/src/http.md`): each backend's auth
    /// router at `/auth/<name>`, register, reset-password and verify at `/auth`, users at
    /// `/users`.
    pub fn fastapi_users_default<I, S>(backend_names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let auth = backend_names
            .into_iter()
            .map(|name| {
                let name = name.into();
                let prefix = format!("/auth/{name}");
                (name, prefix)
            })
            .collect();
        Self {
            auth,
            register: Some("/auth".into()),
            reset: Some("/auth".into()),
            verify: Some("/auth".into()),
            users: Some("/users".into()),
        }
    }
}

/// `GET /openapi.json` answering `doc` as JSON (serialized once, here). Merge it into the
/// application's router; use it instead of [`Authward::openapi_router`] to serve a document
/// the application has extended.
pub fn json_router(doc: &OpenApi) -> Router {
    let body = match serde_json::to_vec(doc) {
        Ok(bytes) => Some(Bytes::from(bytes)),
        Err(err) => {
            tracing::error!(error = %err, "OpenAPI document does not serialize");
            None
        }
    };
    Router::new().route(
        "/openapi.json",
        get(move || {
            let body = body.clone();
            async move {
                match body {
                    Some(bytes) => (
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        )],
                        bytes,
                    )
                        .into_response(),
                    None => ApiError::Internal.into_response(),
                }
            }
        }),
    )
}

impl<DB: HttpUserDb> Authward<DB> {
    /// [`Mounts::fastapi_users_default`] for every backend of this `Authward`.
    pub fn fastapi_users_mounts(&self) -> Mounts {
        Mounts::fastapi_users_default(self.inner.backends.iter().map(|b| b.name.clone()))
    }

    /// The OpenAPI 3.1 document of the routes mounted as `mounts` says. Its fields are public:
    /// change `info`, add `servers`, or [`OpenApi::merge`] it with the application's own.
    /// The user's `id` is described by the ID type's [`IdSchema`].
    pub fn openapi(&self, mounts: &Mounts) -> OpenApi
    where
        IdOf<DB>: IdSchema,
    {
        let doc = DocContext::new(self);
        let mut paths = PathsBuilder::new();
        for (name, prefix) in &mounts.auth {
            if let Some(backend) = self.inner.backends.iter().find(|b| &b.name == name) {
                paths = doc.auth_paths(
                    paths,
                    name,
                    prefix,
                    &backend.transport,
                    backend.refresh.is_some(),
                    backend.sessions.is_some(),
                );
            }
        }
        if let Some(prefix) = &mounts.register {
            paths = doc.register_paths(paths, prefix);
        }
        if let Some(prefix) = &mounts.reset {
            paths = doc.reset_paths(paths, prefix);
        }
        if let Some(prefix) = &mounts.verify {
            paths = doc.verify_paths(paths, prefix);
        }
        if let Some(prefix) = &mounts.users {
            paths = doc.users_paths(paths, prefix);
        }

        let mut components = schemas::components::<IdOf<DB>>(DB::User::has_app_fields());
        for (name, scheme) in security::schemes(self, mounts) {
            components = components.security_scheme(name, scheme);
        }

        OpenApiBuilder::new()
            .info(
                InfoBuilder::new()
                    .title("authward")
                    .version(env!("CARGO_PKG_VERSION"))
                    .description(Some(
                        "User authentication speaking FastAPI Users' HTTP contract.",
                    ))
                    .build(),
            )
            .paths(paths.build())
            .components(Some(components.build()))
            .build()
    }

    /// A router serving `GET /openapi.json`: [`Authward::openapi`] of `mounts`, built once.
    pub fn openapi_router(&self, mounts: Mounts) -> Router
    where
        IdOf<DB>: IdSchema,
    {
        json_router(&self.openapi(&mounts))
    }
}
