//! A counting global allocator whose counts cover every thread.
//!
//! Install it in a binary (or a test) with `#[global_allocator]`; every allocation made by
//! any thread - the measured task, runtime workers, blocking pools - is counted in one of a
//! fixed set of cache-padded shards; [`snapshot`] sums the shards.
//!
//! Counting must cost next to nothing, or it taxes runtimes in proportion to how much they
//! allocate (a lock-prefixed atomic add is a full barrier on x86: two per allocation made a
//! spawn on `futures::executor::ThreadPool`, four allocations, some 300 ns slower). So each
//! thread gets a shard of its own, which only it writes, with a plain load and store; once
//! every exclusive shard is taken, later threads share one overflow shard and add
//! atomically. A thread that ends keeps its shard (its counts stay in the total): each cell
//! runs in a process of its own, so the exclusive shards outnumber the threads of a cell.
//!
//! Counting rules (the same as valgrind's DHAT, so the two can be compared): every `alloc`,
//! `alloc_zeroed` and `realloc` counts as one allocation; the bytes counted are the requested
//! size (the new size for `realloc`). Deallocations are not counted.
//!
//! ```no_run
//! use tapbench_measure::alloc::{snapshot, CountingAlloc};
//!
//! #[global_allocator]
//! static ALLOC: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);
//!
//! let before = snapshot();
//! let v = vec![1u8; 100];
//! let after = snapshot();
//! assert_eq!(after.since(before).allocs, 1);
//! # drop(v);
//! ```

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Shards owned by one thread each; the last shard is the shared overflow.
const SHARDS: usize = 512;
const OVERFLOW: usize = SHARDS - 1;

#[repr(align(128))]
struct Shard {
    allocs: AtomicU64,
    bytes: AtomicU64,
}

impl Shard {
    const fn new() -> Self {
        Shard {
            allocs: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }
}

static COUNTERS: [Shard; SHARDS] = [const { Shard::new() }; SHARDS];
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // A `const` thread-local of a `Cell<usize>` has no destructor and never allocates, so it is
    // safe to touch from inside the global allocator.
    static SHARD_INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// This thread's shard index: an exclusive shard on first use while any is left, else
/// [`OVERFLOW`] (also during thread teardown, when the thread-local may be gone).
#[inline]
fn shard_index() -> usize {
    SHARD_INDEX
        .try_with(|cell| {
            let mut index = cell.get();
            if index == usize::MAX {
                index = NEXT_SHARD.fetch_add(1, Ordering::Relaxed).min(OVERFLOW);
                cell.set(index);
            }
            index
        })
        .unwrap_or(OVERFLOW)
}

#[inline]
fn count(bytes: usize) {
    let index = shard_index();
    let shard = &COUNTERS[index];
    if index == OVERFLOW {
        shard.allocs.fetch_add(1, Ordering::Relaxed);
        shard.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    } else {
        // Only this thread writes this shard, so a load and a store cannot lose an update;
        // readers see it once the runtime's own synchronisation (a task's completion, a
        // thread join) orders the write before their read.
        let allocs = shard.allocs.load(Ordering::Relaxed);
        shard
            .allocs
            .store(allocs.wrapping_add(1), Ordering::Relaxed);
        let total = shard.bytes.load(Ordering::Relaxed);
        shard
            .bytes
            .store(total.wrapping_add(bytes as u64), Ordering::Relaxed);
    }
}

/// A [`GlobalAlloc`] wrapper that counts allocations and bytes over all threads.
#[derive(Debug, Default)]
pub struct CountingAlloc<A> {
    inner: A,
}

impl<A> CountingAlloc<A> {
    /// Wraps `inner`, typically [`std::alloc::System`].
    pub const fn new(inner: A) -> Self {
        CountingAlloc { inner }
    }
}

// SAFETY: every method forwards to the wrapped allocator with the caller's arguments
// unchanged, so the wrapped allocator's guarantees carry over; the counting touches only
// atomics and a destructor-free thread-local, and never allocates.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract for `layout`.
        unsafe { self.inner.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract for `layout`.
        unsafe { self.inner.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was returned by this allocator (so by `inner`) with `layout`.
        unsafe { self.inner.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { self.inner.realloc(ptr, layout, new_size) }
    }
}

/// Process-wide allocation counters at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AllocSnapshot {
    /// Allocations (`alloc`, `alloc_zeroed` and `realloc` calls) so far.
    pub allocs: u64,
    /// Bytes requested by those allocations.
    pub bytes: u64,
}

impl AllocSnapshot {
    /// The counts between `earlier` and `self`.
    pub fn since(self, earlier: AllocSnapshot) -> AllocSnapshot {
        AllocSnapshot {
            allocs: self.allocs.wrapping_sub(earlier.allocs),
            bytes: self.bytes.wrapping_sub(earlier.bytes),
        }
    }
}

/// Sums the counters of every shard. All zero when [`CountingAlloc`] is not installed.
pub fn snapshot() -> AllocSnapshot {
    let mut total = AllocSnapshot::default();
    for shard in &COUNTERS {
        total.allocs = total
            .allocs
            .wrapping_add(shard.allocs.load(Ordering::Relaxed));
        total.bytes = total
            .bytes
            .wrapping_add(shard.bytes.load(Ordering::Relaxed));
    }
    total
}

/// Whether a [`CountingAlloc`] is installed as this process's global allocator.
///
/// Makes one small heap allocation and looks for it in the counters.
pub fn is_counting() -> bool {
    let before = snapshot();
    let probe = std::hint::black_box(Box::new(0xA110Cu64));
    let after = snapshot();
    drop(probe);
    after.since(before).allocs > 0
}
