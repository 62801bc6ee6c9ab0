//! The testkit's suites against MongoDB: every user, OAuth and token rule, for ObjectId, Uuid
//! and String IDs, with `User<ID, ()>`, `User<ID, Profile>` (custom fields flattened into the
//! document) and an application's own document type.

mod common;

use authward_core::User;
use authward_testkit::{
    Profile, access_token_database_tests, oauth_user_database_tests, user_database_tests,
};
use bson::oid::ObjectId;
use common::member::{Member, MemberFixture};
use uuid::Uuid;

macro_rules! users {
    ($ty:ty) => {{
        let Some(store) = common::users::<$ty>().await else {
            return;
        };
        store
    }};
}

macro_rules! tokens {
    ($id:ty) => {{
        let Some(stores) = common::tokens::<$id>().await else {
            return;
        };
        stores
    }};
}

user_database_tests!(
    users_objectid,
    id = ObjectId,
    extra = (),
    db = users!(User<ObjectId>)
);
user_database_tests!(users_uuid, id = Uuid, extra = (), db = users!(User<Uuid>));
user_database_tests!(
    users_string,
    id = String,
    extra = (),
    db = users!(User<String>)
);
user_database_tests!(
    users_objectid_profile,
    id = ObjectId,
    extra = Profile,
    db = users!(User<ObjectId, Profile>)
);
user_database_tests!(
    users_uuid_profile,
    id = Uuid,
    extra = Profile,
    db = users!(User<Uuid, Profile>)
);
user_database_tests!(
    users_string_profile,
    id = String,
    extra = Profile,
    db = users!(User<String, Profile>)
);
user_database_tests!(
    users_objectid_member,
    fixture = MemberFixture<ObjectId>,
    db = users!(Member<ObjectId>)
);
user_database_tests!(
    users_uuid_member,
    fixture = MemberFixture<Uuid>,
    db = users!(Member<Uuid>)
);
user_database_tests!(
    users_string_member,
    fixture = MemberFixture<String>,
    db = users!(Member<String>)
);

oauth_user_database_tests!(
    oauth_objectid,
    id = ObjectId,
    extra = (),
    db = users!(User<ObjectId>)
);
oauth_user_database_tests!(
    oauth_uuid_profile,
    id = Uuid,
    extra = Profile,
    db = users!(User<Uuid, Profile>)
);
oauth_user_database_tests!(
    oauth_string_member,
    fixture = MemberFixture<String>,
    db = users!(Member<String>)
);

access_token_database_tests!(tokens_objectid, id = ObjectId, db = tokens!(ObjectId));
access_token_database_tests!(tokens_uuid, id = Uuid, db = tokens!(Uuid));
access_token_database_tests!(tokens_string, id = String, db = tokens!(String));
