//! The JWT strategy: round trip, expiry, revocation and hostile tokens.
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used)]

#[path = "fixtures/support.rs"]
mod support;

use std::sync::Arc;

use authward_core::memory::MemoryAccessTokenDatabase;
use authward_core::strategy::{
    JwtAlgorithm, JwtConfigError, JwtKey, JwtKeyError, JwtStrategy, Strategy, StrategyError,
};
use authward_core::{Clock, ManualClock, RevokeReason, SessionRevoker, User, UserDatabase};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use support::*;
use time::Duration;

fn hs256(clock: &ManualClock) -> JwtStrategy<Id> {
    JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::hours(1))
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn with_revocations(clock: &ManualClock) -> JwtStrategy<Id> {
    JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::hours(1))
        .clock(clock.clone())
        .revocation_store(MemoryAccessTokenDatabase::<Id>::new())
        .build()
        .unwrap()
}

async fn read(s: &JwtStrategy<Id>, token: &str, users: &Users) -> Option<User<Id>> {
    Strategy::<User<Id>>::read_token(s, token, users)
        .await
        .unwrap()
}

fn now_secs(clock: &ManualClock) -> i64 {
    clock.now().unix_timestamp()
}

/// Valid claims for `user` as JSON text, with `extra` members appended.
/// HS256 with `SECRET`, tokens valid an hour, on `clock`, without password fingerprints (so
/// that forged claims need none): what most tests here build on.
fn hs256_on(clock: &ManualClock) -> authward_core::strategy::JwtStrategyBuilder<Id> {
    JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::hours(1))
        .clock(clock.clone())
        .without_password_fingerprint()
}

fn claims_json(user: &User<Id>, clock: &ManualClock, extra: &str) -> String {
    let now = now_secs(clock);
    format!(
        r#"{{"sub":"{}","aud":["fastapi-users:auth"],"exp":{},"iat":{now}{extra}}}"#,
        user.id,
        now + 60
    )
}

#[tokio::test]
async fn round_trip_with_fastapi_users_claims() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = hs256(&clock);
    let token = jwt.write_token(&alice).await.unwrap();
    assert_eq!(read(&jwt, &token, &users).await, Some(alice.clone()));

    let claims = payload(&token);
    assert_eq!(claims["sub"], alice.id.to_string());
    assert_eq!(claims["aud"], serde_json::json!(["fastapi-users:auth"]));
    assert_eq!(claims["iat"], START.unix_timestamp());
    assert_eq!(claims["exp"], START.unix_timestamp() + 3600);
    assert!(claims["jti"].as_str().unwrap().len() >= 22);
    assert_eq!(
        header(&token),
        serde_json::json!({"alg": "HS256", "typ": "JWT"})
    );

    // Two tokens in the same second differ (FastAPI Users issue #1292).
    let again = jwt.write_token(&alice).await.unwrap();
    assert_ne!(token, again);
    assert_eq!(read(&jwt, &again, &users).await, Some(alice));
}

#[tokio::test]
async fn our_hs256_signature_matches_an_independent_hmac() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let token = hs256(&clock).write_token(&alice).await.unwrap();
    let (message, signature) = token.rsplit_once('.').unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(message.as_bytes());
    assert_eq!(signature, b64(&mac.finalize().into_bytes()));
}

#[tokio::test]
async fn expiry_at_the_boundary() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = hs256(&clock);
    let token = jwt.write_token(&alice).await.unwrap();
    clock.set(START + Duration::hours(1) - Duration::nanoseconds(1));
    assert!(read(&jwt, &token, &users).await.is_some());
    clock.set(START + Duration::hours(1));
    assert!(
        read(&jwt, &token, &users).await.is_none(),
        "exp itself is expired"
    );
}

#[tokio::test]
async fn leeway_extends_exp_by_exactly_its_length() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::hours(1))
        .clock(clock.clone())
        .leeway(Duration::seconds(5))
        .build()
        .unwrap();
    let token = jwt.write_token(&alice).await.unwrap();
    clock.set(START + Duration::hours(1) + Duration::seconds(5) - Duration::nanoseconds(1));
    assert!(read(&jwt, &token, &users).await.is_some());
    clock.set(START + Duration::hours(1) + Duration::seconds(5));
    assert!(read(&jwt, &token, &users).await.is_none());
}

#[tokio::test]
async fn logout_without_a_revocation_store_is_not_supported() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = hs256(&clock);
    let token = jwt.write_token(&alice).await.unwrap();
    let err = jwt.destroy_token(&token, &alice).await.unwrap_err();
    assert!(matches!(err, StrategyError::DestroyNotSupported), "{err:?}");
    let err = jwt.log_out_everywhere(&alice.id).await.unwrap_err();
    assert!(
        matches!(err, StrategyError::RevokeAllNotSupported),
        "{err:?}"
    );
    assert!(jwt.revocation_store().is_none());
}

#[tokio::test]
async fn logout_revokes_only_that_token() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = with_revocations(&clock);
    let first = jwt.write_token(&alice).await.unwrap();
    let second = jwt.write_token(&alice).await.unwrap();
    jwt.destroy_token(&first, &alice).await.unwrap();
    assert!(read(&jwt, &first, &users).await.is_none());
    assert!(read(&jwt, &second, &users).await.is_some());
    // Logging out twice is fine.
    jwt.destroy_token(&first, &alice).await.unwrap();
}

#[tokio::test]
async fn logout_of_someone_elses_token_does_nothing() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let bob = user(&users, "bob@example.com").await;
    let jwt = with_revocations(&clock);
    let token = jwt.write_token(&alice).await.unwrap();
    jwt.destroy_token(&token, &bob).await.unwrap();
    assert!(read(&jwt, &token, &users).await.is_some());
}

#[tokio::test]
async fn log_out_everywhere_revokes_every_earlier_token() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let bob = user(&users, "bob@example.com").await;
    let jwt = with_revocations(&clock);
    let a1 = jwt.write_token(&alice).await.unwrap();
    clock.advance(Duration::minutes(5));
    let a2 = jwt.write_token(&alice).await.unwrap();
    let b1 = jwt.write_token(&bob).await.unwrap();
    clock.advance(Duration::milliseconds(300));
    jwt.log_out_everywhere(&alice.id).await.unwrap();
    assert!(read(&jwt, &a1, &users).await.is_none());
    assert!(read(&jwt, &a2, &users).await.is_none());
    assert!(
        read(&jwt, &b1, &users).await.is_some(),
        "other users keep their tokens"
    );
    // A token issued after the revocation works at once, in the same instant (the clock does
    // not move here): the generation decides, not the clock.
    let right_after = jwt.write_token(&alice).await.unwrap();
    assert!(read(&jwt, &right_after, &users).await.is_some());
    assert_eq!(payload(&right_after)["gen"], 1);
}

#[tokio::test]
async fn a_token_issued_after_a_revocation_never_dies_of_it_even_with_a_clock_behind() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let records = MemoryAccessTokenDatabase::<Id>::new();
    // Two servers sharing one revocation store, the second one's clock 30 s behind.
    let behind = ManualClock::new(clock.now() - Duration::seconds(30));
    let node_a = JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::hours(1))
        .clock(clock.clone())
        .revocation_store(records.clone())
        .build()
        .unwrap();
    let node_b = JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::hours(1))
        .clock(behind)
        .revocation_store(records.clone())
        .build()
        .unwrap();
    for round in 1..=20_u64 {
        let before = node_b.write_token(&alice).await.unwrap();
        node_a.log_out_everywhere(&alice.id).await.unwrap();
        assert!(
            read(&node_a, &before, &users).await.is_none(),
            "round {round}"
        );
        assert!(
            read(&node_b, &before, &users).await.is_none(),
            "round {round}"
        );
        // Logged in again at once, on the server whose clock is behind.
        let after = node_b.write_token(&alice).await.unwrap();
        assert_eq!(payload(&after)["gen"], round);
        assert!(
            read(&node_a, &after, &users).await.is_some(),
            "round {round}"
        );
        assert!(
            read(&node_b, &after, &users).await.is_some(),
            "round {round}"
        );
    }
}

#[tokio::test]
async fn a_token_without_iat_is_revoked_by_any_cut_off() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = hs256_on(&clock)
        .revocation_store(MemoryAccessTokenDatabase::<Id>::new())
        .build()
        .unwrap();
    let now = now_secs(&clock);
    let token = forge_hs256(
        r#"{"alg":"HS256"}"#,
        &format!(
            r#"{{"sub":"{}","aud":"fastapi-users:auth","exp":{}}}"#,
            alice.id,
            now + 60
        ),
        SECRET,
    );
    assert!(read(&jwt, &token, &users).await.is_some());
    let revoker = jwt.revocation_store().unwrap();
    SessionRevoker::revoke_all(revoker, &alice.id, RevokeReason::LogoutAll)
        .await
        .unwrap();
    clock.advance(Duration::seconds(2));
    assert!(read(&jwt, &token, &users).await.is_none());
}

#[tokio::test]
async fn password_change_and_reset_kill_earlier_tokens_without_any_store() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = hs256(&clock);
    let before = jwt.write_token(&alice).await.unwrap();

    // Password change.
    let changed = set_password_hash(&users, &alice.id, "$argon2id$v=19$changed").await;
    assert!(read(&jwt, &before, &users).await.is_none());
    let after_change = jwt.write_token(&changed).await.unwrap();
    assert_eq!(read(&jwt, &after_change, &users).await, Some(changed));

    // Password reset (same effect on the stored hash).
    let reset = set_password_hash(&users, &alice.id, "$argon2id$v=19$reset").await;
    assert!(read(&jwt, &after_change, &users).await.is_none());
    let after_reset = jwt.write_token(&reset).await.unwrap();
    assert!(read(&jwt, &after_reset, &users).await.is_some());
}

#[tokio::test]
async fn without_fingerprints_a_password_change_does_not_revoke() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = hs256_on(&clock).build().unwrap();
    let token = jwt.write_token(&alice).await.unwrap();
    assert!(payload(&token).get("fgpt").is_none());
    set_password_hash(&users, &alice.id, "$argon2id$v=19$changed").await;
    assert!(read(&jwt, &token, &users).await.is_some());
}

#[tokio::test]
async fn a_token_without_fingerprint_is_refused_when_fingerprints_are_on() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let token = forge_hs256(
        r#"{"alg":"HS256"}"#,
        &claims_json(&alice, &clock, ""),
        SECRET,
    );
    assert!(read(&hs256(&clock), &token, &users).await.is_none());
    let forged_fingerprint = forge_hs256(
        r#"{"alg":"HS256"}"#,
        &claims_json(&alice, &clock, r#","fgpt":"AAAAAAAAAAAAAAAAAAAAAA""#),
        SECRET,
    );
    assert!(
        read(&hs256(&clock), &forged_fingerprint, &users)
            .await
            .is_none()
    );
}

#[tokio::test]
async fn deleted_and_inactive_users() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let bob = user(&users, "bob@example.com").await;
    let jwt = hs256(&clock);
    let alice_token = jwt.write_token(&alice).await.unwrap();
    let bob_token = jwt.write_token(&bob).await.unwrap();
    users.delete(&alice.id).await.unwrap();
    assert!(read(&jwt, &alice_token, &users).await.is_none());
    // Inactive users are returned; the route decides (FastAPI Users' behaviour).
    deactivate(&users, &bob.id).await;
    let got = read(&jwt, &bob_token, &users).await.unwrap();
    assert!(!got.is_active);
}

#[tokio::test]
async fn a_storage_outage_is_an_error_not_a_missing_user() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = hs256(&clock);
    let token = jwt.write_token(&alice).await.unwrap();
    let err = Strategy::<User<Id>>::read_token(&jwt, &token, &DownUsers)
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");

    let with_down_store = JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::hours(1))
        .clock(clock.clone())
        .revocation_store(DownTokens)
        .build()
        .unwrap();
    let err = Strategy::<User<Id>>::read_token(&with_down_store, &token, &users)
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    // A bad token never reaches the store.
    assert!(read(&with_down_store, "garbage", &users).await.is_none());
}

// ---- hostile inputs -------------------------------------------------------------------------

#[tokio::test]
async fn alg_none_is_refused() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = hs256_on(&clock).build().unwrap();
    let claims = claims_json(&alice, &clock, "");
    // Sanity: the same claims properly signed are accepted.
    let good = forge_hs256(r#"{"alg":"HS256"}"#, &claims, SECRET);
    assert!(read(&jwt, &good, &users).await.is_some());
    for alg in ["none", "None", "NONE", "nOnE", ""] {
        let unsigned = format!(
            "{}.{}.",
            b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes()),
            b64(claims.as_bytes())
        );
        assert!(read(&jwt, &unsigned, &users).await.is_none(), "{alg}");
        let with_sig = format!("{unsigned}{}", good.rsplit('.').next().unwrap());
        assert!(read(&jwt, &with_sig, &users).await.is_none(), "{alg}");
        // Even with a valid HMAC over the header that says `none`.
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        let hmac_signed = forge_hs256(&header, &claims, SECRET);
        assert!(read(&jwt, &hmac_signed, &users).await.is_none(), "{alg}");
    }
}

#[tokio::test]
async fn the_header_alg_must_be_the_keys_algorithm() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = hs256_on(&clock).build().unwrap();
    let claims = claims_json(&alice, &clock, "");
    // Correct HMAC-SHA256 signatures, but headers naming another algorithm.
    for header in [
        r#"{"alg":"HS512"}"#,
        r#"{"alg":"RS256"}"#,
        r#"{"alg":"hs256"}"#,
        r#"{"typ":"JWT"}"#,
        r#"{"alg":["HS256"]}"#,
    ] {
        let token = forge_hs256(header, &claims, SECRET);
        assert!(read(&jwt, &token, &users).await.is_none(), "{header}");
    }
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_is_refused() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let public = fixture("rsa_public.pem");
    let key =
        JwtKey::from_pem_pair(JwtAlgorithm::RS256, fixture("rsa_private.pem"), &public).unwrap();
    let jwt = JwtStrategy::builder(key.clone(), Duration::hours(1))
        .clock(clock.clone())
        .without_password_fingerprint()
        .build()
        .unwrap();
    let named = JwtStrategy::builder(key.with_kid("rsa-1"), Duration::hours(1))
        .clock(clock.clone())
        .without_password_fingerprint()
        .build()
        .unwrap();
    let claims = claims_json(&alice, &clock, "");
    for (strategy, header) in [
        (&jwt, r#"{"alg":"HS256","typ":"JWT"}"#),
        (&named, r#"{"alg":"HS256","typ":"JWT","kid":"rsa-1"}"#),
    ] {
        let confused = forge_hs256(header, &claims, &public);
        assert!(
            read(strategy, &confused, &users).await.is_none(),
            "{header}"
        );
        // Sanity: the strategy accepts its own RS256 tokens.
        let own = strategy.write_token(&alice).await.unwrap();
        assert!(read(strategy, &own, &users).await.is_some());
    }
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let now = now_secs(&clock);
    let jwt = hs256_on(&clock).build().unwrap();
    let with_aud = |aud: &str| {
        forge_hs256(
            r#"{"alg":"HS256"}"#,
            &format!(r#"{{"sub":"{}","aud":{aud},"exp":{}}}"#, alice.id, now + 60),
            SECRET,
        )
    };
    assert!(
        read(&jwt, &with_aud(r#""fastapi-users:auth""#), &users)
            .await
            .is_some()
    );
    assert!(
        read(&jwt, &with_aud(r#"["x","fastapi-users:auth"]"#), &users)
            .await
            .is_some()
    );
    for aud in [
        r#""fastapi-users:reset""#,
        r#"["fastapi-users:verify"]"#,
        "[]",
        "null",
        r#"["fastapi-users:auth",1]"#,
    ] {
        assert!(read(&jwt, &with_aud(aud), &users).await.is_none(), "{aud}");
    }

    // A configured audience replaces the default one.
    let custom = JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::hours(1))
        .clock(clock.clone())
        .audience(["my-app"])
        .build()
        .unwrap();
    let token = custom.write_token(&alice).await.unwrap();
    assert_eq!(payload(&token)["aud"], serde_json::json!(["my-app"]));
    assert!(read(&custom, &token, &users).await.is_some());
    assert!(read(&hs256(&clock), &token, &users).await.is_none());
}

#[tokio::test]
async fn exp_sub_and_aud_are_required_and_typed() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let now = now_secs(&clock);
    let jwt = hs256_on(&clock).build().unwrap();
    let id = alice.id;
    let exp = now + 60;
    for (case, claims) in [
        (
            "missing exp",
            format!(r#"{{"sub":"{id}","aud":"fastapi-users:auth"}}"#),
        ),
        (
            "string exp",
            format!(r#"{{"sub":"{id}","aud":"fastapi-users:auth","exp":"{exp}"}}"#),
        ),
        (
            "null exp",
            format!(r#"{{"sub":"{id}","aud":"fastapi-users:auth","exp":null}}"#),
        ),
        (
            "missing sub",
            format!(r#"{{"aud":"fastapi-users:auth","exp":{exp}}}"#),
        ),
        ("missing aud", format!(r#"{{"sub":"{id}","exp":{exp}}}"#)),
        (
            "sub not an id",
            format!(r#"{{"sub":"42","aud":"fastapi-users:auth","exp":{exp}}}"#),
        ),
        (
            "duplicate sub",
            format!(r#"{{"sub":"{id}","sub":"{id}","aud":"fastapi-users:auth","exp":{exp}}}"#),
        ),
        (
            "string iat",
            format!(r#"{{"sub":"{id}","aud":"fastapi-users:auth","exp":{exp},"iat":"1"}}"#),
        ),
        ("claims not an object", format!(r#"["{id}"]"#)),
    ] {
        let token = forge_hs256(r#"{"alg":"HS256"}"#, &claims, SECRET);
        assert!(read(&jwt, &token, &users).await.is_none(), "{case}");
    }
    let numeric_sub =
        JwtStrategy::<i64>::builder(JwtKey::hs256(SECRET).unwrap(), Duration::hours(1))
            .clock(clock.clone())
            .without_password_fingerprint()
            .build()
            .unwrap();
    let int_users = authward_core::memory::MemoryUserDatabase::<i64>::new();
    let bob = int_users
        .create(authward_core::NewUser::new("bob@example.com", "h"))
        .await
        .unwrap();
    let as_number = forge_hs256(
        r#"{"alg":"HS256"}"#,
        &format!(
            r#"{{"sub":{},"aud":"fastapi-users:auth","exp":{exp}}}"#,
            bob.id
        ),
        SECRET,
    );
    let as_text = forge_hs256(
        r#"{"alg":"HS256"}"#,
        &format!(
            r#"{{"sub":"{}","aud":"fastapi-users:auth","exp":{exp}}}"#,
            bob.id
        ),
        SECRET,
    );
    let read_int = |t: String| {
        let (s, u) = (&numeric_sub, &int_users);
        async move { Strategy::<User<i64>>::read_token(s, &t, u).await.unwrap() }
    };
    assert!(
        read_int(as_number).await.is_none(),
        "a numeric sub is refused"
    );
    assert!(read_int(as_text).await.is_some());
}

#[tokio::test]
async fn future_nbf_and_iat_are_refused() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = hs256_on(&clock).build().unwrap();
    let now = now_secs(&clock);
    let id = alice.id;
    let token = |extra: String| {
        forge_hs256(
            r#"{"alg":"HS256"}"#,
            &format!(
                r#"{{"sub":"{id}","aud":"fastapi-users:auth","exp":{}{extra}}}"#,
                now + 600
            ),
            SECRET,
        )
    };
    assert!(
        read(&jwt, &token(format!(r#","nbf":{now}"#)), &users)
            .await
            .is_some()
    );
    assert!(
        read(&jwt, &token(format!(r#","nbf":{}"#, now + 1)), &users)
            .await
            .is_none()
    );
    assert!(
        read(&jwt, &token(format!(r#","nbf":"{now}""#)), &users)
            .await
            .is_none()
    );
    assert!(
        read(&jwt, &token(format!(r#","iat":{}"#, now + 1)), &users)
            .await
            .is_none()
    );
    // Present but null is not absent: the token is invalid.
    for claim in ["nbf", "iat", "jti", "iss"] {
        assert!(
            read(&jwt, &token(format!(r#","{claim}":null"#)), &users)
                .await
                .is_none(),
            "{claim}: null"
        );
    }
    // Once the clock reaches nbf the token works.
    let later = token(format!(r#","nbf":{}"#, now + 30));
    clock.advance(Duration::seconds(30));
    assert!(read(&jwt, &later, &users).await.is_some());
}

#[tokio::test]
async fn crit_header_is_refused() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = hs256_on(&clock).build().unwrap();
    let claims = claims_json(&alice, &clock, "");
    assert!(
        read(
            &jwt,
            &forge_hs256(r#"{"alg":"HS256"}"#, &claims, SECRET),
            &users
        )
        .await
        .is_some()
    );
    for header in [
        r#"{"alg":"HS256","crit":["exp"]}"#,
        r#"{"alg":"HS256","crit":["b64"],"b64":false}"#,
        r#"{"alg":"HS256","crit":[]}"#,
    ] {
        let token = forge_hs256(header, &claims, SECRET);
        assert!(read(&jwt, &token, &users).await.is_none(), "{header}");
    }
}

#[tokio::test]
async fn key_rotation_by_kid() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let old_secret = b"an old secret that is long enough, 2029";
    let old = JwtStrategy::builder(
        JwtKey::hs256(old_secret).unwrap().with_kid("2029"),
        Duration::hours(1),
    )
    .clock(clock.clone())
    .build()
    .unwrap();
    let old_token = old.write_token(&alice).await.unwrap();
    assert_eq!(header(&old_token)["kid"], "2029");

    let rotated = JwtStrategy::builder(
        JwtKey::hs256(SECRET).unwrap().with_kid("2030"),
        Duration::hours(1),
    )
    .verification_key(
        JwtKey::hs256(old_secret)
            .unwrap()
            .with_kid("2029")
            .verification_only(),
    )
    .clock(clock.clone())
    .build()
    .unwrap();
    let new_token = rotated.write_token(&alice).await.unwrap();
    assert_eq!(header(&new_token)["kid"], "2030");
    assert!(
        read(&rotated, &old_token, &users).await.is_some(),
        "old tokens keep working"
    );
    assert!(read(&rotated, &new_token, &users).await.is_some());
    assert!(
        read(&old, &new_token, &users).await.is_none(),
        "old config knows no 2030 key"
    );

    // The old key retired: its tokens stop working.
    let retired = JwtStrategy::builder(
        JwtKey::hs256(SECRET).unwrap().with_kid("2030"),
        Duration::hours(1),
    )
    .clock(clock.clone())
    .build()
    .unwrap();
    assert!(read(&retired, &old_token, &users).await.is_none());
}

#[tokio::test]
async fn unknown_kid_and_kid_confusion_are_refused() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = JwtStrategy::builder(
        JwtKey::hs256(SECRET).unwrap().with_kid("a"),
        Duration::hours(1),
    )
    .clock(clock.clone())
    .without_password_fingerprint()
    .build()
    .unwrap();
    let claims = claims_json(&alice, &clock, "");
    assert!(
        read(
            &jwt,
            &forge_hs256(r#"{"alg":"HS256","kid":"a"}"#, &claims, SECRET),
            &users
        )
        .await
        .is_some()
    );
    for header in [
        r#"{"alg":"HS256","kid":"b"}"#,
        r#"{"alg":"HS256","kid":""}"#,
        r#"{"alg":"HS256","kid":"../../a"}"#,
        r#"{"alg":"HS256","kid":1}"#,
        // No kid and no kid-less key configured.
        r#"{"alg":"HS256"}"#,
    ] {
        let token = forge_hs256(header, &claims, SECRET);
        assert!(read(&jwt, &token, &users).await.is_none(), "{header}");
    }
}

#[tokio::test]
async fn tampering_truncation_and_garbage_are_refused() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let bob = user(&users, "bob@example.com").await;
    let jwt = hs256(&clock);
    let token = jwt.write_token(&alice).await.unwrap();
    let (head, rest) = token.split_once('.').unwrap();
    let (body, sig) = rest.split_once('.').unwrap();

    // Payload changed to bob, signature kept.
    let mut claims = payload(&token);
    claims["sub"] = bob.id.to_string().into();
    let swapped = format!("{head}.{}.{sig}", b64(claims.to_string().as_bytes()));
    // Signature altered in its first character, and one bit of its last byte.
    let first = if sig.starts_with('A') { 'B' } else { 'A' };
    let bad_first = format!("{head}.{body}.{first}{}", &sig[1..]);
    let mut sig_bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
    *sig_bytes.last_mut().unwrap() ^= 1;
    let bad_bit = format!("{head}.{body}.{}", b64(&sig_bytes));
    let non_utf8_header = format!("{}.{body}.{sig}", b64(&[0xff, 0xfe, 0x7b]));

    let cases = [
        ("payload swapped", swapped),
        ("signature first char", bad_first),
        ("signature bit", bad_bit),
        ("truncated by one", token[..token.len() - 1].to_owned()),
        ("signature dropped", format!("{head}.{body}")),
        ("empty signature", format!("{head}.{body}.")),
        ("four parts", format!("{token}.{sig}")),
        ("header only", head.to_owned()),
        ("non-base64", "!!!.@@@.###".to_owned()),
        ("padded signature", format!("{token}=")),
        ("whitespace", format!(" {token}")),
        ("non-UTF-8 header", non_utf8_header),
        ("empty", String::new()),
        ("dots", "..".to_owned()),
        ("unicode", "é.é.é".to_owned()),
    ];
    for (case, bad) in cases {
        assert!(read(&jwt, &bad, &users).await.is_none(), "{case}");
    }
    // Sanity: the original still works.
    assert!(read(&jwt, &token, &users).await.is_some());
}

/// Claims are decoded on the stack up to 512 bytes and on the heap beyond: tokens of every
/// size around that boundary verify, and a wrong signature is refused on both sides of it.
#[tokio::test]
async fn claims_of_every_size_around_the_inline_buffer_verify() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = hs256_on(&clock).build().unwrap();
    for n in 300..=700 {
        let claims = claims_json(&alice, &clock, &format!(r#","pad":"{}""#, "x".repeat(n)));
        let token = forge_hs256(r#"{"alg":"HS256"}"#, &claims, SECRET);
        assert!(
            read(&jwt, &token, &users).await.is_some(),
            "{} bytes",
            claims.len()
        );
        let forged = forge_hs256(
            r#"{"alg":"HS256"}"#,
            &claims,
            b"another secret of 32 bytes or more",
        );
        assert!(
            read(&jwt, &forged, &users).await.is_none(),
            "{} bytes",
            claims.len()
        );
    }
}

#[tokio::test]
async fn oversized_tokens_are_refused_even_when_correctly_signed() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = hs256_on(&clock).build().unwrap();
    let padded = |n: usize| {
        forge_hs256(
            r#"{"alg":"HS256"}"#,
            &claims_json(&alice, &clock, &format!(r#","pad":"{}""#, "x".repeat(n))),
            SECRET,
        )
    };
    let fits = padded(5_000);
    assert!(fits.len() < 8 * 1024);
    assert!(read(&jwt, &fits, &users).await.is_some());
    let just_over = padded(6_000);
    assert!(just_over.len() > 8 * 1024);
    assert!(read(&jwt, &just_over, &users).await.is_none());
    let one_mb = padded(1 << 20);
    assert!(read(&jwt, &one_mb, &users).await.is_none());
    assert!(read(&jwt, &"a".repeat(1 << 20), &users).await.is_none());
}

// ---- configuration --------------------------------------------------------------------------

#[test]
fn short_hmac_secrets_are_refused_at_construction() {
    for (alg, min) in [
        (JwtAlgorithm::HS256, 32),
        (JwtAlgorithm::HS384, 48),
        (JwtAlgorithm::HS512, 64),
    ] {
        assert!(JwtKey::hmac(alg, vec![7_u8; min]).is_ok());
        match JwtKey::hmac(alg, vec![7_u8; min - 1]) {
            Err(JwtKeyError::SecretTooShort { actual, .. }) => assert_eq!(actual, min - 1),
            other => panic!("{alg:?}: {other:?}"),
        }
    }
    assert!(matches!(
        JwtStrategy::<Id>::hs256(b"SECRET", Duration::hours(1)),
        Err(JwtConfigError::Key(JwtKeyError::SecretTooShort { .. }))
    ));
    assert!(matches!(
        JwtKey::hmac(JwtAlgorithm::RS256, SECRET),
        Err(JwtKeyError::WrongAlgorithm { .. })
    ));
}

#[test]
fn mismatched_key_pairs_and_curves_are_refused() {
    assert!(matches!(
        JwtKey::from_pem_pair(
            JwtAlgorithm::RS256,
            fixture("rsa_private.pem"),
            fixture("rsa2_public.pem")
        ),
        Err(JwtKeyError::KeyPairMismatch { .. })
    ));
    assert!(
        JwtKey::from_pem_pair(
            JwtAlgorithm::ES256,
            fixture("ec384_private.pem"),
            fixture("ec384_public.pem")
        )
        .is_err()
    );
    assert!(
        JwtKey::from_pem_pair(
            JwtAlgorithm::ES256,
            fixture("rsa_private.pem"),
            fixture("rsa_public.pem")
        )
        .is_err()
    );
    assert!(JwtKey::verifying_pem(JwtAlgorithm::RS256, b"not a pem").is_err());
    assert!(JwtKey::verifying_pem(JwtAlgorithm::HS256, fixture("rsa_public.pem")).is_err());
}

#[test]
fn configuration_errors() {
    let key = || JwtKey::hs256(SECRET).unwrap();
    let err = |b: authward_core::strategy::JwtStrategyBuilder<Id>| b.build().unwrap_err();
    assert!(matches!(
        err(JwtStrategy::builder(key(), Duration::ZERO)),
        JwtConfigError::LifetimeTooShort
    ));
    assert!(matches!(
        err(JwtStrategy::builder(key(), Duration::hours(1)).leeway(Duration::seconds(-1))),
        JwtConfigError::NegativeLeeway
    ));
    assert!(matches!(
        err(JwtStrategy::builder(key(), Duration::hours(1)).audience(Vec::<String>::new())),
        JwtConfigError::EmptyAudience
    ));
    assert!(matches!(
        err(JwtStrategy::builder(key(), Duration::hours(1)).verification_key(key())),
        JwtConfigError::SeveralKeysWithoutKid
    ));
    assert!(matches!(
        err(
            JwtStrategy::builder(key().with_kid("a"), Duration::hours(1))
                .verification_key(key().with_kid("a"))
        ),
        JwtConfigError::DuplicateKid(_)
    ));
    assert!(matches!(
        err(JwtStrategy::builder(
            key().verification_only(),
            Duration::hours(1)
        )),
        JwtConfigError::SigningKeyCannotSign
    ));
    let rsa = JwtKey::from_pem_pair(
        JwtAlgorithm::RS256,
        fixture("rsa_private.pem"),
        fixture("rsa_public.pem"),
    )
    .unwrap();
    assert!(matches!(
        err(JwtStrategy::builder(rsa.clone(), Duration::hours(1))),
        JwtConfigError::FingerprintSecretRequired
    ));
    assert!(matches!(
        err(JwtStrategy::builder(rsa, Duration::hours(1)).fingerprint_secret(b"short")),
        JwtConfigError::FingerprintSecretTooShort
    ));
}

#[tokio::test]
async fn every_algorithm_round_trips() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let mut keys = vec![
        JwtKey::hmac(JwtAlgorithm::HS256, [1_u8; 32]).unwrap(),
        JwtKey::hmac(JwtAlgorithm::HS384, [2_u8; 48]).unwrap(),
        JwtKey::hmac(JwtAlgorithm::HS512, [3_u8; 64]).unwrap(),
    ];
    for (alg, name) in [
        (JwtAlgorithm::RS256, "rsa"),
        (JwtAlgorithm::RS384, "rsa"),
        (JwtAlgorithm::RS512, "rsa"),
        (JwtAlgorithm::PS256, "rsa"),
        (JwtAlgorithm::PS384, "rsa"),
        (JwtAlgorithm::PS512, "rsa"),
        (JwtAlgorithm::ES256, "ec256"),
        (JwtAlgorithm::ES384, "ec384"),
        (JwtAlgorithm::EdDSA, "ed25519"),
    ] {
        keys.push(
            JwtKey::from_pem_pair(
                alg,
                fixture(&format!("{name}_private.pem")),
                fixture(&format!("{name}_public.pem")),
            )
            .unwrap(),
        );
    }
    for key in keys {
        let alg = key.algorithm();
        let jwt = JwtStrategy::builder(key, Duration::hours(1))
            .clock(clock.clone())
            .fingerprint_secret(SECRET)
            .build()
            .unwrap();
        let token = jwt.write_token(&alice).await.unwrap();
        assert_eq!(header(&token)["alg"], format!("{alg:?}"));
        assert_eq!(
            read(&jwt, &token, &users).await,
            Some(alice.clone()),
            "{alg:?}"
        );
        let (message, _) = token.rsplit_once('.').unwrap();
        let tampered = format!("{message}.{}", b64(&[0_u8; 64]));
        assert!(read(&jwt, &tampered, &users).await.is_none(), "{alg:?}");
    }
}

#[tokio::test]
async fn a_verification_only_public_key_checks_tokens_signed_elsewhere() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let signer = JwtStrategy::builder(
        JwtKey::from_pem_pair(
            JwtAlgorithm::ES256,
            fixture("ec256_private.pem"),
            fixture("ec256_public.pem"),
        )
        .unwrap()
        .with_kid("es"),
        Duration::hours(1),
    )
    .clock(clock.clone())
    .fingerprint_secret(SECRET)
    .build()
    .unwrap();
    let verifier = JwtStrategy::builder(
        JwtKey::hs256([9_u8; 32]).unwrap().with_kid("local"),
        Duration::hours(1),
    )
    .verification_key(
        JwtKey::verifying_pem(JwtAlgorithm::ES256, fixture("ec256_public.pem"))
            .unwrap()
            .with_kid("es"),
    )
    .clock(clock.clone())
    .fingerprint_secret(SECRET)
    .build()
    .unwrap();
    let token = signer.write_token(&alice).await.unwrap();
    assert!(read(&verifier, &token, &users).await.is_some());
}

#[test]
fn debug_output_shows_no_secret() {
    let key = JwtKey::hs256(SECRET).unwrap();
    let shown = format!(
        "{key:?} {:?}",
        JwtStrategy::<Id>::builder(key.clone(), Duration::hours(1))
    );
    assert!(!shown.contains("0123456789abcdef"), "{shown}");
}

#[tokio::test]
async fn strategies_are_object_safe() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let strategy: Arc<dyn Strategy<User<Id>>> = Arc::new(hs256(&clock));
    let token = strategy.write_token(&alice).await.unwrap();
    assert!(strategy.read_token(&token, &users).await.unwrap().is_some());
}

#[tokio::test]
async fn revoked_token_ids_are_purged_once_expired_and_generations_are_kept() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let records = MemoryAccessTokenDatabase::<Id>::new();
    let jwt = JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::hours(1))
        .clock(clock.clone())
        .revocation_store(records.clone())
        .build()
        .unwrap();
    let old = jwt.write_token(&alice).await.unwrap();
    let logged_out = jwt.write_token(&alice).await.unwrap();
    jwt.destroy_token(&logged_out, &alice).await.unwrap();
    clock.advance(Duration::seconds(1));
    jwt.log_out_everywhere(&alice.id).await.unwrap();
    assert_eq!(records.len(), 2);
    let store = jwt.revocation_store().unwrap();
    assert_eq!(store.purge(clock.now() - jwt.lifetime()).await.unwrap(), 0);
    clock.advance(Duration::hours(1));
    // The logout record (made at START) goes once its token has expired; the generation
    // record stays, however old: later tokens carry its number.
    assert_eq!(store.purge(clock.now() - jwt.lifetime()).await.unwrap(), 1);
    clock.advance(Duration::days(365));
    assert_eq!(store.purge(clock.now() - jwt.lifetime()).await.unwrap(), 0);
    assert_eq!(records.len(), 1);
    // New tokens carry generation 1, and the next revocation (generation 2) ends them.
    let fresh = jwt.write_token(&alice).await.unwrap();
    assert!(read(&jwt, &fresh, &users).await.is_some());
    jwt.log_out_everywhere(&alice.id).await.unwrap();
    assert!(read(&jwt, &fresh, &users).await.is_none());
    assert!(
        read(&jwt, &old, &users).await.is_none(),
        "expired by now anyway"
    );
    assert!(read(&jwt, &logged_out, &users).await.is_none());
}

/// A token issued late in a generation outlives the generation's record by up to a lifetime.
/// If a purge could remove that record, the numbering would start again at 1 and the next
/// log-out-everywhere would write record 1, not the `gen + 1` that refuses the token.
#[tokio::test]
async fn a_purge_cannot_make_log_out_everywhere_miss_a_token() {
    let (users, clock) = (Users::new(), clock());
    let alice = user(&users, "alice@example.com").await;
    let jwt = JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), Duration::hours(1))
        .clock(clock.clone())
        .revocation_store(MemoryAccessTokenDatabase::<Id>::new())
        .build()
        .unwrap();
    jwt.log_out_everywhere(&alice.id).await.unwrap();
    clock.advance(Duration::minutes(59));
    let late = jwt.write_token(&alice).await.unwrap();
    clock.advance(Duration::minutes(2));
    let store = jwt.revocation_store().unwrap();
    store.purge(clock.now() - jwt.lifetime()).await.unwrap();
    assert!(
        read(&jwt, &late, &users).await.is_some(),
        "still within its hour"
    );
    jwt.log_out_everywhere(&alice.id).await.unwrap();
    assert!(
        read(&jwt, &late, &users).await.is_none(),
        "logged out everywhere"
    );
}
