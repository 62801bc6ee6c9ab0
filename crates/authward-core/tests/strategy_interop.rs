//! Interoperability with another JWT implementation (Python's PyJWT).
//!
//! `fixtures/jwt/pyjwt_tokens.json` holds tokens made by PyJWT (`fixtures/jwt/interop.py`);
//! `fixtures/jwt/ours_verified_by_pyjwt.json` holds tokens made by this crate together with the
//! claims PyJWT decoded from them after verifying their signature. To regenerate:
//!
//! ```sh
//! cargo test -p authward-core --features memory --test strategy_interop -- --ignored
//! /tmp/jwtvenv/bin/python crates/authward-core/tests/fixtures/jwt/interop.py
//! ```
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used)]

#[path = "fixtures/support.rs"]
mod support;

use async_trait::async_trait;
use authward_core::strategy::{JwtAlgorithm, JwtKey, JwtStrategy, Strategy, UserLookup};
use authward_core::{DbError, ManualClock, User};
use serde_json::Value;
use support::*;
use time::{Duration, OffsetDateTime};

const USER_ID: &str = "6f1f5a8e-3b7a-4c39-9d51-2f0c1f4f2a10";
const HASH: &str = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA";

/// The one user the fixtures were made for.
struct Fixed;

#[async_trait]
impl UserLookup<User<Id>> for Fixed {
    async fn user_by_id(&self, id: &Id) -> Result<Option<User<Id>>, DbError> {
        let user = fixed_user();
        Ok((id == &user.id).then_some(user))
    }
}

fn fixed_user() -> User<Id> {
    authward_core::NewUser::<()>::new("interop@example.com", HASH)
        .into_user(USER_ID.parse().unwrap())
}

fn key(alg: &str) -> JwtKey {
    match alg {
        "HS256" => JwtKey::hs256(SECRET).unwrap(),
        "RS256" => JwtKey::from_pem_pair(
            JwtAlgorithm::RS256,
            fixture("rsa_private.pem"),
            fixture("rsa_public.pem"),
        )
        .unwrap(),
        "ES256" => JwtKey::from_pem_pair(
            JwtAlgorithm::ES256,
            fixture("ec256_private.pem"),
            fixture("ec256_public.pem"),
        )
        .unwrap(),
        "EdDSA" => JwtKey::from_pem_pair(
            JwtAlgorithm::EdDSA,
            fixture("ed25519_private.pem"),
            fixture("ed25519_public.pem"),
        )
        .unwrap(),
        other => panic!("no fixture key for {other}"),
    }
}

/// HS256 derives its fingerprint key from the signing secret; public-key algorithms use
/// `SECRET` as explicit fingerprint secret (so does `interop.py`).
fn strategy(
    alg: &str,
    kid: Option<&str>,
    fingerprints: bool,
    clock: &ManualClock,
) -> JwtStrategy<Id> {
    let mut key = key(alg);
    if let Some(kid) = kid {
        key = key.with_kid(kid);
    }
    let mut builder = JwtStrategy::builder(key, Duration::hours(1)).clock(clock.clone());
    if alg != "HS256" {
        builder = builder.fingerprint_secret(SECRET);
    }
    if !fingerprints {
        builder = builder.without_password_fingerprint();
    }
    builder.build().unwrap()
}

fn load(name: &str) -> Vec<Value> {
    serde_json::from_slice(&fixture(name)).unwrap()
}

fn at(iat: &Value) -> ManualClock {
    ManualClock::new(OffsetDateTime::from_unix_timestamp(iat.as_i64().unwrap()).unwrap())
}

#[tokio::test]
async fn tokens_made_by_pyjwt_are_accepted() {
    let vectors = load("pyjwt_tokens.json");
    assert!(vectors.len() >= 6);
    for v in vectors {
        let (alg, token) = (v["alg"].as_str().unwrap(), v["token"].as_str().unwrap());
        let clock = at(&v["iat"]);
        let jwt = strategy(
            alg,
            v["kid"].as_str(),
            v["fingerprint"].as_bool().unwrap(),
            &clock,
        );
        let user = Strategy::<User<Id>>::read_token(&jwt, token, &Fixed)
            .await
            .unwrap();
        assert_eq!(user, Some(fixed_user()), "{}", v["name"]);
        // And they expire where PyJWT put `exp`.
        clock.set(OffsetDateTime::from_unix_timestamp(v["exp"].as_i64().unwrap()).unwrap());
        let user = Strategy::<User<Id>>::read_token(&jwt, token, &Fixed)
            .await
            .unwrap();
        assert_eq!(user, None, "{}", v["name"]);
    }
}

#[tokio::test]
async fn tokens_made_by_us_were_verified_by_pyjwt() {
    let vectors = load("ours_verified_by_pyjwt.json");
    assert!(vectors.len() >= 4);
    for v in vectors {
        let (alg, token) = (v["alg"].as_str().unwrap(), v["token"].as_str().unwrap());
        let claims = &v["pyjwt_claims"];
        assert_eq!(claims["sub"], USER_ID);
        assert_eq!(claims["aud"], serde_json::json!(["fastapi-users:auth"]));
        assert_eq!(payload(token), *claims, "PyJWT decoded what we wrote");
        let clock = at(&claims["iat"]);
        let jwt = strategy(alg, v["kid"].as_str(), true, &clock);
        let user = Strategy::<User<Id>>::read_token(&jwt, token, &Fixed)
            .await
            .unwrap();
        assert_eq!(user, Some(fixed_user()), "{alg}");
    }
}

#[tokio::test]
#[ignore = "writes fixtures/jwt/ours_tokens.json for interop.py to verify with PyJWT"]
async fn write_our_tokens_for_pyjwt() {
    let clock = ManualClock::new(START);
    let mut out = Vec::new();
    for (alg, kid) in [
        ("HS256", None),
        ("HS256", Some("k1")),
        ("RS256", Some("rsa")),
        ("ES256", None),
        ("EdDSA", None),
    ] {
        let jwt = strategy(alg, kid, true, &clock);
        let token = jwt.write_token(&fixed_user()).await.unwrap();
        out.push(serde_json::json!({"alg": alg, "kid": kid, "token": token}));
    }
    let path = format!(
        "{}/tests/fixtures/jwt/ours_tokens.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::write(&path, serde_json::to_string_pretty(&out).unwrap()).unwrap();
    assert_eq!(load("ours_tokens.json").len(), out.len());
}
