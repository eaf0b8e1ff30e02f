//! `tapbench compare BASE CURRENT`: every cell's verdict, as markdown, JSON or CSV.

use anyhow::Result;

use super::Done;
use crate::cli::{CompareArgs, CompareFormat};
use crate::{compare, output, store};

/// Compares the two files and prints the comparison.
///
/// # Errors
///
/// A file cannot be read, the files have no cell in common or measured a cell with other
/// parameters or threads; standard output cannot be written.
pub fn run(args: CompareArgs) -> Result<Done> {
    let base = store::read_results(&args.base)?;
    let current = store::read_results(&args.current)?;
    let cmp = compare::compare(&base, &current, args.judging.policy())?;
    let text = match args.format {
        CompareFormat::Markdown => compare::markdown(&cmp),
        CompareFormat::Json => serde_json::to_string_pretty(&cmp)? + "\n",
        CompareFormat::Csv => compare::csv(&cmp),
    };
    output::print(&text)?;
    Ok(Done::Success)
}
