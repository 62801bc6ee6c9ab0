//! The `components.schemas` of the document.
//!
//! The bodies that have a Rust type take its derived schema (`ToSchema`): the error body and
//! its `{code, reason}`, the bearer login response, the session entries, the validation issues
//! and the typed request bodies. The shapes without one keep a builder, each saying why.

use serde_json::json;
use utoipa::PartialSchema;
use utoipa::openapi::schema::{AdditionalProperties, SchemaFormat, SchemaType};
use utoipa::openapi::{
    ArrayBuilder, ComponentsBuilder, ObjectBuilder, OneOfBuilder, RefOr, Schema, Type,
};

use super::IdSchema;
use crate::error::ValidationIssue;
use crate::error_body::{ErrorBody, ErrorCodeReason};
use crate::routes::{
    ChangePasswordBody, EmailBody, RefreshBody, ResetBody, SessionEntry, TokenBody,
};
use crate::transport::BearerResponse;

pub(super) fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn boolean() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Boolean)
}

fn email() -> ObjectBuilder {
    string().format(Some(SchemaFormat::Custom("email".into())))
}

fn nullable_string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

/// Allows the application's own fields next to the standard ones.
fn with_custom_fields(object: ObjectBuilder, custom: bool) -> ObjectBuilder {
    if custom {
        object.additional_properties(Some(AdditionalProperties::FreeForm(true)))
    } else {
        object
    }
}

/// `loc` of a [`ValidationIssue`]: field names and list indexes.
pub(crate) fn validation_loc() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(
            OneOfBuilder::new()
                .item(string())
                .item(ObjectBuilder::new().schema_type(Type::Integer)),
        )
        .into()
}

/// Every schema the operations reference, the user's `id` as `ID`'s [`IdSchema`].
pub(super) fn components<ID: IdSchema>(custom: bool) -> ComponentsBuilder {
    let flags = |object: ObjectBuilder| {
        object
            .property("is_active", boolean().default(Some(json!(true))))
            .property("is_superuser", boolean().default(Some(json!(false))))
            .property("is_verified", boolean().default(Some(json!(false))))
    };
    // The user's shapes are the application's (`UserSchema`): the standard fields, and any
    // others when it declares fields of its own.
    let user_read = flags(
        ObjectBuilder::new()
            .description(Some("A user; never the password hash."))
            .property("id", ID::id_schema())
            .property("email", email()),
    )
    .required("id")
    .required("email")
    .required("is_active")
    .required("is_superuser")
    .required("is_verified");
    let user_create = flags(
        ObjectBuilder::new()
            .property("email", email())
            .property("password", string()),
    )
    .required("email")
    .required("password");
    let user_update = flags(
        ObjectBuilder::new()
            .property("password", nullable_string())
            .property(
                "email",
                nullable_string().format(Some(SchemaFormat::Custom("email".into()))),
            ),
    );
    // `LoginForm` is read field by field (FastAPI's form rules) and omits the fields it
    // ignores, so its schema is written out here.
    let login = ObjectBuilder::new()
        .property("username", string().description(Some("The email address.")))
        .property("password", string())
        .property("grant_type", nullable_string().pattern(Some("^password$")))
        .property("scope", string().default(Some(json!(""))))
        .property("client_id", nullable_string())
        .property("client_secret", nullable_string())
        .required("username")
        .required("password");
    ComponentsBuilder::new()
        .schema("UserRead", with_custom_fields(user_read, custom))
        .schema("UserCreate", with_custom_fields(user_create, custom))
        .schema("UserUpdate", with_custom_fields(user_update, custom))
        .schema("ErrorModel", ErrorBody::schema())
        .schema("ErrorCodeReasonModel", ErrorCodeReason::schema())
        .schema("ValidationIssue", ValidationIssue::schema())
        .schema("BearerResponse", BearerResponse::schema())
        .schema("LoginForm", login)
        .schema("Session", SessionEntry::schema())
        .schema("RefreshRequest", RefreshBody::schema())
        .schema("EmailRequest", EmailBody::schema())
        .schema("ResetPasswordRequest", ResetBody::schema())
        .schema("VerifyRequest", TokenBody::schema())
        .schema("ChangePasswordRequest", ChangePasswordBody::schema())
}
