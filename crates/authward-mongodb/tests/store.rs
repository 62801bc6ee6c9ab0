//! What the suites do not see: the documents and indexes as stored (Beanie's layout), the
//! idempotent bootstrap, the TTL index, configurable names, email lookups that stay literal,
//! and how errors are classified.

mod common;

use std::sync::Arc;

use authward_core::{
    AccessTokenDatabase, DbError, NewAccessToken, NewOAuthAccount, NewUser, OAuthUserDatabase,
    TokenDigest, UniqueKey, User, UserDatabase, UserPatch,
};
use authward_mongodb::bson::oid::ObjectId;
use authward_mongodb::bson::spec::BinarySubtype;
use authward_mongodb::bson::{Bson, Document, doc};
use authward_mongodb::{
    CREATED_AT_INDEX, EMAIL_INDEX, EMAIL_KEY_INDEX, MongoAccessTokenDatabase, MongoUserDatabase,
    OAUTH_ACCOUNT_INDEX, TOKEN_INDEX, USER_TOKENS_INDEX, email_collation,
};
use authward_testkit::{Profile, unique_email};
use common::Scratch;
use futures::TryStreamExt;
use time::{Duration, OffsetDateTime};

macro_rules! scratch {
    () => {{
        let Some(scratch) = Scratch::new().await else {
            return;
        };
        scratch
    }};
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

async fn raw(scratch: &Scratch, collection: &str, filter: Document) -> Document {
    scratch
        .db
        .collection::<Document>(collection)
        .find_one(filter)
        .await
        .expect("find")
        .expect("the document exists")
}

async fn indexes(scratch: &Scratch, collection: &str) -> Vec<Document> {
    let specs: Vec<_> = scratch
        .db
        .run_command(doc! { "listIndexes": collection })
        .await
        .expect("listIndexes")
        .get_document("cursor")
        .expect("cursor")
        .get_array("firstBatch")
        .expect("firstBatch")
        .iter()
        .filter_map(|b| b.as_document().cloned())
        .collect();
    specs
}

fn index<'a>(specs: &'a [Document], name: &str) -> &'a Document {
    specs
        .iter()
        .find(|s| s.get_str("name").ok() == Some(name))
        .unwrap_or_else(|| panic!("index {name} exists: {specs:?}"))
}

fn account(name: &str, id: &str, expires_at: Option<i64>) -> NewOAuthAccount {
    NewOAuthAccount {
        oauth_name: name.into(),
        access_token: format!("at-{id}"),
        expires_at,
        refresh_token: None,
        account_id: id.into(),
        account_email: format!("{id}@Provider.example"),
    }
}

#[test]
fn documents_are_laid_out_as_beanie_writes_them() {
    block_on(async {
        let scratch = scratch!();
        let users = MongoUserDatabase::<User<ObjectId, Profile>>::new(&scratch.db);
        users.bootstrap().await.expect("bootstrap");
        let extra = Profile {
            nickname: "lance".into(),
            bio: None,
            age: 33,
        };
        let user = users
            .create(NewUser::<()>::new("Lancelot@camelot.bt", "$argon2id$h").with_extra(extra))
            .await
            .expect("create");
        let stored = raw(&scratch, "User", doc! { "_id": user.id }).await;
        let keys: Vec<&str> = stored.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "_id",
                "email",
                "hashed_password",
                "is_active",
                "is_superuser",
                "is_verified",
                "nickname",
                "bio",
                "age",
                "email_key"
            ],
            "Beanie's fields, `_id` and no `id`, custom fields at the top level, and the \
             email key authward adds"
        );
        assert_eq!(stored.get_object_id("_id").ok(), Some(user.id));
        assert_eq!(stored.get_str("email").ok(), Some("Lancelot@camelot.bt"));
        assert_eq!(
            stored.get_str("email_key").ok(),
            Some("lancelot@camelot.bt")
        );

        users
            .add_oauth_account(&user.id, account("google", "g-1", Some(1_700_000_000)))
            .await
            .expect("link");
        users
            .add_oauth_account(&user.id, account("github", "h-1", Some(5_000_000_000)))
            .await
            .expect("link");
        let stored = raw(&scratch, "User", doc! { "_id": user.id }).await;
        let accounts = stored
            .get_array("oauth_accounts")
            .expect("embedded accounts");
        let first = accounts[0].as_document().expect("a document");
        let keys: Vec<&str> = first.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "id",
                "oauth_name",
                "access_token",
                "account_id",
                "account_email",
                "expires_at",
                "refresh_token"
            ]
        );
        assert!(
            matches!(first.get("id"), Some(Bson::ObjectId(_))),
            "own ObjectId under `id`"
        );
        assert_eq!(
            first.get("expires_at"),
            Some(&Bson::Int32(1_700_000_000)),
            "int32 while it fits"
        );
        assert_eq!(first.get("refresh_token"), Some(&Bson::Null));
        let second = accounts[1].as_document().expect("a document");
        assert_eq!(second.get("expires_at"), Some(&Bson::Int64(5_000_000_000)));
        // A user read never carries the accounts, and listing keeps link order.
        let listed = users.oauth_accounts(&user.id).await.expect("list");
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].expires_at, Some(5_000_000_000));

        let uuids = MongoUserDatabase::<User<uuid::Uuid>>::with_collection(&scratch.db, "UuidUser");
        let u = uuids
            .create(NewUser::new("u@x.io", "h"))
            .await
            .expect("create");
        let stored = raw(&scratch, "UuidUser", doc! { "email": "u@x.io" }).await;
        match stored.get("_id") {
            Some(Bson::Binary(binary)) => {
                assert_eq!(binary.subtype, BinarySubtype::Uuid, "binary subtype 4");
                assert_eq!(binary.bytes, u.id.as_bytes());
            }
            other => panic!("a UUID _id is binary, not {other:?}"),
        }
    });
}

#[test]
fn bootstrap_is_idempotent_and_creates_every_index() {
    block_on(async {
        let scratch = scratch!();
        let users = MongoUserDatabase::<User<ObjectId>>::new(&scratch.db);
        let tokens = MongoAccessTokenDatabase::<ObjectId>::new(&scratch.db)
            .with_lifetime(Some(Duration::minutes(30)));
        for _ in 0..3 {
            users.bootstrap().await.expect("bootstrap users");
            tokens.bootstrap().await.expect("bootstrap tokens");
        }
        let specs = indexes(&scratch, "User").await;
        let key = index(&specs, EMAIL_KEY_INDEX);
        assert_eq!(key.get_document("key").ok(), Some(&doc! { "email_key": 1 }));
        assert_eq!(key.get_bool("unique").ok(), Some(true));
        let email = index(&specs, EMAIL_INDEX);
        assert_eq!(email.get_document("key").ok(), Some(&doc! { "email": 1 }));
        assert_eq!(email.get_bool("unique").ok(), Some(true));
        let collation = email.get_document("collation").expect("collated");
        assert_eq!(collation.get_str("locale").ok(), Some("en"));
        assert_eq!(collation.get_i32("strength").ok(), Some(2));
        let oauth = index(&specs, OAUTH_ACCOUNT_INDEX);
        assert_eq!(
            oauth.get_document("key").ok(),
            Some(&doc! { "oauth_accounts.oauth_name": 1, "oauth_accounts.account_id": 1 })
        );
        assert_eq!(oauth.get_bool("unique").ok(), Some(true));
        assert!(oauth.get_document("partialFilterExpression").is_ok());

        let specs = indexes(&scratch, "AccessToken").await;
        assert_eq!(
            index(&specs, TOKEN_INDEX).get_bool("unique").ok(),
            Some(true)
        );
        assert_eq!(
            index(&specs, USER_TOKENS_INDEX).get_document("key").ok(),
            Some(&doc! { "user_id": 1, "created_at": 1 })
        );
        let ttl = |specs: &[Document]| {
            index(specs, CREATED_AT_INDEX)
                .get("expireAfterSeconds")
                .and_then(Bson::as_i64_lossy)
        };
        assert_eq!(ttl(&specs), Some(1800));

        // A new lifetime replaces the TTL; none turns it off.
        let tokens = tokens.with_lifetime(Some(Duration::hours(2)));
        tokens.bootstrap().await.expect("new lifetime");
        assert_eq!(ttl(&indexes(&scratch, "AccessToken").await), Some(7200));
        let tokens = tokens.with_lifetime(None);
        tokens.bootstrap().await.expect("no lifetime");
        assert_eq!(ttl(&indexes(&scratch, "AccessToken").await), None);
        tokens.bootstrap().await.expect("again");
    });
}

trait LossyInt {
    fn as_i64_lossy(&self) -> Option<i64>;
}

impl LossyInt for Bson {
    fn as_i64_lossy(&self) -> Option<i64> {
        match self {
            Bson::Int32(v) => Some(i64::from(*v)),
            Bson::Int64(v) => Some(*v),
            Bson::Double(v) => Some(*v as i64),
            _ => None,
        }
    }
}

#[test]
fn the_server_deletes_expired_tokens_and_lookups_enforce_expiry_before() {
    block_on(async {
        let scratch = scratch!();
        let tokens = MongoAccessTokenDatabase::<ObjectId>::new(&scratch.db)
            .with_lifetime(Some(Duration::hours(1)));
        tokens.bootstrap().await.expect("bootstrap");
        let owner = ObjectId::new();
        let now = OffsetDateTime::now_utc();
        let old = tokens
            .create(NewAccessToken::new("old", owner, now - Duration::hours(2)))
            .await
            .expect("create");
        let fresh = tokens
            .create(NewAccessToken::new("fresh", owner, now))
            .await
            .expect("create");
        // Expired but not swept yet: the lookup's max_age refuses it anyway.
        let cutoff = Some(now - Duration::hours(1));
        assert_eq!(
            tokens.get_by_token(&old.digest, cutoff).await.expect("get"),
            None
        );
        // The TTL sweep (SecantusDB's admin command runs it at once; mongod's monitor runs every
        // 60 s) removes it.
        scratch
            .db
            .run_command(doc! { "secantusAdmin.pruneTtl": 1 })
            .await
            .expect("a SecantusDB test server (pruneTtl)");
        assert_eq!(
            tokens.get_by_token(&old.digest, None).await.expect("get"),
            None
        );
        assert_eq!(
            tokens
                .get_by_token(&fresh.digest, cutoff)
                .await
                .expect("get"),
            Some(fresh)
        );
    });
}

#[test]
fn collection_names_are_configurable() {
    block_on(async {
        let scratch = scratch!();
        let users = MongoUserDatabase::<User<String>>::with_collection(&scratch.db, "members");
        let tokens =
            MongoAccessTokenDatabase::<String>::with_collection(&scratch.db, "member_sessions");
        users.bootstrap().await.expect("bootstrap");
        tokens.bootstrap().await.expect("bootstrap");
        let user = users
            .create(NewUser::new("a@b.c", "h"))
            .await
            .expect("create");
        tokens
            .create(NewAccessToken::new(
                "t",
                user.id.clone(),
                OffsetDateTime::now_utc(),
            ))
            .await
            .expect("create");
        let names = scratch.db.list_collection_names().await.expect("list");
        assert!(names.contains(&"members".to_owned()), "{names:?}");
        assert!(names.contains(&"member_sessions".to_owned()), "{names:?}");
        assert!(!names.contains(&"User".to_owned()), "{names:?}");
        assert_eq!(
            index(&indexes(&scratch, "members").await, EMAIL_INDEX)
                .get_bool("unique")
                .ok(),
            Some(true)
        );
    });
}

#[test]
fn fifty_concurrent_case_variants_make_one_document() {
    block_on(async {
        let scratch = scratch!();
        let users = Arc::new(MongoUserDatabase::<User<ObjectId>>::new(&scratch.db));
        users.bootstrap().await.expect("bootstrap");
        let email = unique_email("race", "camelot.bt");
        let attempts = (0..50_u32).map(|i| {
            let users = Arc::clone(&users);
            // Each attempt flips the case of a different subset of letters.
            let variant: String = email
                .chars()
                .enumerate()
                .map(|(j, c)| {
                    if (i >> (j % 6)) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            tokio::spawn(async move { users.create(NewUser::new(variant, "h")).await })
        });
        let mut created = 0;
        for result in futures::future::join_all(attempts).await {
            match result.expect("task") {
                Ok(_) => created += 1,
                Err(DbError::AlreadyExists { what, .. }) => assert_eq!(what, UniqueKey::Email),
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(created, 1);
        let count = scratch
            .db
            .collection::<Document>("User")
            .count_documents(doc! { "email": &email })
            .collation(email_collation())
            .await
            .expect("count");
        assert_eq!(count, 1, "exactly one document");
        let total = scratch
            .db
            .collection::<Document>("User")
            .count_documents(doc! {})
            .await
            .expect("count");
        assert_eq!(total, 1);
    });
}

#[test]
fn operator_and_pattern_lookalikes_are_literal_strings() {
    block_on(async {
        let scratch = scratch!();
        let users = MongoUserDatabase::<User<ObjectId>>::new(&scratch.db);
        users.bootstrap().await.expect("bootstrap");
        let tokens = MongoAccessTokenDatabase::<ObjectId>::new(&scratch.db);
        tokens.bootstrap().await.expect("bootstrap");
        let user = users
            .create(NewUser::new("victim@example.com", "h"))
            .await
            .expect("create");
        for probe in [
            r#"{"$ne": null}"#,
            r#"{"$gt": ""}"#,
            "$ne",
            ".*",
            "^victim",
            "victim@example.com|.*",
            r#"{"$regex": ".*"}"#,
            "[\"victim@example.com\"]",
        ] {
            assert_eq!(
                users.get_by_email(probe).await.expect("lookup"),
                None,
                "{probe}"
            );
            assert_eq!(
                users
                    .get_by_oauth_account(probe, probe)
                    .await
                    .expect("lookup"),
                None,
                "{probe}"
            );
            assert_eq!(
                tokens
                    .get_by_token(&TokenDigest::of(probe), None)
                    .await
                    .expect("lookup"),
                None
            );
        }
        // A literal email with regex and operator characters is stored and found as typed.
        let odd = "$ne.*+?{x}[a-z]|(y)^@example.com";
        let stored = users.create(NewUser::new(odd, "h")).await.expect("create");
        assert_eq!(
            users.get_by_email(&odd.to_uppercase()).await.expect("get"),
            Some(stored)
        );
        assert_eq!(
            users.get_by_email("victim@example.com").await.expect("get"),
            Some(user)
        );
    });
}

#[test]
fn collation_equates_what_icu_equates() {
    block_on(async {
        let scratch = scratch!();
        let users = MongoUserDatabase::<User<ObjectId>>::new(&scratch.db);
        users.bootstrap().await.expect("bootstrap");
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let user = users
            .create(NewUser::new(format!("Straße{tag}@example.de"), "h"))
            .await
            .expect("create");
        // Strength 2 compares "ß" and "ss" as equal (email_key does not): lookups and
        // uniqueness agree with each other, as on MongoDB.
        let variant = format!("STRASSE{tag}@EXAMPLE.DE");
        assert_eq!(users.get_by_email(&variant).await.expect("get"), Some(user));
        match users.create(NewUser::new(variant, "h")).await {
            Err(DbError::AlreadyExists { what, .. }) => assert_eq!(what, UniqueKey::Email),
            other => panic!("expected AlreadyExists, got {other:?}"),
        }
        // Accents are not case: a different address.
        users
            .create(NewUser::new(format!("Strasse{tag}@exämple.de"), "h"))
            .await
            .expect("an accent makes another address");
    });
}

#[test]
fn errors_name_the_broken_rule() {
    block_on(async {
        let scratch = scratch!();
        let users = MongoUserDatabase::<User<ObjectId>>::new(&scratch.db);
        users.bootstrap().await.expect("bootstrap");
        // An application's own unique index is `Other`, never `Email`.
        scratch
            .db
            .collection::<Document>("User")
            .create_index(
                authward_mongodb::mongodb::IndexModel::builder()
                    .keys(doc! { "nickname": 1 })
                    .options(
                        authward_mongodb::mongodb::options::IndexOptions::builder()
                            .unique(true)
                            .sparse(true)
                            .build(),
                    )
                    .build(),
            )
            .await
            .expect("app index");
        let nick = |n: &str| Profile {
            nickname: n.into(),
            bio: None,
            age: 1,
        };
        let users = MongoUserDatabase::<User<ObjectId, Profile>>::new(&scratch.db);
        let a = users
            .create(NewUser::<()>::new("a@x.io", "h").with_extra(nick("arthur")))
            .await
            .expect("create");
        let duplicate = users
            .create(NewUser::<()>::new("b@x.io", "h").with_extra(nick("arthur")))
            .await;
        match duplicate {
            Err(DbError::AlreadyExists { what, source, .. }) => {
                assert_eq!(what, UniqueKey::Other);
                assert!(source.is_some(), "the driver error is kept");
            }
            other => panic!("expected AlreadyExists(Other), got {other:?}"),
        }
        let b = users
            .create(NewUser::<()>::new("b@x.io", "h").with_extra(nick("bedivere")))
            .await
            .expect("create");
        let taken = users
            .update(
                &b.id,
                UserPatch {
                    email: Some("A@X.IO".into()),
                    ..UserPatch::default()
                },
            )
            .await;
        match taken {
            Err(DbError::AlreadyExists {
                what, constraint, ..
            }) => {
                assert_eq!(what, UniqueKey::Email);
                assert_eq!(constraint.as_deref(), Some(EMAIL_KEY_INDEX));
            }
            other => panic!("expected AlreadyExists(Email), got {other:?}"),
        }
        let renamed = users
            .update(
                &b.id,
                UserPatch {
                    extra: Some(nick("arthur")),
                    ..UserPatch::default()
                },
            )
            .await;
        assert_eq!(
            renamed.err().and_then(|e| e.unique_key()),
            Some(UniqueKey::Other)
        );

        users
            .add_oauth_account(&a.id, account("google", "1", None))
            .await
            .expect("link");
        let stolen = users
            .add_oauth_account(&b.id, account("google", "1", None))
            .await;
        assert_eq!(
            stolen.err().and_then(|e| e.unique_key()),
            Some(UniqueKey::OAuthAccount)
        );

        // A document the store cannot read is a Backend error, not a panic.
        scratch
            .db
            .collection::<Document>("User")
            .insert_one(
                doc! { "_id": "not-an-object-id", "email": "odd@x.io", "email_key": "odd@x.io" },
            )
            .await
            .expect("insert");
        assert!(matches!(
            users.get_by_email("odd@x.io").await,
            Err(DbError::Backend(_))
        ));
    });
}

#[test]
fn token_documents_hold_digests() {
    block_on(async {
        let scratch = scratch!();
        let tokens = MongoAccessTokenDatabase::<uuid::Uuid>::new(&scratch.db);
        tokens.bootstrap().await.expect("bootstrap");
        let owner = uuid::Uuid::new_v4();
        let mut record = NewAccessToken::new("secret-token", owner, OffsetDateTime::now_utc());
        record.family = Some(authward_core::TokenFamily::new());
        tokens.create(record).await.expect("create");
        let docs: Vec<Document> = scratch
            .db
            .collection::<Document>("AccessToken")
            .find(doc! {})
            .await
            .expect("find")
            .try_collect()
            .await
            .expect("collect");
        assert_eq!(docs.len(), 1);
        let stored = &docs[0];
        assert_eq!(
            stored.get_str("token").ok(),
            Some(TokenDigest::of("secret-token").to_hex().as_str())
        );
        assert!(!format!("{stored:?}").contains("secret-token"));
        assert!(
            matches!(stored.get("user_id"), Some(Bson::Binary(b)) if b.subtype == BinarySubtype::Uuid)
        );
        assert!(
            matches!(stored.get("family"), Some(Bson::Binary(b)) if b.subtype == BinarySubtype::Uuid)
        );
        assert!(stored.get_datetime("created_at").is_ok());
    });
}

#[test]
fn bootstrap_gives_users_their_email_key_and_reports_collisions_first() {
    block_on(async {
        let scratch = scratch!();
        let users = MongoUserDatabase::<User<ObjectId>>::new(&scratch.db);
        let collection = scratch.db.collection::<Document>("User");
        // Users written by Beanie: no email key. Two of them are one mailbox under the rule
        // (an IDNA domain and its ASCII form), which Beanie's collation does not see.
        let lone = ObjectId::new();
        let (unicode, ascii) = (ObjectId::new(), ObjectId::new());
        for (id, email) in [
            (lone, "Percival@camelot.bt"),
            (unicode, "user@bücher.de"),
            (ascii, "user@xn--bcher-kva.de"),
        ] {
            collection
                .insert_one(doc! { "_id": id, "email": email, "hashed_password": "h",
                "is_active": true, "is_superuser": false, "is_verified": false })
                .await
                .expect("insert as Beanie does");
        }
        match users.bootstrap().await {
            Err(err @ DbError::AlreadyExists { .. }) => {
                let source = std::error::Error::source(&err).expect("a source");
                let collisions = source
                    .downcast_ref::<authward_mongodb::EmailKeyCollisions>()
                    .expect("the colliding users are named");
                assert_eq!(collisions.groups.len(), 1);
                assert_eq!(collisions.groups[0].0, "user@xn--bcher-kva.de");
                assert_eq!(collisions.groups[0].1.len(), 2);
            }
            other => panic!("expected the collision to be reported, got {other:?}"),
        }
        // Nothing was changed: no user has a key yet.
        let keyed = collection
            .count_documents(doc! { "email_key": { "$exists": true } })
            .await
            .expect("count");
        assert_eq!(keyed, 0);
        // Resolved by hand, bootstrap finishes and every user has its key.
        collection
            .delete_one(doc! { "_id": ascii })
            .await
            .expect("delete");
        users.bootstrap().await.expect("bootstrap");
        let stored = raw(&scratch, "User", doc! { "_id": lone }).await;
        assert_eq!(
            stored.get_str("email_key").ok(),
            Some("percival@camelot.bt")
        );
        let found = users
            .get_by_email("USER@xn--bcher-kva.de")
            .await
            .expect("get");
        assert_eq!(found.map(|u| u.id), Some(unicode));
    });
}
