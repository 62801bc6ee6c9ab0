//! `GET/PATCH /me`, `GET/PATCH/DELETE /{id}` (FastAPI Users), plus
//! `POST /me/change-password`.

use authward_core::manager::UserUpdate;
use authward_core::schema::UserSchema;
use authward_core::{AuthUser, ManagerError};
use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value;

use crate::body::ApiJson;
use crate::error::{ApiError, ErrorCode};
use crate::schema::user_update;
use crate::state::{Authward, HttpUserDb, request_info};
use crate::throttle::RouteClass;

/// The body of `POST /me/change-password`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct ChangePasswordBody {
    current_password: String,
    new_password: String,
}

impl<DB: HttpUserDb> Authward<DB> {
    /// `GET/PATCH /me`, `POST /me/change-password` and, for superusers,
    /// `GET/PATCH/DELETE /{id}`.
    pub fn users_router(&self) -> Router {
        self.finish_router(
            Router::new()
                .route(
                    "/me",
                    get(me::<DB>)
                        .patch(patch_me::<DB>)
                        // FastAPI routes `DELETE /me` to `DELETE /{id}` with id "me".
                        .delete(|state, parts| delete_user::<DB>(state, Path("me".into()), parts)),
                )
                .route("/me/change-password", post(change_password::<DB>))
                .route(
                    "/{id}",
                    get(get_user::<DB>)
                        .patch(patch_user::<DB>)
                        .delete(delete_user::<DB>),
                ),
        )
    }

    /// The route's own user: active, and verified when the application requires it.
    #[tracing::instrument(level = "debug", name = "authward.current", skip_all)]
    async fn current(&self, parts: &Parts) -> Result<DB::User, ApiError> {
        Ok(self.signed_in(parts, false).await?.user)
    }

    /// The user `id` names, for a superuser (401 / 403 for anybody else, then 404 when no
    /// user has that ID).
    #[tracing::instrument(level = "debug", name = "authward.target", skip_all)]
    async fn target(&self, parts: &Parts, id: &str) -> Result<DB::User, ApiError> {
        self.signed_in(parts, true).await?;
        let manager = &self.inner.manager;
        let id = manager.parse_id(id).map_err(|_| ApiError::NotFound)?;
        match manager.get(&id).await {
            Ok(user) => Ok(user),
            Err(ManagerError::UserNotExists) => Err(ApiError::NotFound),
            Err(e) => Err(ApiError::from(e)),
        }
    }

    #[tracing::instrument(level = "debug", name = "authward.apply_update", skip_all)]
    async fn apply_update(
        &self,
        parts: &Parts,
        update: UserUpdate<DB::Extra>,
        user: &DB::User,
        safe: bool,
    ) -> Result<Response, ApiError> {
        let info = request_info(parts);
        match self
            .inner
            .manager
            .update(update, user, safe, Some(&info))
            .await
        {
            Ok(user) => Ok(axum::Json(user.read()).into_response()),
            Err(ManagerError::UserAlreadyExists) => Err(ApiError::BadRequest(
                ErrorCode::UpdateUserEmailAlreadyExists,
            )),
            Err(ManagerError::InvalidPassword { reason }) => Err(ApiError::InvalidPassword {
                code: ErrorCode::UpdateUserInvalidPassword,
                reason,
            }),
            Err(ManagerError::UserNotExists) => Err(ApiError::NotFound),
            Err(e) => Err(ApiError::from(e)),
        }
    }
}

/// The route's own user (active; verified when the app requires it), resolved without
/// cloning the request.
struct Me<DB: HttpUserDb>(DB::User);

impl<DB: HttpUserDb> FromRequestParts<Authward<DB>> for Me<DB> {
    type Rejection = ApiError;

    #[tracing::instrument(level = "debug", name = "authward.from_request_parts", skip_all)]
    async fn from_request_parts(parts: &mut Parts, aw: &Authward<DB>) -> Result<Self, ApiError> {
        aw.current(parts).await.map(Me)
    }
}

#[tracing::instrument(level = "debug", name = "authward.me", skip_all)]
async fn me<DB: HttpUserDb>(Me(user): Me<DB>) -> Result<Response, ApiError> {
    Ok(axum::Json(user.read()).into_response())
}

#[tracing::instrument(level = "debug", name = "authward.patch_me", skip_all)]
async fn patch_me<DB: HttpUserDb>(
    State(aw): State<Authward<DB>>,
    parts: Parts,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let user = aw.current(&parts).await?;
    let update = user_update(body, &user, false)?;
    aw.apply_update(&parts, update, &user, true).await
}

#[tracing::instrument(level = "debug", name = "authward.change_password", skip_all)]
async fn change_password<DB: HttpUserDb>(
    State(aw): State<Authward<DB>>,
    parts: Parts,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> Result<Response, ApiError> {
    let user = aw.current(&parts).await?;
    // The current password is checked like a login's, under the login budget and its
    // delays after failures: a stolen access token must not make this a password oracle.
    aw.throttle(RouteClass::Login, &parts, Some(user.email()))
        .await?;
    let info = request_info(&parts);
    let manager = &aw.inner.manager;
    let checked = manager
        .authenticate(user.email(), &body.current_password, Some(&info))
        .await?;
    if checked.as_ref().map(AuthUser::id) != Some(user.id()) {
        aw.login_outcome(user.email(), false).await;
        return Err(ApiError::BadRequest(
            ErrorCode::ChangePasswordBadCurrentPassword,
        ));
    }
    aw.login_outcome(user.email(), true).await;
    let update = UserUpdate {
        password: Some(body.new_password),
        ..UserUpdate::default()
    };
    match manager.update(update, &user, true, Some(&info)).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(ManagerError::InvalidPassword { reason }) => Err(ApiError::InvalidPassword {
            code: ErrorCode::ChangePasswordInvalidPassword,
            reason,
        }),
        Err(e) => Err(ApiError::from(e)),
    }
}

#[tracing::instrument(level = "debug", name = "authward.get_user", skip_all)]
async fn get_user<DB: HttpUserDb>(
    State(aw): State<Authward<DB>>,
    Path(id): Path<String>,
    parts: Parts,
) -> Result<Response, ApiError> {
    let user = aw.target(&parts, &id).await?;
    Ok(axum::Json(user.read()).into_response())
}

#[tracing::instrument(level = "debug", name = "authward.patch_user", skip_all)]
async fn patch_user<DB: HttpUserDb>(
    State(aw): State<Authward<DB>>,
    Path(id): Path<String>,
    parts: Parts,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let user = aw.target(&parts, &id).await?;
    let update = user_update(body, &user, true)?;
    aw.apply_update(&parts, update, &user, false).await
}

#[tracing::instrument(level = "debug", name = "authward.delete_user", skip_all)]
async fn delete_user<DB: HttpUserDb>(
    State(aw): State<Authward<DB>>,
    Path(id): Path<String>,
    parts: Parts,
) -> Result<Response, ApiError> {
    let user = aw.target(&parts, &id).await?;
    let info = request_info(&parts);
    match aw.inner.manager.delete(&user, Some(&info)).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(ManagerError::UserNotExists) => Err(ApiError::NotFound),
        Err(e) => Err(ApiError::from(e)),
    }
}
