//! Observable cancellation: a [`DropTally`] counts, for the futures that carry one of its
//! [`DropGuard`]s, how many finished their work, how many were dropped, and how many were
//! dropped before finishing (cancelled). A future that is neither finished nor dropped has
//! leaked.
//!
//! A tally is shared by the operations of one bench through an `Arc` (never a global, so
//! benches and tests running side by side do not mix their counts). A spawned task that is
//! aborted is dropped *later* by its runtime, so a bench waits with [`settle`] until every
//! drop it expects has happened before its batch ends.
//!
//! ```
//! use std::sync::Arc;
//! use tapbench_core::drop_tally::{DropGuard, DropTally};
//!
//! let tally = Arc::new(DropTally::default());
//! let mut done = DropGuard::new(&tally);
//! done.finish();
//! drop(done);
//! drop(DropGuard::new(&tally));
//! let counts = tally.counts();
//! assert_eq!((counts.finished, counts.dropped, counts.dropped_unfinished), (1, 2, 1));
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::runtime::Runtime;

/// Counters shared by the guards of one bench.
#[derive(Debug, Default)]
pub struct DropTally {
    finished: AtomicU64,
    dropped: AtomicU64,
    dropped_unfinished: AtomicU64,
}

/// What a [`DropTally`] has counted so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DropCounts {
    /// Guards marked finished (the guarded work completed).
    pub finished: u64,
    /// Guards dropped, finished or not.
    pub dropped: u64,
    /// Guards dropped before they were marked finished (the work was cancelled).
    pub dropped_unfinished: u64,
}

impl DropTally {
    /// The counts so far.
    pub fn counts(&self) -> DropCounts {
        DropCounts {
            finished: self.finished.load(Ordering::Acquire),
            dropped: self.dropped.load(Ordering::Acquire),
            dropped_unfinished: self.dropped_unfinished.load(Ordering::Acquire),
        }
    }

    /// Sets every count back to zero (between two batches, when no guard is alive).
    pub fn reset(&self) {
        self.finished.store(0, Ordering::Release);
        self.dropped.store(0, Ordering::Release);
        self.dropped_unfinished.store(0, Ordering::Release);
    }
}

/// Carried by a guarded future: counts in its tally when the work finishes and when the
/// guard is dropped.
#[derive(Debug)]
pub struct DropGuard {
    tally: Arc<DropTally>,
    finished: bool,
}

impl DropGuard {
    /// A guard counting in `tally` (clones the `Arc`: no allocation).
    pub fn new(tally: &Arc<DropTally>) -> Self {
        DropGuard {
            tally: Arc::clone(tally),
            finished: false,
        }
    }

    /// Marks the guarded work finished (counted once, however often it is called).
    pub fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            self.tally.finished.fetch_add(1, Ordering::AcqRel);
        }
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.tally.dropped_unfinished.fetch_add(1, Ordering::AcqRel);
        }
        self.tally.dropped.fetch_add(1, Ordering::AcqRel);
    }
}

/// How long a bench waits for the drops it expects: far above the microseconds a runtime
/// takes to drop an aborted task, so only a leak reaches it.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(5);

/// Waits, yielding to the runtime, until `tallies` together have counted at least
/// `dropped` drops or `limit` has passed, and returns the counts of each tally then.
///
/// Aborted tasks are dropped by their runtime after the abort; this is where a bench waits
/// for them (inside its batch: it is part of the cost of cancelling).
pub async fn settle<R: Runtime, const N: usize>(
    rt: &R,
    tallies: [&DropTally; N],
    dropped: u64,
    limit: Duration,
) -> [DropCounts; N] {
    let start = Instant::now();
    loop {
        let counts = tallies.map(DropTally::counts);
        let seen: u64 = counts.iter().map(|c| c.dropped).sum();
        if seen >= dropped || start.elapsed() >= limit {
            return counts;
        }
        rt.yield_now().await;
    }
}
