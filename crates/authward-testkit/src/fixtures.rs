use authward_core::UserId;
use serde::{Deserialize, Serialize};

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
