//! FastAPI Users' HTTP contract, route by route, for bearer+JWT, bearer+database and
//! cookie+database, driven in process through the real routers.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[tokio::test]
async fn register_answers_201_and_ignores_privileged_fields() {
    for setup in ALL {
        let app = app(setup);
        let reply = app
            .call(json(
                "POST",
                "/auth/register",
                &json!({"email": "King.Arthur@camelot.bt", "password": "guinevere1",
                        "is_superuser": true, "is_active": false, "is_verified": true}),
            ))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{setup:?}");
        let body = reply.body.as_object().unwrap();
        assert_eq!(body["email"], "King.Arthur@camelot.bt");
        assert_eq!(body["is_active"], true);
        assert_eq!(body["is_superuser"], false);
        assert_eq!(body["is_verified"], false);
        assert!(body["id"].is_string());
        assert!(!body.contains_key("hashed_password"));
        assert!(!body.contains_key("password"));
    }
}

#[tokio::test]
async fn register_errors() {
    let app = app(Setup::BearerJwt);
    app.register("lancelot@camelot.bt", "guinevere1").await;
    let dup = app.register("LANCELOT@camelot.bt", "guinevere1").await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    assert_eq!(dup.body, json!({"detail": "REGISTER_USER_ALREADY_EXISTS"}));

    let short = app.register("gawain@camelot.bt", "short").await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert_eq!(short.body["detail"]["code"], "REGISTER_INVALID_PASSWORD");
    assert!(short.body["detail"]["reason"].is_string());

    let bad_email = app.register("not-an-email", "guinevere1").await;
    assert_eq!(bad_email.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_email.body["detail"][0]["loc"], json!(["body", "email"]));

    let missing = app
        .call(json("POST", "/auth/register", &json!({"email": "a@b.co"})))
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.body["detail"][0]["type"], "missing");
    assert_eq!(
        missing.body["detail"][0]["loc"],
        json!(["body", "password"])
    );

    let malformed = app
        .call(
            axum::http::Request::builder()
                .method("POST")
                .uri("/auth/register")
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{\"email\": "))
                .unwrap(),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(malformed.body["detail"][0]["type"], "json_invalid");

    let wrong_type = app
        .call(form("/auth/register", "email=a@b.co&password=guinevere1"))
        .await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong_type.body["detail"].is_array());

    let huge = "x".repeat(100 * 1024);
    let oversized = app.register("big@camelot.bt", &huge).await;
    assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(oversized.body, json!({"detail": "Request body too large"}));
}

#[tokio::test]
async fn login_responses_per_transport() {
    for setup in ALL {
        let app = app(setup);
        app.register("Percival@camelot.bt", "holy grail 1").await;
        let reply = app.login("percival@CAMELOT.bt", "holy grail 1").await;
        match setup {
            Setup::CookieDatabase => {
                assert_eq!(reply.status, StatusCode::NO_CONTENT);
                let cookie = reply.headers["set-cookie"].to_str().unwrap();
                assert!(cookie.starts_with("fastapiusersauth="), "{cookie}");
                for attr in ["HttpOnly", "Secure", "Path=/", "Max-Age=3600"] {
                    assert!(cookie.contains(attr), "{cookie} lacks {attr}");
                }
            }
            _ => {
                assert_eq!(reply.status, StatusCode::OK);
                assert_eq!(reply.body["token_type"], "bearer");
                assert!(reply.body["access_token"].is_string());
            }
        }
    }
}

#[tokio::test]
async fn login_errors_share_one_code() {
    let app = app(Setup::BearerJwt);
    let (id, _) = app.user("bors@camelot.bt").await;
    let wrong = app.login("bors@camelot.bt", "wrong password").await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.body, json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
    let unknown = app.login("nobody@camelot.bt", "whatever123").await;
    assert_eq!(unknown.body, json!({"detail": "LOGIN_BAD_CREDENTIALS"}));

    use authward_core::{UserDatabase, UserPatch};
    app.users
        .update(
            &id,
            UserPatch {
                is_active: Some(false),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    let inactive = app.login("bors@camelot.bt", "correct horse battery").await;
    assert_eq!(inactive.body, json!({"detail": "LOGIN_BAD_CREDENTIALS"}));

    let as_json = app
        .call(json(
            "POST",
            "/auth/jwt/login",
            &json!({"username": "bors@camelot.bt", "password": "x"}),
        ))
        .await;
    assert_eq!(as_json.status, StatusCode::UNPROCESSABLE_ENTITY);
    let grant = app
        .call(form(
            "/auth/jwt/login",
            "username=bors%40camelot.bt&password=x&grant_type=client_credentials",
        ))
        .await;
    assert_eq!(grant.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn me_requires_an_active_user() {
    for setup in ALL {
        let app = app(setup);
        let (id, auth) = app.user("kay@camelot.bt").await;
        let me = app.call(auth.apply(get("/users/me"))).await;
        assert_eq!(me.status, StatusCode::OK, "{setup:?}");
        assert_eq!(me.body["id"], id.to_string());
        assert!(me.body.get("hashed_password").is_none());

        let anonymous = app.call(get("/users/me")).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        assert_eq!(anonymous.body, json!({"detail": "Unauthorized"}));
        assert!(anonymous.headers.contains_key("www-authenticate"));

        let garbage = match &auth {
            Auth::Bearer(_) => Auth::Bearer("garbage.token.here".into()),
            Auth::Cookie(_) => Auth::Cookie("garbage".into()),
        };
        let bad = app.call(garbage.apply(get("/users/me"))).await;
        assert_eq!(bad.status, StatusCode::UNAUTHORIZED);

        use authward_core::{UserDatabase, UserPatch};
        app.users
            .update(
                &id,
                UserPatch {
                    is_active: Some(false),
                    ..UserPatch::default()
                },
            )
            .await
            .unwrap();
        let inactive = app.call(auth.apply(get("/users/me"))).await;
        assert_eq!(inactive.status, StatusCode::UNAUTHORIZED, "{setup:?}");
    }
}

#[tokio::test]
async fn patch_me_is_safe_and_resets_verification_on_email_change() {
    let app = app(Setup::BearerDatabase);
    let (id, auth) = app.user("gareth@camelot.bt").await;
    app.register("taken@camelot.bt", "guinevere1").await;
    use authward_core::{UserDatabase, UserPatch};
    app.users
        .update(
            &id,
            UserPatch {
                is_verified: Some(true),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    let patched = app
        .call(auth.apply(json(
            "PATCH",
            "/users/me",
            &json!({"email": "gareth.new@camelot.bt", "is_superuser": true}),
        )))
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(patched.body["email"], "gareth.new@camelot.bt");
    assert_eq!(patched.body["is_verified"], false);
    assert_eq!(
        patched.body["is_superuser"], false,
        "privileged field ignored"
    );

    let taken = app
        .call(auth.apply(json(
            "PATCH",
            "/users/me",
            &json!({"email": "TAKEN@camelot.bt"}),
        )))
        .await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        taken.body,
        json!({"detail": "UPDATE_USER_EMAIL_ALREADY_EXISTS"})
    );

    let weak = app
        .call(auth.apply(json("PATCH", "/users/me", &json!({"password": "short"}))))
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert_eq!(weak.body["detail"]["code"], "UPDATE_USER_INVALID_PASSWORD");
}

#[tokio::test]
async fn logout_per_strategy() {
    for setup in ALL {
        let app = app(setup);
        let (_, auth) = app.user("dagonet@camelot.bt").await;
        let out = app.call(auth.apply(post_empty("/auth/jwt/logout"))).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT, "{setup:?}");
        let after = app.call(auth.apply(get("/users/me"))).await;
        match setup {
            // Declared stateless (FastAPI Users' JWT): logout cannot destroy the token, which
            // stays valid until it expires.
            Setup::BearerJwtStateless => assert_eq!(after.status, StatusCode::OK),
            // Every other strategy ends the token, JWT included (its revocation store).
            _ => assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{setup:?}"),
        }
        if setup == Setup::CookieDatabase {
            let cleared = out.headers["set-cookie"].to_str().unwrap();
            assert!(cleared.contains("Max-Age=0"), "{cleared}");
            assert!(cleared.contains("HttpOnly") && cleared.contains("Secure"));
        }
        let again = app.call(post_empty("/auth/jwt/logout")).await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_backend_that_cannot_log_out_is_refused_unless_declared_stateless() {
    use authward_axum::{AuthBackend, Authward, AuthwardConfig, BuildError};
    use authward_core::UserManager;
    use authward_core::memory::MemoryUserDatabase;
    use authward_core::strategy::JwtStrategy;
    let manager = || {
        UserManager::builder(MemoryUserDatabase::<uuid::Uuid>::new(), SECRET)
            .build()
            .unwrap()
    };
    let jwt = std::sync::Arc::new(JwtStrategy::hs256(SECRET, time::Duration::hours(1)).unwrap());
    let bearer =
        || authward_axum::Transport::Bearer(authward_axum::BearerTransport::new("auth/jwt/login"));
    let refused = Authward::new(
        manager(),
        vec![AuthBackend::new("jwt", bearer(), jwt.clone())],
        AuthwardConfig::default(),
    )
    .unwrap_err();
    assert_eq!(refused, BuildError::CannotRevoke("jwt".into()));
    assert!(
        refused.to_string().contains("revocation store"),
        "{refused}"
    );
    let stateless = Authward::new(
        manager(),
        vec![AuthBackend::new("jwt", bearer(), jwt).stateless()],
        AuthwardConfig::default(),
    )
    .unwrap();
    assert!(!stateless.can_log_out_everywhere());
    // The stateless strategy still covers password changes and deletions: it is registered.
    assert_eq!(stateless.manager().revoker_count(), 1);
}

#[tokio::test]
async fn logout_all_is_served_only_where_every_backend_can_revoke() {
    for setup in ALL {
        let app = app(setup);
        let (_, auth) = app.user("bedivere@camelot.bt").await;
        let out = app
            .call(auth.apply(post_empty("/auth/jwt/logout-all")))
            .await;
        if setup == Setup::BearerJwtStateless {
            // Not mounted: it could not do what it says.
            assert_eq!(out.status, StatusCode::NOT_FOUND, "{setup:?}");
            let me = app.call(auth.apply(get("/users/me"))).await;
            assert_eq!(me.status, StatusCode::OK);
        } else {
            assert_eq!(out.status, StatusCode::NO_CONTENT, "{setup:?}");
            let me = app.call(auth.apply(get("/users/me"))).await;
            assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{setup:?}");
        }
    }
}

#[tokio::test]
async fn forgot_and_reset_password() {
    for setup in ALL {
        let app = app(setup);
        let (_, auth) = app.user("elaine@camelot.bt").await;
        let unknown = app
            .call(json(
                "POST",
                "/auth/forgot-password",
                &json!({"email": "nobody@camelot.bt"}),
            ))
            .await;
        assert_eq!(unknown.status, StatusCode::ACCEPTED);
        assert_eq!(unknown.body, serde_json::Value::Null);
        assert!(app.mailbox.reset.lock().unwrap().is_empty());

        let known = app
            .call(json(
                "POST",
                "/auth/forgot-password",
                &json!({"email": "ELAINE@camelot.bt"}),
            ))
            .await;
        assert_eq!(known.status, StatusCode::ACCEPTED);
        let token = next_mail(&app.mailbox.reset).await;

        let weak = app
            .call(json(
                "POST",
                "/auth/reset-password",
                &json!({"token": token, "password": "short"}),
            ))
            .await;
        assert_eq!(weak.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            weak.body["detail"]["code"],
            "RESET_PASSWORD_INVALID_PASSWORD"
        );

        let reset = app
            .call(json(
                "POST",
                "/auth/reset-password",
                &json!({"token": token, "password": "a brand new secret"}),
            ))
            .await;
        assert_eq!(reset.status, StatusCode::OK, "{setup:?} {:?}", reset.body);
        assert_eq!(reset.body, serde_json::Value::Null);

        let reused = app
            .call(json(
                "POST",
                "/auth/reset-password",
                &json!({"token": token, "password": "yet another secret"}),
            ))
            .await;
        assert_eq!(reused.status, StatusCode::BAD_REQUEST);
        assert_eq!(reused.body, json!({"detail": "RESET_PASSWORD_BAD_TOKEN"}));

        let old_session = app.call(auth.apply(get("/users/me"))).await;
        assert_eq!(
            old_session.status,
            StatusCode::UNAUTHORIZED,
            "{setup:?}: a reset revokes every session"
        );
        app.login_auth("elaine@camelot.bt", "a brand new secret")
            .await;
        let garbage = app
            .call(json(
                "POST",
                "/auth/reset-password",
                &json!({"token": "nonsense", "password": "a brand new secret"}),
            ))
            .await;
        assert_eq!(garbage.body, json!({"detail": "RESET_PASSWORD_BAD_TOKEN"}));
    }
}

#[tokio::test]
async fn request_verify_and_verify() {
    let app = app(Setup::BearerJwt);
    app.user("lynette@camelot.bt").await;
    for email in ["lynette@camelot.bt", "nobody@camelot.bt"] {
        let reply = app
            .call(json(
                "POST",
                "/auth/request-verify-token",
                &json!({"email": email}),
            ))
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED);
        assert_eq!(reply.body, serde_json::Value::Null);
    }
    let token = next_mail(&app.mailbox.verify).await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(
        app.mailbox.verify.lock().unwrap().is_empty(),
        "one token only"
    );
    let verified = app
        .call(json("POST", "/auth/verify", &json!({"token": token})))
        .await;
    assert_eq!(verified.status, StatusCode::OK);
    assert_eq!(verified.body["is_verified"], true);
    let again = app
        .call(json("POST", "/auth/verify", &json!({"token": token})))
        .await;
    assert_eq!(
        again.body,
        json!({"detail": "VERIFY_USER_ALREADY_VERIFIED"})
    );
    let bad = app
        .call(json("POST", "/auth/verify", &json!({"token": "nope"})))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body, json!({"detail": "VERIFY_USER_BAD_TOKEN"}));
}

#[tokio::test]
async fn users_by_id_need_a_superuser_before_the_lookup() {
    let app = app(Setup::BearerJwt);
    let (id, auth) = app.user("tristan@camelot.bt").await;
    for path in [
        format!("/users/{id}"),
        format!("/users/{}", uuid::Uuid::new_v4()),
        "/users/not-a-uuid".to_owned(),
    ] {
        let reply = app.call(auth.apply(get(&path))).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(reply.body, json!({"detail": "Forbidden"}));
    }
    let delete_me = app
        .call(
            auth.apply(
                axum::http::Request::builder()
                    .method("DELETE")
                    .uri("/users/me")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            ),
        )
        .await;
    assert_eq!(delete_me.status, StatusCode::FORBIDDEN);

    let admin = app.superuser("merlin@camelot.bt").await;
    let missing = app
        .call(admin.apply(get(&format!("/users/{}", uuid::Uuid::new_v4()))))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body, json!({"detail": "Not Found"}));
    let unparsable = app.call(admin.apply(get("/users/not-a-uuid"))).await;
    assert_eq!(unparsable.status, StatusCode::NOT_FOUND);
    let found = app.call(admin.apply(get(&format!("/users/{id}")))).await;
    assert_eq!(found.status, StatusCode::OK);
    let promoted = app
        .call(admin.apply(json(
            "PATCH",
            &format!("/users/{id}"),
            &json!({"is_superuser": true, "is_verified": true}),
        )))
        .await;
    assert_eq!(promoted.status, StatusCode::OK);
    assert_eq!(promoted.body["is_superuser"], true);
    assert_eq!(promoted.body["is_verified"], true);
    let deleted = app
        .call(
            admin.apply(
                axum::http::Request::builder()
                    .method("DELETE")
                    .uri(format!("/users/{id}"))
                    .body(axum::body::Body::empty())
                    .unwrap(),
            ),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = app.call(admin.apply(get(&format!("/users/{id}")))).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let orphan = app.call(auth.apply(get("/users/me"))).await;
    assert_eq!(
        orphan.status,
        StatusCode::UNAUTHORIZED,
        "deleted user's token"
    );
}
