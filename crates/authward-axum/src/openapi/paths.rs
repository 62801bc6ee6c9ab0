//! The operations of each router: their request bodies, responses and security.

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{
    ArrayBuilder, ContentBuilder, Header, HeaderBuilder, Required, ResponseBuilder,
};

use super::responses::{
    body_errors, error_response, join, json_body, null_response, operation, schema_content,
    schema_ref, token_responses, unavailable, user_response,
};
use super::schemas::string;
use crate::state::{Authward, HttpUserDb};
use crate::transport::Transport;

/// What the operations' security and 403 answers depend on.
pub(super) struct DocContext {
    /// One alternative per backend (any backend authenticates, tried in order).
    security: Vec<SecurityRequirement>,
    requires_verification: bool,
    has_cookie: bool,
    /// `/logout-all` is mounted.
    logout_all: bool,
}

impl DocContext {
    pub(super) fn new<DB: HttpUserDb>(aw: &Authward<DB>) -> Self {
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

    pub(super) fn auth_paths(
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

    pub(super) fn register_paths(&self, paths: PathsBuilder, prefix: &str) -> PathsBuilder {
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

    pub(super) fn reset_paths(&self, paths: PathsBuilder, prefix: &str) -> PathsBuilder {
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

    pub(super) fn verify_paths(&self, paths: PathsBuilder, prefix: &str) -> PathsBuilder {
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

    pub(super) fn users_paths(&self, paths: PathsBuilder, prefix: &str) -> PathsBuilder {
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
