//! `tapbench run`: plan the cells, run each in its own process, rewrite the results file
//! after every cell, and print a short table.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tapbench_core::workloads::fault::FAULTS_SWITCH;

use crate::cli::RunArgs;
use crate::plan::{self, LaunchPlan, PlannedCell, Profile, Selection};
use crate::results::{
    CellResult, Injected, Interleaved, ResultsFile, Side, Status, SCHEMA_VERSION,
};
use crate::runner::{add_launch, launch_count, run_lockstep, CellLauncher};
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
    let launches = match (&resumed, args.launches.map(usize::from)) {
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
            let path = args
                .out
                .unwrap_or_else(|| default_path(profile.as_str(), &created_at));
            let results = ResultsFile {
                schema_version: SCHEMA_VERSION,
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
                created_at,
                profile: profile.as_str().to_string(),
                env: env::capture(threads),
                launches,
                injected: (args.inject_delay_ns > 0.0 || args.inject_allocs > 0).then_some(
                    Injected {
                        delay_ns_per_op: args.inject_delay_ns,
                        allocs_per_op: args.inject_allocs,
                    },
                ),
                interleaved: None,
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
    let interrupted = measure_cells(&cells, sampling, timeout, launch_plan, &path, &mut results)?;

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

/// How the gate measures the current code.
#[derive(Debug, Clone, Default)]
pub struct Rerun {
    /// Where the fresh results go (default `results/gate-<UTC time>.json`).
    pub out: Option<PathBuf>,
    /// Time budget of one launch of a cell, seconds.
    pub cell_timeout: Option<u64>,
    /// Launches per cell (default: as many as the baseline's cells had, at least 1; 10 when
    /// interleaving).
    pub launches: Option<usize>,
    /// Another tapbench executable (the baseline's build): its launches alternate with this
    /// build's, cell by cell, so both see the same machine at the same time.
    pub baseline_exe: Option<PathBuf>,
    /// Sampling profile of interleaved runs (default: the baseline's).
    pub profile: Option<Profile>,
    /// Interleaved runs: each pair's two processes run at once, taking turns sample by
    /// sample (see [`crate::runner::run_lockstep`]).
    pub lockstep: bool,
    /// A regression injected into this build's side only (calibration).
    pub inject: tapbench_measure::Injection,
}

/// The measured cells of `baseline`, to be run again.
fn cells_of(baseline: &ResultsFile) -> Result<Vec<PlannedCell>> {
    let mut cells = Vec::new();
    for cell in baseline.cells.iter().filter(|c| c.status == Status::Ok) {
        let runtime = tapbench_runtimes::find(&cell.runtime).ok_or_else(|| {
            anyhow::anyhow!("the baseline's cell `{}` names an unknown runtime", cell.id)
        })?;
        cells.push(PlannedCell {
            id: cell.id.clone(),
            runtime: runtime.info.id,
            threads: cell.threads,
            case: tapbench_core::Case::new(&cell.workload, &cell.variant, cell.params.clone()),
        });
    }
    if cells.is_empty() {
        bail!("the baseline has no measured cell to run again");
    }
    Ok(cells)
}

/// Runs again the measured cells of `baseline` - same profile, parameters and threads - for
/// the gate. Returns the results to judge against: the stored baseline itself, or, with
/// [`Rerun::baseline_exe`], fresh results of the baseline's build measured interleaved with
/// this build's, launch by launch. The second file is this build's results.
///
/// # Errors
///
/// The baseline names a runtime or profile this build does not know, an output cannot be
/// written, or the run was interrupted.
pub fn rerun(baseline: &ResultsFile, opts: Rerun) -> Result<(Option<ResultsFile>, ResultsFile)> {
    let profile = match opts.profile {
        Some(profile) => profile,
        None => Profile::from_name(&baseline.profile).ok_or_else(|| {
            anyhow::anyhow!("the baseline has an unknown profile `{}`", baseline.profile)
        })?,
    };
    let cells = cells_of(baseline)?;
    let created_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let path = opts
        .out
        .clone()
        .unwrap_or_else(|| default_path("gate", &created_at));
    store::check_writable(&path)?;
    // Interleaved: INTERLEAVED_LAUNCHES a side unless told otherwise. Stored: as many
    // launches as the baseline had.
    let launches = opts.launches.unwrap_or_else(|| {
        if opts.baseline_exe.is_some() {
            INTERLEAVED_LAUNCHES
        } else {
            baseline
                .cells
                .iter()
                .map(launch_count)
                .max()
                .unwrap_or(1)
                .max(baseline.launches)
        }
    });
    let fresh = |injected: Option<Injected>| ResultsFile {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: created_at.clone(),
        profile: profile.as_str().to_string(),
        env: env::capture(baseline.env.threads),
        launches,
        injected,
        interleaved: None,
        cells: Vec::with_capacity(cells.len()),
    };
    let injected = (!opts.inject.is_none()).then_some(Injected {
        delay_ns_per_op: opts.inject.delay_ns_per_op,
        allocs_per_op: opts.inject.allocs_per_op,
    });
    let mut current = fresh(injected);
    store::write_results(&path, &current)?;
    let timeout = opts
        .cell_timeout
        .map(Duration::from_secs)
        .unwrap_or_else(|| profile.cell_timeout());
    let sampling = tapbench_measure::SamplingPlan {
        inject: opts.inject,
        ..profile.sampling()
    };
    let launch_plan = LaunchPlan {
        launches,
        budget: profile.launch_budget(),
    };
    let Some(old_exe) = &opts.baseline_exe else {
        eprintln!(
            "running the baseline's {} measured cells again ({launches} launches each) into {}",
            cells.len(),
            path.display()
        );
        if measure_cells(&cells, sampling, timeout, launch_plan, &path, &mut current)? {
            bail!(
                "interrupted: the gate does not judge an incomplete run ({} kept)",
                path.display()
            );
        }
        return Ok((None, current));
    };

    let old_path = path.with_file_name(format!(
        "{}-baseline.json",
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    // Both files say they are the two sides of this run, so that whoever judges them
    // later (`gate --current`, `compare`) judges their launches in pairs too.
    let run_id = format!("{created_at} {}", path.display());
    let mut old = ResultsFile {
        interleaved: Some(Interleaved {
            run: run_id.clone(),
            side: Side::Baseline,
            lockstep: opts.lockstep,
        }),
        ..fresh(None)
    };
    current.interleaved = Some(Interleaved {
        run: run_id,
        side: Side::Current,
        lockstep: opts.lockstep,
    });
    store::write_results(&path, &current)?;
    store::write_results(&old_path, &old)?;
    let new_launcher = CellLauncher::new(timeout)?;
    let old_launcher = CellLauncher::with_exe(old_exe.clone(), timeout);
    let old_sampling = profile.sampling();
    eprintln!(
        "running the baseline's {} measured cells with {} and with this build, {launches} \
         interleaved launches each{}, into {} and {}",
        cells.len(),
        old_exe.display(),
        if opts.lockstep {
            " (in lock-step, sample by sample)"
        } else {
            ""
        },
        old_path.display(),
        path.display()
    );
    let mut sides = [
        Sink {
            results: &mut old,
            path: &old_path,
        },
        Sink {
            results: &mut current,
            path: &path,
        },
    ];
    // Pass by pass, and within a pass the two builds back to back: every pair of launches
    // sees the machine in the same state (the gate judges launch i of both sides as a pair),
    // and each cell's pairs are spread over the run.
    let interrupted = schedule(&cells, launch_plan, &mut sides, |cell, pass| {
        // ABBA: the build that goes first alternates from pass to pass, so that neither
        // always runs second in its pair (after a warm cache, or as a neighbour cools).
        let (o, n) = if opts.lockstep {
            let Some([o, n]) = run_lockstep(
                [&old_launcher, &new_launcher],
                cell,
                [old_sampling, sampling],
                pass % 2,
            ) else {
                return Ok(None);
            };
            if let Some(error) = o.error.as_deref().filter(|e| e.contains("--lockstep")) {
                bail!(
                    "the baseline's build {} does not support --lockstep ({error}); gate \
                     without it",
                    old_exe.display()
                );
            }
            (o, n)
        } else if pass % 2 == 0 {
            let Some(o) = old_launcher.run(cell, old_sampling) else {
                return Ok(None);
            };
            let Some(n) = new_launcher.run(cell, sampling) else {
                return Ok(None);
            };
            (o, n)
        } else {
            let Some(n) = new_launcher.run(cell, sampling) else {
                return Ok(None);
            };
            let Some(o) = old_launcher.run(cell, old_sampling) else {
                return Ok(None);
            };
            (o, n)
        };
        Ok(Some(vec![o, n]))
    })?;
    if interrupted {
        bail!("interrupted: the gate does not judge an incomplete run");
    }
    Ok((Some(old), current))
}

/// Launches a side of an interleaved gate run unless `--launches` says otherwise. On a
/// noisy 2-core machine (`scripts/gate-sensitivity.py`, five cells from 3 ns to 2 ms per
/// operation), +5% needs about 40 pairs that ran in the same state of the machine for the
/// sign test to reach p < 0.01 in every gate, and about a third of the pairs straddle a
/// change of state and are set aside (see `judge::PROBE_STEP`): 30 pairs caught +5% in 4
/// to 10 of 10 gates per cell. A gate of one cell at 60 launches a side takes about 20 s
/// in the smoke profile.
pub const INTERLEAVED_LAUNCHES: usize = 60;

/// Measures `cells` in as many child processes each as `plan` gives them, adding every
/// launch to `results` and rewriting `path` after each one (see [`schedule`]). Cells
/// already in `results` with fewer launches (an interrupted run being resumed) are
/// continued. Returns whether Ctrl-C stopped the run early.
///
/// # Errors
///
/// The results file can no longer be written, or the executable cannot be found.
pub fn measure_cells(
    cells: &[PlannedCell],
    sampling: tapbench_measure::SamplingPlan,
    timeout: Duration,
    plan: LaunchPlan,
    path: &Path,
    results: &mut ResultsFile,
) -> Result<bool> {
    let launcher = CellLauncher::new(timeout)?;
    let mut sides = [Sink { results, path }];
    schedule(cells, plan, &mut sides, |cell, _pass| {
        Ok(launcher.run(cell, sampling).map(|launch| vec![launch]))
    })
}

/// One side of a scheduled run: the results file its launches go to.
struct Sink<'a> {
    results: &'a mut ResultsFile,
    path: &'a Path,
}

/// The one launch scheduler, for `run` (one side) and the interleaved gate (two sides, the
/// baseline's build and this build). Launches run pass by pass - the first launch of every
/// cell, then the second of every cell - so that each cell's launches are spread over the
/// whole run and see the machine in more of its states. `launch(cell, pass)` runs one
/// launch of `cell` for every side, in side order (`None`: stopped by Ctrl-C); each is
/// added to its side's file, which is rewritten at once, so nothing measured is lost. A
/// cell that does not end `ok` on some side, or has used its budget there, gets no further
/// launch; a side already holding more launches of a cell (a resumed run) is continued
/// where it stopped. Returns whether Ctrl-C stopped the run early.
fn schedule(
    cells: &[PlannedCell],
    plan: LaunchPlan,
    sides: &mut [Sink<'_>],
    mut launch: impl FnMut(&PlannedCell, usize) -> Result<Option<Vec<CellResult>>>,
) -> Result<bool> {
    interrupt::install()?;
    let find = |results: &ResultsFile, cell: &PlannedCell| {
        results.cells.iter().position(|c| c.id == cell.id)
    };
    let so_far = |sides: &[Sink<'_>], cell: &PlannedCell| -> Vec<Option<CellResult>> {
        sides
            .iter()
            .map(|s| find(s.results, cell).map(|i| s.results.cells[i].clone()))
            .collect()
    };
    let wants_more =
        |so_far: &[Option<CellResult>]| so_far.iter().all(|c| plan.wants_more(c.as_ref()));
    // Launches still to run, if every cell that wants more gets all it asked for.
    let remaining = |sides: &[Sink<'_>]| -> usize {
        cells
            .iter()
            .map(|cell| {
                let so_far = so_far(sides, cell);
                let done = so_far.iter().flatten().map(launch_count).max().unwrap_or(0);
                if wants_more(&so_far) {
                    plan.launches.saturating_sub(done)
                } else {
                    0
                }
            })
            .sum()
    };
    let mut progress = Progress::new(remaining(sides), cells, plan.launches);
    for pass in 0..plan.launches {
        // Cells out of budget (or failed) take their unrun launches off the count.
        progress.set_remaining(remaining(sides));
        for cell in cells {
            let before = so_far(sides, cell);
            if before.iter().flatten().any(|c| launch_count(c) > pass) || !wants_more(&before) {
                continue;
            }
            if interrupt::requested() {
                progress.done();
                return Ok(true);
            }
            progress.start(cell);
            let Some(launches) = launch(cell, pass)? else {
                progress.done();
                return Ok(true);
            };
            let mut last = None;
            for (side, launch) in sides.iter_mut().zip(launches) {
                let i = match find(side.results, cell) {
                    Some(i) => {
                        let so_far = side.results.cells[i].clone();
                        side.results.cells[i] = add_launch(so_far, launch);
                        i
                    }
                    None => {
                        side.results.cells.push(launch);
                        side.results.cells.len() - 1
                    }
                };
                store::write_results(side.path, side.results)?;
                last = Some(side.results.cells[i].clone());
            }
            if let Some(last) = last {
                progress.finish(&last, pass + 1);
            }
        }
    }
    progress.done();
    Ok(false)
}

/// The default results path of a run started at `created_at`.
pub fn default_path(prefix: &str, created_at: &str) -> PathBuf {
    let stamp: String = created_at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    PathBuf::from("results").join(format!("{prefix}-{stamp}.json"))
}

/// Progress on stderr: a bar on a terminal, one plain line per launch otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    width: usize,
    launches: usize,
}

impl Progress {
    /// Progress over `total` launches of `cells`, `launches` per cell.
    fn new(total: usize, cells: &[PlannedCell], launches: usize) -> Self {
        let width = cells.iter().map(|c| c.id.len()).max().unwrap_or(10).min(80);
        let unit = if launches > 1 { "launches" } else { "cells" };
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{bar:30.cyan/blue}} {{pos}}/{{len}} {unit}  {{elapsed_precise}} (eta \
                     {{eta}})  {{msg}}"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            total,
            done: 0,
            width,
            launches,
        }
    }

    /// `n` launches are still to run.
    fn set_remaining(&mut self, n: usize) {
        self.total = self.done + n;
        if let Some(bar) = &self.bar {
            bar.set_length(self.total as u64);
        }
    }

    fn start(&mut self, cell: &PlannedCell) {
        if let Some(bar) = &self.bar {
            bar.set_message(cell.id.clone());
        }
    }

    /// One launch finished; `result` is the cell so far, `launch` the launch's number.
    fn finish(&mut self, result: &CellResult, launch: usize) {
        self.done += 1;
        let of = if self.launches > 1 {
            format!(" launch {launch}/{}", self.launches)
        } else {
            String::new()
        };
        let line = format!(
            "[{}/{}]{of} {}  ({:.1} s)",
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
