//! The application's user entity: FastAPI Users' columns plus `display_name` and `plan`, and
//! the JSON shapes clients see.

use authward::schema::UserSchema;
use sea_orm::Set;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A user, as stored in the `user` table.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user")]
pub struct Model {
    /// The ID, made by the application.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The email, as typed.
    pub email: String,
    /// The case-folded email authward looks users up by.
    pub email_key: String,
    /// The password hash.
    pub hashed_password: String,
    /// Whether the account may log in.
    pub is_active: bool,
    /// Whether the account is an administrator.
    pub is_superuser: bool,
    /// Whether the email is verified.
    pub is_verified: bool,
    /// The application's column: the name shown to others.
    pub display_name: String,
    /// The application's column: the subscription, changed by administrators only.
    pub plan: String,
}

/// No relations are needed by authward.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The application's fields, as authward's `NewUser` and `UserPatch` carry them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    /// The name shown to others.
    pub display_name: String,
    /// The subscription.
    pub plan: String,
}

authward::sea_orm::impl_user_entity!(extra = Profile, |model, profile| {
    model.display_name = Set(profile.display_name);
    model.plan = Set(profile.plan);
});

/// What every route returns for a user (never the hash).
#[derive(Debug, Serialize)]
pub struct UserView<'a> {
    id: &'a Uuid,
    email: &'a str,
    is_active: bool,
    is_superuser: bool,
    is_verified: bool,
    display_name: &'a str,
    plan: &'a str,
}

/// What registration and `PATCH /users/me` may set besides email and password.
#[derive(Debug, Deserialize)]
pub struct ProfileInput {
    display_name: Option<String>,
}

/// What a superuser may change (`PATCH /users/{id}`).
#[derive(Debug, Deserialize)]
pub struct AdminProfileInput {
    display_name: Option<String>,
    plan: Option<String>,
}

impl Model {
    fn profile(&self) -> Profile {
        Profile {
            display_name: self.display_name.clone(),
            plan: self.plan.clone(),
        }
    }
}

impl UserSchema for Model {
    type Extra = Profile;
    type Read<'a> = UserView<'a>;
    type Create = ProfileInput;
    type Update = ProfileInput;
    type AdminUpdate = AdminProfileInput;

    fn read(&self) -> UserView<'_> {
        UserView {
            id: &self.id,
            email: &self.email,
            is_active: self.is_active,
            is_superuser: self.is_superuser,
            is_verified: self.is_verified,
            display_name: &self.display_name,
            plan: &self.plan,
        }
    }

    fn create_extra(fields: ProfileInput) -> Profile {
        Profile {
            display_name: fields.display_name.unwrap_or_default(),
            plan: "free".into(),
        }
    }

    fn update_extra(&self, fields: ProfileInput) -> Option<Profile> {
        let display_name = fields.display_name?;
        Some(Profile {
            display_name,
            ..self.profile()
        })
    }

    fn admin_update_extra(&self, fields: AdminProfileInput) -> Option<Profile> {
        if fields.display_name.is_none() && fields.plan.is_none() {
            return None;
        }
        let current = self.profile();
        Some(Profile {
            display_name: fields.display_name.unwrap_or(current.display_name),
            plan: fields.plan.unwrap_or(current.plan),
        })
    }
}
