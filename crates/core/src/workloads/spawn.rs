//! `spawn` (Task.Run, child tasks, continuations, Parallel.Invoke): the cost of a task.
//!
//! One operation is one task: a batch iteration of `fan_out` or `chained` runs `n` tasks,
//! one of `tree` runs `2^(depth+1) - 1`, so the time per operation compares directly across
//! variants. `blocking` offloads a fixed CPU-bound computation to the runtime's blocking pool.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::channel::oneshot;
use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use crate::params::{ParamKind, ParamSpec, ParamValue, Params};
use crate::runtime::Runtime;
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};

/// `n`: tasks per iteration of `fan_out` and `chained`.
pub const PARAM_N: ParamSpec = ParamSpec {
    name: "n",
    doc: "tasks spawned per iteration (fan_out, chained)",
    kind: ParamKind::Int {
        min: 1,
        max: 4_294_967_295,
    },
};

/// `depth`: depth of the `tree` fork-join.
pub const PARAM_DEPTH: ParamSpec = ParamSpec {
    name: "depth",
    doc: "depth of the binary fork-join tree (tree): 2^(depth+1)-1 tasks",
    kind: ParamKind::Int { min: 1, max: 62 },
};

/// `work`: rounds of the CPU-bound computation of `blocking`.
pub const PARAM_WORK: ParamSpec = ParamSpec {
    name: "work",
    doc: "rounds of xorshift hashing done by each blocking call (blocking)",
    kind: ParamKind::Int {
        min: 1,
        max: 1_000_000_000_000,
    },
};

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "spawn",
    tap: "Task.Run, child tasks, ContinueWith, Parallel.Invoke",
    op_unit: "one task",
    variants: &[
        VariantSpec {
            id: "spawn_await",
            doc: "spawn one task, await it, repeat",
            native: false,
        },
        VariantSpec {
            id: "fan_out",
            doc: "spawn n tasks, then await them all",
            native: false,
        },
        VariantSpec {
            id: "chained",
            doc: "each task spawns the next, detached (continuations); the last one signals",
            native: false,
        },
        VariantSpec {
            id: "tree",
            doc: "recursive fork-join: every node spawns two children and awaits both",
            native: false,
        },
        VariantSpec {
            id: "blocking",
            doc: "CPU-bound work offloaded with spawn_blocking / unblock, then awaited",
            native: false,
        },
    ],
    params: &[PARAM_N, PARAM_DEPTH, PARAM_WORK],
    cases: || {
        let int = |v: u64| vec![ParamValue::Int(v)];
        let mut cases = super::grid("spawn", &["spawn_await"], &[]);
        cases.extend(super::grid(
            "spawn",
            &["fan_out", "chained"],
            &[("n", &int(1000))],
        ));
        cases.extend(super::grid("spawn", &["tree"], &[("depth", &int(10))]));
        cases.extend(super::grid("spawn", &["blocking"], &[("work", &int(1000))]));
        cases
    },
    memory_bytes: |p| {
        let fan_out = p.int("n").unwrap_or(0).saturating_mul(super::TASK_BYTES);
        let tree = p
            .int("depth")
            .map(|d| 2u64.checked_pow(d as u32 + 1).unwrap_or(u64::MAX))
            .unwrap_or(0)
            .saturating_mul(super::TASK_BYTES);
        fan_out.max(tree)
    },
    normalize: |_| {},
    views: &[],
};

/// The CPU-bound computation of `blocking`: `work` rounds of xorshift from `seed`.
pub fn cpu_work(seed: u64, work: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..work {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// Tasks in a tree of `depth`.
pub fn tree_tasks(depth: u32) -> u64 {
    (1u64 << (depth + 1)) - 1
}

/// A node of the fork-join tree: spawns two child nodes and resolves to the number of nodes
/// in its subtree. Written as a hand-made future so that recursion needs no boxing.
pub struct TreeNode<R: Runtime> {
    rt: R,
    depth: u32,
    children: Option<(R::JoinHandle<u64>, R::JoinHandle<u64>)>,
    left: Option<u64>,
}

impl<R: Runtime> TreeNode<R> {
    /// A node at `depth` (0 is a leaf).
    pub fn new(rt: R, depth: u32) -> Self {
        TreeNode {
            rt,
            depth,
            children: None,
            left: None,
        }
    }
}

impl<R: Runtime> Future for TreeNode<R> {
    type Output = u64;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        // Every field is Unpin (handles are Unpin by the `Runtime` contract).
        let this = self.get_mut();
        if this.depth == 0 {
            return Poll::Ready(1);
        }
        let (left, right) = this.children.get_or_insert_with(|| {
            let depth = this.depth - 1;
            (
                this.rt.spawn(TreeNode::new(this.rt.clone(), depth)),
                this.rt.spawn(TreeNode::new(this.rt.clone(), depth)),
            )
        });
        if this.left.is_none() {
            match Pin::new(left).poll(cx) {
                Poll::Ready(v) => this.left = Some(v),
                Poll::Pending => return Poll::Pending,
            }
        }
        match Pin::new(right).poll(cx) {
            Poll::Ready(v) => Poll::Ready(this.left.unwrap_or(0) + v + 1),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// One link of the `chained` variant: spawns the next link detached and completes; the last
/// link sends the number of links run.
pub struct ChainLink<R: Runtime> {
    rt: R,
    remaining: u64,
    count: u64,
    done: Option<oneshot::Sender<u64>>,
}

impl<R: Runtime> Future for ChainLink<R> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let count = this.count + 1;
        let done = this.done.take();
        if this.remaining <= 1 {
            if let Some(done) = done {
                // The receiver is gone only if the batch was abandoned; nothing to report to.
                let _ = done.send(count);
            }
        } else {
            this.rt.spawn_detached(ChainLink {
                rt: this.rt.clone(),
                remaining: this.remaining - 1,
                count,
                done,
            });
        }
        Poll::Ready(())
    }
}

/// Runs a chain of `n` tasks and returns how many ran.
pub async fn chain<R: Runtime>(rt: &R, n: u64) -> u64 {
    let (done, finished) = oneshot::channel();
    rt.spawn_detached(ChainLink {
        rt: rt.clone(),
        remaining: n,
        count: 0,
        done: Some(done),
    });
    finished.await.unwrap_or(0)
}

/// The variant being measured, with its parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Spawn one, await it.
    SpawnAwait,
    /// Spawn `n`, await all.
    FanOut(u64),
    /// A chain of `n` detached tasks.
    Chained(u64),
    /// A fork-join tree of this depth.
    Tree(u32),
    /// One blocking call of this much work.
    Blocking(u64),
}

impl Variant {
    /// Tasks per iteration.
    pub fn tasks_per_iter(self) -> u64 {
        match self {
            Variant::SpawnAwait | Variant::Blocking(_) => 1,
            Variant::FanOut(n) | Variant::Chained(n) => n,
            Variant::Tree(depth) => tree_tasks(depth),
        }
    }

    /// What one iteration returns when every task's value arrives.
    pub fn expected_per_iter(self, iter: u64) -> u64 {
        match self {
            Variant::SpawnAwait => iter,
            Variant::FanOut(n) => n * (n - 1) / 2,
            Variant::Chained(n) => n,
            Variant::Tree(depth) => tree_tasks(depth),
            Variant::Blocking(work) => cpu_work(iter, work),
        }
    }
}

/// Runs one iteration of `variant` and returns its value.
pub async fn run_once<R: Runtime>(rt: &R, variant: Variant, iter: u64) -> u64 {
    match variant {
        Variant::SpawnAwait => rt.spawn(async move { black_box(iter) }).await,
        Variant::FanOut(n) => {
            let handles: Vec<_> = (0..n)
                .map(|i| rt.spawn(async move { black_box(i) }))
                .collect();
            let mut sum = 0;
            for handle in handles {
                sum += handle.await;
            }
            sum
        }
        Variant::Chained(n) => chain(rt, n).await,
        Variant::Tree(depth) => TreeNode::new(rt.clone(), depth).await,
        Variant::Blocking(work) => rt.spawn_blocking(move || cpu_work(iter, work)).await,
    }
}

/// The measured form of one variant.
pub struct SpawnBench<R> {
    rt: R,
    variant: Variant,
    sum: u64,
}

impl<R: Runtime> SpawnBench<R> {
    /// A bench of `variant`.
    pub fn new(rt: &R, variant: Variant) -> Self {
        SpawnBench {
            rt: rt.clone(),
            variant,
            sum: 0,
        }
    }
}

impl<R: Runtime> BatchRunner for SpawnBench<R> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        self.variant.tasks_per_iter()
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            let mut sum = 0u64;
            for iter in 0..iters {
                sum = sum.wrapping_add(run_once(&self.rt, self.variant, iter).await);
            }
            self.sum = sum;
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        let expected = (0..iters).fold(0u64, |acc, i| {
            acc.wrapping_add(self.variant.expected_per_iter(i))
        });
        Violation::check_eq(
            "spawn: every task's value arrives (sum)",
            expected,
            self.sum,
        )?;
        Ok(None)
    }
}

/// The variant of a case.
///
/// # Errors
///
/// An unknown variant or a missing parameter.
pub fn variant_of(case: &Case) -> Result<Variant, BuildError> {
    let p: &Params = &case.params;
    Ok(match case.variant.as_str() {
        "spawn_await" => Variant::SpawnAwait,
        "fan_out" => Variant::FanOut(p.int("n")?),
        "chained" => Variant::Chained(p.int("n")?),
        "tree" => Variant::Tree(p.int("depth")? as u32),
        "blocking" => Variant::Blocking(p.int("work")?),
        other => return Err(BuildError::Unsupported(format!("spawn/{other}"))),
    })
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    Ok(Box::new(SpawnBench::new(rt, variant_of(case)?)))
}
