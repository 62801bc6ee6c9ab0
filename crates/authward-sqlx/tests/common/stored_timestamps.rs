//! Token rows whose timestamps `time` cannot hold, written by another program. Shared with
//! `authward-sea-orm`'s tests.

use authward_core::{
    AccessTokenDatabase, AuthUser, NewAccessToken, NewUser, TokenDigest, UserDatabase,
};
use sqlx::PgPool;
use uuid::Uuid;

/// PostgreSQL holds timestamps `time` cannot (`'infinity'`, years past 9999); a token row
/// holding one fails its reads with an error rather than panicking in the driver's decoder,
/// and a row in range still reads. `pool` reaches the stores' tables (`accesstoken`).
pub async fn timestamps_beyond_the_calendar_are_errors<T, U>(tokens: &T, users: &U, pool: &PgPool)
where
    T: AccessTokenDatabase<Uuid>,
    U: UserDatabase<Extra = ()>,
    U::User: AuthUser<Id = Uuid>,
{
    let owner = users
        .create(NewUser::new("timeless@example.com", "$argon2id$x"))
        .await
        .expect("create");
    let owner = *owner.id();
    let now = time::OffsetDateTime::now_utc();
    for stored in ["infinity", "-infinity", "10000-01-01 00:00:00+00"] {
        let token = format!("a token at {stored}");
        tokens
            .create(NewAccessToken::new(&token, owner, now))
            .await
            .expect("create token");
        sqlx::query("UPDATE accesstoken SET created_at = $1::timestamptz")
            .bind(stored)
            .execute(pool)
            .await
            .expect("store the timestamp");
        let digest = TokenDigest::of(&token);
        let read = tokens.get_by_token(&digest, None).await;
        assert!(read.is_err(), "{stored}: {read:?}");
        let listed = tokens.list_for_user(&owner).await;
        assert!(listed.is_err(), "{stored}: {listed:?}");
        assert!(tokens.delete(&digest).await.expect("delete"));
    }
    tokens
        .create(NewAccessToken::new("in range", owner, now))
        .await
        .expect("create token");
    let found = tokens
        .get_by_token(&TokenDigest::of("in range"), None)
        .await
        .expect("read");
    assert!(found.is_some());
}
