//! The `UserDatabase` suite. Every function takes a fresh store and panics on a broken rule.

use std::sync::Arc;

use authward_core::{AuthUser, DbError, NewUser, UserDatabase, UserPatch};

use crate::fixtures::{Id, SampleId, UserFixture, unique_email};

/// Bound shared by the user suite: a store of the fixture's user type.
pub trait SuiteUserDb<F: UserFixture>:
    UserDatabase<User = F::User, Extra = F::Extra> + 'static
{
}

impl<F, DB> SuiteUserDb<F> for DB
where
    F: UserFixture,
    DB: UserDatabase<User = F::User, Extra = F::Extra> + 'static,
{
}

fn new_user<F: UserFixture>(email: &str, seed: u32) -> NewUser<F::Extra> {
    NewUser {
        email: email.to_owned(),
        hashed_password: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash{seed}"),
        is_active: true,
        is_superuser: false,
        is_verified: false,
        extra: F::extra(seed),
    }
}

async fn must_create<F: UserFixture, DB: SuiteUserDb<F>>(db: &DB, email: &str) -> F::User {
    match db.create(new_user::<F>(email, 1)).await {
        Ok(user) => user,
        Err(err) => panic!("create({email:?}) failed: {err:?}"),
    }
}

fn assert_already_exists<T: std::fmt::Debug>(result: Result<T, DbError>, context: &str) {
    match result {
        Err(DbError::AlreadyExists { .. }) => {}
        other => panic!("{context}: expected DbError::AlreadyExists, got {other:?}"),
    }
}

/// A created user comes back with an ID and the given fields (defaults included, email kept as
/// typed), and `get` returns exactly it.
pub async fn create_get_round_trip<F: UserFixture, DB: SuiteUserDb<F>>(db: DB) {
    let email = unique_email("King.Arthur", "Camelot.bt");
    let created = must_create::<F, _>(&db, &email).await;
    assert_eq!(created.email(), email, "the email must be stored as typed");
    assert!(created.is_active(), "is_active defaults to true");
    assert!(!created.is_superuser(), "is_superuser defaults to false");
    assert!(!created.is_verified(), "is_verified defaults to false");
    assert_eq!(F::extra_of(&created), F::extra(1));
    let loaded = db.get(created.id()).await.expect("get succeeds");
    assert_eq!(
        loaded.as_ref(),
        Some(&created),
        "get returns the created user"
    );

    let mut privileged = new_user::<F>(&unique_email("admin", "camelot.bt"), 2);
    privileged.is_superuser = true;
    privileged.is_verified = true;
    privileged.is_active = false;
    let admin = db.create(privileged).await.expect("create privileged");
    assert!(admin.is_superuser() && admin.is_verified() && !admin.is_active());
    assert_ne!(admin.id(), created.id(), "IDs are distinct");
    assert_eq!(db.get(admin.id()).await.expect("get"), Some(admin));
}

/// `get` of an ID that no user has is `None`, not an error.
pub async fn get_unknown_is_none<F: UserFixture, DB: SuiteUserDb<F>>(db: DB) {
    assert_eq!(
        db.get(&<Id<F>>::unused()).await.expect("get succeeds"),
        None
    );
    let email = unique_email("nobody", "example.com");
    assert_eq!(db.get_by_email(&email).await.expect("get_by_email"), None);
}

/// `get_by_email` ignores ASCII case in both the local part and the domain.
pub async fn get_by_email_ignores_ascii_case<F: UserFixture, DB: SuiteUserDb<F>>(db: DB) {
    let email = unique_email("Lancelot.Du.Lac", "Camelot.BT");
    let user = must_create::<F, _>(&db, &email).await;
    for variant in [
        email.clone(),
        email.to_lowercase(),
        email.to_uppercase(),
        swap_case(&email),
    ] {
        let found = db.get_by_email(&variant).await.expect("get_by_email");
        assert_eq!(found.as_ref(), Some(&user), "lookup by {variant:?}");
    }
}

/// `get_by_email` ignores case beyond ASCII: Cyrillic and accented Latin letters.
pub async fn get_by_email_ignores_unicode_case<F: UserFixture, DB: SuiteUserDb<F>>(db: DB) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let cyrillic = format!("Квіточка{tag}@Пошта.укр");
    let accented = format!("Élodie.Dupré{tag}@Exemple.fr");
    for email in [cyrillic, accented] {
        let user = must_create::<F, _>(&db, &email).await;
        for variant in [email.to_lowercase(), email.to_uppercase()] {
            let found = db.get_by_email(&variant).await.expect("get_by_email");
            assert_eq!(found.as_ref(), Some(&user), "lookup by {variant:?}");
        }
        assert_already_exists(
            db.create(new_user::<F>(&email.to_uppercase(), 2)).await,
            "creating an upper-cased duplicate of a non-ASCII email",
        );
    }
}

/// One mailbox is one account whatever form its address is typed in
/// ([`email_key`](authward_core::user::email_key)): an IDNA domain in Unicode or ASCII
/// (`bücher.de` / `xn--bcher-kva.de`), compatibility forms (the Kelvin sign `K`, fullwidth
/// letters) and letters composed or decomposed. Each form finds the user, creating another
/// form is `AlreadyExists`, and the email stays stored as typed.
pub async fn email_equivalences_are_one_account<F: UserFixture, DB: SuiteUserDb<F>>(db: DB) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let cases = [
        (
            format!("user{tag}@bücher.de"),
            vec![
                format!("user{tag}@xn--bcher-kva.de"),
                format!("USER{tag}@BÜCHER.DE"),
                format!("user{tag}@XN--BCHER-KVA.DE"),
            ],
        ),
        (
            format!("\u{212A}elvin{tag}@example.com"),
            vec![
                format!("kelvin{tag}@example.com"),
                format!("Kelvin{tag}@Example.com"),
                format!("\u{FF4B}elvin{tag}@example.com"),
            ],
        ),
        (
            format!("e\u{301}lodie{tag}@exemple.fr"),
            vec![
                format!("\u{E9}lodie{tag}@exemple.fr"),
                format!("\u{C9}LODIE{tag}@EXEMPLE.FR"),
            ],
        ),
        (
            format!("Stra\u{DF}e{tag}@example.de"),
            vec![
                format!("strasse{tag}@example.de"),
                format!("STRASSE{tag}@example.de"),
            ],
        ),
    ];
    for (stored, variants) in cases {
        let user = must_create::<F, _>(&db, &stored).await;
        assert_eq!(user.email(), stored, "the email must be stored as typed");
        for variant in &variants {
            let found = db.get_by_email(variant).await.expect("get_by_email");
            assert_eq!(
                found.as_ref(),
                Some(&user),
                "lookup by {variant:?} for {stored:?}"
            );
            assert_already_exists(
                db.create(new_user::<F>(variant, 2)).await,
                &format!("creating {variant:?} next to {stored:?}"),
            );
        }
    }
}

/// `%`, `_`, `.*` and `[a-z]` in an address are literal characters, never patterns.
pub async fn get_by_email_matches_metacharacters_literally<F: UserFixture, DB: SuiteUserDb<F>>(
    db: DB,
) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let cases = [
        (
            format!("per%cent{tag}@ex.com"),
            format!("perXYZcent{tag}@ex.com"),
        ),
        (
            format!("under_score{tag}@ex.com"),
            format!("underXscore{tag}@ex.com"),
        ),
        (
            format!("dot.*star{tag}@ex.com"),
            format!("dotANYTHINGstar{tag}@ex.com"),
        ),
        (format!("[a-z]{tag}@ex.com"), format!("q{tag}@ex.com")),
        (
            format!("back\\slash{tag}@ex.com"),
            format!("backslash{tag}@ex.com"),
        ),
    ];
    for (stored, lookalike) in &cases {
        let user = must_create::<F, _>(&db, stored).await;
        let found = db.get_by_email(stored).await.expect("get_by_email");
        assert_eq!(found.as_ref(), Some(&user), "literal lookup of {stored:?}");
        let upper = db
            .get_by_email(&stored.to_uppercase())
            .await
            .expect("get_by_email");
        assert_eq!(
            upper.as_ref(),
            Some(&user),
            "upper-case lookup of {stored:?}"
        );
        let wrong = db.get_by_email(lookalike).await.expect("get_by_email");
        assert_eq!(
            wrong, None,
            "{lookalike:?} must not match {stored:?} as a pattern"
        );
    }
    for pattern in ["%", "_", ".*", "%@%", "%@ex.com", "[a-z]%"] {
        let found = db.get_by_email(pattern).await.expect("get_by_email");
        assert_eq!(found, None, "{pattern:?} must match nothing");
    }
}

/// Creating a second user whose email differs only in case fails with `AlreadyExists`, and
/// leaves the first user as it was.
pub async fn duplicate_email_differing_in_case_is_rejected<F: UserFixture, DB: SuiteUserDb<F>>(
    db: DB,
) {
    let email = unique_email("Gawain", "Camelot.bt");
    let first = must_create::<F, _>(&db, &email).await;
    assert_already_exists(db.create(new_user::<F>(&email, 2)).await, "exact duplicate");
    assert_already_exists(
        db.create(new_user::<F>(&email.to_uppercase(), 3)).await,
        "duplicate differing in case",
    );
    let found = db.get_by_email(&email).await.expect("get_by_email");
    assert_eq!(found, Some(first), "the first user is unchanged");
}

/// 50 concurrent creates of one email (in different cases) yield exactly one user; every other
/// attempt fails with `AlreadyExists`.
pub async fn concurrent_creates_of_one_email_yield_one_user<F: UserFixture, DB: SuiteUserDb<F>>(
    db: DB,
) {
    let db = Arc::new(db);
    let email = unique_email("Race", "Camelot.bt");
    let attempts = (0..50_u32).map(|i| {
        let db = Arc::clone(&db);
        let email = if i % 2 == 0 {
            email.clone()
        } else {
            email.to_uppercase()
        };
        tokio::spawn(async move { db.create(new_user::<F>(&email, i)).await })
    });
    let results = futures::future::join_all(attempts).await;
    let mut winners = Vec::new();
    for result in results {
        match result.expect("create task does not panic") {
            Ok(user) => winners.push(user),
            Err(DbError::AlreadyExists { .. }) => {}
            Err(other) => panic!("a losing concurrent create must be AlreadyExists, got {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one concurrent create succeeds");
    let found = db.get_by_email(&email).await.expect("get_by_email");
    assert_eq!(found.as_ref(), winners.first());
}

/// A patch changes only the fields it sets.
pub async fn patch_leaves_unset_fields_untouched<F: UserFixture, DB: SuiteUserDb<F>>(db: DB) {
    let user = must_create::<F, _>(&db, &unique_email("Percival", "camelot.bt")).await;
    let updated = db
        .update(
            user.id(),
            UserPatch {
                is_verified: Some(true),
                ..UserPatch::default()
            },
        )
        .await
        .expect("update");
    assert!(updated.is_verified());
    assert_eq!(updated.email(), user.email());
    assert_eq!(updated.hashed_password(), user.hashed_password());
    assert_eq!(updated.is_active(), user.is_active());
    assert_eq!(updated.is_superuser(), user.is_superuser());
    assert_eq!(F::extra_of(&updated), F::extra_of(&user));

    let updated = db
        .update(
            user.id(),
            UserPatch {
                hashed_password: Some("$2b$12$newhash".into()),
                is_active: Some(false),
                is_superuser: Some(true),
                ..UserPatch::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(updated.hashed_password(), "$2b$12$newhash");
    assert!(!updated.is_active() && updated.is_superuser() && updated.is_verified());
    assert_eq!(
        db.get(user.id()).await.expect("get"),
        Some(updated),
        "persisted"
    );
}

/// An empty patch returns the user unchanged.
pub async fn empty_patch_changes_nothing<F: UserFixture, DB: SuiteUserDb<F>>(db: DB) {
    let user = must_create::<F, _>(&db, &unique_email("Bors", "camelot.bt")).await;
    let same = db
        .update(user.id(), UserPatch::default())
        .await
        .expect("update");
    assert_eq!(same, user);
}

/// Changing an email to another user's (in any case) is `AlreadyExists` and changes nothing;
/// changing only the case of one's own email is allowed.
pub async fn email_change_keeps_uniqueness<F: UserFixture, DB: SuiteUserDb<F>>(db: DB) {
    let a = must_create::<F, _>(&db, &unique_email("Tristan", "camelot.bt")).await;
    let b = must_create::<F, _>(&db, &unique_email("Isolde", "camelot.bt")).await;
    let taken = UserPatch {
        email: Some(a.email().to_uppercase()),
        is_verified: Some(true),
        ..UserPatch::default()
    };
    assert_already_exists(
        db.update(b.id(), taken).await,
        "taking another user's email",
    );
    assert_eq!(
        db.get(b.id()).await.expect("get"),
        Some(b.clone()),
        "a failed update changes nothing"
    );

    let recased = db
        .update(
            a.id(),
            UserPatch {
                email: Some(a.email().to_uppercase()),
                ..UserPatch::default()
            },
        )
        .await
        .expect("changing the case of one's own email is allowed");
    assert_eq!(recased.email(), a.email().to_uppercase());
    let found = db.get_by_email(a.email()).await.expect("get_by_email");
    assert_eq!(found, Some(recased));
}

/// After an email change the new address finds the user, the old one does not, and the old one
/// can be registered again.
pub async fn email_change_frees_the_old_address<F: UserFixture, DB: SuiteUserDb<F>>(db: DB) {
    let old = unique_email("Galahad", "camelot.bt");
    let new = unique_email("Galahad.New", "camelot.bt");
    let user = must_create::<F, _>(&db, &old).await;
    let moved = db
        .update(
            user.id(),
            UserPatch {
                email: Some(new.clone()),
                ..UserPatch::default()
            },
        )
        .await
        .expect("update email");
    assert_eq!(moved.email(), new);
    assert_eq!(db.get_by_email(&old).await.expect("get_by_email"), None);
    assert_eq!(
        db.get_by_email(&new).await.expect("get_by_email"),
        Some(moved)
    );
    let again = must_create::<F, _>(&db, &old).await;
    assert_ne!(again.id(), user.id());
}

/// Updating a user that does not exist is `NotFound`.
pub async fn update_unknown_user_is_not_found<F: UserFixture, DB: SuiteUserDb<F>>(db: DB) {
    let patch = UserPatch {
        is_verified: Some(true),
        ..UserPatch::default()
    };
    match db.update(&<Id<F>>::unused(), patch).await {
        Err(DbError::NotFound { .. }) => {}
        other => panic!("update of an unknown user: expected NotFound, got {other:?}"),
    }
}

/// `replace_password_hash` writes only over the expected hash, in one atomic step: a stale
/// expected hash or an unknown user writes nothing, and of 8 concurrent replacements of one
/// hash exactly one lands (a read-then-write implementation lets several land, each
/// overwriting the last).
pub async fn replace_password_hash_is_conditional_and_atomic<F: UserFixture, DB: SuiteUserDb<F>>(
    db: DB,
) {
    let user = must_create::<F, _>(&db, &unique_email("Gawain", "camelot.bt")).await;
    let original = user.hashed_password().to_owned();
    let stale = db
        .replace_password_hash(user.id(), "$argon2id$stale", "$argon2id$new0".to_owned())
        .await
        .expect("replace_password_hash over a stale hash");
    assert_eq!(stale, None, "a stale expected hash writes nothing");
    let unknown = db
        .replace_password_hash(&<Id<F>>::unused(), &original, "$argon2id$new0".to_owned())
        .await
        .expect("replace_password_hash of an unknown user");
    assert_eq!(unknown, None, "an unknown user is None");
    let stored = db.get(user.id()).await.expect("get").expect("the user");
    assert_eq!(stored, user, "nothing was written");

    let db = Arc::new(db);
    let attempts = (1..=8_u32).map(|i| {
        let db = Arc::clone(&db);
        let id = user.id().clone();
        let original = original.clone();
        tokio::spawn(async move {
            db.replace_password_hash(&id, &original, format!("$argon2id$new{i}"))
                .await
        })
    });
    let mut winners = Vec::new();
    for result in futures::future::join_all(attempts).await {
        match result.expect("replace task does not panic") {
            Ok(Some(updated)) => winners.push(updated),
            Ok(None) => {}
            Err(other) => panic!("a losing replacement must be None, got {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one concurrent replacement lands");
    let stored = db.get(user.id()).await.expect("get").expect("the user");
    assert_eq!(Some(&stored), winners.first());
    assert_ne!(stored.hashed_password(), original);
    assert_eq!(stored.email(), user.email(), "only the hash changed");
}

/// `replace_password_hash` compares the expected hash byte for byte: a hash differing from the
/// stored one only in letter case is stale and writes nothing (a case-insensitive comparison,
/// MySQL's default collation, would let it overwrite the stored hash).
pub async fn replace_password_hash_compares_the_hash_exactly<F: UserFixture, DB: SuiteUserDb<F>>(
    db: DB,
) {
    let user = must_create::<F, _>(&db, &unique_email("Bedivere", "camelot.bt")).await;
    let original = user.hashed_password().to_owned();
    let recased = original.to_ascii_uppercase();
    assert_ne!(
        recased, original,
        "the fixture's hash has lower-case letters"
    );
    let replaced = db
        .replace_password_hash(user.id(), &recased, "$argon2id$new".to_owned())
        .await
        .expect("replace_password_hash over a hash differing in case");
    assert_eq!(
        replaced, None,
        "a hash differing in case is not the stored one"
    );
    let stored = db.get(user.id()).await.expect("get").expect("the user");
    assert_eq!(stored.hashed_password(), original, "nothing was written");
}

/// A deleted user is gone by ID and by email, deleting again is `NotFound`, and the email can
/// be registered again.
pub async fn delete_removes_the_user<F: UserFixture, DB: SuiteUserDb<F>>(db: DB) {
    let email = unique_email("Mordred", "camelot.bt");
    let user = must_create::<F, _>(&db, &email).await;
    let bystander = must_create::<F, _>(&db, &unique_email("Kay", "camelot.bt")).await;
    db.delete(user.id()).await.expect("delete");
    assert_eq!(db.get(user.id()).await.expect("get"), None);
    assert_eq!(db.get_by_email(&email).await.expect("get_by_email"), None);
    match db.delete(user.id()).await {
        Err(DbError::NotFound { .. }) => {}
        other => panic!("second delete: expected NotFound, got {other:?}"),
    }
    assert_eq!(db.get(bystander.id()).await.expect("get"), Some(bystander));
    must_create::<F, _>(&db, &email).await;
}

/// The application's custom fields survive create, get and update.
///
/// The fixture must have custom fields that differ by seed: a fixture without any (`()`) fails
/// here rather than counting as proof (the suite macros leave this test out for `extra = ()`).
pub async fn custom_fields_round_trip<F: UserFixture, DB: SuiteUserDb<F>>(db: DB) {
    assert_ne!(
        F::extra(4),
        F::extra(7),
        "custom_fields_round_trip needs a fixture whose custom fields differ by seed"
    );
    let email = unique_email("Merlin", "camelot.bt");
    let created = db.create(new_user::<F>(&email, 4)).await.expect("create");
    assert_eq!(F::extra_of(&created), F::extra(4));
    let loaded = db.get_by_email(&email).await.expect("get_by_email");
    assert_eq!(loaded.map(|u| F::extra_of(&u)), Some(F::extra(4)));
    let updated = db
        .update(
            created.id(),
            UserPatch {
                extra: Some(F::extra(7)),
                ..UserPatch::default()
            },
        )
        .await
        .expect("update extra");
    assert_eq!(F::extra_of(&updated), F::extra(7));
    let loaded = db.get(created.id()).await.expect("get");
    assert_eq!(loaded.map(|u| F::extra_of(&u)), Some(F::extra(7)));
}

fn swap_case(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}
