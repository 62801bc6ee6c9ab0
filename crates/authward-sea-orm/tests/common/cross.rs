//! One database, two adapters: what one writes, the other reads, updates and logs in with,
//! both ways, after either migrated the schema (and the other's migration found nothing to do).

use authward_core::{
    AccessTokenDatabase, AuthUser, DbError, NewAccessToken, NewOAuthAccount, NewUser,
    OAuthUserDatabase, PasswordHelper, TokenDigest, TokenFamily, UniqueKey, User, UserDatabase,
    UserPatch,
};
use authward_sea_orm::entities::{i64_id, string_id, uuid_id};
use authward_sea_orm::sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, Statement,
};
use authward_sea_orm::sea_orm_migration::MigratorTrait;
use authward_sea_orm::{
    Migrator, SeaOrmAccessToken, SeaOrmAccessTokens, SeaOrmId, SeaOrmOAuthAccount, SeaOrmUser,
    SeaOrmUsers,
};
use authward_sqlx::{Backend, SqlId, SqlxAccessTokenDatabase, SqlxUserDatabase};
use time::macros::datetime;

/// Which adapter creates the schema.
#[derive(Debug, Clone, Copy)]
pub enum First {
    Sqlx,
    SeaOrm,
}

/// The ready-made entities of an ID type.
pub trait ReadyMade: SeaOrmId {
    type User: SeaOrmUser<Extra = (), Model: AuthUser<Id = Self> + PartialEq + std::fmt::Debug>;
    type OAuth: SeaOrmOAuthAccount;
    type Token: SeaOrmAccessToken;
}

impl ReadyMade for uuid::Uuid {
    type User = uuid_id::user::Entity;
    type OAuth = uuid_id::oauth_account::Entity;
    type Token = uuid_id::access_token::Entity;
}

impl ReadyMade for i64 {
    type User = i64_id::user::Entity;
    type OAuth = i64_id::oauth_account::Entity;
    type Token = i64_id::access_token::Entity;
}

impl ReadyMade for String {
    type User = string_id::user::Entity;
    type OAuth = string_id::oauth_account::Entity;
    type Token = string_id::access_token::Entity;
}

type SeaUsers<ID> = SeaOrmUsers<<ID as ReadyMade>::User, <ID as ReadyMade>::OAuth>;
type SeaTokens<ID> = SeaOrmAccessTokens<<ID as ReadyMade>::Token, ID>;

/// Migrates with `first`, runs the other adapter's migration on top (it must find nothing to
/// do), then exchanges users, OAuth accounts and tokens both ways.
pub async fn one_schema_two_adapters<DB, ID>(
    pool: sqlx::Pool<DB>,
    db: DatabaseConnection,
    first: First,
) where
    DB: Backend,
    ID: ReadyMade + SqlId<DB>,
    SqlxUserDatabase<DB, ID>: OAuthUserDatabase<User = User<ID>, Extra = ()>,
    SqlxAccessTokenDatabase<DB, ID>: AccessTokenDatabase<ID>,
    SeaUsers<ID>: OAuthUserDatabase<User = <ID::User as EntityTrait>::Model, Extra = ()>,
{
    let sqlx_users = SqlxUserDatabase::<DB, ID>::new(pool.clone()).expect("store");
    let sqlx_tokens = SqlxAccessTokenDatabase::<DB, ID>::new(pool);
    let sea_users = SeaUsers::<ID>::new(db.clone());
    let sea_tokens = SeaTokens::<ID>::new(db.clone());
    let sqlx_migrate = || async {
        sqlx_users
            .migrate()
            .await
            .expect("authward-sqlx migrates users");
        sqlx_tokens
            .migrate()
            .await
            .expect("authward-sqlx migrates tokens");
    };
    let before = match first {
        First::Sqlx => {
            sqlx_migrate().await;
            let before = catalog(&db).await;
            Migrator::<ID>::up(&db, None)
                .await
                .expect("the SeaORM migrator runs on authward-sqlx's schema");
            before
        }
        First::SeaOrm => {
            Migrator::<ID>::up(&db, None).await.expect("migrate");
            let before = catalog(&db).await;
            sqlx_migrate().await;
            before
        }
    };
    assert!(
        before.iter().any(|entry| entry.contains("email_key")),
        "the catalog lists the schema: {before:#?}"
    );
    assert_eq!(
        catalog(&db).await,
        before,
        "the second adapter's migration changed the first one's schema"
    );
    exchange(
        &sqlx_users,
        &sqlx_tokens,
        &sea_users,
        &sea_tokens,
        "sqlx-to-seaorm",
    )
    .await;
    exchange(
        &sea_users,
        &sea_tokens,
        &sqlx_users,
        &sqlx_tokens,
        "seaorm-to-sqlx",
    )
    .await;
}

/// `writer` creates a user with an OAuth account and a session; `reader` finds, logs in,
/// updates and deletes; `writer` sees every change.
async fn exchange<ID, W, WT, R, RT>(
    writer: &W,
    writer_tokens: &WT,
    reader: &R,
    reader_tokens: &RT,
    tag: &str,
) where
    ID: authward_core::UserId,
    W: OAuthUserDatabase<User: AuthUser<Id = ID>, Extra = ()>,
    WT: AccessTokenDatabase<ID>,
    R: OAuthUserDatabase<User: AuthUser<Id = ID> + std::fmt::Debug, Extra = ()>,
    RT: AccessTokenDatabase<ID>,
{
    let passwords = PasswordHelper::default();
    let hash = passwords.hash("correct horse battery").await.expect("hash");
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let email = format!("Ada.{tag}.{nonce}@Example.COM");
    let written = writer
        .create(NewUser::new(email.clone(), hash.clone()))
        .await
        .expect("the writer creates");
    let id = written.id().clone();
    writer
        .add_oauth_account(
            &id,
            NewOAuthAccount {
                oauth_name: "github".into(),
                access_token: "gho_provider".into(),
                expires_at: Some(1_900_000_000),
                refresh_token: Some("ghr_refresh".into()),
                account_id: format!("gh-{nonce}"),
                account_email: email.clone(),
            },
        )
        .await
        .expect("the writer links an account");
    let token = format!("session-{nonce}");
    let issued = datetime!(2031-05-06 07:08:09.123456 UTC);
    let mut new_token = NewAccessToken::new(&token, id.clone(), issued);
    new_token.family = Some(TokenFamily::new());
    writer_tokens
        .create(new_token.clone())
        .await
        .expect("the writer issues a session");

    // The reader finds the user ignoring case, with every field as written.
    let read = reader
        .get_by_email(&email.to_lowercase())
        .await
        .expect("get_by_email")
        .expect("the reader finds the writer's user");
    assert_eq!(read.id(), &id);
    assert_eq!(read.email(), email, "email as typed");
    assert_eq!(read.hashed_password(), hash, "hash byte for byte");
    assert!(read.is_active() && !read.is_superuser() && !read.is_verified());
    let by_id = reader.get(&id).await.expect("get").expect("found by id");
    assert_eq!(by_id.email(), email);

    // Logging in through the reader: the password, then the session.
    let verified = passwords
        .verify("correct horse battery", read.hashed_password())
        .await
        .expect("verify");
    assert!(
        verified.is_valid(),
        "the password works through the other adapter"
    );
    let session = reader_tokens
        .get_by_token(&TokenDigest::of(&token), Some(issued))
        .await
        .expect("get_by_token")
        .expect("the session is found (max_age boundary inclusive)");
    assert_eq!(session, new_token.clone().into_token());
    assert_eq!(
        reader_tokens.list_for_user(&id).await.expect("list"),
        vec![new_token.into_token()]
    );

    // OAuth.
    let linked = reader
        .get_by_oauth_account("github", &format!("gh-{nonce}"))
        .await
        .expect("oauth lookup");
    assert_eq!(linked.map(|u| u.id().clone()), Some(id.clone()));
    let accounts = reader.oauth_accounts(&id).await.expect("accounts");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].refresh_token.as_deref(), Some("ghr_refresh"));

    // The reader updates; the writer sees it, and the old address is free.
    let renamed = format!("Ada.Lovelace.{tag}.{nonce}@Example.COM");
    let updated = reader
        .update(
            &id,
            UserPatch {
                email: Some(renamed.clone()),
                is_verified: Some(true),
                ..UserPatch::default()
            },
        )
        .await
        .expect("the reader updates");
    assert!(updated.is_verified());
    let seen = writer
        .get_by_email(&renamed.to_uppercase())
        .await
        .expect("get_by_email")
        .expect("the writer finds the new address");
    assert_eq!(seen.id(), &id);
    assert!(seen.is_verified());
    assert!(writer.get_by_email(&email).await.expect("get").is_none());

    // One uniqueness rule across both: a case variant of the writer's address is taken.
    match reader
        .create(NewUser::new(renamed.to_lowercase(), "h"))
        .await
    {
        Err(DbError::AlreadyExists {
            what: UniqueKey::Email,
            ..
        }) => {}
        other => panic!("{tag}: expected the email to be taken, got {other:?}"),
    }

    // Log out through the reader, delete through the reader: the writer sees both.
    assert!(
        reader_tokens
            .delete(&TokenDigest::of(&token))
            .await
            .expect("delete")
    );
    assert_eq!(
        writer_tokens
            .get_by_token(&TokenDigest::of(&token), None)
            .await
            .expect("get"),
        None
    );
    reader.delete(&id).await.expect("delete user");
    assert!(writer.get(&id).await.expect("get").is_none());
    assert!(
        writer
            .oauth_accounts(&id)
            .await
            .expect("accounts")
            .is_empty()
    );
}

/// Every column (type, nullability, default) and index of the authward tables, one line each,
/// sorted: two databases with equal catalogs have the same schema.
async fn catalog(db: &DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => {
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master \
             WHERE tbl_name NOT LIKE 'seaql%' AND name NOT LIKE 'sqlite%' ORDER BY 1"
        }
        DbBackend::Postgres => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
             || ' ' || COALESCE(column_default, '') FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name NOT LIKE 'seaql%' \
             UNION ALL SELECT indexdef FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename NOT LIKE 'seaql%' ORDER BY 1"
        }
        DbBackend::MySql => {
            "SELECT CONCAT(table_name, '.', column_name, ' ', column_type, ' ', is_nullable, ' ', \
             COALESCE(column_default, ''), ' ', COALESCE(collation_name, '')) \
             FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name NOT LIKE 'seaql%' \
             UNION ALL SELECT CONCAT(table_name, ' index ', index_name, ' ', non_unique, ' ', \
             seq_in_index, ' ', column_name) FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name NOT LIKE 'seaql%' ORDER BY 1"
        }
    };
    let rows = db
        .query_all(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("read the catalog");
    rows.iter()
        .map(|row| {
            row.try_get_by_index::<String>(0)
                .or_else(|_| {
                    let bytes: Vec<u8> = row.try_get_by_index(0)?;
                    Ok::<_, DbErr>(String::from_utf8_lossy(&bytes).into_owned())
                })
                .expect("catalog entries are text")
        })
        .collect()
}
