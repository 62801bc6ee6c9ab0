//! Error responses in FastAPI Users' shapes: `{"detail": "<CODE>"}`,
//! `{"detail": {"code": ..., "reason": ...}}` for invalid passwords, and FastAPI's 422 body
//! `{"detail": [{"type", "loc", "msg", "input"}]}` for malformed requests.
//!
//! The one path from core errors to responses: `From<DbError>`, `From<StrategyError>` and
//! `From<ManagerError>` for [`ApiError`] (so routes use `?`), then [`IntoResponse`]. Routes
//! map the manager errors that have a route-specific FastAPI Users code themselves first.

use std::borrow::Cow;

use authward_core::strategy::StrategyError;
use authward_core::{DbError, ManagerError};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::error_body::{ErrorBody, ErrorCodeReason, ErrorDetail};

/// FastAPI Users' error codes, with their exact wire strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `REGISTER_INVALID_PASSWORD`
    RegisterInvalidPassword,
    /// `REGISTER_USER_ALREADY_EXISTS`
    RegisterUserAlreadyExists,
    /// `OAUTH_NOT_AVAILABLE_EMAIL`
    OAuthNotAvailableEmail,
    /// `OAUTH_USER_ALREADY_EXISTS`
    OAuthUserAlreadyExists,
    /// `OAUTH_INVALID_STATE`
    OAuthInvalidState,
    /// `LOGIN_BAD_CREDENTIALS`
    LoginBadCredentials,
    /// `LOGIN_USER_NOT_VERIFIED`
    LoginUserNotVerified,
    /// `RESET_PASSWORD_BAD_TOKEN`
    ResetPasswordBadToken,
    /// `RESET_PASSWORD_INVALID_PASSWORD`
    ResetPasswordInvalidPassword,
    /// `VERIFY_USER_BAD_TOKEN`
    VerifyUserBadToken,
    /// `VERIFY_USER_ALREADY_VERIFIED`
    VerifyUserAlreadyVerified,
    /// `UPDATE_USER_EMAIL_ALREADY_EXISTS`
    UpdateUserEmailAlreadyExists,
    /// `UPDATE_USER_INVALID_PASSWORD`
    UpdateUserInvalidPassword,
    /// `ACCESS_TOKEN_ALREADY_EXPIRED`
    AccessTokenAlreadyExpired,
    /// `ACCESS_TOKEN_DECODE_ERROR`
    AccessTokenDecodeError,
    /// `REFRESH_TOKEN_INVALID` (authward addition: POST /refresh)
    RefreshTokenInvalid,
    /// `CHANGE_PASSWORD_BAD_CURRENT_PASSWORD` (authward addition: change-password)
    ChangePasswordBadCurrentPassword,
    /// `CHANGE_PASSWORD_INVALID_PASSWORD` (authward addition: change-password)
    ChangePasswordInvalidPassword,
    /// `FIELD_ALREADY_EXISTS` (authward addition: a unique field of the application's own,
    /// not the email, is taken)
    FieldAlreadyExists,
    /// `OAUTH_ACCOUNT_ALREADY_LINKED` (authward addition: the provider account is linked to
    /// another user; FastAPI Users links it a second time)
    OAuthAccountAlreadyLinked,
}

impl ErrorCode {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RegisterInvalidPassword => "REGISTER_INVALID_PASSWORD",
            Self::RegisterUserAlreadyExists => "REGISTER_USER_ALREADY_EXISTS",
            Self::OAuthNotAvailableEmail => "OAUTH_NOT_AVAILABLE_EMAIL",
            Self::OAuthUserAlreadyExists => "OAUTH_USER_ALREADY_EXISTS",
            Self::OAuthInvalidState => "OAUTH_INVALID_STATE",
            Self::LoginBadCredentials => "LOGIN_BAD_CREDENTIALS",
            Self::LoginUserNotVerified => "LOGIN_USER_NOT_VERIFIED",
            Self::ResetPasswordBadToken => "RESET_PASSWORD_BAD_TOKEN",
            Self::ResetPasswordInvalidPassword => "RESET_PASSWORD_INVALID_PASSWORD",
            Self::VerifyUserBadToken => "VERIFY_USER_BAD_TOKEN",
            Self::VerifyUserAlreadyVerified => "VERIFY_USER_ALREADY_VERIFIED",
            Self::UpdateUserEmailAlreadyExists => "UPDATE_USER_EMAIL_ALREADY_EXISTS",
            Self::UpdateUserInvalidPassword => "UPDATE_USER_INVALID_PASSWORD",
            Self::AccessTokenAlreadyExpired => "ACCESS_TOKEN_ALREADY_EXPIRED",
            Self::AccessTokenDecodeError => "ACCESS_TOKEN_DECODE_ERROR",
            Self::RefreshTokenInvalid => "REFRESH_TOKEN_INVALID",
            Self::ChangePasswordBadCurrentPassword => "CHANGE_PASSWORD_BAD_CURRENT_PASSWORD",
            Self::ChangePasswordInvalidPassword => "CHANGE_PASSWORD_INVALID_PASSWORD",
            Self::FieldAlreadyExists => "FIELD_ALREADY_EXISTS",
            Self::OAuthAccountAlreadyLinked => "OAUTH_ACCOUNT_ALREADY_LINKED",
        }
    }
}

/// One entry of a 422 body, shaped like FastAPI's (pydantic's) validation errors.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValidationIssue {
    /// Machine-readable kind: `missing`, `json_invalid`, `value_error`, ...
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: Cow<'static, str>,
    /// Where: `["body", "email"]`, `["body"]`, `["path", "id"]`.
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::openapi::validation_loc)
    )]
    pub loc: Vec<Value>,
    /// Human-readable message.
    pub msg: String,
    /// The offending input (`null` when absent).
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub input: Value,
}

impl ValidationIssue {
    /// An issue at `loc` with `kind` and `msg`.
    pub fn new(kind: &'static str, loc: Vec<Value>, msg: impl Into<String>, input: Value) -> Self {
        Self {
            kind: Cow::Borrowed(kind),
            loc,
            msg: msg.into(),
            input,
        }
    }

    /// A required body field is missing.
    pub fn missing(field: &str, input: Value) -> Self {
        Self::new(
            "missing",
            vec![json!("body"), json!(field)],
            "Field required",
            input,
        )
    }
}

/// Every error an authward route answers with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 400 `{"detail": "<CODE>"}`.
    #[error("bad request: {}", .0.as_str())]
    BadRequest(ErrorCode),
    /// 400 `{"detail": {"code": "<CODE>", "reason": "<reason>"}}`.
    #[error("invalid password ({}): {reason}", code.as_str())]
    InvalidPassword {
        /// Which route's invalid-password code.
        code: ErrorCode,
        /// Why the password was refused.
        reason: String,
    },
    /// 401 `{"detail": "Unauthorized"}` with a `WWW-Authenticate` challenge.
    #[error("unauthorized")]
    Unauthorized {
        /// The `WWW-Authenticate` header value, e.g. `Bearer`.
        challenge: Option<&'static str>,
    },
    /// 403 `{"detail": "Forbidden"}`.
    #[error("forbidden")]
    Forbidden,
    /// 404 `{"detail": "Not Found"}`.
    #[error("not found")]
    NotFound,
    /// 403 `{"detail": "CSRF_CHECK_FAILED"}`: a cookie-authenticated, state-changing request
    /// came from another site.
    #[error("CSRF check failed")]
    CsrfCheckFailed,
    /// 413 `{"detail": "Request body too large"}`.
    #[error("request body too large")]
    PayloadTooLarge,
    /// 422 FastAPI validation body.
    #[error("invalid request ({} issues)", .0.len())]
    Validation(Vec<ValidationIssue>),
    /// 429 `{"detail": "Too Many Requests"}` with `Retry-After`: a client or an account is
    /// over its budget ([`crate::throttle`]).
    #[error("too many requests (retry after {retry_after_secs} s)")]
    TooManyRequests {
        /// Seconds until a request would be allowed (the `Retry-After` header).
        retry_after_secs: u64,
    },
    /// 503 `{"detail": "Service Unavailable"}`: the store could not be reached.
    #[error("service unavailable")]
    Unavailable,
    /// 500 `{"detail": "Internal Server Error"}` (the cause is logged, never sent).
    #[error("internal server error")]
    Internal,
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::InvalidPassword { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::CsrfCheckFailed => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let detail = match self {
            Self::BadRequest(code) => ErrorDetail::Message(code.as_str()),
            Self::InvalidPassword { code, reason } => ErrorDetail::CodeReason(ErrorCodeReason {
                code: code.as_str(),
                reason,
            }),
            Self::Unauthorized { .. } => ErrorDetail::Message("Unauthorized"),
            Self::Forbidden => ErrorDetail::Message("Forbidden"),
            Self::NotFound => ErrorDetail::Message("Not Found"),
            Self::CsrfCheckFailed => ErrorDetail::Message("CSRF_CHECK_FAILED"),
            Self::PayloadTooLarge => ErrorDetail::Message("Request body too large"),
            Self::Validation(issues) => ErrorDetail::Validation(issues),
            Self::TooManyRequests { .. } => ErrorDetail::Message("Too Many Requests"),
            Self::Unavailable => ErrorDetail::Message("Service Unavailable"),
            Self::Internal => ErrorDetail::Message("Internal Server Error"),
        };
        ErrorBody { detail }.to_json()
    }
}

/// A storage error: 503 when the store is unreachable, 500 otherwise (logged).
impl From<&DbError> for ApiError {
    fn from(err: &DbError) -> Self {
        if err.is_unavailable() {
            tracing::warn!(error = %err, "store unavailable");
            Self::Unavailable
        } else {
            tracing::error!(error = ?err, "store error");
            Self::Internal
        }
    }
}

/// See `From<&DbError>`.
impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        Self::from(&err)
    }
}

/// A strategy error outside the "no user" cases (which routes answer before).
impl From<StrategyError> for ApiError {
    fn from(err: StrategyError) -> Self {
        match err {
            StrategyError::Db(e) => Self::from(&e),
            other => {
                tracing::error!(error = ?other, "token strategy error");
                Self::Internal
            }
        }
    }
}

/// A manager error without a route-specific code: a taken unique column of the application's
/// own (an email collision is `UserAlreadyExists`, mapped by each route), storage, an invalid
/// email as a 422, anything else a logged 500.
impl From<ManagerError> for ApiError {
    fn from(err: ManagerError) -> Self {
        match err {
            ManagerError::Db(e @ DbError::AlreadyExists { .. }) => {
                tracing::info!(error = %e, "unique value already taken");
                Self::BadRequest(ErrorCode::FieldAlreadyExists)
            }
            ManagerError::Db(e) => Self::from(&e),
            ManagerError::InvalidEmail { reason } => Self::Validation(vec![ValidationIssue::new(
                "value_error",
                vec![json!("body"), json!("email")],
                format!("value is not a valid email address: {reason}"),
                Value::Null,
            )]),
            other => {
                tracing::error!(error = ?other, "user manager error");
                Self::Internal
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, axum::Json(self.body())).into_response();
        match self {
            Self::Unauthorized {
                challenge: Some(challenge),
            } => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(challenge),
                );
            }
            Self::Unavailable => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::TooManyRequests { retry_after_secs } => {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after_secs.max(1)),
                );
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_match_fastapi_users() {
        assert_eq!(
            ApiError::BadRequest(ErrorCode::LoginBadCredentials).body(),
            json!({"detail": "LOGIN_BAD_CREDENTIALS"})
        );
        assert_eq!(
            ApiError::InvalidPassword {
                code: ErrorCode::RegisterInvalidPassword,
                reason: "too short".into()
            }
            .body(),
            json!({"detail": {"code": "REGISTER_INVALID_PASSWORD", "reason": "too short"}})
        );
        let issue = ValidationIssue::missing("password", json!({}));
        assert_eq!(
            ApiError::Validation(vec![issue]).body(),
            json!({"detail": [{"type": "missing", "loc": ["body", "password"],
                "msg": "Field required", "input": {}}]})
        );
    }

    #[test]
    fn unauthorized_carries_a_challenge() {
        let response = ApiError::Unauthorized {
            challenge: Some("Bearer"),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
}
