//! An application-defined user type (`Member`, not `User<ID, X>`) runs the full conformance
//! suites on the memory store and is served by the real axum routers; the application's
//! fields follow its declared shapes, so undeclared and privileged fields cannot be written
//! by mass assignment — for `Member` and for the ready-made `User<ID, X>`.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use authward_axum::{AuthBackend, Authward, AuthwardConfig, BearerTransport, Transport};
use authward_core::cache::CachedUserDatabase;
use authward_core::memory::{MemoryAccessTokenDatabase, MemoryUserDatabase, MemoryUsers};
use authward_core::schema::UserFields;
use authward_core::strategy::{JwtKey, JwtStrategy};
use authward_core::{Argon2Hasher, PasswordHelper, UserDatabase, UserManager};
use authward_testkit::{oauth_user_database_tests, user_database_tests};
use axum::Router;
use axum::http::StatusCode;
use common::http::{empty, form, json, send, urlencode, with};
use common::member::{Member, MemberFixture, Role};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

user_database_tests!(
    members,
    fixture = MemberFixture,
    db = MemoryUsers::<Member>::new()
);
oauth_user_database_tests!(
    member_oauth,
    fixture = MemberFixture,
    db = MemoryUsers::<Member>::new()
);
user_database_tests!(
    cached_members,
    fixture = MemberFixture,
    db = CachedUserDatabase::new(MemoryUsers::<Member>::new())
);

const SECRET: &str = "0123456789abcdef0123456789abcdef-test-secret";
const PASSWORD: &str = "correct horse battery";

/// The real routers over `users`, bearer JWT with a revocation store, mounted as FastAPI
/// Users' examples mount them; a superuser `admin@camelot.bt` exists.
async fn app<DB>(users: DB) -> (Router, Authward<DB>)
where
    DB: authward_axum::HttpUserDb<User: authward_core::AuthUser<Id = Uuid>>,
    DB::Extra: Default,
{
    let manager = UserManager::builder(users, SECRET)
        .password_helper(PasswordHelper::new(Argon2Hasher::new(64, 1, 1).unwrap()))
        .build()
        .unwrap();
    manager
        .create_superuser("admin@camelot.bt", PASSWORD)
        .await
        .unwrap();
    let jwt = JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), time::Duration::hours(1))
        .revocation_store(MemoryAccessTokenDatabase::<Uuid>::new())
        .build()
        .unwrap();
    let backend = AuthBackend::new(
        "jwt",
        Transport::Bearer(BearerTransport::new("auth/jwt/login")),
        Arc::new(jwt),
    );
    let aw = Authward::new(manager, vec![backend], AuthwardConfig::default()).unwrap();
    let router = Router::new()
        .nest("/auth/jwt", aw.auth_router("jwt"))
        .nest("/auth", aw.register_router())
        .nest("/auth", aw.reset_password_router())
        .nest("/auth", aw.verify_router())
        .nest("/users", aw.users_router());
    (router, aw)
}

async fn login(router: &Router, email: &str) -> String {
    let body = format!(
        "username={}&password={}",
        urlencode(email),
        urlencode(PASSWORD)
    );
    let reply = send(router, form("/auth/jwt/login", &body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    format!("Bearer {}", reply.body["access_token"].as_str().unwrap())
}

async fn call(
    router: &Router,
    bearer: &str,
    method: &str,
    uri: &str,
    body: Value,
) -> (StatusCode, Value) {
    let request = if body.is_null() {
        empty(method, uri)
    } else {
        json(method, uri, &body)
    };
    let reply = send(router, with(request, "authorization", bearer)).await;
    (reply.status, reply.body)
}

#[tokio::test]
async fn a_member_registers_logs_in_and_reads_itself_in_its_own_shape() {
    let users = MemoryUsers::<Member>::new();
    let (router, _) = app(users.clone()).await;
    let reply = send(
        &router,
        json(
            "POST",
            "/auth/register",
            &json!({"email": "Gawain@Orkney.bt", "password": PASSWORD, "display_name": "Gawain"}),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        reply.body,
        json!({"id": id, "email": "Gawain@Orkney.bt", "is_active": true, "is_superuser": false,
            "is_verified": false, "display_name": "Gawain", "role": "member", "plan": "free"})
    );
    let stored = users
        .get_by_email("gawain@orkney.bt")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.fields.display_name, "Gawain");

    let bearer = login(&router, "gawain@orkney.bt").await;
    let (status, me) = call(&router, &bearer, "GET", "/users/me", Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["display_name"], "Gawain");
    assert!(me.get("password_hash").is_none() && me.get("hashed_password").is_none());

    // The create shape requires the display name.
    let missing = send(
        &router,
        json(
            "POST",
            "/auth/register",
            &json!({"email": "nameless@orkney.bt", "password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        missing.body["detail"][0]["loc"],
        json!(["body", "display_name"])
    );

    // Logout ends the token.
    let (status, _) = call(&router, &bearer, "POST", "/auth/jwt/logout", Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&router, &bearer, "GET", "/users/me", Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn member_fields_cannot_be_mass_assigned() {
    let users = MemoryUsers::<Member>::new();
    let (router, _) = app(users.clone()).await;
    // Privileged and undeclared fields at registration are ignored.
    let reply = send(
        &router,
        json(
            "POST",
            "/auth/register",
            &json!({"email": "mordred@orkney.bt", "password": PASSWORD, "display_name": "Mordred",
                "role": "admin", "plan": "gold", "is_superuser": true, "is_verified": true,
                "is_active": false, "id": Uuid::nil()}),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["role"], "member");
    assert_eq!(reply.body["plan"], "free");
    assert_eq!(reply.body["is_superuser"], false);
    assert_ne!(reply.body["id"], json!(Uuid::nil()));
    let id = reply.body["id"].as_str().unwrap().to_owned();

    // PATCH /users/me: role and plan are readable but not self-updatable; only the display
    // name is.
    let bearer = login(&router, "mordred@orkney.bt").await;
    let (status, body) = call(
        &router,
        &bearer,
        "PATCH",
        "/users/me",
        json!({"role": "admin", "plan": "gold", "is_superuser": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    assert_eq!(
        (body["role"].clone(), body["plan"].clone()),
        (json!("member"), json!("free"))
    );
    assert_eq!(body["is_superuser"], false);
    let (status, body) = call(
        &router,
        &bearer,
        "PATCH",
        "/users/me",
        json!({"display_name": "Sir Mordred", "role": "admin"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["display_name"], "Sir Mordred");
    assert_eq!(body["role"], "member");
    let stored = users
        .get_by_email("mordred@orkney.bt")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.fields.role, Role::Member);
    assert_eq!(stored.fields.plan, "free");
    assert!(!stored.admin);

    // A superuser may set them.
    let admin = login(&router, "admin@camelot.bt").await;
    let (status, body) = call(
        &router,
        &admin,
        "PATCH",
        &format!("/users/{id}"),
        json!({"role": "admin", "plan": "gold"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    assert_eq!(
        (body["role"].clone(), body["plan"].clone()),
        (json!("admin"), json!("gold"))
    );
    assert_eq!(body["display_name"], "Sir Mordred", "untouched fields stay");
    let stored = users
        .get_by_email("mordred@orkney.bt")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.fields.role, Role::Admin);

    // A wrongly typed declared field is a 422, not a silent default.
    let (status, body) = call(
        &router,
        &admin,
        "PATCH",
        &format!("/users/{id}"),
        json!({"role": "emperor"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:?}");
}

/// The ready-made `User<Uuid, Profile>`: registration may set the nickname, the user may change
/// it, only a superuser may set the role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Profile {
    nickname: String,
    role: String,
}

#[derive(Deserialize)]
struct Nickname {
    nickname: Option<String>,
}

#[derive(Deserialize)]
struct AdminProfile {
    nickname: Option<String>,
    role: Option<String>,
}

impl UserFields for Profile {
    type Create = Nickname;
    type Update = Nickname;
    type AdminUpdate = AdminProfile;

    fn from_create(fields: Nickname) -> Self {
        Profile {
            nickname: fields.nickname.unwrap_or_default(),
            role: "reader".into(),
        }
    }
    fn apply_update(&mut self, fields: Nickname) -> bool {
        fields.nickname.map(|n| self.nickname = n).is_some()
    }
    fn apply_admin_update(&mut self, fields: AdminProfile) -> bool {
        let nickname = fields.nickname.map(|n| self.nickname = n).is_some();
        fields.role.map(|r| self.role = r).is_some() || nickname
    }
}

#[tokio::test]
async fn ready_made_user_fields_cannot_be_mass_assigned() {
    let users = MemoryUserDatabase::<Uuid, Profile>::new();
    let (router, _) = app(users.clone()).await;
    let reply = send(
        &router,
        json(
            "POST",
            "/auth/register",
            &json!({"email": "kay@camelot.bt", "password": PASSWORD, "nickname": "Kay",
                "role": "admin", "undeclared": "x"}),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["role"], "reader");
    assert_eq!(reply.body["nickname"], "Kay");
    assert!(reply.body.get("undeclared").is_none());
    let id = reply.body["id"].as_str().unwrap().to_owned();

    let bearer = login(&router, "kay@camelot.bt").await;
    let (status, body) = call(
        &router,
        &bearer,
        "PATCH",
        "/users/me",
        json!({"role": "admin", "nickname": "Sir Kay"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["role"].clone(), body["nickname"].clone()),
        (json!("reader"), json!("Sir Kay"))
    );
    let stored = users.get_by_email("kay@camelot.bt").await.unwrap().unwrap();
    assert_eq!(stored.extra.role, "reader");

    let admin = login(&router, "admin@camelot.bt").await;
    let (status, body) = call(
        &router,
        &admin,
        "PATCH",
        &format!("/users/{id}"),
        json!({"role": "admin"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    assert_eq!(body["role"], "admin");
    assert_eq!(body["nickname"], "Sir Kay");
}
