//! Running cells, each in a child process of its own (as BenchmarkDotNet does).
//!
//! The parent (`tapbench run`) starts `tapbench __cell` once per launch of a cell, hands it
//! the cell on stdin as JSON, and reads the cell's result from its stdout. The child builds
//! one runtime, measures one cell and exits, so one cell's allocations, heap and thread
//! pools never touch the next; a child that panics or crashes is recorded as `failed`, and
//! one that exceeds its time budget is killed and recorded as `timeout`, while the run goes
//! on. The split follows tango-bench's: [`protocol`] (what crosses the process boundary),
//! [`child`] (the child side), [`launcher`] (the parent side).

pub mod child;
pub mod launcher;
pub mod protocol;

pub use child::child_main;
pub use launcher::{run_lockstep, CellLauncher};
