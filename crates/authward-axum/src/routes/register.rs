//! `POST /register`.

use authward_core::{ManagerError, UserId};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

use crate::body::ApiJson;
use crate::error::{ApiError, ErrorCode};
use crate::errors_map;
use crate::schema::{user_create, user_read};
use crate::state::{Authward, ExtraFields, HttpUserDb, request_info};

impl<ID: UserId, X: ExtraFields, DB: HttpUserDb<ID, X>> Authward<ID, X, DB> {
    /// `POST /register`: 201 with the new user; `is_active`, `is_superuser` and
    /// `is_verified` in the body are ignored.
    pub fn register_router(&self) -> Router {
        Router::new()
            .route("/register", post(register::<ID, X, DB>))
            .layer(axum::Extension(self.inner.body_limit))
            .with_state(self.clone())
    }
}

#[tracing::instrument(level = "debug", name = "authward.register", skip_all)]
async fn register<ID: UserId, X: ExtraFields, DB: HttpUserDb<ID, X>>(
    State(aw): State<Authward<ID, X, DB>>,
    parts: Parts,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let create = user_create::<X>(body)?;
    let info = request_info(&parts);
    match aw.inner.manager.create(create, true, Some(&info)).await {
        Ok(user) => Ok((StatusCode::CREATED, axum::Json(user_read(&user))).into_response()),
        Err(ManagerError::UserAlreadyExists) => {
            Err(ApiError::BadRequest(ErrorCode::RegisterUserAlreadyExists))
        }
        Err(ManagerError::InvalidPassword { reason }) => Err(ApiError::InvalidPassword {
            code: ErrorCode::RegisterInvalidPassword,
            reason,
        }),
        Err(e) => Err(errors_map::manager(&e)),
    }
}
