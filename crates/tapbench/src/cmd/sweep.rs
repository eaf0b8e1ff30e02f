//! `tapbench sweep`: measure cost along one parameter or along worker threads into one
//! results file, and render its report with the growth of every line.

use anyhow::Result;

use super::Done;
use crate::cli::SweepArgs;

/// Runs the sweep (see [`crate::sweep::sweep`]).
///
/// # Errors
///
/// Bad input before anything runs, or a results file that can no longer be written.
pub fn run(args: SweepArgs) -> Result<Done> {
    Ok(super::run::ended(&crate::sweep::sweep(args)?))
}
