//! `tapbench report`: render a results file as report.md, report.html and report.csv.

use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, Result};

use super::Done;
use crate::cli::ReportArgs;
use crate::{output, report, store};

/// Renders the reports of `--input` (default: the newest results file) and prints their
/// paths.
///
/// # Errors
///
/// No results file to render, an unreadable one, or a report that cannot be written.
pub fn run(args: ReportArgs) -> Result<Done> {
    let started = Instant::now();
    let input = match args.input {
        Some(input) => input,
        None => store::newest_results(Path::new("results"))?
            .ok_or_else(|| anyhow!("no results file in results/; give one with --input FILE"))?,
    };
    let results = store::read_results(&input)?;
    let out_dir = args.out_dir.unwrap_or_else(|| report::default_dir(&input));
    let written = report::write_reports(
        &results,
        &args.baseline_runtime,
        args.p99_target_ms,
        &out_dir,
    )?;
    let mut paths = String::new();
    for path in &written {
        paths.push_str(&format!("{}\n", path.display()));
    }
    output::print(&paths)?;
    eprintln!(
        "rendered {} reports of {} cells in {:.2} s",
        written.len(),
        results.cells.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(Done::Success)
}
