//! Shared test helpers: fixtures for the ready-made and the custom-column entities, migrators,
//! the suite matrix, and the checks every backend runs.

#![allow(dead_code, unused_macros, unused_imports)]

use std::marker::PhantomData;

use authward_core::AuthUser;
use authward_sea_orm::migration::AuthTables;
use authward_sea_orm::sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait};
use authward_sea_orm::sea_orm_migration::prelude::*;
use authward_sea_orm::{SeaOrmId, SeaOrmUser};
use authward_testkit::{ExtraFixture, Profile, SampleId, UserFixture};

pub mod checks;
pub mod cross;
pub mod custom;

/// The fixture of a ready-made user entity (no fields of the application's own).
pub struct Ready<E>(PhantomData<fn() -> E>);

impl<E> UserFixture for Ready<E>
where
    E: SeaOrmUser<Extra = ()>,
    E::Model: PartialEq + std::fmt::Debug,
    <E::Model as AuthUser>::Id: SampleId,
{
    type User = E::Model;
    type Extra = ();
    fn extra(_seed: u32) {}
    fn extra_of(_user: &E::Model) {}
}

/// A user model carrying the testkit's `Profile` in columns of its own.
pub trait HasProfile {
    fn profile(&self) -> Profile;
}

/// The fixture of an application entity with `nickname`, `bio` and `age` columns.
pub struct Custom<E>(PhantomData<fn() -> E>);

impl<E> UserFixture for Custom<E>
where
    E: SeaOrmUser<Extra = Profile>,
    E::Model: PartialEq + std::fmt::Debug + HasProfile,
    <E::Model as AuthUser>::Id: SampleId,
{
    type User = E::Model;
    type Extra = Profile;
    fn extra(seed: u32) -> Profile {
        Profile::sample(seed)
    }
    fn extra_of(user: &E::Model) -> Profile {
        user.profile()
    }
}

/// Quotes a table name for `backend`.
pub fn quoted(backend: DbBackend, name: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("\"{name}\""),
        _ => format!("`{name}`"),
    }
}

/// The application's own migration: the `Profile` columns.
pub struct AddProfileColumns;

impl MigrationName for AddProfileColumns {
    fn name(&self) -> &str {
        "m20250102_000001_add_profile_columns"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddProfileColumns {
    #[allow(elided_lifetimes_in_paths)]
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let user = quoted(db.get_database_backend(), "user");
        for column in [
            "nickname VARCHAR(100) NOT NULL DEFAULT ''",
            "bio TEXT",
            "age INTEGER NOT NULL DEFAULT 0",
        ] {
            db.execute_unprepared(&format!("ALTER TABLE {user} ADD COLUMN {column}"))
                .await?;
        }
        Ok(())
    }
}

/// authward's tables, then the application's columns.
pub struct CustomMigrator<ID>(PhantomData<fn() -> ID>);

#[async_trait::async_trait]
impl<ID: SeaOrmId> MigratorTrait for CustomMigrator<ID> {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(AuthTables::<ID>::new()),
            Box::new(AddProfileColumns),
        ]
    }
}

/// Migrates `db` for users with IDs of type `ID` (ready-made entities).
pub async fn migrated<ID: SeaOrmId>(db: DatabaseConnection) -> DatabaseConnection {
    authward_sea_orm::Migrator::<ID>::up(&db, None)
        .await
        .expect("migrate");
    db
}

/// Migrates `db` with the application's columns too.
pub async fn migrated_custom<ID: SeaOrmId>(db: DatabaseConnection) -> DatabaseConnection {
    CustomMigrator::<ID>::up(&db, None)
        .await
        .expect("migrate with custom columns");
    db
}

/// Expands every suite for every ID type over `$db` (an expression yielding
/// `Option<DatabaseConnection>`; `None` skips).
macro_rules! suite_matrix {
    ($db:expr) => {
        use authward_sea_orm::entities::{i64_id, string_id, uuid_id};
        use authward_sea_orm::{SeaOrmAccessTokens, SeaOrmUsers};
        use authward_testkit::{
            access_token_database_tests, oauth_user_database_tests, user_database_tests,
        };
        use common::{Custom, Ready, custom};
        use uuid::Uuid;

        // Ready-made entities (no custom fields, so no custom_fields_round_trip: the testkit's
        // user suite without it).
        authward_testkit::__user_tests!((users_uuid, users, <Ready<uuid_id::user::Entity>>, {
            let Some(db) = $db else { return };
            SeaOrmUsers::<uuid_id::user::Entity>::new(common::migrated::<Uuid>(db).await)
        };) []);
        authward_testkit::__user_tests!((users_i64, users, <Ready<i64_id::user::Entity>>, {
            let Some(db) = $db else { return };
            SeaOrmUsers::<i64_id::user::Entity>::new(common::migrated::<i64>(db).await)
        };) []);
        authward_testkit::__user_tests!((users_string, users, <Ready<string_id::user::Entity>>, {
            let Some(db) = $db else { return };
            SeaOrmUsers::<string_id::user::Entity>::new(common::migrated::<String>(db).await)
        };) []);

        // An application entity with columns of its own.
        user_database_tests!(users_uuid_custom, fixture = Custom<custom::uuid_user::Entity>, db = {
            let Some(db) = $db else { return };
            SeaOrmUsers::<custom::uuid_user::Entity>::new(common::migrated_custom::<Uuid>(db).await)
        });
        user_database_tests!(users_i64_custom, fixture = Custom<custom::i64_user::Entity>, db = {
            let Some(db) = $db else { return };
            SeaOrmUsers::<custom::i64_user::Entity>::new(common::migrated_custom::<i64>(db).await)
        });
        user_database_tests!(users_string_custom, fixture = Custom<custom::string_user::Entity>, db = {
            let Some(db) = $db else { return };
            SeaOrmUsers::<custom::string_user::Entity>::new(
                common::migrated_custom::<String>(db).await,
            )
        });

        oauth_user_database_tests!(oauth_uuid, fixture = Ready<uuid_id::user::Entity>, db = {
            let Some(db) = $db else { return };
            SeaOrmUsers::<uuid_id::user::Entity, uuid_id::oauth_account::Entity>::new(
                common::migrated::<Uuid>(db).await,
            )
        });
        oauth_user_database_tests!(oauth_i64, fixture = Ready<i64_id::user::Entity>, db = {
            let Some(db) = $db else { return };
            SeaOrmUsers::<i64_id::user::Entity, i64_id::oauth_account::Entity>::new(
                common::migrated::<i64>(db).await,
            )
        });
        oauth_user_database_tests!(oauth_string, fixture = Ready<string_id::user::Entity>, db = {
            let Some(db) = $db else { return };
            SeaOrmUsers::<string_id::user::Entity, string_id::oauth_account::Entity>::new(
                common::migrated::<String>(db).await,
            )
        });
        oauth_user_database_tests!(oauth_uuid_custom, fixture = Custom<custom::uuid_user::Entity>, db = {
            let Some(db) = $db else { return };
            SeaOrmUsers::<custom::uuid_user::Entity, uuid_id::oauth_account::Entity>::new(
                common::migrated_custom::<Uuid>(db).await,
            )
        });
        oauth_user_database_tests!(oauth_i64_custom, fixture = Custom<custom::i64_user::Entity>, db = {
            let Some(db) = $db else { return };
            SeaOrmUsers::<custom::i64_user::Entity, i64_id::oauth_account::Entity>::new(
                common::migrated_custom::<i64>(db).await,
            )
        });
        oauth_user_database_tests!(oauth_string_custom, fixture = Custom<custom::string_user::Entity>, db = {
            let Some(db) = $db else { return };
            SeaOrmUsers::<custom::string_user::Entity, string_id::oauth_account::Entity>::new(
                common::migrated_custom::<String>(db).await,
            )
        });

        access_token_database_tests!(tokens_uuid, id = Uuid, db = {
            let Some(db) = $db else { return };
            let db = common::migrated::<Uuid>(db).await;
            (
                SeaOrmAccessTokens::<uuid_id::access_token::Entity, Uuid>::new(db.clone()),
                SeaOrmUsers::<uuid_id::user::Entity>::new(db),
            )
        });
        access_token_database_tests!(tokens_i64, id = i64, db = {
            let Some(db) = $db else { return };
            let db = common::migrated::<i64>(db).await;
            (
                SeaOrmAccessTokens::<i64_id::access_token::Entity, i64>::new(db.clone()),
                SeaOrmUsers::<i64_id::user::Entity>::new(db),
            )
        });
        access_token_database_tests!(tokens_string, id = String, db = {
            let Some(db) = $db else { return };
            let db = common::migrated::<String>(db).await;
            (
                SeaOrmAccessTokens::<string_id::access_token::Entity, String>::new(db.clone()),
                SeaOrmUsers::<string_id::user::Entity>::new(db),
            )
        });
    };
}
pub(crate) use suite_matrix;
