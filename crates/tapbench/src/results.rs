//! The results file: what a run measured, cell by cell (schema version [`SCHEMA_VERSION`]).
//!
//! Written by `tapbench run` (through [`crate::store`]), read by every other command.
//! Field names carry their units (`time_ns_per_op`, `bytes_per_op`); a cell that did not
//! measure anything (failed, timed out, skipped) has `null` measurements and an `error`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tapbench_core::Params;

/// The schema version this build writes.
///
/// Version 2 added each launch's machine-speed probe time (`probe_ns`) and the marginal
/// allocation count (`marginal_allocs_per_op`); both are optional, so version 1 files are
/// still read (without them). Version 3 added `interleaved`, which marks the two files of
/// one interleaved gate run; files without it were measured on their own. Version 4 added
/// `latency_histogram`, the HDR histogram of every launch merged, so that `latency_ns`
/// covers all launches; without it (older files) `latency_ns` is the first launch's.
/// Version 5 added `sweep`, which marks the file of a `tapbench sweep` (the parameter and
/// thread counts swept); in a sweep of thread counts the cells of multi-threaded runtimes
/// carry `/threads=N` at the end of their ids. Files without it are plain runs.
pub const SCHEMA_VERSION: u32 = 5;

/// The schema versions this build reads.
pub const READABLE_SCHEMA_VERSIONS: [u32; 5] = [1, 2, 3, 4, 5];

/// A whole results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultsFile {
    /// Always [`SCHEMA_VERSION`] when written by this build.
    pub schema_version: u32,
    /// Version of the tapbench that wrote the file.
    pub tool_version: String,
    /// When the run started (RFC 3339, UTC).
    pub created_at: String,
    /// Sampling profile (`smoke`, `quick`, `standard`).
    pub profile: String,
    /// The machine and build the run was measured on.
    pub env: Env,
    /// Processes each cell was asked to run in (`--launches`); a cell of an interrupted run
    /// may hold fewer, and `tapbench run --resume` completes them. Files without the field
    /// were measured with one launch per cell.
    #[serde(default = "one_launch")]
    pub launches: usize,
    /// A regression injected on purpose (`--inject-delay-ns`, `--inject-allocs`); absent in
    /// normal runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected: Option<Injected>,
    /// Set when this file is one side of an interleaved run (`gate --baseline-exe`): its
    /// launches ran in pairs with those of the other side's file, back to back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interleaved: Option<Interleaved>,
    /// Set when the file was written by `tapbench sweep`: what it swept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<Sweep>,
    /// One entry per cell, in plan order.
    pub cells: Vec<CellResult>,
}

fn one_launch() -> usize {
    1
}

impl ResultsFile {
    /// The header of a run this build starts now, with no cell yet.
    pub fn new(
        created_at: String,
        profile: &str,
        env: Env,
        launches: usize,
        injected: Option<Injected>,
    ) -> Self {
        ResultsFile {
            schema_version: SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at,
            profile: profile.to_string(),
            env,
            launches,
            injected,
            interleaved: None,
            sweep: None,
            cells: Vec::new(),
        }
    }
}

/// The machine and build a run was measured on, and what could have disturbed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Env {
    /// Operating system, distribution and kernel.
    pub os: String,
    /// CPU model name.
    pub cpu_model: String,
    /// Logical CPUs available to the process.
    pub logical_cpus: usize,
    /// Worker threads given to multi-threaded runtimes (`--threads`).
    pub threads: usize,
    /// `rustc --version` of the build.
    pub rustc: String,
    /// Git commit of the build, when known (`-dirty` when the tree had changes).
    pub git_commit: Option<String>,
    /// Versions of the runtime crates in the build (`tokio`, `smol`, ...).
    pub runtime_crates: BTreeMap<String, String>,
    /// 1, 5 and 15 minute load averages at the start of the run, when readable.
    pub load_average: Option<[f64; 3]>,
    /// CPU frequency governor, when readable.
    pub cpu_governor: Option<String>,
}

/// The p99 target of a capacity table when neither the results file nor the reader names
/// one, in milliseconds.
pub const DEFAULT_P99_TARGET_MS: f64 = 10.0;

impl ResultsFile {
    /// The p99 latency under which a request-driven cell sustains its offered rate, in
    /// nanoseconds: the one the sweep recorded (`tapbench sweep --p99-target-ms`), else
    /// [`DEFAULT_P99_TARGET_MS`].
    pub fn p99_target_ns(&self) -> f64 {
        self.sweep
            .as_ref()
            .and_then(|s| s.p99_target_ms)
            .unwrap_or(DEFAULT_P99_TARGET_MS)
            * 1e6
    }
}

/// What a `tapbench sweep` swept: one workload parameter over a list of values, worker
/// threads over a list of counts, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    /// The swept workload parameter (`n`), absent in a sweep of thread counts only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// Its values, in the order given (as in cell ids: `10`, `1000`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Worker threads of the multi-threaded runtimes, in the order given; empty when the
    /// threads were not swept (then `env.threads` applies). Single-threaded runtimes run
    /// once, with 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threads: Vec<usize>,
    /// The p99 latency a request-driven workload must stay under to sustain an offered
    /// rate, in milliseconds (`--p99-target-ms`; the capacity table's criterion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_target_ms: Option<f64>,
}

impl Sweep {
    /// The swept dimensions in words: "n over 10, 100, 1000; threads over 1, 2".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(param) = &self.param {
            parts.push(format!("{param} over {}", self.values.join(", ")));
        }
        if !self.threads.is_empty() {
            let threads: Vec<String> = self.threads.iter().map(usize::to_string).collect();
            parts.push(format!(
                "threads over {} (single-threaded runtimes once, with 1)",
                threads.join(", ")
            ));
        }
        parts.join("; ")
    }
}

/// One side of an interleaved run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interleaved {
    /// Identifies the run; both sides' files carry the same.
    pub run: String,
    /// Which side this file holds.
    pub side: Side,
    /// Whether each pair's two processes ran at once, taking turns sample by sample
    /// (`gate --lockstep`), rather than one after the other.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lockstep: bool,
}

/// The two sides of an interleaved run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Measured with the baseline's build (`--baseline-exe`).
    Baseline,
    /// Measured with this build.
    Current,
}

/// The regression injected into every operation of a calibration run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Injected {
    /// Busy-spin nanoseconds per operation (fractions allowed: the spin covers a batch).
    pub delay_ns_per_op: f64,
    /// Extra heap allocations per operation.
    pub allocs_per_op: u64,
}

impl Injected {
    /// What a results file records of `injection`: nothing when nothing is injected.
    pub fn of(injection: tapbench_measure::Injection) -> Option<Injected> {
        (!injection.is_none()).then_some(Injected {
            delay_ns_per_op: injection.delay_ns_per_op,
            allocs_per_op: injection.allocs_per_op,
        })
    }
}

/// How a cell ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Measured and verified.
    Ok,
    /// A violated invariant, a panic or a crash; `error` says which.
    Failed,
    /// Exceeded its time budget and was stopped.
    Timeout,
    /// The runtime cannot run this variant; `error` says why.
    Skipped,
}

impl Status {
    /// The lowercase name used in files and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Timeout => "timeout",
            Status::Skipped => "skipped",
        }
    }
}

/// Time per operation over the samples of a cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeNsPerOp {
    /// Median of the samples.
    pub median: f64,
    /// Lower bound of the distribution-free 95% interval of the median.
    pub ci95_low: f64,
    /// Upper bound of that interval.
    pub ci95_high: f64,
    /// Coverage the interval really has (below 0.95 with fewer than six samples).
    pub ci_coverage: f64,
    /// Coefficient of variation of the samples.
    pub cv: f64,
    /// Samples outside the Tukey fences (kept in `samples`).
    pub outliers: usize,
    /// Every sample, nanoseconds per operation, in the order taken (launch after launch).
    pub samples: Vec<f64>,
    /// The median of each launch, when the cell ran in several processes (`--launches`):
    /// what the gate compares, because runs of the same code differ more from process to
    /// process than from sample to sample.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub launch_medians: Vec<f64>,
    /// The median time of the machine-speed probe in each launch, nanoseconds, in launch
    /// order (one value for a cell measured in one process): how fast the machine ran while
    /// the launch was measured (see `tapbench_measure::probe`). Empty in files written
    /// before schema version 2.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probe_ns: Vec<f64>,
}

/// Latency percentiles of single operations, nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyNs {
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest.
    pub max: u64,
    /// Operations recorded.
    pub count: u64,
}

/// The load a request-driven cell offered and what its runtime achieved, over every launch
/// (see `tapbench_measure::LoadTally`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadResult {
    /// Requests issued at their intended start times whatever happened before (open loop),
    /// or by clients that each waited for an answer before the next request (closed loop:
    /// its latencies are measured from the actual send and miss a stall's queue).
    pub open_loop: bool,
    /// The rate the schedule asked for, requests per second.
    pub offered_per_s: f64,
    /// The rate at which the runtime started requests: intervals between request starts
    /// over their time, every launch pooled.
    pub achieved_per_s: Option<f64>,
    /// Requests issued.
    pub requests: u64,
    /// Requests answered in time.
    pub answered: u64,
    /// Requests answered with "timed out".
    pub timed_out: u64,
    /// Intervals between request starts (`requests - 1` per schedule).
    pub intervals: u64,
    /// Their nanoseconds.
    pub started_span_ns: u64,
    /// Each launch's own p99 latency, in launch order: what the gate pairs.
    pub launch_p99_ns: Vec<u64>,
}

impl LoadResult {
    /// The achieved rate as a share of the offered one.
    pub fn achieved_share(&self) -> Option<f64> {
        let achieved = self.achieved_per_s?;
        (self.offered_per_s > 0.0).then(|| achieved / self.offered_per_s)
    }

    /// The share of requests that timed out.
    pub fn timed_out_share(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.timed_out as f64 / self.requests as f64
        }
    }

    /// Two parts of a cell's launches together.
    pub fn merge(&self, more: &LoadResult) -> LoadResult {
        let intervals = self.intervals + more.intervals;
        let started_span_ns = self.started_span_ns + more.started_span_ns;
        LoadResult {
            open_loop: self.open_loop,
            offered_per_s: self.offered_per_s,
            achieved_per_s: (intervals > 0 && started_span_ns > 0)
                .then(|| intervals as f64 * 1e9 / started_span_ns as f64),
            requests: self.requests + more.requests,
            answered: self.answered + more.answered,
            timed_out: self.timed_out + more.timed_out,
            intervals,
            started_span_ns,
            launch_p99_ns: [self.launch_p99_ns.clone(), more.launch_p99_ns.clone()].concat(),
        }
    }
}

/// One cell: a workload variant with parameters, on one runtime configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellResult {
    /// `runtime/workload/variant/params`, unique in a file.
    pub id: String,
    /// Runtime configuration id.
    pub runtime: String,
    /// Workload id.
    pub workload: String,
    /// Variant id.
    pub variant: String,
    /// Parameters.
    pub params: Params,
    /// Worker threads of the runtime configuration.
    pub threads: usize,
    /// How the cell ended.
    pub status: Status,
    /// Why the cell did not end `ok`.
    pub error: Option<String>,
    /// Operations per sample.
    pub ops: Option<u64>,
    /// Time per operation.
    pub time_ns_per_op: Option<TimeNsPerOp>,
    /// Operations per second, from the median time per operation.
    pub throughput_ops_per_s: Option<f64>,
    /// Heap allocations per operation, all threads.
    pub allocs_per_op: Option<f64>,
    /// Bytes allocated per operation, all threads.
    pub bytes_per_op: Option<f64>,
    /// Allocations per operation of each sample (equal values: the workload allocates
    /// deterministically, and the gate compares its allocations exactly).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allocs_per_op_samples: Vec<f64>,
    /// Allocations one more operation adds (all threads): measured from batches of two
    /// sizes, so unlike `allocs_per_op` it does not move with the calibrated batch size
    /// (see `tapbench_measure::Measurement::marginal_allocs_per_op`). The mean over launches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marginal_allocs_per_op: Option<f64>,
    /// Per-operation latency percentiles, for workloads that have them: of every launch
    /// (from `latency_histogram`).
    pub latency_ns: Option<LatencyNs>,
    /// The latencies themselves: the HDR histogram of every launch merged, in HdrHistogram's
    /// V2 compressed format, base64 (see `tapbench_measure::LatencyRecorder::encode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_histogram: Option<String>,
    /// For request-driven workloads (`service`): the load offered and achieved, over every
    /// launch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadResult>,
    /// Whether the workload's answer was checked in the measured run.
    pub verified: bool,
    /// Wall-clock seconds the cell took, runtime start-up and warm-up included.
    pub wall_s: f64,
}
