//! `fault`: workloads that misbehave on purpose, so the harness's robustness can be tested:
//! one hangs its task, one blocks its worker thread forever, one panics, one returns a wrong
//! answer. They are not in the catalogue; `tapbench` offers them only when the environment
//! variable [`FAULTS_SWITCH`] is `1` (a test-only switch).

use std::time::Duration;

use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use crate::runtime::Runtime;
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};

/// The environment variable that makes `tapbench` offer the `fault` workload.
pub const FAULTS_SWITCH: &str = "TAPBENCH_TEST_FAULTS";

/// The spec (outside the catalogue).
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "fault",
    tap: "(robustness tests)",
    op_unit: "one misbehaving iteration",
    variants: &[
        VariantSpec {
            id: "hang",
            doc: "awaits a future that never completes",
            native: false,
        },
        VariantSpec {
            id: "hang_blocking",
            doc: "blocks its worker thread forever (a hung runtime)",
            native: false,
        },
        VariantSpec {
            id: "panic",
            doc: "panics in the measured loop",
            native: false,
        },
        VariantSpec {
            id: "wrong_answer",
            doc: "runs, but its answer fails the check",
            native: false,
        },
    ],
    params: &[],
    cases: || {
        super::grid(
            "fault",
            &["hang", "hang_blocking", "panic", "wrong_answer"],
            &[],
        )
    },
    memory_bytes: |_| 0,
    normalize: |_| {},
    views: &[],
};

/// What the fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Hang,
    HangBlocking,
    Panic,
    WrongAnswer,
}

struct FaultBench(Fault);

impl BatchRunner for FaultBench {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        1
    }

    fn run_batch(&mut self, _iters: u64) -> BatchFuture<'_, Violation> {
        let fault = self.0;
        Box::pin(async move {
            match fault {
                Fault::Hang => std::future::pending::<()>().await,
                Fault::HangBlocking => loop {
                    std::thread::sleep(Duration::from_secs(3600));
                },
                Fault::Panic => panic!("the fault/panic workload panicked on purpose"),
                Fault::WrongAnswer => {}
            }
            Ok(())
        })
    }

    fn check_batch(&mut self, _iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        Err(Violation::new("fault/wrong_answer's sum", 42, 41))
    }
}

pub(crate) fn build<R: Runtime>(_rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    let fault = match case.variant.as_str() {
        "hang" => Fault::Hang,
        "hang_blocking" => Fault::HangBlocking,
        "panic" => Fault::Panic,
        "wrong_answer" => Fault::WrongAnswer,
        other => return Err(BuildError::Unsupported(format!("fault/{other}"))),
    };
    Ok(Box::new(FaultBench(fault)))
}
