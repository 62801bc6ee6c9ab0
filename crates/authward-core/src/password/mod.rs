//! Password hashing.
//!
//! Two layers:
//!
//! - [`PasswordHasher`]: a synchronous, CPU-bound hasher. The default, [`Argon2Hasher`], hashes
//!   with argon2id at OWASP's parameters (m = 19 MiB, t = 2, p = 1), verifies every argon2 PHC
//!   string (FastAPI Users' pwdlib hashes `$argon2id$v=19$m=65536,t=3,p=4$...` included) and
//!   legacy bcrypt (`$2a$`, `$2b$`, `$2y$`), and reports when a stored hash should be upgraded.
//! - [`PasswordHelper`]: what the user manager holds. It runs the hasher on threads of its own
//!   behind a semaphore, so a flood of logins neither stalls the async executor nor
//!   allocates unbounded argon2 memory.
//!
//! An unknown or corrupt stored hash is a failed verification (logged with `tracing`), never a
//! panic or an error.
//!
//! ```
//! # tokio_test_shim::run(async {
//! use authward_core::password::{Argon2Hasher, PasswordHelper, Verification};
//!
//! // Cheap parameters keep the example fast; the default is `Argon2Hasher::default()`.
//! let helper = PasswordHelper::new(Argon2Hasher::new(1024, 1, 1).unwrap());
//! let hash = helper.hash("correct horse battery staple").await.unwrap();
//! assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
//! assert_eq!(
//!     helper.verify("correct horse battery staple", &hash).await.unwrap(),
//!     Verification::Valid
//! );
//! assert_eq!(helper.verify("wrong", &hash).await.unwrap(), Verification::Invalid);
//! // A corrupt hash simply fails.
//! assert_eq!(helper.verify("x", "not-a-hash").await.unwrap(), Verification::Invalid);
//! # });
//! # mod tokio_test_shim { pub fn run<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f) } }
//! ```

mod argon2;
mod pool;
mod working_memory;

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use rand::RngCore as _;
use tokio::sync::{OnceCell, Semaphore};

pub use self::argon2::Argon2Hasher;
use self::pool::HashPool;
use crate::error::BoxError;

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verification {
    /// The password does not match, or the stored hash is unknown or corrupt.
    Invalid,
    /// The password matches and the hash uses the current algorithm and parameters.
    Valid,
    /// The password matches but the hash should be replaced by a fresh one (legacy algorithm
    /// or outdated parameters).
    ValidNeedsRehash,
}

impl Verification {
    /// True for [`Verification::Valid`] and [`Verification::ValidNeedsRehash`].
    pub fn is_valid(self) -> bool {
        !matches!(self, Self::Invalid)
    }

    /// True for [`Verification::ValidNeedsRehash`].
    pub fn needs_rehash(self) -> bool {
        matches!(self, Self::ValidNeedsRehash)
    }
}

/// Hashing a password failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// The hasher itself failed (invalid parameters, allocation failure, ...).
    #[error("password hashing failed")]
    Hash(#[source] BoxError),
    /// The hashing job failed to run: the hashing threads could not be started or have
    /// stopped, or the job ended without an answer (the hasher panicked).
    #[error("password hashing task failed")]
    Task(#[source] BoxError),
}

/// A synchronous password hasher.
///
/// Implementations are CPU-bound and may block; [`PasswordHelper`] takes care of running them
/// off the async executor. `verify` must never panic: any stored hash it does not understand
/// is [`Verification::Invalid`].
pub trait PasswordHasher: Send + Sync + 'static {
    /// Hashes `password` with the current algorithm and parameters.
    fn hash(&self, password: &str) -> Result<String, PasswordError>;

    /// Checks `password` against a stored `hash` and says whether the hash needs upgrading.
    fn verify(&self, password: &str, hash: &str) -> Verification;
}

impl<T: PasswordHasher + ?Sized> PasswordHasher for Arc<T> {
    fn hash(&self, password: &str) -> Result<String, PasswordError> {
        (**self).hash(password)
    }

    fn verify(&self, password: &str, hash: &str) -> Verification {
        (**self).verify(password, hash)
    }
}

/// Runs a [`PasswordHasher`] off the async executor, on dedicated threads (as many as the
/// concurrency limit), with a bounded number of operations in flight. Clones share the hasher,
/// the limit and the threads.
///
/// Memory: each thread keeps one argon2 buffer, as large as the largest `m` (KiB) it has used
/// (the current parameters, or a legacy hash class's when one is verified), and gives it back
/// to the kernel, not only to the allocator, after 5 idle seconds, so hashing holds at most
/// `max_concurrency × m` KiB during a login storm and returns to nothing after it (tokio's
/// blocking pool, used before, ran each hash on whichever of up to 512 threads was free, each
/// with an allocator arena of its own that kept what it had held).
#[derive(Clone)]
pub struct PasswordHelper {
    hasher: Arc<dyn PasswordHasher>,
    permits: Arc<Semaphore>,
    limit: usize,
    dummy_hash: Arc<OnceCell<String>>,
    /// Hash classes the store may still hold besides the current one, with their dummies.
    legacy: Arc<Vec<(HashClass, OnceCell<String>)>>,
    /// Started on first use (or at once by `with_low_priority_threads`).
    pool: Arc<OnceCell<Arc<HashPool>>>,
    niceness: i32,
}

impl fmt::Debug for PasswordHelper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHelper")
            .field("max_concurrency", &self.limit)
            .finish_non_exhaustive()
    }
}

impl Default for PasswordHelper {
    /// [`Argon2Hasher::default`] (OWASP parameters), one operation per available core.
    fn default() -> Self {
        Self::new(Argon2Hasher::default())
    }
}

/// The number of available cores, at least 1.
fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

impl PasswordHelper {
    /// Wraps `hasher`, allowing as many concurrent operations as there are available cores.
    pub fn new(hasher: impl PasswordHasher) -> Self {
        Self::from_arc(Arc::new(hasher))
    }

    /// Wraps a shared hasher, allowing as many concurrent operations as there are cores.
    pub fn from_arc(hasher: Arc<dyn PasswordHasher>) -> Self {
        let limit = available_cores();
        Self {
            hasher,
            permits: Arc::new(Semaphore::new(limit)),
            limit,
            dummy_hash: Arc::new(OnceCell::new()),
            legacy: Arc::new(Vec::new()),
            pool: Arc::new(OnceCell::new()),
            niceness: 0,
        }
    }

    /// Sets how many hash or verify operations may run at once (at least 1); the others wait
    /// for a permit without occupying a thread. Each argon2 operation holds `m` KiB of memory,
    /// so this also bounds memory use.
    pub fn with_max_concurrency(mut self, limit: usize) -> Self {
        let limit = limit.max(1);
        self.limit = limit;
        self.permits = Arc::new(Semaphore::new(limit));
        self.pool = Arc::new(OnceCell::new());
        self
    }

    /// Lowers the CPU priority of the hashing threads (as many as
    /// [`PasswordHelper::max_concurrency`]) by `niceness` (1..=19, Linux; ignored elsewhere),
    /// and starts them now. Set the concurrency first: changing it afterwards starts new
    /// threads at normal priority.
    ///
    /// When the CPU is contended, requests that need no hashing (every authenticated request)
    /// then win, and logins queue behind them; when it is idle, hashes run at full speed. This
    /// is what keeps an API responsive through a login storm on a small machine. A login's
    /// latency under full load grows accordingly: pick the niceness to match.
    ///
    /// # Errors
    /// When the operating system refuses to start a thread.
    pub fn with_low_priority_threads(mut self, niceness: i32) -> std::io::Result<Self> {
        self.niceness = niceness.clamp(0, 19);
        let pool = Arc::new(HashPool::start(self.limit, self.niceness)?);
        self.pool = Arc::new(OnceCell::new_with(Some(pool)));
        Ok(self)
    }

    /// The configured limit on concurrent operations.
    pub fn max_concurrency(&self) -> usize {
        self.limit
    }

    /// The wrapped hasher.
    pub fn hasher(&self) -> &Arc<dyn PasswordHasher> {
        &self.hasher
    }

    async fn run<T, F>(&self, job: F) -> Result<T, PasswordError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn PasswordHasher) -> T + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| PasswordError::Task(Box::new(e)))?;
        let hasher = Arc::clone(&self.hasher);
        let pool = self
            .pool
            .get_or_try_init(|| async {
                HashPool::start(self.limit, self.niceness)
                    .map(Arc::new)
                    .map_err(|e| PasswordError::Task(Box::new(e)))
            })
            .await?;
        let (done, result) = tokio::sync::oneshot::channel();
        // The permit moves into the job, so it is held until the work is done even if the
        // caller's future is dropped half-way.
        let queued = pool.execute(Box::new(move || {
            let out = job(hasher.as_ref());
            drop(permit);
            let _ = done.send(out);
        }));
        if !queued {
            return Err(PasswordError::Task(
                "the hashing threads have stopped".into(),
            ));
        }
        result.await.map_err(|e| PasswordError::Task(Box::new(e)))
    }

    /// Hashes a password with the current algorithm and parameters.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let password = password.to_owned();
        self.run(move |h| h.hash(&password)).await?
    }

    /// Checks a password against a stored hash.
    ///
    /// Unknown or corrupt hashes give `Ok(Verification::Invalid)`; `Err` only when the
    /// hashing job itself failed to run.
    pub async fn verify(&self, password: &str, hash: &str) -> Result<Verification, PasswordError> {
        let password = password.to_owned();
        let hash = hash.to_owned();
        self.run(move |h| h.verify(&password, &hash)).await
    }

    /// Declares the hash classes the store may still hold besides the current one (hashes
    /// adopted from FastAPI Users that no login has upgraded yet, see
    /// [`HashClass::FASTAPI_USERS`]).
    ///
    /// Verifying an adopted hash costs more than verifying one of the current parameters
    /// (FastAPI Users' pwdlib argon2, `m = 64 MiB, t = 3, p = 4`, about 5–6 times OWASP's
    /// parameters; bcrypt cost 12 likewise), so without this an unknown email (one dummy
    /// verification at the current parameters) answers faster than a known one whose hash is
    /// still adopted. With it, **every** login verifies exactly one hash of each class: the
    /// user's own, and a dummy of every other class ([`PasswordHelper::verify_padded`],
    /// [`PasswordHelper::verify_dummy`]). A login then costs the sum of the classes; remove a
    /// class once no stored hash uses it (every user has logged in, or old hashes were
    /// reset).
    pub fn with_legacy_hash_classes(
        mut self,
        classes: impl IntoIterator<Item = HashClass>,
    ) -> Self {
        self.legacy = Arc::new(
            classes
                .into_iter()
                .map(|class| (class, OnceCell::new()))
                .collect(),
        );
        self
    }

    /// The legacy hash classes declared with [`PasswordHelper::with_legacy_hash_classes`].
    pub fn legacy_hash_classes(&self) -> Vec<HashClass> {
        self.legacy.iter().map(|(class, _)| *class).collect()
    }

    /// The dummy hash of the current parameters (made once).
    async fn current_dummy(&self) -> Result<String, PasswordError> {
        Ok(self
            .dummy_hash
            .get_or_try_init(|| async { self.hash(&generate_secret()).await })
            .await?
            .clone())
    }

    /// The dummy hash of every declared class, the current one first.
    async fn dummies(&self) -> Result<Vec<String>, PasswordError> {
        let mut all = vec![self.current_dummy().await?];
        for (class, cell) in self.legacy.iter() {
            let class = *class;
            let dummy = cell
                .get_or_try_init(|| async move {
                    self.run(move |_| class.hash(&generate_secret())).await?
                })
                .await?;
            all.push(dummy.clone());
        }
        Ok(all)
    }

    /// Verifies `password` against a dummy hash of every declared class (a hash of a random
    /// secret made with the current parameters, and one per
    /// [legacy class](PasswordHelper::with_legacy_hash_classes)), and always fails.
    ///
    /// Used when a login names an unknown email, so the response costs what a wrong password
    /// for an existing account costs ([`PasswordHelper::verify_padded`]) and timing does not
    /// reveal which emails exist.
    pub async fn verify_dummy(&self, password: &str) -> Result<Verification, PasswordError> {
        for dummy in self.dummies().await? {
            self.verify(password, &dummy).await?;
        }
        Ok(Verification::Invalid)
    }

    /// [`PasswordHelper::verify`], plus one dummy verification for every declared class the
    /// stored hash does not belong to, so every login costs the same whatever the class of
    /// the user's hash (and the same as [`PasswordHelper::verify_dummy`]). Without legacy
    /// classes this is exactly one verification.
    pub async fn verify_padded(
        &self,
        password: &str,
        hash: &str,
    ) -> Result<Verification, PasswordError> {
        let result = self.verify(password, hash).await?;
        if self.legacy.is_empty() {
            return Ok(result);
        }
        let own = class_key(hash);
        let mut padded_own = false;
        for dummy in self.dummies().await? {
            // One dummy of the user's own class is skipped: the real verification was it.
            if !padded_own && class_key(&dummy) == own {
                padded_own = true;
                continue;
            }
            self.verify(password, &dummy).await?;
        }
        Ok(result)
    }

    /// A random, URL-safe secret of 43 characters (256 bits), e.g. the unusable password of
    /// users created through OAuth.
    pub fn generate() -> String {
        generate_secret()
    }
}

/// A family of stored password hashes that cost the same to verify: an algorithm with its
/// parameters (see [`PasswordHelper::with_legacy_hash_classes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashClass {
    /// argon2id with memory `m` KiB, `t` iterations and `p` lanes.
    Argon2id {
        /// Memory cost in KiB.
        m: u32,
        /// Iterations.
        t: u32,
        /// Lanes.
        p: u32,
    },
    /// bcrypt (`$2b$`) with this cost.
    Bcrypt {
        /// The cost (log2 of the rounds).
        cost: u32,
    },
}

impl HashClass {
    /// FastAPI Users' pwdlib default: argon2id `m = 65536, t = 3, p = 4`.
    pub const PWDLIB_ARGON2: Self = Self::Argon2id {
        m: 65_536,
        t: 3,
        p: 4,
    };
    /// passlib / pwdlib bcrypt at cost 12 (older FastAPI Users versions).
    pub const BCRYPT_12: Self = Self::Bcrypt { cost: 12 };
    /// What a database adopted from FastAPI Users may hold: both of the above.
    pub const FASTAPI_USERS: [Self; 2] = [Self::PWDLIB_ARGON2, Self::BCRYPT_12];

    /// A hash of `secret` in this class.
    fn hash(self, secret: &str) -> Result<String, PasswordError> {
        match self {
            Self::Argon2id { m, t, p } => Argon2Hasher::new(m, t, p)?.hash(secret),
            Self::Bcrypt { cost } => {
                bcrypt::hash(secret, cost).map_err(|e| PasswordError::Hash(Box::new(e)))
            }
        }
    }
}

/// What identifies a stored hash's class: the PHC string up to the salt (`$argon2id$v=19$
/// m=65536,t=3,p=4`), or bcrypt's cost (`$2$12`, whatever the `$2a$`/`$2b$`/`$2y$` prefix).
pub fn class_key(hash: &str) -> String {
    let parts: Vec<&str> = hash.split('$').collect();
    if hash.starts_with("$2") && parts.len() > 2 {
        return format!("$2${}", parts[2]);
    }
    if hash.starts_with("$argon2") && parts.len() > 3 {
        return parts[..4].join("$");
    }
    String::from("?")
}

fn generate_secret() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests;
