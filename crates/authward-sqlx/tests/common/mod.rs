//! Shared test helpers: building migrated stores over a fresh pool, the suite matrix, and the
//! testkit's `Profile` declared as real columns.

#![allow(dead_code, unused_macros, unused_imports)]

use authward_sqlx::{
    Backend, ExtraColumns, SqlId, SqlxAccessTokenDatabase, SqlxUserDatabase, TableNames,
};

pub mod adoption;
#[cfg(feature = "mysql")]
pub mod dropped;
pub mod profile;
#[cfg(feature = "postgres")]
pub mod stored_timestamps;

/// A migrated user store over `pool`.
pub async fn users<DB, ID, E>(pool: sqlx::Pool<DB>) -> SqlxUserDatabase<DB, ID, E>
where
    DB: Backend,
    ID: SqlId<DB>,
    E: ExtraColumns<DB>,
{
    let store = SqlxUserDatabase::<DB, ID, E>::with_tables(pool, TableNames::default())
        .expect("valid names");
    store.migrate().await.expect("migrate users");
    store
}

/// A migrated token store and the user store that makes token owners.
pub async fn tokens<DB, ID>(
    pool: sqlx::Pool<DB>,
) -> (SqlxAccessTokenDatabase<DB, ID>, SqlxUserDatabase<DB, ID>)
where
    DB: Backend,
    ID: SqlId<DB>,
{
    let users = users::<DB, ID, ()>(pool.clone()).await;
    let tokens = SqlxAccessTokenDatabase::<DB, ID>::new(pool);
    tokens.migrate().await.expect("migrate tokens");
    (tokens, users)
}

/// A migrated user store and token store over tables named `app_user`, `app_oauth_account`
/// and `app_sessions` (configurable names, and a token table that is not `accesstoken`).
pub async fn prefixed<DB, ID>(
    pool: sqlx::Pool<DB>,
) -> (SqlxAccessTokenDatabase<DB, ID>, SqlxUserDatabase<DB, ID>)
where
    DB: Backend,
    ID: SqlId<DB>,
{
    let names = TableNames::default()
        .with_prefix("app_")
        .and_then(|n| n.with_token_table("app_sessions"))
        .expect("valid names");
    let users =
        SqlxUserDatabase::<DB, ID>::with_tables(pool.clone(), names.clone()).expect("valid names");
    users.migrate().await.expect("migrate users");
    let tokens = SqlxAccessTokenDatabase::<DB, ID>::with_tables(pool, names);
    tokens.migrate().await.expect("migrate tokens");
    (tokens, users)
}

/// Expands every suite for every ID type over `$pool` (an expression yielding
/// `Option<Pool<$db>>`; `None` skips).
macro_rules! suite_matrix {
    ($db:ty, $pool:expr) => {
        use authward_sqlx::JsonExtra;
        use authward_testkit::{
            Profile, access_token_database_tests, oauth_user_database_tests, user_database_tests,
        };
        use uuid::Uuid;

        user_database_tests!(
            users_uuid,
            id = Uuid,
            extra = (),
            db = {
                let Some(pool) = $pool else { return };
                common::users::<$db, Uuid, ()>(pool).await
            }
        );
        user_database_tests!(
            users_i64,
            id = i64,
            extra = (),
            db = {
                let Some(pool) = $pool else { return };
                common::users::<$db, i64, ()>(pool).await
            }
        );
        user_database_tests!(
            users_string,
            id = String,
            extra = (),
            db = {
                let Some(pool) = $pool else { return };
                common::users::<$db, String, ()>(pool).await
            }
        );
        user_database_tests!(
            users_uuid_json_profile,
            id = Uuid,
            extra = Profile,
            db = {
                let Some(pool) = $pool else { return };
                common::users::<$db, Uuid, JsonExtra<Profile>>(pool).await
            }
        );
        user_database_tests!(
            users_i64_json_profile,
            id = i64,
            extra = Profile,
            db = {
                let Some(pool) = $pool else { return };
                common::users::<$db, i64, JsonExtra<Profile>>(pool).await
            }
        );
        user_database_tests!(
            users_string_json_profile,
            id = String,
            extra = Profile,
            db = {
                let Some(pool) = $pool else { return };
                common::users::<$db, String, JsonExtra<Profile>>(pool).await
            }
        );
        user_database_tests!(
            users_i64_column_profile,
            id = i64,
            extra = Profile,
            db = {
                let Some(pool) = $pool else { return };
                common::users::<$db, i64, common::profile::ProfileColumns>(pool).await
            }
        );

        oauth_user_database_tests!(
            oauth_uuid,
            id = Uuid,
            extra = (),
            db = {
                let Some(pool) = $pool else { return };
                common::users::<$db, Uuid, ()>(pool).await
            }
        );
        oauth_user_database_tests!(
            oauth_i64,
            id = i64,
            extra = Profile,
            db = {
                let Some(pool) = $pool else { return };
                common::users::<$db, i64, JsonExtra<Profile>>(pool).await
            }
        );
        oauth_user_database_tests!(
            oauth_string,
            id = String,
            extra = Profile,
            db = {
                let Some(pool) = $pool else { return };
                common::users::<$db, String, common::profile::ProfileColumns>(pool).await
            }
        );

        access_token_database_tests!(
            tokens_uuid,
            id = Uuid,
            db = {
                let Some(pool) = $pool else { return };
                common::tokens::<$db, Uuid>(pool).await
            }
        );
        access_token_database_tests!(
            tokens_i64,
            id = i64,
            db = {
                let Some(pool) = $pool else { return };
                common::tokens::<$db, i64>(pool).await
            }
        );
        access_token_database_tests!(
            tokens_string,
            id = String,
            db = {
                let Some(pool) = $pool else { return };
                common::tokens::<$db, String>(pool).await
            }
        );

        oauth_user_database_tests!(
            oauth_prefixed_tables,
            id = i64,
            extra = (),
            db = {
                let Some(pool) = $pool else { return };
                common::prefixed::<$db, i64>(pool).await.1
            }
        );
        access_token_database_tests!(
            tokens_prefixed_tables,
            id = Uuid,
            db = {
                let Some(pool) = $pool else { return };
                common::prefixed::<$db, Uuid>(pool).await
            }
        );
    };
}
pub(crate) use suite_matrix;
