#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// Records the highest number of operations running at once.
struct Gauge {
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl PasswordHasher for Gauge {
    fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(20));
        self.running.fetch_sub(1, Ordering::SeqCst);
        Ok(password.to_owned())
    }
    fn verify(&self, password: &str, hash: &str) -> Verification {
        if password == hash {
            Verification::Valid
        } else {
            Verification::Invalid
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_bounded_by_the_semaphore() {
    let gauge = Arc::new(Gauge {
        running: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
    });
    let helper = PasswordHelper::from_arc(gauge.clone()).with_max_concurrency(2);
    assert_eq!(helper.max_concurrency(), 2);
    let jobs: Vec<_> = (0..12)
        .map(|i| {
            let helper = helper.clone();
            tokio::spawn(async move { helper.hash(&format!("pw{i}")).await })
        })
        .collect();
    for job in jobs {
        assert!(job.await.unwrap().is_ok());
    }
    let peak = gauge.peak.load(Ordering::SeqCst);
    assert!(peak <= 2, "peak {peak}");
    assert!(peak >= 1);
}

#[test]
fn zero_concurrency_is_raised_to_one() {
    let helper = PasswordHelper::new(Argon2Hasher::default()).with_max_concurrency(0);
    assert_eq!(helper.max_concurrency(), 1);
    assert!(PasswordHelper::default().max_concurrency() >= 1);
}

#[test]
fn generated_secrets_are_random_and_url_safe() {
    let a = PasswordHelper::generate();
    let b = PasswordHelper::generate();
    assert_eq!(a.len(), 43);
    assert_ne!(a, b);
    assert!(
        a.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
}

#[tokio::test]
async fn dummy_verification_always_fails_and_runs_the_hasher() {
    let helper = PasswordHelper::new(Argon2Hasher::new(1024, 1, 1).unwrap());
    assert_eq!(
        helper.verify_dummy("anything").await.unwrap(),
        Verification::Invalid
    );
    let dummy = helper.dummy_hash.get().cloned().unwrap();
    assert!(dummy.starts_with("$argon2id$"));
    // The cached dummy hash is reused.
    helper.verify_dummy("again").await.unwrap();
    assert_eq!(helper.dummy_hash.get(), Some(&dummy));
}

#[tokio::test]
async fn low_priority_threads_hash_and_verify() {
    let helper = PasswordHelper::new(Argon2Hasher::new(64, 1, 1).unwrap())
        .with_low_priority_threads(10)
        .unwrap()
        .with_max_concurrency(2);
    let hash = helper.hash("correct horse").await.unwrap();
    assert!(
        helper
            .verify("correct horse", &hash)
            .await
            .unwrap()
            .is_valid()
    );
    assert!(
        !helper
            .verify("wrong horse", &hash)
            .await
            .unwrap()
            .is_valid()
    );
    let many = (0..8).map(|i| {
        let helper = helper.clone();
        tokio::spawn(async move { helper.hash(&format!("pw{i}")).await })
    });
    for result in futures_join(many).await {
        assert!(result.starts_with("$argon2id$"));
    }
}

async fn futures_join<I>(tasks: I) -> Vec<String>
where
    I: IntoIterator<Item = tokio::task::JoinHandle<Result<String, PasswordError>>>,
{
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap().unwrap());
    }
    out
}

/// Panics on the password "boom"; hashes anything else to itself.
struct Fragile;

impl PasswordHasher for Fragile {
    fn hash(&self, password: &str) -> Result<String, PasswordError> {
        assert_ne!(password, "boom", "a hasher bug");
        Ok(password.to_owned())
    }

    fn verify(&self, password: &str, hash: &str) -> Verification {
        if password == hash {
            Verification::Valid
        } else {
            Verification::Invalid
        }
    }
}

#[tokio::test]
async fn a_panicking_hasher_fails_its_call_and_the_thread_lives_on() {
    let helper = PasswordHelper::new(Fragile).with_max_concurrency(1);
    assert!(matches!(
        helper.hash("boom").await,
        Err(PasswordError::Task(_))
    ));
    // The one hashing thread survived the panic and still takes jobs.
    assert_eq!(helper.hash("fine").await.unwrap(), "fine");
    assert!(matches!(
        helper.hash("boom").await,
        Err(PasswordError::Task(_))
    ));
    assert!(helper.verify("fine", "fine").await.unwrap().is_valid());
}
