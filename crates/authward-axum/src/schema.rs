//! The JSON forms of users: `UserRead` (never the password hash), and the create / update
//! bodies, whose unknown keys are the application's custom fields.

use authward_core::User;
use authward_core::manager::{UserCreate, UserUpdate};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ValidationIssue};
use crate::state::ExtraFields;

const STANDARD: [&str; 6] = [
    "id",
    "email",
    "password",
    "is_active",
    "is_superuser",
    "is_verified",
];

/// The read schema: `{"id", "email", "is_active", "is_superuser", "is_verified", ...custom}`;
/// never the password hash.
#[derive(Debug, Serialize)]
pub struct UserRead<'a, ID, X> {
    /// The user's ID.
    pub id: &'a ID,
    /// The email, as stored.
    pub email: &'a str,
    /// Whether the account may log in.
    pub is_active: bool,
    /// Whether the account is an administrator.
    pub is_superuser: bool,
    /// Whether the email is verified.
    pub is_verified: bool,
    /// The application's own fields.
    #[serde(flatten)]
    pub extra: &'a X,
}

/// The read view of a user.
pub fn user_read<ID, X>(user: &User<ID, X>) -> UserRead<'_, ID, X> {
    UserRead {
        id: &user.id,
        email: &user.email,
        is_active: user.is_active,
        is_superuser: user.is_superuser,
        is_verified: user.is_verified,
        extra: &user.extra,
    }
}

fn object(body: Value) -> Result<Map<String, Value>, ApiError> {
    match body {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::Validation(vec![ValidationIssue::new(
            "model_attributes_type",
            vec![json!("body")],
            "Input should be a valid dictionary or object to extract fields from",
            other,
        )])),
    }
}

fn string_field(
    map: &Map<String, Value>,
    key: &str,
    input: &Value,
    issues: &mut Vec<ValidationIssue>,
) -> Option<String> {
    match map.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            issues.push(ValidationIssue::new(
                "string_type",
                vec![json!("body"), json!(key)],
                "Input should be a valid string",
                other.clone(),
            ));
            let _ = input;
            None
        }
    }
}

fn bool_field(
    map: &Map<String, Value>,
    key: &str,
    issues: &mut Vec<ValidationIssue>,
) -> Option<bool> {
    match map.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            issues.push(ValidationIssue::new(
                "bool_type",
                vec![json!("body"), json!(key)],
                "Input should be a valid boolean",
                other.clone(),
            ));
            None
        }
    }
}

fn custom_fields(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter(|(key, _)| !STANDARD.contains(&key.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn extra_from<X: ExtraFields>(fields: Map<String, Value>) -> Result<X, ApiError> {
    // An application without custom fields (`()`): unknown keys are ignored, as pydantic does.
    if matches!(serde_json::to_value(X::default()), Ok(Value::Null)) {
        return Ok(X::default());
    }
    let value = Value::Object(fields);
    serde_path_to_error::deserialize(&value).map_err(|err| {
        let mut loc = vec![json!("body")];
        loc.extend(err.path().iter().filter_map(|s| match s {
            serde_path_to_error::Segment::Map { key } => Some(json!(key)),
            _ => None,
        }));
        let message = err.inner().to_string();
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        {
            loc.push(json!(field));
            return ApiError::Validation(vec![ValidationIssue::new(
                "missing",
                loc,
                "Field required",
                value.clone(),
            )]);
        }
        ApiError::Validation(vec![ValidationIssue::new(
            "value_error",
            loc,
            message,
            value.clone(),
        )])
    })
}

/// Parses a registration body.
pub(crate) fn user_create<X: ExtraFields>(body: Value) -> Result<UserCreate<X>, ApiError> {
    let input = body.clone();
    let map = object(body)?;
    let mut issues = Vec::new();
    let email = string_field(&map, "email", &input, &mut issues);
    let password = string_field(&map, "password", &input, &mut issues);
    if email.is_none() && !map.contains_key("email") {
        issues.push(ValidationIssue::missing("email", input.clone()));
    }
    if password.is_none() && !map.contains_key("password") {
        issues.push(ValidationIssue::missing("password", input.clone()));
    }
    let is_active = bool_field(&map, "is_active", &mut issues);
    let is_superuser = bool_field(&map, "is_superuser", &mut issues);
    let is_verified = bool_field(&map, "is_verified", &mut issues);
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::Validation(issues));
    };
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let extra = extra_from::<X>(custom_fields(&map))?;
    Ok(UserCreate {
        email,
        password,
        is_active,
        is_superuser,
        is_verified,
        extra,
    })
}

/// Parses an update body; custom fields given are merged over the user's current ones.
pub(crate) fn user_update<ID, X: ExtraFields>(
    body: Value,
    current: &User<ID, X>,
) -> Result<UserUpdate<X>, ApiError> {
    let input = body.clone();
    let map = object(body)?;
    let mut issues = Vec::new();
    let email = string_field(&map, "email", &input, &mut issues);
    let password = string_field(&map, "password", &input, &mut issues);
    let is_active = bool_field(&map, "is_active", &mut issues);
    let is_superuser = bool_field(&map, "is_superuser", &mut issues);
    let is_verified = bool_field(&map, "is_verified", &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let custom = custom_fields(&map);
    let extra = if custom.is_empty() {
        None
    } else {
        let mut merged = match serde_json::to_value(&current.extra) {
            Ok(Value::Object(existing)) => existing,
            _ => Map::new(),
        };
        merged.extend(custom);
        Some(extra_from::<X>(merged)?)
    };
    Ok(UserUpdate {
        email,
        password,
        is_active,
        is_superuser,
        is_verified,
        extra,
    })
}
