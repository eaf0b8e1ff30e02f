//! `tapbench run`: measure the selected cells, write the results file and its report.

use anyhow::Result;

use super::Done;
use crate::cli::RunArgs;
use crate::run;

/// Runs the selection (see [`run::run`]).
///
/// # Errors
///
/// Bad input before anything runs, or a results file that can no longer be written.
pub fn run(args: RunArgs) -> Result<Done> {
    let summary = run::run(args)?;
    Ok(if summary.interrupted {
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
    })
}
