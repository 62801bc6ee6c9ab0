//! `POST /forgot-password` and `POST /reset-password`.

use authward_core::{ManagerError, validate_email};
use axum::Router;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;

use super::accepted_null;
use crate::body::ApiJson;
use crate::error::{ApiError, ErrorCode};
use crate::state::{Authward, HttpUserDb, request_info};
use crate::throttle::RouteClass;

/// The body of `POST /forgot-password` and `POST /request-verify-token`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct EmailBody {
    #[cfg_attr(feature = "openapi", schema(format = Email))]
    pub(crate) email: String,
}

/// The body of `POST /reset-password`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct ResetBody {
    token: String,
    password: String,
}

/// Validates the `email` of a body the way FastAPI's `EmailStr` does (422 when malformed).
pub(crate) fn checked_email(email: &str) -> Result<String, ApiError> {
    validate_email(email).map_err(|e| {
        ApiError::from(ManagerError::InvalidEmail {
            reason: e.to_string(),
        })
    })
}

/// The user an email-only flow (forgot-password, request-verify-token) is about; `None` when
/// there is none, which the route answers with the same 202 as success (no enumeration).
pub(crate) async fn user_for_email_flow<DB: HttpUserDb>(
    aw: &Authward<DB>,
    email: &str,
) -> Result<Option<DB::User>, ApiError> {
    let email = checked_email(email)?;
    match aw.inner.manager.get_by_email(&email).await {
        Ok(user) => Ok(Some(user)),
        Err(ManagerError::UserNotExists) => Ok(None),
        Err(e) => Err(ApiError::from(e)),
    }
}

impl<DB: HttpUserDb> Authward<DB> {
    /// `POST /forgot-password` (202, `null`, whether or not the user exists) and
    /// `POST /reset-password`.
    pub fn reset_password_router(&self) -> Router {
        Router::new()
            .route("/forgot-password", post(forgot_password::<DB>))
            .route("/reset-password", post(reset_password::<DB>))
            .method_not_allowed_fallback(crate::fallback::method_not_allowed)
            .layer(axum::Extension(self.inner.body_limit))
            .with_state(self.clone())
    }
}

/// 202 `null` whatever happens after the lookup (see [`super::detach_email_flow`]).
#[tracing::instrument(level = "debug", name = "authward.forgot_password", skip_all)]
async fn forgot_password<DB: HttpUserDb>(
    State(aw): State<Authward<DB>>,
    parts: Parts,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<Response, ApiError> {
    aw.throttle(RouteClass::ForgotPassword, &parts, Some(&body.email))
        .await?;
    if let Some(user) = user_for_email_flow(&aw, &body.email).await? {
        let manager = aw.inner.manager.clone();
        let info = request_info(&parts);
        super::detach_email_flow("forgot_password", async move {
            manager.forgot_password(&user, Some(&info)).await.map(drop)
        });
    }
    Ok(accepted_null())
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
