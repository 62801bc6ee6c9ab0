//! `POST /register`.

use authward_core::ManagerError;
use authward_core::schema::UserSchema;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

use crate::body::ApiJson;
use crate::error::{ApiError, ErrorCode};
use crate::schema::user_create;
use crate::state::{Authward, HttpUserDb, request_info};
use crate::throttle::RouteClass;

impl<DB: HttpUserDb> Authward<DB> {
    /// `POST /register`: 201 with the new user; `is_active`, `is_superuser` and
    /// `is_verified` in the body are ignored.
    pub fn register_router(&self) -> Router {
        self.finish_router(Router::new().route("/register", post(register::<DB>)))
    }
}

#[tracing::instrument(level = "debug", name = "authward.register", skip_all)]
async fn register<DB: HttpUserDb>(
    State(aw): State<Authward<DB>>,
    parts: Parts,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let email = body.get("email").and_then(Value::as_str).map(str::to_owned);
    aw.throttle(RouteClass::Register, &parts, email.as_deref())
        .await?;
    let create = user_create::<DB::User>(body)?;
    let info = request_info(&parts);
    match aw.inner.manager.create(create, true, Some(&info)).await {
        Ok(user) => Ok((StatusCode::CREATED, axum::Json(user.read())).into_response()),
        Err(ManagerError::UserAlreadyExists) => {
            Err(ApiError::BadRequest(ErrorCode::RegisterUserAlreadyExists))
        }
        Err(ManagerError::InvalidPassword { reason }) => Err(ApiError::InvalidPassword {
            code: ErrorCode::RegisterInvalidPassword,
            reason,
        }),
        Err(e) => Err(ApiError::from(e)),
    }
}
