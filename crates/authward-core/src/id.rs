//! User ID types.

use std::fmt::{Debug, Display};
use std::hash::Hash;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A user ID could not be parsed from text (a JWT `sub`, a URL path segment).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid user id")]
pub struct InvalidId;

/// The bound set for user ID types.
///
/// Implemented for [`uuid::Uuid`], [`i64`], [`String`] and, with the feature `objectid`,
/// `bson::oid::ObjectId`. The text form ([`Display`] / [`UserId::parse_id`]) is what goes into
/// a token's `sub` claim and into URLs, so it must round-trip exactly.
pub trait UserId:
    Clone + Eq + Hash + Debug + Display + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// Parses the text form. Never panics: any malformed input is [`InvalidId`].
    fn parse_id(text: &str) -> Result<Self, InvalidId>;

    /// A fresh ID made by the application, or `None` when the store assigns IDs (`i64`).
    fn generate() -> Option<Self>;

    /// Whether JSON bodies show the ID in its text form ([`Display`]) instead of its serde
    /// form. `false` by default; `true` for `ObjectId`, whose serde form is extended JSON
    /// (`{"$oid": "..."}`) where FastAPI Users' Beanie adapter shows the hex string.
    const JSON_AS_TEXT: bool = false;
}

/// Serializes an ID as JSON bodies show it (see [`UserId::JSON_AS_TEXT`]).
pub fn serialize_id<ID: UserId, S: serde::Serializer>(
    id: &ID,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if ID::JSON_AS_TEXT {
        serializer.collect_str(id)
    } else {
        id.serialize(serializer)
    }
}

impl UserId for uuid::Uuid {
    fn parse_id(text: &str) -> Result<Self, InvalidId> {
        uuid::Uuid::try_parse(text).map_err(|_| InvalidId)
    }

    fn generate() -> Option<Self> {
        Some(uuid::Uuid::new_v4())
    }
}

impl UserId for i64 {
    /// Accepts only an optional `-` followed by ASCII digits (no `+`, spaces or exponents).
    fn parse_id(text: &str) -> Result<Self, InvalidId> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidId);
        }
        text.parse().map_err(|_| InvalidId)
    }

    fn generate() -> Option<Self> {
        None
    }
}

impl UserId for String {
    /// Any non-empty text of at most 255 bytes without control characters.
    fn parse_id(text: &str) -> Result<Self, InvalidId> {
        if text.is_empty() || text.len() > 255 || text.chars().any(char::is_control) {
            return Err(InvalidId);
        }
        Ok(text.to_owned())
    }

    fn generate() -> Option<Self> {
        Some(uuid::Uuid::new_v4().to_string())
    }
}

#[cfg(feature = "objectid")]
impl UserId for bson::oid::ObjectId {
    fn parse_id(text: &str) -> Result<Self, InvalidId> {
        bson::oid::ObjectId::parse_str(text).map_err(|_| InvalidId)
    }

    fn generate() -> Option<Self> {
        Some(bson::oid::ObjectId::new())
    }

    const JSON_AS_TEXT: bool = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_round_trips_and_rejects_garbage() {
        let id = uuid::Uuid::generate().expect("uuid is generated client-side");
        assert_eq!(uuid::Uuid::parse_id(&id.to_string()), Ok(id));
        for bad in ["", "abc", "0b8ab2b4-7d0f-4a1e-9d2a", "\u{0}", "💥"] {
            assert_eq!(uuid::Uuid::parse_id(bad), Err(InvalidId), "{bad:?}");
        }
    }

    #[test]
    fn i64_is_strict() {
        assert_eq!(i64::parse_id("42"), Ok(42));
        assert_eq!(i64::parse_id("-7"), Ok(-7));
        for bad in [
            "",
            "-",
            "+1",
            " 1",
            "1.0",
            "1e3",
            "99999999999999999999",
            "٣",
        ] {
            assert_eq!(i64::parse_id(bad), Err(InvalidId), "{bad:?}");
        }
        assert_eq!(i64::generate(), None);
    }

    #[test]
    fn string_rejects_empty_control_and_oversized() {
        assert_eq!(String::parse_id("abc"), Ok("abc".to_owned()));
        assert_eq!(String::parse_id(""), Err(InvalidId));
        assert_eq!(String::parse_id("a\nb"), Err(InvalidId));
        assert_eq!(String::parse_id(&"x".repeat(256)), Err(InvalidId));
    }

    #[cfg(feature = "objectid")]
    #[test]
    fn object_id_round_trips_and_rejects_garbage() {
        let id = bson::oid::ObjectId::generate().expect("generated client-side");
        assert_eq!(bson::oid::ObjectId::parse_id(&id.to_hex()), Ok(id));
        assert_eq!(bson::oid::ObjectId::parse_id("zz"), Err(InvalidId));
    }
}
