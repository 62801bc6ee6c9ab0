//! # authward-mongodb
//!
//! authward's MongoDB storage over the official driver ([`mongodb`] 3, re-exported with its
//! [`bson`]), compatible with the database FastAPI Users' Beanie adapter
//! (`fastapi-users-db-beanie` 5) writes: point authward at it and users log in with their
//! passwords and keep their sessions.
//!
//! - [`MongoUserDatabase<U>`] implements [`UserDatabase`](authward_core::UserDatabase) and
//!   [`OAuthUserDatabase`](authward_core::OAuthUserDatabase) for any serde document type `U`:
//!   the ready-made [`User<ID, X>`](authward_core::User) (custom fields `X` flattened into the
//!   document) or an application's own struct;
//! - [`MongoAccessTokenDatabase<ID>`] implements
//!   [`AccessTokenDatabase`](authward_core::AccessTokenDatabase) and
//!   [`SessionRevoker`](authward_core::SessionRevoker) (database strategy, refresh tokens, JWT
//!   revocations);
//! - [`connect`] makes a client with fail-fast timeouts (2 s) and checks the server answers.
//!
//! IDs ([`MongoId`]): `bson::oid::ObjectId` (the default, like Beanie), `uuid::Uuid` (stored as
//! BSON binary subtype 4) or `String`.
//!
//! ## Layout (Beanie's, by default)
//!
//! ```text
//! User          {_id, email, hashed_password, is_active, is_superuser, is_verified,
//!                ...custom fields, email_key [authward],
//!                oauth_accounts: [{id: ObjectId, oauth_name, access_token, account_id,
//!                                  account_email, expires_at: int32 | null,
//!                                  refresh_token: string | null}]}   (absent without accounts)
//!   email_key_unique              {email_key: 1} unique, partial (with the field)   [authward]
//!   case_insensitive_email_index  {email: 1} unique, collation {locale: "en", strength: 2}
//!   oauth_account_unique          {oauth_accounts.oauth_name: 1, oauth_accounts.account_id: 1}
//!                                 unique, partial (users with accounts)          [authward]
//! AccessToken   {_id: ObjectId, token: <SHA-256 of the token, hex>, user_id, created_at,
//!                family?: UUID, used?: true}
//!   token_1                       {token: 1} unique
//!   user_id_1_created_at_1        {user_id: 1, created_at: 1}                    [authward]
//!   created_at_1                  {created_at: 1}, TTL = the store's lifetime    [authward]
//! ```
//!
//! Collection names are configurable ([`MongoUserDatabase::with_collection`],
//! [`MongoAccessTokenDatabase::with_collection`]). `bootstrap()` on each store creates its
//! indexes and is idempotent; on a Beanie database it also replaces the plaintext tokens by
//! their digests in place, so sessions survive.
//!
//! ## The document type
//!
//! `U` is a [`UserRecord`](authward_core::UserRecord) with `Serialize` and `DeserializeOwned`.
//! Its fields are the document's fields, with these rules:
//!
//! - the ID is the field serialized as `id` (as `User<ID, X>` does) or `_id`; on the wire it
//!   is always `_id`, in the [`MongoId`] form of its type, and it is handed back to `U` in the
//!   ID type's own serde form;
//! - the email is the string field `email` (the index and every lookup use it); the other
//!   standard fields keep FastAPI Users' names when the database is shared with Beanie;
//! - no field is named `oauth_accounts` (the store manages it), starts with `$` or contains
//!   `.`; fields of other programs in the same documents are left alone.
//!
//! Updates read the user, apply the [`UserPatch`](authward_core::UserPatch) to it in memory,
//! and write with `$set` / `$unset` only the top-level fields whose serialized value changed.
//!
//! ## Emails
//!
//! Uniqueness and every lookup use the field `email_key`, authward's key of the email
//! ([`email_key`](authward_core::email_key): NFKC, Unicode case folding, the IDNA form of the
//! domain), with a unique index, and lookups are equalities on it (never `$regex`, so `.*`,
//! `[a-z]` and `%` are literal characters). Beanie's collation index (`{locale: "en",
//! strength: 2}`) cannot express IDNA or NFKC, so `user@bücher.de` and
//! `user@xn--bcher-kva.de` would be two accounts under it alone; it is kept as well, so a
//! Beanie application still writing to the same database cannot add a case-variant duplicate.
//! `bootstrap()` gives existing users their key (a Beanie database has none), reporting users
//! whose emails collide under the rule before it changes anything. `docs/src/adapters/mongodb.md`
//! has the details.
//!
//! ## Safety of queries
//!
//! Emails, tokens (as digests) and IDs reach the driver only as typed BSON values inside
//! filters this crate builds; nothing from a request is ever turned into a document.
//!
//! ## Errors
//!
//! A duplicate key (server code 11000) is [`DbError::AlreadyExists`](authward_core::DbError)
//! with the rule that broke, told apart by the server's structured `keyPattern` or, when the
//! server does not send it, by looking; a refused or lost connection, a server selection
//! timeout or a server that is shutting down or not primary is `DbError::Unavailable`;
//! anything else is `DbError::Backend`. The driver's error is kept as the source.

mod changes;
mod connect;
mod error;
mod id;
mod names;
mod oauth;
mod tokens;
mod users;

pub use connect::{ConnectOptions, DEFAULT_TIMEOUT, connect};
pub use error::{CorruptDocument, is_duplicate_key, is_unavailable, map_error};
pub use id::MongoId;
pub use names::{
    CREATED_AT_INDEX, DEFAULT_TOKEN_COLLECTION, DEFAULT_USER_COLLECTION, EMAIL_INDEX,
    EMAIL_KEY_FIELD, EMAIL_KEY_INDEX, OAUTH_ACCOUNT_INDEX, TOKEN_INDEX, USER_TOKENS_INDEX,
};
pub use tokens::{InvalidLifetime, MongoAccessTokenDatabase};
pub use users::{EmailKeyCollisions, InvalidUserType, MongoUserDatabase, email_collation};

/// The driver this adapter is built on, for making clients of a matching version.
pub use mongodb;
/// The BSON crate of that driver (bson 3).
pub use mongodb::bson;
