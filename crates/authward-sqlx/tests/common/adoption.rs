//! Checks shared by every backend: a FastAPI Users database is adopted, migrations are
//! idempotent, custom columns are added to an existing table.

use argon2::PasswordVerifier;
use authward_core::{
    AccessTokenDatabase, DbError, NewUser, OAuthUserDatabase, TokenDigest, User, UserDatabase,
    UserPatch,
};
use authward_sqlx::{Backend, ExtraColumns, SqlId, SqlxAccessTokenDatabase, SqlxUserDatabase};
use authward_testkit::Profile;
use time::macros::datetime;
use uuid::Uuid;

use super::profile::ProfileColumns;

pub const ARTHUR: &str = "a1a1a1a1-0000-4000-8000-000000000001";
pub const BCRYPT: &str = "$2b$12$W0DrXUvtbELfZUTqZ1OfGOFmUtKgTdlXj0QXfdvFldNv59Jkjc1iW";
pub const ARGON2: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$pI3qFT20ZhR+GB2JBuFvoJWJieY3oyPaco4uyP95VOI";
pub const LEGACY_TOKEN: &str = "legacy-token-0123456789abcdefghijklmnopqrst";

/// The statements of a fixture file, one per `;`-terminated line group.
pub fn statements(sql: &str) -> Vec<String> {
    let body: String = sql
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    body.split(";\n")
        .map(|s| s.trim().trim_end_matches(';').to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Migrates a database holding the FastAPI Users fixture (twice) and checks that its users,
/// OAuth account and session survived and follow authward's rules.
pub async fn adopted_database_works<DB>(pool: sqlx::Pool<DB>)
where
    DB: Backend,
    Uuid: SqlId<DB>,
    SqlxUserDatabase<DB, Uuid>: OAuthUserDatabase<User = User<Uuid>, Extra = ()>,
    SqlxAccessTokenDatabase<DB, Uuid>: AccessTokenDatabase<Uuid>,
{
    let users = SqlxUserDatabase::<DB, Uuid>::new(pool.clone()).expect("store");
    let tokens = SqlxAccessTokenDatabase::<DB, Uuid>::new(pool);
    for _ in 0..2 {
        users.migrate().await.expect("adopt the user tables");
        tokens.migrate().await.expect("adopt the token table");
    }

    let arthur = users
        .get_by_email("king.ARTHUR@Camelot.BT")
        .await
        .expect("get_by_email")
        .expect("Arthur is found ignoring case");
    assert_eq!(arthur.id, Uuid::parse_str(ARTHUR).expect("uuid"));
    assert_eq!(
        arthur.email, "King.Arthur@camelot.bt",
        "email kept as stored"
    );
    assert_eq!(arthur.hashed_password, BCRYPT, "bcrypt hash byte-exact");
    assert!(arthur.is_active && arthur.is_superuser && arthur.is_verified);
    assert!(
        bcrypt::verify("excalibur", &arthur.hashed_password).expect("bcrypt hash parses"),
        "Arthur still logs in with his password"
    );

    let guinevere = users
        .get_by_email("GUINEVERE@CAMELOT.BT")
        .await
        .expect("get_by_email")
        .expect("Guinevere is found ignoring case");
    assert_eq!(guinevere.hashed_password, ARGON2, "argon2 hash byte-exact");
    let parsed = argon2::PasswordHash::new(&guinevere.hashed_password).expect("argon2 parses");
    assert!(
        argon2::Argon2::default()
            .verify_password(b"holy-grail", &parsed)
            .is_ok(),
        "Guinevere still logs in with her password"
    );

    match users
        .create(NewUser::new("guinevere@CAMELOT.bt", "$argon2id$x"))
        .await
    {
        Err(DbError::AlreadyExists { .. }) => {}
        other => panic!("a case variant of an adopted email must be taken, got {other:?}"),
    }

    let linked = users
        .get_by_oauth_account("google", "g-1234567890")
        .await
        .expect("lookup");
    assert_eq!(linked.map(|u| u.id), Some(arthur.id));
    let accounts = users.oauth_accounts(&arthur.id).await.expect("list");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].access_token, "ya29.provider-token");
    assert_eq!(accounts[0].expires_at, Some(1_900_000_000));
    match users
        .add_oauth_account(&guinevere.id, accounts[0].clone().into_new())
        .await
    {
        Err(DbError::AlreadyExists { .. }) => {}
        other => panic!("(oauth_name, account_id) is unique after adoption, got {other:?}"),
    }

    let session = tokens
        .get_by_token(&TokenDigest::of(LEGACY_TOKEN), None)
        .await
        .expect("get_by_token")
        .expect("the plaintext session was kept as a digest");
    assert_eq!(session.user_id, arthur.id);
    assert_eq!(session.created_at, datetime!(2030-01-01 12:00:00 UTC));

    // New users work next to the adopted ones; deleting Arthur cascades.
    let lancelot = users
        .create(NewUser::new("Lancelot@camelot.bt", "$argon2id$y"))
        .await
        .expect("create");
    let found = users
        .get_by_email("lancelot@camelot.bt")
        .await
        .expect("get");
    assert_eq!(found, Some(lancelot));
    users.delete(&arthur.id).await.expect("delete");
    assert_eq!(
        tokens
            .get_by_token(&TokenDigest::of(LEGACY_TOKEN), None)
            .await
            .expect("get"),
        None
    );
}

trait IntoNew {
    fn into_new(self) -> authward_core::NewOAuthAccount;
}

impl IntoNew for authward_core::OAuthAccount<Uuid> {
    fn into_new(self) -> authward_core::NewOAuthAccount {
        authward_core::NewOAuthAccount {
            oauth_name: self.oauth_name,
            access_token: self.access_token,
            expires_at: self.expires_at,
            refresh_token: self.refresh_token,
            account_id: self.account_id,
            account_email: self.account_email,
        }
    }
}

/// Running every migration twice on an empty database works and leaves a usable schema; a
/// store with declared columns then adds them to the existing table.
pub async fn migrations_are_idempotent<DB>(pool: sqlx::Pool<DB>)
where
    DB: Backend,
    i64: SqlId<DB>,
    ProfileColumns: ExtraColumns<DB, Value = Profile>,
    SqlxUserDatabase<DB, i64>: UserDatabase<User = User<i64>, Extra = ()>,
    SqlxUserDatabase<DB, i64, ProfileColumns>:
        UserDatabase<User = User<i64, Profile>, Extra = Profile>,
    SqlxAccessTokenDatabase<DB, i64>: AccessTokenDatabase<i64>,
{
    let users = SqlxUserDatabase::<DB, i64>::new(pool.clone()).expect("store");
    let tokens = SqlxAccessTokenDatabase::<DB, i64>::new(pool.clone());
    for _ in 0..2 {
        users.migrate().await.expect("migrate users");
        tokens.migrate().await.expect("migrate tokens");
    }
    let plain = users
        .create(NewUser::new("Percival@camelot.bt", "h"))
        .await
        .expect("create");

    let with_profile =
        SqlxUserDatabase::<DB, i64, ProfileColumns>::new(pool).expect("store with columns");
    for _ in 0..2 {
        with_profile
            .migrate()
            .await
            .expect("add the declared columns");
    }
    let read = with_profile
        .get(&plain.id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(
        read.extra,
        Profile::default(),
        "existing rows read the defaults"
    );
    let profile = Profile {
        nickname: "percy".into(),
        bio: Some("grail".into()),
        age: 30,
    };
    let updated = with_profile
        .update(
            &plain.id,
            UserPatch {
                extra: Some(profile.clone()),
                ..UserPatch::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(updated.extra, profile);
    assert_eq!(
        users.get(&plain.id).await.expect("get").map(|u| u.email),
        Some(plain.email),
        "the plain store still reads the row"
    );
}

/// A store whose server cannot be reached reports `Unavailable` for every kind of call.
pub async fn outage_is_unavailable<DB>(pool: sqlx::Pool<DB>)
where
    DB: Backend,
    Uuid: SqlId<DB>,
    SqlxUserDatabase<DB, Uuid>: UserDatabase<User = User<Uuid>, Extra = ()>,
    SqlxAccessTokenDatabase<DB, Uuid>: AccessTokenDatabase<Uuid>,
{
    let users = SqlxUserDatabase::<DB, Uuid>::new(pool.clone()).expect("store");
    let tokens = SqlxAccessTokenDatabase::<DB, Uuid>::new(pool);
    match users.get_by_email("a@b.c").await {
        Err(DbError::Unavailable(_)) => {}
        other => panic!("get_by_email during an outage: expected Unavailable, got {other:?}"),
    }
    match users.create(NewUser::new("a@b.c", "h")).await {
        Err(DbError::Unavailable(_)) => {}
        other => panic!("create during an outage: expected Unavailable, got {other:?}"),
    }
    match tokens.get_by_token(&TokenDigest::of("t"), None).await {
        Err(DbError::Unavailable(_)) => {}
        other => panic!("get_by_token during an outage: expected Unavailable, got {other:?}"),
    }
    match users.migrate().await {
        Err(authward_sqlx::MigrateError::Db(DbError::Unavailable(_))) => {}
        other => panic!("migrate during an outage: expected Unavailable, got {other:?}"),
    }
}

/// A unique violation on a column of the application's own is `AlreadyExists` with
/// `UniqueKey::Other` (never "email taken"), on create and on update; a taken email is
/// `UniqueKey::Email`; both keep the driver's error as their source.
pub async fn unique_app_column_is_not_the_email<DB>(pool: sqlx::Pool<DB>)
where
    DB: Backend,
    i64: SqlId<DB>,
    super::profile::HandleColumn: ExtraColumns<DB, Value = String>,
    SqlxUserDatabase<DB, i64, super::profile::HandleColumn>:
        UserDatabase<User = User<i64, String>, Extra = String>,
{
    use authward_core::{DbError, UniqueKey, UserPatch};
    let users =
        SqlxUserDatabase::<DB, i64, super::profile::HandleColumn>::new(pool).expect("store");
    users.migrate().await.expect("migrate");
    let new = |email: &str, handle: &str| {
        authward_core::NewUser::<()>::new(email, "$argon2id$v=19$hash")
            .with_extra(handle.to_owned())
    };
    let first = users
        .create(new("Lot@Orkney.bt", "lot"))
        .await
        .expect("create");
    let second = users
        .create(new("gareth@orkney.bt", "gareth"))
        .await
        .expect("create");
    let rule = |result: Result<User<i64, String>, DbError>| match result {
        Err(err @ DbError::AlreadyExists { .. }) => {
            assert!(
                std::error::Error::source(&err).is_some(),
                "the driver error is kept"
            );
            err.unique_key()
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    };
    assert_eq!(
        rule(users.create(new("someone@orkney.bt", "lot")).await),
        Some(UniqueKey::Other)
    );
    assert_eq!(
        rule(users.create(new("LOT@orkney.bt", "fresh")).await),
        Some(UniqueKey::Email)
    );
    let take_handle = UserPatch {
        extra: Some("lot".to_owned()),
        ..UserPatch::default()
    };
    assert_eq!(
        rule(users.update(&second.id, take_handle).await),
        Some(UniqueKey::Other)
    );
    // An email change of one's own that collides on the handle is about the handle.
    let both = UserPatch {
        email: Some("Gareth.Beaumains@orkney.bt".into()),
        extra: Some("lot".to_owned()),
        ..UserPatch::default()
    };
    assert_eq!(
        rule(users.update(&second.id, both).await),
        Some(UniqueKey::Other)
    );
    let take_email = UserPatch {
        email: Some(first.email.to_uppercase()),
        ..UserPatch::default()
    };
    assert_eq!(
        rule(users.update(&second.id, take_email).await),
        Some(UniqueKey::Email)
    );
}

/// Stores three users under the current key rule; the caller then rewrites their keys (and the
/// index name) the way an earlier authward stored them (Unicode lower-casing only).
pub async fn seed_earlier_rule<DB>(pool: sqlx::Pool<DB>) -> [i64; 3]
where
    DB: Backend,
    i64: SqlId<DB>,
    SqlxUserDatabase<DB, i64>: UserDatabase<User = User<i64>, Extra = ()>,
{
    let users = SqlxUserDatabase::<DB, i64>::new(pool).expect("store");
    users.migrate().await.expect("migrate");
    let mut ids = [0; 3];
    for (i, email) in ["user@Bücher.de", "\u{FF21}\u{FF22}@x.io", "plain@x.io"]
        .into_iter()
        .enumerate()
    {
        ids[i] = users
            .create(NewUser::new(email, "h"))
            .await
            .expect("create")
            .id;
    }
    ids
}

/// After [`seed_earlier_rule`] and a downgrade of the keys: `migrate()` recomputes them, and
/// every equivalent form then finds its user and cannot be registered again.
pub async fn earlier_rule_keys_are_recomputed<DB>(pool: sqlx::Pool<DB>, ids: [i64; 3])
where
    DB: Backend,
    i64: SqlId<DB>,
    SqlxUserDatabase<DB, i64>: UserDatabase<User = User<i64>, Extra = ()>,
{
    let users = SqlxUserDatabase::<DB, i64>::new(pool).expect("store");
    let found = |email: &'static str| {
        let users = users.clone();
        async move {
            users
                .get_by_email(email)
                .await
                .expect("get_by_email")
                .map(|u| u.id)
        }
    };
    assert_eq!(
        found("user@xn--bcher-kva.de").await,
        None,
        "before: keys of the earlier rule"
    );
    for _ in 0..2 {
        users.migrate().await.expect("recompute the keys");
    }
    assert_eq!(found("USER@xn--bcher-kva.de").await, Some(ids[0]));
    assert_eq!(found("user@bücher.de").await, Some(ids[0]));
    assert_eq!(found("ab@x.io").await, Some(ids[1]));
    assert_eq!(found("plain@x.io").await, Some(ids[2]));
    match users.create(NewUser::new("Ab@X.io", "h")).await {
        Err(err @ DbError::AlreadyExists { .. }) => {
            assert_eq!(err.unique_key(), Some(authward_core::UniqueKey::Email));
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    let stored = users.get(&ids[1]).await.expect("get").expect("found");
    assert_eq!(
        stored.email, "\u{FF21}\u{FF22}@x.io",
        "the email stays as typed"
    );
}

/// Two rows whose keys collide under the current rule stop `migrate()` with
/// `EmailKeyCollisions` naming both, before anything changed (the caller checks the stored
/// keys and indexes).
pub async fn collisions_are_reported<DB>(pool: sqlx::Pool<DB>, ids: [i64; 2])
where
    DB: Backend,
    i64: SqlId<DB>,
    SqlxUserDatabase<DB, i64>: UserDatabase<User = User<i64>, Extra = ()>,
{
    let users = SqlxUserDatabase::<DB, i64>::new(pool).expect("store");
    match users.migrate().await {
        Err(authward_sqlx::MigrateError::EmailKeyCollisions { collisions }) => {
            assert_eq!(collisions.len(), 1, "{collisions:?}");
            assert_eq!(collisions[0].key, "user@xn--bcher-kva.de");
            let mut named: Vec<String> = collisions[0]
                .users
                .iter()
                .map(|(id, _)| id.clone())
                .collect();
            named.sort();
            let mut expected = vec![ids[0].to_string(), ids[1].to_string()];
            expected.sort();
            assert_eq!(named, expected);
        }
        other => panic!("expected EmailKeyCollisions, got {other:?}"),
    }
}
