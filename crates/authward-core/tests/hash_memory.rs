//! After a login storm the process shrinks back: the hashing threads' argon2 working memory
//! goes back to the kernel once they are idle, not only to the allocator.
//!
//! One test in its own binary (its own process), so that the resident size it reads is not
//! moved by other tests.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use authward_core::password::{Argon2Hasher, PasswordHelper};

const MIB: u64 = 1 << 20;

/// The process's resident set size, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_hashing_threads_give_their_memory_back_to_the_kernel() {
    // What the first storm does to glibc's malloc: a large block (mmapped) freed raises the
    // mmap threshold to its size, so later argon2 buffers of 24 MiB come from the hashing
    // thread's arena, which keeps them after `free`. Without this the test could pass on the
    // allocator's behaviour alone.
    let large = vec![1_u8; 30 * MIB as usize];
    std::hint::black_box(&large);
    drop(large);

    let helper =
        PasswordHelper::new(Argon2Hasher::new(24 * 1024, 1, 1).unwrap()).with_max_concurrency(1);
    let before = rss();
    let hash = helper.hash("correct horse").await.unwrap();
    assert!(
        helper
            .verify("correct horse", &hash)
            .await
            .unwrap()
            .is_valid()
    );
    let held = rss();
    assert!(
        held >= before + 20 * MIB,
        "the hashing thread keeps its 24 MiB between jobs: {} MiB -> {} MiB",
        before / MIB,
        held / MIB
    );
    // m_cost plus a small constant: the buffer's reservation (just over 32 MiB) is address
    // space, and only what argon2 writes becomes resident.
    assert!(
        held <= before + 30 * MIB,
        "at most m_cost (24 MiB) plus a small constant: {} MiB -> {} MiB",
        before / MIB,
        held / MIB
    );

    // The thread releases its memory after a few idle seconds; wait well past that.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut now = held;
    while now > before + 6 * MIB && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        now = rss();
    }
    assert!(
        now <= before + 6 * MIB,
        "idle: back near {} MiB, not {} MiB (held {} MiB)",
        before / MIB,
        now / MIB,
        held / MIB
    );
}
