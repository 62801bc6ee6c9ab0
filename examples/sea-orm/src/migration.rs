//! The schema: authward's tables, a token table for JWT revocations, then the application's
//! own columns.

use authward::sea_orm::migration::{AuthTables, TableNames, TokenTable};
use authward::sea_orm::sea_orm::{ConnectionTrait, DbBackend};
use authward::sea_orm::sea_orm_migration::prelude::*;
use uuid::Uuid;

/// The application's migrator.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let revocations = TableNames::default()
            .with_token_table("jwtrevocation")
            .expect("a valid table name");
        vec![
            Box::new(AuthTables::<Uuid>::new()),
            Box::new(TokenTable::<Uuid>::new(revocations)),
            Box::new(AddProfileColumns),
        ]
    }
}

/// Adds `display_name` and `plan` to authward's user table.
#[derive(Debug)]
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
        let user = match db.get_database_backend() {
            DbBackend::Postgres => "\"user\"",
            _ => "`user`",
        };
        for column in [
            "display_name VARCHAR(100) NOT NULL DEFAULT ''",
            "plan VARCHAR(20) NOT NULL DEFAULT 'free'",
        ] {
            db.execute_unprepared(&format!("ALTER TABLE {user} ADD COLUMN {column}"))
                .await?;
        }
        Ok(())
    }
}

/// The JWT revocation records (`jwtrevocation`, authward's token layout).
#[allow(missing_docs)]
pub mod jwt_revocation {
    use sea_orm::entity::prelude::*;

    /// A revoked JWT (by digest) or a user's log-out-everywhere mark.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "jwtrevocation")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub digest: Vec<u8>,
        pub user_id: Uuid,
        pub created_at: TimeDateTimeWithTimeZone,
        pub family: Option<Uuid>,
        pub used: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    authward::sea_orm::impl_access_token_entity!();
}
