//! The email-only flows, `POST /forgot-password` and `POST /request-verify-token`: one
//! address in, 202 `null` out, whatever happens after the lookup (no enumeration).

use authward_core::{ManagerError, validate_email};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::{Authward, HttpUserDb, request_info};
use crate::throttle::RouteClass;

/// The body of `POST /forgot-password` and `POST /request-verify-token`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct EmailBody {
    #[cfg_attr(feature = "openapi", schema(format = Email))]
    pub(crate) email: String,
}

/// Which email-only flow a route runs.
#[derive(Debug, Clone, Copy)]
pub(super) enum EmailFlow {
    /// `POST /forgot-password`: a reset token, by mail.
    ForgotPassword,
    /// `POST /request-verify-token`: a verification token, by mail.
    RequestVerify,
}

impl EmailFlow {
    /// The flow's name in logs.
    fn name(self) -> &'static str {
        match self {
            Self::ForgotPassword => "forgot_password",
            Self::RequestVerify => "request_verify",
        }
    }

    /// The throttle's buckets of the flow's route.
    fn class(self) -> RouteClass {
        match self {
            Self::ForgotPassword => RouteClass::ForgotPassword,
            Self::RequestVerify => RouteClass::RequestVerify,
        }
    }

    /// The route's answer for `email`: throttled by the address, then 202 `null` at once. When
    /// a user has the address, the rest of the flow — token, hooks, mail — runs in a task of
    /// its own, so the status, body and work are the same whether the address exists, the
    /// user is inactive or verified already, or the mailer fails. A failure there is logged
    /// at `warn` with the flow's name and the error (never the token).
    ///
    /// # Errors
    /// 429 when over budget, 422 for a malformed address, 503 when the store is down.
    pub(super) async fn answer<DB: HttpUserDb>(
        self,
        aw: &Authward<DB>,
        parts: &Parts,
        email: &str,
    ) -> Result<Response, ApiError> {
        aw.throttle(self.class(), parts, Some(email)).await?;
        if let Some(user) = user_for(aw, email).await? {
            let manager = aw.inner.manager.clone();
            let info = request_info(parts);
            tokio::spawn(async move {
                let done = match self {
                    Self::ForgotPassword => manager.forgot_password(&user, Some(&info)).await,
                    Self::RequestVerify => manager.request_verify(&user, Some(&info)).await,
                };
                match done {
                    Ok(_) | Err(ManagerError::UserInactive | ManagerError::UserAlreadyVerified) => {
                    }
                    Err(err) => tracing::warn!(
                        flow = self.name(),
                        error = %err,
                        "email flow failed after the response"
                    ),
                }
            });
        }
        Ok((StatusCode::ACCEPTED, axum::Json(serde_json::Value::Null)).into_response())
    }
}

/// The user with the address, `None` when there is none (which the route answers with the
/// same 202 as success). The address is validated the way FastAPI's `EmailStr` does (422
/// when malformed).
async fn user_for<DB: HttpUserDb>(
    aw: &Authward<DB>,
    email: &str,
) -> Result<Option<DB::User>, ApiError> {
    let email = validate_email(email).map_err(|e| {
        ApiError::from(ManagerError::InvalidEmail {
            reason: e.to_string(),
        })
    })?;
    match aw.inner.manager.get_by_email(&email).await {
        Ok(user) => Ok(Some(user)),
        Err(ManagerError::UserNotExists) => Ok(None),
        Err(e) => Err(ApiError::from(e)),
    }
}
