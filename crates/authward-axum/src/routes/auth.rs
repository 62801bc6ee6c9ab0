//! `/login`, `/logout` (FastAPI Users), plus `/refresh`, `/logout-all` and `/sessions`.

use authward_core::AuthUser;
use authward_core::db::run_to_end;
use authward_core::strategy::{Session, StrategyError};
use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::login_allowed::LoginAllowed;
use crate::backend::{AuthBackend, RefreshFlow};
use crate::body::{LimitedBody, LoginForm};
use crate::error::{ApiError, ErrorCode};
use crate::extract::Found;
use crate::schema::field;
use crate::state::{Authward, HttpUserDb, request_info};
use crate::throttle::RouteClass;
use crate::transport::IssuedRefresh;

/// The body of `POST /refresh`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct RefreshBody {
    refresh_token: String,
}

/// One of the user's sessions, as `GET /sessions` lists them.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct SessionEntry {
    id: String,
    /// Unix seconds.
    // `i128` in the schema: an integer without a `format` (`i64` would add `int64`).
    #[cfg_attr(feature = "openapi", schema(value_type = i128))]
    created_at: i64,
    /// Unix seconds; null when the session does not expire.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i128>, required))]
    expires_at: Option<i64>,
}

impl From<&Session> for SessionEntry {
    fn from(session: &Session) -> Self {
        Self {
            id: session.id.to_hex(),
            created_at: session.created_at.unix_timestamp(),
            expires_at: session.expires_at.map(|t| t.unix_timestamp()),
        }
    }
}

/// The refresh token of a JSON body, if the body is a JSON object with one; a body that is not
/// JSON or has none is `None` (logout takes no body in FastAPI Users' contract, so none is
/// required). A `refresh_token` that is not a string (an object, an array, ...) is refused
/// with 422, as any mistyped field.
fn refresh_in_body(body: &LimitedBody) -> Result<Option<String>, ApiError> {
    if !body.is_json() {
        return Ok(None);
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&body.bytes) else {
        return Ok(None);
    };
    let mut issues = Vec::new();
    let token = field::<String>(&fields, "refresh_token", &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    Ok(token.filter(|t| !t.is_empty()))
}

/// The refresh token a request presents to `backend`: in a JSON body (see
/// [`refresh_in_body`]), else in the backend's refresh cookie.
fn presented_refresh<U: AuthUser>(
    backend: &AuthBackend<U>,
    parts: &Parts,
    body: &LimitedBody,
) -> Result<Option<String>, ApiError> {
    Ok(refresh_in_body(body)?.or_else(|| backend.transport.refresh_token(parts)))
}

/// Where the auth router is mounted: the request's full path without the route's own suffix;
/// `None` when the request is not one of `route` (a login answered by another route, such as
/// an OAuth callback).
fn mount_path(parts: &Parts, route: &str) -> Option<String> {
    let full = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.path().to_owned(), |uri| uri.path().to_owned());
    full.strip_suffix(route).map(|mount| {
        let mount = mount.trim_end_matches('/');
        if mount.is_empty() { "/" } else { mount }.to_owned()
    })
}

/// The transport's answer to a login or a refresh (the request of `route`) with the
/// `access` token and the `refresh` token of `flow`, whose cookie lives as long as the
/// token and is scoped to where the router is mounted.
fn issued_with_refresh<U: AuthUser>(
    backend: &AuthBackend<U>,
    flow: &dyn RefreshFlow<U>,
    parts: &Parts,
    route: &str,
    access: &str,
    refresh: &str,
) -> Response {
    // Outside the router, only a transport that does not need the mount gets here
    // (`issue_login` checks).
    let mount = mount_path(parts, route).unwrap_or_else(|| "/".to_owned());
    backend.transport.login_response(
        access,
        Some(IssuedRefresh {
            token: refresh,
            max_age: flow.lifetime_secs(),
            mount: &mount,
        }),
    )
}

/// The transport's answer to a logout (the request of `route`): 204, clearing the cookies of
/// a cookie transport (the refresh cookie too when the backend has refresh tokens).
fn logged_out<U: AuthUser>(backend: &AuthBackend<U>, parts: &Parts, route: &str) -> Response {
    let mount = backend
        .refresh
        .as_ref()
        .map(|_| mount_path(parts, route).unwrap_or_else(|| "/".to_owned()));
    backend.transport.logout_response(mount.as_deref())
}

impl<DB: HttpUserDb> Authward<DB> {
    /// The auth router of the backend called `backend`: `POST /login`, `POST /logout`, plus
    /// `POST /logout-all` when every backend can end every session
    /// ([`Authward::can_log_out_everywhere`]), `POST /refresh` when the backend has refresh
    /// tokens and `GET /sessions` when it lists sessions.
    ///
    /// # Panics
    /// When no backend has that name (a wiring mistake found at startup).
    pub fn auth_router(&self, backend: &str) -> Router {
        let index = self
            .inner
            .backend_index(backend)
            .unwrap_or_else(|| panic!("no authentication backend named {backend:?}"));
        let mut router = Router::new()
            .route(
                "/login",
                post(
                    move |State(aw): State<Self>, parts: Parts, form: LoginForm| async move {
                        login(&aw, index, &parts, form).await
                    },
                ),
            )
            .route(
                "/logout",
                post(
                    move |State(aw): State<Self>, parts: Parts, body: LimitedBody| async move {
                        logout(&aw, index, &parts, &body).await
                    },
                ),
            );
        if self.inner.can_log_out_everywhere {
            router = router.route(
                "/logout-all",
                post(move |State(aw): State<Self>, parts: Parts| async move {
                    logout_all(&aw, index, &parts).await
                }),
            );
        }
        if self.inner.backends[index].refresh.is_some() {
            router = router.route(
                "/refresh",
                post(
                    move |State(aw): State<Self>, parts: Parts, body: LimitedBody| async move {
                        refresh(&aw, index, &parts, &body).await
                    },
                ),
            );
        }
        if self.inner.backends[index].sessions.is_some() {
            router = router.route(
                "/sessions",
                get(move |State(aw): State<Self>, parts: Parts| async move {
                    sessions(&aw, index, &parts).await
                }),
            );
        }
        self.finish_router(router)
    }
}

#[tracing::instrument(level = "debug", name = "authward.login", skip_all)]
async fn login<DB: HttpUserDb>(
    aw: &Authward<DB>,
    index: usize,
    parts: &Parts,
    form: LoginForm,
) -> Result<Response, ApiError> {
    // A cookie login from another site would log the victim's browser into the attacker's
    // account (login CSRF): the same origin policy as every cookie-authenticated write.
    if aw.inner.backends[index].transport.is_cookie() {
        aw.inner.csrf.check(parts)?;
    }
    aw.throttle(RouteClass::Login, parts, Some(&form.username))
        .await?;
    let info = request_info(parts);
    let manager = &aw.inner.manager;
    let user = manager
        .authenticate(&form.username, &form.password, Some(&info))
        .await?;
    let Some(user) = user.filter(|u| u.is_active()) else {
        aw.login_outcome(&form.username, false).await;
        return Err(ApiError::BadRequest(ErrorCode::LoginBadCredentials));
    };
    aw.login_outcome(&form.username, true).await;
    if aw.inner.requires_verification && !user.is_verified() {
        return Err(ApiError::BadRequest(ErrorCode::LoginUserNotVerified));
    }
    aw.issue_login(index, &user, parts, &info, Some(&form.password))
        .await
}

impl<DB: HttpUserDb> Authward<DB> {
    /// Logs `user` in through the backend called `backend`, as its `/login` route does after
    /// checking the password: a token from its strategy (and a refresh token when it has
    /// them), the transport's login response (bearer 200 JSON, cookie 204 with `Set-Cookie`),
    /// then [`Hooks::on_after_login`](authward_core::manager::Hooks::on_after_login).
    ///
    /// For routes of the application's own that authenticate a user another way (OAuth
    /// callbacks, magic links): check the user is active (and verified when required) first.
    ///
    /// A cookie backend with refresh tokens scopes its refresh cookie to the auth router's
    /// path, which a route outside that router cannot know: set
    /// [`CookieTransport::refresh_path`](crate::CookieTransport::refresh_path) for such a
    /// backend, or this answers 500 (and logs why) before issuing anything.
    ///
    /// # Errors
    /// 404 when no backend has that name; 503 when a store is down; 500 when signing fails or
    /// the refresh cookie's path is unknown.
    pub async fn login_response(
        &self,
        backend: &str,
        user: &DB::User,
        parts: &Parts,
    ) -> Result<Response, ApiError> {
        let index = self
            .inner
            .backend_index(backend)
            .ok_or(ApiError::NotFound)?;
        self.issue_login(index, user, parts, &request_info(parts), None)
            .await
    }

    async fn issue_login(
        &self,
        index: usize,
        user: &DB::User,
        parts: &Parts,
        info: &authward_core::manager::RequestInfo,
        password: Option<&str>,
    ) -> Result<Response, ApiError> {
        let backend = &self.inner.backends[index];
        // Only the auth router's own `/login` (the one with a password) knows the router's mount.
        if password.is_none()
            && backend.refresh.is_some()
            && backend.transport.scopes_refresh_to_mount()
        {
            tracing::error!(
                backend = %backend.name,
                path = %parts.uri.path(),
                "a login outside the auth router cannot scope the refresh cookie to that router: \
                 set CookieTransport::refresh_path"
            );
            return Err(ApiError::Internal);
        }
        let token = backend.strategy.write_token(user).await?;
        let refresh_token = match &backend.refresh {
            Some(flow) => Some(flow.issue(user.id(), &token).await?),
            None => None,
        };
        if let Some(password) = password {
            // The password (or the account) may have changed while this login ran, and that
            // change's revocation may have run before these tokens existed.
            let still = self.inner.manager.still_signs_in(user, password).await;
            if !matches!(still, Ok(true)) {
                withdraw(backend, user, &token, refresh_token.as_deref()).await;
                still?;
                return Err(ApiError::BadRequest(ErrorCode::LoginBadCredentials));
            }
        }
        let response = match (&backend.refresh, &refresh_token) {
            (Some(flow), Some(refresh_token)) => issued_with_refresh(
                backend,
                flow.as_ref(),
                parts,
                "/login",
                &token,
                refresh_token,
            ),
            _ => backend.transport.login_response(&token, None),
        };
        if let Err(err) = self.inner.manager.after_login(user, Some(info)).await {
            // The login fails: its tokens are never handed out, so none may stay behind.
            withdraw(backend, user, &token, refresh_token.as_deref()).await;
            return Err(err.into());
        }
        Ok(response)
    }
}

/// Ends the tokens of a login (or a refresh) that are not handed out. Failures are logged:
/// the tokens were never given to anyone (a stateless JWT cannot be ended, and stays unsent
/// until it expires).
async fn withdraw<U: AuthUser>(
    backend: &AuthBackend<U>,
    user: &U,
    token: &str,
    refresh_token: Option<&str>,
) {
    match backend.strategy.destroy_token(token, user).await {
        // A stateless token cannot be ended: it was never sent (after a password change its
        // fingerprint no longer matches either).
        Ok(()) | Err(StrategyError::DestroyNotSupported) => {}
        Err(error) => tracing::warn!(%error, "withdrawing an access token not handed out failed"),
    }
    if let (Some(flow), Some(refresh_token)) = (&backend.refresh, refresh_token)
        && let Err(error) = flow.revoke_family(refresh_token, user.id()).await
    {
        tracing::warn!(%error, "withdrawing a login's refresh token failed");
    }
}

#[tracing::instrument(level = "debug", name = "authward.logout", skip_all)]
async fn logout<DB: HttpUserDb>(
    aw: &Authward<DB>,
    index: usize,
    parts: &Parts,
    body: &LimitedBody,
) -> Result<Response, ApiError> {
    let found = aw.signed_in(parts, false).await?;
    let route = &aw.inner.backends[index];
    // The refresh families first (the one linked to the presented access token, and the one of
    // a refresh token from the body or this backend's refresh cookie), so that a failure leaves
    // the access token usable to try again.
    let with_refresh = if found.backend == index {
        vec![index]
    } else {
        vec![found.backend, index]
    };
    let mut families = Vec::with_capacity(with_refresh.len());
    for backend in with_refresh {
        if aw.inner.backends[backend].refresh.is_some() {
            let presented = presented_refresh(&aw.inner.backends[backend], parts, body)?;
            families.push((backend, presented));
        }
    }
    // Once started, the logout runs to its end on a task of its own: a client gone midway must
    // not leave the refresh families ended and the access token alive.
    let aw_owned = aw.clone();
    run_to_end(
        async move { end_session(&aw_owned, &found, &families).await },
        ApiError::from,
    )
    .await?;
    Ok(logged_out(route, parts, "/logout"))
}

/// The work of a logout: the refresh `families` (each backend's, with the refresh token
/// presented to it), then the access token of `found`.
async fn end_session<DB: HttpUserDb>(
    aw: &Authward<DB>,
    found: &Found<DB::User>,
    families: &[(usize, Option<String>)],
) -> Result<(), ApiError> {
    for (backend, presented) in families {
        let Some(flow) = &aw.inner.backends[*backend].refresh else {
            continue;
        };
        flow.revoke_linked(&found.token, found.user.id()).await?;
        if let Some(refresh_token) = presented {
            flow.revoke_family(refresh_token, found.user.id()).await?;
        }
    }
    // The token is destroyed by the backend that accepted it (which may not be this route's),
    // so a logout always ends the session that was presented; the response is this route's.
    let issuer = &aw.inner.backends[found.backend];
    match issuer
        .strategy
        .destroy_token(&found.token, &found.user)
        .await
    {
        Ok(()) => Ok(()),
        // Only a backend declared stateless gets here (Authward::new refuses the others).
        Err(StrategyError::DestroyNotSupported) if issuer.stateless => Ok(()),
        Err(e) => Err(ApiError::from(e)),
    }
}

#[tracing::instrument(level = "debug", name = "authward.logout_all", skip_all)]
async fn logout_all<DB: HttpUserDb>(
    aw: &Authward<DB>,
    index: usize,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let found = aw.signed_in(parts, false).await?;
    aw.inner
        .manager
        .revoke_all_sessions(found.user.id())
        .await?;
    Ok(logged_out(&aw.inner.backends[index], parts, "/logout-all"))
}

#[tracing::instrument(level = "debug", name = "authward.refresh", skip_all)]
async fn refresh<DB: HttpUserDb>(
    aw: &Authward<DB>,
    index: usize,
    parts: &Parts,
    body: &LimitedBody,
) -> Result<Response, ApiError> {
    let backend = &aw.inner.backends[index];
    let Some(flow) = &backend.refresh else {
        return Err(ApiError::NotFound);
    };
    aw.throttle(RouteClass::Refresh, parts, None).await?;
    let token = if backend.transport.is_cookie() {
        // Whether the refresh token comes from the cookie (sent by the browser by itself) or
        // from the body (an attacker's own token, which would set the attacker's session
        // cookies in the victim's browser): only from the application's origin.
        aw.inner.csrf.check(parts)?;
        match presented_refresh(backend, parts, body)? {
            Some(token) => token,
            None => return Err(ApiError::BadRequest(ErrorCode::RefreshTokenInvalid)),
        }
    } else {
        body.json::<RefreshBody>()?.refresh_token
    };
    // The same users as `/login`: with required verification, an unverified user (after an
    // email change, say) gets no new tokens, and keeps the refresh token for later.
    let users = LoginAllowed::new(aw.inner.manager.db(), aw.inner.requires_verification);
    let exchanged = match flow.exchange(&token, &users).await {
        Ok(exchanged) => exchanged,
        Err(StrategyError::InvalidRefreshToken) if users.refused_unverified() => {
            return Err(ApiError::BadRequest(ErrorCode::LoginUserNotVerified));
        }
        Err(StrategyError::InvalidRefreshToken | StrategyError::RefreshTokenReused) => {
            return Err(ApiError::BadRequest(ErrorCode::RefreshTokenInvalid));
        }
        Err(e) => return Err(ApiError::from(e)),
    };
    let access = backend.strategy.write_token(&exchanged.user).await?;
    // A logout or the end of all of the user's sessions that ran while the access token was
    // written revoked the strategy's tokens before this one existed: hand out neither token.
    if let Err(error) = flow.link_issued(&exchanged, &access).await {
        withdraw(backend, &exchanged.user, &access, None).await;
        return Err(match error {
            StrategyError::InvalidRefreshToken => {
                ApiError::BadRequest(ErrorCode::RefreshTokenInvalid)
            }
            e => ApiError::from(e),
        });
    }
    Ok(issued_with_refresh(
        backend,
        flow.as_ref(),
        parts,
        "/refresh",
        &access,
        &exchanged.token,
    ))
}

#[tracing::instrument(level = "debug", name = "authward.sessions", skip_all)]
async fn sessions<DB: HttpUserDb>(
    aw: &Authward<DB>,
    index: usize,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let found = aw.signed_in(parts, false).await?;
    let Some(lister) = &aw.inner.backends[index].sessions else {
        return Err(ApiError::NotFound);
    };
    let list = lister.list_sessions(found.user.id()).await?;
    let entries: Vec<SessionEntry> = list.iter().map(SessionEntry::from).collect();
    // Through a JSON value, whose objects keep their keys in alphabetical order, as every JSON
    // body of authward's routes (`created_at`, `expires_at`, `id`). Cannot fail: strings and
    // integers only.
    let body = serde_json::to_value(entries).map_err(|_| ApiError::Internal)?;
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}

#[cfg(test)]
mod tests {
    use authward_core::TokenDigest;
    use authward_core::strategy::Session;
    use time::OffsetDateTime;

    use super::SessionEntry;

    #[test]
    fn a_session_entry_has_its_keys_in_alphabetical_order() {
        let at = |secs| OffsetDateTime::from_unix_timestamp(secs).expect("valid time");
        let session = |expires_at| Session {
            id: TokenDigest::from_stored([0xab; 32]),
            created_at: at(1_700_000_000),
            expires_at,
        };
        let body = |session: &Session| {
            serde_json::to_value(SessionEntry::from(session))
                .expect("entry serializes")
                .to_string()
        };
        let id = "ab".repeat(32);
        assert_eq!(
            body(&session(None)),
            format!(r#"{{"created_at":1700000000,"expires_at":null,"id":"{id}"}}"#)
        );
        assert_eq!(
            body(&session(Some(at(1_700_003_600)))),
            format!(r#"{{"created_at":1700000000,"expires_at":1700003600,"id":"{id}"}}"#)
        );
    }
}
