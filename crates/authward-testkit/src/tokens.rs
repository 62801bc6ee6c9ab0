//! The `AccessTokenDatabase` suite.
//!
//! Times are whole seconds, so stores with millisecond or microsecond precision are held to
//! the same boundaries.

use std::sync::Arc;

use authward_core::{
    AccessToken, AccessTokenDatabase, AuthUser, DbError, NewAccessToken, NewUser, TokenDigest,
    TokenFamily, UserDatabase,
};
use time::{Duration, OffsetDateTime};

use crate::fixtures::{SampleId, unique_email};

/// Bound shared by the token suite: a token store plus a user store that makes token owners.
pub trait SuiteTokenDb<ID: SampleId>: Send + Sync + 'static {
    /// The token store under test.
    type Tokens: AccessTokenDatabase<ID> + 'static;
    /// The user store that makes owners.
    type Users: UserDatabase<User: AuthUser<Id = ID>> + 'static;
    /// Splits into the two stores.
    fn parts(&self) -> (&Self::Tokens, &Self::Users);
}

impl<ID, T, U> SuiteTokenDb<ID> for (T, U)
where
    ID: SampleId,
    T: AccessTokenDatabase<ID> + 'static,
    U: UserDatabase<User: AuthUser<Id = ID>> + 'static,
    U::Extra: Default,
{
    type Tokens = T;
    type Users = U;
    fn parts(&self) -> (&T, &U) {
        (&self.0, &self.1)
    }
}

async fn owner<ID: SampleId, U: UserDatabase<User: AuthUser<Id = ID>>>(users: &U) -> ID
where
    U::Extra: Default,
{
    let user = users
        .create(NewUser::new(unique_email("owner", "example.com"), "hash"))
        .await
        .expect("create token owner");
    user.id().clone()
}

fn base_time() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .expect("zero nanoseconds is valid")
}

fn random_token() -> String {
    format!("tok-{}-{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4())
}

async fn store<ID: SampleId, T: AccessTokenDatabase<ID>>(
    tokens: &T,
    user_id: &ID,
    created_at: OffsetDateTime,
) -> AccessToken<ID> {
    tokens
        .create(NewAccessToken::new(
            &random_token(),
            user_id.clone(),
            created_at,
        ))
        .await
        .expect("create token")
}

/// A stored token comes back exactly, by digest.
pub async fn create_get_round_trip<ID: SampleId, S: SuiteTokenDb<ID>>(db: S)
where
    <S::Users as UserDatabase>::Extra: Default,
{
    let (tokens, users) = db.parts();
    let user_id = owner(users).await;
    let token = random_token();
    let created = tokens
        .create(NewAccessToken::new(&token, user_id.clone(), base_time()))
        .await
        .expect("create");
    assert_eq!(created.digest, TokenDigest::of(&token));
    assert_eq!(created.user_id, user_id);
    assert_eq!(created.created_at, base_time_of(&created));
    let found = tokens
        .get_by_token(&TokenDigest::of(&token), None)
        .await
        .expect("get_by_token");
    assert_eq!(found, Some(created));
}

fn base_time_of<ID>(token: &AccessToken<ID>) -> OffsetDateTime {
    assert_eq!(
        token.created_at.nanosecond(),
        0,
        "created_at keeps whole seconds"
    );
    token.created_at
}

/// `max_age` keeps a token created exactly at the cut-off and drops one created before it.
pub async fn max_age_boundary<ID: SampleId, S: SuiteTokenDb<ID>>(db: S)
where
    <S::Users as UserDatabase>::Extra: Default,
{
    let (tokens, users) = db.parts();
    let user_id = owner(users).await;
    let created_at = base_time() - Duration::hours(1);
    let token = store(tokens, &user_id, created_at).await;
    let get = |cutoff| tokens.get_by_token(&token.digest, cutoff);
    assert!(get(None).await.expect("get").is_some(), "no max_age");
    assert!(
        get(Some(created_at - Duration::seconds(1)))
            .await
            .expect("get")
            .is_some(),
        "created after the cut-off"
    );
    assert!(
        get(Some(created_at)).await.expect("get").is_some(),
        "created exactly at the cut-off is still valid"
    );
    assert!(
        get(Some(created_at + Duration::seconds(1)))
            .await
            .expect("get")
            .is_none(),
        "created a second before the cut-off is expired"
    );
}

/// An unknown digest is `None`, not an error.
pub async fn unknown_token_is_none<ID: SampleId, S: SuiteTokenDb<ID>>(db: S)
where
    <S::Users as UserDatabase>::Extra: Default,
{
    let (tokens, _) = db.parts();
    let found = tokens
        .get_by_token(&TokenDigest::of(&random_token()), None)
        .await
        .expect("get_by_token");
    assert_eq!(found, None);
}

/// Storing the same digest twice is `AlreadyExists`.
pub async fn duplicate_digest_is_rejected<ID: SampleId, S: SuiteTokenDb<ID>>(db: S)
where
    <S::Users as UserDatabase>::Extra: Default,
{
    let (tokens, users) = db.parts();
    let user_id = owner(users).await;
    let token = random_token();
    tokens
        .create(NewAccessToken::new(&token, user_id.clone(), base_time()))
        .await
        .expect("create");
    match tokens
        .create(NewAccessToken::new(&token, user_id, base_time()))
        .await
    {
        Err(DbError::AlreadyExists { .. }) => {}
        other => panic!("duplicate digest: expected AlreadyExists, got {other:?}"),
    }
}

/// `delete` removes a token and reports whether it existed.
pub async fn delete_removes_once<ID: SampleId, S: SuiteTokenDb<ID>>(db: S)
where
    <S::Users as UserDatabase>::Extra: Default,
{
    let (tokens, users) = db.parts();
    let user_id = owner(users).await;
    let doomed = store(tokens, &user_id, base_time()).await;
    let kept = store(tokens, &user_id, base_time()).await;
    assert!(
        tokens.delete(&doomed.digest).await.expect("delete"),
        "first delete"
    );
    assert!(
        !tokens.delete(&doomed.digest).await.expect("delete"),
        "second delete"
    );
    assert_eq!(
        tokens
            .get_by_token(&doomed.digest, None)
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        tokens.get_by_token(&kept.digest, None).await.expect("get"),
        Some(kept),
        "other tokens stay"
    );
}

/// Of 20 concurrent deletes of one token exactly one reports `true` (single-use consumption).
pub async fn concurrent_deletes_succeed_once<ID: SampleId, S: SuiteTokenDb<ID>>(db: S)
where
    <S::Users as UserDatabase>::Extra: Default,
{
    let db = Arc::new(db);
    let user_id = owner(db.parts().1).await;
    let token = store(db.parts().0, &user_id, base_time()).await;
    let deletes = (0..20).map(|_| {
        let db = Arc::clone(&db);
        tokio::spawn(async move { db.parts().0.delete(&token.digest).await })
    });
    let mut wins = 0;
    for result in futures::future::join_all(deletes).await {
        if result.expect("delete task").expect("delete") {
            wins += 1;
        }
    }
    assert_eq!(wins, 1, "exactly one concurrent delete consumes the token");
}

/// `delete_all_for_user` removes that user's tokens only and counts them.
pub async fn delete_all_for_user<ID: SampleId, S: SuiteTokenDb<ID>>(db: S)
where
    <S::Users as UserDatabase>::Extra: Default,
{
    let (tokens, users) = db.parts();
    let alice = owner(users).await;
    let bob = owner(users).await;
    let mut alices = Vec::new();
    for _ in 0..3 {
        alices.push(store(tokens, &alice, base_time()).await);
    }
    let bobs = store(tokens, &bob, base_time()).await;
    assert_eq!(
        tokens
            .delete_all_for_user(&alice)
            .await
            .expect("delete_all"),
        3
    );
    for token in &alices {
        assert_eq!(
            tokens.get_by_token(&token.digest, None).await.expect("get"),
            None
        );
    }
    assert_eq!(
        tokens.get_by_token(&bobs.digest, None).await.expect("get"),
        Some(bobs)
    );
    assert_eq!(
        tokens
            .delete_all_for_user(&alice)
            .await
            .expect("delete_all"),
        0
    );
}

/// `list_for_user` returns the user's tokens, oldest first.
pub async fn list_for_user_oldest_first<ID: SampleId, S: SuiteTokenDb<ID>>(db: S)
where
    <S::Users as UserDatabase>::Extra: Default,
{
    let (tokens, users) = db.parts();
    let alice = owner(users).await;
    let bob = owner(users).await;
    let now = base_time();
    let newest = store(tokens, &alice, now).await;
    let oldest = store(tokens, &alice, now - Duration::minutes(10)).await;
    let middle = store(tokens, &alice, now - Duration::minutes(5)).await;
    store(tokens, &bob, now).await;
    let listed = tokens.list_for_user(&alice).await.expect("list_for_user");
    assert_eq!(listed, vec![oldest, middle, newest]);
    let nobody = tokens
        .list_for_user(&ID::unused())
        .await
        .expect("list_for_user");
    assert!(nobody.is_empty());
}

/// `delete_expired` removes tokens created strictly before the cut-off.
pub async fn delete_expired_keeps_the_boundary<ID: SampleId, S: SuiteTokenDb<ID>>(db: S)
where
    <S::Users as UserDatabase>::Extra: Default,
{
    let (tokens, users) = db.parts();
    let user_id = owner(users).await;
    // Far in the past, so tokens other tests store concurrently in a shared store are untouched.
    let cutoff = base_time() - Duration::days(3650) - Duration::seconds(i64::from(rand_u16()));
    let expired = store(tokens, &user_id, cutoff - Duration::seconds(1)).await;
    let boundary = store(tokens, &user_id, cutoff).await;
    let fresh = store(tokens, &user_id, base_time()).await;
    // authward's JWT revocation store writes its generation records in the year 9000 so
    // that no purge removes them: the store must keep such a date exactly, and never expire it.
    let far = store(
        tokens,
        &user_id,
        time::macros::datetime!(9000-01-01 0:00 UTC),
    )
    .await;
    let deleted = tokens.delete_expired(cutoff).await.expect("delete_expired");
    assert!(
        deleted >= 1,
        "the expired token is deleted (deleted {deleted})"
    );
    assert_eq!(
        tokens
            .get_by_token(&expired.digest, None)
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        tokens
            .get_by_token(&boundary.digest, None)
            .await
            .expect("get"),
        Some(boundary),
        "a token created exactly at the cut-off is kept"
    );
    assert_eq!(
        tokens.get_by_token(&fresh.digest, None).await.expect("get"),
        Some(fresh)
    );
    assert_eq!(
        tokens.get_by_token(&far.digest, None).await.expect("get"),
        Some(far),
        "a record dated in the year 9000 round-trips, and the purge leaves it"
    );
}

/// The refresh-token family and the used flag are stored and listed.
pub async fn refresh_metadata_round_trips<ID: SampleId, S: SuiteTokenDb<ID>>(db: S)
where
    <S::Users as UserDatabase>::Extra: Default,
{
    let (tokens, users) = db.parts();
    let user_id = owner(users).await;
    let family = TokenFamily::new();
    let mut record = NewAccessToken::new(&random_token(), user_id.clone(), base_time());
    record.family = Some(family);
    record.used = true;
    let created = tokens.create(record.clone()).await.expect("create");
    assert_eq!(created, record.into_token());
    let found = tokens
        .get_by_token(&created.digest, None)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(found.family, Some(family));
    assert!(found.used);
    let listed = tokens.list_for_user(&user_id).await.expect("list");
    assert_eq!(listed, vec![created]);
}

fn rand_u16() -> u16 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    u16::from_le_bytes([bytes[0], bytes[1]])
}

/// `any_for_user` finds a stored digest only for its owner, among any number of digests,
/// and says `false` for unknown digests and for none at all.
pub async fn any_for_user_matches_only_the_owner<ID: SampleId, S: SuiteTokenDb<ID>>(db: S)
where
    <S::Users as UserDatabase>::Extra: Default,
{
    let (tokens, users) = db.parts();
    let owner_id = owner(users).await;
    let other_id = owner(users).await;
    let stored = store(tokens, &owner_id, base_time()).await.digest;
    let mine = store(tokens, &other_id, base_time()).await.digest;
    let unknown = TokenDigest::of(&random_token());
    let ask = |user: &ID, digests: &[TokenDigest]| {
        let user = user.clone();
        let digests = digests.to_vec();
        async move {
            tokens
                .any_for_user(&user, &digests)
                .await
                .expect("any_for_user")
        }
    };
    assert!(ask(&owner_id, &[stored]).await, "its own digest");
    assert!(ask(&owner_id, &[unknown, stored]).await, "second of two");
    assert!(ask(&owner_id, &[stored, unknown]).await, "first of two");
    assert!(
        ask(&owner_id, &[unknown, unknown, mine, stored]).await,
        "fourth of four"
    );
    assert!(!ask(&other_id, &[stored]).await, "another user's digest");
    assert!(
        !ask(&owner_id, &[mine, unknown]).await,
        "only others' and unknown digests"
    );
    assert!(!ask(&owner_id, &[unknown]).await, "unknown digest");
    assert!(!ask(&owner_id, &[]).await, "no digest");
}
