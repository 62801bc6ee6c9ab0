//! Checks every backend runs: adopting a FastAPI Users database, idempotent migrations, an
//! outage, a unique column of the application's own.

use std::time::{Duration, Instant};

use authward_core::{
    AccessTokenDatabase, DbError, NewOAuthAccount, NewUser, OAuthUserDatabase, TokenDigest,
    UniqueKey, UserDatabase, UserPatch,
};
use authward_sea_orm::entities::uuid_id::{access_token, oauth_account, user};
use authward_sea_orm::sea_orm::{ConnectionTrait, DatabaseConnection};
use authward_sea_orm::sea_orm_migration::MigratorTrait;
use authward_sea_orm::{Migrator, SeaOrmAccessTokens, SeaOrmUsers};
use authward_testkit::Profile;
use time::macros::datetime;
use uuid::Uuid;

use super::custom::i64_user;
use super::{CustomMigrator, quoted};

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

/// Loads one of authward-sqlx's FastAPI Users fixtures.
pub async fn load_fixture(db: &DatabaseConnection, sql: &str) {
    for statement in statements(sql) {
        db.execute_unprepared(&statement)
            .await
            .expect("fixture statement");
    }
}

/// Migrates a database holding the FastAPI Users fixture (twice, the second a no-op) and
/// checks that its users, OAuth account and session survived and follow authward's rules.
pub async fn adopted_database_works(db: DatabaseConnection) {
    for _ in 0..2 {
        Migrator::<Uuid>::up(&db, None).await.expect("adopt");
    }
    let users = SeaOrmUsers::<user::Entity, oauth_account::Entity>::new(db.clone());
    let tokens = SeaOrmAccessTokens::<access_token::Entity, Uuid>::new(db);

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

    let guinevere = users
        .get_by_email("GUINEVERE@CAMELOT.BT")
        .await
        .expect("get_by_email")
        .expect("Guinevere is found ignoring case");
    assert_eq!(guinevere.hashed_password, ARGON2, "argon2 hash byte-exact");
    let verified = authward_core::PasswordHelper::default()
        .verify("holy-grail", &guinevere.hashed_password)
        .await
        .expect("argon2 hash parses");
    assert!(
        verified.is_valid(),
        "Guinevere still logs in with her password"
    );

    match users
        .create(NewUser::new("guinevere@CAMELOT.bt", "$argon2id$x"))
        .await
    {
        Err(DbError::AlreadyExists {
            what: UniqueKey::Email,
            ..
        }) => {}
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
    let again = NewOAuthAccount {
        oauth_name: accounts[0].oauth_name.clone(),
        access_token: "x".into(),
        expires_at: None,
        refresh_token: None,
        account_id: accounts[0].account_id.clone(),
        account_email: accounts[0].account_email.clone(),
    };
    match users.add_oauth_account(&guinevere.id, again).await {
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

/// The migration runs again (not only recorded as done) on a migrated database without error:
/// it is what lets it run on a database the other adapter created.
pub async fn migrations_are_idempotent(db: DatabaseConnection) {
    use authward_sea_orm::migration::AuthTables;
    use authward_sea_orm::sea_orm_migration::{MigrationTrait, SchemaManager};
    CustomMigrator::<i64>::up(&db, None).await.expect("migrate");
    CustomMigrator::<i64>::up(&db, None).await.expect("again");
    let manager = SchemaManager::new(&db);
    for _ in 0..2 {
        AuthTables::<i64>::new()
            .up(&manager)
            .await
            .expect("the statements themselves are idempotent");
    }
    let users = SeaOrmUsers::<i64_user::Entity>::new(db);
    let created = users
        .create(NewUser::<()>::new("Percival@camelot.bt", "h").with_extra(Profile::default()))
        .await
        .expect("create");
    assert_eq!(created.nickname, "");
}

/// A unique violation on a column of the application's own is `AlreadyExists` with
/// `UniqueKey::Other` (never "email taken"); a taken email is `UniqueKey::Email`; both keep
/// the driver's error as their source.
pub async fn unique_app_column_is_not_the_email(db: DatabaseConnection) {
    CustomMigrator::<i64>::up(&db, None).await.expect("migrate");
    let backend = db.get_database_backend();
    db.execute_unprepared(&format!(
        "CREATE UNIQUE INDEX user_nickname_key ON {} (nickname)",
        quoted(backend, "user")
    ))
    .await
    .expect("unique nickname");
    let users = SeaOrmUsers::<i64_user::Entity>::new(db);
    let new = |email: &str, nickname: &str| {
        NewUser::<()>::new(email, "$argon2id$v=19$hash").with_extra(Profile {
            nickname: nickname.into(),
            ..Profile::default()
        })
    };
    let first = users
        .create(new("Lot@Orkney.bt", "lot"))
        .await
        .expect("create");
    let second = users
        .create(new("gareth@orkney.bt", "gareth"))
        .await
        .expect("create");
    let rule = |result: Result<i64_user::Model, DbError>| match result {
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
    let take_nickname = UserPatch {
        extra: Some(Profile {
            nickname: "lot".into(),
            ..Profile::default()
        }),
        ..UserPatch::default()
    };
    assert_eq!(
        rule(users.update(&second.id, take_nickname).await),
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

/// Every kind of call on an unreachable database fails with `Unavailable`, each within the
/// fail-fast timeout (plus slack for a loaded machine).
pub async fn outage_is_unavailable(db: DatabaseConnection) {
    let users = SeaOrmUsers::<user::Entity>::new(db.clone());
    let tokens = SeaOrmAccessTokens::<access_token::Entity, Uuid>::new(db.clone());
    let limit = Duration::from_secs(5);
    let started = Instant::now();
    match users.get_by_email("a@b.c").await {
        Err(DbError::Unavailable(_)) => {}
        other => panic!("get_by_email during an outage: expected Unavailable, got {other:?}"),
    }
    assert!(started.elapsed() < limit, "took {:?}", started.elapsed());
    let started = Instant::now();
    match users.create(NewUser::new("a@b.c", "h")).await {
        Err(DbError::Unavailable(_)) => {}
        other => panic!("create during an outage: expected Unavailable, got {other:?}"),
    }
    assert!(started.elapsed() < limit, "took {:?}", started.elapsed());
    let started = Instant::now();
    match tokens.get_by_token(&TokenDigest::of("t"), None).await {
        Err(DbError::Unavailable(_)) => {}
        other => panic!("get_by_token during an outage: expected Unavailable, got {other:?}"),
    }
    assert!(started.elapsed() < limit, "took {:?}", started.elapsed());
    assert!(
        Migrator::<Uuid>::up(&db, None).await.is_err(),
        "migrating during an outage fails"
    );
}
