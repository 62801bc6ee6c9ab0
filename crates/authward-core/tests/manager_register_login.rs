//! UserManager: registration, login, timing equalisation and rehash on login.
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used)]

mod manager_support;

use std::sync::Arc;

use authward_core::manager::{ConfigError, ManagerError, UserCreate, UserManager};
use authward_core::{
    Argon2Hasher, AuthUser, NewUser, PasswordHelper, PasswordPolicy, UserDatabase, Verification,
};
use manager_support::*;
use time::Duration;

/// pwdlib 0.3 (FastAPI Users 13+) argon2 hash of "correct horse battery staple".
const PWDLIB_ARGON2: &str = "$argon2id$v=19$m=65536,t=3,p=4$NZ0X5lA9LOMR9GOZ5jEmIQ$ZVdXexxFE7IElkKApfi//afmLqmESBg8uI3kQL0vd+Q";
/// pwdlib bcrypt hash (rounds 12, as FastAPI Users / passlib made them) of "Tr0ub4dor&3 legacy".
const PWDLIB_BCRYPT: &str = "$2b$12$K9WRdCjf0BNCF9SkWHidJup6q1n12caCpjUAarDVD0bkmz1JmAfEC";

#[tokio::test]
async fn safe_create_ignores_privileged_flags_and_stores_email_as_typed() {
    let f = fixture();
    let mut create = UserCreate::<()>::new("  King.Arthur@Camelot.bt ", "guinevere");
    create.is_active = Some(false);
    create.is_superuser = Some(true);
    create.is_verified = Some(true);
    let user = f
        .manager
        .create(create, true, Some(&ua("test-agent")))
        .await
        .unwrap();
    assert_eq!(user.email, "King.Arthur@Camelot.bt");
    assert!(user.is_active && !user.is_superuser && !user.is_verified);
    assert!(user.hashed_password.starts_with("$argon2id$"));
    assert_ne!(user.hashed_password, "guinevere");
    assert_eq!(
        f.hooks.events(),
        vec!["on_after_register King.Arthur@Camelot.bt ua=test-agent"]
    );
    assert_eq!(f.db.get(&user.id).await.unwrap(), Some(user));
}

#[tokio::test]
async fn privileged_create_applies_flags() {
    let f = fixture();
    let mut create = UserCreate::<()>::new("admin@camelot.bt", "excalibur");
    create.is_active = Some(false);
    create.is_superuser = Some(true);
    create.is_verified = Some(true);
    let user = f.manager.create(create, false, None).await.unwrap();
    assert!(!user.is_active && user.is_superuser && user.is_verified);
    // Unset flags take the defaults.
    let plain = f
        .manager
        .create(
            UserCreate::new("plain@camelot.bt", "excalibur"),
            false,
            None,
        )
        .await
        .unwrap();
    assert!(plain.is_active && !plain.is_superuser && !plain.is_verified);
}

#[tokio::test]
async fn create_refuses_duplicates_ignoring_case() {
    let f = fixture();
    f.register("Lancelot@camelot.bt", "guinevere").await;
    f.hooks.clear();
    let err = f
        .manager
        .create(
            UserCreate::new("LANCELOT@CAMELOT.BT", "guinevere2"),
            true,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ManagerError::UserAlreadyExists), "{err:?}");
    assert!(f.hooks.events().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_yield_one_user_and_already_exists() {
    let f = fixture();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let manager = f.manager.clone();
            tokio::spawn(async move {
                manager
                    .create(
                        UserCreate::new(
                            format!("Race{}@camelot.bt", "E".repeat(i % 2)),
                            "pw-race-1",
                        ),
                        true,
                        None,
                    )
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    let mut exists = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(ManagerError::UserAlreadyExists) => exists += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    // "Race@..." and "RaceE@..." are two addresses.
    assert_eq!((ok, exists), (2, 6));
}

#[tokio::test]
async fn create_validates_email_and_password() {
    let f = fixture_with(CountingHasher::cheap(), |b| {
        b.password_policy(PasswordPolicy::default().with_rule(|pw, _| {
            if pw.contains("camelot") {
                Err("Password should not mention Camelot".into())
            } else {
                Ok(())
            }
        }))
    });
    let bad_email = f
        .manager
        .create(UserCreate::new("not-an-email", "long enough"), true, None)
        .await
        .unwrap_err();
    assert!(
        matches!(bad_email, ManagerError::InvalidEmail { .. }),
        "{bad_email:?}"
    );

    for (password, reason) in [
        ("short", "Password should be at least 8 characters"),
        (
            "Percival@Camelot.bt",
            "Password should not be the email address",
        ),
        ("to camelot we go", "Password should not mention Camelot"),
    ] {
        let err = f
            .manager
            .create(UserCreate::new("percival@camelot.bt", password), true, None)
            .await
            .unwrap_err();
        match err {
            ManagerError::InvalidPassword { reason: got } => assert_eq!(got, reason),
            other => panic!("{other:?}"),
        }
    }
    let long = "x".repeat(1025);
    assert!(matches!(
        f.manager
            .create(UserCreate::new("percival@camelot.bt", long), true, None)
            .await,
        Err(ManagerError::InvalidPassword { .. })
    ));
    // Nothing was hashed or stored.
    assert_eq!(f.hasher.hashes(), 0);
    assert!(
        f.db.get_by_email("percival@camelot.bt")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn authenticate_accepts_the_right_password_ignoring_email_case() {
    let f = fixture();
    let user = f.register("Galahad@camelot.bt", "holy grail").await;
    let found = f
        .manager
        .authenticate(" GALAHAD@camelot.BT", "holy grail", None)
        .await
        .unwrap();
    assert_eq!(found, Some(user.clone()));
    assert_eq!(
        f.manager
            .authenticate("galahad@camelot.bt", "Holy grail", None)
            .await
            .unwrap(),
        None
    );
    // Inactive users are returned: the route decides.
    f.manager
        .update(
            authward_core::manager::UserUpdate {
                is_active: Some(false),
                ..Default::default()
            },
            &user,
            false,
            None,
        )
        .await
        .unwrap();
    let inactive = f
        .manager
        .authenticate("galahad@camelot.bt", "holy grail", None)
        .await
        .unwrap()
        .unwrap();
    assert!(!inactive.is_active);
}

#[tokio::test]
async fn unknown_email_still_runs_one_verification() {
    let f = fixture();
    f.register("bors@camelot.bt", "the grail!").await;
    let before = f.hasher.verifies();
    assert_eq!(
        f.manager
            .authenticate("nobody@camelot.bt", "the grail!", None)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        f.hasher.verifies(),
        before + 1,
        "the dummy hash must be verified"
    );
    // An existing email with a wrong password costs the same single verification.
    let before = f.hasher.verifies();
    f.manager
        .authenticate("bors@camelot.bt", "wrong one", None)
        .await
        .unwrap();
    assert_eq!(f.hasher.verifies(), before + 1);
    // The dummy hash is made once, with the current parameters.
    let hashes = f.hasher.hashes();
    f.manager
        .authenticate("nobody2@camelot.bt", "x", None)
        .await
        .unwrap();
    assert_eq!(f.hasher.hashes(), hashes);
}

#[tokio::test]
async fn overlong_passwords_are_refused_without_hashing() {
    let f = fixture();
    f.register("tristan@camelot.bt", "isolde!!").await;
    let (h, v) = (f.hasher.hashes(), f.hasher.verifies());
    for email in ["tristan@camelot.bt", "nobody@camelot.bt"] {
        let out = f
            .manager
            .authenticate(email, &"x".repeat(1025), None)
            .await
            .unwrap();
        assert_eq!(out, None);
    }
    assert_eq!((f.hasher.hashes(), f.hasher.verifies()), (h, v));
}

#[tokio::test]
async fn corrupt_stored_hash_fails_login_without_error() {
    let f = fixture();
    let user =
        f.db.create(NewUser::new("kay@camelot.bt", "$unknown$garbage"))
            .await
            .unwrap();
    let out = f
        .manager
        .authenticate("kay@camelot.bt", "anything", None)
        .await
        .unwrap();
    assert_eq!(out, None);
    assert_eq!(
        f.db.get(&user.id).await.unwrap().unwrap().hashed_password,
        "$unknown$garbage"
    );
}

async fn rehash_case(stored: &str, password: &str) {
    // Our default parameters, so the upgraded hash is checked against the real target.
    let f = fixture_with(CountingHasher::wrapping(Argon2Hasher::default()), |b| b);
    let legacy =
        f.db.create(NewUser::new("legacy@camelot.bt", stored))
            .await
            .unwrap();
    assert_eq!(
        f.manager
            .authenticate("legacy@camelot.bt", "not it", None)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        f.db.get(&legacy.id).await.unwrap().unwrap().hashed_password,
        stored
    );

    let user = f
        .manager
        .authenticate("legacy@camelot.bt", password, None)
        .await
        .unwrap()
        .expect("legacy hash verifies");
    assert!(
        user.hashed_password
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        user.hashed_password
    );
    // Saved through UserDatabase::update.
    let stored_now = f.db.get(&legacy.id).await.unwrap().unwrap();
    assert_eq!(stored_now.hashed_password, user.hashed_password);
    assert_eq!(
        Argon2Hasher::default().verify(password, &stored_now.hashed_password),
        Verification::Valid
    );
    // The next login verifies the new hash and does not re-hash again.
    let hashes = f.hasher.hashes();
    let again = f
        .manager
        .authenticate("legacy@camelot.bt", password, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.hashed_password, user.hashed_password);
    assert_eq!(f.hasher.hashes(), hashes);
}

use authward_core::PasswordHasher as _;

#[tokio::test]
async fn bcrypt_hash_from_fastapi_users_logs_in_and_is_upgraded() {
    rehash_case(PWDLIB_BCRYPT, "Tr0ub4dor&3 legacy").await;
    rehash_case(
        &PWDLIB_BCRYPT.replacen("$2b$", "$2y$", 1),
        "Tr0ub4dor&3 legacy",
    )
    .await;
}

#[tokio::test]
async fn pwdlib_argon2_hash_from_fastapi_users_logs_in_and_is_upgraded() {
    rehash_case(PWDLIB_ARGON2, "correct horse battery staple").await;
}

#[tokio::test]
async fn after_login_calls_the_hook() {
    let f = fixture();
    let user = f.register("gawain@camelot.bt", "green knight").await;
    f.hooks.clear();
    f.manager
        .after_login(&user, Some(&ua("firefox")))
        .await
        .unwrap();
    assert_eq!(
        f.hooks.events(),
        vec!["on_after_login gawain@camelot.bt ua=firefox"]
    );
}

#[tokio::test]
async fn hook_errors_surface_with_their_source() {
    let f = fixture();
    f.hooks.fail_on("on_after_register");
    let err = f
        .manager
        .create(
            UserCreate::new("mordred@camelot.bt", "treachery"),
            true,
            None,
        )
        .await
        .unwrap_err();
    match &err {
        ManagerError::Hook { hook, .. } => assert_eq!(*hook, "on_after_register"),
        other => panic!("{other:?}"),
    }
    let source = std::error::Error::source(&err).unwrap();
    assert_eq!(source.to_string(), "on_after_register refused");
}

#[tokio::test]
async fn get_parse_id_and_get_by_email() {
    let f = fixture();
    let user = f.register("ector@camelot.bt", "foster father").await;
    assert_eq!(f.manager.parse_id(&user.id.to_string()).unwrap(), user.id);
    assert!(matches!(
        f.manager.parse_id("nope"),
        Err(ManagerError::InvalidId)
    ));
    assert_eq!(f.manager.get(&user.id).await.unwrap(), user);
    assert!(matches!(
        f.manager.get(&uuid::Uuid::new_v4()).await,
        Err(ManagerError::UserNotExists)
    ));
    assert_eq!(
        f.manager
            .get_by_email("ECTOR@camelot.bt")
            .await
            .unwrap()
            .id(),
        &user.id
    );
    assert!(matches!(
        f.manager.get_by_email("x@camelot.bt").await,
        Err(ManagerError::UserNotExists)
    ));
}

#[test]
fn builder_refuses_short_secrets_and_bad_lifetimes() {
    let db = Db::new();
    let err = UserManager::builder(db.clone(), "short")
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        ConfigError::SecretTooShort {
            which: "verify",
            min: 32
        }
    );
    let err = UserManager::builder(db.clone(), SECRET)
        .reset_token_secret("short")
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        ConfigError::SecretTooShort {
            which: "reset",
            min: 32
        }
    );
    let err = UserManager::builder(db.clone(), SECRET)
        .verify_token_lifetime(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::InvalidLifetime { which: "verify" });
    let manager = UserManager::builder(db, SECRET)
        .password_helper(
            PasswordHelper::new(Argon2Hasher::new(1024, 1, 1).unwrap()).with_max_concurrency(3),
        )
        .build()
        .unwrap();
    assert_eq!(manager.passwords().max_concurrency(), 3);
    let _shared: Arc<dyn authward_core::Clock> = manager.clock().clone();
    assert!(format!("{manager:?}").contains("UserManager"));
}

/// A store whose unique index on an application column refuses every create.
struct UniqueNickname(Db);

#[async_trait::async_trait]
impl UserDatabase for UniqueNickname {
    type User = TestUser;
    type Extra = ();
    async fn get(&self, id: &uuid::Uuid) -> Result<Option<TestUser>, authward_core::DbError> {
        self.0.get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<TestUser>, authward_core::DbError> {
        self.0.get_by_email(email).await
    }
    async fn create(&self, _user: NewUser<()>) -> Result<TestUser, authward_core::DbError> {
        Err(authward_core::DbError::duplicate(
            authward_core::UniqueKey::Other,
            Some("user_nickname_key".into()),
            std::io::Error::other("duplicate key value violates unique constraint"),
        ))
    }
    async fn update(
        &self,
        id: &uuid::Uuid,
        patch: authward_core::UserPatch<()>,
    ) -> Result<TestUser, authward_core::DbError> {
        self.0.update(id, patch).await
    }
    async fn delete(&self, id: &uuid::Uuid) -> Result<(), authward_core::DbError> {
        self.0.delete(id).await
    }
}

#[tokio::test]
async fn a_unique_violation_on_an_application_column_is_not_a_duplicate_email() {
    let manager = UserManager::builder(UniqueNickname(Db::new()), SECRET)
        .password_helper(PasswordHelper::new(Argon2Hasher::new(1024, 1, 1).unwrap()))
        .without_sessions()
        .build()
        .unwrap();
    let err = manager
        .create(
            UserCreate::new("dinadan@camelot.bt", "a jester"),
            true,
            None,
        )
        .await
        .unwrap_err();
    match err {
        ManagerError::Db(authward_core::DbError::AlreadyExists {
            what, constraint, ..
        }) => {
            assert_eq!(what, authward_core::UniqueKey::Other);
            assert_eq!(constraint.as_deref(), Some("user_nickname_key"));
        }
        other => panic!("expected the store's own AlreadyExists, got {other:?}"),
    }
}

/// Issue 15: an adopted FastAPI Users hash (pwdlib argon2 m=64 MiB t=3 p=4, bcrypt 12) costs
/// several times a current one, so without padding an unknown email answers faster than a
/// known, not yet upgraded one. With the legacy classes declared, every login verifies exactly
/// one hash of each class (counted, not timed). Cheap stand-ins keep the test fast: argon2id
/// m=2048,t=3,p=4 for pwdlib's class and bcrypt cost 4 for bcrypt 12.
#[tokio::test]
async fn every_login_verifies_one_hash_of_each_declared_class() {
    use authward_core::HashClass;
    let legacy_argon2 = HashClass::Argon2id {
        m: 2048,
        t: 3,
        p: 4,
    };
    let legacy_bcrypt = HashClass::Bcrypt { cost: 4 };
    let f = fixture_with(CountingHasher::cheap(), |b| b);
    let passwords = PasswordHelper::from_arc(f.hasher.clone())
        .with_legacy_hash_classes([legacy_argon2, legacy_bcrypt]);
    let manager = UserManager::builder(f.db.clone(), SECRET)
        .password_helper(passwords)
        .without_sessions()
        .build()
        .unwrap();
    manager
        .create(
            UserCreate::new("current@camelot.bt", "the grail!"),
            true,
            None,
        )
        .await
        .unwrap();
    let argon2 = Argon2Hasher::new(2048, 3, 4)
        .unwrap()
        .hash("adopted pw")
        .unwrap();
    f.db.create(NewUser::new("argon@camelot.bt", argon2))
        .await
        .unwrap();
    let bcrypt = bcrypt::hash("adopted pw", 4).unwrap();
    f.db.create(NewUser::new("bcrypt@camelot.bt", bcrypt))
        .await
        .unwrap();

    let mut work = Vec::new();
    for (email, password) in [
        ("nobody@camelot.bt", "whatever!"),
        ("current@camelot.bt", "wrong one"),
        ("argon@camelot.bt", "wrong one"),
        ("bcrypt@camelot.bt", "wrong one"),
        ("current@camelot.bt", "the grail!"),
    ] {
        // Warm the dummies, then count one login.
        manager
            .authenticate("warm@camelot.bt", "x", None)
            .await
            .unwrap();
        f.hasher.classes.lock().unwrap().clear();
        manager.authenticate(email, password, None).await.unwrap();
        let mut classes = f.hasher.classes.lock().unwrap().clone();
        classes.sort();
        work.push((email, classes));
    }
    let expected = {
        let mut all = vec![
            "$argon2id$v=19$m=1024,t=1,p=1".to_owned(),
            "$argon2id$v=19$m=2048,t=3,p=4".to_owned(),
            "$2$04".to_owned(),
        ];
        all.sort();
        all
    };
    for (email, classes) in &work {
        assert_eq!(classes, &expected, "{email}");
    }
    // A correct adopted password still logs in (and is upgraded).
    let upgraded = manager
        .authenticate("bcrypt@camelot.bt", "adopted pw", None)
        .await
        .unwrap()
        .unwrap();
    assert!(
        upgraded
            .hashed_password
            .starts_with("$argon2id$v=19$m=1024")
    );
}

/// Without declared legacy classes a login is one verification, as before.
#[tokio::test]
async fn without_legacy_classes_a_login_is_one_verification() {
    let f = fixture();
    f.db.create(NewUser::new(
        "bcrypt@camelot.bt",
        bcrypt::hash("pw", 4).unwrap(),
    ))
    .await
    .unwrap();
    let before = f.hasher.verifies();
    f.manager
        .authenticate("bcrypt@camelot.bt", "no", None)
        .await
        .unwrap();
    assert_eq!(f.hasher.verifies(), before + 1);
}

/// A hasher with a legacy class (`old:` + password, to be upgraded) whose next hash of the
/// password `secret` waits for a release, so a test can change the password meanwhile.
struct HoldingHasher {
    /// The held hash then fails (the hasher's error).
    fails: bool,
    armed: std::sync::atomic::AtomicBool,
    reached: Arc<tokio::sync::Notify>,
    release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl authward_core::PasswordHasher for HoldingHasher {
    fn hash(&self, password: &str) -> Result<String, authward_core::password::PasswordError> {
        if password == "secret" && self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            self.reached.notify_one();
            let _ = self.release.lock().unwrap().recv();
            if self.fails {
                return Err(authward_core::password::PasswordError::Hash(
                    "the hasher failed".into(),
                ));
            }
        }
        Ok(format!("new:{password}"))
    }

    fn verify(&self, password: &str, hash: &str) -> Verification {
        if hash == format!("new:{password}") {
            Verification::Valid
        } else if hash == format!("old:{password}") {
            Verification::ValidNeedsRehash
        } else {
            Verification::Invalid
        }
    }
}

/// A login of a legacy hash held while it computes the upgraded hash, with `stored` written as
/// the user's hash meanwhile: what the login answered, and the hash stored after.
async fn legacy_login_while_the_hash_becomes(stored: &str) -> (Option<String>, String) {
    legacy_login_while_the_hash_becomes_or_fails(stored, false).await
}

/// [`legacy_login_while_the_hash_becomes`], with the upgraded hash failing if `fails`.
async fn legacy_login_while_the_hash_becomes_or_fails(
    stored: &str,
    fails: bool,
) -> (Option<String>, String) {
    let reached = Arc::new(tokio::sync::Notify::new());
    let (release, released) = std::sync::mpsc::channel();
    let hasher = Arc::new(HoldingHasher {
        fails,
        armed: std::sync::atomic::AtomicBool::new(false),
        reached: Arc::clone(&reached),
        release: std::sync::Mutex::new(released),
    });
    let db = Db::new();
    let manager = UserManager::builder(db.clone(), SECRET)
        .password_helper(authward_core::PasswordHelper::new(Arc::clone(&hasher)))
        .without_sessions()
        .build()
        .unwrap();
    let user = db
        .create(NewUser::new("bedivere@camelot.bt", "old:secret"))
        .await
        .unwrap();

    hasher
        .armed
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (login, ()) = tokio::join!(
        manager.authenticate("bedivere@camelot.bt", "secret", None),
        async {
            reached.notified().await;
            let change = authward_core::UserPatch {
                hashed_password: Some(stored.into()),
                ..authward_core::UserPatch::default()
            };
            db.update(&user.id, change).await.unwrap();
            release.send(()).unwrap();
        }
    );
    let login = login.unwrap().map(|user| user.hashed_password);
    (
        login,
        db.get(&user.id).await.unwrap().unwrap().hashed_password,
    )
}

#[tokio::test]
async fn upgrading_a_legacy_hash_never_undoes_a_password_change_made_meanwhile() {
    // The password changes while the old one's upgraded hash is being computed.
    let (login, stored) = legacy_login_while_the_hash_becomes("new:changed").await;
    assert_eq!(login, None, "the password checked is no longer the user's");
    assert_eq!(stored, "new:changed", "the change stands");
}

#[tokio::test]
async fn a_password_change_during_an_upgrade_whose_hashing_fails_still_fails_the_login() {
    let (login, stored) = legacy_login_while_the_hash_becomes_or_fails("new:changed", true).await;
    assert_eq!(login, None, "the password checked is no longer the user's");
    assert_eq!(stored, "new:changed");
}

#[tokio::test]
async fn a_legacy_hash_upgraded_by_a_concurrent_login_still_signs_in() {
    // Another login of the same password upgraded the hash first.
    let (login, stored) = legacy_login_while_the_hash_becomes("new:secret").await;
    assert_eq!(login.as_deref(), Some("new:secret"));
    assert_eq!(stored, "new:secret");
}

/// A store on which a password change (`new:changed`) lands just before the next write of a
/// password hash, once armed: the last moment between a login's checks and its upgrade.
#[derive(Clone)]
struct ChangesBeforeTheWrite {
    inner: Db,
    armed: Arc<std::sync::atomic::AtomicBool>,
    /// The write of an upgraded hash then fails (a timeout, say).
    fail_write: bool,
}

impl ChangesBeforeTheWrite {
    async fn change_if_armed(&self, id: &uuid::Uuid) {
        if self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            let change = authward_core::UserPatch {
                hashed_password: Some("new:changed".into()),
                ..authward_core::UserPatch::default()
            };
            self.inner.update(id, change).await.unwrap();
        }
    }
}

#[async_trait::async_trait]
impl UserDatabase for ChangesBeforeTheWrite {
    type User = TestUser;
    type Extra = ();
    async fn get(&self, id: &uuid::Uuid) -> Result<Option<TestUser>, authward_core::DbError> {
        self.inner.get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<TestUser>, authward_core::DbError> {
        self.inner.get_by_email(email).await
    }
    async fn create(&self, user: NewUser<()>) -> Result<TestUser, authward_core::DbError> {
        self.inner.create(user).await
    }
    async fn update(
        &self,
        id: &uuid::Uuid,
        patch: authward_core::UserPatch<()>,
    ) -> Result<TestUser, authward_core::DbError> {
        if patch.hashed_password.is_some() {
            self.change_if_armed(id).await;
        }
        self.inner.update(id, patch).await
    }
    async fn replace_password_hash(
        &self,
        id: &uuid::Uuid,
        current_hash: &str,
        new_hash: String,
    ) -> Result<Option<TestUser>, authward_core::DbError> {
        self.change_if_armed(id).await;
        if self.fail_write {
            return Err(authward_core::DbError::unavailable("the write timed out"));
        }
        self.inner
            .replace_password_hash(id, current_hash, new_hash)
            .await
    }
    async fn delete(&self, id: &uuid::Uuid) -> Result<(), authward_core::DbError> {
        self.inner.delete(id).await
    }
}

#[tokio::test]
async fn a_password_change_landing_just_before_the_upgrade_is_written_stands() {
    let (login, stored) = legacy_login_with_a_change_before_the_write(true, false).await;
    assert_eq!(login, None, "the password checked is no longer the user's");
    assert_eq!(stored, "new:changed", "the change stands");
}

#[tokio::test]
async fn a_password_change_before_an_upgrade_whose_write_fails_still_fails_the_login() {
    let (login, stored) = legacy_login_with_a_change_before_the_write(true, true).await;
    assert_eq!(login, None, "the password checked is no longer the user's");
    assert_eq!(stored, "new:changed");
}

#[tokio::test]
async fn a_legacy_login_whose_upgrade_fails_to_save_still_signs_in() {
    let (login, stored) = legacy_login_with_a_change_before_the_write(false, true).await;
    assert_eq!(
        login.as_deref(),
        Some("old:secret"),
        "the hash checked is still the user's"
    );
    assert_eq!(stored, "old:secret", "nothing was written");
}

/// A legacy login over [`ChangesBeforeTheWrite`] (with the change landing if `change`): what
/// it answered (the user's hash, if it signed in) and the hash stored after.
async fn legacy_login_with_a_change_before_the_write(
    change: bool,
    fail_write: bool,
) -> (Option<String>, String) {
    let (_release, released) = std::sync::mpsc::channel();
    let hasher = Arc::new(HoldingHasher {
        fails: false,
        armed: std::sync::atomic::AtomicBool::new(false),
        reached: Arc::new(tokio::sync::Notify::new()),
        release: std::sync::Mutex::new(released),
    });
    let db = ChangesBeforeTheWrite {
        inner: Db::new(),
        armed: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        fail_write,
    };
    let manager = UserManager::builder(db.clone(), SECRET)
        .password_helper(authward_core::PasswordHelper::new(hasher))
        .without_sessions()
        .build()
        .unwrap();
    let user = db
        .create(NewUser::new("lucan@camelot.bt", "old:secret"))
        .await
        .unwrap();
    db.armed.store(change, std::sync::atomic::Ordering::SeqCst);
    let login = manager
        .authenticate("lucan@camelot.bt", "secret", None)
        .await
        .unwrap();
    assert!(
        !db.armed.load(std::sync::atomic::Ordering::SeqCst),
        "the change landed"
    );
    let stored = db.get(&user.id).await.unwrap().unwrap().hashed_password;
    (login.map(|user| user.hashed_password), stored)
}
