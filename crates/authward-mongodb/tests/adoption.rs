//! A database exactly as fastapi-users-db-beanie 5 writes it (FastAPI Users 15, Beanie 2):
//! users with embedded OAuth accounts (and one without the key), a plaintext session token,
//! Beanie's indexes. authward opens it: passwords (bcrypt and argon2) log in, the session
//! survives, the tokens become digests in place and the missing indexes appear.

mod common;

use authward_core::{AccessTokenDatabase, OAuthUserDatabase, TokenDigest, UserDatabase};
use authward_mongodb::bson::oid::ObjectId;
use authward_mongodb::bson::{Bson, DateTime, Document, doc};
use authward_mongodb::{MongoAccessTokenDatabase, MongoUserDatabase};
use axum::http::StatusCode;
use common::Scratch;
use common::app::{self, AppUser, get};
use futures::TryStreamExt;

/// `excalibur`, bcrypt as passlib writes it.
const BCRYPT: &str = "$2b$12$W0DrXUvtbELfZUTqZ1OfGOFmUtKgTdlXj0QXfdvFldNv59Jkjc1iW";
/// `holy-grail`, argon2id as pwdlib writes it.
const ARGON2: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$pI3qFT20ZhR+GB2JBuFvoJWJieY3oyPaco4uyP95VOI";
/// A token as `secrets.token_urlsafe()` makes them: 43 base64url characters.
const LEGACY_TOKEN: &str = "Zt0qO3yGk2wS8c9R-xq1b_Lm4Vn7Jp5Hd6Ea0Wf2Ui8";

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// Writes the Beanie database: documents, then the indexes Beanie's `init_beanie` creates.
async fn beanie_database(scratch: &Scratch) -> (ObjectId, ObjectId) {
    let arthur = ObjectId::new();
    let guinevere = ObjectId::new();
    let users = scratch.db.collection::<Document>("User");
    users
        .insert_many([
            doc! {
                "_id": arthur,
                "email": "King.Arthur@camelot.bt",
                "hashed_password": BCRYPT,
                "is_active": true,
                "is_superuser": true,
                "is_verified": true,
                "oauth_accounts": [{
                    "id": ObjectId::new(),
                    "oauth_name": "google",
                    "access_token": "ya29.provider-token",
                    "account_id": "arthur-google",
                    "account_email": "Arthur@Gmail.com",
                    "expires_at": Bson::Int32(1_800_000_000),
                    "refresh_token": Bson::Null,
                }],
            },
            // An application whose model has no OAuth writes no `oauth_accounts` at all.
            doc! {
                "_id": guinevere,
                "email": "Guinevere@camelot.bt",
                "hashed_password": ARGON2,
                "is_active": true,
                "is_superuser": false,
                "is_verified": false,
            },
        ])
        .await
        .expect("insert users");
    let now = DateTime::now().timestamp_millis();
    scratch
        .db
        .collection::<Document>("AccessToken")
        .insert_one(doc! {
            "_id": ObjectId::new(),
            "token": LEGACY_TOKEN,
            "user_id": arthur,
            "created_at": DateTime::from_millis(now - 10 * 60 * 1000),
        })
        .await
        .expect("insert token");
    scratch
        .db
        .run_command(doc! {
            "createIndexes": "User",
            "indexes": [{
                "key": { "email": 1 },
                "name": "case_insensitive_email_index",
                "unique": true,
                "collation": { "locale": "en", "strength": 2 },
            }],
        })
        .await
        .expect("Beanie's email index");
    scratch
        .db
        .run_command(doc! {
            "createIndexes": "AccessToken",
            "indexes": [{ "key": { "token": 1 }, "name": "token_1", "unique": true }],
        })
        .await
        .expect("Beanie's token index");
    (arthur, guinevere)
}

async fn index_names(scratch: &Scratch, collection: &str) -> Vec<String> {
    scratch
        .db
        .collection::<Document>(collection)
        .list_index_names()
        .await
        .expect("list indexes")
}

#[test]
fn a_beanie_database_is_adopted_with_its_users_and_sessions() {
    block_on(async {
        let Some(scratch) = Scratch::new().await else {
            return;
        };
        let (arthur, guinevere) = beanie_database(&scratch).await;

        // Bootstrapping twice changes nothing the second time.
        let users = MongoUserDatabase::<AppUser>::new(&scratch.db);
        let tokens = MongoAccessTokenDatabase::<ObjectId>::new(&scratch.db);
        for _ in 0..2 {
            users.bootstrap().await.expect("bootstrap users");
            tokens.bootstrap().await.expect("bootstrap tokens");
        }
        let stored: Vec<Document> = scratch
            .db
            .collection::<Document>("AccessToken")
            .find(doc! {})
            .await
            .expect("find")
            .try_collect()
            .await
            .expect("collect");
        assert_eq!(stored.len(), 1);
        assert_eq!(
            stored[0].get_str("token").ok(),
            Some(TokenDigest::of(LEGACY_TOKEN).to_hex().as_str()),
            "the plaintext token is replaced by its digest in place"
        );
        assert!(!format!("{stored:?}").contains(LEGACY_TOKEN));
        let session = tokens
            .get_by_token(&TokenDigest::of(LEGACY_TOKEN), None)
            .await
            .expect("get")
            .expect("the session is kept");
        assert_eq!(session.user_id, arthur);

        for name in ["case_insensitive_email_index", "oauth_account_unique"] {
            assert!(
                index_names(&scratch, "User")
                    .await
                    .contains(&name.to_owned()),
                "{name}"
            );
        }
        for name in ["token_1", "user_id_1_created_at_1", "created_at_1"] {
            assert!(
                index_names(&scratch, "AccessToken")
                    .await
                    .contains(&name.to_owned()),
                "{name}"
            );
        }

        // The users read as they are, OAuth accounts included.
        let king = users
            .get_by_email("king.arthur@CAMELOT.BT")
            .await
            .expect("get")
            .expect("Arthur");
        assert_eq!(king.id, arthur);
        assert_eq!(king.email, "King.Arthur@camelot.bt");
        assert!(king.is_superuser && king.is_verified);
        let linked = users.oauth_accounts(&arthur).await.expect("accounts");
        assert_eq!(linked.len(), 1);
        assert_eq!(linked[0].expires_at, Some(1_800_000_000));
        assert_eq!(linked[0].account_email, "Arthur@Gmail.com");
        assert_eq!(
            users
                .get_by_oauth_account("google", "arthur-google")
                .await
                .expect("get"),
            Some(king)
        );
        assert!(
            users
                .oauth_accounts(&guinevere)
                .await
                .expect("accounts")
                .is_empty()
        );

        // Over HTTP: the FastAPI Users session works, and both hashes log in.
        let app = app::app(&scratch).await;
        let me = app.send(get("/users/me", Some(LEGACY_TOKEN))).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        assert_eq!(me.body["id"], arthur.to_hex());
        assert_eq!(me.body["email"], "King.Arthur@camelot.bt");
        for (email, password) in [
            ("KING.ARTHUR@camelot.bt", "excalibur"),
            ("guinevere@camelot.bt", "holy-grail"),
        ] {
            let login = app.login(email, password).await;
            assert_eq!(login.status, StatusCode::OK, "{email}: {}", login.body);
            let token = login.body["access_token"].as_str().expect("token");
            assert_ne!(token, LEGACY_TOKEN);
            let me = app.send(get("/users/me", Some(token))).await;
            assert_eq!(me.status, StatusCode::OK);
        }
        let wrong = app.login("guinevere@camelot.bt", "excalibur").await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);

        // A new account linked the Beanie way is found the same way.
        let guinevere_user = users
            .get(&guinevere)
            .await
            .expect("get")
            .expect("Guinevere");
        users
            .add_oauth_account(
                &guinevere,
                authward_core::NewOAuthAccount {
                    oauth_name: "github".into(),
                    access_token: "gho".into(),
                    expires_at: None,
                    refresh_token: Some("r".into()),
                    account_id: "g-1".into(),
                    account_email: "g@example.com".into(),
                },
            )
            .await
            .expect("link");
        assert_eq!(
            users
                .get_by_oauth_account("github", "g-1")
                .await
                .expect("get")
                .map(|u| u.id),
            Some(guinevere_user.id)
        );
    });
}
