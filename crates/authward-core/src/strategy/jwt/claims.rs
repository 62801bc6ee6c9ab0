//! Strict parsing of JWT headers and claims.
//!
//! Field types are checked by serde: a string `exp`, a numeric `sub` or a `kid` that is not a
//! string fail to parse, and so does a duplicated member (no parser-differential games).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

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

/// The claims authward reads. `sub`, `aud` and `exp` are required. Strings borrow from the
/// decoded payload when they contain no escapes.
#[derive(Deserialize)]
pub(crate) struct RawClaims<'a> {
    #[serde(borrow)]
    pub(crate) sub: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) aud: Audience<'a>,
    pub(crate) exp: NumericDate,
    // The optional claims are `None` only when absent: a present `null` (or any other type)
    // is a parse error, never "absent" (`"nbf": null` must not skip the not-before check).
    #[serde(default, deserialize_with = "present_value")]
    pub(crate) nbf: Option<NumericDate>,
    #[serde(default, deserialize_with = "present_value")]
    pub(crate) iat: Option<NumericDate>,
    /// Not checked (no issuer is configured), but typed like every registered claim.
    #[serde(default, borrow, deserialize_with = "present_text")]
    #[allow(dead_code)]
    pub(crate) iss: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "present_text")]
    pub(crate) jti: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "present_text")]
    pub(crate) fgpt: Option<Cow<'a, str>>,
    /// The revocation generation (authward's own claim).
    #[serde(default, rename = "gen", deserialize_with = "present_value")]
    pub(crate) generation: Option<u64>,
}

/// A claim that is present: its value must be a `T` (`null` is refused, unlike serde's
/// `Option`, which reads `null` as absent). Absence is handled by `#[serde(default)]`.
fn present_value<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// [`present_value`] for strings, borrowing from the payload when possible.
fn present_text<'de: 'a, 'a, D>(deserializer: D) -> Result<Option<Cow<'a, str>>, D::Error>
where
    D: Deserializer<'de>,
{
    Text::deserialize(deserializer).map(|text| Some(text.0))
}

/// A string that borrows from the input when it can.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V(PhantomData))
    }
}

/// `aud`: one string or an array of strings.
pub(crate) enum Audience<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Audience<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Audience<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Audience<'a>, E> {
                Ok(Audience::One(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Audience<'a>, E> {
                Ok(Audience::One(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Audience<'a>, E> {
                Ok(Audience::One(Cow::Owned(v)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Audience<'a>, A::Error> {
                // One audience in an array (what FastAPI Users writes) needs no `Vec`.
                let Some(Text(first)) = seq.next_element::<Text<'a>>()? else {
                    return Ok(Audience::Many(Vec::new()));
                };
                let Some(Text(second)) = seq.next_element::<Text<'a>>()? else {
                    return Ok(Audience::One(first));
                };
                let mut all = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(14) + 2);
                all.push(first);
                all.push(second);
                while let Some(Text(aud)) = seq.next_element::<Text<'a>>()? {
                    all.push(aud);
                }
                Ok(Audience::Many(all))
            }
        }
        // Not `#[serde(untagged)]`: that buffers the value and builds an error per miss.
        deserializer.deserialize_any(V(PhantomData))
    }
}

impl Audience<'_> {
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
    #[serde(rename = "gen", skip_serializing_if = "Option::is_none")]
    pub(crate) generation: Option<u64>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Result<RawClaims<'_>, serde_json::Error> {
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
    fn present_but_null_registered_claims_are_invalid() {
        let base = r#""sub":"1","aud":"a","exp":1700000000"#;
        for claim in [
            "nbf", "iat", "jti", "iss", "fgpt", "gen", "sub", "aud", "exp",
        ] {
            let json = format!("{{{base},\"{claim}\":null}}");
            assert!(claims(&json).is_err(), "{json}");
        }
        for (claim, wrong) in [
            ("nbf", r#""1""#),
            ("iat", "true"),
            ("jti", "7"),
            ("iss", "[]"),
        ] {
            let json = format!("{{{base},\"{claim}\":{wrong}}}");
            assert!(claims(&json).is_err(), "{json}");
        }
        let absent_json = format!("{{{base}}}");
        let absent = claims(&absent_json).unwrap();
        assert!(absent.nbf.is_none() && absent.iat.is_none() && absent.jti.is_none());
        let present_json = format!(r#"{{{base},"nbf":1,"iat":2,"jti":"x","iss":"i"}}"#);
        let present = claims(&present_json).unwrap();
        assert!(present.nbf.is_some() && present.iat.is_some() && present.jti.is_some());
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
        let aud =
            |json: &str| serde_json::from_str::<Audience<'_>>(json).map(|a| a.matches(&accepted));
        assert!(aud(r#""fastapi-users:auth""#).unwrap());
        assert!(aud(r#"["x","fastapi-users:auth"]"#).unwrap());
        assert!(aud(r#"["fastapi-users:auth"]"#).unwrap());
        assert!(aud(r#"["x","y","fastapi-users:auth"]"#).unwrap());
        assert!(!aud(r#"["x"]"#).unwrap() && !aud(r#"["x","y","z"]"#).unwrap());
        assert!(aud("[7]").is_err() && aud(r#"["fastapi-users:auth",null]"#).is_err());
        assert!(
            aud(r#""fastapi-users\u003aauth""#).unwrap(),
            "escaped text is compared decoded"
        );
        assert!(!aud("[]").unwrap());
        assert!(!aud(r#""fastapi-users:reset""#).unwrap());
        assert!(aud("7").is_err() && aud(r#"["a",7]"#).is_err() && aud("null").is_err());
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
