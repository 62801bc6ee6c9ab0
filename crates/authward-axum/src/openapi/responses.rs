//! Building blocks of the operations: paths, common responses and references to components.

use serde_json::Value;
use utoipa::openapi::path::OperationBuilder;
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::{
    Content, ContentBuilder, Header, ObjectBuilder, Ref, Required, Response, ResponseBuilder, Type,
};

use super::schemas::string;
use crate::transport::Transport;

/// `prefix` + `path`, with exactly one leading slash and none doubled at the seam.
pub(super) fn join(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        path.to_owned()
    } else {
        format!("/{prefix}{path}")
    }
}

pub(super) fn operation(id: &str, summary: &str, tag: &str) -> OperationBuilder {
    OperationBuilder::new()
        .operation_id(Some(id))
        .summary(Some(summary))
        .tag(tag)
}

/// 200 with the token (bearer) or 204 with `Set-Cookie` (cookie).
pub(super) fn token_responses(
    op: OperationBuilder,
    transport: &Transport,
    what: &str,
) -> OperationBuilder {
    match transport {
        Transport::Bearer(_) => op.response(
            "200",
            ResponseBuilder::new()
                .description(what)
                .content("application/json", schema_content("BearerResponse")),
        ),
        Transport::Cookie(cookie) => op.response(
            "204",
            ResponseBuilder::new()
                .description(format!(
                    "{what} The token is in the `{}` cookie.",
                    cookie.name
                ))
                .header("Set-Cookie", Header::new(string())),
        ),
    }
}

/// 422 and 413, which every route reading a body can answer.
pub(super) fn body_errors(op: OperationBuilder) -> OperationBuilder {
    op.response(
        "422",
        error_response("Malformed request: `detail` lists the validation issues."),
    )
    .response(
        "413",
        error_response("`Request body too large` (over the body limit, 64 KiB by default)."),
    )
}

/// 503 when the store cannot be reached.
pub(super) fn unavailable(op: OperationBuilder) -> OperationBuilder {
    op.response(
        "503",
        error_response("`Service Unavailable`: the store could not be reached.").header(
            "Retry-After",
            Header::new(ObjectBuilder::new().schema_type(Type::Integer)),
        ),
    )
}

pub(super) fn schema_ref(name: &str) -> Ref {
    Ref::from_schema_name(name)
}

pub(super) fn schema_content(name: &str) -> Content {
    ContentBuilder::new().schema(Some(schema_ref(name))).build()
}

pub(super) fn json_body(name: &str) -> RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content("application/json", schema_content(name))
        .build()
}

pub(super) fn error_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", schema_content("ErrorModel"))
}

pub(super) fn user_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", schema_content("UserRead"))
        .build()
}

pub(super) fn null_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Null)))
                .example(Some(Value::Null))
                .build(),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn join_normalizes_slashes() {
        assert_eq!(join("/auth/jwt", "/login"), "/auth/jwt/login");
        assert_eq!(join("auth/jwt/", "/login"), "/auth/jwt/login");
        assert_eq!(join("/", "/me"), "/me");
        assert_eq!(join("", "/me"), "/me");
    }
}
