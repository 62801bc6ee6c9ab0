//! The JSON shapes of users that an application declares: what its users read, what
//! registration may set, what a user may change about itself and what a superuser may change
//! (FastAPI Users' `UserRead`, `UserCreate` and `UserUpdate`).
//!
//! The library's own fields (`id`, `email`, `password`, `is_active`, `is_superuser`,
//! `is_verified`) are read by the HTTP layer itself and keep FastAPI Users' rules: registration
//! and `PATCH /users/me` ignore the three flags, `PATCH /users/{id}` (a superuser) applies them.
//! The application's own fields follow what it declares here, and nothing else:
//!
//! - readable: whatever [`UserSchema::Read`] serializes;
//! - settable at registration: only what [`UserSchema::Create`] declares;
//! - changeable by the user: only what [`UserSchema::Update`] declares;
//! - changeable by a superuser: only what [`UserSchema::AdminUpdate`] declares.
//!
//! Keys a shape does not declare are ignored (as pydantic does), so `{"role": "admin"}` in a
//! registration cannot grant anything unless the application's create shape has a `role`.
//!
//! [`User<ID, X>`](crate::User) implements [`UserSchema`] when its fields `X` implement
//! [`UserFields`]; an application with its own user type implements [`UserSchema`] directly.
//!
//! ```
//! use authward_core::schema::{NoFields, UserFields};
//! use serde::{Deserialize, Serialize};
//!
//! /// The application's fields: everyone reads them.
//! #[derive(Clone, Debug, Default, Serialize, Deserialize)]
//! struct Profile {
//!     nickname: String,
//!     plan: String,
//! }
//!
//! /// A user may pick a nickname at registration and change it later.
//! #[derive(Deserialize)]
//! struct NicknameOnly {
//!     nickname: Option<String>,
//! }
//!
//! /// A superuser may change the plan too.
//! #[derive(Deserialize)]
//! struct AdminProfile {
//!     nickname: Option<String>,
//!     plan: Option<String>,
//! }
//!
//! impl UserFields for Profile {
//!     type Create = NicknameOnly;
//!     type Update = NicknameOnly;
//!     type AdminUpdate = AdminProfile;
//!
//!     fn from_create(fields: NicknameOnly) -> Self {
//!         Profile { nickname: fields.nickname.unwrap_or_default(), plan: "free".into() }
//!     }
//!     fn apply_update(&mut self, fields: NicknameOnly) -> bool {
//!         fields.nickname.map(|n| self.nickname = n).is_some()
//!     }
//!     fn apply_admin_update(&mut self, fields: AdminProfile) -> bool {
//!         let nickname = fields.nickname.map(|n| self.nickname = n).is_some();
//!         fields.plan.map(|p| self.plan = p).is_some() || nickname
//!     }
//! }
//! # let _ = NoFields;
//! ```

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::id::UserId;
use crate::user::{AuthUser, User};

/// The shapes of a user type, as the HTTP layer reads and writes it (see the module docs).
///
/// `Extra` must be the store's [`UserDatabase::Extra`](crate::UserDatabase::Extra): the
/// application's fields as [`NewUser`](crate::NewUser) and [`UserPatch`](crate::UserPatch)
/// carry them.
pub trait UserSchema: AuthUser {
    /// The application's fields as the store takes them.
    type Extra: Clone + Send + Sync + 'static;
    /// What every route returns for a user; it never contains the password hash.
    type Read<'a>: Serialize + Send
    where
        Self: 'a;
    /// The application's fields registration may set (besides email and password).
    type Create: for<'de> Deserialize<'de> + Send;
    /// The application's fields a user may change about itself (`PATCH /users/me`).
    type Update: for<'de> Deserialize<'de> + Send;
    /// The application's fields a superuser may change (`PATCH /users/{id}`).
    type AdminUpdate: for<'de> Deserialize<'de> + Send;

    /// The read view of this user.
    fn read(&self) -> Self::Read<'_>;

    /// The application's fields of a new user, from what registration sent.
    fn create_extra(fields: Self::Create) -> Self::Extra;

    /// The application's fields after a self-service update; `None` when nothing changes.
    fn update_extra(&self, fields: Self::Update) -> Option<Self::Extra>;

    /// The application's fields after a superuser's update; `None` when nothing changes.
    fn admin_update_extra(&self, fields: Self::AdminUpdate) -> Option<Self::Extra>;

    /// Whether the read shape carries fields of the application's own (the OpenAPI document
    /// then allows properties beyond the standard ones). Defaults to `true`.
    fn has_app_fields() -> bool {
        true
    }
}

/// The application's fields `X` of a [`User<ID, X>`]: which of them registration, the user and
/// a superuser may set. They are all readable (their `Serialize` form is flattened into the
/// user's JSON; mark a field `#[serde(skip_serializing)]` to keep it private).
pub trait UserFields: Serialize + Clone + Send + Sync + 'static {
    /// What registration may set ([`NoFields`]: nothing).
    type Create: for<'de> Deserialize<'de> + Send;
    /// What a user may change about itself ([`NoFields`]: nothing).
    type Update: for<'de> Deserialize<'de> + Send;
    /// What a superuser may change.
    type AdminUpdate: for<'de> Deserialize<'de> + Send;

    /// The fields of a new user.
    fn from_create(fields: Self::Create) -> Self;
    /// Applies a self-service update; `true` when something changed.
    fn apply_update(&mut self, fields: Self::Update) -> bool;
    /// Applies a superuser's update; `true` when something changed.
    fn apply_admin_update(&mut self, fields: Self::AdminUpdate) -> bool;
    /// Whether there are fields at all (`false` only for `()`).
    fn has_fields() -> bool {
        true
    }
}

/// A shape that declares no field: any JSON object is accepted and every key ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoFields;

impl<'de> Deserialize<'de> for NoFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NoFields;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NoFields, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(NoFields)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<NoFields, E> {
                Ok(NoFields)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// No application fields.
impl UserFields for () {
    type Create = NoFields;
    type Update = NoFields;
    type AdminUpdate = NoFields;

    fn from_create(_: NoFields) -> Self {}
    fn apply_update(&mut self, _: NoFields) -> bool {
        false
    }
    fn apply_admin_update(&mut self, _: NoFields) -> bool {
        false
    }
    fn has_fields() -> bool {
        false
    }
}

/// The read view of a [`User<ID, X>`]: `{"id", "email", "is_active", "is_superuser",
/// "is_verified", ...X}`; never the password hash.
#[derive(Debug, Serialize)]
#[serde(bound(serialize = "ID: UserId, X: Serialize"))]
pub struct UserRead<'a, ID, X> {
    /// The user's ID (an `ObjectId` as its hex string, see [`UserId::JSON_AS_TEXT`]).
    #[serde(serialize_with = "serialize_read_id")]
    pub id: &'a ID,
    /// The email, as stored.
    pub email: &'a str,
    /// Whether the account may log in.
    pub is_active: bool,
    /// Whether the account is an administrator.
    pub is_superuser: bool,
    /// Whether the email is verified.
    pub is_verified: bool,
    /// The application's own fields.
    #[serde(flatten)]
    pub extra: &'a X,
}

fn serialize_read_id<ID: UserId, S: serde::Serializer>(
    id: &&ID,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    crate::id::serialize_id(*id, serializer)
}

impl<ID: UserId, X: UserFields> UserSchema for User<ID, X> {
    type Extra = X;
    type Read<'a> = UserRead<'a, ID, X>;
    type Create = X::Create;
    type Update = X::Update;
    type AdminUpdate = X::AdminUpdate;

    fn read(&self) -> UserRead<'_, ID, X> {
        UserRead {
            id: &self.id,
            email: &self.email,
            is_active: self.is_active,
            is_superuser: self.is_superuser,
            is_verified: self.is_verified,
            extra: &self.extra,
        }
    }

    fn create_extra(fields: X::Create) -> X {
        X::from_create(fields)
    }

    fn update_extra(&self, fields: X::Update) -> Option<X> {
        let mut extra = self.extra.clone();
        extra.apply_update(fields).then_some(extra)
    }

    fn admin_update_extra(&self, fields: X::AdminUpdate) -> Option<X> {
        let mut extra = self.extra.clone();
        extra.apply_admin_update(fields).then_some(extra)
    }

    fn has_app_fields() -> bool {
        X::has_fields()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::user::NewUser;

    #[test]
    fn no_fields_ignores_every_key() {
        let parsed: NoFields =
            serde_json::from_str(r#"{"role": "admin", "nested": {"a": [1, 2]}}"#).unwrap();
        assert_eq!(parsed, NoFields);
        assert!(serde_json::from_str::<NoFields>("[1]").is_err());
    }

    #[test]
    fn the_read_view_flattens_fields_and_hides_the_hash() {
        let user = NewUser::<()>::new("a@b.c", "$argon2id$secret").into_user(7_i64);
        let json = serde_json::to_value(user.read()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": 7, "email": "a@b.c", "is_active": true,
                "is_superuser": false, "is_verified": false})
        );
        assert!(!<User<i64>>::has_app_fields());
    }

    #[cfg(feature = "objectid")]
    #[test]
    fn an_object_id_reads_as_its_hex_string() {
        let id = bson::oid::ObjectId::new();
        let user = NewUser::<()>::new("a@b.c", "h").into_user(id);
        let json = serde_json::to_value(user.read()).unwrap();
        assert_eq!(json["id"], serde_json::json!(id.to_hex()));
    }
}
