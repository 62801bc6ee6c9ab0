//! How user IDs are stored: ObjectId natively, `Uuid` as BSON binary subtype 4, `String` as a
//! string.

use authward_core::UserId;
use bson::oid::ObjectId;
use bson::spec::BinarySubtype;
use bson::{Binary, Bson};

/// A user ID type this adapter can store, and its BSON form.
///
/// Implemented for [`ObjectId`] (the default, like Beanie's `PydanticObjectId`), [`uuid::Uuid`]
/// (binary subtype 4, the standard UUID representation, never a string) and [`String`]. `i64`
/// is not offered: MongoDB has no sequence to assign it.
///
/// ```
/// use authward_mongodb::MongoId;
/// use bson::Bson;
///
/// let id = uuid::Uuid::new_v4();
/// let stored = id.to_bson();
/// assert!(matches!(&stored, Bson::Binary(b) if b.bytes.len() == 16));
/// assert_eq!(uuid::Uuid::from_bson(&stored), Some(id));
/// assert_eq!(uuid::Uuid::from_bson(&Bson::String(id.to_string())), None);
/// ```
pub trait MongoId: UserId {
    /// The value stored in `_id` (and in `user_id` of tokens).
    fn to_bson(&self) -> Bson;
    /// Reads a stored value; `None` when it is not of this type's BSON form.
    fn from_bson(value: &Bson) -> Option<Self>;
}

impl MongoId for ObjectId {
    fn to_bson(&self) -> Bson {
        Bson::ObjectId(*self)
    }
    fn from_bson(value: &Bson) -> Option<Self> {
        match value {
            Bson::ObjectId(oid) => Some(*oid),
            _ => None,
        }
    }
}

impl MongoId for uuid::Uuid {
    fn to_bson(&self) -> Bson {
        Bson::Binary(Binary {
            subtype: BinarySubtype::Uuid,
            bytes: self.as_bytes().to_vec(),
        })
    }
    fn from_bson(value: &Bson) -> Option<Self> {
        match value {
            Bson::Binary(Binary {
                subtype: BinarySubtype::Uuid,
                bytes,
            }) => uuid::Uuid::from_slice(bytes).ok(),
            _ => None,
        }
    }
}

impl MongoId for String {
    fn to_bson(&self) -> Bson {
        Bson::String(self.clone())
    }
    fn from_bson(value: &Bson) -> Option<Self> {
        match value {
            Bson::String(s) => Some(s.clone()),
            _ => None,
        }
    }
}

/// A UUID as binary subtype 4 (token families).
pub(crate) fn uuid_to_bson(id: uuid::Uuid) -> Bson {
    MongoId::to_bson(&id)
}
