//! UserManager: update and delete.
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used)]

mod manager_support;

use authward_core::manager::{ManagerError, UserCreate, UserManager, UserUpdate};
use authward_core::memory::MemoryUserDatabase;
use authward_core::{Argon2Hasher, PasswordHelper, RevokeReason, UserDatabase};
use manager_support::*;

#[tokio::test]
async fn email_change_resets_verification_and_calls_the_hook() {
    let f = fixture();
    let user = f.register("kay@camelot.bt", "seneschal").await;
    let user = f
        .manager
        .update(
            UserUpdate {
                is_verified: Some(true),
                ..Default::default()
            },
            &user,
            false,
            None,
        )
        .await
        .unwrap();
    assert!(user.is_verified);
    f.hooks.clear();
    let updated = f
        .manager
        .update(
            UserUpdate {
                email: Some(" Sir.Kay@Camelot.bt ".into()),
                ..Default::default()
            },
            &user,
            true,
            Some(&ua("ua-u")),
        )
        .await
        .unwrap();
    assert_eq!(updated.email, "Sir.Kay@Camelot.bt");
    assert!(!updated.is_verified);
    assert_eq!(
        f.hooks.events(),
        vec!["on_after_update Sir.Kay@Camelot.bt [email,is_verified] ua=ua-u"]
    );
    assert!(f.db.get_by_email("kay@camelot.bt").await.unwrap().is_none());
    // No password change, no revocation.
    assert!(f.revoked().concat().is_empty());
}

#[tokio::test]
async fn case_only_change_of_ones_own_email_is_allowed_and_keeps_verification() {
    let f = fixture();
    let user = f.register("bedivere@camelot.bt", "one hand!").await;
    let user = f
        .manager
        .update(
            UserUpdate {
                is_verified: Some(true),
                ..Default::default()
            },
            &user,
            false,
            None,
        )
        .await
        .unwrap();
    let updated = f
        .manager
        .update(
            UserUpdate {
                email: Some("Bedivere@Camelot.bt".into()),
                ..Default::default()
            },
            &user,
            true,
            None,
        )
        .await
        .unwrap();
    assert_eq!(updated.email, "Bedivere@Camelot.bt");
    assert!(updated.is_verified);
    // Setting the same address again changes nothing.
    f.hooks.clear();
    let same = f
        .manager
        .update(
            UserUpdate {
                email: Some("Bedivere@Camelot.bt".into()),
                ..Default::default()
            },
            &updated,
            true,
            None,
        )
        .await
        .unwrap();
    assert_eq!(same, updated);
    assert_eq!(
        f.hooks.events(),
        vec!["on_after_update Bedivere@Camelot.bt [] ua=-"]
    );
}

#[tokio::test]
async fn email_taken_by_someone_else_is_refused_ignoring_case() {
    let f = fixture();
    f.register("lionel@camelot.bt", "cousin one").await;
    let user = f.register("bors@camelot.bt", "cousin two").await;
    f.hooks.clear();
    let err = f
        .manager
        .update(
            UserUpdate {
                email: Some("LIONEL@camelot.bt".into()),
                ..Default::default()
            },
            &user,
            true,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ManagerError::UserAlreadyExists), "{err:?}");
    assert!(f.hooks.events().is_empty());
    let bad = f
        .manager
        .update(
            UserUpdate {
                email: Some("no at sign".into()),
                ..Default::default()
            },
            &user,
            true,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(bad, ManagerError::InvalidEmail { .. }));
    assert_eq!(
        f.db.get(&user.id).await.unwrap().unwrap().email,
        "bors@camelot.bt"
    );
}

#[tokio::test]
async fn password_change_is_validated_hashed_and_revokes_every_session() {
    let f = fixture();
    let user = f.register("uther@tintagel.bt", "pendragon").await;
    let err = f
        .manager
        .update(
            UserUpdate {
                password: Some("short".into()),
                ..Default::default()
            },
            &user,
            true,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ManagerError::InvalidPassword { .. }));
    // The policy compares with the new email when both change.
    let err = f
        .manager
        .update(
            UserUpdate {
                email: Some("igraine@tintagel.bt".into()),
                password: Some("IGRAINE@tintagel.bt".into()),
                ..Default::default()
            },
            &user,
            true,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ManagerError::InvalidPassword { .. }));
    assert!(f.revoked().concat().is_empty());

    f.hooks.clear();
    let updated = f
        .manager
        .update(
            UserUpdate {
                password: Some("new and long".into()),
                ..Default::default()
            },
            &user,
            true,
            None,
        )
        .await
        .unwrap();
    assert!(updated.hashed_password.starts_with("$argon2id$"));
    assert_ne!(updated.hashed_password, user.hashed_password);
    // Before the new hash is stored, and once more after.
    assert_eq!(
        f.revoked(),
        vec![vec![user.id, user.id], vec![user.id, user.id]]
    );
    assert_eq!(
        f.revokers[1].reasons(),
        vec![RevokeReason::PasswordChanged, RevokeReason::PasswordChanged]
    );
    assert_eq!(
        f.hooks.events(),
        vec!["on_after_update uther@tintagel.bt [password] ua=-"]
    );
    assert!(
        f.manager
            .authenticate("uther@tintagel.bt", "new and long", None)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn safe_update_ignores_flags_privileged_update_applies_them() {
    let f = fixture();
    let user = f.register("mark@cornwall.bt", "king mark!").await;
    let flags = UserUpdate::<()> {
        is_active: Some(false),
        is_superuser: Some(true),
        is_verified: Some(true),
        ..Default::default()
    };
    let safe = f
        .manager
        .update(flags.clone(), &user, true, None)
        .await
        .unwrap();
    assert!(safe.is_active && !safe.is_superuser && !safe.is_verified);
    f.hooks.clear();
    let admin = f.manager.update(flags, &user, false, None).await.unwrap();
    assert!(!admin.is_active && admin.is_superuser && admin.is_verified);
    assert_eq!(
        f.hooks.events(),
        vec!["on_after_update mark@cornwall.bt [is_active,is_superuser,is_verified] ua=-"]
    );
    // An explicit is_verified wins over the reset an email change causes.
    let both = f
        .manager
        .update(
            UserUpdate {
                email: Some("marc@cornwall.bt".into()),
                is_verified: Some(true),
                ..Default::default()
            },
            &admin,
            false,
            None,
        )
        .await
        .unwrap();
    assert!(both.is_verified);
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Profile {
    title: String,
}

#[tokio::test]
async fn custom_fields_are_created_and_replaced() {
    let db = MemoryUserDatabase::<i64, Profile>::new();
    let manager = UserManager::builder(db, SECRET)
        .password_helper(PasswordHelper::new(Argon2Hasher::new(1024, 1, 1).unwrap()))
        .build()
        .unwrap();
    let user = manager
        .create(
            UserCreate::<()>::new("merlin@camelot.bt", "wizardry!").with_extra(Profile {
                title: "wizard".into(),
            }),
            true,
            None,
        )
        .await
        .unwrap();
    assert_eq!((user.id, user.extra.title.as_str()), (1, "wizard"));
    let updated = manager
        .update(
            UserUpdate {
                extra: Some(Profile {
                    title: "enchanter".into(),
                }),
                ..Default::default()
            },
            &user,
            true,
            None,
        )
        .await
        .unwrap();
    assert_eq!(updated.extra.title, "enchanter");
    assert!(matches!(
        manager.parse_id("x1"),
        Err(ManagerError::InvalidId)
    ));
}

#[tokio::test]
async fn updating_a_deleted_user_is_user_not_exists() {
    let f = fixture();
    let user = f.register("balin@camelot.bt", "two swords").await;
    f.db.delete(&user.id).await.unwrap();
    let err = f
        .manager
        .update(UserUpdate::default(), &user, true, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ManagerError::UserNotExists), "{err:?}");
}

#[tokio::test]
async fn delete_calls_hooks_around_the_deletion_and_revokes_sessions() {
    let f = fixture();
    let user = f.register("balan@camelot.bt", "two swords").await;
    f.hooks.clear();
    f.manager.delete(&user, Some(&ua("admin"))).await.unwrap();
    assert_eq!(
        f.hooks.events(),
        vec![
            "on_before_delete balan@camelot.bt ua=admin",
            "on_after_delete balan@camelot.bt ua=admin"
        ]
    );
    assert!(f.db.get(&user.id).await.unwrap().is_none());
    assert_eq!(f.revoked(), vec![vec![user.id], vec![user.id]]);
    assert_eq!(f.revokers[0].reasons(), vec![RevokeReason::Deleted]);
    assert!(matches!(
        f.manager.delete(&user, None).await,
        Err(ManagerError::UserNotExists)
    ));
}

#[tokio::test]
async fn on_before_delete_can_veto() {
    let f = fixture();
    let user = f.register("pelles@corbenic.bt", "the grail!").await;
    f.hooks.fail_on("on_before_delete");
    let err = f.manager.delete(&user, None).await.unwrap_err();
    assert!(matches!(
        err,
        ManagerError::Hook {
            hook: "on_before_delete",
            ..
        }
    ));
    assert!(f.db.get(&user.id).await.unwrap().is_some());
    assert!(f.revoked().concat().is_empty());
}

#[tokio::test]
async fn revoke_all_sessions_calls_every_revoker() {
    let f = fixture();
    let user = f.register("ector@camelot.bt", "de maris!").await;
    f.manager.revoke_all_sessions(&user.id).await.unwrap();
    assert_eq!(f.revoked(), vec![vec![user.id], vec![user.id]]);
}

#[tokio::test]
async fn deactivation_revokes_every_session_and_a_failure_changes_nothing() {
    let f = fixture();
    let user = f.register("morgause@orkney.bt", "four sons!").await;
    let deactivate = UserUpdate::<()> {
        is_active: Some(false),
        ..Default::default()
    };
    // A user cannot deactivate itself through the safe update: nothing to revoke.
    f.manager
        .update(deactivate.clone(), &user, true, None)
        .await
        .unwrap();
    assert!(f.revoked().concat().is_empty());

    // The token store is down: the deactivation is refused and nothing changes.
    *f.revokers[0].fail.lock().unwrap() = true;
    let err = f
        .manager
        .update(deactivate.clone(), &user, false, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ManagerError::Db(db) if db.is_unavailable()),
        "{err:?}"
    );
    assert!(f.db.get(&user.id).await.unwrap().unwrap().is_active);
    *f.revokers[0].fail.lock().unwrap() = false;

    let before = f.revokers[0].reasons().len();
    let inactive = f
        .manager
        .update(deactivate.clone(), &user, false, None)
        .await
        .unwrap();
    assert!(!inactive.is_active);
    assert_eq!(
        f.revokers[0].reasons()[before..],
        [RevokeReason::Deactivated, RevokeReason::Deactivated]
    );
    // Deactivating an inactive user, or reactivating, revokes nothing more.
    f.manager
        .update(deactivate, &inactive, false, None)
        .await
        .unwrap();
    let reactivate = UserUpdate::<()> {
        is_active: Some(true),
        ..Default::default()
    };
    f.manager
        .update(reactivate, &inactive, false, None)
        .await
        .unwrap();
    assert_eq!(f.revokers[0].reasons().len(), before + 2);
}

#[tokio::test]
async fn without_any_revoker_sessions_cannot_be_ended_and_nothing_changes() {
    let db = MemoryUserDatabase::<uuid::Uuid>::new();
    let manager = UserManager::builder(db.clone(), SECRET)
        .password_helper(PasswordHelper::new(Argon2Hasher::new(1024, 1, 1).unwrap()))
        .build()
        .unwrap();
    let user = manager
        .create(
            UserCreate::new("dagonet@camelot.bt", "the fool!"),
            true,
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        manager.revoke_all_sessions(&user.id).await,
        Err(ManagerError::NoSessionRevoker)
    ));
    let change = UserUpdate::<()> {
        password: Some("another password".into()),
        ..Default::default()
    };
    assert!(matches!(
        manager.update(change.clone(), &user, true, None).await,
        Err(ManagerError::NoSessionRevoker)
    ));
    assert_eq!(
        db.get(&user.id).await.unwrap().unwrap().hashed_password,
        user.hashed_password
    );
    assert!(matches!(
        manager.delete(&user, None).await,
        Err(ManagerError::NoSessionRevoker)
    ));
    assert!(db.get(&user.id).await.unwrap().is_some());

    // A revoker registered on the built manager (as the HTTP layer does) is used by every
    // clone; registering the same one twice keeps one.
    let revoker = std::sync::Arc::new(RecordingRevoker::default());
    let clone = manager.clone();
    clone.add_revoker(revoker.clone());
    clone.add_revoker(revoker.clone());
    assert_eq!(manager.revoker_count(), 1);
    manager.update(change, &user, true, None).await.unwrap();
    assert_eq!(revoker.revoked(), vec![user.id, user.id]);

    // A manager declared to have no sessions proceeds.
    let batch = UserManager::builder(db.clone(), SECRET)
        .password_helper(PasswordHelper::new(Argon2Hasher::new(1024, 1, 1).unwrap()))
        .without_sessions()
        .build()
        .unwrap();
    batch.revoke_all_sessions(&user.id).await.unwrap();
    batch.delete(&user, None).await.unwrap();
    assert!(db.get(&user.id).await.unwrap().is_none());
}

/// What happened, in order: the store's writes and the revocations.
type Log = std::sync::Arc<std::sync::Mutex<Vec<&'static str>>>;

/// A store whose updates announce that they started and then wait to be released.
#[derive(Clone)]
struct GatedUpdates {
    inner: Db,
    started: std::sync::Arc<tokio::sync::Notify>,
    release: std::sync::Arc<tokio::sync::Notify>,
    log: Log,
}

#[async_trait::async_trait]
impl UserDatabase for GatedUpdates {
    type User = TestUser;
    type Extra = ();
    async fn get(&self, id: &uuid::Uuid) -> Result<Option<TestUser>, authward_core::DbError> {
        self.inner.get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<TestUser>, authward_core::DbError> {
        self.inner.get_by_email(email).await
    }
    async fn create(
        &self,
        user: authward_core::NewUser,
    ) -> Result<TestUser, authward_core::DbError> {
        self.inner.create(user).await
    }
    async fn update(
        &self,
        id: &uuid::Uuid,
        patch: authward_core::UserPatch,
    ) -> Result<TestUser, authward_core::DbError> {
        self.started.notify_one();
        self.release.notified().await;
        let updated = self.inner.update(id, patch).await;
        self.log.lock().unwrap().push("write");
        updated
    }
    async fn delete(&self, id: &uuid::Uuid) -> Result<(), authward_core::DbError> {
        self.inner.delete(id).await
    }
}

/// Logs every revocation.
struct LoggingRevoker(Log);

#[async_trait::async_trait]
impl authward_core::strategy::SessionRevoker<uuid::Uuid> for LoggingRevoker {
    async fn revoke_all(
        &self,
        _user_id: &uuid::Uuid,
        _reason: RevokeReason,
    ) -> Result<(), authward_core::strategy::StrategyError> {
        self.0.lock().unwrap().push("revoke");
        Ok(())
    }
}

struct Gated {
    manager: UserManager<GatedUpdates>,
    store: GatedUpdates,
    user: TestUser,
}

async fn gated(email: &str, password: &str) -> Gated {
    let store = GatedUpdates {
        inner: Db::new(),
        started: std::sync::Arc::default(),
        release: std::sync::Arc::default(),
        log: Log::default(),
    };
    let manager = UserManager::builder(store.clone(), SECRET)
        .password_helper(PasswordHelper::from_arc(std::sync::Arc::new(
            CountingHasher::cheap(),
        )))
        .revoker(std::sync::Arc::new(LoggingRevoker(store.log.clone())))
        .build()
        .unwrap();
    let user = manager
        .create(UserCreate::new(email, password), true, None)
        .await
        .unwrap();
    Gated {
        manager,
        store,
        user,
    }
}

/// Drives `call` until the store's update has started, then drops it.
async fn drop_during_the_write<F: std::future::Future>(call: F, started: &tokio::sync::Notify) {
    let mut call = std::pin::pin!(call);
    tokio::select! {
        _ = &mut call => panic!("the call finished before its write started"),
        () = started.notified() => {}
    }
}

/// Waits until the log holds `n` entries.
async fn settle(log: &Log, n: usize) {
    for _ in 0..400 {
        if log.lock().unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("the log stopped at {:?}", log.lock().unwrap());
}

/// A password change whose request is dropped during its write still runs the revocation
/// after the write, which ends the sessions a login with the old password opened in between.
#[tokio::test]
async fn a_password_change_dropped_during_its_write_still_revokes_after_it() {
    let g = gated("lucan@camelot.bt", "the butler").await;
    let change = g.manager.update(
        UserUpdate {
            password: Some("a new secret".into()),
            ..Default::default()
        },
        &g.user,
        true,
        None,
    );
    drop_during_the_write(change, &g.store.started).await;
    g.store.release.notify_one();
    settle(&g.store.log, 3).await;
    assert_eq!(
        *g.store.log.lock().unwrap(),
        vec!["revoke", "write", "revoke"],
        "revoked before the write and after it"
    );
    let stored = g.store.inner.get(&g.user.id).await.unwrap().unwrap();
    assert_ne!(
        stored.hashed_password, g.user.hashed_password,
        "the write landed"
    );
}

/// A reset whose request is dropped during its write keeps its token in use until the write
/// is done: the same token cannot reset the password a second time meanwhile.
#[tokio::test]
async fn a_reset_dropped_during_its_write_still_holds_its_token() {
    let g = gated("griflet@camelot.bt", "falconer!").await;
    let token = g.manager.forgot_password(&g.user, None).await.unwrap();
    let first = g.manager.reset_password(&token, "first new password", None);
    drop_during_the_write(first, &g.store.started).await;
    // Past the in-flight check, the second reset would wait for the gated store too.
    let second = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        g.manager
            .reset_password(&token, "second new password", None),
    )
    .await
    .expect("the second reset got past the in-flight check and reached the store");
    assert!(
        matches!(second, Err(ManagerError::InvalidResetPasswordToken)),
        "the token is still in use: {second:?}"
    );
    g.store.release.notify_one();
    settle(&g.store.log, 3).await;
    assert_eq!(
        *g.store.log.lock().unwrap(),
        vec!["revoke", "write", "revoke"]
    );
    let again = g
        .manager
        .reset_password(&token, "third new password", None)
        .await;
    assert!(
        matches!(again, Err(ManagerError::InvalidResetPasswordToken)),
        "the token is spent: {again:?}"
    );
}

/// A revoker that announces it started and waits to be released.
struct GatedRevoker {
    started: std::sync::Arc<tokio::sync::Notify>,
    release: std::sync::Arc<tokio::sync::Notify>,
    log: Log,
}

#[async_trait::async_trait]
impl authward_core::strategy::SessionRevoker<uuid::Uuid> for GatedRevoker {
    async fn revoke_all(
        &self,
        _user_id: &uuid::Uuid,
        _reason: RevokeReason,
    ) -> Result<(), authward_core::strategy::StrategyError> {
        self.started.notify_one();
        self.release.notified().await;
        self.log.lock().unwrap().push("first revoker");
        Ok(())
    }
}

/// A log-out-everywhere whose request is dropped while its first revoker runs still runs
/// every revoker: it is never left half done.
#[tokio::test]
async fn a_log_out_everywhere_dropped_midway_still_runs_every_revoker() {
    let log = Log::default();
    let gate = GatedRevoker {
        started: std::sync::Arc::default(),
        release: std::sync::Arc::default(),
        log: log.clone(),
    };
    let (started, release) = (gate.started.clone(), gate.release.clone());
    let manager = UserManager::builder(Db::new(), SECRET)
        .password_helper(PasswordHelper::from_arc(std::sync::Arc::new(
            CountingHasher::cheap(),
        )))
        .revoker(std::sync::Arc::new(gate))
        .revoker(std::sync::Arc::new(LoggingRevoker(log.clone())))
        .build()
        .unwrap();
    let user = manager
        .create(
            UserCreate::new("dinadan@camelot.bt", "jester's lute"),
            true,
            None,
        )
        .await
        .unwrap();
    drop_during_the_write(manager.revoke_all_sessions(&user.id), &started).await;
    release.notify_one();
    settle(&log, 2).await;
    assert_eq!(*log.lock().unwrap(), vec!["first revoker", "revoke"]);
}
