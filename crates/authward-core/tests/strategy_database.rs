//! The database strategy over the in-memory token store.
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used)]

#[path = "fixtures/support.rs"]
mod support;

use authward_core::memory::MemoryAccessTokenDatabase;
use authward_core::strategy::{DatabaseStrategy, Strategy};
use authward_core::{
    AccessTokenDatabase, ManualClock, NewAccessToken, RevokeReason, SessionRevoker, TokenDigest,
    TokenFamily, User, UserDatabase,
};
use support::*;
use time::Duration;

type Tokens = MemoryAccessTokenDatabase<Id>;
type Db = DatabaseStrategy<Tokens, Id>;

fn strategy(clock: &ManualClock) -> (Db, Tokens) {
    let tokens = Tokens::new();
    let strategy =
        DatabaseStrategy::new(tokens.clone(), Some(Duration::hours(1))).with_clock(clock.clone());
    (strategy, tokens)
}

async fn read(s: &Db, token: &str, users: &Users) -> Option<User<Id>> {
    Strategy::<User<Id>>::read_token(s, token, users)
        .await
        .unwrap()
}

#[tokio::test]
async fn round_trip_and_tokens_are_stored_only_as_digests() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (db, tokens) = strategy(&clock);
    let token = db.write_token(&alice).await.unwrap();
    assert_eq!(token.len(), 43);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(read(&db, &token, &users).await, Some(alice.clone()));

    let stored = tokens.list_for_user(&alice.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].digest, TokenDigest::of(&token));
    assert!(!format!("{stored:?}").contains(&token));
    assert_ne!(db.write_token(&alice).await.unwrap(), token);
}

#[tokio::test]
async fn expiry_at_the_boundary() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (db, _) = strategy(&clock);
    let token = db.write_token(&alice).await.unwrap();
    clock.set(START + Duration::hours(1));
    assert!(
        read(&db, &token, &users).await.is_some(),
        "created_at + lifetime still works"
    );
    clock.set(START + Duration::hours(1) + Duration::microseconds(1));
    assert!(read(&db, &token, &users).await.is_none());
    assert!(db.list_sessions(&alice.id).await.unwrap().is_empty());
    assert_eq!(db.purge_expired().await.unwrap(), 1);
}

#[tokio::test]
async fn without_lifetime_tokens_live_until_logout() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let db = DatabaseStrategy::new(Tokens::new(), None).with_clock(clock.clone());
    let token = db.write_token(&alice).await.unwrap();
    clock.advance(Duration::days(3650));
    assert!(read(&db, &token, &users).await.is_some());
    assert_eq!(db.purge_expired().await.unwrap(), 0);
    db.destroy_token(&token, &alice).await.unwrap();
    assert!(read(&db, &token, &users).await.is_none());
}

#[tokio::test]
async fn logout_deletes_only_that_token_of_that_user() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let bob = user(&users, "bob@example.com").await;
    let (db, tokens) = strategy(&clock);
    let first = db.write_token(&alice).await.unwrap();
    let second = db.write_token(&alice).await.unwrap();
    // Bob cannot log Alice's token out.
    db.destroy_token(&first, &bob).await.unwrap();
    assert!(read(&db, &first, &users).await.is_some());
    db.destroy_token(&first, &alice).await.unwrap();
    assert!(read(&db, &first, &users).await.is_none());
    assert!(read(&db, &second, &users).await.is_some());
    assert_eq!(tokens.len(), 1);
    // Garbage and repeated logouts are harmless.
    db.destroy_token(&first, &alice).await.unwrap();
    db.destroy_token("garbage", &alice).await.unwrap();
}

#[tokio::test]
async fn log_out_everywhere_and_revocation_on_password_reset() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let bob = user(&users, "bob@example.com").await;
    let (db, _) = strategy(&clock);
    let a1 = db.write_token(&alice).await.unwrap();
    let a2 = db.write_token(&alice).await.unwrap();
    let b1 = db.write_token(&bob).await.unwrap();
    assert_eq!(db.log_out_everywhere(&alice.id).await.unwrap(), 2);
    assert!(read(&db, &a1, &users).await.is_none());
    assert!(read(&db, &a2, &users).await.is_none());
    assert!(read(&db, &b1, &users).await.is_some());

    // Password reset / change: the user manager calls every SessionRevoker.
    set_password_hash(&users, &bob.id, "$argon2id$v=19$reset").await;
    SessionRevoker::revoke_all(&db, &bob.id, RevokeReason::PasswordReset)
        .await
        .unwrap();
    assert!(read(&db, &b1, &users).await.is_none());
    let fresh = db.write_token(&bob).await.unwrap();
    assert!(read(&db, &fresh, &users).await.is_some());
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_one_by_one() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let bob = user(&users, "bob@example.com").await;
    let (db, _) = strategy(&clock);
    let first = db.write_token(&alice).await.unwrap();
    clock.advance(Duration::minutes(10));
    let second = db.write_token(&alice).await.unwrap();
    let sessions = db.list_sessions(&alice.id).await.unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0].id, TokenDigest::of(&first));
    assert_eq!(sessions[0].created_at, START);
    assert_eq!(sessions[0].expires_at, Some(START + Duration::hours(1)));
    assert_eq!(sessions[1].id, TokenDigest::of(&second));

    assert!(
        !db.revoke_session(&bob.id, &sessions[0].id).await.unwrap(),
        "not bob's"
    );
    assert!(db.revoke_session(&alice.id, &sessions[0].id).await.unwrap());
    assert!(read(&db, &first, &users).await.is_none());
    assert!(read(&db, &second, &users).await.is_some());
}

#[tokio::test]
async fn deleted_and_inactive_users() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let bob = user(&users, "bob@example.com").await;
    let (db, _) = strategy(&clock);
    let a = db.write_token(&alice).await.unwrap();
    let b = db.write_token(&bob).await.unwrap();
    users.delete(&alice.id).await.unwrap();
    assert!(read(&db, &a, &users).await.is_none());
    deactivate(&users, &bob.id).await;
    assert!(!read(&db, &b, &users).await.unwrap().is_active);
}

#[tokio::test]
async fn hostile_and_malformed_tokens_never_reach_the_store() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    // A store that is down proves that nothing below reaches it.
    let db = DatabaseStrategy::<_, Id>::new(DownTokens, Some(Duration::hours(1)))
        .with_clock(clock.clone());
    let valid_shape = "A".repeat(43);
    for bad in [
        String::new(),
        "A".repeat(42),
        "A".repeat(44),
        format!("{}=", "A".repeat(42)),
        format!("{}/", "A".repeat(42)),
        format!("{}é", "A".repeat(41)),
        "a".repeat(1 << 20),
        "eyJhbGciOiJub25lIn0.e30.".to_owned(),
    ] {
        let got = Strategy::<User<Id>>::read_token(&db, &bad, &users).await;
        assert!(got.unwrap().is_none(), "{}", bad.len());
    }
    // A well-formed token does reach it, and the outage is an error, not "no user".
    let err = Strategy::<User<Id>>::read_token(&db, &valid_shape, &users)
        .await
        .unwrap_err();
    assert!(err.is_unavailable());
    let err = db.write_token(&alice).await.unwrap_err();
    assert!(err.is_unavailable());
}

#[tokio::test]
async fn unknown_tampered_and_truncated_tokens() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (db, _) = strategy(&clock);
    let token = db.write_token(&alice).await.unwrap();
    let last = if token.ends_with('A') { "B" } else { "A" };
    let tampered = format!("{}{last}", &token[..42]);
    assert!(read(&db, &tampered, &users).await.is_none());
    assert!(read(&db, &token[..42], &users).await.is_none());
    assert!(read(&db, &"A".repeat(43), &users).await.is_none());
    let err = Strategy::<User<Id>>::read_token(&db, &token, &DownUsers)
        .await
        .unwrap_err();
    assert!(err.is_unavailable());
}

#[tokio::test]
async fn refresh_records_in_the_same_store_are_not_access_tokens() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (db, tokens) = strategy(&clock);
    let refresh = "R".repeat(43);
    let mut record = NewAccessToken::new(&refresh, alice.id, START);
    record.family = Some(TokenFamily::new());
    tokens.create(record).await.unwrap();
    assert!(read(&db, &refresh, &users).await.is_none());
    assert!(db.list_sessions(&alice.id).await.unwrap().is_empty());
}
