//! `tapbench run`: plan the cells, run each in its own process, rewrite the results file
//! after every cell, and print a short table.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tapbench_core::workloads::fault::FAULTS_SWITCH;

use crate::cli::RunArgs;
use crate::plan::{self, PlannedCell, Profile, Selection};
use crate::results::{CellResult, Injected, ResultsFile, Status, SCHEMA_VERSION};
use crate::runner::CellLauncher;
use crate::{env, interrupt, store, table};

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Where the results are.
    pub path: PathBuf,
    /// Cells that ended `failed` or `timeout`.
    pub failed: usize,
    /// Whether Ctrl-C stopped the run before every cell had run.
    pub interrupted: bool,
}

/// Runs the cells selected by `args` (or, with `--resume`, those missing from the file).
///
/// # Errors
///
/// Bad input (unknown ids, invalid parameters, conflicting flags, an unreadable file to
/// resume, an unwritable output path) before anything runs, or a results file that can no
/// longer be written.
pub fn run(args: RunArgs) -> Result<RunSummary> {
    let resumed = match &args.resume {
        Some(path) => Some(store::read_results(path)?),
        None => None,
    };
    let profile = match (&resumed, args.profile) {
        (Some(file), given) => {
            let profile = Profile::from_name(&file.profile).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: cannot resume: unknown profile `{}`",
                    args.resume.as_deref().unwrap_or(Path::new("")).display(),
                    file.profile
                )
            })?;
            if let Some(given) = given.filter(|g| *g != profile) {
                bail!(
                    "conflicting flags: --profile {} but the file to resume was measured with \
                     the {} profile",
                    given.as_str(),
                    profile.as_str()
                );
            }
            profile
        }
        (None, given) => given.unwrap_or(Profile::Quick),
    };
    let threads = match (&resumed, args.threads.map(usize::from)) {
        (Some(file), Some(given)) if given != file.env.threads => bail!(
            "conflicting flags: --threads {given} but the file to resume was measured with {}",
            file.env.threads
        ),
        (Some(file), _) => file.env.threads,
        (None, given) => given.unwrap_or_else(env::logical_cpus),
    };
    let selection = Selection {
        runtimes: args.runtime,
        workloads: args.workload,
        variants: args.variant,
        params: args.params,
        threads,
        memory_limit: env::available_memory_bytes(),
        test_workloads: std::env::var(FAULTS_SWITCH).is_ok_and(|v| v == "1"),
    };
    let mut cells = plan::plan(&selection)?;

    let (path, mut results) = match resumed {
        Some(file) => {
            let path = args.resume.unwrap_or_default();
            let done: HashSet<&str> = file.cells.iter().map(|c| c.id.as_str()).collect();
            cells.retain(|c| !done.contains(c.id.as_str()));
            eprintln!(
                "resuming {}: {} cells already measured, {} to run",
                path.display(),
                file.cells.len(),
                cells.len()
            );
            (path, file)
        }
        None => {
            let created_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
            let path = args
                .out
                .unwrap_or_else(|| default_path(profile.as_str(), &created_at));
            let results = ResultsFile {
                schema_version: SCHEMA_VERSION,
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
                created_at,
                profile: profile.as_str().to_string(),
                env: env::capture(threads),
                injected: (args.inject_delay_ns > 0 || args.inject_allocs > 0).then_some(
                    Injected {
                        delay_ns_per_op: args.inject_delay_ns,
                        allocs_per_op: args.inject_allocs,
                    },
                ),
                cells: Vec::with_capacity(cells.len()),
            };
            (path, results)
        }
    };
    store::check_writable(&path)?;
    // A valid file from the start: an interrupted run always leaves one behind.
    store::write_results(&path, &results)?;

    let injection = tapbench_measure::Injection {
        delay_ns_per_op: args.inject_delay_ns,
        allocs_per_op: args.inject_allocs,
    };
    let recorded = (!injection.is_none()).then_some(Injected {
        delay_ns_per_op: injection.delay_ns_per_op,
        allocs_per_op: injection.allocs_per_op,
    });
    if results.injected != recorded {
        bail!("conflicting flags: the injected regression differs from the file being resumed");
    }
    let sampling = tapbench_measure::SamplingPlan {
        inject: injection,
        ..profile.sampling()
    };
    let timeout = args
        .cell_timeout
        .map(Duration::from_secs)
        .unwrap_or_else(|| profile.cell_timeout());
    let launcher = CellLauncher::new(timeout)?;
    interrupt::install()?;
    let mut progress = Progress::new(cells.len(), &cells);
    let mut interrupted = false;
    for cell in &cells {
        if interrupt::requested() {
            interrupted = true;
            break;
        }
        progress.start(cell);
        let Some(result) = launcher.run(cell, sampling) else {
            interrupted = true;
            break;
        };
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
    if !args.no_report && !results.cells.is_empty() {
        let dir = crate::report::default_dir(&path);
        let written =
            crate::report::write_reports(&results, crate::report::DEFAULT_BASELINE, &dir)?;
        println!(
            "Report: {}",
            written
                .first()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    if interrupted {
        eprintln!(
            "interrupted: {} finished cells are saved; complete the run with \
             `tapbench run --resume {}` (and the same selection flags)",
            results.cells.len(),
            path.display()
        );
    }
    Ok(RunSummary {
        path,
        failed,
        interrupted,
    })
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
