//! The `OAuthUserDatabase` suite.

use authward_core::{
    AuthUser, DbError, NewOAuthAccount, NewUser, OAuthAccountPatch, OAuthUserDatabase,
};

use crate::fixtures::{Id, SampleId, UserFixture, unique_email};

/// Bound shared by the OAuth suite: an OAuth store of the fixture's user type.
pub trait SuiteOAuthDb<F: UserFixture>:
    OAuthUserDatabase<User = F::User, Extra = F::Extra> + 'static
{
}

impl<F, DB> SuiteOAuthDb<F> for DB
where
    F: UserFixture,
    DB: OAuthUserDatabase<User = F::User, Extra = F::Extra> + 'static,
{
}

async fn user<F: UserFixture, DB: SuiteOAuthDb<F>>(db: &DB) -> F::User {
    let new = NewUser {
        email: unique_email("oauth", "example.com"),
        hashed_password: "$argon2id$unusable".into(),
        is_active: true,
        is_superuser: false,
        is_verified: false,
        extra: F::extra(3),
    };
    db.create(new).await.expect("create user")
}

fn account(provider: &str, account_id: &str) -> NewOAuthAccount {
    NewOAuthAccount {
        oauth_name: provider.to_owned(),
        access_token: format!("at-{account_id}"),
        expires_at: Some(1_900_000_000),
        refresh_token: Some(format!("rt-{account_id}")),
        account_id: account_id.to_owned(),
        account_email: format!("{account_id}@provider.example"),
    }
}

fn fresh_account_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A linked account is returned with all its fields and finds its user.
pub async fn add_and_look_up<F: UserFixture, DB: SuiteOAuthDb<F>>(db: DB) {
    let owner = user::<F, _>(&db).await;
    let account_id = fresh_account_id();
    let linked = db
        .add_oauth_account(owner.id(), account("google", &account_id))
        .await
        .expect("add_oauth_account");
    assert_eq!(
        linked,
        account("google", &account_id).into_account(owner.id().clone())
    );
    let found = db
        .get_by_oauth_account("google", &account_id)
        .await
        .expect("get_by_oauth_account");
    assert_eq!(found, Some(owner.clone()));
    let listed = db.oauth_accounts(owner.id()).await.expect("oauth_accounts");
    assert_eq!(listed, vec![linked]);
}

/// A lookup matches on provider and account ID together, literally.
pub async fn lookup_needs_both_provider_and_account<F: UserFixture, DB: SuiteOAuthDb<F>>(db: DB) {
    let owner = user::<F, _>(&db).await;
    let account_id = fresh_account_id();
    db.add_oauth_account(owner.id(), account("github", &account_id))
        .await
        .expect("add_oauth_account");
    for (provider, id) in [
        ("google", account_id.as_str()),
        ("github", "unknown"),
        ("GITHUB", account_id.as_str()),
        ("github", "%"),
        ("%", account_id.as_str()),
    ] {
        let found = db.get_by_oauth_account(provider, id).await.expect("lookup");
        assert_eq!(found, None, "({provider:?}, {id:?}) must not match");
    }
}

/// Updating replaces the provider tokens, a `None` refresh token included.
pub async fn update_replaces_tokens<F: UserFixture, DB: SuiteOAuthDb<F>>(db: DB) {
    let owner = user::<F, _>(&db).await;
    let account_id = fresh_account_id();
    db.add_oauth_account(owner.id(), account("google", &account_id))
        .await
        .expect("add_oauth_account");
    let patch = OAuthAccountPatch {
        access_token: "new-access".into(),
        expires_at: None,
        refresh_token: None,
        account_email: "moved@provider.example".into(),
    };
    let updated = db
        .update_oauth_account(owner.id(), "google", &account_id, patch)
        .await
        .expect("update_oauth_account");
    assert_eq!(updated.access_token, "new-access");
    assert_eq!(updated.expires_at, None);
    assert_eq!(updated.refresh_token, None);
    assert_eq!(updated.account_email, "moved@provider.example");
    assert_eq!(updated.account_id, account_id);
    let listed = db.oauth_accounts(owner.id()).await.expect("oauth_accounts");
    assert_eq!(listed, vec![updated], "the update is stored");
}

/// Updating an account the user does not have is `NotFound`.
pub async fn update_unknown_account_is_not_found<F: UserFixture, DB: SuiteOAuthDb<F>>(db: DB) {
    let owner = user::<F, _>(&db).await;
    let other = user::<F, _>(&db).await;
    let account_id = fresh_account_id();
    db.add_oauth_account(other.id(), account("google", &account_id))
        .await
        .expect("add_oauth_account");
    let patch = OAuthAccountPatch {
        access_token: "x".into(),
        expires_at: None,
        refresh_token: None,
        account_email: "x@example.com".into(),
    };
    match db
        .update_oauth_account(owner.id(), "google", &account_id, patch)
        .await
    {
        Err(DbError::NotFound { .. }) => {}
        other => panic!("updating another user's account: expected NotFound, got {other:?}"),
    }
    let untouched = db.oauth_accounts(other.id()).await.expect("oauth_accounts");
    assert_eq!(untouched[0].access_token, format!("at-{account_id}"));
}

/// A `(provider, account id)` pair can be linked to one user only, once.
pub async fn account_belongs_to_one_user_only<F: UserFixture, DB: SuiteOAuthDb<F>>(db: DB) {
    let first = user::<F, _>(&db).await;
    let second = user::<F, _>(&db).await;
    let account_id = fresh_account_id();
    db.add_oauth_account(first.id(), account("google", &account_id))
        .await
        .expect("add_oauth_account");
    for (owner, context) in [(&second, "another user"), (&first, "the same user again")] {
        match db
            .add_oauth_account(owner.id(), account("google", &account_id))
            .await
        {
            Err(DbError::AlreadyExists { .. }) => {}
            other => panic!(
                "linking a taken account to {context}: expected AlreadyExists, got {other:?}"
            ),
        }
    }
    assert!(
        db.oauth_accounts(second.id())
            .await
            .expect("list")
            .is_empty()
    );
    db.add_oauth_account(second.id(), account("github", &account_id))
        .await
        .expect("the same account id at another provider is a different account");
}

/// Linking to a user that does not exist is `NotFound`.
pub async fn add_to_unknown_user_is_not_found<F: UserFixture, DB: SuiteOAuthDb<F>>(db: DB) {
    let account_id = fresh_account_id();
    match db
        .add_oauth_account(&<Id<F>>::unused(), account("google", &account_id))
        .await
    {
        Err(DbError::NotFound { .. }) => {}
        other => panic!("linking to an unknown user: expected NotFound, got {other:?}"),
    }
    assert_eq!(
        db.get_by_oauth_account("google", &account_id)
            .await
            .expect("lookup"),
        None
    );
}

/// A user's accounts are listed in the order they were linked.
pub async fn accounts_are_listed_in_link_order<F: UserFixture, DB: SuiteOAuthDb<F>>(db: DB) {
    let owner = user::<F, _>(&db).await;
    let ids: Vec<String> = (0..3).map(|_| fresh_account_id()).collect();
    for (provider, id) in ["google", "github", "facebook"].iter().zip(&ids) {
        db.add_oauth_account(owner.id(), account(provider, id))
            .await
            .expect("add_oauth_account");
    }
    let listed = db.oauth_accounts(owner.id()).await.expect("oauth_accounts");
    let names: Vec<&str> = listed.iter().map(|a| a.oauth_name.as_str()).collect();
    assert_eq!(names, ["google", "github", "facebook"]);
    assert!(
        db.oauth_accounts(&<Id<F>>::unused())
            .await
            .expect("list")
            .is_empty()
    );
}

/// Deleting a user deletes its accounts, which can then be linked to someone else.
pub async fn deleting_the_user_deletes_its_accounts<F: UserFixture, DB: SuiteOAuthDb<F>>(db: DB) {
    let owner = user::<F, _>(&db).await;
    let account_id = fresh_account_id();
    db.add_oauth_account(owner.id(), account("google", &account_id))
        .await
        .expect("add_oauth_account");
    db.delete(owner.id()).await.expect("delete");
    assert_eq!(
        db.get_by_oauth_account("google", &account_id)
            .await
            .expect("lookup"),
        None
    );
    assert!(
        db.oauth_accounts(owner.id())
            .await
            .expect("list")
            .is_empty()
    );
    let heir = user::<F, _>(&db).await;
    db.add_oauth_account(heir.id(), account("google", &account_id))
        .await
        .expect("the freed account can be linked again");
}
