//! The in-memory adapters pass every conformance suite, for every supported ID type.

use authward_core::memory::{MemoryAccessTokenDatabase, MemoryUserDatabase};
use authward_testkit::{
    Profile, access_token_database_tests, oauth_user_database_tests, user_database_tests,
};
use bson::oid::ObjectId;
use uuid::Uuid;

user_database_tests!(
    users_uuid,
    id = Uuid,
    extra = (),
    db = MemoryUserDatabase::<Uuid>::new()
);
user_database_tests!(
    users_i64,
    id = i64,
    extra = (),
    db = MemoryUserDatabase::<i64>::new()
);
user_database_tests!(
    users_string,
    id = String,
    extra = (),
    db = MemoryUserDatabase::<String>::new()
);
user_database_tests!(
    users_object_id,
    id = ObjectId,
    extra = (),
    db = MemoryUserDatabase::<ObjectId>::new()
);
user_database_tests!(
    users_uuid_profile,
    id = Uuid,
    extra = Profile,
    db = MemoryUserDatabase::<Uuid, Profile>::new()
);
user_database_tests!(
    users_i64_profile,
    id = i64,
    extra = Profile,
    db = MemoryUserDatabase::<i64, Profile>::new()
);
user_database_tests!(
    users_string_profile,
    id = String,
    extra = Profile,
    db = MemoryUserDatabase::<String, Profile>::new()
);
user_database_tests!(
    users_object_id_profile,
    id = ObjectId,
    extra = Profile,
    db = MemoryUserDatabase::<ObjectId, Profile>::new()
);

oauth_user_database_tests!(
    oauth_uuid,
    id = Uuid,
    extra = (),
    db = MemoryUserDatabase::<Uuid>::new()
);
oauth_user_database_tests!(
    oauth_i64,
    id = i64,
    extra = (),
    db = MemoryUserDatabase::<i64>::new()
);
oauth_user_database_tests!(
    oauth_string,
    id = String,
    extra = Profile,
    db = MemoryUserDatabase::<String, Profile>::new()
);
oauth_user_database_tests!(
    oauth_object_id,
    id = ObjectId,
    extra = (),
    db = MemoryUserDatabase::<ObjectId>::new()
);

access_token_database_tests!(
    tokens_uuid,
    id = Uuid,
    db = (
        MemoryAccessTokenDatabase::<Uuid>::new(),
        MemoryUserDatabase::<Uuid>::new()
    )
);
access_token_database_tests!(
    tokens_i64,
    id = i64,
    db = (
        MemoryAccessTokenDatabase::<i64>::new(),
        MemoryUserDatabase::<i64>::new()
    )
);
access_token_database_tests!(
    tokens_string,
    id = String,
    db = (
        MemoryAccessTokenDatabase::<String>::new(),
        MemoryUserDatabase::<String>::new()
    )
);
access_token_database_tests!(
    tokens_object_id,
    id = ObjectId,
    db = (
        MemoryAccessTokenDatabase::<ObjectId>::new(),
        MemoryUserDatabase::<ObjectId>::new()
    )
);

mod cached {
    //! The read-through user cache is itself a conforming store.
    use authward_core::cache::CachedUserDatabase;
    use authward_core::memory::MemoryUserDatabase;
    use authward_testkit::{Profile, oauth_user_database_tests, user_database_tests};
    use uuid::Uuid;

    user_database_tests!(
        users_uuid,
        id = Uuid,
        extra = (),
        db = CachedUserDatabase::new(MemoryUserDatabase::<Uuid>::new())
    );
    user_database_tests!(
        users_uuid_profile,
        id = Uuid,
        extra = Profile,
        db = CachedUserDatabase::new(MemoryUserDatabase::<Uuid, Profile>::new())
    );
    oauth_user_database_tests!(
        oauth_i64,
        id = i64,
        extra = (),
        db = CachedUserDatabase::new(MemoryUserDatabase::<i64>::new())
    );
}

mod fail_fast {
    //! The fail-fast wrapper is itself a conforming store.
    use authward_core::FailFast;
    use authward_core::memory::{MemoryAccessTokenDatabase, MemoryUserDatabase};
    use authward_testkit::{
        Profile, access_token_database_tests, oauth_user_database_tests, user_database_tests,
    };
    use uuid::Uuid;

    user_database_tests!(
        users_uuid_profile,
        id = Uuid,
        extra = Profile,
        db = FailFast::new(MemoryUserDatabase::<Uuid, Profile>::new())
    );
    oauth_user_database_tests!(
        oauth_i64,
        id = i64,
        extra = (),
        db = FailFast::new(MemoryUserDatabase::<i64>::new())
    );
    access_token_database_tests!(
        tokens_uuid,
        id = Uuid,
        db = (
            FailFast::new(MemoryAccessTokenDatabase::<Uuid>::new()),
            MemoryUserDatabase::<Uuid>::new()
        )
    );
}
