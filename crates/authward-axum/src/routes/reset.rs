//! `POST /forgot-password` and `POST /reset-password`.

use authward_core::ManagerError;
use axum::Router;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;

use super::email_flow::{EmailBody, EmailFlow};
use crate::body::ApiJson;
use crate::error::{ApiError, ErrorCode};
use crate::state::{Authward, HttpUserDb, request_info};

/// The body of `POST /reset-password`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct ResetBody {
    token: String,
    password: String,
}

impl<DB: HttpUserDb> Authward<DB> {
    /// `POST /forgot-password` (202, `null`, whether or not the user exists) and
    /// `POST /reset-password`.
    pub fn reset_password_router(&self) -> Router {
        self.finish_router(
            Router::new()
                .route("/forgot-password", post(forgot_password::<DB>))
                .route("/reset-password", post(reset_password::<DB>)),
        )
    }
}

/// 202 `null` whatever happens after the lookup (see [`EmailFlow::answer`]).
#[tracing::instrument(level = "debug", name = "authward.forgot_password", skip_all)]
async fn forgot_password<DB: HttpUserDb>(
    State(aw): State<Authward<DB>>,
    parts: Parts,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<Response, ApiError> {
    EmailFlow::ForgotPassword
        .answer(&aw, &parts, &body.email)
        .await
}

#[tracing::instrument(level = "debug", name = "authward.reset_password", skip_all)]
async fn reset_password<DB: HttpUserDb>(
    State(aw): State<Authward<DB>>,
    parts: Parts,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Response, ApiError> {
    let info = request_info(&parts);
    match aw
        .inner
        .manager
        .reset_password(&body.token, &body.password, Some(&info))
        .await
    {
        Ok(_) => Ok(axum::Json(serde_json::Value::Null).into_response()),
        Err(
            ManagerError::InvalidResetPasswordToken
            | ManagerError::UserNotExists
            | ManagerError::UserInactive
            | ManagerError::InvalidId,
        ) => Err(ApiError::BadRequest(ErrorCode::ResetPasswordBadToken)),
        Err(ManagerError::InvalidPassword { reason }) => Err(ApiError::InvalidPassword {
            code: ErrorCode::ResetPasswordInvalidPassword,
            reason,
        }),
        Err(e) => Err(ApiError::from(e)),
    }
}
