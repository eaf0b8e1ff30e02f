//! `value_task` (Task vs ValueTask, Task.FromResult): an async operation that completes
//! synchronously with probability `sync_ratio` and otherwise yields once before returning.
//!
//! One operation is one call. The variants differ only in how the call's future is held:
//! on the stack (`inline`, the ValueTask path), in a `Box` (`boxed`, the Task path), boxed
//! behind a trait object per call (`dyn_trait`, what `async-trait` generates), or as a
//! spawned task (`spawned`, `Task.Run`). Which calls are synchronous follows a fixed,
//! evenly spread sequence, so every variant makes the same calls and returns the same sum.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;

use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use crate::params::{ParamKind, ParamSpec, ParamValue, Params};
use crate::runtime::Runtime;
use crate::seeded::{Chance, GOLDEN};
use crate::spec::{
    Beside, BoxBench, BuildError, Case, PivotView, VariantSpec, View, Violation, WorkloadSpec,
};

/// `sync_ratio`: the share of calls that complete synchronously.
pub const PARAM_SYNC_RATIO: ParamSpec = ParamSpec {
    name: "sync_ratio",
    doc: "share of calls that complete synchronously (the rest yield once)",
    kind: ParamKind::Float { min: 0.0, max: 1.0 },
};

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "value_task",
    tap: "Task vs ValueTask, Task.FromResult",
    op_unit: "one async call",
    variants: &[
        VariantSpec {
            id: "inline",
            doc: "`impl Future` awaited in place, no allocation (ValueTask-style)",
            native: false,
        },
        VariantSpec {
            id: "boxed",
            doc: "`Pin<Box<dyn Future>>` per call (Task-style)",
            native: false,
        },
        VariantSpec {
            id: "dyn_trait",
            doc: "an async method behind a trait object, boxed per call as async-trait does",
            native: false,
        },
        VariantSpec {
            id: "spawned",
            doc: "each call is a spawned task",
            native: false,
        },
    ],
    params: &[PARAM_SYNC_RATIO],
    cases: || {
        let ratios: Vec<ParamValue> = [0.0, 0.5, 0.9, 1.0]
            .into_iter()
            .map(ParamValue::Float)
            .collect();
        super::grid(
            "value_task",
            &["inline", "boxed", "dyn_trait", "spawned"],
            &[("sync_ratio", &ratios)],
        )
    },
    memory_bytes: |_| super::TASK_BYTES,
    normalize: |_| {},
    views: &[View::Pivot(PivotView {
        param: "sync_ratio",
        contrast: &["inline", "boxed", "dyn_trait", "spawned"],
        title: "Task vs ValueTask",
        description: "Time and allocations per call of `value_task` against the share of calls \
                      that complete synchronously: `inline` is the ValueTask path (the future \
                      stays on the stack), `boxed` and `dyn_trait` the Task path (one heap \
                      object per call), `spawned` a task per call.",
        beside: &[Beside {
            workload: "cache",
            param: "lookups",
            value: "hit",
            contrast: &["ready_fast_path", "shared_future", "moka"],
            title: "The cache hit path",
            description: "Time and allocations per hit of `cache` with every key preloaded \
                          (`lookups=hit`; the other parameters as measured): \
                          `ready_fast_path` returns the stored value at its first poll (the \
                          ValueTask path, like `inline` at `sync_ratio=1`), `shared_future` \
                          awaits a clone of a stored shared future (the Task path: the \
                          seed's `Lazy<Task>`), `moka` is the library a Rust user reaches for.",
        }],
    })],
};

/// Decides which calls complete synchronously: call `i` is synchronous when the fractional
/// part of `i * phi` is below the ratio (a low-discrepancy sequence, so the synchronous calls
/// are spread evenly and their share converges quickly to the ratio).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncPattern(Chance);

impl SyncPattern {
    /// The pattern for `sync_ratio` in `0..=1`.
    pub fn new(sync_ratio: f64) -> Self {
        SyncPattern(Chance::new(sync_ratio))
    }

    /// Whether call `i` completes synchronously.
    #[inline]
    pub fn is_sync(&self, i: u64) -> bool {
        self.0.happens(i.wrapping_mul(GOLDEN))
    }
}

/// The value of call `i`.
#[inline]
pub fn call_value(i: u64) -> u64 {
    i ^ (i >> 3)
}

/// The sum of the values of calls `0..iters` (what every variant must return).
pub fn expected_sum(iters: u64) -> u64 {
    (0..iters).fold(0u64, |acc, i| acc.wrapping_add(call_value(i)))
}

/// The operation itself: returns at once for a synchronous call, else yields once first.
pub async fn call<R: Runtime>(rt: &R, pattern: SyncPattern, i: u64) -> u64 {
    if !pattern.is_sync(i) {
        rt.yield_now().await;
    }
    call_value(i)
}

/// The operation as a boxed future (what `Task<T>` costs: one heap object per call).
pub fn call_boxed<R: Runtime>(
    rt: &R,
    pattern: SyncPattern,
    i: u64,
) -> Pin<Box<dyn Future<Output = u64> + Send + '_>> {
    Box::pin(call(rt, pattern, i))
}

/// An async method behind a trait object, in the shape `async-trait` generates.
pub trait AsyncSource: Send + Sync {
    /// The value of call `i`.
    fn get(&self, i: u64) -> Pin<Box<dyn Future<Output = u64> + Send + '_>>;
}

/// The [`AsyncSource`] used by the `dyn_trait` variant.
#[derive(Debug, Clone)]
pub struct Source<R> {
    rt: R,
    pattern: SyncPattern,
}

impl<R: Runtime> AsyncSource for Source<R> {
    fn get(&self, i: u64) -> Pin<Box<dyn Future<Output = u64> + Send + '_>> {
        Box::pin(call(&self.rt, self.pattern, i))
    }
}

/// The variant being measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// In place, unboxed.
    Inline,
    /// One `Box` per call.
    Boxed,
    /// A boxed call through `&dyn AsyncSource`.
    DynTrait,
    /// A spawned task per call.
    Spawned,
}

/// Runs calls `0..iters` with `variant` and returns the sum of their values.
pub async fn run_calls<R: Runtime>(
    rt: &R,
    variant: Variant,
    pattern: SyncPattern,
    iters: u64,
) -> u64 {
    let mut sum = 0u64;
    match variant {
        Variant::Inline => {
            for i in 0..iters {
                sum = sum.wrapping_add(call(rt, pattern, black_box(i)).await);
            }
        }
        Variant::Boxed => {
            for i in 0..iters {
                sum = sum.wrapping_add(call_boxed(rt, pattern, black_box(i)).await);
            }
        }
        Variant::DynTrait => {
            let source = Source {
                rt: rt.clone(),
                pattern,
            };
            let source: &dyn AsyncSource = black_box(&source);
            for i in 0..iters {
                sum = sum.wrapping_add(source.get(black_box(i)).await);
            }
        }
        Variant::Spawned => {
            for i in 0..iters {
                let i = black_box(i);
                let wait = (!pattern.is_sync(i)).then(|| rt.yield_now());
                let task = rt.spawn(async move {
                    if let Some(wait) = wait {
                        wait.await;
                    }
                    call_value(i)
                });
                sum = sum.wrapping_add(task.await);
            }
        }
    }
    sum
}

/// The measured form of one variant.
pub struct ValueTaskBench<R> {
    rt: R,
    variant: Variant,
    pattern: SyncPattern,
    sum: u64,
}

impl<R: Runtime> BatchRunner for ValueTaskBench<R> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        1
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            self.sum = run_calls(&self.rt, self.variant, self.pattern, iters).await;
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        Violation::check_eq("value_task sum of results", expected_sum(iters), self.sum)?;
        Ok(None)
    }
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    let variant = match case.variant.as_str() {
        "inline" => Variant::Inline,
        "boxed" => Variant::Boxed,
        "dyn_trait" => Variant::DynTrait,
        "spawned" => Variant::Spawned,
        other => return Err(BuildError::Unsupported(format!("value_task/{other}"))),
    };
    Ok(Box::new(ValueTaskBench {
        rt: rt.clone(),
        variant,
        pattern: SyncPattern::new(params_ratio(&case.params)?),
        sum: 0,
    }))
}

fn params_ratio(params: &Params) -> Result<f64, BuildError> {
    Ok(params.float("sync_ratio")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_pattern_hits_its_ratio() {
        for ratio in [0.0, 0.5, 0.9, 1.0] {
            let p = SyncPattern::new(ratio);
            let sync = (0..10_000).filter(|i| p.is_sync(*i)).count() as f64 / 10_000.0;
            assert!((sync - ratio).abs() < 0.01, "ratio {ratio}: {sync}");
        }
        assert!((0..1000).all(|i| SyncPattern::new(1.0).is_sync(i)));
        assert!((0..1000).all(|i| !SyncPattern::new(0.0).is_sync(i)));
    }
}
