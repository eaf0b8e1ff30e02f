//! `tapbench export`: a results file for other tools (Bencher Metric Format).

use anyhow::Result;

use super::Done;
use crate::cli::{ExportArgs, ExportFormat};
use crate::{export, output, store};

/// Writes the export to `--out`, or to standard output.
///
/// # Errors
///
/// The input cannot be read or the output written.
pub fn run(args: ExportArgs) -> Result<Done> {
    let results = store::read_results(&args.input)?;
    let text = match args.format {
        ExportFormat::Bmf => serde_json::to_string_pretty(&export::bmf(&results))?,
    } + "\n";
    match &args.out {
        Some(path) => store::write_text(path, &text)?,
        None => output::print(&text)?,
    }
    Ok(Done::Success)
}
