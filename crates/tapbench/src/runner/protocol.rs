//! The process boundary between `tapbench run` and a cell's child process: the request
//! the parent writes on the child's stdin, the markers the child writes, and the cell
//! result it answers with (one JSON line of [`CellResult`] on stdout).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tapbench_core::Params;
use tapbench_measure::SamplingPlan;

use crate::plan::PlannedCell;
use crate::results::{CellResult, Status};

/// The hidden subcommand that runs one cell.
pub const CHILD_COMMAND: &str = "__cell";

/// Prefix of the line a child's panic hook writes to stderr.
pub const PANIC_MARK: &str = "tapbench-cell-panic: ";

/// The line a lock-step child writes on stdout when it waits for its turn.
pub const READY_LINE: &str = "tapbench-cell-ready";

/// One cell, as handed to a child process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellRequest {
    /// Cell id.
    pub id: String,
    /// Runtime configuration id.
    pub runtime: String,
    /// Worker threads.
    pub threads: usize,
    /// Workload id.
    pub workload: String,
    /// Variant id.
    pub variant: String,
    /// Parameters.
    pub params: Params,
    /// Warm-up, nanoseconds.
    pub warmup_ns: u64,
    /// Target sample length, nanoseconds.
    pub sample_target_ns: u64,
    /// Samples.
    pub samples: usize,
    /// Sampling budget, nanoseconds (`None`: no budget).
    pub max_sampling_ns: Option<u64>,
    /// Fewest samples.
    pub min_samples: usize,
    /// Busy-spin nanoseconds injected per operation (gate calibration).
    #[serde(default)]
    pub inject_delay_ns: f64,
    /// Allocations injected per operation (gate calibration).
    #[serde(default)]
    pub inject_allocs: u64,
}

impl CellRequest {
    /// The request for `cell` under `plan`.
    pub fn new(cell: &PlannedCell, plan: SamplingPlan) -> Self {
        CellRequest {
            id: cell.id.clone(),
            runtime: cell.runtime.to_string(),
            threads: cell.threads,
            workload: cell.case.workload.clone(),
            variant: cell.case.variant.clone(),
            params: cell.case.params.clone(),
            warmup_ns: plan.warmup.as_nanos() as u64,
            sample_target_ns: plan.sample_target.as_nanos() as u64,
            samples: plan.samples,
            max_sampling_ns: plan.max_sampling_time.map(|d| d.as_nanos() as u64),
            min_samples: plan.min_samples,
            inject_delay_ns: plan.inject.delay_ns_per_op,
            inject_allocs: plan.inject.allocs_per_op,
        }
    }

    /// The sampling plan the request carries.
    pub fn sampling(&self) -> SamplingPlan {
        SamplingPlan {
            warmup: Duration::from_nanos(self.warmup_ns),
            sample_target: Duration::from_nanos(self.sample_target_ns),
            samples: self.samples,
            max_sampling_time: self.max_sampling_ns.map(Duration::from_nanos),
            min_samples: self.min_samples,
            inject: tapbench_measure::Injection {
                delay_ns_per_op: self.inject_delay_ns,
                allocs_per_op: self.inject_allocs,
            },
        }
    }

    /// A result for the request's cell that measured nothing: `status` with `reason`.
    pub fn unmeasured(&self, status: Status, reason: String) -> CellResult {
        CellResult {
            id: self.id.clone(),
            runtime: self.runtime.clone(),
            workload: self.workload.clone(),
            variant: self.variant.clone(),
            params: self.params.clone(),
            threads: self.threads,
            status,
            error: Some(reason),
            ops: None,
            time_ns_per_op: None,
            throughput_ops_per_s: None,
            allocs_per_op: None,
            bytes_per_op: None,
            allocs_per_op_samples: Vec::new(),
            marginal_allocs_per_op: None,
            latency_ns: None,
            latency_histogram: None,
            load: None,
            verified: false,
            wall_s: 0.0,
        }
    }
}
