//! `tapbench run`: measure the selected cells, write the results file and its report.

use anyhow::Result;

use super::Done;
use crate::cli::RunArgs;
use crate::run::{self, RunSummary};

/// Runs the selection (see [`run::run`]).
///
/// # Errors
///
/// Bad input before anything runs, or a results file that can no longer be written.
pub fn run(args: RunArgs) -> Result<Done> {
    Ok(ended(&run::run(args)?))
}

/// How a run (or a sweep) ended, saying where the reasons of failed cells are.
pub fn ended(summary: &RunSummary) -> Done {
    if summary.interrupted {
        Done::Interrupted
    } else if summary.failed > 0 {
        eprintln!(
            "error: {} cell(s) failed or timed out; their reasons are in {}",
            summary.failed,
            summary.path.display()
        );
        Done::CellsFailed
    } else {
        Done::Success
    }
}
