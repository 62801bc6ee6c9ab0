use async_trait::async_trait;

use crate::error::DbError;
use crate::user::{AuthUser, NewUser, UserPatch};

/// The ID type of a user store: the ID of the users it holds.
pub type IdOf<DB> = <<DB as UserDatabase>::User as AuthUser>::Id;

/// Storage of users.
///
/// The store's user type is an associated type, and so is its ID (the user type's
/// [`AuthUser::Id`], see [`IdOf`]): the ready-made [`User<ID, X>`](crate::User) or an
/// application's own entity. An application therefore names one type, the store, and
/// everything else follows from it.
///
/// Rules every implementation follows (checked by `authward-testkit`):
/// - emails are stored as given, but lookups and uniqueness ignore case (full Unicode case
///   folding as in [`crate::user::email_key`]; `%`, `_` and regex characters match literally);
/// - uniqueness is enforced by the store itself, so concurrent creates of one email yield
///   exactly one user and [`DbError::AlreadyExists`] (with
///   [`UniqueKey::Email`](crate::error::UniqueKey::Email)) for the rest;
/// - a failed call changes nothing.
#[async_trait]
pub trait UserDatabase: Send + Sync {
    /// The stored user type; its [`AuthUser::Id`] is the store's ID type.
    type User: AuthUser;
    /// The application's custom fields carried by [`NewUser`] and [`UserPatch`].
    type Extra: Clone + Send + Sync + 'static;

    /// The user with this ID, if any.
    async fn get(&self, id: &IdOf<Self>) -> Result<Option<Self::User>, DbError>;

    /// The user with this email, ignoring case.
    async fn get_by_email(&self, email: &str) -> Result<Option<Self::User>, DbError>;

    /// Stores a new user and returns it with its ID.
    ///
    /// [`DbError::AlreadyExists`] when the email (ignoring case) is taken.
    async fn create(&self, user: NewUser<Self::Extra>) -> Result<Self::User, DbError>;

    /// Applies a partial update and returns the updated user.
    ///
    /// [`DbError::NotFound`] when no such user exists; [`DbError::AlreadyExists`] when the new
    /// email belongs to another user (changing only the case of one's own email is allowed).
    async fn update(
        &self,
        id: &IdOf<Self>,
        patch: UserPatch<Self::Extra>,
    ) -> Result<Self::User, DbError>;

    /// Deletes the user together with its OAuth accounts.
    ///
    /// [`DbError::NotFound`] when no such user exists.
    async fn delete(&self, id: &IdOf<Self>) -> Result<(), DbError>;

    /// Replaces the user's password hash with `new_hash` only if it is still `current_hash`,
    /// and returns the updated user; `Ok(None)` when the hash has changed meanwhile or the user
    /// is gone, with nothing written.
    ///
    /// The manager upgrades a legacy hash after a login with this call: a password change or
    /// reset made while the login was being checked must not be overwritten by the hash of the
    /// old password. Implementations make the check and the write **one atomic step** (a
    /// conditional `UPDATE ... WHERE id = ? AND hashed_password = ?`, a filtered
    /// `findOneAndUpdate`, a check under the store's lock); every store of authward does, and
    /// the conformance suite (`replace_password_hash_is_conditional_and_atomic`) checks it.
    /// The hashes compare byte for byte, whatever the store's collation
    /// (`replace_password_hash_compares_the_hash_exactly`).
    ///
    /// The default reads the user and then updates it: correct for a store without concurrent
    /// writers only, since a change landing between the two steps is overwritten.
    async fn replace_password_hash(
        &self,
        id: &IdOf<Self>,
        current_hash: &str,
        new_hash: String,
    ) -> Result<Option<Self::User>, DbError> {
        match self.get(id).await? {
            Some(user) if user.hashed_password() == current_hash => {
                let patch = UserPatch {
                    hashed_password: Some(new_hash),
                    ..UserPatch::default()
                };
                match self.update(id, patch).await {
                    Ok(updated) => Ok(Some(updated)),
                    Err(DbError::NotFound { .. }) => Ok(None),
                    Err(other) => Err(other),
                }
            }
            _ => Ok(None),
        }
    }
}
