//! The one launch scheduler, for `run` (one side) and the interleaved gate (two sides):
//! launches pass by pass, every launch merged into its cell and its file rewritten at once.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use crate::launches::{add_launch, launch_count};
use crate::plan::{LaunchPlan, PlannedCell};
use crate::progress::Progress;
use crate::results::{CellResult, ResultsFile};
use crate::runner::CellLauncher;
use crate::{interrupt, store};

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
pub struct Sink<'a> {
    /// The side's results, cells merged launch by launch.
    pub results: &'a mut ResultsFile,
    /// Where they are written after every launch.
    pub path: &'a Path,
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
pub fn schedule(
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
