//! The user model: what authward reads from any user type, the ready-made [`User`] struct, and
//! the typed create / patch values that replace FastAPI Users' dictionaries.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::id::UserId;

/// What authward needs to read from a user, whatever type the application stores.
///
/// The equivalent of FastAPI Users' `UserProtocol`. [`User`] implements it; an application with
/// its own entity (for example a SeaORM model) implements it for that type.
pub trait AuthUser: Clone + Send + Sync + 'static {
    /// The ID type.
    type Id: UserId;

    /// The user's ID.
    fn id(&self) -> &Self::Id;
    /// The email address, as the user typed it.
    fn email(&self) -> &str;
    /// The password hash (a PHC or bcrypt string). Never shown to clients.
    fn hashed_password(&self) -> &str;
    /// Whether the account may log in.
    fn is_active(&self) -> bool;
    /// Whether the account has administrator rights.
    fn is_superuser(&self) -> bool;
    /// Whether the email address has been verified.
    fn is_verified(&self) -> bool;
}

/// A user type that an in-process store can build and patch itself: what the memory store
/// (and any store that keeps whole user values, such as a document database) needs beyond
/// [`AuthUser`].
///
/// [`User`] implements it; an application's own user type implements it in a few lines, and
/// then runs on `MemoryUsers` (feature `memory`) and through the conformance suites exactly like
/// the ready-made one.
pub trait UserRecord: AuthUser {
    /// The application's own fields as the store receives them in [`NewUser`] and
    /// [`UserPatch`].
    type Extra: Clone + Send + Sync + 'static;

    /// The stored user once the store has chosen its ID.
    fn from_new(id: Self::Id, new: NewUser<Self::Extra>) -> Self;

    /// Applies a partial update in place: every `Some` field of `patch` replaces the current
    /// value, `None` leaves it as it is.
    fn apply_patch(&mut self, patch: UserPatch<Self::Extra>);
}

/// The ready-made user record.
///
/// `X` carries the application's own fields and is flattened into the serialized form, so
/// `User<Uuid, Profile>` serializes as one object with `id`, `email`, ... and `Profile`'s fields.
/// Its [`Debug`] output never contains the password hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User<ID, X = ()> {
    /// The user's ID.
    pub id: ID,
    /// The email address, stored as typed; lookups ignore case.
    pub email: String,
    /// The password hash.
    pub hashed_password: String,
    /// Whether the account may log in.
    pub is_active: bool,
    /// Whether the account has administrator rights.
    pub is_superuser: bool,
    /// Whether the email address has been verified.
    pub is_verified: bool,
    /// The application's own fields.
    #[serde(flatten)]
    pub extra: X,
}

impl<ID: fmt::Debug, X: fmt::Debug> fmt::Debug for User<ID, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("hashed_password", &"<redacted>")
            .field("is_active", &self.is_active)
            .field("is_superuser", &self.is_superuser)
            .field("is_verified", &self.is_verified)
            .field("extra", &self.extra)
            .finish()
    }
}

impl<ID: UserId, X: Clone + Send + Sync + 'static> AuthUser for User<ID, X> {
    type Id = ID;

    fn id(&self) -> &ID {
        &self.id
    }
    fn email(&self) -> &str {
        &self.email
    }
    fn hashed_password(&self) -> &str {
        &self.hashed_password
    }
    fn is_active(&self) -> bool {
        self.is_active
    }
    fn is_superuser(&self) -> bool {
        self.is_superuser
    }
    fn is_verified(&self) -> bool {
        self.is_verified
    }
}

impl<ID: UserId, X: Clone + Send + Sync + 'static> UserRecord for User<ID, X> {
    type Extra = X;

    fn from_new(id: ID, new: NewUser<X>) -> Self {
        new.into_user(id)
    }

    fn apply_patch(&mut self, patch: UserPatch<X>) {
        patch.apply_to(self);
    }
}

/// Everything needed to create a user. The ID is chosen by the store
/// ([`UserId::generate`] or the database's own sequence).
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser<X = ()> {
    /// The email address, as typed.
    pub email: String,
    /// The password hash (never a plain password).
    pub hashed_password: String,
    /// Defaults to `true`.
    pub is_active: bool,
    /// Defaults to `false`.
    pub is_superuser: bool,
    /// Defaults to `false`.
    pub is_verified: bool,
    /// The application's own fields.
    pub extra: X,
}

impl<X: Default> NewUser<X> {
    /// An active, unprivileged, unverified user with default custom fields.
    pub fn new(email: impl Into<String>, hashed_password: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            hashed_password: hashed_password.into(),
            is_active: true,
            is_superuser: false,
            is_verified: false,
            extra: X::default(),
        }
    }
}

impl<X> NewUser<X> {
    /// Replaces the custom fields.
    pub fn with_extra<Y>(self, extra: Y) -> NewUser<Y> {
        NewUser {
            email: self.email,
            hashed_password: self.hashed_password,
            is_active: self.is_active,
            is_superuser: self.is_superuser,
            is_verified: self.is_verified,
            extra,
        }
    }

    /// Builds the stored record once the store has chosen the ID.
    pub fn into_user<ID>(self, id: ID) -> User<ID, X> {
        User {
            id,
            email: self.email,
            hashed_password: self.hashed_password,
            is_active: self.is_active,
            is_superuser: self.is_superuser,
            is_verified: self.is_verified,
            extra: self.extra,
        }
    }
}

impl<X: fmt::Debug> fmt::Debug for NewUser<X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("hashed_password", &"<redacted>")
            .field("is_active", &self.is_active)
            .field("is_superuser", &self.is_superuser)
            .field("is_verified", &self.is_verified)
            .field("extra", &self.extra)
            .finish()
    }
}

/// A partial update: `None` leaves a field as it is.
///
/// `extra`, when set, replaces all of the application's custom fields at once (the HTTP layer
/// builds it from the current fields and the ones a request may change, see
/// [`UserSchema`](crate::schema::UserSchema)).
#[derive(Clone, PartialEq, Eq)]
pub struct UserPatch<X = ()> {
    /// New email address (uniqueness is still enforced, ignoring case).
    pub email: Option<String>,
    /// New password hash.
    pub hashed_password: Option<String>,
    /// New active flag.
    pub is_active: Option<bool>,
    /// New superuser flag.
    pub is_superuser: Option<bool>,
    /// New verified flag.
    pub is_verified: Option<bool>,
    /// The complete custom fields to store (they replace the current ones as a whole).
    pub extra: Option<X>,
}

impl<X> Default for UserPatch<X> {
    fn default() -> Self {
        Self {
            email: None,
            hashed_password: None,
            is_active: None,
            is_superuser: None,
            is_verified: None,
            extra: None,
        }
    }
}

impl<X> UserPatch<X> {
    /// True when the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.email.is_none()
            && self.hashed_password.is_none()
            && self.is_active.is_none()
            && self.is_superuser.is_none()
            && self.is_verified.is_none()
            && self.extra.is_none()
    }

    /// Applies the patch to a [`User`] in place (what an in-process store does).
    pub fn apply_to<ID>(self, user: &mut User<ID, X>) {
        replace_if_set(&mut user.email, self.email);
        replace_if_set(&mut user.hashed_password, self.hashed_password);
        replace_if_set(&mut user.is_active, self.is_active);
        replace_if_set(&mut user.is_superuser, self.is_superuser);
        replace_if_set(&mut user.is_verified, self.is_verified);
        replace_if_set(&mut user.extra, self.extra);
    }
}

/// Puts `value`, when there is one, in `slot`.
fn replace_if_set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

impl<X: fmt::Debug> fmt::Debug for UserPatch<X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserPatch")
            .field("email", &self.email)
            .field(
                "hashed_password",
                &self.hashed_password.as_ref().map(|_| "<redacted>"),
            )
            .field("is_active", &self.is_active)
            .field("is_superuser", &self.is_superuser)
            .field("is_verified", &self.is_verified)
            .field("extra", &self.extra)
            .finish()
    }
}

/// The form of an email address used for lookups and uniqueness: NFKC and Unicode case
/// folding of the local part, the IDNA ASCII form of the domain
/// ([`crate::email::email_key`], where the rule is documented).
///
/// `КВІТОЧКА@ПОШТА.УКР` and `квіточка@пошта.укр` are one account, and so are `user@bücher.de`
/// and `user@xn--bcher-kva.de`, or `\u{212A}@example.com` (Kelvin sign) and `k@example.com`.
/// Adapters that enforce uniqueness in the database must store this key (or apply exactly
/// this rule).
pub fn email_key(email: &str) -> String {
    crate::email::email_key(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    struct Profile {
        nickname: String,
    }

    #[test]
    fn debug_hides_the_hash() {
        let user = NewUser::<()>::new("a@b.c", "$2b$12$secret").into_user(1_i64);
        let shown = format!("{user:?}");
        assert!(!shown.contains("secret"), "{shown}");
        let patch = UserPatch::<()> {
            hashed_password: Some("$2b$12$secret".into()),
            ..Default::default()
        };
        assert!(!format!("{patch:?}").contains("secret"));
        assert!(!format!("{:?}", NewUser::<()>::new("a@b.c", "secret")).contains("secret"));
    }

    #[test]
    fn extra_fields_are_flattened() {
        let user = NewUser::<Profile>::new("a@b.c", "h")
            .with_extra(Profile {
                nickname: "lance".into(),
            })
            .into_user(7_i64);
        let json = serde_json::to_value(&user).expect("serializes");
        assert_eq!(json["nickname"], "lance");
        let back: User<i64, Profile> = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, user);

        let plain = NewUser::<()>::new("a@b.c", "h").into_user(1_i64);
        let json = serde_json::to_value(&plain).expect("serializes");
        let back: User<i64> = serde_json::from_value(json).expect("unit extra deserializes");
        assert_eq!(back, plain);
    }

    #[test]
    fn patch_leaves_unset_fields() {
        let mut user = NewUser::<()>::new("a@b.c", "h").into_user(1_i64);
        UserPatch::<()> {
            is_verified: Some(true),
            ..Default::default()
        }
        .apply_to(&mut user);
        assert!(user.is_verified && user.is_active && user.email == "a@b.c");
        assert!(UserPatch::<()>::default().is_empty());
    }

    #[test]
    fn email_key_folds_unicode_case() {
        assert_eq!(
            email_key("КВІТОЧКА@ПОШТА.УКР"),
            email_key("квіточка@пошта.укр")
        );
        assert_eq!(email_key("Élodie@Exemple.fr"), "élodie@exemple.fr");
        assert_eq!(
            email_key("user@bücher.de"),
            email_key("user@xn--bcher-kva.de")
        );
        assert_eq!(
            email_key("\u{212A}@example.com"),
            email_key("k@example.com")
        );
    }
}
