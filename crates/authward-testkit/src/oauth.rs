//! The `OAuthUserDatabase` suite.

use authward_core::{
    AuthUser, DbError, NewOAuthAccount, NewUser, OAuthAccountPatch, OAuthUserDatabase, UniqueKey,
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

fn new_user<F: UserFixture>(email: String) -> NewUser<F::Extra> {
    NewUser {
        email,
        hashed_password: "$argon2id$unusable".into(),
        is_active: true,
        is_superuser: false,
        is_verified: false,
        extra: F::extra(3),
    }
}

async fn user<F: UserFixture, DB: SuiteOAuthDb<F>>(db: &DB) -> F::User {
    db.create(new_user::<F>(unique_email("oauth", "example.com")))
        .await
        .expect("create user")
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

/// `create_with_oauth_account` stores the user and the link together, or neither: a provider
/// account linked elsewhere or a taken email leaves nothing behind, and of 8 concurrent
/// sign-ups with one provider account exactly one lands.
pub async fn create_with_oauth_account_is_all_or_nothing<F: UserFixture, DB: SuiteOAuthDb<F>>(
    db: DB,
) {
    let account_id = fresh_account_id();
    let email = unique_email("signup", "example.com");
    let created = db
        .create_with_oauth_account(new_user::<F>(email.clone()), account("google", &account_id))
        .await
        .expect("create_with_oauth_account");
    assert_eq!(created.email(), email);
    let found = db.get_by_oauth_account("google", &account_id).await;
    assert_eq!(found.expect("lookup"), Some(created.clone()));
    let listed = db
        .oauth_accounts(created.id())
        .await
        .expect("oauth_accounts");
    assert_eq!(
        listed,
        vec![account("google", &account_id).into_account(created.id().clone())]
    );

    // The provider account is linked already: no user is left holding the new address.
    let other = unique_email("signup", "example.com");
    match db
        .create_with_oauth_account(new_user::<F>(other.clone()), account("google", &account_id))
        .await
    {
        Err(DbError::AlreadyExists {
            what: UniqueKey::OAuthAccount,
            ..
        }) => {}
        outcome => panic!("a provider account linked elsewhere: got {outcome:?}"),
    }
    assert_eq!(db.get_by_email(&other).await.expect("get_by_email"), None);

    // The email is taken: the provider account stays unlinked.
    let fresh = fresh_account_id();
    match db
        .create_with_oauth_account(new_user::<F>(email.clone()), account("google", &fresh))
        .await
    {
        Err(DbError::AlreadyExists {
            what: UniqueKey::Email,
            ..
        }) => {}
        outcome => panic!("a taken email: got {outcome:?}"),
    }
    let unlinked = db.get_by_oauth_account("google", &fresh).await;
    assert_eq!(unlinked.expect("lookup"), None);

    // Both are taken (two callbacks of one sign-up racing): the email is named, as every
    // store names it.
    match db
        .create_with_oauth_account(new_user::<F>(email.clone()), account("google", &account_id))
        .await
    {
        Err(DbError::AlreadyExists {
            what: UniqueKey::Email,
            ..
        }) => {}
        outcome => panic!("a taken email and a linked account: got {outcome:?}"),
    }

    let db = std::sync::Arc::new(db);
    let contested = fresh_account_id();
    let emails: Vec<String> = (0..8)
        .map(|_| unique_email("racer", "example.com"))
        .collect();
    let attempts = emails.iter().map(|email| {
        let db = std::sync::Arc::clone(&db);
        let new = new_user::<F>(email.clone());
        let account = account("github", &contested);
        tokio::spawn(async move { db.create_with_oauth_account(new, account).await })
    });
    let mut winners = Vec::new();
    for outcome in futures::future::join_all(attempts).await {
        match outcome.expect("sign-up task does not panic") {
            Ok(user) => winners.push(user),
            Err(DbError::AlreadyExists { .. }) => {}
            Err(other) => panic!("a losing sign-up must be AlreadyExists, got {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one concurrent sign-up lands");
    let owner = db.get_by_oauth_account("github", &contested).await;
    assert_eq!(owner.expect("lookup").as_ref(), winners.first());
    for email in &emails {
        let user = db.get_by_email(email).await.expect("get_by_email");
        if user.is_some() {
            assert_eq!(
                user.as_ref(),
                winners.first(),
                "only the winner's user exists"
            );
        }
    }
}

/// A `create_with_oauth_account` call dropped midway (a client gone, a timeout) never leaves
/// a user without its link: dropped after 0 to 10 ms, 40 times, a user found by its email is
/// found by its provider account too. At least one call must finish, so the check is not
/// vacuous.
pub async fn create_with_oauth_account_survives_cancellation<
    F: UserFixture,
    DB: SuiteOAuthDb<F>,
>(
    db: DB,
) {
    let mut finished = 0;
    for step in 0..=40_u64 {
        let email = unique_email("dropped", "example.com");
        let account_id = fresh_account_id();
        let call = db.create_with_oauth_account(
            new_user::<F>(email.clone()),
            account("google", &account_id),
        );
        let limit = if step == 40 {
            std::time::Duration::from_secs(30)
        } else {
            std::time::Duration::from_micros(step * 250)
        };
        if let Ok(outcome) = tokio::time::timeout(limit, call).await {
            outcome.expect("an undisturbed sign-up succeeds");
            finished += 1;
        }
        // A dropped call may still land afterwards (a write already sent): read the user
        // first, and once it exists its link must exist too.
        let user = db.get_by_email(&email).await.expect("get_by_email");
        if let Some(user) = user {
            let owner = db
                .get_by_oauth_account("google", &account_id)
                .await
                .expect("get_by_oauth_account");
            assert_eq!(
                owner.as_ref().map(|u| u.id().clone()),
                Some(user.id().clone()),
                "dropped after {} µs: a user was stored without its link",
                step * 250
            );
        }
    }
    assert!(finished > 0, "no sign-up finished");
}
