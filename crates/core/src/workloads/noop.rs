//! `noop`: the harness measuring itself. One operation is one trip around the timed loop with
//! nothing in it, so its time per operation is the floor under every other cell.

use std::hint::black_box;

use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use crate::runtime::Runtime;
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "noop",
    tap: "(harness overhead)",
    op_unit: "one empty loop iteration",
    variants: &[VariantSpec {
        id: "batch",
        doc: "an empty timed loop: the harness's own cost per operation",
        native: false,
    }],
    params: &[],
    cases: || vec![Case::new("noop", "batch", Default::default())],
    memory_bytes: |_| 0,
    normalize: |_| {},
    views: &[],
};

/// The empty loop, counting its iterations so that the check has something to verify.
#[derive(Debug, Default)]
pub struct Noop {
    count: u64,
}

impl BatchRunner for Noop {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        1
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            let mut count = 0u64;
            for i in 0..iters {
                black_box(i);
                count += 1;
            }
            self.count = count;
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        Violation::check_eq("noop iterations", iters, self.count)?;
        Ok(None)
    }
}

pub(crate) fn build<R: Runtime>(_rt: &R, _case: &Case) -> Result<BoxBench, BuildError> {
    Ok(Box::new(Noop::default()))
}
