//! Strict parsing of JWT headers and claims.
//!
//! Field types are checked by serde: a string `exp`, a numeric `sub` or a `kid` that is not a
//! string fail to parse, and so does a duplicated member (no parser-differential games).

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::{Deserialize, Serialize};

/// The protected header, as far as authward reads it.
#[derive(Deserialize)]
pub(crate) struct RawHeader {
    pub(crate) alg: String,
    #[serde(default)]
    pub(crate) kid: Option<String>,
    /// Any `crit` member at all (even `null` or `[]`) means the sender requires extensions
    /// authward does not implement, so the token is refused (RFC 7515 §4.1.11).
    #[serde(default, deserialize_with = "present")]
    pub(crate) crit: bool,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// The claims authward reads. `sub`, `aud` and `exp` are required.
#[derive(Deserialize)]
pub(crate) struct RawClaims {
    pub(crate) sub: String,
    pub(crate) aud: Audience,
    pub(crate) exp: NumericDate,
    #[serde(default)]
    pub(crate) nbf: Option<NumericDate>,
    #[serde(default)]
    pub(crate) iat: Option<NumericDate>,
    #[serde(default)]
    pub(crate) jti: Option<String>,
    #[serde(default)]
    pub(crate) fgpt: Option<String>,
}

/// `aud`: one string or an array of strings.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// True when any of the token's audiences is one of `accepted`.
    pub(crate) fn matches(&self, accepted: &[String]) -> bool {
        match self {
            Self::One(aud) => accepted.iter().any(|a| a == aud),
            Self::Many(auds) => auds.iter().any(|aud| accepted.iter().any(|a| a == aud)),
        }
    }
}

/// A NumericDate (seconds since the epoch, RFC 7519 §2), kept as nanoseconds.
///
/// Integers and finite decimals are accepted; strings, booleans, `null` and values beyond the
/// year 30000 are not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NumericDate(pub(crate) i128);

const NANOS: i128 = 1_000_000_000;
const MAX_SECONDS: i128 = 900_000_000_000;

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NumericDate (a JSON number of seconds)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumericDate, E> {
                let v = i128::from(v);
                if v.abs() > MAX_SECONDS {
                    return Err(E::custom("NumericDate out of range"));
                }
                Ok(NumericDate(v * NANOS))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
                let v = i128::from(v);
                if v > MAX_SECONDS {
                    return Err(E::custom("NumericDate out of range"));
                }
                Ok(NumericDate(v * NANOS))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
                if !v.is_finite() || v.abs() > MAX_SECONDS as f64 {
                    return Err(E::custom("NumericDate out of range"));
                }
                Ok(NumericDate((v * 1e9).floor() as i128))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// The claims authward writes.
#[derive(Serialize)]
pub(crate) struct OutClaims<'a> {
    pub(crate) sub: &'a str,
    pub(crate) aud: &'a [String],
    pub(crate) exp: i64,
    pub(crate) iat: i64,
    pub(crate) jti: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fgpt: Option<&'a str>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Result<RawClaims, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn exp_must_be_a_number() {
        assert!(claims(r#"{"sub":"1","aud":"a","exp":1700000000}"#).is_ok());
        assert!(claims(r#"{"sub":"1","aud":"a","exp":1700000000.5}"#).is_ok());
        for bad in [
            r#"{"sub":"1","aud":"a","exp":"1700000000"}"#,
            r#"{"sub":"1","aud":"a","exp":null}"#,
            r#"{"sub":"1","aud":"a","exp":true}"#,
            r#"{"sub":"1","aud":"a","exp":1e300}"#,
            r#"{"sub":"1","aud":"a"}"#,
        ] {
            assert!(claims(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sub_and_aud_are_required_and_typed() {
        for bad in [
            r#"{"aud":"a","exp":1}"#,
            r#"{"sub":1,"aud":"a","exp":1}"#,
            r#"{"sub":"1","exp":1}"#,
            r#"{"sub":"1","aud":7,"exp":1}"#,
            r#"{"sub":"1","aud":["a",7],"exp":1}"#,
            r#"{"sub":"1","sub":"2","aud":"a","exp":1}"#,
        ] {
            assert!(claims(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn audience_matching() {
        let accepted = vec!["fastapi-users:auth".to_owned()];
        assert!(Audience::One("fastapi-users:auth".into()).matches(&accepted));
        assert!(Audience::Many(vec!["x".into(), "fastapi-users:auth".into()]).matches(&accepted));
        assert!(!Audience::Many(vec![]).matches(&accepted));
        assert!(!Audience::One("fastapi-users:reset".into()).matches(&accepted));
    }

    #[test]
    fn crit_in_any_form_is_noticed() {
        for (json, crit) in [
            (r#"{"alg":"HS256"}"#, false),
            (r#"{"alg":"HS256","crit":["exp"]}"#, true),
            (r#"{"alg":"HS256","crit":[]}"#, true),
            (r#"{"alg":"HS256","crit":null}"#, true),
        ] {
            let header: RawHeader = serde_json::from_str(json).unwrap();
            assert_eq!(header.crit, crit, "{json}");
        }
        assert!(serde_json::from_str::<RawHeader>(r#"{"alg":"HS256","kid":5}"#).is_err());
    }
}
