//! `tapbench run`: plan the cells, run each in its own process, rewrite the results file
//! after every cell, and print a short table.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::RunArgs;
use crate::plan::{self, PlannedCell, Selection};
use crate::results::{CellResult, ResultsFile, Status, SCHEMA_VERSION};
use crate::runner::CellLauncher;
use crate::{env, store, table};

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Where the results are.
    pub path: PathBuf,
    /// Cells that ended `failed` or `timeout`.
    pub failed: usize,
}

/// Runs the cells selected by `args`.
///
/// # Errors
///
/// Bad input (unknown ids, invalid parameters, an unwritable output path) before anything
/// runs, or a results file that can no longer be written.
pub fn run(args: RunArgs) -> Result<RunSummary> {
    let threads = args
        .threads
        .map(usize::from)
        .unwrap_or_else(env::logical_cpus);
    let selection = Selection {
        runtimes: args.runtime,
        workloads: args.workload,
        variants: args.variant,
        params: args.params,
        threads,
    };
    let cells = plan::plan(&selection)?;
    let now = SystemTime::now();
    let created_at = humantime::format_rfc3339_seconds(now).to_string();
    let path = args
        .out
        .unwrap_or_else(|| default_path(args.profile.as_str(), &created_at));
    store::check_writable(&path)?;

    let sampling = args.profile.sampling();
    let timeout = args
        .cell_timeout
        .map(Duration::from_secs)
        .unwrap_or_else(|| args.profile.cell_timeout());
    let launcher = CellLauncher::new(timeout)?;
    let mut results = ResultsFile {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at,
        profile: args.profile.as_str().to_string(),
        env: env::capture(threads),
        cells: Vec::with_capacity(cells.len()),
    };
    // A valid (empty) file from the start: an interrupted run always leaves one behind.
    store::write_results(&path, &results)?;

    let mut progress = Progress::new(cells.len(), &cells);
    for cell in &cells {
        progress.start(cell);
        let result = launcher.run(cell, sampling);
        progress.finish(&result);
        results.cells.push(result);
        store::write_results(&path, &results)?;
    }
    progress.done();

    print!("{}", table::render(&results.cells));
    let count = |s: Status| results.cells.iter().filter(|c| c.status == s).count();
    let failed = count(Status::Failed) + count(Status::Timeout);
    println!(
        "\n{} cells: {} ok, {} skipped, {} failed, {} timed out. Results: {}",
        results.cells.len(),
        count(Status::Ok),
        count(Status::Skipped),
        count(Status::Failed),
        count(Status::Timeout),
        path.display()
    );
    Ok(RunSummary { path, failed })
}

fn default_path(profile: &str, created_at: &str) -> PathBuf {
    let stamp: String = created_at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    PathBuf::from("results").join(format!("{profile}-{stamp}.json"))
}

/// Progress on stderr: a bar on a terminal, one plain line per cell otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    width: usize,
}

impl Progress {
    fn new(total: usize, cells: &[PlannedCell]) -> Self {
        let width = cells.iter().map(|c| c.id.len()).max().unwrap_or(10).min(80);
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30.cyan/blue} {pos}/{len} cells  {elapsed_precise} (eta {eta})  {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            total,
            done: 0,
            width,
        }
    }

    fn start(&mut self, cell: &PlannedCell) {
        if let Some(bar) = &self.bar {
            bar.set_message(cell.id.clone());
        }
    }

    fn finish(&mut self, result: &CellResult) {
        self.done += 1;
        let line = format!(
            "[{}/{}] {}  ({:.1} s)",
            self.done,
            self.total,
            table::line(result, self.width),
            result.wall_s
        );
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
