//! An application's own user document: its ID renamed `_id`, a nickname, and a bio that is
//! left out of the document when it is empty.

use authward_core::{AuthUser, NewUser, UserId, UserPatch, UserRecord};
use authward_testkit::{SampleId, UserFixture};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "ID: UserId"))]
pub struct Member<ID> {
    #[serde(rename = "_id")]
    pub id: ID,
    pub email: String,
    pub hashed_password: String,
    pub is_active: bool,
    pub is_superuser: bool,
    pub is_verified: bool,
    pub nickname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
}

/// The member's own fields: nickname and bio.
pub type MemberFields = (String, Option<String>);

impl<ID: UserId> AuthUser for Member<ID> {
    type Id = ID;
    fn id(&self) -> &ID {
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

impl<ID: UserId> UserRecord for Member<ID> {
    type Extra = MemberFields;

    fn from_new(id: ID, new: NewUser<MemberFields>) -> Self {
        Self {
            id,
            email: new.email,
            hashed_password: new.hashed_password,
            is_active: new.is_active,
            is_superuser: new.is_superuser,
            is_verified: new.is_verified,
            nickname: new.extra.0,
            bio: new.extra.1,
        }
    }

    fn apply_patch(&mut self, patch: UserPatch<MemberFields>) {
        if let Some(email) = patch.email {
            self.email = email;
        }
        if let Some(hash) = patch.hashed_password {
            self.hashed_password = hash;
        }
        if let Some(v) = patch.is_active {
            self.is_active = v;
        }
        if let Some(v) = patch.is_superuser {
            self.is_superuser = v;
        }
        if let Some(v) = patch.is_verified {
            self.is_verified = v;
        }
        if let Some((nickname, bio)) = patch.extra {
            self.nickname = nickname;
            self.bio = bio;
        }
    }
}

/// The testkit fixture of [`Member`].
pub struct MemberFixture<ID>(std::marker::PhantomData<fn() -> ID>);

impl<ID: SampleId> UserFixture for MemberFixture<ID> {
    type User = Member<ID>;
    type Extra = MemberFields;
    fn extra(seed: u32) -> MemberFields {
        (
            format!("knight-{seed}"),
            seed.is_multiple_of(2).then(|| format!("bio «{seed}» ✓")),
        )
    }
    fn extra_of(user: &Member<ID>) -> MemberFields {
        (user.nickname.clone(), user.bio.clone())
    }
}
