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

/// A JSON type a body field may be required to have, with pydantic's issue for a value of
/// another type.
pub(crate) trait FieldType: Sized {
    /// The issue's `type`.
    const ISSUE: &'static str;
    /// The issue's `msg`.
    const MESSAGE: &'static str;
    /// The value, when it has this type.
    fn read(value: &Value) -> Option<Self>;
}

impl FieldType for String {
    const ISSUE: &'static str = "string_type";
    const MESSAGE: &'static str = "Input should be a valid string";
    fn read(value: &Value) -> Option<Self> {
        value.as_str().map(str::to_owned)
    }
}

impl FieldType for bool {
    const ISSUE: &'static str = "bool_type";
    const MESSAGE: &'static str = "Input should be a valid boolean";
    fn read(value: &Value) -> Option<Self> {
        value.as_bool()
    }
}

/// The body field `key`: `None` when absent or null, and when of another type (then an
/// issue in `issues`, located at `["body", key]`).
pub(crate) fn field<T: FieldType>(
    map: &Map<String, Value>,
    key: &str,
    issues: &mut Vec<ValidationIssue>,
) -> Option<T> {
    let value = map.get(key).filter(|v| !v.is_null())?;
    let read = T::read(value);
    if read.is_none() {
        issues.push(ValidationIssue::new(
            T::ISSUE,
            vec![json!("body"), json!(key)],
            T::MESSAGE,
            value.clone(),
        ));
    }
    read
}

/// The standard keys of a create or update body besides `id`; absent or null ones are `None`.
struct Standard {
    email: Option<String>,
    password: Option<String>,
    is_active: Option<bool>,
    is_superuser: Option<bool>,
    is_verified: Option<bool>,
}

impl Standard {
    /// Reads them from `map`, noting in `issues` each one of another type and, for a create
    /// body (`create`), a missing `email` or `password`, in pydantic's order: the two
    /// strings, what is missing, then the three flags.
    fn read(map: &Map<String, Value>, create: bool, issues: &mut Vec<ValidationIssue>) -> Self {
        let email = field(map, "email", issues);
        let password = field(map, "password", issues);
        if create {
            for (key, value) in [("email", &email), ("password", &password)] {
                if value.is_none() && !map.contains_key(key) {
                    issues.push(ValidationIssue::missing(key, Value::Object(map.clone())));
                }
            }
        }
        Self {
            email,
            password,
            is_active: field(map, "is_active", issues),
            is_superuser: field(map, "is_superuser", issues),
            is_verified: field(map, "is_verified", issues),
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
    let map = object(body)?;
    let mut issues = Vec::new();
    let standard = Standard::read(&map, true, &mut issues);
    let (Some(email), Some(password)) = (standard.email, standard.password) else {
        return Err(ApiError::Validation(issues));
    };
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let extra = U::create_extra(declared::<U::Create>(app_fields(map))?);
    Ok(UserCreate {
        email,
        password,
        is_active: standard.is_active,
        is_superuser: standard.is_superuser,
        is_verified: standard.is_verified,
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
    let standard = Standard::read(&map, false, &mut issues);
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
        email: standard.email,
        password: standard.password,
        is_active: standard.is_active,
        is_superuser: standard.is_superuser,
        is_verified: standard.is_verified,
        extra,
    })
}
