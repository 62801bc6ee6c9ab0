//! In-memory implementations of every storage trait (feature `memory`).
//!
//! For tests, prototypes and single-process applications. They follow exactly the rules the
//! conformance suites check: case-insensitive unique emails, unique OAuth accounts, atomic
//! operations under concurrency. Clones share the same data.

mod tokens;
mod users;

pub use tokens::MemoryAccessTokenDatabase;
pub use users::{MemoryUserDatabase, MemoryUsers};

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, recovering the data if a panicking thread poisoned it (every critical section
/// here leaves the maps consistent before anything can panic).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}
