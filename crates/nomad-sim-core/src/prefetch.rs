//! Cache prefetch hints, the workspace's only `unsafe` code: a hint that reads nothing.
//!
//! On a large cluster the records an event touches (its alloc, the alloc's job and node) are
//! cache misses. The engine knows its next events before it handles them, so it asks the
//! CPU to start loading their records early ([`crate::engine::Simulation`]'s
//! `prefetch_upcoming`). A prefetch never faults, never blocks and cannot change what the
//! program computes: it only moves cache lines, so results stay byte-identical with or
//! without it. On other architectures the hint does nothing.
#![allow(unsafe_code)]

/// Asks the CPU to bring every cache line of `value` into its caches, without waiting.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    prefetch_head(value, std::mem::size_of::<T>());
}

/// Asks the CPU to bring the cache lines of `value`'s first `bytes` bytes (at most its size)
/// into its caches, without waiting.
#[inline(always)]
pub(crate) fn prefetch_head<T>(value: &T, bytes: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        const LINE: usize = 64;
        let start = (value as *const T).cast::<i8>();
        let size = bytes.min(std::mem::size_of::<T>());
        let mut offset = 0;
        while offset < size {
            // SAFETY: `_mm_prefetch` is a hint: it does not read memory into the program,
            // cannot fault, and the address lies inside `value`. It is `unsafe` only because
            // of its `#[target_feature(enable = "sse")]`, and SSE is part of every x86_64 CPU.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset)) };
            offset += LINE;
        }
        if size > 0 {
            // The last line: bytes that do not start a line span one more line than their
            // size in lines, which the steps above may not reach.
            // SAFETY: as above; the address is the last byte asked for, inside `value`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(size - 1)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (value, bytes);
}
