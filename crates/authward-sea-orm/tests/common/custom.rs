//! An application's own user entity, with `nickname`, `bio` and `age` columns, for each ID
//! type.

macro_rules! custom_user {
    ($module:ident, $id:ty, $auto:literal) => {
        pub mod $module {
            use authward_sea_orm::sea_orm::Set;
            use authward_testkit::Profile;
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "user")]
            pub struct Model {
                #[sea_orm(primary_key, auto_increment = $auto)]
                pub id: $id,
                pub email: String,
                pub email_key: String,
                pub hashed_password: String,
                pub is_active: bool,
                pub is_superuser: bool,
                pub is_verified: bool,
                pub nickname: String,
                pub bio: Option<String>,
                pub age: i32,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}

            authward_sea_orm::impl_user_entity!(extra = Profile, |model, profile| {
                model.nickname = Set(profile.nickname);
                model.bio = Set(profile.bio);
                model.age = Set(profile.age);
            });

            impl super::super::HasProfile for Model {
                fn profile(&self) -> Profile {
                    Profile {
                        nickname: self.nickname.clone(),
                        bio: self.bio.clone(),
                        age: self.age,
                    }
                }
            }
        }
    };
}

custom_user!(uuid_user, Uuid, false);
custom_user!(i64_user, i64, true);
custom_user!(string_user, String, false);
