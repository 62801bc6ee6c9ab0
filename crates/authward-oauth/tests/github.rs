//! The GitHub preset (OAuth2 without OpenID Connect) against a small axum stub speaking
//! GitHub's shapes: authorize, the token endpoint (with PKCE), `/user` and `/user/emails`.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use authward_oauth::{GitHubProvider, LoginOptions};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine as _;
use common::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const CLIENT_ID: &str = "Iv1.stub-client";
const CLIENT_SECRET: &str = "stub-secret";
const LOGIN: &str = "/auth/github";

/// A GitHub account of the stub.
#[derive(Clone)]
struct Account {
    id: u64,
    /// `(email, primary, verified)`.
    emails: Vec<(String, bool, bool)>,
}

struct Pending {
    challenge: String,
    redirect_uri: String,
    login: String,
}

#[derive(Default)]
struct Stub {
    accounts: Mutex<HashMap<String, Account>>,
    codes: Mutex<HashMap<String, Pending>>,
    tokens: Mutex<HashMap<String, String>>,
    token_requests: Mutex<u64>,
}

async fn authorize(
    State(stub): State<Arc<Stub>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || q.get("code_challenge_method").map(String::as_str) != Some("S256")
    {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    let redirect_uri = q["redirect_uri"].clone();
    stub.codes.lock().unwrap().insert(
        code.clone(),
        Pending {
            challenge: q["code_challenge"].clone(),
            redirect_uri: redirect_uri.clone(),
            login: q["login"].clone(),
        },
    );
    Redirect::to(&format!(
        "{redirect_uri}?code={code}&state={}",
        enc(&q["state"])
    ))
    .into_response()
}

async fn access_token(
    State(stub): State<Arc<Stub>>,
    Form(form): Form<HashMap<String, String>>,
) -> Json<Value> {
    *stub.token_requests.lock().unwrap() += 1;
    // GitHub answers refusals with 200 and an error body.
    let refuse = |error: &str| Json(json!({"error": error, "error_description": "stub"}));
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return refuse("incorrect_client_credentials");
    }
    let Some(pending) = form
        .get("code")
        .and_then(|c| stub.codes.lock().unwrap().remove(c))
    else {
        return refuse("bad_verification_code");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    if challenge != pending.challenge || form.get("redirect_uri") != Some(&pending.redirect_uri) {
        return refuse("bad_verification_code");
    }
    let token = format!("gho_{}", uuid::Uuid::new_v4().simple());
    stub.tokens
        .lock()
        .unwrap()
        .insert(token.clone(), pending.login);
    Json(json!({"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}))
}

fn account_of(stub: &Stub, headers: &HeaderMap) -> Option<Account> {
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?
        .to_owned();
    let login = stub.tokens.lock().unwrap().get(&token)?.clone();
    stub.accounts.lock().unwrap().get(&login).cloned()
}

async fn user(State(stub): State<Arc<Stub>>, headers: HeaderMap) -> Response {
    match account_of(&stub, &headers) {
        Some(account) => {
            Json(json!({"id": account.id, "login": "someone", "email": null})).into_response()
        }
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn emails(State(stub): State<Arc<Stub>>, headers: HeaderMap) -> Response {
    match account_of(&stub, &headers) {
        Some(account) => Json(
            account
                .emails
                .iter()
                .map(|(email, primary, verified)| {
                    json!({"email": email, "primary": primary, "verified": verified, "visibility": null})
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// Serves the stub on a loopback port; returns it and its base URL.
async fn serve_stub() -> (Arc<Stub>, String) {
    let stub = Arc::new(Stub::default());
    let app = Router::new()
        .route("/login/oauth/authorize", get(authorize))
        .route("/login/oauth/access_token", post(access_token))
        .route("/api/user", get(user))
        .route("/api/user/emails", get(emails))
        .with_state(stub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (stub, base)
}

async fn setup(configure: impl FnOnce(LoginOptions) -> LoginOptions) -> (Arc<Stub>, TestApp) {
    setup_with(Backend::Bearer, configure).await
}

fn stub_provider(base: &str) -> GitHubProvider {
    GitHubProvider::new(CLIENT_ID, CLIENT_SECRET)
        .with_endpoints(
            &format!("{base}/login/oauth/authorize"),
            &format!("{base}/login/oauth/access_token"),
        )
        .unwrap()
        .with_api_base_url(&format!("{base}/api"))
        .unwrap()
}

async fn setup_with(
    backend: Backend,
    configure: impl FnOnce(LoginOptions) -> LoginOptions,
) -> (Arc<Stub>, TestApp) {
    let (stub, base) = serve_stub().await;
    let app = build_app(Arc::new(stub_provider(&base)), backend, configure, false);
    (stub, app)
}

fn add_account(stub: &Stub, login: &str, id: u64, emails: &[(&str, bool, bool)]) {
    stub.accounts.lock().unwrap().insert(
        login.to_owned(),
        Account {
            id,
            emails: emails
                .iter()
                .map(|(e, p, v)| ((*e).to_owned(), *p, *v))
                .collect(),
        },
    );
}

async fn login(app: &TestApp, login: &str) -> Reply {
    let (url, csrf) = app.authorize(LOGIN, None).await;
    let back = visit(&format!("{url}&login={login}")).await;
    let (code, state) = (
        param(&back, "code").unwrap(),
        param(&back, "state").unwrap(),
    );
    app.callback(LOGIN, &code, &state, Some(&csrf), None).await
}

#[tokio::test]
async fn the_primary_verified_email_signs_up() {
    let (stub, app) = setup(|o| o.is_verified_by_default(true)).await;
    add_account(
        &stub,
        "octocat",
        583231,
        &[
            ("secondary@example.com", false, true),
            ("Octo.Cat@Example.com", true, true),
        ],
    );
    let (url, _) = app.authorize(LOGIN, None).await;
    assert_eq!(
        param(&url, "scope").as_deref(),
        Some("read:user user:email")
    );
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(
        param(&url, "nonce").is_none(),
        "no nonce for a non-OIDC provider"
    );

    let reply = login(&app, "octocat").await;
    let me = app.me(&app.auth_from(&reply)).await;
    assert_eq!(me.body["email"], "Octo.Cat@Example.com");
    assert_eq!(me.body["is_verified"], true);
    let id = uuid::Uuid::parse_str(me.body["id"].as_str().unwrap()).unwrap();
    let accounts = app.aw.manager().oauth_accounts(&id).await.unwrap();
    assert_eq!(accounts[0].oauth_name, "github");
    assert_eq!(accounts[0].account_id, "583231");
    assert!(accounts[0].access_token.starts_with("gho_"));
    assert_eq!(*stub.token_requests.lock().unwrap(), 1);
}

#[tokio::test]
async fn an_unverified_primary_email_neither_verifies_nor_associates() {
    let (stub, app) = setup(|o| o.is_verified_by_default(true).associate_by_email(true)).await;
    add_account(&stub, "newbie", 1, &[("newbie@example.com", true, false)]);
    let reply = login(&app, "newbie").await;
    let me = app.me(&app.auth_from(&reply)).await;
    assert_eq!(me.body["is_verified"], false);

    app.password_user("owner@example.com", true).await;
    add_account(&stub, "squatter", 2, &[("owner@example.com", true, false)]);
    let reply = login(&app, "squatter").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, json!({"detail": "OAUTH_USER_ALREADY_EXISTS"}));
}

#[tokio::test]
async fn no_primary_email_is_not_available() {
    let (stub, app) = setup(|o| o).await;
    add_account(&stub, "ghost", 3, &[("other@example.com", false, true)]);
    let reply = login(&app, "ghost").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, json!({"detail": "OAUTH_NOT_AVAILABLE_EMAIL"}));
}

#[tokio::test]
async fn a_refused_exchange_is_a_400_and_forged_states_never_reach_it() {
    let (stub, app) = setup(|o| o).await;
    add_account(&stub, "octocat", 4, &[("o@example.com", true, true)]);
    let (url, csrf) = app.authorize(LOGIN, None).await;
    let back = visit(&format!("{url}&login=octocat")).await;
    let (code, state) = (
        param(&back, "code").unwrap(),
        param(&back, "state").unwrap(),
    );
    // Forged state: nothing reaches the token endpoint.
    let forged = app
        .callback(LOGIN, &code, "forged", Some(&csrf), None)
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    assert_eq!(*stub.token_requests.lock().unwrap(), 0);
    // The code of another state: GitHub's 200-with-error answer becomes a 400.
    let (other_url, other_csrf) = app.authorize(LOGIN, None).await;
    let other_state = param(&other_url, "state").unwrap();
    let reply = app
        .callback(LOGIN, &code, &other_state, Some(&other_csrf), None)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, json!({"detail": "bad_verification_code"}));
    assert_eq!(*stub.token_requests.lock().unwrap(), 1);
    // The code was consumed by that attempt, as GitHub does.
    let reply = app.callback(LOGIN, &code, &state, Some(&csrf), None).await;
    assert_eq!(reply.body, json!({"detail": "bad_verification_code"}));
}

#[tokio::test]
async fn an_oauth_login_scopes_the_refresh_cookie_where_refresh_and_logout_clear_it() {
    let (stub, app) = setup_with(Backend::CookieRefresh, |o| o.is_verified_by_default(true)).await;
    add_account(&stub, "octocat", 7, &[("octo@example.com", true, true)]);
    let reply = login(&app, "octocat").await;
    let refreshed = app.refresh_with_cookie(&reply).await;
    let auth = refreshed.cookie("fastapiusersauth").unwrap();
    let rotated = refreshed.cookie("fastapiusersrefresh").unwrap();

    let out = app
        .call(cookie_request(
            &format!("{REFRESH_MOUNT}/logout"),
            &[
                ("fastapiusersauth", &auth),
                ("fastapiusersrefresh", &rotated),
            ],
        ))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{:?}", out.body);
    let cleared = set_cookie_of(&out, "fastapiusersrefresh");
    assert!(
        cleared.contains(&format!("Path={REFRESH_MOUNT};")),
        "{cleared}"
    );
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = app
        .call(cookie_request(
            &format!("{REFRESH_MOUNT}/refresh"),
            &[("fastapiusersrefresh", &rotated)],
        ))
        .await;
    assert_eq!(after.status, StatusCode::BAD_REQUEST, "revoked at logout");
}

#[tokio::test]
async fn a_cookie_backend_with_refresh_and_no_refresh_path_cannot_serve_an_oauth_login() {
    use authward_axum::{Authward, AuthwardConfig};
    use authward_core::UserManager;

    let manager = UserManager::builder(Db::new(), SECRET)
        .password_helper(fast_passwords())
        .build()
        .unwrap();
    let backends = vec![cookie_refresh_backend(None)];
    let aw = Authward::new(manager, backends, AuthwardConfig::default()).unwrap();
    let oauth = authward_oauth::OAuth::new(aw, STATE_SECRET).unwrap();
    let provider = Arc::new(stub_provider("http://127.0.0.1:9"));
    let options = LoginOptions::new("cookie-refresh", format!("{APP}/auth/github/callback"));
    let err = oauth.login_router(provider.clone(), options).unwrap_err();
    assert!(
        matches!(&err, authward_oauth::OAuthConfigError::RefreshPathUnset(name) if name == "cookie-refresh"),
        "{err}"
    );
    // With the path set, the same backend is accepted.
    let manager = UserManager::builder(Db::new(), SECRET)
        .password_helper(fast_passwords())
        .build()
        .unwrap();
    let backends = vec![cookie_refresh_backend(Some(REFRESH_MOUNT))];
    let aw = Authward::new(manager, backends, AuthwardConfig::default()).unwrap();
    let oauth = authward_oauth::OAuth::new(aw, STATE_SECRET).unwrap();
    let options = LoginOptions::new("cookie-refresh", format!("{APP}/auth/github/callback"));
    assert!(oauth.login_router(provider, options).is_ok());
}

#[tokio::test]
async fn callbacks_are_throttled_per_client_before_any_state_is_recorded() {
    use authward_axum::{Authward, AuthwardConfig, RouteClass, RouteLimits, ThrottleConfig};
    use authward_core::UserManager;
    use authward_core::throttle::{Limit, MemoryThrottle};
    use axum::extract::ConnectInfo;

    let manager = UserManager::builder(Db::new(), SECRET)
        .password_helper(fast_passwords())
        .build()
        .unwrap();
    let backend = cookie_refresh_backend(Some(REFRESH_MOUNT));
    let throttle = ThrottleConfig {
        per_client: RouteLimits::per_client_defaults().with(
            RouteClass::OAuthCallback,
            Some(Limit::new(2, std::time::Duration::from_secs(60))),
        ),
        ..ThrottleConfig::new(MemoryThrottle::new())
    };
    let config = AuthwardConfig {
        throttle: Some(throttle),
        ..AuthwardConfig::default()
    };
    let aw = Authward::new(manager, vec![backend], config).unwrap();
    let oauth = authward_oauth::OAuth::new(aw, STATE_SECRET).unwrap();
    let options = LoginOptions::new("cookie-refresh", format!("{APP}/auth/github/callback"));
    let router = axum::Router::new().nest(
        LOGIN,
        oauth
            .login_router(Arc::new(stub_provider("http://127.0.0.1:9")), options)
            .unwrap(),
    );
    let from = |peer: &str| {
        let mut request = common::get(&format!("{LOGIN}/callback?code=c&state=s"), None, None);
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    };
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(send(&router, from("203.0.113.7:4000")).await.status);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::BAD_REQUEST,
            StatusCode::BAD_REQUEST,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let other = send(&router, from("198.51.100.9:4000")).await;
    assert_eq!(
        other.status,
        StatusCode::BAD_REQUEST,
        "another client's budget"
    );
}

#[tokio::test]
async fn a_state_lifetime_past_the_calendar_signs_in_instead_of_panicking() {
    let (stub, base) = serve_stub().await;
    let app = build_app_with_oauth(
        Arc::new(stub_provider(&base)),
        Backend::Bearer,
        |o| o.is_verified_by_default(true),
        false,
        |oauth| oauth.state_lifetime(time::Duration::MAX),
    );
    add_account(
        &stub,
        "timeless",
        77,
        &[("timeless@example.com", true, true)],
    );
    let reply = login(&app, "timeless").await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let me = app.me(&app.auth_from(&reply)).await;
    assert_eq!(me.body["email"], "timeless@example.com");
}
