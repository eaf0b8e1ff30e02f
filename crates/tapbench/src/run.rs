//! `tapbench run`: plan the cells, check a run to resume against its file, measure every
//! launch of every cell in a process of its own (see [`crate::schedule`]), and print a
//! short table.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Result};
use tapbench_core::workloads::fault::FAULTS_SWITCH;

use crate::cli::RunArgs;
use crate::plan::{self, LaunchPlan, PlannedCell, Profile, Selection};
use crate::results::{Injected, ResultsFile, Status, Sweep};
use crate::schedule::measure_cells;
use crate::{env, output, store, table};

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
    run_planned(args, None, plan::plan)
}

/// Runs the cells `plan_cells` makes of the selection of `args` (or, with `--resume`, those
/// of them missing from the file) into one results file: `run`, and `sweep` (which plans
/// one selection per swept value and records `sweep` in the file).
///
/// # Errors
///
/// As [`run`]; and resuming a file that is not the same sweep.
pub fn run_planned(
    args: RunArgs,
    sweep: Option<Sweep>,
    plan_cells: impl FnOnce(&Selection) -> Result<Vec<PlannedCell>>,
) -> Result<RunSummary> {
    let command = if sweep.is_some() { "sweep" } else { "run" };
    let resumed = match &args.resume {
        Some(path) => Some(store::read_results(path)?),
        None => None,
    };
    if let Some(file) = &resumed {
        // Before the other flags: a sweep's --threads are not the file's `env.threads`.
        if file.sweep != sweep {
            let what = |s: &Option<Sweep>| {
                s.as_ref().map_or_else(
                    || "a plain run (no sweep)".to_string(),
                    |s| format!("a sweep of {}", s.describe()),
                )
            };
            bail!(
                "conflicting flags: {} holds {}, these flags ask for {}",
                args.resume.as_deref().unwrap_or(Path::new("")).display(),
                what(&file.sweep),
                what(&sweep)
            );
        }
    }
    let profile = match (&resumed, args.matrix.profile) {
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
    let launches = match (&resumed, args.matrix.launches.map(usize::from)) {
        (Some(file), Some(given)) if given != file.launches => bail!(
            "conflicting flags: --launches {given} but the file to resume was measured with {}",
            file.launches
        ),
        (Some(file), _) => file.launches,
        (None, given) => given.unwrap_or_else(|| profile.launches()),
    };
    let launch_plan = LaunchPlan {
        launches,
        budget: profile.launch_budget(),
    };
    let selection = Selection {
        runtimes: args.matrix.runtime,
        workloads: args.workload,
        variants: args.matrix.variant,
        params: args.params,
        threads,
        memory_limit: env::available_memory_bytes(),
        test_workloads: std::env::var(FAULTS_SWITCH).is_ok_and(|v| v == "1"),
    };
    let mut cells = plan_cells(&selection)?;
    let injection = tapbench_measure::Injection {
        delay_ns_per_op: args.inject_delay_ns,
        allocs_per_op: args.inject_allocs,
    };

    let (path, mut results) = match resumed {
        Some(file) => {
            let path = args.resume.unwrap_or_default();
            let complete = |c: &PlannedCell| {
                file.cells
                    .iter()
                    .find(|r| r.id == c.id)
                    .is_some_and(|r| !launch_plan.wants_more(Some(r)))
            };
            cells.retain(|c| !complete(c));
            eprintln!(
                "resuming {}: {} cells already measured, {} to run or to complete",
                path.display(),
                file.cells.len(),
                cells.len()
            );
            (path, file)
        }
        None => {
            let created_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
            let prefix = match &sweep {
                Some(s) => format!("sweep-{}", s.param.as_deref().unwrap_or("threads")),
                None => profile.as_str().to_string(),
            };
            let path = args
                .out
                .unwrap_or_else(|| store::default_path(&prefix, &created_at));
            let mut results = ResultsFile::new(
                created_at,
                profile.as_str(),
                env::capture(threads),
                launches,
                Injected::of(injection),
            );
            results.sweep = sweep;
            (path, results)
        }
    };
    store::check_writable(&path)?;
    // A valid file from the start: an interrupted run always leaves one behind.
    store::write_results(&path, &results)?;

    if results.injected != Injected::of(injection) {
        bail!("conflicting flags: the injected regression differs from the file being resumed");
    }
    let sampling = tapbench_measure::SamplingPlan {
        inject: injection,
        ..profile.sampling()
    };
    let timeout = args
        .matrix
        .cell_timeout
        .map(Duration::from_secs)
        .unwrap_or_else(|| profile.cell_timeout());
    let interrupted = measure_cells(&cells, sampling, timeout, launch_plan, &path, &mut results)?;

    let count = |s: Status| results.cells.iter().filter(|c| c.status == s).count();
    let failed = count(Status::Failed) + count(Status::Timeout);
    let mut summary = table::render(&results.cells);
    summary.push_str(&format!(
        "\n{} cells: {} ok, {} skipped, {} failed, {} timed out. Results: {}\n",
        results.cells.len(),
        count(Status::Ok),
        count(Status::Skipped),
        count(Status::Failed),
        count(Status::Timeout),
        path.display()
    ));
    if !args.matrix.no_report && !results.cells.is_empty() {
        let dir = crate::report::default_dir(&path);
        let written =
            crate::report::write_reports(&results, crate::report::DEFAULT_BASELINE, None, &dir)?;
        summary.push_str(&format!(
            "Report: {}\n",
            written
                .first()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ));
    }
    output::print(&summary)?;
    if interrupted {
        eprintln!(
            "interrupted: {} finished cells are saved; complete the run with \
             `tapbench {command} --resume {}` (and the same selection flags)",
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
