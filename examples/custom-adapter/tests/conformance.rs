//! The custom store passes the same conformance suite as authward's own adapters.

use authward::testkit::{Profile, user_database_tests};
use custom_adapter::SortedStore;

user_database_tests!(
    uuid_ids,
    id = uuid::Uuid,
    extra = (),
    db = SortedStore::<uuid::Uuid>::new()
);
user_database_tests!(
    string_ids_with_profile,
    id = String,
    extra = Profile,
    db = SortedStore::<String, Profile>::new()
);
user_database_tests!(
    uuid_ids_with_profile,
    id = uuid::Uuid,
    extra = Profile,
    db = SortedStore::<uuid::Uuid, Profile>::new()
);
