//! Refresh tokens: rotation, reuse detection, expiry, logout and revocation.
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used)]

#[path = "fixtures/support.rs"]
mod support;

use std::sync::Arc;

use authward_core::memory::MemoryAccessTokenDatabase;
use authward_core::strategy::{
    DatabaseStrategy, JwtKey, JwtStrategy, RefreshTokens, Strategy, StrategyError, WithRefresh,
};
use authward_core::{
    AccessTokenDatabase, Clock, ManualClock, NewAccessToken, RevokeReason, SessionRevoker,
    TokenDigest, TokenFamily, User, UserDatabase,
};
use support::*;
use time::Duration;

type Tokens = MemoryAccessTokenDatabase<Id>;

fn refresh_tokens(clock: &ManualClock) -> (RefreshTokens<Tokens, Id>, Tokens) {
    let store = Tokens::new();
    let tokens = RefreshTokens::new(store.clone(), Duration::days(7)).with_clock(clock.clone());
    (tokens, store)
}

fn jwt_with_refresh(clock: &ManualClock) -> (WithRefresh<User<Id>, Tokens>, Tokens) {
    let jwt = JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::minutes(15))
        .clock(clock.clone())
        .build()
        .unwrap();
    let (refresh, store) = refresh_tokens(clock);
    (WithRefresh::new(Arc::new(jwt), refresh), store)
}

fn is_reused(r: Result<(User<Id>, String), StrategyError>) -> bool {
    matches!(r, Err(StrategyError::RefreshTokenReused))
}

fn is_invalid<T>(r: Result<T, StrategyError>) -> bool {
    matches!(r, Err(StrategyError::InvalidRefreshToken))
}

#[tokio::test]
async fn login_returns_a_pair_and_refresh_rotates_every_time() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (auth, store) = jwt_with_refresh(&clock);
    let pair = auth.login(&alice).await.unwrap();
    assert_eq!(pair.token_type, "bearer");
    assert_eq!(pair.refresh_token.len(), 43);
    assert_eq!(
        auth.read_token(&pair.access_token, &users).await.unwrap(),
        Some(alice.clone())
    );
    assert!(!format!("{pair:?}").contains(&pair.refresh_token));
    let json = serde_json::to_value(&pair).unwrap();
    assert_eq!(json["token_type"], "bearer");

    let mut current = pair.refresh_token;
    let mut seen = vec![current.clone()];
    for _ in 0..5 {
        clock.advance(Duration::minutes(20));
        let (user, next) = auth.refresh(&current, &users).await.unwrap();
        assert_eq!(user, alice);
        assert!(!seen.contains(&next.refresh_token), "rotated");
        assert_eq!(
            auth.read_token(&next.access_token, &users).await.unwrap(),
            Some(alice.clone())
        );
        current = next.refresh_token;
        seen.push(current.clone());
    }
    // Stored only as digests: 5 tombstones, the live token, and 6 links (one per access token
    // issued: the login and each refresh) naming the family.
    let records = store.list_for_user(&alice.id).await.unwrap();
    assert_eq!(records.len(), 12);
    assert_eq!(records.iter().filter(|r| r.used).count(), 11);
    assert_eq!(
        records.iter().filter(|r| !r.used).count(),
        1,
        "one live refresh token"
    );
    assert!(
        records
            .iter()
            .all(|r| r.family == records[0].family && r.family.is_some())
    );
    assert!(
        records
            .iter()
            .any(|r| r.digest == TokenDigest::of(&current) && !r.used)
    );
}

#[tokio::test]
async fn reusing_a_refresh_token_revokes_the_whole_family_including_the_newest() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (tokens, store) = refresh_tokens(&clock);
    let r1 = tokens.issue(&alice.id).await.unwrap();
    let other_family = tokens.issue(&alice.id).await.unwrap();
    let other = family_of(&store, &other_family).await.unwrap();
    let (_, r2) = tokens.exchange(&r1, &users).await.unwrap();
    let (_, r3) = tokens.exchange(&r2, &users).await.unwrap();

    // A thief replays r1.
    assert!(is_reused(tokens.exchange(&r1, &users).await));
    assert!(
        is_invalid(tokens.exchange(&r3, &users).await),
        "newest revoked"
    );
    assert!(is_invalid(tokens.exchange(&r2, &users).await));
    // Another login's family is untouched.
    assert!(tokens.exchange(&other_family, &users).await.is_ok());
    // Left: the other family's tombstone and newest token, and the revoked family's mark (a
    // used record no token digest matches).
    let left = store.list_for_user(&alice.id).await.unwrap();
    assert_eq!(left.len(), 3);
    let revoked = left
        .iter()
        .filter(|record| record.family != Some(other))
        .collect::<Vec<_>>();
    assert_eq!(revoked.len(), 1);
    assert!(revoked[0].used);
    assert!(
        [&r1, &r2, &r3]
            .iter()
            .all(|token| revoked[0].digest != TokenDigest::of(token))
    );
}

#[tokio::test]
async fn a_concurrent_double_exchange_lets_one_win_then_detects_reuse() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (tokens, _) = refresh_tokens(&clock);
    let r1 = tokens.issue(&alice.id).await.unwrap();
    let (a, b) = tokio::join!(tokens.exchange(&r1, &users), tokens.exchange(&r1, &users));
    let (winner, loser) = if a.is_ok() { (a, b) } else { (b, a) };
    let (_, next) = winner.unwrap();
    assert!(is_reused(loser));
    assert!(
        is_invalid(tokens.exchange(&next, &users).await),
        "the family is gone"
    );
}

#[tokio::test]
async fn expiry_at_the_boundary() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (tokens, _) = refresh_tokens(&clock);
    let r1 = tokens.issue(&alice.id).await.unwrap();
    let r2 = tokens.issue(&alice.id).await.unwrap();
    clock.set(START + Duration::days(7));
    let (_, r3) = tokens.exchange(&r1, &users).await.unwrap();
    clock.set(START + Duration::days(7) + Duration::microseconds(1));
    assert!(is_invalid(tokens.exchange(&r2, &users).await));
    // A rotated token gets a fresh lifetime.
    clock.set(START + Duration::days(14));
    assert!(tokens.exchange(&r3, &users).await.is_ok());
}

#[tokio::test]
async fn logout_revokes_the_family_and_the_access_token() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let access =
        DatabaseStrategy::new(Tokens::new(), Some(Duration::minutes(15))).with_clock(clock.clone());
    let (refresh, _) = refresh_tokens(&clock);
    let auth = WithRefresh::new(Arc::new(access), refresh);
    let pair = auth.login(&alice).await.unwrap();
    let (_, pair) = auth.refresh(&pair.refresh_token, &users).await.unwrap();
    auth.logout(&pair.access_token, Some(&pair.refresh_token), &alice)
        .await
        .unwrap();
    assert_eq!(
        auth.read_token(&pair.access_token, &users).await.unwrap(),
        None
    );
    assert!(is_invalid(auth.refresh(&pair.refresh_token, &users).await));
}

#[tokio::test]
async fn logout_with_a_stateless_access_token_passes_destroy_not_supported_on() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (auth, _) = jwt_with_refresh(&clock);
    let pair = auth.login(&alice).await.unwrap();
    let err = auth
        .logout(&pair.access_token, Some(&pair.refresh_token), &alice)
        .await
        .unwrap_err();
    assert!(matches!(err, StrategyError::DestroyNotSupported));
    // The refresh family was revoked before that.
    assert!(is_invalid(auth.refresh(&pair.refresh_token, &users).await));
}

#[tokio::test]
async fn log_out_everywhere_and_password_reset_revoke_every_family() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let bob = user(&users, "bob@example.com").await;
    let (auth, _) = jwt_with_refresh(&clock);
    let p1 = auth.login(&alice).await.unwrap();
    let p2 = auth.login(&alice).await.unwrap();
    let pb = auth.login(&bob).await.unwrap();
    SessionRevoker::revoke_all(auth.refresh_tokens(), &alice.id, RevokeReason::LogoutAll)
        .await
        .unwrap();
    assert!(is_invalid(auth.refresh(&p1.refresh_token, &users).await));
    assert!(is_invalid(auth.refresh(&p2.refresh_token, &users).await));
    let (_, pb) = auth.refresh(&pb.refresh_token, &users).await.unwrap();

    // Password reset: the new hash kills the JWT access token, the revoker the refresh token.
    set_password_hash(&users, &bob.id, "$argon2id$v=19$reset").await;
    assert_eq!(
        auth.read_token(&pb.access_token, &users).await.unwrap(),
        None
    );
    SessionRevoker::revoke_all(auth.refresh_tokens(), &bob.id, RevokeReason::PasswordReset)
        .await
        .unwrap();
    assert!(is_invalid(auth.refresh(&pb.refresh_token, &users).await));
}

#[tokio::test]
async fn deleted_and_inactive_users_cannot_refresh() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let bob = user(&users, "bob@example.com").await;
    let (tokens, _) = refresh_tokens(&clock);
    let ra = tokens.issue(&alice.id).await.unwrap();
    let rb = tokens.issue(&bob.id).await.unwrap();
    users.delete(&alice.id).await.unwrap();
    deactivate(&users, &bob.id).await;
    assert!(is_invalid(tokens.exchange(&ra, &users).await));
    assert!(is_invalid(tokens.exchange(&rb, &users).await));
}

#[tokio::test]
async fn hostile_tokens_and_outages() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let down = RefreshTokens::<_, Id>::new(DownTokens, Duration::days(7)).with_clock(clock.clone());
    for bad in [
        String::new(),
        "A".repeat(42),
        "a".repeat(1 << 20),
        "eyJhbGciOiJub25lIn0.e30.".to_owned(),
        format!("{}é", "A".repeat(41)),
    ] {
        assert!(
            is_invalid(down.exchange::<User<Id>>(&bad, &users).await),
            "{}",
            bad.len()
        );
    }
    let err = down
        .exchange::<User<Id>>(&"A".repeat(43), &users)
        .await
        .unwrap_err();
    assert!(err.is_unavailable());
    assert!(down.issue(&alice.id).await.unwrap_err().is_unavailable());

    // An access-token record in the same store is not a refresh token.
    let (tokens, store) = refresh_tokens(&clock);
    let access = "X".repeat(43);
    store
        .create(NewAccessToken::new(&access, alice.id, START))
        .await
        .unwrap();
    assert!(is_invalid(tokens.exchange(&access, &users).await));
    // Unknown and tampered tokens.
    let real = tokens.issue(&alice.id).await.unwrap();
    let last = if real.ends_with('A') { "B" } else { "A" };
    assert!(is_invalid(
        tokens
            .exchange(&format!("{}{last}", &real[..42]), &users)
            .await
    ));
    let err = tokens.exchange(&real, &DownUsers).await.unwrap_err();
    assert!(err.is_unavailable());
    // The outage did not consume the token.
    assert!(tokens.exchange(&real, &users).await.is_ok());
}

#[tokio::test]
async fn revoking_by_token_and_unknown_tokens() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (tokens, _) = refresh_tokens(&clock);
    let r1 = tokens.issue(&alice.id).await.unwrap();
    let (_, r2) = tokens.exchange(&r1, &users).await.unwrap();
    assert!(tokens.revoke(&r2).await.unwrap());
    assert!(!tokens.revoke(&r2).await.unwrap());
    assert!(!tokens.revoke("garbage").await.unwrap());
    assert!(
        is_invalid(tokens.exchange(&r1, &users).await),
        "tombstone gone with the family"
    );
}

#[tokio::test]
async fn logging_out_with_a_consumed_token_ends_its_family() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (tokens, store) = refresh_tokens(&clock);
    let r1 = tokens.issue(&alice.id).await.unwrap();
    let (_, r2) = tokens.exchange(&r1, &users).await.unwrap();
    // r1 is consumed: its tombstone still names the family.
    assert!(tokens.revoke(&r1).await.unwrap());
    assert!(is_invalid(tokens.exchange(&r2, &users).await));
    assert_eq!(live_tokens(&store, &alice.id).await, 0);
}

#[tokio::test]
async fn a_tombstone_under_the_tokens_own_digest_still_counts_as_reuse() {
    // Earlier versions kept the tombstone under the consumed token's digest; a store upgraded
    // in place still holds such records.
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (tokens, store) = refresh_tokens(&clock);
    let r1 = tokens.issue(&alice.id).await.unwrap();
    let family = family_of(&store, &r1).await;
    let old = "o".repeat(43);
    let mut tombstone = NewAccessToken::new(&old, alice.id, clock.now());
    tombstone.family = family;
    tombstone.used = true;
    store.create(tombstone).await.unwrap();

    assert!(is_reused(tokens.exchange(&old, &users).await));
    assert!(
        is_invalid(tokens.exchange(&r1, &users).await),
        "family ended"
    );
}

/// A store in which every delete loses a race: another caller consumed the token between
/// our read and our delete.
struct LosesEveryRace(Tokens);

#[async_trait::async_trait]
impl AccessTokenDatabase<Id> for LosesEveryRace {
    async fn get_by_token(
        &self,
        digest: &TokenDigest,
        max_age: Option<time::OffsetDateTime>,
    ) -> Result<Option<authward_core::AccessToken<Id>>, authward_core::DbError> {
        self.0.get_by_token(digest, max_age).await
    }
    async fn create(
        &self,
        token: NewAccessToken<Id>,
    ) -> Result<authward_core::AccessToken<Id>, authward_core::DbError> {
        self.0.create(token).await
    }
    async fn delete(&self, digest: &TokenDigest) -> Result<bool, authward_core::DbError> {
        self.0.delete(digest).await?;
        Ok(false)
    }
    async fn delete_all_for_user(&self, user_id: &Id) -> Result<u64, authward_core::DbError> {
        self.0.delete_all_for_user(user_id).await
    }
    async fn list_for_user(
        &self,
        user_id: &Id,
    ) -> Result<Vec<authward_core::AccessToken<Id>>, authward_core::DbError> {
        self.0.list_for_user(user_id).await
    }
    async fn delete_expired(
        &self,
        before: time::OffsetDateTime,
    ) -> Result<u64, authward_core::DbError> {
        self.0.delete_expired(before).await
    }
}

#[tokio::test]
async fn losing_the_atomic_delete_is_reuse() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let inner = Tokens::new();
    let tokens = RefreshTokens::new(LosesEveryRace(inner.clone()), Duration::days(7))
        .with_clock(clock.clone());
    let r1 = tokens.issue(&alice.id).await.unwrap();
    let sibling = tokens.issue(&alice.id).await.unwrap();
    assert!(is_reused(tokens.exchange(&r1, &users).await));
    // Nothing new was issued, the family is gone (its revocation mark left), the other family
    // stays.
    let left = inner.list_for_user(&alice.id).await.unwrap();
    let live = left
        .iter()
        .filter(|record| !record.used)
        .collect::<Vec<_>>();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].digest, TokenDigest::of(&sibling));
    assert_eq!(left.len(), 2, "the sibling and the mark");
}

#[tokio::test]
async fn logout_with_the_access_token_alone_ends_its_refresh_family() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (auth, _) = jwt_with_refresh(&clock);
    let kept = auth.login(&alice).await.unwrap();
    let pair = auth.login(&alice).await.unwrap();
    let (_, rotated) = auth.refresh(&pair.refresh_token, &users).await.unwrap();
    // The client lost its refresh token: logging out with the rotated access token still ends
    // the family.
    // (This JWT has no revocation store: destroying the access token itself is not supported,
    // which logout passes on after ending the family.)
    assert!(matches!(
        auth.logout(&rotated.access_token, None, &alice).await,
        Err(StrategyError::DestroyNotSupported)
    ));
    assert!(is_invalid(
        auth.refresh(&rotated.refresh_token, &users).await
    ));
    // Another login's family is untouched.
    assert!(auth.refresh(&kept.refresh_token, &users).await.is_ok());
}

/// Which store call a [`Gated`] store can hold up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    /// Right after a `get_by_token` read its record.
    AfterRead,
    /// Right before a live (unused) token is stored.
    BeforeNewToken,
    /// Right after a `delete` removed a record.
    AfterDelete,
    /// In the middle of `list_for_user`: after reading which records the user has, before
    /// reading them.
    MidList,
}

/// One held-up call: `reached` fires when a caller arrives, which then waits for `release`.
struct Gate {
    step: Step,
    reached: Arc<tokio::sync::Notify>,
    release: Arc<tokio::sync::Notify>,
}

/// The memory store, with one-shot gates that hold a call at a chosen step, so a test can put
/// two exchanges in the exact interleaving a race would.
struct Gated {
    inner: Tokens,
    gates: std::sync::Mutex<Vec<Gate>>,
}

impl Gated {
    fn new(inner: Tokens) -> Self {
        Self {
            inner,
            gates: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Holds the next call reaching `step`; returns (reached, release).
    fn arm(&self, step: Step) -> (Arc<tokio::sync::Notify>, Arc<tokio::sync::Notify>) {
        let gate = Gate {
            step,
            reached: Arc::new(tokio::sync::Notify::new()),
            release: Arc::new(tokio::sync::Notify::new()),
        };
        let handles = (Arc::clone(&gate.reached), Arc::clone(&gate.release));
        self.gates.lock().unwrap().push(gate);
        handles
    }

    async fn pass(&self, step: Step) {
        let gate = {
            let mut gates = self.gates.lock().unwrap();
            let at = gates.iter().position(|gate| gate.step == step);
            at.map(|at| gates.remove(at))
        };
        if let Some(gate) = gate {
            gate.reached.notify_one();
            gate.release.notified().await;
        }
    }
}

#[async_trait::async_trait]
impl AccessTokenDatabase<Id> for Gated {
    async fn get_by_token(
        &self,
        digest: &TokenDigest,
        max_age: Option<time::OffsetDateTime>,
    ) -> Result<Option<authward_core::AccessToken<Id>>, authward_core::DbError> {
        let record = self.inner.get_by_token(digest, max_age).await;
        self.pass(Step::AfterRead).await;
        record
    }
    async fn create(
        &self,
        token: NewAccessToken<Id>,
    ) -> Result<authward_core::AccessToken<Id>, authward_core::DbError> {
        if !token.used {
            self.pass(Step::BeforeNewToken).await;
        }
        self.inner.create(token).await
    }
    async fn delete(&self, digest: &TokenDigest) -> Result<bool, authward_core::DbError> {
        let deleted = self.inner.delete(digest).await;
        if matches!(deleted, Ok(true)) {
            self.pass(Step::AfterDelete).await;
        }
        deleted
    }
    async fn delete_all_for_user(&self, user_id: &Id) -> Result<u64, authward_core::DbError> {
        self.inner.delete_all_for_user(user_id).await
    }
    /// Lists in two steps, as the Redis store does (the user's index, then the records as
    /// they are by then), so a listing is not a snapshot.
    async fn list_for_user(
        &self,
        user_id: &Id,
    ) -> Result<Vec<authward_core::AccessToken<Id>>, authward_core::DbError> {
        let index = self.inner.list_for_user(user_id).await?;
        self.pass(Step::MidList).await;
        let mut records = Vec::new();
        for listed in index {
            if let Some(record) = self.inner.get_by_token(&listed.digest, None).await? {
                records.push(record);
            }
        }
        Ok(records)
    }
    async fn delete_expired(
        &self,
        before: time::OffsetDateTime,
    ) -> Result<u64, authward_core::DbError> {
        self.inner.delete_expired(before).await
    }
}

/// Alice (of `users`) with one refresh token `r1` (its family's only record: no access token
/// linked), over a [`Gated`] store whose records are in `inner`.
async fn race() -> (Users, User<Id>, Tokens, RefreshTokens<Gated, Id>, String) {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let inner = Tokens::new();
    let tokens = RefreshTokens::new(Gated::new(inner.clone()), Duration::days(7)).with_clock(clock);
    let r1 = tokens.issue(&alice.id).await.unwrap();
    (users, alice, inner, tokens, r1)
}

/// `run`, failing (instead of hanging) when a step it waits for is never reached, as with code
/// that no longer takes that step.
async fn within<F: Future>(run: F) -> F::Output {
    tokio::time::timeout(std::time::Duration::from_secs(10), run)
        .await
        .expect("a gated step was never reached")
}

/// Runs `a` until it reaches its step, then `b` to the end, then `a` to the end; their
/// outputs.
async fn interrupt<A: Future, B: Future>(
    store: &Gated,
    (step, a): (Step, A),
    b: B,
) -> (A::Output, B::Output) {
    let (paused, resume) = store.arm(step);
    within(async {
        tokio::join!(a, async {
            paused.notified().await;
            let out = b.await;
            resume.notify_one();
            out
        })
    })
    .await
}

/// Runs `a` until it reaches its step, then `b` until it reaches its own, then `a` to the end,
/// then `b` to the end; their outputs.
async fn interleave<A: Future, B: Future>(
    store: &Gated,
    (a_step, a): (Step, A),
    (b_step, b): (Step, B),
) -> (A::Output, B::Output) {
    let (a_paused, resume_a) = store.arm(a_step);
    let (b_paused, resume_b) = store.arm(b_step);
    let a_done = tokio::sync::Notify::new();
    let (a, b, ()) = within(async {
        tokio::join!(
            async {
                let out = a.await;
                a_done.notify_one();
                out
            },
            async {
                a_paused.notified().await;
                b.await
            },
            async {
                b_paused.notified().await;
                resume_a.notify_one();
                a_done.notified().await;
                resume_b.notify_one();
            }
        )
    })
    .await;
    (a, b)
}

/// The family of `token`'s record.
async fn family_of(store: &Tokens, token: &str) -> Option<TokenFamily> {
    let record = store.get_by_token(&TokenDigest::of(token), None).await;
    record.unwrap().unwrap().family
}

/// The live (unused) tokens of `user`.
async fn live_tokens(store: &Tokens, user: &Id) -> usize {
    let records = store.list_for_user(user).await.unwrap();
    records.iter().filter(|record| !record.used).count()
}

#[tokio::test]
async fn a_replay_between_the_tombstone_and_the_next_token_still_ends_the_family() {
    let (users, alice, inner, tokens, r1) = race().await;
    let sibling = tokens.issue(&alice.id).await.unwrap();

    // The first exchange consumes r1 and leaves its tombstone, then stops before storing r2;
    // a replay of r1 runs to the end in that gap.
    let (first, replay) = interrupt(
        tokens.store(),
        (Step::BeforeNewToken, tokens.exchange(&r1, &users)),
        tokens.exchange(&r1, &users),
    )
    .await;

    assert!(is_reused(replay));
    assert!(
        is_invalid(first),
        "the family was revoked while r2 was being issued: r2 must not be handed out"
    );
    assert_eq!(live_tokens(&inner, &alice.id).await, 1, "only the sibling");
    assert!(tokens.exchange(&sibling, &users).await.is_ok());
}

#[tokio::test]
async fn a_replay_that_read_first_and_lost_the_delete_still_ends_the_family() {
    let (users, alice, inner, tokens, r1) = race().await;

    // The replay reads r1 (not yet used) and stops; the legitimate exchange reads, consumes r1,
    // leaves the tombstone and stops before storing r2; the replay then loses the delete and
    // revokes the family before r2 exists.
    let (replay, first) = interleave(
        tokens.store(),
        (Step::AfterRead, tokens.exchange(&r1, &users)),
        (Step::BeforeNewToken, tokens.exchange(&r1, &users)),
    )
    .await;

    assert!(is_reused(replay));
    assert!(is_invalid(first), "r2 must not be handed out");
    assert_eq!(live_tokens(&inner, &alice.id).await, 0);
}

#[tokio::test]
async fn ending_every_session_while_an_exchange_stores_the_next_token_ends_it_too() {
    // A password change (or log-out-everywhere) lands while a stolen refresh token is being
    // exchanged, at each step of the exchange: the thief must not keep a session.
    for step in [Step::AfterDelete, Step::BeforeNewToken] {
        let (users, alice, inner, tokens, r1) = race().await;

        let (exchange, revoked) = interrupt(
            tokens.store(),
            (step, tokens.exchange(&r1, &users)),
            tokens.revoke_all(&alice.id, RevokeReason::PasswordChanged),
        )
        .await;

        revoked.unwrap();
        assert!(
            is_invalid(exchange),
            "{step:?}: the next token must not be handed out"
        );
        assert_eq!(live_tokens(&inner, &alice.id).await, 0, "{step:?}");
    }
}

#[tokio::test]
async fn ending_every_session_ends_an_exchange_under_way_even_when_listing_is_not_a_snapshot() {
    // The revocation reads the user's index (the token), the exchange then stores the
    // tombstone, consumes the token and stops before storing the next one; the revocation
    // finds the token gone and never saw the tombstone in its index.
    let (users, alice, inner, tokens, r1) = race().await;

    let (revoked, exchange) = interleave(
        tokens.store(),
        (
            Step::MidList,
            tokens.revoke_all(&alice.id, RevokeReason::LogoutAll),
        ),
        (Step::BeforeNewToken, tokens.exchange(&r1, &users)),
    )
    .await;

    revoked.unwrap();
    assert!(
        is_invalid(exchange),
        "the next token must not be handed out"
    );
    assert_eq!(live_tokens(&inner, &alice.id).await, 0);
}

#[tokio::test]
async fn a_login_after_everything_was_revoked_refreshes_normally() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let (tokens, _) = refresh_tokens(&clock);
    let before = tokens.issue(&alice.id).await.unwrap();
    tokens
        .revoke_all(&alice.id, RevokeReason::PasswordChanged)
        .await
        .unwrap();
    assert!(is_invalid(tokens.exchange(&before, &users).await));
    clock.advance(Duration::seconds(1));
    let after = tokens.issue(&alice.id).await.unwrap();
    let (_, next) = tokens.exchange(&after, &users).await.unwrap();
    assert!(tokens.exchange(&next, &users).await.is_ok());
    // A second revocation dates the mark again: the new family ends with it.
    clock.advance(Duration::seconds(1));
    let (_, newest) = {
        let family = tokens.issue(&alice.id).await.unwrap();
        tokens.exchange(&family, &users).await.unwrap()
    };
    tokens
        .revoke_all(&alice.id, RevokeReason::LogoutAll)
        .await
        .unwrap();
    assert!(is_invalid(tokens.exchange(&newest, &users).await));
}

/// An access-token strategy that holds its next `write_token` until released, so a test can
/// revoke sessions between a refresh's exchange and the access token it issues.
struct HoldsWrite {
    inner: Arc<dyn Strategy<User<Id>>>,
    armed: std::sync::atomic::AtomicBool,
    reached: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl Strategy<User<Id>> for HoldsWrite {
    async fn read_token(
        &self,
        token: &str,
        users: &dyn authward_core::strategy::UserLookup<User<Id>>,
    ) -> Result<Option<User<Id>>, StrategyError> {
        self.inner.read_token(token, users).await
    }
    async fn write_token(&self, user: &User<Id>) -> Result<String, StrategyError> {
        if self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            self.reached.notify_one();
            self.release.notified().await;
        }
        self.inner.write_token(user).await
    }
    async fn destroy_token(&self, token: &str, user: &User<Id>) -> Result<(), StrategyError> {
        self.inner.destroy_token(token, user).await
    }
    async fn revoke_all(&self, user_id: &Id, reason: RevokeReason) -> Result<(), StrategyError> {
        self.inner.revoke_all(user_id, reason).await
    }
    fn revocation(&self) -> authward_core::strategy::Revocation {
        self.inner.revocation()
    }
}

#[tokio::test]
async fn a_revocation_while_a_refresh_writes_its_access_token_hands_out_nothing() {
    // The exchange has checked the family; the access token is not written yet. A logout (of
    // the family) or the end of every session runs to the end in that gap: the access token
    // written afterwards must not be handed out, nor outlive the revocation.
    for logout_all in [true, false] {
        let (users, clock) = (Users::new(), clock());
        let alice = user(&users, "alice@example.com").await;
        let access_store = Tokens::new();
        let held = Arc::new(HoldsWrite {
            inner: Arc::new(DatabaseStrategy::new(
                access_store.clone(),
                Some(Duration::hours(1)),
            )),
            armed: std::sync::atomic::AtomicBool::new(false),
            reached: tokio::sync::Notify::new(),
            release: tokio::sync::Notify::new(),
        });
        let (refresh, refresh_store) = refresh_tokens(&clock);
        let auth = WithRefresh::new(held.clone(), refresh);
        let pair = auth.login(&alice).await.unwrap();

        held.armed.store(true, std::sync::atomic::Ordering::SeqCst);
        let (refreshed, ()) = within(async {
            tokio::join!(auth.refresh(&pair.refresh_token, &users), async {
                held.reached.notified().await;
                if logout_all {
                    auth.revoke_all(&alice.id, RevokeReason::LogoutAll)
                        .await
                        .unwrap();
                } else {
                    auth.logout(&pair.access_token, None, &alice).await.unwrap();
                }
                held.release.notify_one();
            })
        })
        .await;

        assert!(
            is_invalid(refreshed),
            "logout_all={logout_all}: nothing may be handed out"
        );
        assert!(
            access_store
                .list_for_user(&alice.id)
                .await
                .unwrap()
                .is_empty(),
            "logout_all={logout_all}: the access token written meanwhile is destroyed"
        );
        assert_eq!(
            live_tokens(&refresh_store, &alice.id).await,
            0,
            "logout_all={logout_all}: no refresh token is left"
        );
    }
}

/// An exchange that began before a log-out-everywhere finished checks the family again when it
/// links its access token. A later log-out-everywhere of the same user rewrites the mark the
/// earlier one left: at no point of that rewrite may the earlier one go unseen, or the check
/// would pass and the exchange's tokens be handed out after their sessions were ended.
#[tokio::test]
async fn an_earlier_end_of_every_session_stays_seen_while_a_later_one_rewrites_its_mark() {
    let (users, alice, _inner, tokens, r1) = race().await;
    let exchanged = tokens.exchange_in_family(&r1, &users).await.unwrap();
    tokens.revoke_all_for_user(&alice.id).await.unwrap();

    // The later revocation is held after each of its first two deletes (the replaced mark, or
    // copy of it, is gone then, and its replacement not written yet); the exchange checks at
    // each of those moments.
    let store = tokens.store();
    let (first_reached, first_release) = store.arm(Step::AfterDelete);
    let (later, (first, second)) = within(async {
        tokio::join!(tokens.revoke_all_for_user(&alice.id), async {
            first_reached.notified().await;
            let first = tokens.link_issued(&exchanged, "an access token").await;
            // Armed only now: the check above deletes what it linked, past no gate.
            let (second_reached, second_release) = store.arm(Step::AfterDelete);
            first_release.notify_one();
            second_reached.notified().await;
            let second = tokens.link_issued(&exchanged, "another access token").await;
            second_release.notify_one();
            (first, second)
        })
    })
    .await;
    later.unwrap();
    assert!(
        is_invalid(first),
        "after the later revocation's first delete, the earlier one must still be seen"
    );
    assert!(
        is_invalid(second),
        "after the later revocation's second delete, a revocation must still be seen"
    );
}
