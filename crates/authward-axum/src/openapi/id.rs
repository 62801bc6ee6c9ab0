//! The JSON form of user IDs, as a schema.

use utoipa::openapi::schema::{KnownFormat, Schema, SchemaFormat};
use utoipa::openapi::{ObjectBuilder, RefOr, Type};

/// The OpenAPI schema of a user ID type as JSON bodies and paths show it (the `id` of
/// `UserRead`). Implemented for the ID types authward stores: [`uuid::Uuid`], `i64`, `String`
/// and, with the feature `objectid`, `bson::oid::ObjectId`. An application with an ID type of
/// its own implements it to get [`Authward::openapi`](crate::Authward::openapi).
pub trait IdSchema {
    /// The schema of the ID's JSON form.
    fn id_schema() -> RefOr<Schema>;
}

/// A string in UUID form (`format: uuid`).
impl IdSchema for uuid::Uuid {
    fn id_schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uuid".into())))
            .into()
    }
}

/// An integer (`format: int64`).
impl IdSchema for i64 {
    fn id_schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .into()
    }
}

/// Any string.
impl IdSchema for String {
    fn id_schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::String).into()
    }
}

/// The 24 lowercase hex digits of the ObjectId, as FastAPI Users' Beanie adapter shows it
/// (see [`UserId::JSON_AS_TEXT`](authward_core::UserId::JSON_AS_TEXT)).
#[cfg(feature = "objectid")]
impl IdSchema for bson::oid::ObjectId {
    fn id_schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9a-f]{24}$"))
            .into()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::IdSchema;

    fn json_of<ID: IdSchema>() -> Value {
        serde_json::to_value(ID::id_schema()).unwrap_or(Value::Null)
    }

    #[test]
    fn id_schemas_describe_the_json_form() {
        assert_eq!(
            json_of::<uuid::Uuid>(),
            json!({"type": "string", "format": "uuid"})
        );
        assert_eq!(
            json_of::<i64>(),
            json!({"type": "integer", "format": "int64"})
        );
        assert_eq!(json_of::<String>(), json!({"type": "string"}));
    }

    #[cfg(feature = "objectid")]
    #[test]
    fn object_id_is_its_hex_string() {
        assert_eq!(
            json_of::<bson::oid::ObjectId>(),
            json!({"type": "string", "pattern": "^[0-9a-f]{24}$"})
        );
    }
}
