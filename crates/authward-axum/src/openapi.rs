//! An OpenAPI 3.1 document of the authward routes (feature `openapi`).
//!
//! Routers are mounted wherever the application chooses, so the document is built from a
//! [`Mounts`] that says where each router went. It lists exactly the routes those routers
//! serve — `/refresh` and `/sessions` only for backends that have them — with their request
//! bodies, every status code of the contract (see `docs/src/http.md`) and FastAPI Users' security
//! schemes: an OAuth2 password flow per bearer backend (`tokenUrl` = its login path) and an API
//! key in a cookie per cookie backend.
//!
//! ```no_run
//! # use authward_axum::{Authward, HttpUserDb, openapi::Mounts};
//! # fn app<DB: HttpUserDb>(aw: Authward<DB>) -> axum::Router {
//! let mounts = Mounts::fastapi_users_default(["jwt"]);
//! axum::Router::new()
//!     .nest("/auth/jwt", aw.auth_router("jwt"))
//!     .nest("/auth", aw.register_router())
//!     .nest("/auth", aw.reset_password_router())
//!     .nest("/auth", aw.verify_router())
//!     .nest("/users", aw.users_router())
//!     .merge(aw.openapi_router(mounts)) // GET /openapi.json
//! # }
//! ```

use authward_core::schema::UserSchema;
use authward_core::{IdOf, UserId};
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AdditionalProperties, SchemaFormat, SchemaType};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Flow, OAuth2, Password, Scopes, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ArrayBuilder, ComponentsBuilder, Content, ContentBuilder, Header, HeaderBuilder, InfoBuilder,
    ObjectBuilder, OneOfBuilder, OpenApi, OpenApiBuilder, Ref, Required, Response, ResponseBuilder,
    Type,
};

use crate::error::ApiError;
use crate::state::{Authward, HttpUserDb};
use crate::transport::Transport;

/// Where the application mounted each authward router (the prefix given to
/// [`axum::Router::nest`]); `None` / absent means not mounted, and its routes are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mounts {
    /// `(backend name, prefix)` for each [`Authward::auth_router`], e.g.
    /// `("jwt", "/auth/jwt")`. Names of no backend are skipped.
    pub auth: Vec<(String, String)>,
    /// Prefix of [`Authward::register_router`], e.g. `/auth`.
    pub register: Option<String>,
    /// Prefix of [`Authward::reset_password_router`], e.g. `/auth`.
    pub reset: Option<String>,
    /// Prefix of [`Authward::verify_router`], e.g. `/auth`.
    pub verify: Option<String>,
    /// Prefix of [`Authward::users_router`], e.g. `/users`.
    pub users: Option<String>,
}

impl Mounts {
    /// FastAPI Users' mounting (its full example, and `docs/src/http.md`): each backend's auth
    /// router at `/auth/<name>`, register, reset-password and verify at `/auth`, users at
    /// `/users`.
    pub fn fastapi_users_default<I, S>(backend_names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let auth = backend_names
            .into_iter()
            .map(|name| {
                let name = name.into();
                let prefix = format!("/auth/{name}");
                (name, prefix)
            })
            .collect();
        Self {
            auth,
            register: Some("/auth".into()),
            reset: Some("/auth".into()),
            verify: Some("/auth".into()),
            users: Some("/users".into()),
        }
    }
}

/// `GET /openapi.json` answering `doc` as JSON (serialized once, here). Merge it into the
/// application's router; use it instead of [`Authward::openapi_router`] to serve a document
/// the application has extended.
pub fn json_router(doc: &OpenApi) -> Router {
    let body = match serde_json::to_vec(doc) {
        Ok(bytes) => Some(Bytes::from(bytes)),
        Err(err) => {
            tracing::error!(error = %err, "OpenAPI document does not serialize");
            None
        }
    };
    Router::new().route(
        "/openapi.json",
        get(move || {
            let body = body.clone();
            async move {
                match body {
                    Some(bytes) => (
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        )],
                        bytes,
                    )
                        .into_response(),
                    None => ApiError::Internal.into_response(),
                }
            }
        }),
    )
}

impl<DB: HttpUserDb> Authward<DB> {
    /// [`Mounts::fastapi_users_default`] for every backend of this `Authward`.
    pub fn fastapi_users_mounts(&self) -> Mounts {
        Mounts::fastapi_users_default(self.inner.backends.iter().map(|b| b.name.clone()))
    }

    /// The OpenAPI 3.1 document of the routes mounted as `mounts` says. Its fields are public:
    /// change `info`, add `servers`, or [`OpenApi::merge`] it with the application's own.
    pub fn openapi(&self, mounts: &Mounts) -> OpenApi {
        let doc = DocContext::new(self);
        let mut paths = PathsBuilder::new();
        for (name, prefix) in &mounts.auth {
            if let Some(backend) = self.inner.backends.iter().find(|b| &b.name == name) {
                paths = doc.auth_paths(
                    paths,
                    name,
                    prefix,
                    &backend.transport,
                    backend.refresh.is_some(),
                    backend.sessions.is_some(),
                );
            }
        }
        if let Some(prefix) = &mounts.register {
            paths = doc.register_paths(paths, prefix);
        }
        if let Some(prefix) = &mounts.reset {
            paths = doc.reset_paths(paths, prefix);
        }
        if let Some(prefix) = &mounts.verify {
            paths = doc.verify_paths(paths, prefix);
        }
        if let Some(prefix) = &mounts.users {
            paths = doc.users_paths(paths, prefix);
        }

        let mut components = components::<IdOf<DB>>(DB::User::has_app_fields());
        for backend in &self.inner.backends {
            let scheme = match &backend.transport {
                Transport::Bearer(bearer) => {
                    let token_url = mounts
                        .auth
                        .iter()
                        .find(|(name, _)| name == &backend.name)
                        .map_or_else(
                            || bearer.token_url.clone(),
                            |(_, prefix)| join(prefix, "/login"),
                        );
                    SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(
                        token_url,
                        Scopes::new(),
                    ))]))
                }
                Transport::Cookie(cookie) => {
                    SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(cookie.name.clone())))
                }
            };
            components = components.security_scheme(backend.name.clone(), scheme);
        }

        OpenApiBuilder::new()
            .info(
                InfoBuilder::new()
                    .title("authward")
                    .version(env!("CARGO_PKG_VERSION"))
                    .description(Some(
                        "User authentication speaking FastAPI Users' HTTP contract.",
                    ))
                    .build(),
            )
            .paths(paths.build())
            .components(Some(components.build()))
            .build()
    }

    /// A router serving `GET /openapi.json`: [`Authward::openapi`] of `mounts`, built once.
    pub fn openapi_router(&self, mounts: Mounts) -> Router {
        json_router(&self.openapi(&mounts))
    }
}

/// What the operations' security and 403 answers depend on.
struct DocContext {
    /// One alternative per backend (any backend authenticates, tried in order).
    security: Vec<SecurityRequirement>,
    requires_verification: bool,
    has_cookie: bool,
    /// `/logout-all` is mounted.
    logout_all: bool,
}

impl DocContext {
    fn new<DB: HttpUserDb>(aw: &Authward<DB>) -> Self {
        Self {
            security: aw
                .inner
                .backends
                .iter()
                .map(|b| SecurityRequirement::new(b.name.clone(), Vec::<String>::new()))
                .collect(),
            requires_verification: aw.inner.requires_verification,
            has_cookie: aw.inner.backends.iter().any(|b| b.transport.is_cookie()),
            logout_all: aw.inner.can_log_out_everywhere,
        }
    }

    /// Security, 401 and (when it can happen) 403 of a route needing a user.
    fn authenticated(
        &self,
        op: OperationBuilder,
        superuser: bool,
        state_changing: bool,
    ) -> OperationBuilder {
        let op = op.securities(Some(self.security.clone())).response(
            "401",
            error_response("Missing token or inactive user.").header(
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(Some(string()))
                    .description(Some("`Bearer` or `Cookie`"))
                    .build(),
            ),
        );
        let mut reasons = Vec::new();
        if superuser {
            reasons.push("Not a superuser.");
        }
        if self.requires_verification {
            reasons.push("Not verified (the application requires verification).");
        }
        if self.has_cookie && state_changing {
            reasons.push("`CSRF_CHECK_FAILED`: cookie-authenticated request from another site.");
        }
        if reasons.is_empty() {
            op
        } else {
            op.response("403", error_response(&reasons.join(" ")))
        }
    }

    fn auth_paths(
        &self,
        paths: PathsBuilder,
        name: &str,
        prefix: &str,
        transport: &Transport,
        refresh: bool,
        sessions: bool,
    ) -> PathsBuilder {
        let tag = "auth";
        let login_body = RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content(
                "application/x-www-form-urlencoded",
                schema_content("LoginForm"),
            )
            .build();
        let mut login = operation(
            &format!("auth:{name}.login"),
            &format!("Log in ({name})"),
            tag,
        )
        .request_body(Some(login_body));
        login = token_responses(login, transport, "Logged in.");
        let mut login_400 =
            "`LOGIN_BAD_CREDENTIALS`: unknown user, wrong password or inactive user.";
        if self.requires_verification {
            login_400 = "`LOGIN_BAD_CREDENTIALS`: unknown user, wrong password or inactive \
                         user. `LOGIN_USER_NOT_VERIFIED`.";
        }
        login = body_errors(login.response("400", error_response(login_400)));
        let login = unavailable(login);

        let logout_response = match transport {
            Transport::Bearer(_) => ResponseBuilder::new().description("Logged out.").build(),
            Transport::Cookie(_) => ResponseBuilder::new()
                .description("Logged out; the cookie is cleared.")
                .header("Set-Cookie", Header::new(string()))
                .build(),
        };
        let logout = operation(
            &format!("auth:{name}.logout"),
            &format!("Log out ({name})"),
            tag,
        )
        .response("204", logout_response.clone());
        let logout = unavailable(self.authenticated(logout, false, true));
        let logout_all = operation(
            &format!("auth:{name}.logout_all"),
            &format!("Log out of every session ({name})"),
            tag,
        )
        .description(Some(
            "Revokes every session of the user (authward addition).",
        ))
        .response("204", logout_response);
        let logout_all = unavailable(self.authenticated(logout_all, false, true));

        let mut paths = paths
            .path(
                join(prefix, "/login"),
                PathItem::new(HttpMethod::Post, login),
            )
            .path(
                join(prefix, "/logout"),
                PathItem::new(HttpMethod::Post, logout),
            );
        if self.logout_all {
            paths = paths.path(
                join(prefix, "/logout-all"),
                PathItem::new(HttpMethod::Post, logout_all),
            );
        }
        if refresh {
            let op = operation(
                &format!("auth:{name}.refresh"),
                &format!("Exchange a refresh token ({name})"),
                tag,
            )
            .description(Some(
                "Rotates the refresh token; a reused refresh token revokes its whole family \
                 (authward addition).",
            ))
            .request_body(Some(json_body("RefreshRequest")));
            let op = token_responses(op, transport, "A new access token and refresh token.")
                .response(
                    "400",
                    error_response("`REFRESH_TOKEN_INVALID`: unknown, expired or reused."),
                );
            paths = paths.path(
                join(prefix, "/refresh"),
                PathItem::new(HttpMethod::Post, unavailable(body_errors(op))),
            );
        }
        if sessions {
            let op = operation(
                &format!("auth:{name}.sessions"),
                &format!("List the user's sessions ({name})"),
                tag,
            )
            .description(Some("Active sessions, oldest first (authward addition)."))
            .response(
                "200",
                ResponseBuilder::new().description("The sessions.").content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(ArrayBuilder::new().items(schema_ref("Session"))))
                        .build(),
                ),
            );
            paths = paths.path(
                join(prefix, "/sessions"),
                PathItem::new(
                    HttpMethod::Get,
                    unavailable(self.authenticated(op, false, false)),
                ),
            );
        }
        paths
    }

    fn register_paths(&self, paths: PathsBuilder, prefix: &str) -> PathsBuilder {
        let op = operation("register:register", "Register", "auth")
            .description(Some(
                "`is_active`, `is_superuser` and `is_verified` in the body are ignored.",
            ))
            .request_body(Some(json_body("UserCreate")))
            .response("201", user_response("The new user."))
            .response(
                "400",
                error_response(
                    "`REGISTER_USER_ALREADY_EXISTS`, or \
                     `{\"code\": \"REGISTER_INVALID_PASSWORD\", \"reason\": ...}`.",
                ),
            );
        paths.path(
            join(prefix, "/register"),
            PathItem::new(HttpMethod::Post, unavailable(body_errors(op))),
        )
    }

    fn reset_paths(&self, paths: PathsBuilder, prefix: &str) -> PathsBuilder {
        let forgot = operation("reset:forgot_password", "Forgot password", "auth")
            .description(Some(
                "Answers 202 whether or not the user exists; the token goes to the \
                 application's `on_after_forgot_password` hook.",
            ))
            .request_body(Some(json_body("EmailRequest")))
            .response("202", null_response("Accepted."));
        let reset = operation("reset:reset_password", "Reset password", "auth")
            .request_body(Some(json_body("ResetPasswordRequest")))
            .response("200", null_response("The password is changed."))
            .response(
                "400",
                error_response(
                    "`RESET_PASSWORD_BAD_TOKEN`, or \
                     `{\"code\": \"RESET_PASSWORD_INVALID_PASSWORD\", \"reason\": ...}`.",
                ),
            );
        paths
            .path(
                join(prefix, "/forgot-password"),
                PathItem::new(HttpMethod::Post, unavailable(body_errors(forgot))),
            )
            .path(
                join(prefix, "/reset-password"),
                PathItem::new(HttpMethod::Post, unavailable(body_errors(reset))),
            )
    }

    fn verify_paths(&self, paths: PathsBuilder, prefix: &str) -> PathsBuilder {
        let request = operation(
            "verify:request-token",
            "Request a verification token",
            "auth",
        )
        .description(Some(
            "Answers 202 whether or not the user exists; the token goes to the \
                 application's `on_after_request_verify` hook.",
        ))
        .request_body(Some(json_body("EmailRequest")))
        .response("202", null_response("Accepted."));
        let verify = operation("verify:verify", "Verify", "auth")
            .request_body(Some(json_body("VerifyRequest")))
            .response("200", user_response("The verified user."))
            .response(
                "400",
                error_response("`VERIFY_USER_BAD_TOKEN` or `VERIFY_USER_ALREADY_VERIFIED`."),
            );
        paths
            .path(
                join(prefix, "/request-verify-token"),
                PathItem::new(HttpMethod::Post, unavailable(body_errors(request))),
            )
            .path(
                join(prefix, "/verify"),
                PathItem::new(HttpMethod::Post, unavailable(body_errors(verify))),
            )
    }

    fn users_paths(&self, paths: PathsBuilder, prefix: &str) -> PathsBuilder {
        let tag = "users";
        let update_400 = "`UPDATE_USER_EMAIL_ALREADY_EXISTS`, or \
                          `{\"code\": \"UPDATE_USER_INVALID_PASSWORD\", \"reason\": ...}`.";
        let me = operation("users:current_user", "The current user", tag)
            .response("200", user_response("The current user."));
        let me = unavailable(self.authenticated(me, false, false));
        let patch_me = operation("users:patch_current_user", "Update the current user", tag)
            .description(Some(
                "`is_active`, `is_superuser` and `is_verified` are ignored; an email change sets \
                 `is_verified` to false.",
            ))
            .request_body(Some(json_body("UserUpdate")))
            .response("200", user_response("The updated user."))
            .response("400", error_response(update_400));
        let patch_me = unavailable(body_errors(self.authenticated(patch_me, false, true)));
        let delete_me = operation("users:delete_current_user", "Delete user `me`", tag)
            .description(Some(
                "Routed as `DELETE /{id}` with the id `me`, as FastAPI does: 403 for a \
                 non-superuser, 404 for a superuser.",
            ))
            .response("404", error_response("`Not Found`."));
        let delete_me = unavailable(self.authenticated(delete_me, true, true));
        let change = operation("users:change_password", "Change the password", tag)
            .description(Some(
                "Checks the current password, then revokes every session (authward addition).",
            ))
            .request_body(Some(json_body("ChangePasswordRequest")))
            .response(
                "204",
                ResponseBuilder::new().description("The password is changed."),
            )
            .response(
                "400",
                error_response(
                    "`CHANGE_PASSWORD_BAD_CURRENT_PASSWORD`, or \
                     `{\"code\": \"CHANGE_PASSWORD_INVALID_PASSWORD\", \"reason\": ...}`.",
                ),
            );
        let change = unavailable(body_errors(self.authenticated(change, false, true)));

        let by_id = |op: OperationBuilder| {
            op.parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some("The user's ID; an unparsable ID is 404."))
                    .schema(Some(string())),
            )
            .response("404", error_response("`Not Found`: no such user."))
        };
        let user = by_id(operation("users:user", "A user (superuser)", tag))
            .response("200", user_response("The user."));
        let user = unavailable(self.authenticated(user, true, false));
        let patch_user = by_id(operation(
            "users:patch_user",
            "Update a user (superuser)",
            tag,
        ))
        .description(Some(
            "May set `is_active`, `is_superuser` and `is_verified`.",
        ))
        .request_body(Some(json_body("UserUpdate")))
        .response("200", user_response("The updated user."))
        .response("400", error_response(update_400));
        let patch_user = unavailable(body_errors(self.authenticated(patch_user, true, true)));
        let delete_user = by_id(operation(
            "users:delete_user",
            "Delete a user (superuser)",
            tag,
        ))
        .response(
            "204",
            ResponseBuilder::new().description("The user is deleted."),
        );
        let delete_user = unavailable(self.authenticated(delete_user, true, true));

        paths
            .path(join(prefix, "/me"), PathItem::new(HttpMethod::Get, me))
            .path(
                join(prefix, "/me"),
                PathItem::new(HttpMethod::Patch, patch_me),
            )
            .path(
                join(prefix, "/me"),
                PathItem::new(HttpMethod::Delete, delete_me),
            )
            .path(
                join(prefix, "/me/change-password"),
                PathItem::new(HttpMethod::Post, change),
            )
            .path(join(prefix, "/{id}"), PathItem::new(HttpMethod::Get, user))
            .path(
                join(prefix, "/{id}"),
                PathItem::new(HttpMethod::Patch, patch_user),
            )
            .path(
                join(prefix, "/{id}"),
                PathItem::new(HttpMethod::Delete, delete_user),
            )
    }
}

/// `prefix` + `path`, with exactly one leading slash and none doubled at the seam.
fn join(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        path.to_owned()
    } else {
        format!("/{prefix}{path}")
    }
}

fn operation(id: &str, summary: &str, tag: &str) -> OperationBuilder {
    OperationBuilder::new()
        .operation_id(Some(id))
        .summary(Some(summary))
        .tag(tag)
}

/// 200 with the token (bearer) or 204 with `Set-Cookie` (cookie).
fn token_responses(op: OperationBuilder, transport: &Transport, what: &str) -> OperationBuilder {
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
fn body_errors(op: OperationBuilder) -> OperationBuilder {
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
fn unavailable(op: OperationBuilder) -> OperationBuilder {
    op.response(
        "503",
        error_response("`Service Unavailable`: the store could not be reached.").header(
            "Retry-After",
            Header::new(ObjectBuilder::new().schema_type(Type::Integer)),
        ),
    )
}

fn schema_ref(name: &str) -> Ref {
    Ref::from_schema_name(name)
}

fn schema_content(name: &str) -> Content {
    ContentBuilder::new().schema(Some(schema_ref(name))).build()
}

fn json_body(name: &str) -> utoipa::openapi::request_body::RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content("application/json", schema_content(name))
        .build()
}

fn error_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", schema_content("ErrorModel"))
}

fn user_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", schema_content("UserRead"))
        .build()
}

fn null_response(description: &str) -> Response {
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

fn string() -> ObjectBuilder {
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

/// The JSON form of `ID`, judged from a sample value (a generated one, else `1` parsed).
fn id_schema<ID: UserId>() -> ObjectBuilder {
    let sample = ID::generate().or_else(|| ID::parse_id("1").ok());
    match sample.and_then(|id| serde_json::to_value(id).ok()) {
        Some(Value::String(text)) => {
            let uuid_like = text.len() == 36
                && text
                    .bytes()
                    .enumerate()
                    .all(|(i, b)| matches!(i, 8 | 13 | 18 | 23) == (b == b'-'));
            if uuid_like {
                string().format(Some(SchemaFormat::Custom("uuid".into())))
            } else {
                string()
            }
        }
        Some(Value::Number(n)) if n.is_f64() => ObjectBuilder::new().schema_type(Type::Number),
        Some(Value::Number(_)) => ObjectBuilder::new().schema_type(Type::Integer),
        _ => ObjectBuilder::new().schema_type(SchemaType::AnyValue),
    }
}

/// Allows the application's own fields next to the standard ones.
fn with_custom_fields(object: ObjectBuilder, custom: bool) -> ObjectBuilder {
    if custom {
        object.additional_properties(Some(AdditionalProperties::FreeForm(true)))
    } else {
        object
    }
}

fn components<ID: UserId>(custom: bool) -> ComponentsBuilder {
    let flags = |object: ObjectBuilder| {
        object
            .property("is_active", boolean().default(Some(json!(true))))
            .property("is_superuser", boolean().default(Some(json!(false))))
            .property("is_verified", boolean().default(Some(json!(false))))
    };
    let user_read = flags(
        ObjectBuilder::new()
            .description(Some("A user; never the password hash."))
            .property("id", id_schema::<ID>())
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
    let validation_issue = ObjectBuilder::new()
        .property("type", string())
        .property(
            "loc",
            ArrayBuilder::new().items(
                OneOfBuilder::new()
                    .item(string())
                    .item(ObjectBuilder::new().schema_type(Type::Integer)),
            ),
        )
        .property("msg", string())
        .property(
            "input",
            ObjectBuilder::new().schema_type(SchemaType::AnyValue),
        )
        .required("type")
        .required("loc")
        .required("msg");
    let code_reason = ObjectBuilder::new()
        .property("code", string())
        .property("reason", string())
        .required("code")
        .required("reason");
    let error = ObjectBuilder::new()
        .description(Some(
            "FastAPI's error body: a code or message, a `{code, reason}` for refused \
             passwords, or the list of validation issues (422).",
        ))
        .property(
            "detail",
            OneOfBuilder::new()
                .item(string())
                .item(schema_ref("ErrorCodeReasonModel"))
                .item(ArrayBuilder::new().items(schema_ref("ValidationIssue"))),
        )
        .required("detail");
    let bearer = ObjectBuilder::new()
        .property("access_token", string())
        .property("token_type", string().enum_values(Some(["bearer"])))
        .property(
            "refresh_token",
            string().description(Some("Only from backends with refresh tokens.")),
        )
        .required("access_token")
        .required("token_type");
    let login = ObjectBuilder::new()
        .property("username", string().description(Some("The email address.")))
        .property("password", string())
        .property("grant_type", nullable_string().pattern(Some("^password$")))
        .property("scope", string().default(Some(json!(""))))
        .property("client_id", nullable_string())
        .property("client_secret", nullable_string())
        .required("username")
        .required("password");
    let session = ObjectBuilder::new()
        .property("id", string())
        .property(
            "created_at",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .description(Some("Unix seconds.")),
        )
        .property(
            "expires_at",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
                .description(Some("Unix seconds; null when the session does not expire.")),
        )
        .required("id")
        .required("created_at")
        .required("expires_at");
    let fields = |pairs: &[&str]| {
        pairs.iter().fold(ObjectBuilder::new(), |object, name| {
            object.property(*name, string()).required(*name)
        })
    };
    ComponentsBuilder::new()
        .schema("UserRead", with_custom_fields(user_read, custom))
        .schema("UserCreate", with_custom_fields(user_create, custom))
        .schema("UserUpdate", with_custom_fields(user_update, custom))
        .schema("ErrorModel", error)
        .schema("ErrorCodeReasonModel", code_reason)
        .schema("ValidationIssue", validation_issue)
        .schema("BearerResponse", bearer)
        .schema("LoginForm", login)
        .schema("Session", session)
        .schema("RefreshRequest", fields(&["refresh_token"]))
        .schema(
            "EmailRequest",
            ObjectBuilder::new()
                .property("email", email())
                .required("email"),
        )
        .schema("ResetPasswordRequest", fields(&["token", "password"]))
        .schema("VerifyRequest", fields(&["token"]))
        .schema(
            "ChangePasswordRequest",
            fields(&["current_password", "new_password"]),
        )
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
