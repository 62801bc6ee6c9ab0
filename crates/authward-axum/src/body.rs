//! Request-body extractors that reject in FastAPI's shape.
//!
//! axum's own `Json` and `Form` answer 400/415 with plain text; FastAPI answers every malformed
//! body with 422 and a JSON list of issues. [`ApiJson`] and [`LoginForm`] reproduce that, and
//! enforce a body size limit ([`BodyLimit`], default 64 KiB) with a JSON 413.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{ApiError, ValidationIssue};

/// Largest accepted request body, in bytes. Insert it as a request extension (or use the
/// router's configuration) to change the default of 64 KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(pub usize);

impl Default for BodyLimit {
    fn default() -> Self {
        Self(64 * 1024)
    }
}

async fn read_body(req: Request) -> Result<(Option<String>, axum::body::Bytes), ApiError> {
    let limit = req
        .extensions()
        .get::<BodyLimit>()
        .copied()
        .unwrap_or_default();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.to_ascii_lowercase());
    let body: Body = req.into_body();
    let bytes = to_bytes(body, limit.0)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    Ok((content_type, bytes))
}

fn media_type_is(content_type: Option<&str>, wanted: &str) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|media| media.trim() == wanted)
}

/// Turns a serde error at `path` into a FastAPI-like issue.
fn issue_from(path: &serde_path_to_error::Path, message: &str, input: &Value) -> ValidationIssue {
    let mut loc = vec![json!("body")];
    loc.extend(path.iter().filter_map(|segment| match segment {
        serde_path_to_error::Segment::Map { key } => Some(json!(key)),
        serde_path_to_error::Segment::Seq { index } => Some(json!(index)),
        _ => None,
    }));
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        loc.push(json!(field));
        return ValidationIssue::new("missing", loc, "Field required", input.clone());
    }
    let kind = if message.starts_with("invalid type") {
        "type_error"
    } else {
        "value_error"
    };
    ValidationIssue::new(kind, loc, message.to_owned(), input.clone())
}

/// A JSON body, rejected with 422 in FastAPI's shape when it is missing, not JSON, of the
/// wrong content type, or missing fields; 413 when over the [`BodyLimit`].
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let (content_type, bytes) = read_body(req).await?;
        parse_json(content_type.as_deref(), &bytes).map(ApiJson)
    }
}

/// A request body read within the [`BodyLimit`] (413 in JSON beyond it), with its content
/// type, for routes whose body is optional.
#[derive(Debug, Clone)]
pub(crate) struct LimitedBody {
    pub(crate) content_type: Option<String>,
    pub(crate) bytes: axum::body::Bytes,
}

impl<S: Send + Sync> FromRequest<S> for LimitedBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let (content_type, bytes) = read_body(req).await?;
        Ok(Self {
            content_type,
            bytes,
        })
    }
}

impl LimitedBody {
    /// True for a non-empty `application/json` body.
    pub(crate) fn is_json(&self) -> bool {
        !self.bytes.is_empty() && media_type_is(self.content_type.as_deref(), "application/json")
    }

    /// The body as `T`, with [`ApiJson`]'s rules and errors.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse_json(self.content_type.as_deref(), &self.bytes)
    }
}

/// A JSON body as `T`: 422 in FastAPI's shape when it is missing, not JSON, of the wrong
/// content type, or does not fit.
fn parse_json<T: DeserializeOwned>(
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<T, ApiError> {
    if bytes.is_empty() || !media_type_is(content_type, "application/json") {
        return Err(ApiError::Validation(vec![ValidationIssue::new(
            "missing",
            vec![json!("body")],
            "Field required",
            Value::Null,
        )]));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|err| {
        ApiError::Validation(vec![ValidationIssue::new(
            "json_invalid",
            vec![json!("body"), json!(err.column())],
            "JSON decode error",
            json!({}),
        )])
    })?;
    serde_path_to_error::deserialize(&value).map_err(|err| {
        let message = err.inner().to_string();
        ApiError::Validation(vec![issue_from(err.path(), &message, &value)])
    })
}

/// The login form of OAuth2's password grant (`application/x-www-form-urlencoded`), as
/// FastAPI Users reads it: `username` (the email) and `password`; `grant_type`, when sent,
/// must be `password`; `scope`, `client_id` and `client_secret` are accepted and ignored.
///
/// An empty `username` or `password` is missing (422), as FastAPI reads empty form fields,
/// so no hash is computed for it. Its [`Debug`](std::fmt::Debug) hides the password.
#[derive(Clone, Deserialize)]
pub struct LoginForm {
    /// The email address.
    pub username: String,
    /// The password.
    pub password: String,
    /// Optional; must be `password` when present.
    #[serde(default)]
    pub grant_type: Option<String>,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("grant_type", &self.grant_type)
            .finish()
    }
}

impl<S: Send + Sync> FromRequest<S> for LoginForm {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let (content_type, bytes) = read_body(req).await?;
        let fields: Vec<(String, String)> =
            if media_type_is(content_type.as_deref(), "application/x-www-form-urlencoded") {
                serde_urlencoded::from_bytes(&bytes).map_err(|_| {
                    ApiError::Validation(vec![ValidationIssue::new(
                        "value_error",
                        vec![json!("body")],
                        "Invalid form body",
                        Value::Null,
                    )])
                })?
            } else {
                Vec::new()
            };
        // FastAPI reads an empty form field as a missing one.
        let get = |name: &str| {
            fields
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .filter(|value| !value.is_empty())
        };
        let input = Value::Null;
        let mut issues = Vec::new();
        let username = get("username");
        let password = get("password");
        if username.is_none() {
            issues.push(ValidationIssue::missing("username", input.clone()));
        }
        if password.is_none() {
            issues.push(ValidationIssue::missing("password", input.clone()));
        }
        let grant_type = get("grant_type");
        if grant_type.as_deref().is_some_and(|g| g != "password") {
            issues.push(ValidationIssue::new(
                "string_pattern_mismatch",
                vec![json!("body"), json!("grant_type")],
                "String should match pattern '^password$'",
                json!(grant_type),
            ));
        }
        match (username, password) {
            (Some(username), Some(password)) if issues.is_empty() => Ok(Self {
                username,
                password,
                grant_type,
            }),
            _ => Err(ApiError::Validation(issues)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_form_debug_hides_the_password() {
        let form = LoginForm {
            username: "a@b.co".into(),
            password: "hunter2-secret".into(),
            grant_type: None,
        };
        let shown = format!("{form:?}");
        assert!(
            !shown.contains("hunter2-secret") && shown.contains("a@b.co"),
            "{shown}"
        );
    }
}
