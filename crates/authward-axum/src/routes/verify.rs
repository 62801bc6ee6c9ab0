//! `POST /request-verify-token` and `POST /verify`.

use authward_core::ManagerError;
use authward_core::schema::UserSchema;
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

/// The body of `POST /verify`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct TokenBody {
    token: String,
}

impl<DB: HttpUserDb> Authward<DB> {
    /// `POST /request-verify-token` (202, `null`, always) and `POST /verify`.
    pub fn verify_router(&self) -> Router {
        self.finish_router(
            Router::new()
                .route("/request-verify-token", post(request_verify::<DB>))
                .route("/verify", post(verify::<DB>)),
        )
    }
}

/// 202 `null` whatever happens after the lookup (see [`EmailFlow::answer`]).
#[tracing::instrument(level = "debug", name = "authward.request_verify", skip_all)]
async fn request_verify<DB: HttpUserDb>(
    State(aw): State<Authward<DB>>,
    parts: Parts,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<Response, ApiError> {
    EmailFlow::RequestVerify
        .answer(&aw, &parts, &body.email)
        .await
}

#[tracing::instrument(level = "debug", name = "authward.verify", skip_all)]
async fn verify<DB: HttpUserDb>(
    State(aw): State<Authward<DB>>,
    parts: Parts,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<Response, ApiError> {
    let info = request_info(&parts);
    match aw.inner.manager.verify(&body.token, Some(&info)).await {
        Ok(user) => Ok(axum::Json(user.read()).into_response()),
        Err(
            ManagerError::InvalidVerifyToken
            | ManagerError::UserNotExists
            | ManagerError::InvalidId,
        ) => Err(ApiError::BadRequest(ErrorCode::VerifyUserBadToken)),
        Err(ManagerError::UserAlreadyVerified) => {
            Err(ApiError::BadRequest(ErrorCode::VerifyUserAlreadyVerified))
        }
        Err(e) => Err(ApiError::from(e)),
    }
}
