//! Turning core errors into HTTP errors.

use authward_core::strategy::StrategyError;
use authward_core::{DbError, ManagerError};

use crate::error::{ApiError, ErrorCode};

/// A storage error: 503 when the store is unreachable, 500 otherwise (logged).
pub(crate) fn db(err: &DbError) -> ApiError {
    if err.is_unavailable() {
        tracing::warn!(error = %err, "store unavailable");
        ApiError::Unavailable
    } else {
        tracing::error!(error = ?err, "store error");
        ApiError::Internal
    }
}

/// A strategy error outside the "no user" cases.
pub(crate) fn strategy(err: &StrategyError) -> ApiError {
    match err {
        StrategyError::Db(e) => db(e),
        other => {
            tracing::error!(error = ?other, "token strategy error");
            ApiError::Internal
        }
    }
}

/// A manager error that a route did not map to a domain code.
pub(crate) fn manager(err: &ManagerError) -> ApiError {
    match err {
        // A unique column of the application's own (an email collision is
        // `UserAlreadyExists`, mapped by each route).
        ManagerError::Db(e @ DbError::AlreadyExists { .. }) => {
            tracing::info!(error = %e, "unique value already taken");
            ApiError::BadRequest(ErrorCode::FieldAlreadyExists)
        }
        ManagerError::Db(e) => db(e),
        ManagerError::InvalidEmail { reason } => {
            ApiError::Validation(vec![crate::error::ValidationIssue::new(
                "value_error",
                vec![serde_json::json!("body"), serde_json::json!("email")],
                format!("value is not a valid email address: {reason}"),
                serde_json::Value::Null,
            )])
        }
        other => {
            tracing::error!(error = ?other, "user manager error");
            ApiError::Internal
        }
    }
}
