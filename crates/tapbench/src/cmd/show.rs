//! `tapbench show FILE`: the table of a results file (reads the file only).

use std::path::Path;

use anyhow::Result;

use super::Done;
use crate::{output, store, table};

/// Prints the header line and the table of `file`.
///
/// # Errors
///
/// The file cannot be read or is not a results file; standard output cannot be written.
pub fn run(file: &Path) -> Result<Done> {
    let results = store::read_results(file)?;
    output::print(&format!(
        "{} profile, {} cells, tapbench {}, {}\n",
        results.profile,
        results.cells.len(),
        results.tool_version,
        results.created_at
    ))?;
    output::print(&table::render(&results.cells))?;
    Ok(Done::Success)
}
