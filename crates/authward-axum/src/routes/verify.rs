//! `POST /request-verify-token` and `POST /verify`.

use authward_core::ManagerError;
use authward_core::schema::UserSchema;
use axum::Router;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;

use super::accepted_null;
use super::reset::{EmailBody, user_for_email_flow};
use crate::body::ApiJson;
use crate::error::{ApiError, ErrorCode};
use crate::state::{Authward, HttpUserDb, request_info};
use crate::throttle::RouteClass;

/// The body of `POST /verify`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct TokenBody {
    token: String,
}

impl<DB: HttpUserDb> Authward<DB> {
    /// `POST /request-verify-token` (202, `null`, always) and `POST /verify`.
    pub fn verify_router(&self) -> Router {
        Router::new()
            .route("/request-verify-token", post(request_verify::<DB>))
            .route("/verify", post(verify::<DB>))
            .method_not_allowed_fallback(crate::fallback::method_not_allowed)
            .layer(axum::Extension(self.inner.body_limit))
            .with_state(self.clone())
    }
}

/// 202 `null` whatever happens after the lookup (see [`super::detach_email_flow`]).
#[tracing::instrument(level = "debug", name = "authward.request_verify", skip_all)]
async fn request_verify<DB: HttpUserDb>(
    State(aw): State<Authward<DB>>,
    parts: Parts,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<Response, ApiError> {
    aw.throttle(RouteClass::RequestVerify, &parts, Some(&body.email))
        .await?;
    if let Some(user) = user_for_email_flow(&aw, &body.email).await? {
        let manager = aw.inner.manager.clone();
        let info = request_info(&parts);
        super::detach_email_flow("request_verify", async move {
            manager.request_verify(&user, Some(&info)).await.map(drop)
        });
    }
    Ok(accepted_null())
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
