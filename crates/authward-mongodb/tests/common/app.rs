//! An authward HTTP app over MongoDB, driven in-process through the real routers, with a user
//! store that records every value it is asked to look up.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use authward_axum::{
    AuthBackend, Authward, AuthwardConfig, BearerTransport, CookieTransport, Transport,
};
use authward_core::strategy::{DatabaseStrategy, RefreshTokens};
use authward_core::{
    Argon2Hasher, DbError, NewUser, PasswordHelper, User, UserDatabase, UserManager, UserPatch,
};
use authward_mongodb::bson::oid::ObjectId;
use authward_mongodb::{MongoAccessTokenDatabase, MongoUserDatabase};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use time::Duration;
use tower::ServiceExt;

use super::Scratch;

pub type AppUser = User<ObjectId>;
pub const SECRET: &str = "0123456789abcdef0123456789abcdef-mongo-test";

/// The user store, recording every argument it receives (emails, IDs).
#[derive(Clone)]
pub struct Recording {
    pub inner: MongoUserDatabase<AppUser>,
    pub seen: Arc<Mutex<Vec<String>>>,
}

impl Recording {
    fn note(&self, value: impl Into<String>) {
        self.seen.lock().expect("lock").push(value.into());
    }
}

#[async_trait]
impl UserDatabase for Recording {
    type User = AppUser;
    type Extra = ();
    async fn get(&self, id: &ObjectId) -> Result<Option<AppUser>, DbError> {
        self.note(id.to_hex());
        self.inner.get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<AppUser>, DbError> {
        self.note(email);
        self.inner.get_by_email(email).await
    }
    async fn create(&self, user: NewUser<()>) -> Result<AppUser, DbError> {
        self.note(user.email.clone());
        self.inner.create(user).await
    }
    async fn update(&self, id: &ObjectId, patch: UserPatch<()>) -> Result<AppUser, DbError> {
        self.note(id.to_hex());
        if let Some(email) = &patch.email {
            self.note(email.clone());
        }
        self.inner.update(id, patch).await
    }
    async fn delete(&self, id: &ObjectId) -> Result<(), DbError> {
        self.note(id.to_hex());
        self.inner.delete(id).await
    }
}

pub struct MongoApp {
    pub router: Router,
    pub users: MongoUserDatabase<AppUser>,
    pub seen: Arc<Mutex<Vec<String>>>,
    pub scratch: Arc<Scratch>,
}

/// Bootstraps the stores in the scratch database and builds the app: backend `jwt` (bearer,
/// database strategy, refresh tokens, session list) and backend `cookie` (cookie transport,
/// same strategy and refresh tokens), with every router FastAPI Users mounts.
pub async fn app(scratch: &Arc<Scratch>) -> MongoApp {
    let users = MongoUserDatabase::<AppUser>::new(&scratch.db);
    users.bootstrap().await.expect("bootstrap users");
    let tokens = MongoAccessTokenDatabase::<ObjectId>::new(&scratch.db)
        .with_lifetime(Some(Duration::hours(1)));
    tokens.bootstrap().await.expect("bootstrap tokens");
    let refresh_store =
        MongoAccessTokenDatabase::<ObjectId>::with_collection(&scratch.db, "RefreshToken")
            .with_lifetime(Some(Duration::days(7)));
    refresh_store
        .bootstrap()
        .await
        .expect("bootstrap refresh tokens");

    let seen = Arc::new(Mutex::new(Vec::new()));
    let recording = Recording {
        inner: users.clone(),
        seen: Arc::clone(&seen),
    };
    let passwords = PasswordHelper::new(Argon2Hasher::new(64, 1, 1).expect("argon2 parameters"));
    let manager = UserManager::builder(recording, SECRET)
        .password_helper(passwords)
        .build()
        .expect("manager");
    let database = Arc::new(DatabaseStrategy::new(tokens, Some(Duration::hours(1))));
    let refresh = Arc::new(RefreshTokens::new(refresh_store, Duration::days(7)));
    let bearer = AuthBackend::new(
        "jwt",
        Transport::Bearer(BearerTransport::new("auth/jwt/login")),
        database.clone(),
    )
    .with_sessions(database.clone())
    .with_refresh_arc(refresh.clone());
    let cookie = AuthBackend::new(
        "cookie",
        Transport::Cookie(CookieTransport {
            max_age: Some(3600),
            ..CookieTransport::default()
        }),
        database,
    )
    .with_refresh_arc(refresh);
    let aw =
        Authward::new(manager, vec![bearer, cookie], AuthwardConfig::default()).expect("authward");
    let router = Router::new()
        .nest("/auth/jwt", aw.auth_router("jwt"))
        .nest("/auth/cookie", aw.auth_router("cookie"))
        .nest("/auth", aw.register_router())
        .nest("/auth", aw.reset_password_router())
        .nest("/auth", aw.verify_router())
        .nest("/users", aw.users_router());
    MongoApp {
        router,
        users,
        seen,
        scratch: Arc::clone(scratch),
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl MongoApp {
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible router");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, body }
    }

    /// Logs in through the bearer backend; the access token.
    pub async fn login(&self, email: &str, password: &str) -> Reply {
        let body = format!(
            "username={}&password={}",
            urlencode(email),
            urlencode(password)
        );
        self.send(form("/auth/jwt/login", &body)).await
    }

    pub async fn register(&self, email: &str, password: &str) -> Reply {
        self.send(json(
            "POST",
            "/auth/register",
            None,
            &serde_json::json!({ "email": email, "password": password }),
        ))
        .await
    }
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn json(method: &str, uri: &str, bearer: Option<&str>, body: &Value) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(token) = bearer {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::from(body.to_string())).expect("request")
}

pub fn form(uri: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .expect("request")
}

pub fn get(uri: &str, bearer: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().uri(uri);
    if let Some(token) = bearer {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::empty()).expect("request")
}
