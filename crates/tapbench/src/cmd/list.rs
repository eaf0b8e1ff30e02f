//! `tapbench list`: the runtime configurations, workloads, variants and parameters.

use anyhow::Result;

use super::Done;
use crate::cli::ListFormat;
use crate::{list, output};

/// Prints the catalogue in `format`.
///
/// # Errors
///
/// Standard output cannot be written.
pub fn run(format: ListFormat) -> Result<Done> {
    match format {
        ListFormat::Text => output::print(&list::text())?,
        ListFormat::Json => output::print(&format!("{:#}\n", list::json()))?,
    }
    Ok(Done::Success)
}
