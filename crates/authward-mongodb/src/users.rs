//! The user store: any serde document type in the `User` collection, Beanie's layout.

use std::marker::PhantomData;

use async_trait::async_trait;
use authward_core::{DbError, NewUser, UniqueKey, UserDatabase, UserPatch, UserRecord};
use bson::{Bson, Document, doc};
use mongodb::options::{Collation, CollationStrength, IndexOptions, ReturnDocument};
use mongodb::{Collection, Database, IndexModel};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::changes::FieldChanges;
use crate::error::{corrupt, duplicate_key_fields, is_duplicate_key, map_error};
use crate::id::MongoId;
use crate::names::{
    DEFAULT_USER_COLLECTION, EMAIL_INDEX, EMAIL_KEY_FIELD, EMAIL_KEY_INDEX, OAUTH_ACCOUNT_INDEX,
};

/// The collation of the email index and of every email lookup, as Beanie declares it:
/// locale `en`, strength 2 (secondary: case is ignored, accents are not).
pub fn email_collation() -> Collation {
    Collation::builder()
        .locale("en")
        .strength(CollationStrength::Secondary)
        .build()
}

/// Users of any document type `U`, with their OAuth accounts embedded, in one MongoDB
/// collection laid out as FastAPI Users' Beanie adapter lays it out.
///
/// `U` is [`User<ID, X>`](authward_core::User) (custom fields `X` flattened into the document)
/// or an application's own document struct: anything that is a
/// [`UserRecord`] and serde-serializable, with `U::Id` an ID type the adapter stores
/// ([`MongoId`]: `ObjectId`, `Uuid`, `String`). See the crate documentation for the document
/// layout and the rules a document type follows.
///
/// Clones share the driver's connection pool.
///
/// ```no_run
/// # async fn demo() -> Result<(), authward_core::DbError> {
/// use authward_core::{NewUser, User, UserDatabase};
/// use authward_mongodb::MongoUserDatabase;
/// use bson::oid::ObjectId;
///
/// let client = authward_mongodb::connect("mongodb://127.0.0.1:27017/").await?;
/// let users = MongoUserDatabase::<User<ObjectId>>::new(&client.database("app"));
/// users.bootstrap().await?; // indexes, once at start-up (idempotent)
/// let user = users.create(NewUser::new("Ada@Example.com", "$argon2id$...")).await?;
/// assert_eq!(users.get_by_email("ada@example.COM").await?, Some(user));
/// # Ok(())
/// # }
/// ```
pub struct MongoUserDatabase<U> {
    pub(crate) users: Collection<Document>,
    _user: PhantomData<fn() -> U>,
}

impl<U> Clone for MongoUserDatabase<U> {
    fn clone(&self) -> Self {
        Self {
            users: self.users.clone(),
            _user: PhantomData,
        }
    }
}

impl<U> std::fmt::Debug for MongoUserDatabase<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoUserDatabase")
            .field("collection", &self.users.namespace())
            .finish()
    }
}

/// Keys of a user document the store manages itself, beside the document type's fields.
const ID_KEYS: [&str; 2] = ["_id", "id"];

/// Two or more users whose emails are one account under the current email-key rule: found by
/// [`MongoUserDatabase::bootstrap`] before it changed anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailKeyCollisions {
    /// Each colliding key with the `_id`s (as text) and emails of its users.
    pub groups: Vec<(String, Vec<(String, String)>)>,
}

impl std::fmt::Display for EmailKeyCollisions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "users whose emails are one account:")?;
        for (key, users) in &self.groups {
            write!(f, " {key}: ")?;
            for (i, (id, email)) in users.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "{email} ({id})")?;
            }
            write!(f, ";")?;
        }
        Ok(())
    }
}

impl std::error::Error for EmailKeyCollisions {}
pub(crate) const OAUTH_ACCOUNTS: &str = "oauth_accounts";

impl<U> MongoUserDatabase<U> {
    /// The store over collection `User` of `db` (Beanie's default name).
    pub fn new(db: &Database) -> Self {
        Self::with_collection(db, DEFAULT_USER_COLLECTION)
    }

    /// The store over collection `name` of `db`.
    pub fn with_collection(db: &Database, name: &str) -> Self {
        Self {
            users: db.collection(name),
            _user: PhantomData,
        }
    }

    /// The underlying collection (for the application's own queries and indexes).
    pub fn collection(&self) -> &Collection<Document> {
        &self.users
    }

    /// Creates every index the store relies on; safe to run at every start.
    ///
    /// - `email_key_unique`: `{email_key: 1}`, unique (partial: documents with the field). The
    ///   key is [`email_key`](authward_core::email_key); every lookup is an equality on it.
    ///   Users without a key, or with one made by an earlier rule (a Beanie database, an older
    ///   authward), get theirs first — after checking that no two users collide under the rule,
    ///   and otherwise changing nothing and answering [`DbError::AlreadyExists`] whose source is
    ///   an [`EmailKeyCollisions`] naming them;
    /// - `case_insensitive_email_index`: `{email: 1}`, unique, collation
    ///   `{locale: "en", strength: 2}` — Beanie's own, kept so that a Beanie application still
    ///   writing to the same database cannot create a case-variant duplicate;
    /// - `oauth_account_unique`: `{oauth_accounts.oauth_name: 1, oauth_accounts.account_id: 1}`,
    ///   unique, partial on users that have at least one account: one user per provider
    ///   account (Beanie has no such index).
    ///
    /// Errors: [`DbError::AlreadyExists`] when existing users already break a rule (two emails
    /// equal ignoring case, or one provider account on two users): resolve them and run it
    /// again; [`DbError::Backend`] when an index of the same name exists with other options
    /// (for instance the non-unique `case_insensitive_email_index` of the old
    /// `fastapi-users-db-mongodb`: drop it first).
    pub async fn bootstrap(&self) -> Result<(), DbError> {
        self.recompute_email_keys().await?;
        let email_key = IndexModel::builder()
            .keys(doc! { EMAIL_KEY_FIELD: 1 })
            .options(
                IndexOptions::builder()
                    .name(EMAIL_KEY_INDEX.to_owned())
                    .unique(true)
                    .partial_filter_expression(doc! { EMAIL_KEY_FIELD: { "$exists": true } })
                    .build(),
            )
            .build();
        let email = IndexModel::builder()
            .keys(doc! { "email": 1 })
            .options(
                IndexOptions::builder()
                    .name(EMAIL_INDEX.to_owned())
                    .unique(true)
                    .collation(email_collation())
                    .build(),
            )
            .build();
        let oauth = IndexModel::builder()
            .keys(doc! { "oauth_accounts.oauth_name": 1, "oauth_accounts.account_id": 1 })
            .options(
                IndexOptions::builder()
                    .name(OAUTH_ACCOUNT_INDEX.to_owned())
                    .unique(true)
                    .partial_filter_expression(
                        doc! { "oauth_accounts.oauth_name": { "$exists": true } },
                    )
                    .build(),
            )
            .build();
        for (model, what, name) in [
            (email_key, UniqueKey::Email, EMAIL_KEY_INDEX),
            (email, UniqueKey::Email, EMAIL_INDEX),
            (oauth, UniqueKey::OAuthAccount, OAUTH_ACCOUNT_INDEX),
        ] {
            if let Err(err) = self.users.create_index(model).await {
                return Err(if is_duplicate_key(&err) {
                    DbError::duplicate(what, Some(name.to_owned()), err)
                } else {
                    map_error(err)
                });
            }
        }
        Ok(())
    }
}

impl<U> MongoUserDatabase<U> {
    /// Gives every user the email key of the current rule, after checking that no two users
    /// share one; writes nothing when they do.
    async fn recompute_email_keys(&self) -> Result<(), DbError> {
        use futures::TryStreamExt as _;
        use std::collections::BTreeMap;
        let mut cursor = self
            .users
            .find(doc! {})
            .projection(doc! { "_id": 1, "email": 1, EMAIL_KEY_FIELD: 1 })
            .await
            .map_err(map_error)?;
        let mut by_key: BTreeMap<String, Vec<(Bson, String)>> = BTreeMap::new();
        let mut stale = Vec::new();
        while let Some(user) = cursor.try_next().await.map_err(map_error)? {
            let (Some(id), Ok(email)) = (user.get("_id"), user.get_str("email")) else {
                continue;
            };
            let key = authward_core::email_key(email);
            if user.get_str(EMAIL_KEY_FIELD).ok() != Some(key.as_str()) {
                stale.push((id.clone(), key.clone()));
            }
            by_key
                .entry(key)
                .or_default()
                .push((id.clone(), email.to_owned()));
        }
        let groups: Vec<_> = by_key
            .into_iter()
            .filter(|(_, users)| users.len() > 1)
            .map(|(key, users)| {
                let users = users
                    .into_iter()
                    .map(|(id, email)| (id.to_string(), email))
                    .collect();
                (key, users)
            })
            .collect();
        if !groups.is_empty() {
            return Err(DbError::duplicate(
                UniqueKey::Email,
                Some(EMAIL_KEY_INDEX.to_owned()),
                EmailKeyCollisions { groups },
            ));
        }
        for (id, key) in stale {
            self.users
                .update_one(
                    doc! { "_id": id },
                    doc! { "$set": { EMAIL_KEY_FIELD: key } },
                )
                .await
                .map_err(map_error)?;
        }
        Ok(())
    }
}

/// The projection of every user read: the embedded OAuth accounts and the email key stay on
/// the server.
pub(crate) fn without_accounts() -> Document {
    doc! { OAUTH_ACCOUNTS: 0, EMAIL_KEY_FIELD: 0 }
}

impl<U> MongoUserDatabase<U>
where
    U: UserRecord + Serialize + DeserializeOwned,
    U::Id: MongoId,
{
    pub(crate) fn name(&self) -> &str {
        self.users.name()
    }

    /// A stored document as `U`: `_id` is handed to `U` in the ID type's own serde form, under
    /// `id` (as [`User`](authward_core::User) names it) and under `_id` (for a document type
    /// that renames its ID field so).
    pub(crate) fn decode(&self, mut doc: Document) -> Result<U, DbError> {
        let stored = doc
            .get("_id")
            .ok_or_else(|| corrupt(self.name(), "a user without _id"))?;
        let id = U::Id::from_bson(stored).ok_or_else(|| {
            corrupt(
                self.name(),
                format!("_id {stored} is not of the store's ID type"),
            )
        })?;
        let id = bson::serialize_to_bson(&id).map_err(DbError::backend)?;
        doc.remove(OAUTH_ACCOUNTS);
        doc.remove(EMAIL_KEY_FIELD);
        doc.insert("_id", id.clone());
        doc.insert("id", id);
        bson::deserialize_from_document(doc).map_err(|err| {
            DbError::backend(crate::error::CorruptDocument {
                collection: self.name().to_owned(),
                problem: format!("a user document does not fit the user type: {err}"),
            })
        })
    }

    /// `U`'s fields as a document, without its ID.
    pub(crate) fn fields(&self, user: &U) -> Result<Document, DbError> {
        let mut doc = bson::serialize_to_document(user).map_err(DbError::backend)?;
        for key in ID_KEYS {
            doc.remove(key);
        }
        if doc.get_str("email").ok() != Some(user.email()) {
            return Err(DbError::backend(InvalidUserType(
                "the user type must serialize its email as the string field `email`",
            )));
        }
        if let Some(key) = doc.keys().find(|k| {
            k.starts_with('$')
                || k.contains('.')
                || k.is_empty()
                || *k == OAUTH_ACCOUNTS
                || *k == EMAIL_KEY_FIELD
        }) {
            return Err(DbError::backend(InvalidUserType(
                if key == OAUTH_ACCOUNTS || key == EMAIL_KEY_FIELD {
                    "the user type must not serialize a field `oauth_accounts` or `email_key` (the store manages them)"
                } else {
                    "a user field name is empty, starts with `$` or contains `.`"
                },
            )));
        }
        Ok(doc)
    }

    async fn find_one(&self, filter: Document) -> Result<Option<U>, DbError> {
        self.users
            .find_one(filter)
            .projection(without_accounts())
            .await
            .map_err(map_error)?
            .map(|doc| self.decode(doc))
            .transpose()
    }

    /// A new user and its document (ID generated here, email key added).
    pub(crate) fn new_document(&self, user: NewUser<U::Extra>) -> Result<(U, Document), DbError> {
        let id = <U::Id as authward_core::UserId>::generate()
            .ok_or_else(|| DbError::backend(InvalidUserType("the ID type cannot be generated")))?;
        let user = U::from_new(id, user);
        let mut doc = doc! { "_id": user.id().to_bson() };
        doc.extend(self.fields(&user)?);
        doc.insert(EMAIL_KEY_FIELD, authward_core::email_key(user.email()));
        Ok((user, doc))
    }

    /// Which unique rule a duplicate-key error broke: from the server's `keyPattern` when it
    /// reports one, else by looking (does another user hold the email? does the ID exist?).
    pub(crate) async fn classify(
        &self,
        err: mongodb::error::Error,
        email: Option<&str>,
        own_id: &U::Id,
        inserting: bool,
    ) -> DbError {
        if !is_duplicate_key(&err) {
            return map_error(err);
        }
        let what = match duplicate_key_fields(&err).as_deref() {
            Some([field]) if field == "email" || field == EMAIL_KEY_FIELD => UniqueKey::Email,
            Some([field]) if field == "_id" => UniqueKey::UserId,
            Some(fields) if fields.iter().any(|f| f.starts_with("oauth_accounts.")) => {
                UniqueKey::OAuthAccount
            }
            Some(_) => UniqueKey::Other,
            None => self.look_for_conflict(email, own_id, inserting).await,
        };
        let constraint = match what {
            UniqueKey::Email => Some(EMAIL_KEY_INDEX.to_owned()),
            UniqueKey::UserId => Some("_id_".to_owned()),
            UniqueKey::OAuthAccount => Some(OAUTH_ACCOUNT_INDEX.to_owned()),
            _ => None,
        };
        DbError::duplicate(what, constraint, err)
    }

    async fn look_for_conflict(
        &self,
        email: Option<&str>,
        own_id: &U::Id,
        inserting: bool,
    ) -> UniqueKey {
        if let Some(email) = email {
            let key = authward_core::email_key(email);
            match self.find_one(doc! { EMAIL_KEY_FIELD: key }).await {
                Ok(Some(owner)) if owner.id() != own_id => return UniqueKey::Email,
                Ok(_) => {}
                // Cannot tell: the email is the only unique rule of the store's users.
                Err(_) => return UniqueKey::Email,
            }
        }
        if inserting && let Ok(Some(_)) = self.find_one(doc! { "_id": own_id.to_bson() }).await {
            return UniqueKey::UserId;
        }
        UniqueKey::Other
    }
}

/// The document type cannot be stored as a user document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUserType(&'static str);

impl std::fmt::Display for InvalidUserType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for InvalidUserType {}

#[async_trait]
impl<U> UserDatabase for MongoUserDatabase<U>
where
    U: UserRecord + Serialize + DeserializeOwned,
    U::Id: MongoId,
{
    type User = U;
    type Extra = U::Extra;

    async fn get(&self, id: &U::Id) -> Result<Option<U>, DbError> {
        self.find_one(doc! { "_id": id.to_bson() }).await
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<U>, DbError> {
        self.find_one(doc! { EMAIL_KEY_FIELD: authward_core::email_key(email) })
            .await
    }

    async fn create(&self, user: NewUser<U::Extra>) -> Result<U, DbError> {
        let (user, doc) = self.new_document(user)?;
        match self.users.insert_one(doc).await {
            Ok(_) => Ok(user),
            Err(err) => Err(self
                .classify(err, Some(user.email()), user.id(), true)
                .await),
        }
    }

    async fn update(&self, id: &U::Id, patch: UserPatch<U::Extra>) -> Result<U, DbError> {
        let not_found = || DbError::NotFound { what: "user" };
        let current = self.get(id).await?.ok_or_else(not_found)?;
        if patch.is_empty() {
            return Ok(current);
        }
        let new_email = patch.email.clone();
        let before = self.fields(&current)?;
        let mut updated = current.clone();
        updated.apply_patch(patch);
        let after = self.fields(&updated)?;
        // Only the fields the patch changed are written, each as a typed value: concurrent
        // updates of other fields are kept, and nothing from a request becomes an operator.
        let mut changes = FieldChanges::between(&before, &after);
        if changes.is_empty() {
            return Ok(current);
        }
        if changes.set.contains_key("email") {
            changes
                .set
                .insert(EMAIL_KEY_FIELD, authward_core::email_key(updated.email()));
        }
        let written = self
            .users
            .find_one_and_update(doc! { "_id": id.to_bson() }, changes.into_update())
            .projection(without_accounts())
            .return_document(ReturnDocument::After)
            .await;
        match written {
            Ok(Some(doc)) => self.decode(doc),
            Ok(None) => Err(not_found()),
            Err(err) => Err(self.classify(err, new_email.as_deref(), id, false).await),
        }
    }

    async fn replace_password_hash(
        &self,
        id: &U::Id,
        current_hash: &str,
        new_hash: String,
    ) -> Result<Option<U>, DbError> {
        let Some(current) = self.get(id).await? else {
            return Ok(None);
        };
        if current.hashed_password() != current_hash {
            return Ok(None);
        }
        let before = self.fields(&current)?;
        let mut updated = current.clone();
        updated.apply_patch(UserPatch {
            hashed_password: Some(new_hash),
            ..UserPatch::default()
        });
        let after = self.fields(&updated)?;
        // The fields the new hash changes are written only where they still hold the values
        // read above: one filtered findOneAndUpdate, so a password change landing meanwhile
        // makes it match nothing. (As `update` does, a field the new hash leaves out of the
        // user type's document is unset.)
        let changes = FieldChanges::between(&before, &after);
        if changes.is_empty() {
            return Ok(Some(current));
        }
        let mut filter = doc! { "_id": id.to_bson() };
        filter.extend(changes.old.clone());
        let update = changes.into_update();
        let written = self
            .users
            .find_one_and_update(filter, update)
            .projection(without_accounts())
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_error)?;
        written.map(|doc| self.decode(doc)).transpose()
    }

    async fn delete(&self, id: &U::Id) -> Result<(), DbError> {
        let deleted = self
            .users
            .delete_one(doc! { "_id": id.to_bson() })
            .await
            .map_err(map_error)?;
        if deleted.deleted_count == 0 {
            return Err(DbError::NotFound { what: "user" });
        }
        Ok(())
    }
}
