use std::fmt::Debug;
use std::marker::PhantomData;

use authward_core::{AuthUser, User, UserId};
use serde::{Deserialize, Serialize};

/// What the user and OAuth suites need to know about a store's user type: how to make the
/// application's custom fields for a new user, and how to read them back to compare.
///
/// [`StdUser<ID, X>`] is the fixture of the ready-made `User<ID, X>`; a store with its own
/// entity type (a SeaORM model, a MongoDB document struct) writes a fixture of its own and runs
/// the very same suites:
///
/// ```
/// use authward_testkit::UserFixture;
/// # #[derive(Clone, Debug, PartialEq)]
/// # struct Member { id: uuid::Uuid, email: String, hash: String, nickname: String }
/// # impl authward_core::AuthUser for Member {
/// #     type Id = uuid::Uuid;
/// #     fn id(&self) -> &uuid::Uuid { &self.id }
/// #     fn email(&self) -> &str { &self.email }
/// #     fn hashed_password(&self) -> &str { &self.hash }
/// #     fn is_active(&self) -> bool { true }
/// #     fn is_superuser(&self) -> bool { false }
/// #     fn is_verified(&self) -> bool { false }
/// # }
///
/// struct MemberFixture;
///
/// impl UserFixture for MemberFixture {
///     type User = Member;
///     type Extra = String; // the nickname
///     fn extra(seed: u32) -> String {
///         format!("knight-{seed}")
///     }
///     fn extra_of(user: &Member) -> String {
///         user.nickname.clone()
///     }
/// }
/// ```
pub trait UserFixture: Send + Sync + 'static {
    /// The store's user type.
    type User: AuthUser<Id: SampleId> + PartialEq + Debug;
    /// The store's custom fields (`UserDatabase::Extra`).
    type Extra: Clone + PartialEq + Debug + Send + Sync + 'static;
    /// Custom fields that differ for each `seed` (when the type can hold a difference at all).
    fn extra(seed: u32) -> Self::Extra;
    /// The custom fields a stored user carries.
    fn extra_of(user: &Self::User) -> Self::Extra;
}

/// The ID type of a fixture's users.
pub type Id<F> = <<F as UserFixture>::User as AuthUser>::Id;

/// The fixture of the ready-made `User<ID, X>`.
pub struct StdUser<ID, X>(PhantomData<fn() -> (ID, X)>);

impl<ID: SampleId, X: ExtraFixture> UserFixture for StdUser<ID, X> {
    type User = User<ID, X>;
    type Extra = X;
    fn extra(seed: u32) -> X {
        X::sample(seed)
    }
    fn extra_of(user: &User<ID, X>) -> X {
        user.extra.clone()
    }
}

/// ID types the suites can run with: they need an ID that no stored user has.
pub trait SampleId: UserId {
    /// An ID that is valid for the type but belongs to no user the suite creates.
    fn unused() -> Self;
}

impl SampleId for uuid::Uuid {
    fn unused() -> Self {
        uuid::Uuid::new_v4()
    }
}

impl SampleId for i64 {
    fn unused() -> Self {
        i64::MAX - 7
    }
}

impl SampleId for String {
    fn unused() -> Self {
        format!("unused-{}", uuid::Uuid::new_v4())
    }
}

#[cfg(feature = "objectid")]
impl SampleId for bson::oid::ObjectId {
    fn unused() -> Self {
        bson::oid::ObjectId::new()
    }
}

/// Custom user fields the suites can create and compare.
pub trait ExtraFixture: Clone + PartialEq + std::fmt::Debug + Send + Sync + 'static {
    /// A value that differs for each `seed` (when the type can hold any difference at all).
    fn sample(seed: u32) -> Self;
}

impl ExtraFixture for () {
    fn sample(_seed: u32) -> Self {}
}

/// Custom fields used by the suites: a text, an optional text and a number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// A display name.
    pub nickname: String,
    /// An optional free text.
    pub bio: Option<String>,
    /// A number.
    pub age: i32,
}

impl ExtraFixture for Profile {
    fn sample(seed: u32) -> Self {
        Self {
            nickname: format!("knight-{seed}"),
            bio: seed.is_multiple_of(2).then(|| format!("bio «{seed}» ✓")),
            age: 20 + (seed % 50) as i32,
        }
    }
}

/// A fresh address `prefix-<random>@domain`, so suites can share one store.
pub fn unique_email(prefix: &str, domain: &str) -> String {
    format!("{prefix}-{}@{domain}", uuid::Uuid::new_v4().simple())
}
