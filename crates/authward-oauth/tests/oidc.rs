//! The OAuth routes against a real OpenID Connect provider (scripts/oidc/provider.mjs, started
//! by scripts/services.sh): AUTHWARD_TEST_OIDC_ISSUER. Each test registers its own client, so
//! the provider's per-client counter of token requests proves when no exchange happened.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use authward_core::{OAuthUserDatabase, UserDatabase, UserPatch};
use authward_oauth::{LoginOptions, MemoryStateStore, OidcProvider, STATE_AUDIENCE};
use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};

const PROVIDER: &str = "oidc";
const LOGIN: &str = "/auth/oidc";
const ASSOCIATE: &str = "/auth/associate/oidc";

/// A client registered at the test provider.
struct Client {
    issuer: String,
    id: String,
    secret: String,
}

impl Client {
    async fn register(issuer: &str) -> Self {
        let response = reqwest::Client::new()
            .post(format!("{issuer}/reg"))
            .json(&json!({
                "redirect_uris": [
                    format!("{APP}{LOGIN}/callback"),
                    format!("{APP}{ASSOCIATE}/callback"),
                ],
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "client registration");
        let body: Value = response.json().await.unwrap();
        Self {
            issuer: issuer.to_owned(),
            id: body["client_id"].as_str().unwrap().to_owned(),
            secret: body["client_secret"].as_str().unwrap().to_owned(),
        }
    }

    /// Requests that reached the provider's token endpoint for this client.
    async fn token_requests(&self) -> u64 {
        let body: Value = reqwest::get(format!(
            "{}/__test/stats?client_id={}",
            self.issuer,
            enc(&self.id)
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        body["token_requests"].as_u64().unwrap()
    }

    fn provider(&self) -> OidcProvider {
        OidcProvider::new(PROVIDER, &self.issuer, &self.id, Some(self.secret.clone())).unwrap()
    }
}

struct Fixture {
    app: TestApp,
    client: Client,
}

async fn fixture_with(
    backend: Backend,
    configure: impl FnOnce(LoginOptions) -> LoginOptions,
    requires_verification: bool,
) -> Option<Fixture> {
    let issuer = authward_testkit::service_url("AUTHWARD_TEST_OIDC_ISSUER")?;
    let client = Client::register(issuer.trim_end_matches('/')).await;
    let provider = client.provider();
    provider.discover().await.unwrap();
    let app = build_app(
        Arc::new(provider),
        backend,
        configure,
        requires_verification,
    );
    Some(Fixture { app, client })
}

async fn fixture(backend: Backend) -> Option<Fixture> {
    fixture_with(backend, |o| o, false).await
}

impl Fixture {
    /// authorize → provider (as `login_hint`) → back: `(code, state, csrf)`.
    async fn through_provider(
        &self,
        prefix: &str,
        login_hint: &str,
        auth: Option<&Auth>,
    ) -> (String, String, String) {
        let (url, csrf) = self.app.authorize(prefix, auth).await;
        let back = visit(&format!("{url}&login_hint={}", enc(login_hint))).await;
        let code = param(&back, "code").unwrap_or_else(|| panic!("no code: {back}"));
        let state = param(&back, "state").unwrap();
        (code, state, csrf)
    }

    /// The whole login: authorize → provider → callback.
    async fn login(&self, login_hint: &str) -> Reply {
        let (code, state, csrf) = self.through_provider(LOGIN, login_hint, None).await;
        self.app
            .callback(LOGIN, &code, &state, Some(&csrf), None)
            .await
    }
}

fn sign_state(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn detail(reply: &Reply) -> &str {
    reply.body["detail"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn full_flow_with_bearer() {
    let Some(f) = fixture(Backend::Bearer).await else {
        return;
    };
    let sub = unique();
    let email = format!("Percival.{sub}@Example.com");
    let (url, csrf) = f.app.authorize(LOGIN, None).await;
    // The URL carries PKCE S256, a nonce, the configured redirect URL and the state.
    assert!(url.starts_with(&f.client.issuer));
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(param(&url, "code_challenge").map(|c| c.len()), Some(43));
    assert!(param(&url, "nonce").is_some());
    assert_eq!(
        param(&url, "redirect_uri"),
        Some(format!("{APP}{LOGIN}/callback"))
    );
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    let scope = param(&url, "scope").unwrap();
    for s in ["openid", "email", "profile"] {
        assert!(scope.split(' ').any(|x| x == s), "{scope}");
    }
    assert_eq!(csrf.len(), 43);
    let back = visit(&format!(
        "{url}&login_hint={}",
        enc(&hint(&sub, &email, true))
    ))
    .await;
    let (code, state) = (
        param(&back, "code").unwrap(),
        param(&back, "state").unwrap(),
    );
    assert_eq!(param(&url, "state").as_deref(), Some(state.as_str()));

    let reply = f
        .app
        .callback(LOGIN, &code, &state, Some(&csrf), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["token_type"], "bearer");
    assert_csrf_cleared(&reply);
    assert_eq!(f.client.token_requests().await, 1);
    let auth = f.app.auth_from(&reply);
    let me = f.app.me(&auth).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], email);
    assert_eq!(
        me.body["is_verified"], false,
        "is_verified_by_default is off"
    );
    assert!(me.body.get("oauth_accounts").is_none());
    let text = me.body.to_string() + &reply.body.to_string();

    // The provider tokens: encrypted in the store, absent from every response, and the real
    // ones once decrypted (the provider's userinfo accepts the access token).
    let id = uuid::Uuid::parse_str(me.body["id"].as_str().unwrap()).unwrap();
    let stored = f.app.users.oauth_accounts(&id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].oauth_name, PROVIDER);
    assert_eq!(stored[0].account_id, sub);
    assert!(stored[0].access_token.starts_with("awpt.v1."));
    assert!(stored[0].expires_at.is_some());
    let accounts = f.app.aw.manager().oauth_accounts(&id).await.unwrap();
    let access = &accounts[0].access_token;
    assert!(!text.contains(access.as_str()));
    let userinfo = reqwest::Client::new()
        .get(format!("{}/me", f.client.issuer))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);
    let info: Value = userinfo.json().await.unwrap();
    assert_eq!(info["sub"], sub);
}

#[tokio::test]
async fn full_flow_with_cookie() {
    let Some(f) = fixture(Backend::Cookie).await else {
        return;
    };
    let sub = unique();
    let email = format!("{sub}@example.com");
    let reply = f.login(&hint(&sub, &email, true)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    assert_csrf_cleared(&reply);
    let auth = f.app.auth_from(&reply);
    let me = f.app.me(&auth).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], email);
}

#[tokio::test]
async fn full_flow_with_cookie_and_refresh_tokens() {
    let Some(f) = fixture(Backend::CookieRefresh).await else {
        return;
    };
    let sub = unique();
    let reply = f
        .login(&hint(&sub, &format!("{sub}@example.com"), true))
        .await;
    let refreshed = f.app.refresh_with_cookie(&reply).await;
    let auth = Auth::Cookie(refreshed.cookie("fastapiusersauth").unwrap());
    assert_eq!(f.app.me(&auth).await.status, StatusCode::OK);
}

#[tokio::test]
async fn is_verified_by_default_with_a_verified_provider_email() {
    let Some(f) = fixture_with(Backend::Bearer, |o| o.is_verified_by_default(true), false).await
    else {
        return;
    };
    let sub = unique();
    let reply = f
        .login(&hint(&sub, &format!("{sub}@example.com"), true))
        .await;
    let me = f.app.me(&f.app.auth_from(&reply)).await;
    assert_eq!(me.body["is_verified"], true);
    let other = unique();
    let reply = f
        .login(&hint(&other, &format!("{other}@example.com"), false))
        .await;
    let me = f.app.me(&f.app.auth_from(&reply)).await;
    assert_eq!(me.body["is_verified"], false, "the provider did not vouch");
}

#[tokio::test]
async fn second_login_finds_the_linked_user_and_updates_its_tokens() {
    let Some(f) = fixture(Backend::Bearer).await else {
        return;
    };
    let sub = unique();
    let email = format!("{sub}@example.com");
    let first = f.login(&hint(&sub, &email, true)).await;
    let me = f.app.me(&f.app.auth_from(&first)).await;
    let id = uuid::Uuid::parse_str(me.body["id"].as_str().unwrap()).unwrap();
    let before = f.app.users.oauth_accounts(&id).await.unwrap();
    // The provider now reports another address: still the same account, same user.
    let second = f.login(&hint(&sub, &format!("new.{email}"), true)).await;
    let again = f.app.me(&f.app.auth_from(&second)).await;
    assert_eq!(again.body["id"], me.body["id"]);
    let after = f.app.users.oauth_accounts(&id).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_ne!(before[0].access_token, after[0].access_token);
    assert_eq!(after[0].account_email, format!("new.{email}"));
}

#[tokio::test]
async fn taken_email_without_association_is_refused() {
    let Some(f) = fixture(Backend::Bearer).await else {
        return;
    };
    let sub = unique();
    let email = format!("{sub}@example.com");
    f.app.password_user(&email, true).await;
    let reply = f.login(&hint(&sub, &email, true)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, json!({"detail": "OAUTH_USER_ALREADY_EXISTS"}));
    assert_csrf_cleared(&reply);
}

#[tokio::test]
async fn taken_email_is_associated_when_both_sides_are_verified() {
    let Some(f) = fixture_with(Backend::Bearer, |o| o.associate_by_email(true), false).await else {
        return;
    };
    let sub = unique();
    let email = format!("{sub}@example.com");
    let (id, _) = f.app.password_user(&email, true).await;
    let reply = f.login(&hint(&sub, &email.to_uppercase(), true)).await;
    let me = f.app.me(&f.app.auth_from(&reply)).await;
    assert_eq!(me.body["id"], id.to_string());
    assert_eq!(f.app.users.oauth_accounts(&id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn unverified_provider_email_is_not_associated() {
    let Some(f) = fixture_with(Backend::Bearer, |o| o.associate_by_email(true), false).await else {
        return;
    };
    let sub = unique();
    let email = format!("{sub}@example.com");
    let (id, _) = f.app.password_user(&email, true).await;
    let reply = f.login(&hint(&sub, &email, false)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(detail(&reply), "OAUTH_USER_ALREADY_EXISTS");
    assert!(f.app.users.oauth_accounts(&id).await.unwrap().is_empty());
}

#[tokio::test]
async fn unverified_local_account_is_not_associated() {
    let Some(f) = fixture_with(Backend::Bearer, |o| o.associate_by_email(true), false).await else {
        return;
    };
    let sub = unique();
    let email = format!("{sub}@example.com");
    // Somebody registered the address first and never verified it.
    let (id, _) = f.app.password_user(&email, false).await;
    let reply = f.login(&hint(&sub, &email, true)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(detail(&reply), "OAUTH_USER_ALREADY_EXISTS");
    assert!(f.app.users.oauth_accounts(&id).await.unwrap().is_empty());
}

#[tokio::test]
async fn inactive_user_gets_bad_credentials() {
    let Some(f) = fixture(Backend::Bearer).await else {
        return;
    };
    let sub = unique();
    let email = format!("{sub}@example.com");
    let first = f.login(&hint(&sub, &email, true)).await;
    let me = f.app.me(&f.app.auth_from(&first)).await;
    let id = uuid::Uuid::parse_str(me.body["id"].as_str().unwrap()).unwrap();
    let patch = UserPatch {
        is_active: Some(false),
        ..UserPatch::default()
    };
    f.app.users.update(&id, patch).await.unwrap();
    let reply = f.login(&hint(&sub, &email, true)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
}

#[tokio::test]
async fn unverified_user_is_refused_when_verification_is_required() {
    let Some(f) = fixture_with(Backend::Bearer, |o| o, true).await else {
        return;
    };
    let sub = unique();
    let reply = f
        .login(&hint(&sub, &format!("{sub}@example.com"), true))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(detail(&reply), "LOGIN_USER_NOT_VERIFIED");
}

#[tokio::test]
async fn associate_links_the_account_to_the_signed_in_user() {
    let Some(f) = fixture(Backend::Bearer).await else {
        return;
    };
    let (id, auth) = f
        .app
        .password_user(&format!("{}@camelot.bt", unique()), false)
        .await;
    // Signed in only.
    let anonymous = f
        .app
        .call(get(&format!("{ASSOCIATE}/authorize"), None, None))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let sub = unique();
    let (code, state, csrf) = f
        .through_provider(
            ASSOCIATE,
            &hint(&sub, &format!("{sub}@gmail.test"), true),
            Some(&auth),
        )
        .await;
    let reply = f
        .app
        .callback(ASSOCIATE, &code, &state, Some(&csrf), Some(&auth))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["id"], id.to_string());
    assert!(reply.body.get("oauth_accounts").is_none());
    assert_csrf_cleared(&reply);
    let accounts = f.app.aw.manager().oauth_accounts(&id).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].account_id, sub);
    assert!(!reply.body.to_string().contains(&accounts[0].access_token));
    // The provider account now logs this user in.
    let login = f
        .login(&hint(&sub, &format!("{sub}@gmail.test"), true))
        .await;
    let me = f.app.me(&f.app.auth_from(&login)).await;
    assert_eq!(me.body["id"], id.to_string());
}

#[tokio::test]
async fn associate_refuses_an_account_linked_to_another_user() {
    let Some(f) = fixture(Backend::Bearer).await else {
        return;
    };
    let sub = unique();
    // The provider account belongs to the user it signed up.
    let owner = f
        .login(&hint(&sub, &format!("{sub}@example.com"), true))
        .await;
    assert_eq!(owner.status, StatusCode::OK);
    let (thief, auth) = f
        .app
        .password_user(&format!("{}@camelot.bt", unique()), true)
        .await;
    let (code, state, csrf) = f
        .through_provider(
            ASSOCIATE,
            &hint(&sub, &format!("{sub}@example.com"), true),
            Some(&auth),
        )
        .await;
    let reply = f
        .app
        .callback(ASSOCIATE, &code, &state, Some(&csrf), Some(&auth))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        json!({"detail": "OAUTH_ACCOUNT_ALREADY_LINKED"})
    );
    assert!(f.app.users.oauth_accounts(&thief).await.unwrap().is_empty());
}

#[tokio::test]
async fn associate_state_of_another_user_is_refused_before_the_exchange() {
    let Some(f) = fixture(Backend::Bearer).await else {
        return;
    };
    let (_, alice) = f
        .app
        .password_user(&format!("{}@camelot.bt", unique()), false)
        .await;
    let (bob_id, bob) = f
        .app
        .password_user(&format!("{}@camelot.bt", unique()), false)
        .await;
    let sub = unique();
    let (code, state, csrf) = f
        .through_provider(
            ASSOCIATE,
            &hint(&sub, &format!("{sub}@x.test"), true),
            Some(&alice),
        )
        .await;
    // Bob presents Alice's state (and cookie).
    let reply = f
        .app
        .callback(ASSOCIATE, &code, &state, Some(&csrf), Some(&bob))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, json!({"detail": "Bad Request"}));
    assert_eq!(f.client.token_requests().await, 0);
    assert!(
        f.app
            .users
            .oauth_accounts(&bob_id)
            .await
            .unwrap()
            .is_empty()
    );
    // An associate state cannot log in either.
    let login = f
        .app
        .callback(LOGIN, &code, &state, Some(&csrf), None)
        .await;
    assert_eq!(login.status, StatusCode::BAD_REQUEST);
    assert_eq!(detail(&login), "OAUTH_INVALID_STATE");
    assert_eq!(f.client.token_requests().await, 0);
}

#[tokio::test]
async fn missing_or_mismatched_csrf_cookie_never_reaches_the_provider() {
    let Some(f) = fixture(Backend::Bearer).await else {
        return;
    };
    let sub = unique();
    let (code, state, csrf) = f
        .through_provider(LOGIN, &hint(&sub, &format!("{sub}@x.test"), true), None)
        .await;
    let missing = f.app.callback(LOGIN, &code, &state, None, None).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.body, json!({"detail": "OAUTH_INVALID_STATE"}));
    assert_csrf_cleared(&missing);
    let (_, other_csrf) = f.app.authorize(LOGIN, None).await;
    let mismatched = f
        .app
        .callback(LOGIN, &code, &state, Some(&other_csrf), None)
        .await;
    assert_eq!(mismatched.status, StatusCode::BAD_REQUEST);
    assert_eq!(detail(&mismatched), "OAUTH_INVALID_STATE");
    assert_eq!(f.client.token_requests().await, 0);
    // The state was not burnt by those attempts: the real browser still logs in.
    let ok = f
        .app
        .callback(LOGIN, &code, &state, Some(&csrf), None)
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    assert_eq!(f.client.token_requests().await, 1);
}

#[tokio::test]
async fn a_state_works_once() {
    let Some(f) = fixture(Backend::Bearer).await else {
        return;
    };
    let sub = unique();
    let (code, state, csrf) = f
        .through_provider(LOGIN, &hint(&sub, &format!("{sub}@x.test"), true), None)
        .await;
    let first = f
        .app
        .callback(LOGIN, &code, &state, Some(&csrf), None)
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let replay = f
        .app
        .callback(LOGIN, &code, &state, Some(&csrf), None)
        .await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(replay.body, json!({"detail": "OAUTH_INVALID_STATE"}));
    assert_eq!(
        f.client.token_requests().await,
        1,
        "the replay reached the provider"
    );
}

#[tokio::test]
async fn only_codes_the_provider_accepts_use_up_the_state_store() {
    let Some(issuer) = authward_testkit::service_url("AUTHWARD_TEST_OIDC_ISSUER") else {
        return;
    };
    let client = Client::register(issuer.trim_end_matches('/')).await;
    let provider = client.provider();
    provider.discover().await.unwrap();
    let app = build_app_with_states(
        Arc::new(provider),
        Backend::Bearer,
        |o| o,
        false,
        Arc::new(MemoryStateStore::with_capacity(1)),
    );
    let f = Fixture { app, client };
    // What anyone can send: signed states fresh from /authorize, with their CSRF cookies, and
    // codes the provider never issued.
    for _ in 0..3 {
        let (url, csrf) = f.app.authorize(LOGIN, None).await;
        let state = param(&url, "state").unwrap();
        let reply = f
            .app
            .callback(LOGIN, "not-a-code", &state, Some(&csrf), None)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
        assert_eq!(reply.body, json!({"detail": "invalid_grant"}));
    }
    assert_eq!(f.client.token_requests().await, 3);
    // The store's one place is still free for a real login.
    let sub = unique();
    let (code, state, csrf) = f
        .through_provider(LOGIN, &hint(&sub, &format!("{sub}@x.test"), true), None)
        .await;
    let ok = f
        .app
        .callback(LOGIN, &code, &state, Some(&csrf), None)
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    assert_eq!(f.client.token_requests().await, 4);
    // Now it is taken: a replay is refused before the provider, and another login finds the
    // store full.
    let replay = f
        .app
        .callback(LOGIN, &code, &state, Some(&csrf), None)
        .await;
    assert_eq!(replay.body, json!({"detail": "OAUTH_INVALID_STATE"}));
    assert_eq!(f.client.token_requests().await, 4);
    let other = unique();
    let full = f
        .login(&hint(&other, &format!("{other}@x.test"), true))
        .await;
    assert_eq!(
        full.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        full.body
    );
}

#[tokio::test]
async fn forged_states_are_400_and_never_reach_the_provider() {
    let Some(f) = fixture(Backend::Bearer).await else {
        return;
    };
    let sub = unique();
    let (code, state, csrf) = f
        .through_provider(LOGIN, &hint(&sub, &format!("{sub}@x.test"), true), None)
        .await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = |aud: Value, exp: i64| json!({"csrftoken": csrf, "aud": aud, "exp": exp, "jti": "0123456789abcdef0123"});
    let b64 = |v: &Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "expired",
            sign_state(&claims(json!(STATE_AUDIENCE), now - 10), STATE_SECRET),
            "ACCESS_TOKEN_ALREADY_EXPIRED",
        ),
        (
            "another audience",
            sign_state(
                &claims(json!("fastapi-users:verify"), now + 600),
                STATE_SECRET,
            ),
            "ACCESS_TOKEN_DECODE_ERROR",
        ),
        (
            "no audience",
            sign_state(
                &json!({"csrftoken": csrf, "exp": now + 600, "jti": "0123456789abcdef0123"}),
                STATE_SECRET,
            ),
            "ACCESS_TOKEN_DECODE_ERROR",
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&claims(json!(STATE_AUDIENCE), now + 600))
            ),
            "ACCESS_TOKEN_DECODE_ERROR",
        ),
        (
            "HS512",
            jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
                &claims(json!(STATE_AUDIENCE), now + 600),
                &jsonwebtoken::EncodingKey::from_secret(STATE_SECRET.as_bytes()),
            )
            .unwrap(),
            "ACCESS_TOKEN_DECODE_ERROR",
        ),
        (
            "another secret",
            sign_state(
                &claims(json!(STATE_AUDIENCE), now + 600),
                "somebody else's secret, long enough!!",
            ),
            "ACCESS_TOKEN_DECODE_ERROR",
        ),
        ("garbage", "not-a-jwt".into(), "ACCESS_TOKEN_DECODE_ERROR"),
        ("huge", "a".repeat(60_000), "ACCESS_TOKEN_DECODE_ERROR"),
        (
            "tampered payload",
            {
                let mut parts: Vec<String> = state.split('.').map(str::to_owned).collect();
                parts[1] = b64(&claims(json!(STATE_AUDIENCE), now + 99_999));
                parts.join(".")
            },
            "ACCESS_TOKEN_DECODE_ERROR",
        ),
    ];
    for (what, forged, expected) in cases {
        let reply = f
            .app
            .callback(LOGIN, &code, &forged, Some(&csrf), None)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{what}: {:?}",
            reply.body
        );
        assert_eq!(detail(&reply), expected, "{what}");
        assert_csrf_cleared(&reply);
    }
    // No state at all.
    let uri = format!("{LOGIN}/callback?code={}", enc(&code));
    let reply = f.app.call(get(&uri, Some(&csrf), None)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(detail(&reply), "ACCESS_TOKEN_DECODE_ERROR");
    assert_eq!(f.client.token_requests().await, 0);
}

#[tokio::test]
async fn provider_errors_missing_and_huge_codes() {
    let Some(f) = fixture(Backend::Bearer).await else {
        return;
    };
    // The user refuses at the provider.
    let (url, csrf) = f.app.authorize(LOGIN, None).await;
    let back = visit(&format!(
        "{url}&login_hint={}",
        enc(&refusing_hint(&unique()))
    ))
    .await;
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    let path = back.strip_prefix(APP).unwrap();
    let reply = f.app.call(get(path, Some(&csrf), None)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, json!({"detail": "access_denied"}));
    assert_csrf_cleared(&reply);

    let state = param(&url, "state").unwrap();
    let missing = f
        .app
        .call(get(
            &format!("{LOGIN}/callback?state={}", enc(&state)),
            Some(&csrf),
            None,
        ))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.body, json!({"detail": "Bad Request"}));

    let huge = f
        .app
        .callback(LOGIN, &"c".repeat(60_000), &state, Some(&csrf), None)
        .await;
    assert_eq!(huge.status, StatusCode::BAD_REQUEST);
    assert_eq!(huge.body, json!({"detail": "Bad Request"}));
    assert_eq!(f.client.token_requests().await, 0);
}

#[tokio::test]
async fn a_code_with_another_states_pkce_verifier_is_refused_by_the_provider() {
    let Some(f) = fixture(Backend::Bearer).await else {
        return;
    };
    let sub = unique();
    // A code obtained for one state, presented with another valid state (whose PKCE verifier
    // differs): what an attacker injecting a stolen code into a victim's callback would do.
    let (code, _, _) = f
        .through_provider(LOGIN, &hint(&sub, &format!("{sub}@x.test"), true), None)
        .await;
    let (url, csrf) = f.app.authorize(LOGIN, None).await;
    let state = param(&url, "state").unwrap();
    let reply = f
        .app
        .callback(LOGIN, &code, &state, Some(&csrf), None)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert_eq!(reply.body, json!({"detail": "invalid_grant"}));
    assert_eq!(f.client.token_requests().await, 1);
}

#[tokio::test]
async fn redirect_and_scopes() {
    let Some(f) = fixture(Backend::Bearer).await else {
        return;
    };
    // The redirect URL comes from configuration only.
    let reply = f
        .app
        .call(get(
            &format!(
                "{LOGIN}/authorize?redirect_uri={}&redirect_url=x",
                enc("https://evil.example/")
            ),
            None,
            None,
        ))
        .await;
    let url = reply.body["authorization_url"].as_str().unwrap();
    assert_eq!(
        param(url, "redirect_uri"),
        Some(format!("{APP}{LOGIN}/callback"))
    );
    // Scopes chosen by the client, openid always kept.
    let reply = f
        .app
        .call(get(
            &format!("{LOGIN}/authorize?scopes=email&scopes=profile"),
            None,
            None,
        ))
        .await;
    let url = reply.body["authorization_url"].as_str().unwrap();
    assert_eq!(param(url, "scope").as_deref(), Some("openid email profile"));
    let bad = f
        .app
        .call(get(
            &format!("{LOGIN}/authorize?scopes={}", enc("a\"b")),
            None,
            None,
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // The CSRF cookie's attributes are FastAPI Users'.
    let cookie = reply
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with(CSRF_COOKIE))
        .unwrap();
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=3600",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
}
