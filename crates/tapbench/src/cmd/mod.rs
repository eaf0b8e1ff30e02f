//! One module per command: each reads its arguments, does its work through the library
//! modules (`run`, `report`, `compare`, `gate`, ...) and says how it ended; `main` maps
//! that to an exit code.

pub mod compare;
pub mod export;
pub mod gate;
pub mod list;
pub mod report;
pub mod run;
pub mod show;
pub mod sweep;

/// How a command ended, when it did not fail with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// It did what was asked.
    Success,
    /// A performance gate found a regression.
    Regressed,
    /// A performance gate found no regression but could not judge every cell.
    Inconclusive,
    /// Some cells of a run failed or timed out (their reasons are in the results file).
    CellsFailed,
    /// Ctrl-C stopped a run; everything finished is saved.
    Interrupted,
}
