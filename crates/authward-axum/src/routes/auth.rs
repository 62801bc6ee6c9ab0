//! `/login`, `/logout` (FastAPI Users), plus `/refresh`, `/logout-all` and `/sessions`.

use authward_core::strategy::StrategyError;
use authward_core::{AuthUser, UserId};
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::body::{ApiJson, LoginForm};
use crate::error::{ApiError, ErrorCode};
use crate::errors_map;
use crate::extract::{AuthResolver, Requirements};
use crate::state::{Authward, ExtraFields, HttpUserDb, request_info};

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

impl<ID: UserId, X: ExtraFields, DB: HttpUserDb<ID, X>> Authward<ID, X, DB> {
    /// The auth router of the backend called `backend`: `POST /login`, `POST /logout`,
    /// `POST /logout-all`, and `POST /refresh` / `GET /sessions` when the backend has refresh
    /// tokens / session listing.
    ///
    /// # Panics
    /// When no backend has that name (a wiring mistake found at startup).
    pub fn auth_router(&self, backend: &str) -> Router {
        let index = self
            .inner
            .backends
            .iter()
            .position(|b| b.name == backend)
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
                post(move |State(aw): State<Self>, parts: Parts| async move {
                    logout(&aw, index, &parts).await
                }),
            )
            .route(
                "/logout-all",
                post(move |State(aw): State<Self>, parts: Parts| async move {
                    logout_all(&aw, index, &parts).await
                }),
            );
        if self.inner.backends[index].refresh.is_some() {
            router = router.route(
                "/refresh",
                post(
                    move |State(aw): State<Self>, ApiJson(body): ApiJson<RefreshBody>| async move {
                        refresh(&aw, index, body).await
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
        router
            .layer(axum::Extension(self.inner.body_limit))
            .with_state(self.clone())
    }

    fn requirements(&self) -> Requirements {
        Requirements {
            active: true,
            verified: self.inner.requires_verification,
            superuser: false,
        }
    }
}

#[tracing::instrument(level = "debug", name = "authward.login", skip_all)]
async fn login<ID: UserId, X: ExtraFields, DB: HttpUserDb<ID, X>>(
    aw: &Authward<ID, X, DB>,
    index: usize,
    parts: &Parts,
    form: LoginForm,
) -> Result<Response, ApiError> {
    let info = request_info(parts);
    let manager = &aw.inner.manager;
    let user = manager
        .authenticate(&form.username, &form.password, Some(&info))
        .await
        .map_err(|e| errors_map::manager(&e))?;
    let Some(user) = user.filter(|u| u.is_active()) else {
        return Err(ApiError::BadRequest(ErrorCode::LoginBadCredentials));
    };
    if aw.inner.requires_verification && !user.is_verified() {
        return Err(ApiError::BadRequest(ErrorCode::LoginUserNotVerified));
    }
    let backend = &aw.inner.backends[index];
    let response = match &backend.refresh {
        Some(refresh) => {
            let pair = refresh
                .login(&user)
                .await
                .map_err(|e| errors_map::strategy(&e))?;
            backend
                .transport
                .login_response(&pair.access_token, Some(&pair.refresh_token))
        }
        None => {
            let token = backend
                .strategy
                .write_token(&user)
                .await
                .map_err(|e| errors_map::strategy(&e))?;
            backend.transport.login_response(&token, None)
        }
    };
    manager
        .after_login(&user, Some(&info))
        .await
        .map_err(|e| errors_map::manager(&e))?;
    Ok(response)
}

#[tracing::instrument(level = "debug", name = "authward.logout", skip_all)]
async fn logout<ID: UserId, X: ExtraFields, DB: HttpUserDb<ID, X>>(
    aw: &Authward<ID, X, DB>,
    index: usize,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let resolver = AuthResolver::from_ref(aw);
    let found = resolver.require(parts, aw.requirements()).await?;
    // The token is destroyed by the backend that accepted it (which may not be this route's),
    // so a logout always ends the session that was presented; the response is this route's.
    let issuer = &aw.inner.backends[found.backend];
    match issuer
        .strategy
        .destroy_token(&found.token, &found.user)
        .await
    {
        Ok(()) | Err(StrategyError::DestroyNotSupported) => {}
        Err(e) => return Err(errors_map::strategy(&e)),
    }
    Ok(aw.inner.backends[index].transport.logout_response())
}

#[tracing::instrument(level = "debug", name = "authward.logout_all", skip_all)]
async fn logout_all<ID: UserId, X: ExtraFields, DB: HttpUserDb<ID, X>>(
    aw: &Authward<ID, X, DB>,
    index: usize,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let resolver = AuthResolver::from_ref(aw);
    let found = resolver.require(parts, aw.requirements()).await?;
    aw.inner
        .manager
        .revoke_all_sessions(found.user.id())
        .await
        .map_err(|e| errors_map::manager(&e))?;
    Ok(aw.inner.backends[index].transport.logout_response())
}

#[tracing::instrument(level = "debug", name = "authward.refresh", skip_all)]
async fn refresh<ID: UserId, X: ExtraFields, DB: HttpUserDb<ID, X>>(
    aw: &Authward<ID, X, DB>,
    index: usize,
    body: RefreshBody,
) -> Result<Response, ApiError> {
    let backend = &aw.inner.backends[index];
    let Some(flow) = &backend.refresh else {
        return Err(ApiError::NotFound);
    };
    match flow
        .refresh(&body.refresh_token, aw.inner.manager.db())
        .await
    {
        Ok((_, pair)) => Ok(backend
            .transport
            .login_response(&pair.access_token, Some(&pair.refresh_token))),
        Err(StrategyError::InvalidRefreshToken | StrategyError::RefreshTokenReused) => {
            Err(ApiError::BadRequest(ErrorCode::RefreshTokenInvalid))
        }
        Err(e) => Err(errors_map::strategy(&e)),
    }
}

#[tracing::instrument(level = "debug", name = "authward.sessions", skip_all)]
async fn sessions<ID: UserId, X: ExtraFields, DB: HttpUserDb<ID, X>>(
    aw: &Authward<ID, X, DB>,
    index: usize,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let resolver = AuthResolver::from_ref(aw);
    let found = resolver.require(parts, aw.requirements()).await?;
    let Some(lister) = &aw.inner.backends[index].sessions else {
        return Err(ApiError::NotFound);
    };
    let list = lister
        .list_sessions(found.user.id())
        .await
        .map_err(|e| errors_map::strategy(&e))?;
    let body: Vec<_> = list
        .iter()
        .map(|s| {
            json!({
                "id": s.id.to_hex(),
                "created_at": s.created_at.unix_timestamp(),
                "expires_at": s.expires_at.map(|t| t.unix_timestamp()),
            })
        })
        .collect();
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}
