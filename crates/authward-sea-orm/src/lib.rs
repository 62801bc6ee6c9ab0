//! # authward-sea-orm
//!
//! authward's storage over the application's own [SeaORM](https://www.sea-ql.org/SeaORM/)
//! entities, on PostgreSQL (feature `postgres`), MySQL / MariaDB (feature `mysql`) and SQLite
//! (feature `sqlite`), with SeaORM 1.1 (which shares sqlx 0.8 with `authward-sqlx`).
//!
//! The application's `users` entity, with its own columns, *is* the user: its `Model`
//! implements `AuthUser`, and the stores return it.
//!
//! - [`SeaOrmUsers<U, O>`](SeaOrmUsers) implements `UserDatabase` and `OAuthUserDatabase` over a
//!   user entity `U` ([`SeaOrmUser`]) and an OAuth account entity `O` ([`SeaOrmOAuthAccount`]);
//! - [`SeaOrmAccessTokens<T, ID>`](SeaOrmAccessTokens) implements `AccessTokenDatabase<ID>` over
//!   a token entity `T` ([`SeaOrmAccessToken`]);
//! - [`entities`] has ready-made entities for each ID type (`Uuid`, `i64` assigned by the
//!   database, `String`) for applications with no columns of their own;
//! - [`Migrator`] / [`migration::AuthTables`] create the tables (sea-orm-migration, no CLI).
//!
//! **One schema with `authward-sqlx`.** The tables, columns, types and indexes are exactly the
//! ones `authward-sqlx` creates (FastAPI Users' names by default, the case-folded `email_key`
//! with a unique index, `(oauth_name, account_id)` unique, token digests as keys with
//! `ON DELETE CASCADE`), and each ID type is stored as it stores it: an application can move
//! between the two adapters, or run both, on one database with no migration. A FastAPI Users
//! database is adopted as `authward-sqlx` adopts it (see [`migration`]).
//!
//! **Errors.** A unique violation is `DbError::AlreadyExists` (`UniqueKey::Email` only when the
//! email is taken, with the driver error as source); a refused or lost connection or a pool
//! timeout is `DbError::Unavailable`; updating or deleting a missing row is
//! `DbError::NotFound`; anything else is `DbError::Backend`. [`connect`] builds a pool that
//! fails fast (2 s) when the database is down.
//!
//! ## An application entity with columns of its own
//!
//! The whole wiring: the entity as usual, one macro naming what the application's fields are
//! and how they fill its columns, and a migration adding those columns after authward's.
//!
//! ```
//! pub mod user {
//!     use sea_orm::entity::prelude::*;
//!     use sea_orm::Set;
//!
//!     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
//!     #[sea_orm(table_name = "user")]
//!     pub struct Model {
//!         #[sea_orm(primary_key, auto_increment = false)]
//!         pub id: Uuid,
//!         pub email: String,
//!         pub email_key: String,
//!         pub hashed_password: String,
//!         pub is_active: bool,
//!         pub is_superuser: bool,
//!         pub is_verified: bool,
//!         // The application's own columns.
//!         pub display_name: String,
//!         pub plan: String,
//!     }
//!
//!     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//!     pub enum Relation {}
//!
//!     impl ActiveModelBehavior for ActiveModel {}
//!
//!     /// What `NewUser` and `UserPatch` carry besides authward's fields.
//!     #[derive(Clone, Debug, Default)]
//!     pub struct Profile {
//!         pub display_name: String,
//!         pub plan: String,
//!     }
//!
//!     authward_sea_orm::impl_user_entity!(extra = Profile, |model, profile| {
//!         model.display_name = Set(profile.display_name);
//!         model.plan = Set(profile.plan);
//!     });
//! }
//!
//! // The columns, in a migration run after authward's (see `migration::AuthTables`).
//! use authward_sea_orm::sea_orm_migration::prelude::*;
//!
//! #[derive(DeriveMigrationName)]
//! pub struct AddProfileColumns;
//!
//! #[async_trait::async_trait]
//! impl MigrationTrait for AddProfileColumns {
//!     async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
//!         let db = manager.get_connection();
//!         db.execute_unprepared(
//!             "ALTER TABLE \"user\" ADD COLUMN display_name VARCHAR(100) NOT NULL DEFAULT ''",
//!         ).await?;
//!         db.execute_unprepared(
//!             "ALTER TABLE \"user\" ADD COLUMN plan VARCHAR(20) NOT NULL DEFAULT 'free'",
//!         ).await?;
//!         Ok(())
//!     }
//! }
//!
//! // The stores (the ready-made OAuth and token entities fit any user entity with Uuid IDs).
//! use authward_sea_orm::entities::uuid_id::{access_token, oauth_account};
//! use authward_sea_orm::{SeaOrmAccessTokens, SeaOrmUsers};
//!
//! type Users = SeaOrmUsers<user::Entity, oauth_account::Entity>;
//! type Tokens = SeaOrmAccessTokens<access_token::Entity, uuid::Uuid>;
//! # fn _stores(db: sea_orm::DatabaseConnection) -> (Users, Tokens) {
//! #     (Users::new(db.clone()), Tokens::new(db))
//! # }
//! ```
//!
//! For the HTTP layer the model also implements `authward_core::schema::UserSchema` (which of
//! its fields clients read, and may set at registration or change); `examples/sea-orm` shows a
//! complete axum application.
//!
//! Queries of your own over the user entity: use [`SeaOrmUsers::find`] /
//! [`SeaOrmUsers::find_by_id`] rather than `Entity::find()`, which read the shared schema's
//! storage of `Uuid` IDs (text on SQLite and MySQL) and of the email key on every backend.

// Without a backend feature the crate only holds the shared machinery.
#![cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code, unused_imports)
)]

mod connect;
pub mod entities;
mod entity;
mod error;
mod id;
pub mod migration;
mod oauth;
mod time;
mod tokens;
mod users;

pub use sea_orm;
pub use sea_orm_migration;

pub use connect::{FAIL_FAST_TIMEOUT, connect, fail_fast};
pub use entity::{
    OAuthColumns, SeaOrmAccessToken, SeaOrmOAuthAccount, SeaOrmUser, TokenColumns, UserColumns,
};
pub use error::InvalidStored;
pub use id::SeaOrmId;
pub use migration::Migrator;
pub use tokens::SeaOrmAccessTokens;
pub use users::{NoRowReturned, SeaOrmUsers, UserIdOf};

#[doc(hidden)]
pub mod __private {
    pub use authward_core::AuthUser;
}
