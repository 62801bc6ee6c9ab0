//! Differential test of authward's JWT verifier against `jsonwebtoken::decode`, configured
//! equivalently (HS256 pinned, audience `fastapi-users:auth`, `exp`, `aud` and `sub` required,
//! `nbf` checked, no leeway, and a `sub` that must name an existing user), on generated tokens:
//! valid, tampered, other algorithms, wrongly typed and `null` claims, duplicated members,
//! huge numbers, Unicode, padding.
//!
//! Where both decide they agree, except in the categories below, each checked for the token at
//! hand (and listed in docs/src/security.md):
//!
//! **authward is stricter** (refuses what `jsonwebtoken` accepts):
//! - `crit` header — RFC 7515 §4.1.11: a recipient must refuse extensions it does not
//!   understand; `jsonwebtoken` ignores the member;
//! - a registered claim present as `null` (`nbf`, `iat`, `jti`, `iss`) — `null` is not
//!   absence: `"nbf": null` must not skip the not-before check;
//! - a registered claim of the wrong type (`iat` a string, `jti` a number, `iss` not a string)
//!   — `jsonwebtoken` only types the claims it validates;
//! - `iat` in the future — a token cannot have been issued later than now;
//! - a NumericDate beyond the year 30000 — no honest token carries one;
//! - a token longer than 8 KiB — refused before any decoding (no work for garbage).
//!
//! **authward is more lenient** (accepts what `jsonwebtoken` refuses) in one case:
//! - a negative `nbf` or `iat` (before 1970) — RFC 7519 §2's NumericDate is signed, and such a
//!   date is simply in the past; `jsonwebtoken` reads these claims as unsigned. (A fractional
//!   NumericDate is accepted by both.)
#![allow(clippy::unwrap_used)]
#![cfg(feature = "memory")]

use std::sync::LazyLock;

use authward_core::memory::MemoryUserDatabase;
use authward_core::strategy::{JwtKey, JwtStrategy, Strategy as _};
use authward_core::{NewUser, User, UserDatabase};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use serde_json::{Value, json};

const SECRET: &[u8] = b"a differential secret of thirty-two bytes!";
const AUDIENCE: &str = "fastapi-users:auth";

struct World {
    runtime: tokio::runtime::Runtime,
    users: MemoryUserDatabase<i64>,
    jwt: JwtStrategy<i64>,
    user_id: i64,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let users = MemoryUserDatabase::<i64>::new();
    let user: User<i64> = runtime
        .block_on(users.create(NewUser::new("u@example.com", "h")))
        .unwrap();
    let jwt = JwtStrategy::builder(JwtKey::hs256(SECRET).unwrap(), time::Duration::hours(1))
        .without_password_fingerprint()
        .build()
        .unwrap();
    World {
        runtime,
        users,
        jwt,
        user_id: user.id,
    }
});

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A claim's value, or its absence.
#[derive(Debug, Clone)]
enum Claim {
    Absent,
    Value(Value),
}

fn numeric_date() -> impl Strategy<Value = Claim> {
    prop_oneof![
        Just(Claim::Absent),
        (-100_000_i64..100_000).prop_map(|d| Claim::Value(json!(now() + d.signum() * 600 + d))),
        (600.0_f64..100_000.0).prop_map(|d| Claim::Value(json!(now() as f64 + d + 0.5))),
        Just(Claim::Value(json!(null))),
        Just(Claim::Value(json!("1700000000"))),
        Just(Claim::Value(json!(true))),
        Just(Claim::Value(json!(1e20))),
        Just(Claim::Value(json!(u64::MAX))),
        Just(Claim::Value(json!(-1))),
    ]
}

fn text_claim() -> impl Strategy<Value = Claim> {
    prop_oneof![
        Just(Claim::Absent),
        "\\PC{0,12}".prop_map(|s| Claim::Value(json!(s))),
        Just(Claim::Value(json!(null))),
        Just(Claim::Value(json!(7))),
        Just(Claim::Value(json!(["x"]))),
    ]
}

fn sub() -> impl Strategy<Value = Claim> {
    prop_oneof![
        4 => Just(Claim::Value(json!(WORLD.user_id.to_string()))),
        1 => Just(Claim::Value(json!("999999"))),
        1 => Just(Claim::Value(json!("not-an-id"))),
        1 => Just(Claim::Value(json!(WORLD.user_id))),
        1 => Just(Claim::Value(json!(null))),
        1 => Just(Claim::Absent),
    ]
}

fn aud() -> impl Strategy<Value = Claim> {
    prop_oneof![
        3 => Just(Claim::Value(json!([AUDIENCE]))),
        2 => Just(Claim::Value(json!(AUDIENCE))),
        1 => Just(Claim::Value(json!(["other", AUDIENCE]))),
        1 => Just(Claim::Value(json!("fastapi-users:reset"))),
        1 => Just(Claim::Value(json!([]))),
        1 => Just(Claim::Value(json!(7))),
        1 => Just(Claim::Value(json!(null))),
        1 => Just(Claim::Absent),
    ]
}

#[derive(Debug, Clone)]
struct Token {
    alg: &'static str,
    crit: bool,
    claims: Vec<(&'static str, Claim)>,
    extra: Option<(String, String)>,
    duplicate: Option<&'static str>,
    tamper: bool,
    pad: bool,
    huge: bool,
}

fn token() -> impl Strategy<Value = Token> {
    (
        prop_oneof![6 => Just("HS256"), 1 => Just("HS384"), 1 => Just("none"), 1 => Just("hs256"), 1 => Just("RS256")],
        prop::bool::weighted(0.1),
        (sub(), aud(), numeric_date(), numeric_date(), numeric_date(), text_claim(), text_claim()),
        prop::option::weighted(0.3, ("\\PC{1,8}", "\\PC{0,16}")),
        prop::option::weighted(0.1, prop_oneof![Just("sub"), Just("exp"), Just("aud"), Just("zzz")]),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.05),
        prop::bool::weighted(0.02),
    )
        .prop_map(|(alg, crit, (sub, aud, exp, nbf, iat, jti, iss), extra, duplicate, tamper, pad, huge)| {
            Token {
                alg,
                crit,
                claims: vec![("sub", sub), ("aud", aud), ("exp", exp), ("nbf", nbf), ("iat", iat), ("jti", jti), ("iss", iss)],
                extra,
                duplicate,
                tamper,
                pad,
                huge,
            }
        })
}

impl Token {
    fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.iter().find_map(|(n, c)| match c {
            Claim::Value(v) if *n == name => Some(v),
            _ => None,
        })
    }

    fn encode(&self) -> String {
        let mut header = json!({"alg": self.alg, "typ": "JWT"});
        if self.crit {
            header["crit"] = json!(["exp"]);
        }
        let mut members: Vec<String> = Vec::new();
        for (name, claim) in &self.claims {
            if let Claim::Value(value) = claim {
                members.push(format!("{}:{}", json!(name), value));
            }
        }
        if let Some((key, value)) = &self.extra {
            members.push(format!("{}:{}", json!(key), json!(value)));
        }
        if self.huge {
            members.push(format!("\"pad\":\"{}\"", "x".repeat(9000)));
        }
        if let Some(name) = self.duplicate {
            members.insert(0, format!("{}:\"dup\"", json!(name)));
        }
        let payload = format!("{{{}}}", members.join(","));
        let mut token = URL_SAFE_NO_PAD.encode(header.to_string());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET).unwrap();
        mac.update(token.as_bytes());
        let mut signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        if self.tamper {
            let flipped = if signature.starts_with('A') { "B" } else { "A" };
            signature.replace_range(0..1, flipped);
        }
        if self.pad {
            signature.push('=');
        }
        format!("{token}.{signature}")
    }

    /// Why authward may refuse a token `jsonwebtoken` accepts (see the module docs).
    fn stricter(&self) -> Vec<&'static str> {
        let mut why = Vec::new();
        let now = now() as f64;
        if self.crit {
            why.push("crit header");
        }
        for name in ["nbf", "iat", "jti", "iss"] {
            match self.claim(name) {
                Some(Value::Null) => why.push("null registered claim"),
                Some(v) if matches!(name, "nbf" | "iat") && !v.is_number() => {
                    why.push("registered claim of the wrong type")
                }
                Some(v) if matches!(name, "jti" | "iss") && !v.is_string() => {
                    why.push("registered claim of the wrong type")
                }
                _ => {}
            }
        }
        if self
            .claim("iat")
            .and_then(Value::as_f64)
            .is_some_and(|iat| iat > now)
        {
            why.push("iat in the future");
        }
        for name in ["exp", "nbf", "iat"] {
            if self
                .claim(name)
                .and_then(Value::as_f64)
                .is_some_and(|v| v.abs() > 9e11)
            {
                why.push("NumericDate out of range");
            }
        }
        if self.huge {
            why.push("longer than 8 KiB");
        }
        why
    }

    /// Why authward may accept a token `jsonwebtoken` refuses (see the module docs).
    fn more_lenient(&self) -> Vec<&'static str> {
        let mut why = Vec::new();
        for name in ["nbf", "iat"] {
            if self
                .claim(name)
                .and_then(Value::as_f64)
                .is_some_and(|v| v < 0.0)
            {
                why.push("negative NumericDate in nbf or iat");
            }
        }
        why
    }
}

fn jsonwebtoken_accepts(token: &str) -> bool {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = 0;
    let key = jsonwebtoken::DecodingKey::from_secret(SECRET);
    match jsonwebtoken::decode::<Value>(token, &key, &validation) {
        // Configured equivalently: `sub` must name an existing user.
        Ok(data) => data.claims["sub"].as_str() == Some(&WORLD.user_id.to_string()),
        Err(_) => false,
    }
}

fn authward_accepts(token: &str) -> bool {
    let world = &*WORLD;
    let found: Option<User<i64>> = world
        .runtime
        .block_on(world.jwt.read_token(token, &world.users))
        .unwrap();
    found.is_some()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn authward_and_jsonwebtoken_agree_where_both_decide(token in token()) {
        let encoded = token.encode();
        let ours = authward_accepts(&encoded);
        let theirs = jsonwebtoken_accepts(&encoded);
        if ours && !theirs {
            prop_assert!(!token.more_lenient().is_empty(), "authward alone accepts {token:?}");
        }
        if theirs && !ours {
            prop_assert!(!token.stricter().is_empty(), "authward alone refuses {token:?}");
        }
    }
}

#[test]
fn a_valid_token_is_accepted_by_both() {
    let token = Token {
        alg: "HS256",
        crit: false,
        claims: vec![
            ("sub", Claim::Value(json!(WORLD.user_id.to_string()))),
            ("aud", Claim::Value(json!([AUDIENCE]))),
            ("exp", Claim::Value(json!(now() + 600))),
        ],
        extra: None,
        duplicate: None,
        tamper: false,
        pad: false,
        huge: false,
    };
    let encoded = token.encode();
    assert!(authward_accepts(&encoded) && jsonwebtoken_accepts(&encoded));
    let null_nbf = Token {
        claims: [
            token.claims.clone(),
            vec![("nbf", Claim::Value(json!(null)))],
        ]
        .concat(),
        ..token
    };
    assert!(!authward_accepts(&null_nbf.encode()));
}
