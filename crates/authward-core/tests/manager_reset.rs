//! UserManager: forgot / reset password, single-use tokens and session revocation.
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used)]

mod manager_support;

use authward_core::manager::{ManagerError, UserUpdate};
use authward_core::{Clock, RevokeReason, UserDatabase, UserPatch};
use manager_support::*;
use serde_json::json;
use time::Duration;

#[tokio::test]
async fn forgot_password_issues_fastapi_users_claims_and_calls_the_hook() {
    let f = fixture();
    let user = f.register("Guinevere@camelot.bt", "round table").await;
    f.hooks.clear();
    let token = f
        .manager
        .forgot_password(&user, Some(&ua("ua-reset")))
        .await
        .unwrap();
    assert_eq!(token, f.hooks.last_token());
    assert_eq!(
        f.hooks.events(),
        vec!["on_after_forgot_password Guinevere@camelot.bt ua=ua-reset"]
    );
    let c = claims(&token);
    assert_eq!(c["sub"], user.id.to_string());
    assert_eq!(c["aud"], "fastapi-users:reset");
    assert_eq!(
        c["exp"],
        (f.clock.now() + Duration::seconds(3600)).unix_timestamp()
    );
    let fgpt = c["password_fgpt"].as_str().unwrap();
    assert!(!fgpt.is_empty() && !fgpt.contains(&user.hashed_password));
    assert_eq!(c.as_object().unwrap().len(), 4);
}

#[tokio::test]
async fn forgot_password_refuses_inactive_users() {
    let f = fixture();
    let user = f.register("meleagant@gore.bt", "abductor!").await;
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
        f.manager.forgot_password(&inactive, None).await,
        Err(ManagerError::UserInactive)
    ));
}

#[tokio::test]
async fn reset_sets_the_password_revokes_sessions_and_calls_the_hook() {
    let f = fixture();
    let user = f.register("lancelot@joyous-gard.bt", "old password").await;
    let other = f.register("other@camelot.bt", "untouched!").await;
    let token = f.manager.forgot_password(&user, None).await.unwrap();
    f.hooks.clear();
    let updated = f
        .manager
        .reset_password(&token, "new password", Some(&ua("ua-r")))
        .await
        .unwrap();
    assert_ne!(updated.hashed_password, user.hashed_password);
    assert_eq!(
        f.hooks.events(),
        vec!["on_after_reset_password lancelot@joyous-gard.bt ua=ua-r"]
    );
    // Every registered revoker was told to end every session of this user, and only his:
    // before the new password was stored, and once more after it.
    assert_eq!(
        f.revoked(),
        vec![vec![user.id, user.id], vec![user.id, user.id]]
    );
    assert_eq!(
        f.revokers[0].reasons(),
        vec![RevokeReason::PasswordReset, RevokeReason::PasswordReset]
    );
    assert!(!f.revoked().concat().contains(&other.id));
    let m = &f.manager;
    assert!(
        m.authenticate("lancelot@joyous-gard.bt", "new password", None)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        m.authenticate("lancelot@joyous-gard.bt", "old password", None)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_reset_token_works_only_once() {
    let f = fixture();
    let user = f.register("tristram@lyonesse.bt", "first password").await;
    let token = f.manager.forgot_password(&user, None).await.unwrap();
    f.manager
        .reset_password(&token, "second password", None)
        .await
        .unwrap();
    // Even setting the same password again with the same token fails.
    for password in ["third password", "second password"] {
        assert!(matches!(
            f.manager.reset_password(&token, password, None).await,
            Err(ManagerError::InvalidResetPasswordToken)
        ));
    }
    assert!(
        f.manager
            .authenticate("tristram@lyonesse.bt", "second password", None)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn concurrent_uses_of_one_token_succeed_once() {
    let f = fixture();
    let user = f.register("palamedes@camelot.bt", "questing beast").await;
    let token = f.manager.forgot_password(&user, None).await.unwrap();
    let (a, b) = tokio::join!(
        f.manager.reset_password(&token, "password A!", None),
        f.manager.reset_password(&token, "password B!", None),
    );
    let oks = [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count();
    assert_eq!(oks, 1, "{a:?} {b:?}");
    let failed = if a.is_ok() { b } else { a };
    assert!(matches!(
        failed,
        Err(ManagerError::InvalidResetPasswordToken)
    ));
    // After both finish, the in-flight marker is gone and a fresh token works.
    let fresh = f
        .manager
        .forgot_password(&f.manager.get(&user.id).await.unwrap(), None)
        .await
        .unwrap();
    assert!(
        f.manager
            .reset_password(&fresh, "password C!", None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn reset_token_dies_when_the_email_changes() {
    let f = fixture();
    let user = f.register("gareth@orkney.bt", "beaumains").await;
    let token = f.manager.forgot_password(&user, None).await.unwrap();
    // Change the email directly in the store, leaving the password hash as it is.
    f.db.update(
        &user.id,
        UserPatch {
            email: Some("gareth@camelot.bt".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        f.manager.reset_password(&token, "new password", None).await,
        Err(ManagerError::InvalidResetPasswordToken)
    ));
}

#[tokio::test]
async fn reset_token_dies_when_the_password_changes_otherwise() {
    let f = fixture();
    let user = f.register("gaheris@orkney.bt", "password one").await;
    let token = f.manager.forgot_password(&user, None).await.unwrap();
    f.manager
        .update(
            UserUpdate {
                password: Some("password two".into()),
                ..Default::default()
            },
            &user,
            true,
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        f.manager
            .reset_password(&token, "password three", None)
            .await,
        Err(ManagerError::InvalidResetPasswordToken)
    ));
}

#[tokio::test]
async fn reset_token_expires() {
    let f = fixture();
    let user = f.register("agravain@orkney.bt", "password one").await;
    let token = f.manager.forgot_password(&user, None).await.unwrap();
    f.clock.advance(Duration::seconds(3600));
    assert!(matches!(
        f.manager.reset_password(&token, "password two", None).await,
        Err(ManagerError::InvalidResetPasswordToken)
    ));
    f.clock.advance(Duration::seconds(-1));
    assert!(
        f.manager
            .reset_password(&token, "password two", None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn forged_tampered_and_foreign_reset_tokens_are_refused() {
    let f = fixture();
    let user = f.register("pellinore@listinoise.bt", "the beast!").await;
    let token = f.manager.forgot_password(&user, None).await.unwrap();
    let c = claims(&token);
    let (fgpt, exp) = (c["password_fgpt"].clone(), c["exp"].clone());
    let verify_token = f.manager.request_verify(&user, None).await.unwrap();
    let victim = f.register("victim@camelot.bt", "victim pw!").await;
    let bad = vec![
        ("garbage", "x.y.z".to_owned()),
        ("tampered", tamper_signature(&token)),
        ("verify token", verify_token),
        ("other secret", sign(&c, OTHER_SECRET)),
        ("alg none", unsigned(&c)),
        (
            "HS384",
            sign_with(&c, SECRET, jsonwebtoken::Algorithm::HS384),
        ),
        (
            "wrong audience",
            sign(
                &json!({"sub": user.id.to_string(), "password_fgpt": fgpt, "aud": "fastapi-users:verify", "exp": exp}),
                SECRET,
            ),
        ),
        (
            "no fingerprint",
            sign(
                &json!({"sub": user.id.to_string(), "aud": "fastapi-users:reset", "exp": exp}),
                SECRET,
            ),
        ),
        (
            "wrong fingerprint",
            sign(
                &json!({"sub": user.id.to_string(), "password_fgpt": "AAAA", "aud": "fastapi-users:reset", "exp": exp}),
                SECRET,
            ),
        ),
        (
            "fingerprint moved to another user",
            sign(
                &json!({"sub": victim.id.to_string(), "password_fgpt": fgpt, "aud": "fastapi-users:reset", "exp": exp}),
                SECRET,
            ),
        ),
        (
            "bad sub",
            sign(
                &json!({"sub": "42", "password_fgpt": fgpt, "aud": "fastapi-users:reset", "exp": exp}),
                SECRET,
            ),
        ),
        (
            "no exp",
            sign(
                &json!({"sub": user.id.to_string(), "password_fgpt": fgpt, "aud": "fastapi-users:reset"}),
                SECRET,
            ),
        ),
    ];
    for (what, token) in bad {
        let err = f
            .manager
            .reset_password(&token, "new password", None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ManagerError::InvalidResetPasswordToken),
            "{what}: {err:?}"
        );
    }
    assert!(f.revoked().concat().is_empty());
    assert!(
        f.manager
            .reset_password(&token, "new password", None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn reset_for_a_deleted_user_is_user_not_exists() {
    let f = fixture();
    let user = f.register("dinadan@camelot.bt", "the wit!!").await;
    let token = f.manager.forgot_password(&user, None).await.unwrap();
    f.db.delete(&user.id).await.unwrap();
    assert!(matches!(
        f.manager.reset_password(&token, "new password", None).await,
        Err(ManagerError::UserNotExists)
    ));
}

#[tokio::test]
async fn reset_for_a_user_deactivated_since_is_refused() {
    let f = fixture();
    let user = f.register("breunor@camelot.bt", "le noir!").await;
    let token = f.manager.forgot_password(&user, None).await.unwrap();
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
        f.manager.reset_password(&token, "new password", None).await,
        Err(ManagerError::UserInactive)
    ));
    assert!(f.revoked().concat().is_empty());
}

#[tokio::test]
async fn invalid_new_password_leaves_the_token_usable() {
    let f = fixture();
    let user = f.register("safir@camelot.bt", "saracen!").await;
    let token = f.manager.forgot_password(&user, None).await.unwrap();
    for password in ["short", "safir@camelot.bt"] {
        assert!(matches!(
            f.manager.reset_password(&token, password, None).await,
            Err(ManagerError::InvalidPassword { .. })
        ));
    }
    assert!(
        f.manager
            .reset_password(&token, "long enough now", None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn failed_revocation_changes_nothing_after_trying_every_revoker() {
    let f = fixture();
    let user = f.register("segwarides@camelot.bt", "password one").await;
    let token = f.manager.forgot_password(&user, None).await.unwrap();
    *f.revokers[0].fail.lock().unwrap() = true;
    let err = f
        .manager
        .reset_password(&token, "password two", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ManagerError::Db(db) if db.is_unavailable()),
        "{err:?}"
    );
    // The second revoker still ran, but sessions could not all be ended: the password is not
    // changed (revocation comes first), so no session outlives a password it no longer knows.
    assert_eq!(f.revoked(), vec![vec![user.id], vec![user.id]]);
    let m = &f.manager;
    assert!(
        m.authenticate("segwarides@camelot.bt", "password one", None)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        m.authenticate("segwarides@camelot.bt", "password two", None)
            .await
            .unwrap()
            .is_none()
    );
    // Once the token store is back, the same reset token works.
    *f.revokers[0].fail.lock().unwrap() = false;
    m.reset_password(&token, "password two", None)
        .await
        .unwrap();
    assert!(
        m.authenticate("segwarides@camelot.bt", "password two", None)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn separate_reset_secret_is_used() {
    let f = fixture_with(CountingHasher::cheap(), |b| {
        b.reset_token_secret(OTHER_SECRET)
    });
    let user = f.register("ywain@camelot.bt", "the lion!").await;
    let token = f.manager.forgot_password(&user, None).await.unwrap();
    let c = claims(&token);
    assert!(matches!(
        f.manager
            .reset_password(&sign(&c, SECRET), "new password", None)
            .await,
        Err(ManagerError::InvalidResetPasswordToken)
    ));
    assert!(
        f.manager
            .reset_password(&sign(&c, OTHER_SECRET), "new password", None)
            .await
            .is_ok()
    );
    let _ = f.clock.now();
}

#[tokio::test]
async fn a_lifetime_past_the_calendar_never_expires_instead_of_panicking() {
    let f = fixture_with(CountingHasher::cheap(), |b| {
        b.reset_token_lifetime(Duration::MAX)
            .verify_token_lifetime(Duration::MAX)
    });
    let user = f.register("lamorak@camelot.bt", "jousting!").await;
    let token = f.manager.forgot_password(&user, None).await.unwrap();
    assert_eq!(claims(&token)["exp"], i64::MAX);
    let verify = f.manager.request_verify(&user, None).await.unwrap();
    assert_eq!(claims(&verify)["exp"], i64::MAX);
    f.clock.advance(Duration::days(365 * 100));
    let reset = f
        .manager
        .reset_password(&token, "a new password", None)
        .await
        .unwrap();
    assert_eq!(reset.id, user.id);
}
