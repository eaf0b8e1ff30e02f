//! `cancel` (CancellationToken) on every configuration: a tree cancelled at its root stops
//! every task, none completes its work, `token` tasks return by observing their token while
//! `drop_handles` tasks are dropped, one propagation latency is recorded per operation, and
//! trees that leak a task, complete work after the cancel, miss a child or let children be
//! dropped instead of observing are caught by the bench's own check.

use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::{select, Either};
use tapbench_conformance::{rt_test, run_case};
use tapbench_core::workloads::cancel::async_channel::ChannelSignal;
use tapbench_core::workloads::cancel::{
    expected_counts, run_ops, CancelBench, CancelTree, DropHandles, Probe, Shape, Signal,
    TaskGuard, TokenTree, WORK,
};
use tapbench_core::{Case, ParamValue, Params, RtOf, Runtime, Violation};
use tapbench_measure::{BatchRunner, LatencyRecorder};

/// The signal of the broken trees: the runtime-neutral shutdown channel.
type Source = <ChannelSignal as Signal>::Source;
type Token = <ChannelSignal as Signal>::Token;

/// How long a test waits for a tree that a broken implementation never parks or stops.
const SHORT_SETTLE: Duration = Duration::from_millis(300);

/// The trees every test cancels: one task, a flat fan-out, the grid's deep tree, a chain.
const SHAPES: [(u64, u32); 5] = [(1, 1), (10, 1), (4, 3), (2, 4), (1, 5)];

fn params(width: u64, depth: u32) -> Params {
    Params::from_pairs([
        ("width", ParamValue::Int(width)),
        ("depth", ParamValue::Int(u64::from(depth))),
    ])
}

fn case(variant: &str, width: u64, depth: u32) -> Case {
    Case::new("cancel", variant, params(width, depth))
}

/// Cancels `ops` trees of every shape with `imp` and asserts the counts and latencies.
async fn cancel_and_count<R: Runtime, C: CancelTree<R>>(rt: &R, imp: &C, name: &str, ops: u64) {
    for (width, depth) in SHAPES {
        let shape = Shape { width, depth };
        let probe = Arc::new(Probe::new());
        let mut latency = LatencyRecorder::new();
        let limit = tapbench_core::drop_tally::SETTLE_LIMIT;
        let out = run_ops(rt, imp, shape, &probe, ops, limit, &mut latency).await;
        let want = expected_counts(shape, C::OBSERVES_TOKEN, ops);
        let on = format!("{name} on {}, {shape:?}", rt.id());
        assert_eq!(out.ops, ops, "{on}");
        assert_eq!(out.counts, want, "{on}");
        assert_eq!(out.counts.completed, 0, "{on}: work completed");
        assert_eq!(latency.count(), ops, "{on}: one latency per operation");
        // The propagation is far shorter than the work it interrupts.
        let summary = latency.summary().expect("latencies were recorded");
        assert!(
            summary.max_ns < WORK.as_nanos() as u64 / 60,
            "{on}: {summary:?}"
        );
    }
}

/// What a broken tree gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// None: the tree is a correct `token` tree (the broken ones differ only by their
    /// fault).
    None,
    /// The last leaf waits on its work alone: the cancel never reaches it.
    IgnoresCancel,
    /// The last leaf observes the cancel, then does its work anyway.
    CompletesAfterCancel,
    /// The last leaf is never spawned.
    MissingChild,
    /// Leaves wait on their work alone, and parents return at the cancel without awaiting
    /// them: the leaves stop because their handles are dropped, not by a token.
    ParentsDoNotWait,
}

/// A `token` tree over [`ChannelSignal`] with one [`Fault`].
struct FaultyTree(Fault);

impl FaultyTree {
    fn spawns(&self, shape: Shape, id: u64) -> bool {
        !(self.0 == Fault::MissingChild && id == shape.tasks())
    }
}

impl<R: Runtime> CancelTree<R> for FaultyTree {
    const OBSERVES_TOKEN: bool = true;

    type Root = (Option<Source>, Vec<R::JoinHandle<()>>);

    fn build(&self, rt: &R, shape: Shape, probe: &Arc<Probe>) -> Self::Root {
        let source = ChannelSignal::source();
        let handles = shape
            .children(0, 0)
            .filter(|id| self.spawns(shape, *id))
            .map(|id| {
                spawn_faulty(
                    rt,
                    self.0,
                    shape,
                    id,
                    1,
                    ChannelSignal::token(&source),
                    probe,
                )
            })
            .collect();
        (Some(source), handles)
    }

    fn cancel(&self, root: &mut Self::Root) {
        if let Some(source) = root.0.take() {
            ChannelSignal::cancel(source);
        }
    }
}

fn spawn_faulty<R: Runtime>(
    rt: &R,
    fault: Fault,
    shape: Shape,
    id: u64,
    level: u32,
    token: Token,
    probe: &Arc<Probe>,
) -> R::JoinHandle<()> {
    let guard = TaskGuard::new(probe, id);
    rt.spawn(faulty_node(rt.clone(), fault, shape, level, token, guard))
}

async fn faulty_node<R: Runtime>(
    rt: R,
    fault: Fault,
    shape: Shape,
    level: u32,
    mut token: Token,
    mut guard: TaskGuard,
) {
    let last = guard.id() == shape.tasks();
    let children: Vec<R::JoinHandle<()>> = shape
        .children(guard.id(), level)
        .filter(|id| FaultyTree(fault).spawns(shape, *id))
        .map(|id| {
            spawn_faulty(
                &rt,
                fault,
                shape,
                id,
                level + 1,
                token.clone(),
                guard.probe(),
            )
        })
        .collect();
    let work = rt.sleep(WORK);
    let deaf = (fault == Fault::IgnoresCancel && last)
        || (fault == Fault::ParentsDoNotWait && level == shape.depth);
    if deaf {
        guard.park(work).await;
        guard.complete();
    } else {
        let cancelled = pin!(ChannelSignal::cancelled(&mut token));
        match guard.park(select(cancelled, pin!(work))).await {
            Either::Left(_) => guard.observe(),
            Either::Right(_) => guard.complete(),
        }
        if fault == Fault::CompletesAfterCancel && last {
            rt.yield_now().await;
            guard.complete();
        }
    }
    if fault != Fault::ParentsDoNotWait {
        for child in children {
            child.await;
        }
    }
    drop(guard);
}

/// A `drop_handles` tree whose tasks are spawned detached: dropping the root cancels
/// nothing, and every task leaks.
struct DetachedTree;

impl<R: Runtime> CancelTree<R> for DetachedTree {
    const OBSERVES_TOKEN: bool = false;

    type Root = ();

    fn build(&self, rt: &R, shape: Shape, probe: &Arc<Probe>) {
        for id in shape.children(0, 0) {
            spawn_detached_node(rt, shape, id, 1, probe);
        }
    }

    fn cancel(&self, _root: &mut ()) {}
}

fn spawn_detached_node<R: Runtime>(rt: &R, shape: Shape, id: u64, level: u32, probe: &Arc<Probe>) {
    let guard = TaskGuard::new(probe, id);
    rt.spawn_detached(detached_node(rt.clone(), shape, level, guard));
}

async fn detached_node<R: Runtime>(rt: R, shape: Shape, level: u32, mut guard: TaskGuard) {
    for id in shape.children(guard.id(), level) {
        spawn_detached_node(&rt, shape, id, level + 1, guard.probe());
    }
    guard.park(rt.sleep(WORK)).await;
    guard.complete();
}

/// Runs a batch of 3 operations of `imp` on a tree of `width` x `depth` through the bench,
/// and returns its check's verdict.
async fn verdict<R: Runtime, C: CancelTree<R>>(
    rt: &R,
    imp: C,
    width: u64,
    depth: u32,
) -> Result<(), Violation> {
    let mut bench = CancelBench::new(rt, imp, &params(width, depth))
        .expect("valid parameters")
        .with_settle_limit(SHORT_SETTLE);
    bench.run_batch(3).await?;
    let latency = bench.check_batch(3)?;
    assert_eq!(latency.map(|l| l.count()), Some(3));
    Ok(())
}

rt_test! {
    /// `token` over a signal and `drop_handles`: every task of every tree parks, observes
    /// the cancel (by its token, or by its drop) and stops; no work completes; one latency
    /// per operation, far below the work's length.
    async fn a_cancelled_tree_stops_every_task(rt) {
        cancel_and_count(&rt, &TokenTree::<ChannelSignal>::new(), "token/channel", 4).await;
        cancel_and_count(&rt, &DropHandles, "drop_handles", 4).await;
    }

    /// Both variants of the catalogue - `token` built from the family's native table - run
    /// and pass their check on every tree.
    async fn both_variants_pass_their_check(rt) {
        let native = tapbench_core::native::find(RtOf::<Cfg>::natives(), "cancel", "token")
            .expect("every family declares cancel/token")
            .info();
        assert!(native.provided.is_ok(), "{}: {native:?}", Cfg::INFO.id);
        for variant in ["token", "drop_handles"] {
            for (width, depth) in SHAPES {
                let outcome = run_case(&rt, &case(variant, width, depth), 4).await;
                assert!(outcome.is_ok(), "{variant} {width}x{depth} on {}: {outcome:?}", Cfg::INFO.id);
            }
        }
    }

    /// The operation really waits for the tree: building it parks every task before the
    /// cancel, and a batch of operations ends long before one task's work would have.
    async fn the_tree_is_parked_before_the_cancel(rt) {
        let start = Instant::now();
        assert_eq!(verdict(&rt, TokenTree::<ChannelSignal>::new(), 4, 3).await, Ok(()));
        assert_eq!(verdict(&rt, DropHandles, 4, 3).await, Ok(()));
        assert_eq!(verdict(&rt, FaultyTree(Fault::None), 4, 3).await, Ok(()));
        assert!(start.elapsed() < WORK / 6, "{:?}", start.elapsed());
    }

    /// A task that ignores the cancel leaks: its tree never stops, and the check says so.
    async fn a_task_ignoring_the_cancel_is_caught(rt) {
        for (width, depth) in [(10, 1), (4, 3)] {
            let leak = verdict(&rt, FaultyTree(Fault::IgnoresCancel), width, depth).await.unwrap_err();
            assert!(leak.what.contains("every task observes the cancel"), "{leak}");
        }
        let detached = verdict(&rt, DetachedTree, 4, 2).await.unwrap_err();
        assert!(detached.what.contains("every task observes the cancel"), "{detached}");
    }

    /// A task that completes its work after it observed the cancel fails the check.
    async fn work_completed_after_the_cancel_is_caught(rt) {
        let late = verdict(&rt, FaultyTree(Fault::CompletesAfterCancel), 4, 3).await.unwrap_err();
        assert!(late.what.contains("no task completes its work"), "{late}");
    }

    /// A tree with a child missing never parks every task: the check says so.
    async fn a_missing_child_is_caught(rt) {
        for (width, depth) in [(10, 1), (4, 3)] {
            let missing = verdict(&rt, FaultyTree(Fault::MissingChild), width, depth).await.unwrap_err();
            assert!(missing.what.contains("spawned and parked"), "{missing}");
        }
    }

    /// `token` tasks must stop by observing their token: leaves that are dropped with
    /// their parents' handles instead fail the check.
    async fn tasks_dropped_instead_of_observing_are_caught(rt) {
        let dropped = verdict(&rt, FaultyTree(Fault::ParentsDoNotWait), 4, 3).await.unwrap_err();
        assert!(dropped.what.contains("observing its token"), "{dropped}");
    }
}
