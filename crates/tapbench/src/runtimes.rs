//! The runtime configurations this build knows, and dispatch of a cell to its family's crate.

use std::sync::OnceLock;

use tapbench_core::{Case, CellError, RuntimeInfo};
use tapbench_measure::{Measurement, SamplingPlan};

/// Every runtime configuration, in report order.
pub fn all() -> &'static [RuntimeInfo] {
    static ALL: OnceLock<Vec<RuntimeInfo>> = OnceLock::new();
    ALL.get_or_init(|| {
        tapbench_rt_tokio::RUNTIMES
            .iter()
            .chain(&tapbench_rt_smol::RUNTIMES)
            .copied()
            .collect()
    })
}

/// The configuration named `id`.
pub fn find(id: &str) -> Option<&'static RuntimeInfo> {
    all().iter().find(|r| r.id == id)
}

/// Runs one cell on the configuration `id` in this process.
///
/// # Errors
///
/// What the family's `run_cell` reports.
pub fn run_cell(
    id: &str,
    threads: usize,
    case: &Case,
    plan: SamplingPlan,
) -> Result<Measurement, CellError> {
    match find(id).map(|r| r.family) {
        Some("tokio") => tapbench_rt_tokio::run_cell(id, threads, case, plan),
        Some("smol") => tapbench_rt_smol::run_cell(id, threads, case, plan),
        _ => Err(CellError::Runtime(format!("unknown runtime `{id}`"))),
    }
}
