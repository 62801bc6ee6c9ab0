//! Ready-made entities over FastAPI Users' tables (`user`, `oauth_account`, `accesstoken`),
//! one set per ID type, for applications whose users have no columns of their own.
//!
//! - [`uuid_id`]: `uuid::Uuid` IDs, made by the application;
//! - [`i64_id`]: `i64` IDs, assigned by the database;
//! - [`string_id`]: `String` IDs, made by the application.
//!
//! Each set has `user` (its `Model` is the user type: it implements `AuthUser` and `UserSchema`
//! with no fields of the application's own), `oauth_account` and `access_token`.

macro_rules! ready_made {
    ($module:ident, $id:ty, $auto:literal, $what:literal) => {
        #[doc = concat!("Entities for users with ", $what, " IDs.")]
        pub mod $module {
            /// The user table, `user`.
            #[allow(missing_docs)]
            pub mod user {
                use sea_orm::entity::prelude::*;

                /// A user.
                #[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
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
                }

                #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
                pub enum Relation {}

                impl ActiveModelBehavior for ActiveModel {}

                $crate::impl_user_entity!();

                impl std::fmt::Debug for Model {
                    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.debug_struct("Model")
                            .field("id", &self.id)
                            .field("email", &self.email)
                            .field("hashed_password", &"<redacted>")
                            .field("is_active", &self.is_active)
                            .field("is_superuser", &self.is_superuser)
                            .field("is_verified", &self.is_verified)
                            .finish()
                    }
                }

                impl authward_core::schema::UserSchema for Model {
                    type Extra = ();
                    type Read<'a> = authward_core::schema::UserRead<'a, $id, ()>;
                    type Create = authward_core::schema::NoFields;
                    type Update = authward_core::schema::NoFields;
                    type AdminUpdate = authward_core::schema::NoFields;

                    fn read(&self) -> Self::Read<'_> {
                        authward_core::schema::UserRead {
                            id: &self.id,
                            email: &self.email,
                            is_active: self.is_active,
                            is_superuser: self.is_superuser,
                            is_verified: self.is_verified,
                            extra: &(),
                        }
                    }
                    fn create_extra(_: authward_core::schema::NoFields) {}
                    fn update_extra(&self, _: authward_core::schema::NoFields) -> Option<()> {
                        None
                    }
                    fn admin_update_extra(&self, _: authward_core::schema::NoFields) -> Option<()> {
                        None
                    }
                    fn has_app_fields() -> bool {
                        false
                    }
                }
            }

            /// The OAuth account table, `oauth_account`.
            #[allow(missing_docs)]
            pub mod oauth_account {
                use sea_orm::entity::prelude::*;

                /// A provider account linked to a user.
                #[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
                #[sea_orm(table_name = "oauth_account")]
                pub struct Model {
                    #[sea_orm(primary_key)]
                    pub id: i64,
                    pub user_id: $id,
                    pub oauth_name: String,
                    pub access_token: String,
                    pub expires_at: Option<i64>,
                    pub refresh_token: Option<String>,
                    pub account_id: String,
                    pub account_email: String,
                }

                #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
                pub enum Relation {}

                impl ActiveModelBehavior for ActiveModel {}

                $crate::impl_oauth_account_entity!();

                impl std::fmt::Debug for Model {
                    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.debug_struct("Model")
                            .field("user_id", &self.user_id)
                            .field("oauth_name", &self.oauth_name)
                            .field("account_id", &self.account_id)
                            .field("account_email", &self.account_email)
                            .finish_non_exhaustive()
                    }
                }
            }

            /// The token table, `accesstoken` (SHA-256 digests only).
            #[allow(missing_docs)]
            pub mod access_token {
                use sea_orm::entity::prelude::*;

                /// A stored token.
                #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
                #[sea_orm(table_name = "accesstoken")]
                pub struct Model {
                    #[sea_orm(primary_key, auto_increment = false)]
                    pub digest: Vec<u8>,
                    pub user_id: $id,
                    pub created_at: TimeDateTimeWithTimeZone,
                    pub family: Option<Uuid>,
                    pub used: bool,
                }

                #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
                pub enum Relation {}

                impl ActiveModelBehavior for ActiveModel {}

                $crate::impl_access_token_entity!();
            }
        }
    };
}

ready_made!(uuid_id, Uuid, false, "`uuid::Uuid`");
ready_made!(i64_id, i64, true, "`i64`");
ready_made!(string_id, String, false, "`String`");
