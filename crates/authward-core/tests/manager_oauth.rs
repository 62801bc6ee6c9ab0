//! UserManager: OAuth login / sign-up and account association.
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used)]

mod manager_support;

use authward_core::manager::{ManagerError, OAuthLoginOptions};
use authward_core::{NewOAuthAccount, OAuthUserDatabase, UserDatabase};
use manager_support::*;

fn account(id: &str, email: &str) -> NewOAuthAccount {
    NewOAuthAccount {
        oauth_name: "google".into(),
        access_token: format!("access-{id}"),
        expires_at: Some(1_900_000_000),
        refresh_token: Some(format!("refresh-{id}")),
        account_id: id.into(),
        account_email: email.into(),
    }
}

const ASSOCIATE: OAuthLoginOptions = OAuthLoginOptions {
    associate_by_email: true,
    is_verified_by_default: false,
};

#[tokio::test]
async fn first_login_creates_a_user_with_an_unusable_password() {
    let f = fixture();
    let user = f
        .manager
        .oauth_callback(
            account("g-1", "Gawain@Orkney.bt"),
            true,
            OAuthLoginOptions::default(),
            Some(&ua("oauth")),
        )
        .await
        .unwrap();
    assert_eq!(user.email, "Gawain@Orkney.bt");
    assert!(user.is_active && !user.is_superuser && !user.is_verified);
    assert!(user.hashed_password.starts_with("$argon2id$"));
    assert_eq!(
        f.hooks.events(),
        vec!["on_after_register Gawain@Orkney.bt ua=oauth"]
    );
    let accounts = f.db.oauth_accounts(&user.id).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].access_token, "access-g-1");
    assert_eq!(
        f.manager
            .get_by_oauth_account("google", "g-1")
            .await
            .unwrap()
            .id,
        user.id
    );
    assert!(matches!(
        f.manager.get_by_oauth_account("google", "nope").await,
        Err(ManagerError::UserNotExists)
    ));
}

#[tokio::test]
async fn is_verified_by_default_needs_the_provider_to_vouch() {
    let f = fixture();
    let options = OAuthLoginOptions {
        associate_by_email: false,
        is_verified_by_default: true,
    };
    let vouched = f
        .manager
        .oauth_callback(account("g-1", "a@orkney.bt"), true, options, None)
        .await
        .unwrap();
    assert!(vouched.is_verified);
    let unvouched = f
        .manager
        .oauth_callback(account("g-2", "b@orkney.bt"), false, options, None)
        .await
        .unwrap();
    assert!(!unvouched.is_verified);
}

#[tokio::test]
async fn repeated_login_refreshes_the_provider_tokens() {
    let f = fixture();
    let first = f
        .manager
        .oauth_callback(
            account("g-1", "gareth@orkney.bt"),
            true,
            OAuthLoginOptions::default(),
            None,
        )
        .await
        .unwrap();
    f.hooks.clear();
    let mut again = account("g-1", "gareth@orkney.bt");
    again.access_token = "access-new".into();
    again.refresh_token = None;
    let user = f
        .manager
        .oauth_callback(again, true, OAuthLoginOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(user.id, first.id);
    let accounts = f.db.oauth_accounts(&user.id).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].access_token, "access-new");
    assert_eq!(accounts[0].refresh_token, None);
    assert!(f.hooks.events().is_empty(), "no register on a repeat login");
}

#[tokio::test]
async fn existing_email_is_not_taken_over_without_association() {
    let f = fixture();
    let owner = f.register("Arthur@camelot.bt", "excalibur").await;
    let err = f
        .manager
        .oauth_callback(
            account("g-1", "arthur@camelot.bt"),
            true,
            OAuthLoginOptions::default(),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ManagerError::UserAlreadyExists), "{err:?}");
    // Association enabled, but the provider does not vouch for the email.
    let err = f
        .manager
        .oauth_callback(account("g-1", "arthur@camelot.bt"), false, ASSOCIATE, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ManagerError::UserAlreadyExists), "{err:?}");
    assert!(f.db.oauth_accounts(&owner.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn verified_email_is_associated_when_enabled() {
    let f = fixture();
    let owner = f.register("Arthur@camelot.bt", "excalibur").await;
    f.hooks.clear();
    let user = f
        .manager
        .oauth_callback(account("g-1", "ARTHUR@camelot.bt"), true, ASSOCIATE, None)
        .await
        .unwrap();
    assert_eq!(user.id, owner.id);
    let accounts = f.db.oauth_accounts(&owner.id).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].account_id, "g-1");
    // No new user, no register hook.
    assert!(f.hooks.events().is_empty());
}

#[tokio::test]
async fn provider_email_must_be_valid_for_a_new_user() {
    let f = fixture();
    let err = f
        .manager
        .oauth_callback(
            account("g-1", "no-email"),
            true,
            OAuthLoginOptions::default(),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ManagerError::InvalidEmail { .. }), "{err:?}");
}

#[tokio::test]
async fn associate_callback_links_and_calls_on_after_update() {
    let f = fixture();
    let user = f.register("tor@camelot.bt", "son of pellinore").await;
    f.hooks.clear();
    let linked = f
        .manager
        .oauth_associate_callback(
            &user,
            account("g-7", "other@gmail.test"),
            Some(&ua("assoc")),
        )
        .await
        .unwrap();
    assert_eq!(linked.id, user.id);
    assert_eq!(
        f.hooks.events(),
        vec!["on_after_update tor@camelot.bt [oauth_account] ua=assoc"]
    );
    assert_eq!(f.db.oauth_accounts(&user.id).await.unwrap().len(), 1);

    // The same provider account cannot be linked to somebody else.
    let thief = f.register("thief@camelot.bt", "stealing!").await;
    let err = f
        .manager
        .oauth_associate_callback(&thief, account("g-7", "other@gmail.test"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ManagerError::OAuthAccountAlreadyLinked),
        "{err:?}"
    );
    assert!(f.db.oauth_accounts(&thief.id).await.unwrap().is_empty());

    // Nor to a user that no longer exists.
    f.db.delete(&thief.id).await.unwrap();
    let err = f
        .manager
        .oauth_associate_callback(&thief, account("g-8", "x@gmail.test"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, ManagerError::UserNotExists), "{err:?}");
}
