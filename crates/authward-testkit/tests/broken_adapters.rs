//! The suites catch broken adapters: each store here breaks one rule on purpose, and the suite
//! test for that rule must fail (panic) against it, while passing against the correct store.

use std::panic::AssertUnwindSafe;

use async_trait::async_trait;
use authward_core::memory::{MemoryAccessTokenDatabase, MemoryUserDatabase};
use authward_core::{
    AccessToken, AccessTokenDatabase, AuthUser, DbError, NewAccessToken, NewOAuthAccount, NewUser,
    OAuthAccount, OAuthAccountPatch, OAuthUserDatabase, TokenDigest, UniqueKey, User, UserDatabase,
    UserPatch,
};
use authward_testkit::__private::block_on;
use authward_testkit::{Profile, StdUser, oauth, tokens, users};
use time::OffsetDateTime;

/// Runs a suite test and reports whether it failed.
fn fails<F: std::future::Future<Output = ()>>(test: F) -> bool {
    std::panic::catch_unwind(AssertUnwindSafe(|| block_on(test))).is_err()
}

/// Looks emails up case-sensitively (a `WHERE email = ?` adapter).
struct CaseSensitive(MemoryUserDatabase<i64>);

/// Checks for a duplicate and then inserts, with a gap between (no unique constraint).
struct CheckThenInsert(MemoryUserDatabase<i64>);

#[async_trait]
impl UserDatabase for CaseSensitive {
    type User = User<i64>;
    type Extra = ();
    async fn get(&self, id: &i64) -> Result<Option<User<i64>>, DbError> {
        self.0.get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<User<i64>>, DbError> {
        Ok(self
            .0
            .get_by_email(email)
            .await?
            .filter(|u| u.email() == email))
    }
    async fn create(&self, user: NewUser) -> Result<User<i64>, DbError> {
        self.0.create(user).await
    }
    async fn update(&self, id: &i64, patch: UserPatch) -> Result<User<i64>, DbError> {
        self.0.update(id, patch).await
    }
    async fn delete(&self, id: &i64) -> Result<(), DbError> {
        self.0.delete(id).await
    }
}

#[async_trait]
impl UserDatabase for CheckThenInsert {
    type User = User<i64>;
    type Extra = ();
    async fn get(&self, id: &i64) -> Result<Option<User<i64>>, DbError> {
        self.0.get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<User<i64>>, DbError> {
        self.0.get_by_email(email).await
    }
    async fn create(&self, user: NewUser) -> Result<User<i64>, DbError> {
        if self.0.get_by_email(&user.email).await?.is_some() {
            return Err(DbError::already_exists(UniqueKey::Email));
        }
        // A gap long enough that concurrent creates all pass the check before any inserts.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        // The "insert" of a store without a unique index: a fresh address each time.
        let mut unique = user.clone();
        unique.email = format!("{}.{}", uuid::Uuid::new_v4().simple(), user.email);
        let created = self.0.create(unique).await?;
        self.0
            .update(
                &created.id,
                UserPatch {
                    email: Some(user.email),
                    ..UserPatch::default()
                },
            )
            .await
            .or(Ok(created))
    }
    async fn update(&self, id: &i64, patch: UserPatch) -> Result<User<i64>, DbError> {
        self.0.update(id, patch).await
    }
    async fn delete(&self, id: &i64) -> Result<(), DbError> {
        self.0.delete(id).await
    }
}

/// Keeps the default `replace_password_hash` (read, then write) over a store whose reads take
/// a moment, as a database's do.
struct ReadThenWrite(MemoryUserDatabase<i64>);

#[async_trait]
impl UserDatabase for ReadThenWrite {
    type User = User<i64>;
    type Extra = ();
    async fn get(&self, id: &i64) -> Result<Option<User<i64>>, DbError> {
        let found = self.0.get(id).await;
        // The answer's way back.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        found
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<User<i64>>, DbError> {
        self.0.get_by_email(email).await
    }
    async fn create(&self, user: NewUser) -> Result<User<i64>, DbError> {
        self.0.create(user).await
    }
    async fn update(&self, id: &i64, patch: UserPatch) -> Result<User<i64>, DbError> {
        self.0.update(id, patch).await
    }
    async fn delete(&self, id: &i64) -> Result<(), DbError> {
        self.0.delete(id).await
    }
}

/// Compares the expected password hash ignoring letter case (a `WHERE hashed_password = ?` under
/// MySQL's default collation).
struct CaseInsensitiveHash(MemoryUserDatabase<i64>);

#[async_trait]
impl UserDatabase for CaseInsensitiveHash {
    type User = User<i64>;
    type Extra = ();
    async fn get(&self, id: &i64) -> Result<Option<User<i64>>, DbError> {
        self.0.get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<User<i64>>, DbError> {
        self.0.get_by_email(email).await
    }
    async fn create(&self, user: NewUser) -> Result<User<i64>, DbError> {
        self.0.create(user).await
    }
    async fn update(&self, id: &i64, patch: UserPatch) -> Result<User<i64>, DbError> {
        self.0.update(id, patch).await
    }
    async fn replace_password_hash(
        &self,
        id: &i64,
        current_hash: &str,
        new_hash: String,
    ) -> Result<Option<User<i64>>, DbError> {
        let Some(user) = self.0.get(id).await? else {
            return Ok(None);
        };
        let stored = user.hashed_password().to_owned();
        if !stored.eq_ignore_ascii_case(current_hash) {
            return Ok(None);
        }
        self.0.replace_password_hash(id, &stored, new_hash).await
    }
    async fn delete(&self, id: &i64) -> Result<(), DbError> {
        self.0.delete(id).await
    }
}

/// Keeps the default `create_with_oauth_account` (create, link, delete on failure) over a
/// store whose link takes a moment, as a database's does.
struct CreateThenLink(MemoryUserDatabase<i64>);

#[async_trait]
impl UserDatabase for CreateThenLink {
    type User = User<i64>;
    type Extra = ();
    async fn get(&self, id: &i64) -> Result<Option<User<i64>>, DbError> {
        self.0.get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<User<i64>>, DbError> {
        self.0.get_by_email(email).await
    }
    async fn create(&self, user: NewUser) -> Result<User<i64>, DbError> {
        self.0.create(user).await
    }
    async fn update(&self, id: &i64, patch: UserPatch) -> Result<User<i64>, DbError> {
        self.0.update(id, patch).await
    }
    async fn delete(&self, id: &i64) -> Result<(), DbError> {
        self.0.delete(id).await
    }
}

#[async_trait]
impl OAuthUserDatabase for CreateThenLink {
    async fn get_by_oauth_account(
        &self,
        oauth_name: &str,
        account_id: &str,
    ) -> Result<Option<User<i64>>, DbError> {
        self.0.get_by_oauth_account(oauth_name, account_id).await
    }
    async fn add_oauth_account(
        &self,
        user_id: &i64,
        account: NewOAuthAccount,
    ) -> Result<OAuthAccount<i64>, DbError> {
        // The round trip.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        self.0.add_oauth_account(user_id, account).await
    }
    async fn update_oauth_account(
        &self,
        user_id: &i64,
        oauth_name: &str,
        account_id: &str,
        patch: OAuthAccountPatch,
    ) -> Result<OAuthAccount<i64>, DbError> {
        self.0
            .update_oauth_account(user_id, oauth_name, account_id, patch)
            .await
    }
    async fn oauth_accounts(&self, user_id: &i64) -> Result<Vec<OAuthAccount<i64>>, DbError> {
        self.0.oauth_accounts(user_id).await
    }
}

/// Treats `max_age` as exclusive (`created_at > max_age`): off by one at the boundary.
struct ExclusiveMaxAge(MemoryAccessTokenDatabase<i64>);

#[async_trait]
impl AccessTokenDatabase<i64> for ExclusiveMaxAge {
    async fn get_by_token(
        &self,
        digest: &TokenDigest,
        max_age: Option<OffsetDateTime>,
    ) -> Result<Option<AccessToken<i64>>, DbError> {
        Ok(self
            .0
            .get_by_token(digest, None)
            .await?
            .filter(|t| max_age.is_none_or(|cutoff| t.created_at > cutoff)))
    }
    async fn create(&self, token: NewAccessToken<i64>) -> Result<AccessToken<i64>, DbError> {
        self.0.create(token).await
    }
    async fn delete(&self, digest: &TokenDigest) -> Result<bool, DbError> {
        self.0.delete(digest).await
    }
    async fn delete_all_for_user(&self, user_id: &i64) -> Result<u64, DbError> {
        self.0.delete_all_for_user(user_id).await
    }
    async fn list_for_user(&self, user_id: &i64) -> Result<Vec<AccessToken<i64>>, DbError> {
        self.0.list_for_user(user_id).await
    }
    async fn delete_expired(&self, created_before: OffsetDateTime) -> Result<u64, DbError> {
        self.0.delete_expired(created_before).await
    }
}

#[test]
fn case_sensitive_email_lookup_fails_the_suite() {
    let broken = CaseSensitive(MemoryUserDatabase::new());
    assert!(fails(users::get_by_email_ignores_ascii_case::<
        StdUser<i64, ()>,
        _,
    >(broken)));
    let broken = CaseSensitive(MemoryUserDatabase::new());
    assert!(fails(users::get_by_email_ignores_unicode_case::<
        StdUser<i64, ()>,
        _,
    >(broken)));
    let correct = MemoryUserDatabase::<i64>::new();
    assert!(!fails(users::get_by_email_ignores_ascii_case::<
        StdUser<i64, ()>,
        _,
    >(correct)));
}

#[test]
fn check_then_insert_fails_the_concurrency_test() {
    let broken = CheckThenInsert(MemoryUserDatabase::new());
    assert!(fails(
        users::concurrent_creates_of_one_email_yield_one_user::<StdUser<i64, ()>, _>(broken)
    ));
    let correct = MemoryUserDatabase::<i64>::new();
    assert!(!fails(
        users::concurrent_creates_of_one_email_yield_one_user::<StdUser<i64, ()>, _>(correct)
    ));
}

#[test]
fn a_read_then_write_password_replacement_fails_the_atomicity_test() {
    let broken = ReadThenWrite(MemoryUserDatabase::new());
    assert!(fails(
        users::replace_password_hash_is_conditional_and_atomic::<StdUser<i64, ()>, _>(broken)
    ));
    let correct = MemoryUserDatabase::<i64>::new();
    assert!(!fails(
        users::replace_password_hash_is_conditional_and_atomic::<StdUser<i64, ()>, _>(correct)
    ));
}

#[test]
fn a_case_insensitive_hash_comparison_fails_the_exactness_test() {
    let broken = CaseInsensitiveHash(MemoryUserDatabase::new());
    assert!(fails(
        users::replace_password_hash_compares_the_hash_exactly::<StdUser<i64, ()>, _>(broken)
    ));
    let correct = MemoryUserDatabase::<i64>::new();
    assert!(!fails(
        users::replace_password_hash_compares_the_hash_exactly::<StdUser<i64, ()>, _>(correct)
    ));
}

#[test]
fn a_create_then_link_sign_up_fails_the_cancellation_test() {
    let broken = CreateThenLink(MemoryUserDatabase::new());
    assert!(fails(
        oauth::create_with_oauth_account_survives_cancellation::<StdUser<i64, ()>, _>(broken)
    ));
    let correct = MemoryUserDatabase::<i64>::new();
    assert!(!fails(
        oauth::create_with_oauth_account_survives_cancellation::<StdUser<i64, ()>, _>(correct)
    ));
}

#[test]
fn exclusive_max_age_fails_the_boundary_test() {
    let broken = (
        ExclusiveMaxAge(MemoryAccessTokenDatabase::new()),
        MemoryUserDatabase::<i64>::new(),
    );
    assert!(fails(tokens::max_age_boundary::<i64, _>(broken)));
    let correct = (
        MemoryAccessTokenDatabase::<i64>::new(),
        MemoryUserDatabase::<i64>::new(),
    );
    assert!(!fails(tokens::max_age_boundary::<i64, _>(correct)));
}

/// Stores users but forgets their custom fields (writes the default instead).
struct DropsCustomFields(MemoryUserDatabase<i64, Profile>);

#[async_trait]
impl UserDatabase for DropsCustomFields {
    type User = User<i64, Profile>;
    type Extra = Profile;
    async fn get(&self, id: &i64) -> Result<Option<Self::User>, DbError> {
        self.0.get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<Self::User>, DbError> {
        self.0.get_by_email(email).await
    }
    async fn create(&self, user: NewUser<Profile>) -> Result<Self::User, DbError> {
        self.0.create(user.with_extra(Profile::default())).await
    }
    async fn update(&self, id: &i64, patch: UserPatch<Profile>) -> Result<Self::User, DbError> {
        self.0.update(id, patch).await
    }
    async fn delete(&self, id: &i64) -> Result<(), DbError> {
        self.0.delete(id).await
    }
}

#[test]
fn custom_fields_round_trip_proves_something_or_fails() {
    let broken = DropsCustomFields(MemoryUserDatabase::new());
    assert!(fails(users::custom_fields_round_trip::<
        StdUser<i64, Profile>,
        _,
    >(broken)));
    // A fixture without custom fields cannot pass it: it would prove nothing.
    assert!(fails(
        users::custom_fields_round_trip::<StdUser<i64, ()>, _>(MemoryUserDatabase::<i64>::new())
    ));
    assert!(!fails(users::custom_fields_round_trip::<
        StdUser<i64, Profile>,
        _,
    >(MemoryUserDatabase::<i64, Profile>::new())));
}
