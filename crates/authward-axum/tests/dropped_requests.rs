//! Requests whose client goes away midway: once a logout has started, it runs to its end, so
//! a dropped request never leaves the refresh tokens ended and the access token alive.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use authward_axum::{AuthBackend, Authward, AuthwardConfig, BearerTransport, Transport};
use authward_core::memory::{MemoryAccessTokenDatabase, MemoryUserDatabase};
use authward_core::strategy::{DatabaseStrategy, RefreshTokens};
use authward_core::token::{AccessToken, NewAccessToken, TokenDigest};
use authward_core::{AccessTokenDatabase, DbError, UserManager};
use axum::Router;
use axum::http::StatusCode;
use common::*;
use serde_json::json;
use time::{Duration, OffsetDateTime};
use tokio::sync::Notify;
use uuid::Uuid;

/// Holds the next `delete` of a token store, once armed, until the test opens it.
#[derive(Default)]
struct Gate {
    armed: AtomicBool,
    reached: Notify,
    open: Notify,
    finished: Notify,
}

/// The memory token store, with a [`Gate`] on `delete`.
#[derive(Clone)]
struct GatedTokens {
    inner: MemoryAccessTokenDatabase<Uuid>,
    gate: Arc<Gate>,
}

#[async_trait]
impl AccessTokenDatabase<Uuid> for GatedTokens {
    async fn get_by_token(
        &self,
        digest: &TokenDigest,
        max_age: Option<OffsetDateTime>,
    ) -> Result<Option<AccessToken<Uuid>>, DbError> {
        self.inner.get_by_token(digest, max_age).await
    }
    async fn create(&self, token: NewAccessToken<Uuid>) -> Result<AccessToken<Uuid>, DbError> {
        self.inner.create(token).await
    }
    async fn delete(&self, digest: &TokenDigest) -> Result<bool, DbError> {
        let gated = self.gate.armed.swap(false, Ordering::SeqCst);
        if gated {
            self.gate.reached.notify_one();
            self.gate.open.notified().await;
        }
        let deleted = self.inner.delete(digest).await;
        if gated {
            self.gate.finished.notify_one();
        }
        deleted
    }
    async fn delete_all_for_user(&self, user_id: &Uuid) -> Result<u64, DbError> {
        self.inner.delete_all_for_user(user_id).await
    }
    async fn list_for_user(&self, user_id: &Uuid) -> Result<Vec<AccessToken<Uuid>>, DbError> {
        self.inner.list_for_user(user_id).await
    }
    async fn delete_expired(&self, created_before: OffsetDateTime) -> Result<u64, DbError> {
        self.inner.delete_expired(created_before).await
    }
}

/// Database access tokens in the gated store, with refresh tokens, behind the real routers.
fn gated_app(gate: Arc<Gate>) -> Router {
    let access = DatabaseStrategy::new(
        GatedTokens {
            inner: MemoryAccessTokenDatabase::new(),
            gate,
        },
        Some(Duration::hours(1)),
    );
    let refresh = RefreshTokens::new(MemoryAccessTokenDatabase::<Uuid>::new(), Duration::days(7));
    let manager = UserManager::builder(MemoryUserDatabase::<Uuid>::new(), SECRET)
        .password_helper(fast_passwords())
        .build()
        .unwrap();
    let backend = AuthBackend::new(
        "jwt",
        Transport::Bearer(BearerTransport::new("auth/jwt/login")),
        Arc::new(access),
    )
    .with_refresh_arc(Arc::new(refresh));
    let aw = Authward::new(manager, vec![backend], AuthwardConfig::default()).unwrap();
    Router::new()
        .nest("/auth", aw.register_router())
        .nest("/auth/jwt", aw.auth_router("jwt"))
        .nest("/users", aw.users_router())
}

/// The logout's last step, ending the access token, is held at the store; the client goes away
/// (its request future is dropped) after the refresh family has been ended. The logout still
/// ends the access token once the store answers.
#[tokio::test]
async fn a_logout_whose_client_goes_away_midway_still_ends_the_access_token() {
    let gate = Arc::new(Gate::default());
    let router = gated_app(gate.clone());
    let registered = send(
        &router,
        json(
            "POST",
            "/auth/register",
            &json!({"email": "enide@camelot.bt", "password": "correct horse battery"}),
        ),
    )
    .await;
    assert_eq!(registered.status, StatusCode::CREATED);
    let login = send(
        &router,
        form(
            "/auth/jwt/login",
            "username=enide%40camelot.bt&password=correct+horse+battery",
        ),
    )
    .await;
    assert_eq!(login.status, StatusCode::OK);
    let access = Auth::Bearer(login.body["access_token"].as_str().unwrap().to_owned());
    let refresh_token = login.body["refresh_token"].as_str().unwrap().to_owned();

    gate.armed.store(true, Ordering::SeqCst);
    let logout = send(
        &router,
        access.apply(json(
            "POST",
            "/auth/jwt/logout",
            &json!({"refresh_token": refresh_token}),
        )),
    );
    tokio::select! {
        reply = logout => panic!("the logout answered past its gate: {}", reply.status),
        () = gate.reached.notified() => {}
    }
    // The request future is gone: the client went away while its access token was being ended.
    gate.open.notify_one();
    tokio::time::timeout(std::time::Duration::from_secs(10), gate.finished.notified())
        .await
        .expect(
            "the logout stopped when its request was dropped: its access token was never ended",
        );

    let refreshed = send(&router, refresh_request(&refresh_token)).await;
    assert_eq!(
        refreshed.status,
        StatusCode::BAD_REQUEST,
        "the refresh family was ended before the gate"
    );
    let me = send(&router, access.apply(get("/users/me"))).await;
    assert_eq!(
        me.status,
        StatusCode::UNAUTHORIZED,
        "the access token of a logout that started is ended"
    );
}
