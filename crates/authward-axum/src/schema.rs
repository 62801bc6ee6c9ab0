//! The JSON forms of users: the read view ([`UserSchema::read`], never the password hash), and
//! the create / update bodies, whose keys besides the standard ones go to the application's
//! declared shapes ([`UserSchema::Create`], [`UserSchema::Update`],
//! [`UserSchema::AdminUpdate`]); keys those shapes do not declare are ignored.

use authward_core::manager::{UserCreate, UserUpdate};
use authward_core::schema::UserSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ValidationIssue};

const STANDARD: [&str; 6] = [
    "id",
    "email",
    "password",
    "is_active",
    "is_superuser",
    "is_verified",
];

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

/// The body's keys besides the standard ones.
fn app_fields(mut map: Map<String, Value>) -> Value {
    for key in STANDARD {
        map.remove(key);
    }
    Value::Object(map)
}

/// Deserializes the application's fields into its declared shape; 422 in FastAPI's form when
/// they do not fit.
fn declared<T: DeserializeOwned>(fields: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(&fields).map_err(|err| {
        let mut loc = vec![json!("body")];
        loc.extend(err.path().iter().filter_map(|s| match s {
            serde_path_to_error::Segment::Map { key } => Some(json!(key)),
            serde_path_to_error::Segment::Seq { index } => Some(json!(index)),
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
                fields.clone(),
            )]);
        }
        ApiError::Validation(vec![ValidationIssue::new(
            "value_error",
            loc,
            message,
            fields.clone(),
        )])
    })
}

/// Parses a registration body: email, password, the three flags (which a public registration
/// ignores) and the application's fields as its create shape declares them.
pub(crate) fn user_create<U: UserSchema>(body: Value) -> Result<UserCreate<U::Extra>, ApiError> {
    let input = body.clone();
    let map = object(body)?;
    let mut issues = Vec::new();
    let email = string_field(&map, "email", &mut issues);
    let password = string_field(&map, "password", &mut issues);
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
    let extra = U::create_extra(declared::<U::Create>(app_fields(map))?);
    Ok(UserCreate {
        email,
        password,
        is_active,
        is_superuser,
        is_verified,
        extra,
    })
}

/// Parses an update body. The application's fields go through its self-service update shape,
/// or its superuser update shape when `admin`, applied to the user's current fields.
pub(crate) fn user_update<U: UserSchema>(
    body: Value,
    current: &U,
    admin: bool,
) -> Result<UserUpdate<U::Extra>, ApiError> {
    let map = object(body)?;
    let mut issues = Vec::new();
    let email = string_field(&map, "email", &mut issues);
    let password = string_field(&map, "password", &mut issues);
    let is_active = bool_field(&map, "is_active", &mut issues);
    let is_superuser = bool_field(&map, "is_superuser", &mut issues);
    let is_verified = bool_field(&map, "is_verified", &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let fields = app_fields(map);
    let extra = if admin {
        current.admin_update_extra(declared::<U::AdminUpdate>(fields)?)
    } else {
        current.update_extra(declared::<U::Update>(fields)?)
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
