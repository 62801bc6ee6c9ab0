//! Strategies driven by the user manager: password reset, password change and
//! log-out-everywhere revoke every token of every strategy.
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used)]

#[path = "fixtures/support.rs"]
mod support;

use std::sync::Arc;

use authward_core::manager::{UserCreate, UserManager, UserUpdate};
use authward_core::memory::MemoryAccessTokenDatabase;
use authward_core::strategy::{
    DatabaseStrategy, JwtKey, JwtStrategy, RefreshTokens, Strategy, StrategyError, WithRefresh,
};
use authward_core::{Argon2Hasher, PasswordHelper, User};
use support::*;
use time::Duration;

type Tokens = MemoryAccessTokenDatabase<Id>;

struct Setup {
    users: Users,
    manager: UserManager<Users>,
    /// JWT without any store: only the password fingerprint revokes.
    stateless: Arc<JwtStrategy<Id>>,
    /// JWT with a revocation store, plus refresh tokens.
    jwt: WithRefresh<User<Id>, Tokens>,
    db: Arc<DatabaseStrategy<Tokens, Id>>,
    clock: authward_core::ManualClock,
}

fn setup() -> Setup {
    let clock = clock();
    let users = Users::new();
    let stateless = Arc::new(
        JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::minutes(15))
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    let with_store = Arc::new(
        JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::minutes(15))
            .clock(clock.clone())
            .revocation_store(Tokens::new())
            .build()
            .unwrap(),
    );
    let refresh = RefreshTokens::new(Tokens::new(), Duration::days(7)).with_clock(clock.clone());
    let db = Arc::new(
        DatabaseStrategy::new(Tokens::new(), Some(Duration::hours(1))).with_clock(clock.clone()),
    );
    let manager = UserManager::builder(users.clone(), SECRET)
        .password_helper(PasswordHelper::new(Argon2Hasher::new(1024, 1, 1).unwrap()))
        .clock(clock.clone())
        .revoker(Arc::new(with_store.revocation_store().unwrap().clone()))
        .revoker(db.clone())
        .revoker(Arc::new(refresh.clone()))
        .build()
        .unwrap();
    let jwt = WithRefresh::new(with_store, refresh);
    Setup {
        users,
        manager,
        stateless,
        jwt,
        db,
        clock,
    }
}

struct Issued {
    stateless: String,
    access: String,
    refresh: String,
    db: String,
}

async fn login(s: &Setup, password: &str) -> (User<Id>, Issued) {
    let user = s
        .manager
        .authenticate("alice@example.com", password, None)
        .await
        .unwrap()
        .unwrap();
    let pair = s.jwt.login(&user).await.unwrap();
    let issued = Issued {
        stateless: s.stateless.write_token(&user).await.unwrap(),
        access: pair.access_token,
        refresh: pair.refresh_token,
        db: s.db.write_token(&user).await.unwrap(),
    };
    (user, issued)
}

/// How many of the issued tokens still work.
async fn working(s: &Setup, t: &Issued) -> usize {
    let reads = [
        s.stateless
            .read_token(&t.stateless, &s.users)
            .await
            .unwrap(),
        s.jwt.read_token(&t.access, &s.users).await.unwrap(),
        s.db.read_token(&t.db, &s.users).await.unwrap(),
    ];
    let refresh = match s.jwt.refresh_tokens().exchange(&t.refresh, &s.users).await {
        Ok(_) => 1,
        Err(StrategyError::InvalidRefreshToken) => 0,
        Err(e) => panic!("{e:?}"),
    };
    reads.iter().filter(|r| r.is_some()).count() + refresh
}

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn password_reset_through_the_manager_revokes_every_token() {
    let s = setup();
    s.manager
        .create(UserCreate::new("alice@example.com", PASSWORD), true, None)
        .await
        .unwrap();
    let (user, before) = login(&s, PASSWORD).await;
    let token = s.manager.forgot_password(&user, None).await.unwrap();
    s.clock.advance(Duration::seconds(1));
    s.manager
        .reset_password(&token, "a brand new passphrase", None)
        .await
        .unwrap();
    assert_eq!(working(&s, &before).await, 0);

    s.clock.advance(Duration::seconds(1));
    let (_, after) = login(&s, "a brand new passphrase").await;
    assert_eq!(working(&s, &after).await, 4);
}

#[tokio::test]
async fn password_change_through_the_manager_revokes_every_token() {
    let s = setup();
    s.manager
        .create(UserCreate::new("alice@example.com", PASSWORD), true, None)
        .await
        .unwrap();
    let (user, before) = login(&s, PASSWORD).await;
    let update = UserUpdate {
        password: Some("a different passphrase".into()),
        ..UserUpdate::default()
    };
    s.manager.update(update, &user, true, None).await.unwrap();
    assert_eq!(working(&s, &before).await, 0);
}

#[tokio::test]
async fn log_out_everywhere_through_the_manager() {
    let s = setup();
    s.manager
        .create(UserCreate::new("alice@example.com", PASSWORD), true, None)
        .await
        .unwrap();
    let (user, before) = login(&s, PASSWORD).await;
    s.clock.advance(Duration::seconds(1));
    s.manager.revoke_all_sessions(&user.id).await.unwrap();
    // Every stateful token is gone; the stateless JWT (no store) lives until it expires.
    assert_eq!(
        s.stateless
            .read_token(&before.stateless, &s.users)
            .await
            .unwrap(),
        Some(user.clone())
    );
    assert_eq!(working(&s, &before).await, 1);
    s.clock.advance(Duration::minutes(15));
    assert_eq!(
        s.stateless
            .read_token(&before.stateless, &s.users)
            .await
            .unwrap(),
        None
    );
}
