//! The OpenAPI fragment of the OAuth routes (feature `openapi`), to merge into authward-axum's
//! document.
//!
//! ```no_run
//! # use authward_oauth::{OAuth, OAuthUserDb, openapi::OAuthMount};
//! # fn doc<DB: OAuthUserDb>(oauth: OAuth<DB>) -> utoipa::openapi::OpenApi
//! # where authward_core::IdOf<DB>: authward_axum::openapi::IdSchema {
//! let aw = oauth.authward();
//! let mut doc = aw.openapi(&aw.fastapi_users_mounts());
//! doc.merge(oauth.openapi(&[
//!     OAuthMount::login("google", "jwt", "/auth/google"),
//!     OAuthMount::associate("google", "/auth/associate/google"),
//! ]));
//! // Serve it with authward_axum::openapi::json_router(&doc).
//! # doc
//! # }
//! ```
//!
//! It references the schemas `ErrorModel`, `UserRead` and `BearerResponse` of authward-axum's
//! document, and adds `OAuth2AuthorizeResponse`.

use authward_axum::Transport;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathsBuilder,
};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{
    ArrayBuilder, ComponentsBuilder, Content, ContentBuilder, Header, ObjectBuilder, OpenApi,
    OpenApiBuilder, PathItem, Ref, Required, ResponseBuilder, Type,
};

use crate::config::{OAuth, OAuthUserDb};

/// Where an OAuth router is mounted (the prefix given to [`axum::Router::nest`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthMount {
    /// An [`OAuth::login_router`].
    Login {
        /// The provider's name.
        provider: String,
        /// The authentication backend it logs in with.
        backend: String,
        /// Where it is mounted, e.g. `/auth/google`.
        prefix: String,
    },
    /// An [`OAuth::associate_router`].
    Associate {
        /// The provider's name.
        provider: String,
        /// Where it is mounted, e.g. `/auth/associate/google`.
        prefix: String,
    },
}

impl OAuthMount {
    /// A login router of `provider` with `backend`, mounted at `prefix`.
    pub fn login(
        provider: impl Into<String>,
        backend: impl Into<String>,
        prefix: impl Into<String>,
    ) -> Self {
        Self::Login {
            provider: provider.into(),
            backend: backend.into(),
            prefix: prefix.into(),
        }
    }

    /// An associate router of `provider`, mounted at `prefix`.
    pub fn associate(provider: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self::Associate {
            provider: provider.into(),
            prefix: prefix.into(),
        }
    }
}

fn join(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        path.to_owned()
    } else {
        format!("/{prefix}{path}")
    }
}

fn schema_content(name: &str) -> Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(name)))
        .build()
}

fn error(description: &str) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", schema_content("ErrorModel"))
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn query(name: &str, description: &str) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(string()))
}

const CALLBACK_ERRORS: &str = "`{\"detail\": \"<error>\"}` when the provider sent `error`; \
    `Bad Request` without a code or with an oversized one; `ACCESS_TOKEN_DECODE_ERROR` (bad \
    signature, another audience or algorithm, garbage); `ACCESS_TOKEN_ALREADY_EXPIRED`; \
    `OAUTH_INVALID_STATE` (CSRF cookie missing or different, state already used); the \
    provider's error (e.g. `invalid_grant`) when it refuses the code; \
    `OAUTH_INVALID_ID_TOKEN`; `OAUTH_NOT_AVAILABLE_EMAIL`.";

impl<DB: OAuthUserDb> OAuth<DB> {
    /// The OpenAPI paths of the OAuth routers mounted as `mounts` says, with the
    /// `OAuth2AuthorizeResponse` schema; merge it into
    /// [`Authward::openapi`](authward_axum::Authward::openapi)'s document.
    pub fn openapi(&self, mounts: &[OAuthMount]) -> OpenApi {
        let security: Vec<SecurityRequirement> = self
            .aw
            .backend_names()
            .map(|name| SecurityRequirement::new(name, Vec::<String>::new()))
            .collect();
        let mut paths = PathsBuilder::new();
        for mount in mounts {
            let (provider, prefix, login_backend, id_prefix) = match mount {
                OAuthMount::Login {
                    provider,
                    backend,
                    prefix,
                } => (
                    provider,
                    prefix,
                    Some(backend),
                    format!("oauth:{provider}.{backend}"),
                ),
                OAuthMount::Associate { provider, prefix } => (
                    provider,
                    prefix,
                    None,
                    format!("oauth-associate:{provider}"),
                ),
            };
            let authorize = OperationBuilder::new()
                .operation_id(Some(format!("{id_prefix}.authorize")))
                .summary(Some(format!("{provider}: authorization URL")))
                .tag("auth")
                .parameter(
                    ParameterBuilder::new()
                        .name("scopes")
                        .parameter_in(ParameterIn::Query)
                        .required(Required::False)
                        .description(Some("Scopes to request; repeat the parameter for each."))
                        .schema(Some(ArrayBuilder::new().items(string()))),
                )
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description(
                            "The provider URL to send the user to; the CSRF cookie is set.",
                        )
                        .content(
                            "application/json",
                            schema_content("OAuth2AuthorizeResponse"),
                        )
                        .header("Set-Cookie", Header::new(string())),
                )
                .response("400", error("`Bad Request`: unusable `scopes`."))
                .response("502", error("`Bad Gateway`: the provider is unreachable."));
            let callback = OperationBuilder::new()
                .operation_id(Some(format!("{id_prefix}.callback")))
                .summary(Some(format!("{provider}: callback")))
                .tag("auth")
                .parameter(query("code", "The authorization code."))
                .parameter(query("state", "The state from `/authorize`."))
                .parameter(query("error", "The provider's error, if the user refused."))
                .response("502", error("`Bad Gateway`: the provider is unreachable."))
                .response(
                    "503",
                    error("`Service Unavailable`: a store is unreachable."),
                );
            let (authorize, callback) = match login_backend {
                Some(backend) => {
                    let transport = self.aw.backend(backend).map(|b| b.transport().clone());
                    let callback = match transport {
                        Some(Transport::Cookie(cookie)) => callback.response(
                            "204",
                            ResponseBuilder::new()
                                .description(format!(
                                    "Logged in; the token is in the `{}` cookie.",
                                    cookie.name
                                ))
                                .header("Set-Cookie", Header::new(string())),
                        ),
                        _ => callback.response(
                            "200",
                            ResponseBuilder::new()
                                .description("Logged in.")
                                .content("application/json", schema_content("BearerResponse")),
                        ),
                    };
                    let callback = callback.response(
                        "400",
                        error(&format!(
                            "{CALLBACK_ERRORS} `OAUTH_USER_ALREADY_EXISTS` (the email belongs \
                             to a user, and association by email is off or either side is \
                             unverified); `LOGIN_BAD_CREDENTIALS` (inactive user); \
                             `LOGIN_USER_NOT_VERIFIED` (when verification is required)."
                        )),
                    );
                    (authorize, callback)
                }
                None => {
                    let auth = |op: OperationBuilder| {
                        op.securities(Some(security.clone()))
                            .response("401", error("Missing token or inactive user."))
                            .response("403", error("Not verified, when verification is required."))
                    };
                    let callback = callback
                        .response(
                            "200",
                            ResponseBuilder::new()
                                .description("The provider account is linked; the user.")
                                .content("application/json", schema_content("UserRead")),
                        )
                        .response(
                            "400",
                            error(&format!(
                                "{CALLBACK_ERRORS} `Bad Request` (the state belongs to another \
                                 user); `OAUTH_ACCOUNT_ALREADY_LINKED` (the provider account \
                                 belongs to another user)."
                            )),
                        );
                    (auth(authorize), auth(callback))
                }
            };
            paths = paths
                .path(
                    join(prefix, "/authorize"),
                    PathItem::new(HttpMethod::Get, authorize.build()),
                )
                .path(
                    join(prefix, "/callback"),
                    PathItem::new(HttpMethod::Get, callback.build()),
                );
        }
        let components = ComponentsBuilder::new().schema(
            "OAuth2AuthorizeResponse",
            ObjectBuilder::new()
                .property("authorization_url", string())
                .required("authorization_url"),
        );
        OpenApiBuilder::new()
            .paths(paths.build())
            .components(Some(components.build()))
            .build()
    }
}
