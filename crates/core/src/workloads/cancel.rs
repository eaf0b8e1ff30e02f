//! `cancel` (CancellationToken): a tree of tasks waiting on work is cancelled at its root,
//! and the operation lasts until every task has observed the cancel and stopped.
//!
//! The tree ([`Shape`]): the measured task spawns `width` tasks, and every task above the
//! last of `depth` levels spawns `width` more, so a tree has `width + width^2 + ... +
//! width^depth` tasks (10 for `width=10,depth=1`, 84 for `width=4,depth=3`). Each task waits
//! on its work, a 60 s sleep on the runtime's timer ([`WORK`]) that would mark the task's
//! work completed if it ever finished.
//!
//! One operation is: build the tree (spawn every task) and wait, yielding, until every
//! task is parked on its wait (its wait polled once and pending, so its timer and its token
//! are registered); then cancel at the root, and wait, yielding, until every task has
//! stopped (its future dropped). Building the tree is part of the operation and of its
//! time: handing every task a token, or keeping every task's handle, is part of what the
//! pattern costs, and so is the teardown. The latency histogram
//! isolates the propagation: one value per operation, from just before the cancel to the
//! moment the last task observed it (that task reads the clock).
//!
//! - `token` (native): every task races its work against its token and returns when it
//!   observes the cancel, after awaiting its children's handles ([`TokenTree`]); the root
//!   is cancelled through the family's signal ([`Signal`]: tokio-util's
//!   `CancellationToken` with a child token per task on tokio, the idiom each other family
//!   names in its native table).
//! - `drop_handles`: every task holds its children's join handles while it awaits its
//!   work; the measured task drops the first level's handles, and each cancelled task's
//!   drop drops its children's handles, level by level through the scheduler
//!   ([`DropHandles`]). A task observes the cancel when its future is dropped.
//!
//! Every task carries a [`TaskGuard`] reporting to the bench's [`Probe`]. After the clock
//! stops the check wants, per operation: every node of the tree parked once (a count and a
//! digest of node ids), no task stopped before the cancel, every task observed it (`token`:
//! all by their token, none dropped instead; `drop_handles`: all by their drop), no work
//! completed, and every task's future dropped (none leaked). A task that ignores its
//! token, one that completes its work after the cancel, a missing child, or children that
//! are dropped instead of observing their token fail the cell; the waits are bounded by
//! [`SETTLE_LIMIT`], after which the batch stops and the check reports what was missing.

pub mod async_channel;
pub mod probe;
pub mod tree;

pub use probe::{node_code, Probe, TaskGuard, TreeCounts};
pub use tree::{CancelTree, DropHandles, Shape, Signal, TokenRoot, TokenTree, MAX_TASKS, WORK};

use std::sync::Arc;
use std::time::{Duration, Instant};

use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use crate::drop_tally::SETTLE_LIMIT;
use crate::params::{ParamError, ParamKind, ParamSpec, ParamValue, Params};
use crate::runtime::Runtime;
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};

/// `width`: children of every node.
pub const PARAM_WIDTH: ParamSpec = ParamSpec {
    name: "width",
    doc: "children of every node: the measured task spawns width tasks, and each task above \
          the last level spawns width more",
    kind: ParamKind::Int { min: 1, max: 1000 },
};

/// `depth`: levels of tasks.
pub const PARAM_DEPTH: ParamSpec = ParamSpec {
    name: "depth",
    doc: "levels of tasks below the measured task: width + width^2 + ... + width^depth tasks \
          (at most 1000000)",
    kind: ParamKind::Int { min: 1, max: 20 },
};

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "cancel",
    tap: "CancellationToken (cancelling a tree of tasks)",
    op_unit: "one tree of tasks built and parked on its work, then cancelled at the root until \
              every task has observed it and stopped",
    variants: &[
        VariantSpec {
            id: "token",
            doc: "each task races its work against its token (futures::future::select) and \
                  returns when it observes the cancel, after awaiting its children; the root \
                  is cancelled with the family's signal (tokio: tokio-util CancellationToken, \
                  a child_token() per task). Time per op includes building the tree; the \
                  latency is from the cancel to the last task's observation. Allocates per \
                  op, besides the runtime's tasks and timers: 1 + (tasks above the last \
                  level) Vecs of child handles, and the signal's own (in the family's table)",
            native: true,
        },
        VariantSpec {
            id: "drop_handles",
            doc: "each task awaits its work holding its children's join handles; cancel \
                  drops the first level's handles, each cancelled task's drop drops its \
                  children's, level by level; a task observes the cancel when its future is \
                  dropped. Time per op includes building the tree; the latency is from the \
                  drop of the handles to the last task's drop. Allocates per op, besides the \
                  runtime's tasks and timers: 1 + (tasks above the last level) Vecs of child \
                  handles",
            native: false,
        },
    ],
    params: &[PARAM_WIDTH, PARAM_DEPTH],
    cases: || {
        let mut cases = Vec::new();
        for (width, depth) in [(10, 1), (4, 3)] {
            cases.extend(super::grid(
                "cancel",
                &["token", "drop_handles"],
                &[
                    ("width", &[ParamValue::Int(width)]),
                    ("depth", &[ParamValue::Int(depth)]),
                ],
            ));
        }
        cases
    },
    memory_bytes: |p| {
        let shape = Shape {
            width: p.int("width").unwrap_or(0),
            depth: p.int("depth").unwrap_or(0).min(64) as u32,
        };
        // A task, its timer and its token.
        shape.tasks().saturating_mul(2 * super::TASK_BYTES) + LATENCY_BYTES
    },
    normalize: |_| {},
    views: &[],
};

/// About what one [`LatencyRecorder`] holds (3 significant digits up to one minute).
const LATENCY_BYTES: u64 = 256 * 1024;

/// The tree shape a case's parameters describe.
///
/// # Errors
///
/// A missing or invalid parameter, or a tree of more than [`MAX_TASKS`] tasks.
pub fn shape_of(params: &Params) -> Result<Shape, BuildError> {
    let width = params.int("width")?;
    PARAM_WIDTH.check(&ParamValue::Int(width))?;
    let depth = params.int("depth")?;
    PARAM_DEPTH.check(&ParamValue::Int(depth))?;
    let shape = Shape {
        width,
        depth: depth as u32,
    };
    match shape.checked_tasks() {
        Some(tasks) if tasks <= MAX_TASKS => Ok(shape),
        _ => Err(BuildError::Param(ParamError::Invalid {
            name: "depth".into(),
            value: depth.to_string(),
            expected: format!(
                "a tree of at most {MAX_TASKS} tasks (width + ... + width^depth) with width \
                 {width}"
            ),
        })),
    }
}

/// The counts a tree cancelled `ops` times reaches when every operation is right.
pub fn expected_counts(shape: Shape, observes_token: bool, ops: u64) -> TreeCounts {
    let tasks = ops.saturating_mul(shape.tasks());
    let ids = (1..=shape.tasks()).fold(0u64, |d, id| d.wrapping_add(node_code(id)));
    TreeCounts {
        parked: tasks,
        ids: ids.wrapping_mul(ops),
        observed: tasks,
        by_token: if observes_token { tasks } else { 0 },
        early: 0,
        completed: 0,
        dropped: tasks,
    }
}

/// Checks the counts of `ops` operations on trees of `shape`.
///
/// # Errors
///
/// The first broken invariant: a task missing or never parked, a task stopped before the
/// cancel, a task that never observed it, work completed, a `token` task dropped instead of
/// observing its token (or a `drop_handles` task returning by itself), a task leaked.
pub fn check_counts(
    shape: Shape,
    observes_token: bool,
    ops: u64,
    seen: TreeCounts,
) -> Result<(), Violation> {
    let want = expected_counts(shape, observes_token, ops);
    Violation::check_eq(
        "cancel: every task of the tree is spawned and parked on its work before the cancel",
        want.parked,
        seen.parked,
    )?;
    Violation::check_eq(
        "cancel: every node of the tree is spawned once (digest of node ids)",
        want.ids,
        seen.ids,
    )?;
    Violation::check_eq(
        "cancel: no task stops before the cancel",
        want.early,
        seen.early,
    )?;
    Violation::check_eq(
        "cancel: every task observes the cancel",
        want.observed,
        seen.observed,
    )?;
    Violation::check_eq(
        "cancel: no task completes its work",
        want.completed,
        seen.completed,
    )?;
    let by_token = if observes_token {
        "cancel/token: every task returns by observing its token, none is dropped instead"
    } else {
        "cancel/drop_handles: every task is stopped by the drop of its handle"
    };
    Violation::check_eq(by_token, want.by_token, seen.by_token)?;
    Violation::check_eq(
        "cancel: every task's future is dropped by the end of its operation (none leaked)",
        want.dropped,
        seen.dropped,
    )
}

/// Waits, yielding to the runtime, until `done()` or `limit` has passed; whether `done()`.
async fn wait_until<R: Runtime>(rt: &R, limit: Duration, done: impl Fn() -> bool) -> bool {
    let mut start = None;
    loop {
        if done() {
            return true;
        }
        if start.get_or_insert_with(Instant::now).elapsed() >= limit {
            return false;
        }
        rt.yield_now().await;
    }
}

/// What a batch came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Operations started (the batch stops after one whose tree did not build or stop).
    pub ops: u64,
    /// The probe's counts at the end of the last operation.
    pub counts: TreeCounts,
    /// Propagation latencies recorded (one per operation whose every task observed).
    pub latencies: u64,
}

/// Runs `iters` operations of `imp` on trees of `shape`, recording each cancel's
/// propagation latency into `latency`; each wait is bounded by `limit`.
pub async fn run_ops<R: Runtime, C: CancelTree<R>>(
    rt: &R,
    imp: &C,
    shape: Shape,
    probe: &Arc<Probe>,
    iters: u64,
    limit: Duration,
    latency: &mut LatencyRecorder,
) -> Outcome {
    let tasks = shape.tasks();
    let mut out = Outcome::default();
    for _ in 0..iters {
        out.ops += 1;
        let (parked, dropped) = (probe.parked_tasks(), probe.dropped_tasks());
        let mut root = imp.build(rt, shape, probe);
        let built = wait_until(rt, limit, || probe.parked_tasks() >= parked + tasks).await;
        probe.arm(tasks);
        let cancelled_ns = probe.now_ns();
        imp.cancel(&mut root);
        let stopped = wait_until(rt, limit, || probe.dropped_tasks() >= dropped + tasks).await;
        probe.disarm();
        out.counts = probe.counts();
        if let Some(last_ns) = probe.last_observed_ns() {
            latency.record_ns(last_ns.saturating_sub(cancelled_ns));
            out.latencies += 1;
        }
        drop(root);
        if !(built && stopped) {
            // Whatever the drop of the root cancelled, let it go before the next batch.
            let parked = probe.parked_tasks();
            wait_until(rt, limit, || probe.dropped_tasks() >= parked).await;
            break;
        }
    }
    out
}

/// The measured form of a [`CancelTree`].
pub struct CancelBench<R, C> {
    rt: R,
    imp: C,
    shape: Shape,
    probe: Arc<Probe>,
    limit: Duration,
    latency: LatencyRecorder,
    outcome: Outcome,
}

impl<R: Runtime, C: CancelTree<R>> CancelBench<R, C> {
    /// A bench of `imp` on the tree the case's parameters describe.
    ///
    /// # Errors
    ///
    /// A missing or invalid parameter (see [`shape_of`]).
    pub fn new(rt: &R, imp: C, params: &Params) -> Result<Self, BuildError> {
        Ok(CancelBench {
            rt: rt.clone(),
            imp,
            shape: shape_of(params)?,
            probe: Arc::new(Probe::new()),
            limit: SETTLE_LIMIT,
            latency: LatencyRecorder::new(),
            outcome: Outcome::default(),
        })
    }

    /// The same bench, waiting at most `limit` for a tree to park or to stop (tests of
    /// broken trees shorten it).
    pub fn with_settle_limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }
}

/// The bench of `imp` for a case's parameters: what `drop_handles` and every family's
/// native `token` build.
///
/// # Errors
///
/// A missing or invalid parameter.
pub fn bench<R: Runtime, C: CancelTree<R>>(
    rt: &R,
    imp: C,
    params: &Params,
) -> Result<BoxBench, BuildError> {
    Ok(Box::new(CancelBench::new(rt, imp, params)?))
}

impl<R: Runtime, C: CancelTree<R>> BatchRunner for CancelBench<R, C> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        1
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            self.probe.reset();
            self.outcome = run_ops(
                &self.rt,
                &self.imp,
                self.shape,
                &self.probe,
                iters,
                self.limit,
                &mut self.latency,
            )
            .await;
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        let recorded = self.latency.clone();
        self.latency.reset();
        let out = self.outcome;
        check_counts(self.shape, C::OBSERVES_TOKEN, out.ops, out.counts)?;
        Violation::check_eq(
            "cancel: one propagation latency per operation",
            out.ops,
            out.latencies,
        )?;
        Violation::check_eq("cancel: every operation of the batch ran", iters, out.ops)?;
        Ok(Some(recorded))
    }
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    match case.variant.as_str() {
        "drop_handles" => bench(rt, DropHandles, &case.params),
        other => Err(BuildError::Unsupported(format!(
            "cancel/{other} is runtime-native"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(width: u64, depth: u64) -> Params {
        Params::from_pairs([
            ("width", ParamValue::Int(width)),
            ("depth", ParamValue::Int(depth)),
        ])
    }

    #[test]
    fn the_grid_is_two_trees_for_each_variant() {
        let cases = (SPEC.cases)();
        assert_eq!(cases.len(), 4);
        let tasks: Vec<u64> = cases
            .iter()
            .map(|c| shape_of(&c.params).map(|s| s.tasks()).unwrap_or(0))
            .collect();
        assert_eq!(tasks, [10, 10, 84, 84]);
        assert!(shape_of(&params(1000, 2)).is_err(), "a million and a thousand tasks");
        assert!(shape_of(&params(999, 2)).is_ok(), "999 + 999^2 tasks");
        assert!(shape_of(&params(0, 2)).is_err());
    }

    #[test]
    fn the_check_sees_every_kind_of_broken_tree() {
        let shape = Shape { width: 4, depth: 3 };
        for token in [true, false] {
            let want = expected_counts(shape, token, 5);
            assert_eq!(check_counts(shape, token, 5, want), Ok(()));
            let broken = [
                TreeCounts {
                    parked: want.parked - 1,
                    ..want
                },
                TreeCounts {
                    ids: want.ids.wrapping_sub(node_code(84)).wrapping_add(node_code(85)),
                    ..want
                },
                TreeCounts { early: 1, ..want },
                TreeCounts {
                    observed: want.observed - 1,
                    ..want
                },
                TreeCounts {
                    completed: 1,
                    ..want
                },
                TreeCounts {
                    by_token: if token { want.by_token - 1 } else { 1 },
                    ..want
                },
                TreeCounts {
                    dropped: want.dropped - 1,
                    ..want
                },
            ];
            for seen in broken {
                assert!(check_counts(shape, token, 5, seen).is_err(), "{seen:?}");
            }
        }
        // The variants differ in how their tasks stop.
        let dropped = expected_counts(shape, false, 5);
        assert!(check_counts(shape, true, 5, dropped).is_err());
    }
}
