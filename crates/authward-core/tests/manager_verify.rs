//! UserManager: email verification tokens.
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used)]

mod manager_support;

use authward_core::manager::{ManagerError, UserUpdate};
use authward_core::{Clock, UserDatabase, UserPatch};
use manager_support::*;
use serde_json::json;
use time::Duration;

#[tokio::test]
async fn request_verify_issues_fastapi_users_claims_and_calls_the_hook() {
    let f = fixture();
    let user = f.register("Elaine@astolat.bt", "lily maid").await;
    f.hooks.clear();
    let token = f
        .manager
        .request_verify(&user, Some(&ua("mail-client")))
        .await
        .unwrap();
    assert_eq!(token, f.hooks.last_token());
    assert_eq!(
        f.hooks.events(),
        vec!["on_after_request_verify Elaine@astolat.bt ua=mail-client"]
    );
    let header = claims_header(&token);
    assert_eq!(header["alg"], "HS256");
    let c = claims(&token);
    assert_eq!(c["sub"], user.id.to_string());
    assert_eq!(c["email"], "Elaine@astolat.bt");
    assert_eq!(c["aud"], "fastapi-users:verify");
    assert_eq!(
        c["exp"],
        (f.clock.now() + Duration::seconds(3600)).unix_timestamp()
    );
    assert_eq!(c.as_object().unwrap().len(), 4);
}

fn claims_header(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.split('.').next().unwrap())
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn request_verify_refuses_inactive_and_verified_users() {
    let f = fixture();
    let user = f.register("bedivere@camelot.bt", "one hand!").await;
    let inactive =
        f.db.update(
            &user.id,
            UserPatch {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        f.manager.request_verify(&inactive, None).await,
        Err(ManagerError::UserInactive)
    ));
    let verified =
        f.db.update(
            &user.id,
            UserPatch {
                is_active: Some(true),
                is_verified: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        f.manager.request_verify(&verified, None).await,
        Err(ManagerError::UserAlreadyVerified)
    ));
}

#[tokio::test]
async fn verify_marks_the_user_verified_once() {
    let f = fixture();
    let user = f.register("elaine@corbenic.bt", "galahad's mum").await;
    let token = f.manager.request_verify(&user, None).await.unwrap();
    f.hooks.clear();
    let verified = f.manager.verify(&token, Some(&ua("ua1"))).await.unwrap();
    assert!(verified.is_verified);
    assert_eq!(verified.id, user.id);
    assert!(f.db.get(&user.id).await.unwrap().unwrap().is_verified);
    assert_eq!(
        f.hooks.events(),
        vec!["on_after_verify elaine@corbenic.bt verified=true ua=ua1"]
    );
    // Reusing the token: already verified.
    assert!(matches!(
        f.manager.verify(&token, None).await,
        Err(ManagerError::UserAlreadyVerified)
    ));
}

#[tokio::test]
async fn verify_token_expires_after_its_lifetime() {
    let f = fixture();
    let user = f.register("nimue@lake.bt", "the lady!").await;
    let token = f.manager.request_verify(&user, None).await.unwrap();
    f.clock.advance(Duration::seconds(3600));
    assert!(matches!(
        f.manager.verify(&token, None).await,
        Err(ManagerError::InvalidVerifyToken)
    ));
    f.clock.advance(Duration::seconds(-1));
    assert!(f.manager.verify(&token, None).await.is_ok());
}

#[tokio::test]
async fn custom_lifetime_is_honoured() {
    let f = fixture_with(CountingHasher::cheap(), |b| {
        b.verify_token_lifetime(Duration::seconds(60))
    });
    let user = f.register("vivien@lake.bt", "the lady!").await;
    let token = f.manager.request_verify(&user, None).await.unwrap();
    assert_eq!(
        claims(&token)["exp"],
        (f.clock.now() + Duration::seconds(60)).unix_timestamp()
    );
    f.clock.advance(Duration::seconds(60));
    assert!(matches!(
        f.manager.verify(&token, None).await,
        Err(ManagerError::InvalidVerifyToken)
    ));
}

#[tokio::test]
async fn forged_tampered_and_foreign_tokens_are_refused() {
    let f = fixture();
    let user = f.register("morgan@avalon.bt", "le fay!!").await;
    let token = f.manager.request_verify(&user, None).await.unwrap();
    let exp = claims(&token)["exp"].clone();
    let good = json!({"sub": user.id.to_string(), "email": user.email, "aud": "fastapi-users:verify", "exp": exp});

    let reset_token = f.manager.forgot_password(&user, None).await.unwrap();
    let mut bad = vec![
        ("empty", String::new()),
        ("garbage", "not.a.jwt".to_owned()),
        ("tampered signature", tamper_signature(&token)),
        (
            "payload swapped",
            swap_payload(
                &token,
                &json!({"sub": user.id.to_string(), "email": user.email, "aud": "fastapi-users:verify", "exp": exp.as_i64().unwrap() + 10_000}),
            ),
        ),
        ("reset token", reset_token),
        ("other secret", sign(&good, OTHER_SECRET)),
        ("alg none", unsigned(&good)),
        (
            "HS512",
            sign_with(&good, SECRET, jsonwebtoken::Algorithm::HS512),
        ),
        (
            "wrong audience",
            sign(
                &json!({"sub": user.id.to_string(), "email": user.email, "aud": "fastapi-users:auth", "exp": exp}),
                SECRET,
            ),
        ),
        (
            "audience list without verify",
            sign(
                &json!({"sub": user.id.to_string(), "email": user.email, "aud": ["fastapi-users:reset"], "exp": exp}),
                SECRET,
            ),
        ),
        (
            "no audience",
            sign(
                &json!({"sub": user.id.to_string(), "email": user.email, "exp": exp}),
                SECRET,
            ),
        ),
        (
            "no exp",
            sign(
                &json!({"sub": user.id.to_string(), "email": user.email, "aud": "fastapi-users:verify"}),
                SECRET,
            ),
        ),
        (
            "no sub",
            sign(
                &json!({"email": user.email, "aud": "fastapi-users:verify", "exp": exp}),
                SECRET,
            ),
        ),
        (
            "null nbf",
            sign(
                &json!({"sub": user.id.to_string(), "email": user.email, "aud": "fastapi-users:verify", "exp": exp, "nbf": null}),
                SECRET,
            ),
        ),
        (
            "null iat",
            sign(
                &json!({"sub": user.id.to_string(), "email": user.email, "aud": "fastapi-users:verify", "exp": exp, "iat": null}),
                SECRET,
            ),
        ),
        (
            "no email",
            sign(
                &json!({"sub": user.id.to_string(), "aud": "fastapi-users:verify", "exp": exp}),
                SECRET,
            ),
        ),
        (
            "bad sub",
            sign(
                &json!({"sub": "not-a-uuid", "email": user.email, "aud": "fastapi-users:verify", "exp": exp}),
                SECRET,
            ),
        ),
        (
            "someone else's sub",
            sign(
                &json!({"sub": uuid::Uuid::new_v4().to_string(), "email": user.email, "aud": "fastapi-users:verify", "exp": exp}),
                SECRET,
            ),
        ),
        (
            "unknown email",
            sign(
                &json!({"sub": user.id.to_string(), "email": "x@avalon.bt", "aud": "fastapi-users:verify", "exp": exp}),
                SECRET,
            ),
        ),
        (
            "string exp",
            sign(
                &json!({"sub": user.id.to_string(), "email": user.email, "aud": "fastapi-users:verify", "exp": "never"}),
                SECRET,
            ),
        ),
        ("oversized", "a".repeat(20_000)),
    ];
    bad.push((
        "past exp",
        sign(
            &json!({"sub": user.id.to_string(), "email": user.email, "aud": "fastapi-users:verify", "exp": f.clock.now().unix_timestamp()}),
            SECRET,
        ),
    ));
    for (what, token) in bad {
        let err = f.manager.verify(&token, None).await.unwrap_err();
        assert!(
            matches!(err, ManagerError::InvalidVerifyToken),
            "{what}: {err:?}"
        );
    }
    // The control: the well-formed token signed with our secret works.
    assert!(f.manager.verify(&sign(&good, SECRET), None).await.is_ok());
}

#[tokio::test]
async fn verify_token_dies_when_the_email_changes() {
    let f = fixture();
    let user = f.register("percival@camelot.bt", "the fisher king").await;
    let token = f.manager.request_verify(&user, None).await.unwrap();
    f.manager
        .update(
            UserUpdate {
                email: Some("parzival@camelot.bt".into()),
                ..Default::default()
            },
            &user,
            true,
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        f.manager.verify(&token, None).await,
        Err(ManagerError::InvalidVerifyToken)
    ));
}

#[tokio::test]
async fn separate_verify_secret_is_used() {
    let f = fixture_with(CountingHasher::cheap(), |b| {
        b.verify_token_secret(OTHER_SECRET)
    });
    let user = f.register("dagonet@camelot.bt", "the jester").await;
    let token = f.manager.request_verify(&user, None).await.unwrap();
    let c = claims(&token);
    // Re-signing the same claims with the shared secret no longer works...
    assert!(matches!(
        f.manager.verify(&sign(&c, SECRET), None).await,
        Err(ManagerError::InvalidVerifyToken)
    ));
    // ...but with the verify secret it does.
    assert!(
        f.manager
            .verify(&sign(&c, OTHER_SECRET), None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn verify_of_a_deleted_user_is_an_invalid_token() {
    let f = fixture();
    let user = f.register("lamorak@camelot.bt", "of gales!").await;
    let token = f.manager.request_verify(&user, None).await.unwrap();
    f.manager.delete(&user, None).await.unwrap();
    assert!(matches!(
        f.manager.verify(&token, None).await,
        Err(ManagerError::InvalidVerifyToken)
    ));
}
