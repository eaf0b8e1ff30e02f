//! What the tasks of a cancelled tree report: a [`Probe`] shared by every task of a bench,
//! and a [`TaskGuard`] carried by each task, which counts when the task is parked on its
//! work, when it observes the cancel (by its token, or by being dropped while it waits), when
//! its work completes, and when its future is dropped. The task whose observation completes
//! an operation reads the clock: the end of the cancel's propagation.
//!
//! ```
//! use std::sync::Arc;
//! use tapbench_core::workloads::cancel::{Probe, TaskGuard};
//!
//! let probe = Arc::new(Probe::new());
//! probe.arm(2);
//! let mut by_token = TaskGuard::new(&probe, 1);
//! by_token.observe();
//! drop(by_token);
//! drop(TaskGuard::new(&probe, 2)); // dropped while waiting: observed by its drop
//! let counts = probe.counts();
//! assert_eq!((counts.observed, counts.by_token, counts.dropped), (2, 1, 2));
//! assert!(probe.last_observed_ns().is_some());
//! ```

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::seeded::{mix64, GOLDEN};

/// `last_ns` before the observation that completes the operation.
const NOT_YET: u64 = u64::MAX;

/// Counters shared by the tasks of one bench (an `Arc` cloned into every task; never a
/// global, so benches running side by side do not mix their counts).
#[derive(Debug)]
pub struct Probe {
    epoch: Instant,
    armed: AtomicBool,
    parked: AtomicU64,
    ids: AtomicU64,
    observed: AtomicU64,
    by_token: AtomicU64,
    early: AtomicU64,
    completed: AtomicU64,
    dropped: AtomicU64,
    target: AtomicU64,
    last_ns: AtomicU64,
}

/// What a [`Probe`] has counted so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TreeCounts {
    /// Tasks parked on their work (their wait polled once and pending).
    pub parked: u64,
    /// Sum of [`node_code`] of every parked task's node id.
    pub ids: u64,
    /// Tasks that observed the cancel: by their token, or by being dropped while waiting.
    pub observed: u64,
    /// Of those, tasks that observed it by their token and returned.
    pub by_token: u64,
    /// Observations made while no cancel was armed (a task stopped before the cancel).
    pub early: u64,
    /// Tasks whose work completed.
    pub completed: u64,
    /// Task futures dropped, whatever their end.
    pub dropped: u64,
}

impl Default for Probe {
    fn default() -> Self {
        Self::new()
    }
}

impl Probe {
    /// A probe with every count at zero, its clock's epoch now.
    pub fn new() -> Self {
        Probe {
            epoch: Instant::now(),
            armed: AtomicBool::new(false),
            parked: AtomicU64::new(0),
            ids: AtomicU64::new(0),
            observed: AtomicU64::new(0),
            by_token: AtomicU64::new(0),
            early: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            target: AtomicU64::new(0),
            last_ns: AtomicU64::new(NOT_YET),
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> TreeCounts {
        TreeCounts {
            parked: self.parked.load(Ordering::Acquire),
            ids: self.ids.load(Ordering::Acquire),
            observed: self.observed.load(Ordering::Acquire),
            by_token: self.by_token.load(Ordering::Acquire),
            early: self.early.load(Ordering::Acquire),
            completed: self.completed.load(Ordering::Acquire),
            dropped: self.dropped.load(Ordering::Acquire),
        }
    }

    /// Tasks parked so far (what [`TreeCounts::parked`] says, in one load).
    pub fn parked_tasks(&self) -> u64 {
        self.parked.load(Ordering::Acquire)
    }

    /// Task futures dropped so far (what [`TreeCounts::dropped`] says, in one load).
    pub fn dropped_tasks(&self) -> u64 {
        self.dropped.load(Ordering::Acquire)
    }

    /// Sets every count back to zero (between two batches, when no task is alive).
    pub fn reset(&self) {
        for counter in [
            &self.parked,
            &self.ids,
            &self.observed,
            &self.by_token,
            &self.early,
            &self.completed,
            &self.dropped,
            &self.target,
        ] {
            counter.store(0, Ordering::Release);
        }
        self.armed.store(false, Ordering::Release);
        self.last_ns.store(NOT_YET, Ordering::Release);
    }

    /// Arms a cancel of `tasks` tasks: the observation that brings the count of observed
    /// tasks `tasks` above what it is now reads the clock ([`Probe::last_observed_ns`]).
    /// Called by the canceller just before it cancels.
    pub fn arm(&self, tasks: u64) {
        let target = self.observed.load(Ordering::Acquire) + tasks;
        self.last_ns.store(NOT_YET, Ordering::Release);
        self.target.store(target, Ordering::Release);
        self.armed.store(true, Ordering::Release);
    }

    /// Ends the armed cancel: a task that stops from now on stopped early.
    pub fn disarm(&self) {
        self.armed.store(false, Ordering::Release);
    }

    /// Nanoseconds since the probe's epoch: the clock the tasks read.
    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// When (in [`Probe::now_ns`] time) the observation that completed the armed cancel was
    /// made, or `None` if it has not been made.
    pub fn last_observed_ns(&self) -> Option<u64> {
        let ns = self.last_ns.load(Ordering::Acquire);
        (ns != NOT_YET).then_some(ns)
    }

    fn parked(&self, id: u64) {
        self.ids.fetch_add(node_code(id), Ordering::AcqRel);
        self.parked.fetch_add(1, Ordering::AcqRel);
    }

    fn observe(&self, by_token: bool) {
        if !self.armed.load(Ordering::Acquire) {
            self.early.fetch_add(1, Ordering::AcqRel);
        }
        if by_token {
            self.by_token.fetch_add(1, Ordering::AcqRel);
        }
        let seen = self.observed.fetch_add(1, Ordering::AcqRel) + 1;
        if seen == self.target.load(Ordering::Acquire) {
            self.last_ns.store(self.now_ns(), Ordering::Release);
        }
    }
}

/// What a parked task's node id adds to [`TreeCounts::ids`]: spread over 64 bits, so a
/// node missing and another counted twice do not cancel out.
#[inline]
pub fn node_code(id: u64) -> u64 {
    mix64(id.wrapping_mul(GOLDEN) ^ 0x0C0A_4CE1)
}

/// Where a task is: waiting on its work, or past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Observed,
    Completed,
}

/// Carried by each task of a tree: reports to the bench's [`Probe`]. Dropped while the
/// task still waits, it counts as the task observing the cancel by its drop (the
/// `drop_handles` way).
#[derive(Debug)]
pub struct TaskGuard {
    probe: Arc<Probe>,
    id: u64,
    state: State,
}

impl TaskGuard {
    /// The guard of node `id` (clones the `Arc`: no allocation).
    pub fn new(probe: &Arc<Probe>, id: u64) -> Self {
        TaskGuard {
            probe: Arc::clone(probe),
            id,
            state: State::Waiting,
        }
    }

    /// The node id of its task.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The probe it reports to, for the guards of the task's children.
    pub fn probe(&self) -> &Arc<Probe> {
        &self.probe
    }

    /// Awaits `wait` (the task's work, raced or not with its token), counting the task as
    /// parked once the first poll of `wait` has returned `Pending`: from then on its work
    /// and its token have registered their wakers.
    pub async fn park<F: Future>(&self, wait: F) -> F::Output {
        let mut wait = pin!(wait);
        let mut parked = false;
        poll_fn(|cx| {
            let poll = wait.as_mut().poll(cx);
            if poll.is_pending() && !parked {
                parked = true;
                self.probe.parked(self.id);
            }
            poll
        })
        .await
    }

    /// The task has seen its token cancelled and returns.
    pub fn observe(&mut self) {
        if self.state == State::Waiting {
            self.state = State::Observed;
            self.probe.observe(true);
        }
    }

    /// The task's work completed (which no task of a cancelled tree may do).
    pub fn complete(&mut self) {
        if self.state == State::Waiting {
            self.state = State::Completed;
        }
        self.probe.completed.fetch_add(1, Ordering::AcqRel);
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if self.state == State::Waiting {
            self.probe.observe(false);
        }
        self.probe.dropped.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use std::task::Poll;

    use super::*;

    #[test]
    fn the_observation_that_completes_the_armed_cancel_reads_the_clock() {
        let probe = Arc::new(Probe::new());
        let mut guards: Vec<TaskGuard> = (1..=3).map(|id| TaskGuard::new(&probe, id)).collect();
        probe.arm(3);
        guards[0].observe();
        guards[0].observe();
        assert_eq!(probe.last_observed_ns(), None);
        guards[1].observe();
        assert_eq!(probe.last_observed_ns(), None);
        drop(guards.pop());
        assert!(probe.last_observed_ns().is_some());
        let counts = probe.counts();
        assert_eq!(
            (counts.observed, counts.by_token, counts.early, counts.dropped),
            (3, 2, 0, 1)
        );
        drop(guards);
        assert_eq!(probe.counts().dropped, 3);
        // A second cancel waits for three more observations.
        probe.disarm();
        let early = TaskGuard::new(&probe, 9);
        drop(early);
        probe.arm(1);
        assert_eq!(probe.last_observed_ns(), None);
        let counts = probe.counts();
        assert_eq!((counts.observed, counts.early), (4, 1));
        probe.reset();
        assert_eq!(probe.counts(), TreeCounts::default());
    }

    #[test]
    fn completed_work_is_counted_and_is_no_observation() {
        let probe = Arc::new(Probe::new());
        probe.arm(1);
        let mut guard = TaskGuard::new(&probe, 1);
        guard.complete();
        drop(guard);
        let counts = probe.counts();
        assert_eq!((counts.completed, counts.observed, counts.dropped), (1, 0, 1));
        let mut late = TaskGuard::new(&probe, 2);
        late.observe();
        late.complete();
        assert_eq!(probe.counts().completed, 2);
    }

    #[test]
    fn a_task_is_parked_once_its_wait_is_pending() {
        let probe = Arc::new(Probe::new());
        let guard = TaskGuard::new(&probe, 7);
        futures::executor::block_on(guard.park(std::future::ready(())));
        assert_eq!(probe.counts().parked, 0, "a ready wait never parked");
        let mut yielded = false;
        futures::executor::block_on(guard.park(poll_fn(|cx| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })));
        let counts = probe.counts();
        assert_eq!((counts.parked, counts.ids), (1, node_code(7)));
    }
}
