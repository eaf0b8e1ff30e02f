//! The one launch scheduler, for `run` (one side) and the interleaved gate (two sides):
//! launches pass by pass, every launch merged into its cell, and the results files saved
//! often enough that stopping a run loses nothing it measured (see [`SAVE_INTERVAL`]).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::launches::{add_launch, launch_count};
use crate::plan::{LaunchPlan, PlannedCell};
use crate::progress::Progress;
use crate::results::{CellResult, ResultsFile, Status};
use crate::runner::CellLauncher;
use crate::{interrupt, store};

/// How long finished launches may stay in memory only: a run rewrites its results files
/// when a launch ends at least this long after the last save, when a launch ends its cell
/// as `failed` or `timeout`, when a pass ends, and when the run ends - finished, stopped by
/// Ctrl-C, or returning an error (or unwinding from a panic). Only a run killed outright
/// (SIGKILL, a crash of the machine) can lose launches: those of its last second.
///
/// Rewriting the whole file after every launch cost the parent 16 ms per launch with the
/// whole quick matrix in the file (2.1 MB: serialising it, two fsyncs and a rename) and 8
/// ms with a small file, while no child ran; and the disk work following each rename
/// slowed the next launch's warm-up, so its calibration sized the samples short (45 ms
/// of the 60 ms planned in the quick profile). Once a second, saving costs about 1% of a
/// run, whatever the size of the file.
pub const SAVE_INTERVAL: Duration = Duration::from_secs(1);

/// Measures `cells` in as many child processes each as `plan` gives them, adding every
/// launch to `results` and saving it to `path` (see [`schedule`]). Cells
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
    /// Where they are saved (see [`SAVE_INTERVAL`]).
    pub path: &'a Path,
}

/// The sides of a run and whether they hold launches their files do not have yet.
///
/// Dropped with unsaved launches - an error returned or a panic unwinding through the
/// scheduler - it saves them, ignoring a failure to (the error already on its way says
/// more).
struct Saver<'s, 'a> {
    sides: &'s mut [Sink<'a>],
    every: Duration,
    saved_at: Instant,
    unsaved: bool,
}

impl<'s, 'a> Saver<'s, 'a> {
    fn new(sides: &'s mut [Sink<'a>], every: Duration) -> Self {
        Saver {
            sides,
            every,
            saved_at: Instant::now(),
            unsaved: false,
        }
    }

    /// Saves the sides with unsaved launches if the last save is `every` old.
    fn save_if_due(&mut self) -> Result<()> {
        if self.saved_at.elapsed() >= self.every {
            self.save()?;
        }
        Ok(())
    }

    /// Saves the sides, if they hold unsaved launches.
    fn save(&mut self) -> Result<()> {
        if !self.unsaved {
            return Ok(());
        }
        // Not retried on drop: the error says which file could not be written.
        self.unsaved = false;
        for side in self.sides.iter() {
            store::write_results(side.path, side.results)?;
        }
        self.saved_at = Instant::now();
        Ok(())
    }
}

impl Drop for Saver<'_, '_> {
    fn drop(&mut self) {
        if self.unsaved {
            for side in self.sides.iter() {
                let _ = store::write_results(side.path, side.results);
            }
        }
    }
}

/// The one launch scheduler, for `run` (one side) and the interleaved gate (two sides, the
/// baseline's build and this build). Launches run pass by pass - the first launch of every
/// cell, then the second of every cell - so that each cell's launches are spread over the
/// whole run and see the machine in more of its states. `launch(cell, pass)` runs one
/// launch of `cell` for every side, in side order (`None`: stopped by Ctrl-C); each is
/// added to its side's results, and the files are saved as [`SAVE_INTERVAL`] says, so
/// nothing measured is lost when the run stops. A cell that does not end `ok` on some
/// side, or has used its budget there, gets no further launch; a side already holding
/// more launches of a cell (a resumed run) is continued where it stopped. Returns whether
/// Ctrl-C stopped the run early.
///
/// # Errors
///
/// `launch` failed, or a results file could not be written (every launch merged before
/// is still saved, if the file can be written at all).
pub fn schedule(
    cells: &[PlannedCell],
    plan: LaunchPlan,
    sides: &mut [Sink<'_>],
    launch: impl FnMut(&PlannedCell, usize) -> Result<Option<Vec<CellResult>>>,
) -> Result<bool> {
    schedule_saving(cells, plan, sides, SAVE_INTERVAL, launch)
}

/// [`schedule`], saving at most every `save_every` between the other occasions.
fn schedule_saving(
    cells: &[PlannedCell],
    plan: LaunchPlan,
    sides: &mut [Sink<'_>],
    save_every: Duration,
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
    let mut saver = Saver::new(sides, save_every);
    for pass in 0..plan.launches {
        // Cells out of budget (or failed) take their unrun launches off the count.
        progress.set_remaining(remaining(saver.sides));
        for cell in cells {
            let before = so_far(saver.sides, cell);
            if before.iter().flatten().any(|c| launch_count(c) > pass) || !wants_more(&before) {
                continue;
            }
            if interrupt::requested() {
                progress.done();
                saver.save()?;
                return Ok(true);
            }
            progress.start(cell);
            let Some(launches) = launch(cell, pass)? else {
                progress.done();
                saver.save()?;
                return Ok(true);
            };
            let failed = launches
                .iter()
                .any(|l| matches!(l.status, Status::Failed | Status::Timeout));
            let mut last = None;
            for (side, launch) in saver.sides.iter_mut().zip(launches) {
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
                last = Some(side.results.cells[i].clone());
            }
            saver.unsaved = true;
            if failed {
                saver.save()?;
            } else {
                saver.save_if_due()?;
            }
            if let Some(last) = last {
                progress.finish(&last, pass + 1);
            }
        }
        saver.save()?;
    }
    progress.done();
    Ok(false)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use anyhow::bail;

    use super::*;
    use crate::plan::Profile;

    const CELLS: usize = 4;
    const LAUNCHES: usize = 3;

    fn fixture() -> ResultsFile {
        serde_json::from_str(include_str!("../tests/fixtures/small-results.json")).unwrap()
    }

    /// The first `CELLS` cells of the fixture, planned again.
    fn planned() -> Vec<PlannedCell> {
        fixture()
            .cells
            .iter()
            .take(CELLS)
            .map(|c| PlannedCell {
                id: c.id.clone(),
                runtime: tapbench_runtimes::find(&c.runtime).unwrap().info.id,
                threads: c.threads,
                case: tapbench_core::Case::new(&c.workload, &c.variant, c.params.clone()),
            })
            .collect()
    }

    /// One launch of `cell`, as a child would report it.
    fn launch_of(cell: &PlannedCell, status: Status) -> CellResult {
        let mut result = fixture()
            .cells
            .into_iter()
            .find(|c| c.id == cell.id)
            .unwrap();
        result.status = status;
        if status != Status::Ok {
            result.error = Some("answer was wrong".into());
            result.time_ns_per_op = None;
        }
        result
    }

    fn launch_plan() -> LaunchPlan {
        LaunchPlan {
            launches: LAUNCHES,
            budget: Profile::Quick.launch_budget(),
        }
    }

    /// Whether the file at `path` is what saving `results` writes, byte for byte.
    fn holds(path: &Path, results: &ResultsFile) -> bool {
        let again = path.with_extension("again.json");
        store::write_results(&again, results).unwrap();
        std::fs::read(path).unwrap() == std::fs::read(again).unwrap()
    }

    /// Launches of every cell in the file at `path`, in plan order (0: not in the file).
    fn on_disk(path: &Path) -> Vec<usize> {
        let file = store::read_results(path).unwrap();
        planned()
            .iter()
            .map(|p| {
                file.cells
                    .iter()
                    .find(|c| c.id == p.id)
                    .map_or(0, launch_count)
            })
            .collect()
    }

    /// Runs the planned cells with launches from `launch`, saving at most every
    /// `save_every`, into a fresh file whose header is on disk first (as `run` writes it).
    fn run_with(
        dir: &Path,
        save_every: Duration,
        launch: impl FnMut(&PlannedCell, usize) -> Result<Option<Vec<CellResult>>>,
    ) -> (Result<bool>, ResultsFile, std::path::PathBuf) {
        let path = dir.join("r.json");
        let mut results = ResultsFile {
            cells: Vec::new(),
            ..fixture()
        };
        store::write_results(&path, &results).unwrap();
        let outcome = {
            let mut sides = [Sink {
                results: &mut results,
                path: &path,
            }];
            schedule_saving(&planned(), launch_plan(), &mut sides, save_every, launch)
        };
        (outcome, results, path)
    }

    /// With no time-based save, launches are saved when a pass ends, not one by one; the
    /// file after the run holds the whole run and reads back unchanged.
    #[test]
    fn passes_end_with_a_save_and_the_finished_file_is_complete() {
        let dir = tempfile::tempdir().unwrap();
        let seen = RefCell::new(Vec::new());
        let (outcome, results, path) = run_with(dir.path(), Duration::MAX, |cell, pass| {
            seen.borrow_mut()
                .push((pass, on_disk(&dir.path().join("r.json"))));
            Ok(Some(vec![launch_of(cell, Status::Ok)]))
        });
        assert!(!outcome.unwrap(), "not interrupted");
        for (pass, disk) in seen.into_inner() {
            assert_eq!(disk, vec![pass; CELLS], "in pass {pass}");
        }
        assert_eq!(on_disk(&path), vec![LAUNCHES; CELLS]);
        assert!(holds(&path, &results));
    }

    /// With a zero interval every launch is on disk before the next one starts.
    #[test]
    fn a_due_save_writes_every_launch_so_far() {
        let dir = tempfile::tempdir().unwrap();
        let mut launched = 0;
        let (outcome, _, path) = run_with(dir.path(), Duration::ZERO, |cell, _| {
            let total: usize = on_disk(&dir.path().join("r.json")).iter().sum();
            assert_eq!(total, launched);
            launched += 1;
            Ok(Some(vec![launch_of(cell, Status::Ok)]))
        });
        assert!(!outcome.unwrap());
        assert_eq!(launched, CELLS * LAUNCHES);
        assert_eq!(on_disk(&path), vec![LAUNCHES; CELLS]);
    }

    /// A failed or timed-out launch is saved at once, whatever the interval.
    #[test]
    fn a_failed_launch_is_saved_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut after_failure = None;
        let (outcome, results, path) = run_with(dir.path(), Duration::MAX, |cell, pass| {
            let path = dir.path().join("r.json");
            if pass == 0 && cell.id == planned()[2].id {
                after_failure = Some(on_disk(&path));
            }
            let status = if pass == 0 && cell.id == planned()[1].id {
                Status::Failed
            } else {
                Status::Ok
            };
            Ok(Some(vec![launch_of(cell, status)]))
        });
        assert!(!outcome.unwrap());
        // The first two cells (the second failed) were on disk when the third started.
        assert_eq!(after_failure, Some(vec![1, 1, 0, 0]));
        assert!(holds(&path, &results));
        assert_eq!(results.cells[1].status, Status::Failed);
        // A failed cell gets no further launch; the others get all theirs.
        assert_eq!(on_disk(&path), vec![LAUNCHES, 1, LAUNCHES, LAUNCHES]);
    }

    /// However the run stops early - Ctrl-C (a launch stopped: `None`), an error, a panic -
    /// every launch that finished before is on disk.
    #[test]
    fn a_run_stopped_early_keeps_every_finished_launch() {
        const STOP_AT: usize = CELLS + 2; // in the second pass
        enum Stop {
            Interrupt,
            Error,
            Panic,
        }
        for stop in [Stop::Interrupt, Stop::Error, Stop::Panic] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("r.json");
            let mut launched = 0;
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_with(dir.path(), Duration::MAX, |cell, _| {
                    if launched == STOP_AT {
                        match stop {
                            Stop::Interrupt => return Ok(None),
                            Stop::Error => bail!("the executable went away"),
                            Stop::Panic => panic!("a bug in the parent"),
                        }
                    }
                    launched += 1;
                    Ok(Some(vec![launch_of(cell, Status::Ok)]))
                })
            }));
            match (stop, run) {
                (Stop::Interrupt, Ok((outcome, results, _))) => {
                    assert!(outcome.unwrap(), "interrupted");
                    assert!(holds(&path, &results));
                }
                (Stop::Error, Ok((outcome, _, _))) => {
                    assert!(outcome.is_err());
                }
                (Stop::Panic, Err(_)) => {}
                _ => panic!("the run did not stop as it was told to"),
            }
            assert_eq!(on_disk(&path), vec![2, 2, 1, 1]);
        }
    }
}
