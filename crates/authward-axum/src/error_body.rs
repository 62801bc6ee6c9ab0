//! The body of every error response, `{"detail": ...}` (FastAPI's `ErrorModel`): a code or a
//! message, a `{code, reason}` for a refused password, or the validation issues of a 422.
//!
//! [`ApiError`](crate::ApiError) and the JSON fallbacks write it; with the feature `openapi`,
//! the document takes its schema (`ErrorModel`, `ErrorCodeReasonModel`) from these types.

use serde::Serialize;
use serde_json::Value;

use crate::error::ValidationIssue;

/// An error body, `{"detail": ...}`.
#[derive(Debug, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        description = "FastAPI's error body: a code or message, a `{code, reason}` for \
                       refused passwords, or the list of validation issues (422)."
    )
)]
pub(crate) struct ErrorBody<'a> {
    // Inlined, and without a doc comment: utoipa would wrap a described field in an `allOf`.
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub(crate) detail: ErrorDetail<'a>,
}

impl<'a> ErrorBody<'a> {
    /// `{"detail": message}`: a code or a message.
    pub(crate) fn message(message: &'a str) -> Self {
        Self {
            detail: ErrorDetail::Message(message),
        }
    }

    /// The body as a JSON value. Its objects keep their keys in alphabetical order, as every
    /// JSON body of authward's routes (a validation issue is `input`, `loc`, `msg`, `type`).
    pub(crate) fn to_json(&self) -> Value {
        // Cannot fail: strings, arrays and JSON values only.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The `detail` of an error body: a code or message, a `{code, reason}` or validation issues.
#[derive(Debug, Serialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) enum ErrorDetail<'a> {
    // Without doc comments: utoipa would make them descriptions of the `oneOf` items.
    Message(&'a str),
    CodeReason(ErrorCodeReason<'a>),
    Validation(&'a [ValidationIssue]),
}

/// A refused password: the route's error code and why the password was refused.
#[derive(Debug, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(as = ErrorCodeReasonModel)
)]
pub(crate) struct ErrorCodeReason<'a> {
    pub(crate) code: &'a str,
    pub(crate) reason: &'a str,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ApiError;
    use crate::error::ErrorCode;

    #[test]
    fn error_bodies_have_their_keys_in_alphabetical_order() {
        let text = |error: ApiError| error.body().to_string();
        assert_eq!(text(ApiError::Forbidden), r#"{"detail":"Forbidden"}"#);
        assert_eq!(
            text(ApiError::InvalidPassword {
                code: ErrorCode::RegisterInvalidPassword,
                reason: "too short".into(),
            }),
            r#"{"detail":{"code":"REGISTER_INVALID_PASSWORD","reason":"too short"}}"#
        );
        assert_eq!(
            text(ApiError::Validation(vec![ValidationIssue::missing(
                "password",
                json!({})
            )])),
            r#"{"detail":[{"input":{},"loc":["body","password"],"msg":"Field required","type":"missing"}]}"#
        );
        assert_eq!(
            serde_json::to_string(&ErrorBody::message("Not Found")).expect("body serializes"),
            r#"{"detail":"Not Found"}"#
        );
    }
}
