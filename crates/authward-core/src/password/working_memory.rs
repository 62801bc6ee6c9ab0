//! Allocating argon2 working memory so that freeing it gives it back to the kernel.
//!
//! Dropping a `Vec` returns its memory to the allocator, which may keep it. glibc's malloc
//! keeps it after the first login storm: freeing a block that was mmapped raises the mmap
//! threshold to that block's size (`mallopt(3)`, "dynamic mmap threshold"), so every later
//! argon2 buffer of that size comes from the hashing thread's arena, and an arena keeps a free
//! top smaller than its trim threshold (twice the mmap threshold). The process would stay at
//! its storm size for good, and the raised threshold would make the rest of the application
//! keep more of its freed memory too.
//!
//! The dynamic threshold never rises above `DEFAULT_MMAP_THRESHOLD_MAX`, 32 MiB on 64-bit
//! systems (`mallopt(3)`), and glibc serves a request above the threshold with a mapping of its
//! own, unmapped on `free` (unless the arena happens to hold a free block that large already).
//! So the working memory is reserved with a capacity just above 32 MiB: only the `m_cost` KiB
//! argon2 writes become resident, the rest is address space that is never touched, and
//! dropping the buffer unmaps all of it. It also leaves the threshold where it was. Other
//! allocators (musl, jemalloc, mimalloc) already give large blocks back on their own.

use std::collections::TryReserveError;

use argon2::Block;

/// The smallest capacity, in blocks, of a working-memory buffer: just above glibc's largest
/// mmap threshold (32 MiB on 64-bit systems), so the buffer always has a mapping of its own.
pub(crate) const MIN_CAPACITY_BLOCKS: usize = (32 << 20) / Block::SIZE + 1;

/// Makes `memory` hold at least `blocks` blocks, reusing its allocation when it is large
/// enough. A new allocation is never a copy of the old one: argon2 overwrites every block it
/// uses.
///
/// # Errors
/// When the memory cannot be had (a stored hash asking for terabytes, say): an error to
/// report, never an abort of the process.
pub(crate) fn ensure_blocks(memory: &mut Vec<Block>, blocks: usize) -> Result<(), TryReserveError> {
    if memory.len() >= blocks {
        return Ok(());
    }
    if memory.capacity() < blocks {
        // Drop the old buffer first, so the two are never resident together.
        *memory = Vec::new();
        memory.try_reserve_exact(blocks.max(MIN_CAPACITY_BLOCKS))?;
    }
    memory.resize(blocks, Block::default());
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reserved_above_the_mmap_threshold_and_reused() {
        let mut memory = Vec::new();
        ensure_blocks(&mut memory, 1024).unwrap();
        assert_eq!(memory.len(), 1024);
        assert!(memory.capacity() * Block::SIZE > 32 << 20);
        let first = memory.as_ptr();
        ensure_blocks(&mut memory, 512).unwrap();
        assert_eq!(memory.len(), 1024, "never shrinks while held");
        ensure_blocks(&mut memory, 4096).unwrap();
        assert_eq!(memory.len(), 4096);
        assert_eq!(memory.as_ptr(), first, "grown within its reservation");
        ensure_blocks(&mut memory, MIN_CAPACITY_BLOCKS + 10).unwrap();
        assert_eq!(memory.len(), MIN_CAPACITY_BLOCKS + 10);
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn memory_that_cannot_be_had_is_an_error() {
        let mut memory = Vec::new();
        ensure_blocks(&mut memory, 1024).unwrap();
        // 2^42 blocks of 1 KiB: 4 PiB, more than any machine can reserve.
        assert!(ensure_blocks(&mut memory, 1 << 42).is_err());
        assert!(
            memory.is_empty(),
            "the old buffer is given up, not kept beside"
        );
        ensure_blocks(&mut memory, 16).unwrap();
        assert_eq!(memory.len(), 16);
    }
}
