//! The traits that tie an application's SeaORM entities to authward: which columns are the ones
//! authward needs, and how the application's own columns are filled.

use authward_core::AuthUser;
use sea_orm::EntityTrait;

use crate::id::SeaOrmId;

/// The columns of a user entity that authward reads and writes (FastAPI Users' names in the
/// ready-made entities and with [`impl_user_entity!`](crate::impl_user_entity)).
#[derive(Debug, Clone, Copy)]
pub struct UserColumns<C> {
    /// The primary key.
    pub id: C,
    /// The email as typed.
    pub email: C,
    /// The case-folded email ([`authward_core::user::email_key`]), unique.
    pub email_key: C,
    /// The password hash.
    pub hashed_password: C,
    /// Whether the account may log in.
    pub is_active: C,
    /// Whether the account is an administrator.
    pub is_superuser: C,
    /// Whether the email is verified.
    pub is_verified: C,
}

impl<C: sea_orm::ColumnTrait> UserColumns<C> {
    /// Whether `column` is one of authward's (the others are the application's own).
    pub fn contains(&self, column: &C) -> bool {
        let name = column.as_str();
        [
            &self.id,
            &self.email,
            &self.email_key,
            &self.hashed_password,
            &self.is_active,
            &self.is_superuser,
            &self.is_verified,
        ]
        .iter()
        .any(|c| c.as_str() == name)
    }
}

/// An application's user entity: its `Model` is the user type (it implements
/// [`AuthUser`]), [`SeaOrmUser::COLUMNS`] names authward's columns, and
/// [`SeaOrmUser::set_extra`] fills the application's own columns from its `Extra` value.
///
/// [`impl_user_entity!`](crate::impl_user_entity) writes both impls for an entity that uses
/// FastAPI Users' column names; see the crate documentation for a whole application entity.
pub trait SeaOrmUser: EntityTrait<Model: AuthUser<Id: SeaOrmId>> {
    /// The application's own fields as [`authward_core::NewUser`] and
    /// [`authward_core::UserPatch`] carry them (`()` for none).
    type Extra: Clone + Send + Sync + 'static;

    /// authward's columns.
    const COLUMNS: UserColumns<Self::Column>;

    /// Sets the application's columns of `model` from `extra`.
    ///
    /// Called for a new user (every column the application has should be set, or have a
    /// database default) and for an update carrying new custom fields. Columns left `NotSet`
    /// are not written.
    fn set_extra(model: &mut Self::ActiveModel, extra: Self::Extra);
}

/// The columns of an OAuth account entity (FastAPI Users' `oauth_account`).
#[derive(Debug, Clone, Copy)]
pub struct OAuthColumns<C> {
    /// The auto-increment key: accounts are listed in link order.
    pub id: C,
    /// The owning user.
    pub user_id: C,
    /// The provider's name.
    pub oauth_name: C,
    /// The provider access token.
    pub access_token: C,
    /// When the access token expires (unix seconds).
    pub expires_at: C,
    /// The provider refresh token.
    pub refresh_token: C,
    /// The account's ID at the provider.
    pub account_id: C,
    /// The account's email at the provider.
    pub account_email: C,
}

/// An application's OAuth account entity.
///
/// [`impl_oauth_account_entity!`](crate::impl_oauth_account_entity) implements it for an
/// entity with FastAPI Users' column names.
pub trait SeaOrmOAuthAccount: EntityTrait {
    /// authward's columns.
    const COLUMNS: OAuthColumns<Self::Column>;
}

/// The columns of an access (or refresh) token entity.
#[derive(Debug, Clone, Copy)]
pub struct TokenColumns<C> {
    /// The token's SHA-256 digest, the primary key.
    pub digest: C,
    /// The owning user.
    pub user_id: C,
    /// When the token was issued.
    pub created_at: C,
    /// The refresh family, if any.
    pub family: C,
    /// Whether a refresh token was already exchanged.
    pub used: C,
}

/// An application's token entity (one per token table).
///
/// [`impl_access_token_entity!`](crate::impl_access_token_entity) implements it for an
/// entity with authward's column names.
pub trait SeaOrmAccessToken: EntityTrait {
    /// authward's columns.
    const COLUMNS: TokenColumns<Self::Column>;
}

/// Implements [`AuthUser`] for `Model` and [`SeaOrmUser`] for `Entity` in the module of a
/// user entity whose authward columns have FastAPI Users' names (`id`, `email`, `email_key`,
/// `hashed_password`, `is_active`, `is_superuser`, `is_verified`).
///
/// - `impl_user_entity!();` for an entity with no columns of the application's own;
/// - `impl_user_entity!(extra = Profile, |model, profile| { model.plan = Set(profile.plan); });`
///   with the statements that set the application's columns from its `Extra` value.
///
/// The ID type is the entity's primary key type (`uuid::Uuid`, `i64` or `String`).
#[macro_export]
macro_rules! impl_user_entity {
    () => {
        $crate::impl_user_entity!(extra = (), |_model, _extra| {});
    };
    (extra = $extra:ty, |$model:ident, $value:ident| $body:block) => {
        impl $crate::__private::AuthUser for Model {
            type Id = <PrimaryKey as $crate::sea_orm::PrimaryKeyTrait>::ValueType;

            fn id(&self) -> &Self::Id {
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

        impl $crate::SeaOrmUser for Entity {
            type Extra = $extra;

            const COLUMNS: $crate::UserColumns<Column> = $crate::UserColumns {
                id: Column::Id,
                email: Column::Email,
                email_key: Column::EmailKey,
                hashed_password: Column::HashedPassword,
                is_active: Column::IsActive,
                is_superuser: Column::IsSuperuser,
                is_verified: Column::IsVerified,
            };

            #[allow(unused_variables)]
            fn set_extra($model: &mut ActiveModel, $value: $extra) $body
        }
    };
}

/// Implements [`SeaOrmOAuthAccount`] for `Entity` in the module of an OAuth account entity with
/// FastAPI Users' column names (`id`, `user_id`, `oauth_name`, `access_token`, `expires_at`,
/// `refresh_token`, `account_id`, `account_email`).
#[macro_export]
macro_rules! impl_oauth_account_entity {
    () => {
        impl $crate::SeaOrmOAuthAccount for Entity {
            const COLUMNS: $crate::OAuthColumns<Column> = $crate::OAuthColumns {
                id: Column::Id,
                user_id: Column::UserId,
                oauth_name: Column::OauthName,
                access_token: Column::AccessToken,
                expires_at: Column::ExpiresAt,
                refresh_token: Column::RefreshToken,
                account_id: Column::AccountId,
                account_email: Column::AccountEmail,
            };
        }
    };
}

/// Implements [`SeaOrmAccessToken`] for `Entity` in the module of a token entity with
/// authward's column names (`digest`, `user_id`, `created_at`, `family`, `used`).
#[macro_export]
macro_rules! impl_access_token_entity {
    () => {
        impl $crate::SeaOrmAccessToken for Entity {
            const COLUMNS: $crate::TokenColumns<Column> = $crate::TokenColumns {
                digest: Column::Digest,
                user_id: Column::UserId,
                created_at: Column::CreatedAt,
                family: Column::Family,
                used: Column::Used,
            };
        }
    };
}
