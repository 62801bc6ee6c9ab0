//! Several backends, tried in order.
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used)]

#[path = "fixtures/support.rs"]
mod support;

use std::sync::Arc;

use authward_core::User;
use authward_core::memory::MemoryAccessTokenDatabase;
use authward_core::strategy::{
    Authenticator, DatabaseStrategy, DuplicateBackendName, JwtKey, JwtStrategy, Strategy,
};
use support::*;
use time::Duration;

fn backends(
    clock: &authward_core::ManualClock,
) -> (Arc<JwtStrategy<Id>>, Arc<dyn Strategy<User<Id>>>) {
    let jwt = Arc::new(
        JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::hours(1))
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    let db: Arc<dyn Strategy<User<Id>>> = Arc::new(
        DatabaseStrategy::new(
            MemoryAccessTokenDatabase::<Id>::new(),
            Some(Duration::hours(1)),
        )
        .with_clock(clock.clone()),
    );
    (jwt, db)
}

#[tokio::test]
async fn backends_are_tried_in_order_and_the_first_user_wins() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let bob = user(&users, "bob@example.com").await;
    let (jwt, db) = backends(&clock);
    let auth = Authenticator::new()
        .with_backend("jwt", jwt.clone())
        .unwrap()
        .with_backend("cookie", db.clone())
        .unwrap();
    assert_eq!(auth.backend_names().collect::<Vec<_>>(), ["jwt", "cookie"]);
    let alice_jwt = jwt.write_token(&alice).await.unwrap();
    let bob_cookie = db.write_token(&bob).await.unwrap();

    // Both present: the first backend wins, whatever the order of candidates.
    let got = auth
        .authenticate(
            [("cookie", bob_cookie.as_str()), ("jwt", alice_jwt.as_str())],
            &users,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.user.id, got.backend.as_str(), got.token.as_str()),
        (alice.id, "jwt", alice_jwt.as_str())
    );
    assert!(!format!("{got:?}").contains(&alice_jwt));

    // A bad token in the first backend falls through to the second.
    let got = auth
        .authenticate(
            [("jwt", "garbage"), ("cookie", bob_cookie.as_str())],
            &users,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.user.id, got.backend.as_str()), (bob.id, "cookie"));

    // A token offered to the wrong backend, or to one that does not exist, is no user.
    let none = auth
        .authenticate(
            [
                ("cookie", alice_jwt.as_str()),
                ("bearer", alice_jwt.as_str()),
            ],
            &users,
        )
        .await
        .unwrap();
    assert!(none.is_none());
    assert!(auth.authenticate([], &users).await.unwrap().is_none());
}

#[tokio::test]
async fn a_storage_error_is_reported_only_when_no_backend_yields_a_user() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (jwt, _) = backends(&clock);
    let down: Arc<dyn Strategy<User<Id>>> =
        Arc::new(DatabaseStrategy::<_, Id>::new(DownTokens, None));
    let auth = Authenticator::new()
        .with_backend("db", down)
        .unwrap()
        .with_backend("jwt", jwt.clone())
        .unwrap();
    let token = jwt.write_token(&alice).await.unwrap();
    let db_token = "A".repeat(43);
    let got = auth
        .authenticate([("db", db_token.as_str()), ("jwt", token.as_str())], &users)
        .await
        .unwrap();
    assert_eq!(got.unwrap().user.id, alice.id);
    let err = auth
        .authenticate([("db", db_token.as_str()), ("jwt", "garbage")], &users)
        .await
        .unwrap_err();
    assert!(err.is_unavailable());
}

#[test]
fn backend_names_are_unique() {
    let clock = clock();
    let (jwt, db) = backends(&clock);
    let err = Authenticator::<User<Id>>::new()
        .with_backend("jwt", jwt)
        .unwrap()
        .with_backend("jwt", db)
        .unwrap_err();
    assert_eq!(err, DuplicateBackendName("jwt".into()));
}
