//! The gate's fresh run: the measured cells of a baseline run again - alone, or
//! interleaved launch by launch (or in lock-step) with the baseline's own build.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Result};

use crate::launches::launch_count;
use crate::plan::{LaunchPlan, PlannedCell, Profile};
use crate::results::{Injected, Interleaved, ResultsFile, Side, Status};
use crate::runner::{run_lockstep, CellLauncher};
use crate::schedule::{measure_cells, schedule, Sink};
use crate::{env, store};

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
        .unwrap_or_else(|| store::default_path("gate", &created_at));
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
    let fresh = |injected: Option<Injected>| {
        ResultsFile::new(
            created_at.clone(),
            profile.as_str(),
            env::capture(baseline.env.threads),
            launches,
            injected,
        )
    };
    let mut current = fresh(Injected::of(opts.inject));
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
