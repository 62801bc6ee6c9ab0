//! UserManager: OAuth login / sign-up, account association, and provider tokens at rest.
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used)]

mod manager_support;

use authward_core::manager::{ManagerError, OAuthLoginOptions, UserUpdate};
use authward_core::oauth::{ProviderTokenCipher, TokenDecryptError, TokenField};
use authward_core::{NewOAuthAccount, OAuthAccountPatch, OAuthUserDatabase, UserDatabase};
use manager_support::*;

const KEY: [u8; 32] = [7; 32];

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

/// A manager that keeps provider tokens, encrypted with [`KEY`].
fn encrypting() -> Fixture {
    fixture_with(CountingHasher::cheap(), |b| {
        b.provider_token_cipher(ProviderTokenCipher::new(&KEY).unwrap())
    })
}

/// Registers a user and marks it verified (as `POST /verify` would).
async fn verified_user(f: &Fixture, email: &str) -> TestUser {
    let user = f.register(email, "excalibur").await;
    let update = UserUpdate {
        is_verified: Some(true),
        ..UserUpdate::default()
    };
    f.manager.update(update, &user, false, None).await.unwrap()
}

#[tokio::test]
async fn first_login_creates_a_user_with_an_unusable_password() {
    let f = encrypting();
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
    let accounts = f.manager.oauth_accounts(&user.id).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].access_token, "access-g-1");
    assert_eq!(accounts[0].refresh_token.as_deref(), Some("refresh-g-1"));
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
async fn provider_tokens_reach_the_store_encrypted_only() {
    let f = encrypting();
    let user = f
        .manager
        .oauth_callback(
            account("g-1", "gawain@orkney.bt"),
            true,
            OAuthLoginOptions::default(),
            None,
        )
        .await
        .unwrap();
    let stored = f.db.oauth_accounts(&user.id).await.unwrap();
    let access = &stored[0].access_token;
    let refresh = stored[0].refresh_token.as_deref().unwrap();
    for value in [access.as_str(), refresh] {
        assert!(value.starts_with("awpt.v1."), "{value}");
        assert!(!value.contains("g-1"));
    }
    let cipher = ProviderTokenCipher::new(&KEY).unwrap();
    assert_eq!(
        cipher
            .decrypt(access, "google", "g-1", TokenField::Access)
            .unwrap()
            .token(),
        "access-g-1"
    );
    // Debug output of accounts never shows a token.
    let shown = format!("{:?}", f.manager.oauth_accounts(&user.id).await.unwrap());
    assert!(!shown.contains("access-g-1") && !shown.contains("refresh-g-1"));
}

#[tokio::test]
async fn without_a_cipher_provider_tokens_are_not_kept() {
    let f = fixture();
    assert!(!f.manager.keeps_provider_tokens());
    let user = f
        .manager
        .oauth_callback(
            account("g-1", "gawain@orkney.bt"),
            true,
            OAuthLoginOptions::default(),
            None,
        )
        .await
        .unwrap();
    let stored = f.db.oauth_accounts(&user.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].access_token, "");
    assert_eq!(stored[0].refresh_token, None);
    assert_eq!(stored[0].expires_at, Some(1_900_000_000));
    assert_eq!(
        f.manager.reencrypt_oauth_accounts(&user.id).await.unwrap(),
        0
    );
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
    let f = encrypting();
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
    let before = f.db.oauth_accounts(&first.id).await.unwrap();
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
    let accounts = f.manager.oauth_accounts(&user.id).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].access_token, "access-new");
    assert_eq!(accounts[0].refresh_token, None);
    let after = f.db.oauth_accounts(&first.id).await.unwrap();
    assert_ne!(before[0].access_token, after[0].access_token);
    assert!(f.hooks.events().is_empty(), "no register on a repeat login");
}

#[tokio::test]
async fn existing_email_is_not_taken_over_without_association() {
    let f = fixture();
    let owner = verified_user(&f, "Arthur@camelot.bt").await;
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
async fn unverified_local_account_is_never_associated_by_email() {
    // Pre-account hijacking: someone registered the victim's address (unverified) before the
    // victim's first provider login.
    let f = fixture();
    let squatter = f.register("victim@camelot.bt", "squatting").await;
    let err = f
        .manager
        .oauth_callback(account("g-1", "victim@camelot.bt"), true, ASSOCIATE, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ManagerError::UserAlreadyExists), "{err:?}");
    assert!(f.db.oauth_accounts(&squatter.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn verified_email_is_associated_when_enabled() {
    let f = fixture();
    let owner = verified_user(&f, "Arthur@camelot.bt").await;
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
    let f = encrypting();
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

    // Associating it again replaces the tokens, without a second link.
    let mut again = account("g-7", "other@gmail.test");
    again.access_token = "access-again".into();
    f.manager
        .oauth_associate_callback(&user, again, None)
        .await
        .unwrap();
    let accounts = f.manager.oauth_accounts(&user.id).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].access_token, "access-again");

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

#[tokio::test]
async fn adopted_plaintext_tokens_are_read_and_reencrypted() {
    let f = encrypting();
    let user = f.register("adopted@camelot.bt", "from python").await;
    // What a FastAPI Users database holds: tokens in the clear.
    f.db.add_oauth_account(&user.id, account("g-9", "adopted@camelot.bt"))
        .await
        .unwrap();
    let accounts = f.manager.oauth_accounts(&user.id).await.unwrap();
    assert_eq!(accounts[0].access_token, "access-g-9");
    assert_eq!(
        f.manager.reencrypt_oauth_accounts(&user.id).await.unwrap(),
        1
    );
    let stored = f.db.oauth_accounts(&user.id).await.unwrap();
    assert!(stored[0].access_token.starts_with("awpt.v1."));
    assert!(
        stored[0]
            .refresh_token
            .as_deref()
            .unwrap()
            .starts_with("awpt.v1.")
    );
    assert_eq!(
        f.manager.oauth_accounts(&user.id).await.unwrap()[0].access_token,
        "access-g-9"
    );
    // Nothing left to do.
    assert_eq!(
        f.manager.reencrypt_oauth_accounts(&user.id).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn key_rotation_reencrypts_under_the_new_key() {
    let old = encrypting();
    let user = old
        .manager
        .oauth_callback(
            account("g-1", "rotate@camelot.bt"),
            true,
            OAuthLoginOptions::default(),
            None,
        )
        .await
        .unwrap();
    // A manager over the same store with a new key, the old one kept for reading.
    let rotated = authward_core::UserManager::builder(old.db.clone(), SECRET)
        .password_helper(authward_core::PasswordHelper::from_arc(
            std::sync::Arc::new(CountingHasher::cheap()),
        ))
        .without_sessions()
        .provider_token_cipher(
            ProviderTokenCipher::new(&[8; 32])
                .unwrap()
                .with_previous_key(&KEY)
                .unwrap(),
        )
        .build()
        .unwrap();
    assert_eq!(
        rotated.oauth_accounts(&user.id).await.unwrap()[0].access_token,
        "access-g-1"
    );
    assert_eq!(rotated.reencrypt_oauth_accounts(&user.id).await.unwrap(), 1);
    // The old key alone can no longer read it.
    let err = old.manager.oauth_accounts(&user.id).await.unwrap_err();
    assert!(
        matches!(
            err,
            ManagerError::ProviderToken(TokenDecryptError::UnknownKey(_))
        ),
        "{err:?}"
    );
    // Neither can a manager without any key.
    let keyless = authward_core::UserManager::builder(old.db.clone(), SECRET)
        .password_helper(authward_core::PasswordHelper::from_arc(
            std::sync::Arc::new(CountingHasher::cheap()),
        ))
        .without_sessions()
        .build()
        .unwrap();
    let err = keyless.oauth_accounts(&user.id).await.unwrap_err();
    assert!(
        matches!(err, ManagerError::ProviderToken(TokenDecryptError::NoKey)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_token_moved_to_another_account_does_not_decrypt() {
    let f = encrypting();
    let a = f
        .manager
        .oauth_callback(
            account("g-1", "a@camelot.bt"),
            true,
            OAuthLoginOptions::default(),
            None,
        )
        .await
        .unwrap();
    let b = f
        .manager
        .oauth_callback(
            account("g-2", "b@camelot.bt"),
            true,
            OAuthLoginOptions::default(),
            None,
        )
        .await
        .unwrap();
    let stolen = f.db.oauth_accounts(&a.id).await.unwrap()[0].clone();
    f.db.update_oauth_account(
        &b.id,
        "google",
        "g-2",
        OAuthAccountPatch {
            access_token: stolen.access_token,
            expires_at: None,
            refresh_token: None,
            account_email: "b@camelot.bt".into(),
        },
    )
    .await
    .unwrap();
    let err = f.manager.oauth_accounts(&b.id).await.unwrap_err();
    assert!(
        matches!(err, ManagerError::ProviderToken(TokenDecryptError::Corrupt)),
        "{err:?}"
    );
}
