//! Dedicated password-hashing threads, optionally at a lower CPU priority.
//!
//! Argon2 is CPU-bound by design. On tokio's blocking pool a login storm competes for the cores
//! on equal terms with the async workers serving every other request. A [`HashPool`] runs the
//! hashes on threads of its own whose scheduling priority ("nice" value, Linux) is lowered, so
//! when the CPU is contended the cheap authenticated requests win and logins queue; when it is
//! idle, hashes run at full speed.
//!
//! Why not rayon (or tokio's blocking pool): this pool needs what neither gives per thread —
//! a lowered priority (niceness) set on each of its own threads; a bound on concurrent hashes
//! (`PasswordHelper`'s semaphore permits, each held by its job until the work is done, so
//! memory stays capped); a handoff from async callers over a `flume` queue (several
//! consumers, a receive with a timeout); and thread-local argon2 working memory that a thread
//! releases after [`IDLE_RELEASE`] without jobs. rayon's pool would share its threads, at normal
//! priority, with whatever other CPU work the application gives it.

use std::time::Duration;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long a hashing thread keeps its argon2 working memory after its last job.
pub(crate) const IDLE_RELEASE: Duration = Duration::from_secs(5);

/// A fixed set of named threads taking jobs from one queue. The threads end when the last
/// handle is dropped. A thread idle for [`IDLE_RELEASE`] gives its argon2 working memory back,
/// so after a login storm the process returns to its idle size.
pub(crate) struct HashPool {
    sender: flume::Sender<Job>,
    niceness: i32,
    threads: usize,
}

impl std::fmt::Debug for HashPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashPool")
            .field("threads", &self.threads)
            .field("niceness", &self.niceness)
            .finish()
    }
}

impl HashPool {
    /// Starts `threads` threads (at least one) at `niceness` (0 = unchanged, 19 = lowest).
    pub(crate) fn start(threads: usize, niceness: i32) -> std::io::Result<Self> {
        Self::start_with_idle(threads, niceness, IDLE_RELEASE)
    }

    /// [`HashPool::start`] with another idle time before a thread releases its memory.
    pub(crate) fn start_with_idle(
        threads: usize,
        niceness: i32,
        idle: Duration,
    ) -> std::io::Result<Self> {
        let (sender, receiver) = flume::unbounded::<Job>();
        let threads = threads.max(1);
        for index in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("authward-hash-{index}"))
                .spawn(move || {
                    lower_priority(niceness);
                    loop {
                        match receiver.recv_timeout(idle) {
                            // A job that panics (a custom hasher's bug) loses its answer, so
                            // its caller gets `PasswordError::Task`; the thread lives on.
                            Ok(job) => {
                                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))
                                    .is_err()
                                {
                                    tracing::error!("a password-hashing job panicked");
                                }
                            }
                            Err(flume::RecvTimeoutError::Timeout) => {
                                super::argon2::release_thread_memory();
                            }
                            Err(flume::RecvTimeoutError::Disconnected) => break,
                        }
                    }
                })?;
        }
        Ok(Self {
            sender,
            niceness,
            threads,
        })
    }

    /// Queues a job; `false` when the pool's threads are gone.
    pub(crate) fn execute(&self, job: Job) -> bool {
        self.sender.send(job).is_ok()
    }
}

#[cfg(target_os = "linux")]
fn lower_priority(niceness: i32) {
    if niceness == 0 {
        return;
    }
    // On Linux, PRIO_PROCESS with a thread ID applies to that thread only.
    let tid = rustix::thread::gettid();
    if let Err(err) = rustix::process::setpriority_process(Some(tid), niceness) {
        tracing::warn!(error = %err, niceness, "could not lower the hashing thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority(niceness: i32) {
    if niceness != 0 {
        tracing::debug!(niceness, "thread priorities are only adjusted on Linux");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[test]
    fn runs_jobs_and_stops_with_its_handle() {
        let pool = HashPool::start(2, 0).unwrap();
        let (tx, rx) = mpsc::channel();
        for i in 0..10 {
            let tx = tx.clone();
            assert!(pool.execute(Box::new(move || tx.send(i * 2).unwrap())));
        }
        let mut got: Vec<i32> = rx.iter().take(10).collect();
        got.sort_unstable();
        assert_eq!(got, (0..10).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn an_idle_thread_gives_its_argon2_memory_back() {
        use crate::password::PasswordHasher as _;
        let pool = HashPool::start_with_idle(1, 0, Duration::from_millis(50)).unwrap();
        let (tx, rx) = mpsc::channel();
        let after_hash = tx.clone();
        pool.execute(Box::new(move || {
            let hasher = crate::password::Argon2Hasher::new(1024, 1, 1).unwrap();
            hasher.hash("pw").unwrap();
            after_hash
                .send(crate::password::argon2::thread_memory_bytes())
                .unwrap();
        }));
        assert_eq!(rx.recv().unwrap(), 1024 * 1024, "kept between jobs");
        std::thread::sleep(Duration::from_millis(200));
        pool.execute(Box::new(move || {
            tx.send(crate::password::argon2::thread_memory_bytes())
                .unwrap();
        }));
        assert_eq!(rx.recv().unwrap(), 0, "released once idle");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn threads_run_at_the_requested_niceness() {
        let pool = HashPool::start(1, 7).unwrap();
        let (tx, rx) = mpsc::channel();
        pool.execute(Box::new(move || {
            let nice = rustix::process::getpriority_process(Some(rustix::thread::gettid()));
            tx.send(nice.ok()).unwrap();
        }));
        assert_eq!(rx.recv().unwrap(), Some(7));
        let here = rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        assert_ne!(here, 7, "only the pool's threads are changed");
    }
}
