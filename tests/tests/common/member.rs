//! `Member`: a user type of the application's own (not `User<ID, X>`), with fields of its own
//! and its own read / create / update / admin-update shapes.

use authward_core::schema::UserSchema;
use authward_core::{AuthUser, NewUser, UserPatch, UserRecord};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A member's role: only a superuser may change it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everyone starts here.
    #[default]
    Member,
    /// Granted by a superuser.
    Admin,
}

/// The application's user entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub active: bool,
    pub admin: bool,
    pub verified: bool,
    pub fields: MemberFields,
}

/// The member's own fields, as the store takes them (`UserDatabase::Extra`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFields {
    pub display_name: String,
    pub role: Role,
    pub plan: String,
}

impl AuthUser for Member {
    type Id = Uuid;
    fn id(&self) -> &Uuid {
        &self.id
    }
    fn email(&self) -> &str {
        &self.email
    }
    fn hashed_password(&self) -> &str {
        &self.password_hash
    }
    fn is_active(&self) -> bool {
        self.active
    }
    fn is_superuser(&self) -> bool {
        self.admin
    }
    fn is_verified(&self) -> bool {
        self.verified
    }
}

impl UserRecord for Member {
    type Extra = MemberFields;

    fn from_new(id: Uuid, new: NewUser<MemberFields>) -> Self {
        Self {
            id,
            email: new.email,
            password_hash: new.hashed_password,
            active: new.is_active,
            admin: new.is_superuser,
            verified: new.is_verified,
            fields: new.extra,
        }
    }

    fn apply_patch(&mut self, patch: UserPatch<MemberFields>) {
        if let Some(email) = patch.email {
            self.email = email;
        }
        if let Some(hash) = patch.hashed_password {
            self.password_hash = hash;
        }
        if let Some(v) = patch.is_active {
            self.active = v;
        }
        if let Some(v) = patch.is_superuser {
            self.admin = v;
        }
        if let Some(v) = patch.is_verified {
            self.verified = v;
        }
        if let Some(fields) = patch.extra {
            self.fields = fields;
        }
    }
}

/// What every route returns for a member: the role and plan are readable.
#[derive(Serialize)]
pub struct MemberRead<'a> {
    id: &'a Uuid,
    email: &'a str,
    is_active: bool,
    is_superuser: bool,
    is_verified: bool,
    display_name: &'a str,
    role: Role,
    plan: &'a str,
}

/// Registration may set the display name (required), nothing else of the member's own.
#[derive(Deserialize)]
pub struct MemberCreate {
    display_name: String,
}

/// A member may change its display name only.
#[derive(Deserialize)]
pub struct MemberUpdate {
    display_name: Option<String>,
}

/// A superuser may change everything.
#[derive(Deserialize)]
pub struct MemberAdminUpdate {
    display_name: Option<String>,
    role: Option<Role>,
    plan: Option<String>,
}

impl UserSchema for Member {
    type Extra = MemberFields;
    type Read<'a> = MemberRead<'a>;
    type Create = MemberCreate;
    type Update = MemberUpdate;
    type AdminUpdate = MemberAdminUpdate;

    fn read(&self) -> MemberRead<'_> {
        MemberRead {
            id: &self.id,
            email: &self.email,
            is_active: self.active,
            is_superuser: self.admin,
            is_verified: self.verified,
            display_name: &self.fields.display_name,
            role: self.fields.role,
            plan: &self.fields.plan,
        }
    }

    fn create_extra(fields: MemberCreate) -> MemberFields {
        MemberFields {
            display_name: fields.display_name,
            role: Role::Member,
            plan: "free".into(),
        }
    }

    fn update_extra(&self, fields: MemberUpdate) -> Option<MemberFields> {
        let display_name = fields.display_name?;
        Some(MemberFields {
            display_name,
            ..self.fields.clone()
        })
    }

    fn admin_update_extra(&self, fields: MemberAdminUpdate) -> Option<MemberFields> {
        if fields.display_name.is_none() && fields.role.is_none() && fields.plan.is_none() {
            return None;
        }
        let current = &self.fields;
        Some(MemberFields {
            display_name: fields
                .display_name
                .unwrap_or_else(|| current.display_name.clone()),
            role: fields.role.unwrap_or(current.role),
            plan: fields.plan.unwrap_or_else(|| current.plan.clone()),
        })
    }
}

/// The testkit fixture of `Member`.
pub struct MemberFixture;

impl authward_testkit::UserFixture for MemberFixture {
    type User = Member;
    type Extra = MemberFields;

    fn extra(seed: u32) -> MemberFields {
        MemberFields {
            display_name: format!("Sir {seed}"),
            role: if seed.is_multiple_of(2) {
                Role::Admin
            } else {
                Role::Member
            },
            plan: format!("plan-{seed}"),
        }
    }

    fn extra_of(user: &Member) -> MemberFields {
        user.fields.clone()
    }
}
