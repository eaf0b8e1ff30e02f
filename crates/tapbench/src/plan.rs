//! Which cells a run measures: the catalogue's cases, filtered and overridden by the command
//! line, crossed with the selected runtime configurations.

use std::time::Duration;

use anyhow::{bail, Result};
use tapbench_core::{catalogue, Case, ParamValue, RuntimeInfo, WorkloadSpec};
use tapbench_measure::SamplingPlan;

/// The fewest launches a cell gets when more were asked for, whatever its budget: with five
/// launch medians a side, the gate's rank test can reach p < 0.01 (at best 0.0079).
pub const MIN_LAUNCHES: usize = 5;

/// How many launches a cell gets: `launches`, or fewer once it has [`MIN_LAUNCHES`] and its
/// launches have taken `budget` of wall time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaunchPlan {
    /// Launches asked for.
    pub launches: usize,
    /// Wall time after which a cell with enough launches gets no more.
    pub budget: Duration,
}

impl LaunchPlan {
    /// Whether a cell measured so far as `so_far` (`None`: not yet) gets another launch.
    pub fn wants_more(&self, so_far: Option<&crate::results::CellResult>) -> bool {
        let Some(cell) = so_far else {
            return true;
        };
        let count = crate::launches::launch_count(cell);
        cell.status == crate::results::Status::Ok
            && count < self.launches
            && (count < MIN_LAUNCHES || cell.wall_s < self.budget.as_secs_f64())
    }
}

/// A sampling profile: how long to warm up, how long a sample lasts, how many samples,
/// how many launches. The help of `--profile` and `--launches`, and the README's profile
/// table, are generated from (or tested against) the definitions below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// For CI: every cell once, briefly.
    Smoke,
    /// A useful first look, and what the gate needs.
    Quick,
    /// For publishing.
    Standard,
}

impl clap::ValueEnum for Profile {
    fn value_variants<'a>() -> &'a [Self] {
        &Profile::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()).help(self.describe()))
    }
}

impl Profile {
    /// Every profile, from the shortest.
    pub const ALL: [Profile; 3] = [Profile::Smoke, Profile::Quick, Profile::Standard];

    /// What the profile is for.
    fn purpose(self) -> &'static str {
        match self {
            Profile::Smoke => "For CI: every cell once, briefly",
            Profile::Quick => "A useful first look, and what the gate needs",
            Profile::Standard => "For publishing",
        }
    }

    /// What the profile is for and what one cell gets: the help of `--profile`.
    pub fn describe(self) -> String {
        let s = self.sampling();
        let launches = self.launches();
        format!(
            "{}: {launches} launch{} of {} samples of at least {} ms, after {} ms of warm-up",
            self.purpose(),
            if launches == 1 { "" } else { "es" },
            s.samples,
            s.sample_target.as_millis(),
            s.warmup.as_millis()
        )
    }

    /// The profile's row of the README's profile table (which a test holds to it).
    #[cfg(test)]
    pub fn table_row(self) -> String {
        let s = self.sampling();
        format!(
            "| `{}` | {} | {} ms | {} ms | {} ({}) | {} s |",
            self.as_str(),
            self.launches(),
            s.warmup.as_millis(),
            s.sample_target.as_millis(),
            s.samples,
            s.min_samples,
            s.max_sampling_time.map_or(0, |t| t.as_secs())
        )
    }

    /// The profile's name in results files.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Smoke => "smoke",
            Profile::Quick => "quick",
            Profile::Standard => "standard",
        }
    }

    /// The profile named `name` in a results file.
    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// Processes each cell runs in unless `--launches` says otherwise. Samples of one
    /// process share its memory layout, neighbours and machine state, so only several
    /// launches show how much a cell moves from run to run - what a gate must know.
    pub fn launches(self) -> usize {
        match self {
            Profile::Smoke => 1,
            Profile::Quick => 10,
            Profile::Standard => 15,
        }
    }

    /// Wall time after which a cell gets no further launch once it has
    /// [`MIN_LAUNCHES`]: a cell whose single operation takes seconds stops there instead of
    /// holding the run for many launches.
    pub fn launch_budget(self) -> Duration {
        Duration::from_secs(match self {
            Profile::Smoke => 10,
            Profile::Quick => 20,
            Profile::Standard => 300,
        })
    }

    /// Warm-up, sample length and sample count of one launch. A cell whose samples run past the
    /// profile's sampling budget (an operation of seconds) stops at the minimum count.
    pub fn sampling(self) -> SamplingPlan {
        let (warmup_ms, sample_ms, samples, min_samples, budget_s) = match self {
            Profile::Smoke => (100, 5, 10, 1, 1),
            Profile::Quick => (50, 20, 2, 1, 3),
            Profile::Standard => (200, 50, 2, 1, 8),
        };
        SamplingPlan {
            warmup: Duration::from_millis(warmup_ms),
            sample_target: Duration::from_millis(sample_ms),
            samples,
            max_sampling_time: Some(Duration::from_secs(budget_s)),
            min_samples,
            inject: Default::default(),
        }
    }

    /// The default time budget of one cell.
    pub fn cell_timeout(self) -> Duration {
        Duration::from_secs(match self {
            Profile::Smoke => 60,
            Profile::Quick => 180,
            Profile::Standard => 600,
        })
    }
}

/// "smoke 1, quick 10, standard 15": a per-profile figure for a help text.
fn per_profile(figure: impl Fn(Profile) -> String) -> String {
    Profile::ALL
        .iter()
        .map(|p| format!("{} {}", p.as_str(), figure(*p)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The help of `run --launches`.
pub fn launches_help() -> String {
    format!(
        "Run every cell in this many processes (BenchmarkDotNet's launch count), pass by pass \
         so that each cell's launches are spread over the run. The gate compares the launches' \
         medians, which carry the process-to-process noise that samples of one process cannot \
         show [default: the profile's: {}]",
        per_profile(|p| p.launches().to_string())
    )
}

/// The help of `run --cell-timeout`.
pub fn cell_timeout_help() -> String {
    format!(
        "Time budget of one launch of a cell in seconds (default: {})",
        per_profile(|p| p.cell_timeout().as_secs().to_string())
    )
}

/// One cell to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCell {
    /// `runtime/workload/variant/params`.
    pub id: String,
    /// Runtime configuration id.
    pub runtime: &'static str,
    /// Worker threads for this configuration.
    pub threads: usize,
    /// Workload, variant and parameters.
    pub case: Case,
}

/// What the command line selects.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Runtime ids (empty: all).
    pub runtimes: Vec<String>,
    /// Workload ids (empty: all).
    pub workloads: Vec<String>,
    /// Variant ids (empty: all).
    pub variants: Vec<String>,
    /// `name=value` parameter overrides.
    pub params: Vec<String>,
    /// Worker threads for multi-threaded configurations.
    pub threads: usize,
    /// Bytes of memory a cell may need at most (`None`: no check). Cells whose estimate is
    /// larger are refused before anything runs.
    pub memory_limit: Option<u64>,
    /// Offer the test-only workloads (`fault`) too.
    pub test_workloads: bool,
}

/// Builds the matrix of cells for `selection`.
///
/// # Errors
///
/// An unknown runtime, workload or variant id, an override naming a parameter that no
/// selected workload has, or an invalid value.
pub fn plan(selection: &Selection) -> Result<Vec<PlannedCell>> {
    let runtimes = select_runtimes(&selection.runtimes)?;
    let workloads = select_workloads(&selection.workloads, selection.test_workloads)?;
    check_variants(&selection.variants, &workloads)?;
    let overrides = parse_overrides(&selection.params, &workloads)?;

    let mut cases: Vec<Case> = Vec::new();
    for workload in &workloads {
        for mut case in (workload.cases)() {
            if !selection.variants.is_empty() && !selection.variants.contains(&case.variant) {
                continue;
            }
            for (name, value) in &overrides {
                if let Some(slot) = case.params.0.get_mut(name) {
                    if workload.param(name).is_some() {
                        *slot = value.clone();
                    }
                }
            }
            (workload.normalize)(&mut case.params);
            if !cases.contains(&case) {
                cases.push(case);
            }
        }
    }
    if cases.is_empty() {
        bail!("the selection matches no cell (check --workload and --variant)");
    }
    if let Some(limit) = selection.memory_limit {
        for case in &cases {
            check_memory(case, limit)?;
        }
    }
    let mut cells = Vec::with_capacity(cases.len() * runtimes.len());
    for runtime in &runtimes {
        for case in &cases {
            cells.push(PlannedCell {
                id: format!("{}/{case}", runtime.id),
                runtime: runtime.id,
                threads: runtime.threads(selection.threads),
                case: case.clone(),
            });
        }
    }
    Ok(cells)
}

fn select_runtimes(ids: &[String]) -> Result<Vec<&'static RuntimeInfo>> {
    if ids.is_empty() {
        return Ok(tapbench_runtimes::all().iter().map(|r| &r.info).collect());
    }
    ids.iter()
        .map(|id| {
            tapbench_runtimes::find(id).map(|r| &r.info).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown runtime `{id}` (known: {}; see `tapbench list`)",
                    tapbench_runtimes::all()
                        .iter()
                        .map(|r| r.info.id)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        })
        .collect()
}

/// Refuses a case whose memory estimate exceeds `limit` bytes, quoting the estimate.
fn check_memory(case: &Case, limit: u64) -> Result<()> {
    let Some(spec) = tapbench_core::find_workload(&case.workload) else {
        return Ok(());
    };
    let needed = (spec.memory_bytes)(&case.params);
    if needed > limit {
        bail!(
            "{case}: needs about {} of memory (estimate), more than the {} this run may use; \
             choose smaller parameters",
            format_bytes(needed),
            format_bytes(limit)
        );
    }
    Ok(())
}

/// Bytes in binary units with one decimal (`1.5 GiB`).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn select_workloads(ids: &[String], test_workloads: bool) -> Result<Vec<&'static WorkloadSpec>> {
    if ids.is_empty() {
        return Ok(catalogue().iter().collect());
    }
    let offered = |id: &str| {
        catalogue()
            .iter()
            .chain(if test_workloads {
                tapbench_core::workloads::test_workloads()
            } else {
                &[]
            })
            .find(|w| w.id == id)
    };
    ids.iter()
        .map(|id| {
            offered(id).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown workload `{id}` (known: {}; see `tapbench list`)",
                    catalogue()
                        .iter()
                        .map(|w| w.id)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        })
        .collect()
}

fn check_variants(variants: &[String], workloads: &[&WorkloadSpec]) -> Result<()> {
    for variant in variants {
        if !workloads.iter().any(|w| w.variant(variant).is_some()) {
            let known: Vec<String> = workloads
                .iter()
                .flat_map(|w| w.variants.iter().map(move |v| format!("{}/{}", w.id, v.id)))
                .collect();
            bail!(
                "unknown variant `{variant}` for the selected workloads (known: {})",
                known.join(", ")
            );
        }
    }
    Ok(())
}

fn parse_overrides(
    raw: &[String],
    workloads: &[&WorkloadSpec],
) -> Result<Vec<(String, ParamValue)>> {
    let mut out = Vec::new();
    for item in raw {
        let Some((name, value)) = item.split_once('=') else {
            bail!("invalid --param `{item}`: expected name=value, for example n=1000");
        };
        let name = name.trim();
        let specs: Vec<_> = workloads.iter().filter_map(|w| w.param(name)).collect();
        let Some(first) = specs.first() else {
            bail!(
                "no selected workload has a parameter `{name}` (see `tapbench list` for each \
                 workload's parameters)"
            );
        };
        // Workloads sharing a parameter name share its meaning; check against each.
        let value = first.parse(value)?;
        for spec in &specs[1..] {
            spec.check(&value)?;
        }
        out.push((name.to_string(), value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's profile table and the command line's help say what the code does.
    #[test]
    fn the_profile_table_and_the_help_match_the_definitions() {
        let readme = include_str!("../../../README.md");
        for profile in Profile::ALL {
            let row = profile.table_row();
            assert!(readme.contains(&row), "the README lacks the row {row}");
        }
        use clap::CommandFactory;
        let mut cli = crate::cli::Cli::command();
        let run = cli.find_subcommand_mut("run").unwrap();
        let help = run.render_long_help().to_string();
        for profile in Profile::ALL {
            assert!(help.contains(&profile.describe()), "{help}");
            let launches = format!("{} {}", profile.as_str(), profile.launches());
            assert!(
                help.contains(&launches),
                "`{launches}` missing from: {help}"
            );
            let timeout = format!("{} {}", profile.as_str(), profile.cell_timeout().as_secs());
            assert!(help.contains(&timeout), "`{timeout}` missing from: {help}");
        }
        assert!(help.contains("10 launches of 2 samples"), "{help}");
    }

    fn sel() -> Selection {
        Selection {
            threads: 2,
            ..Default::default()
        }
    }

    #[test]
    fn a_cell_gets_its_launches_until_it_has_five_and_has_spent_its_budget() {
        use crate::results::{CellResult, ResultsFile, Status};
        let file: ResultsFile =
            serde_json::from_str(include_str!("../tests/fixtures/small-results.json")).unwrap();
        let with = |launches: usize, wall_s: f64| -> CellResult {
            let mut c = file.cells[0].clone();
            c.time_ns_per_op.as_mut().unwrap().launch_medians = vec![1.0; launches];
            c.wall_s = wall_s;
            c
        };
        let plan = LaunchPlan {
            launches: 30,
            budget: Duration::from_secs(10),
        };
        assert!(plan.wants_more(None));
        assert!(
            plan.wants_more(Some(&with(2, 100.0))),
            "fewer than five: always more"
        );
        assert!(plan.wants_more(Some(&with(5, 9.0))));
        assert!(
            !plan.wants_more(Some(&with(5, 10.0))),
            "five, and the budget spent"
        );
        assert!(!plan.wants_more(Some(&with(30, 1.0))), "all it asked for");
        let mut failed = with(2, 1.0);
        failed.status = Status::Failed;
        assert!(!plan.wants_more(Some(&failed)));
        let two = LaunchPlan {
            launches: 2,
            budget: Duration::ZERO,
        };
        assert!(two.wants_more(Some(&with(1, 100.0))));
        assert!(!two.wants_more(Some(&with(2, 0.0))));
    }

    #[test]
    fn full_matrix_covers_every_runtime_and_has_unique_ids() {
        let cells = plan(&sel()).unwrap();
        for rt in tapbench_runtimes::all() {
            assert!(cells.iter().any(|c| c.runtime == rt.info.id));
        }
        let mut ids: Vec<_> = cells.iter().map(|c| c.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), cells.len());
        let single = cells.iter().find(|c| c.runtime == "tokio-ct").unwrap();
        assert_eq!(single.threads, 1);
    }

    #[test]
    fn filters_and_overrides() {
        let s = Selection {
            runtimes: vec!["smol-local".into()],
            workloads: vec!["when_all".into()],
            variants: vec!["join_all".into()],
            params: vec!["n=7".into()],
            ..sel()
        };
        let cells = plan(&s).unwrap();
        assert_eq!(cells.len(), 3, "three ops once n is fixed");
        assert!(cells
            .iter()
            .all(|c| c.id.starts_with("smol-local/when_all/join_all/n=7,")));
    }

    #[test]
    fn bad_input_is_refused_with_the_reason() {
        let err = |s: Selection| plan(&s).unwrap_err().to_string();
        assert!(err(Selection {
            runtimes: vec!["tokyo".into()],
            ..sel()
        })
        .contains("unknown runtime `tokyo`"));
        assert!(err(Selection {
            workloads: vec!["nope".into()],
            ..sel()
        })
        .contains("unknown workload"));
        assert!(err(Selection {
            variants: vec!["nope".into()],
            ..sel()
        })
        .contains("unknown variant"));
        assert!(err(Selection {
            params: vec!["n=0".into()],
            ..sel()
        })
        .contains("parameter `n`"));
        assert!(err(Selection {
            params: vec!["n=ten".into()],
            ..sel()
        })
        .contains("parameter `n`"));
        assert!(err(Selection {
            params: vec!["zzz=1".into()],
            ..sel()
        })
        .contains("`zzz`"));
        assert!(err(Selection {
            params: vec!["n".into()],
            ..sel()
        })
        .contains("name=value"));
    }

    #[test]
    fn sizes_that_cannot_fit_are_refused_with_the_estimate() {
        let s = Selection {
            workloads: vec!["when_all".into()],
            params: vec!["n=4000000000".into()],
            memory_limit: Some(8 << 30),
            ..sel()
        };
        let e = plan(&s).unwrap_err().to_string();
        assert!(
            e.contains("needs about 1.9 TiB") && e.contains("8.0 GiB"),
            "{e}"
        );
        // The default grid fits in 1 GiB.
        assert!(plan(&Selection {
            memory_limit: Some(1 << 30),
            ..sel()
        })
        .is_ok());
    }

    #[test]
    fn overrides_keep_dependent_parameters_consistent() {
        let s = |bounded: &str| Selection {
            workloads: vec!["producer_consumer".into()],
            runtimes: vec!["tokio-ct".into()],
            params: vec![format!("bounded={bounded}")],
            ..sel()
        };
        let bounded = plan(&s("true")).unwrap();
        assert!(bounded
            .iter()
            .all(|c| c.id.contains("bounded=true,capacity=64")));
        let unbounded = plan(&s("false")).unwrap();
        assert!(unbounded.iter().all(|c| !c.id.contains("capacity")));
    }

    #[test]
    fn test_workloads_need_the_switch() {
        let s = |test_workloads| Selection {
            workloads: vec!["fault".into()],
            test_workloads,
            ..sel()
        };
        assert!(plan(&s(false))
            .unwrap_err()
            .to_string()
            .contains("unknown workload `fault`"));
        assert_eq!(
            plan(&s(true)).unwrap().len(),
            4 * tapbench_runtimes::all().len()
        );
    }
}
