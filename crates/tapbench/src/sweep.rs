//! `tapbench sweep`: the cells of one workload parameter over a list of values, or of the
//! multi-threaded runtimes over a list of thread counts (or both), planned with
//! [`crate::plan`] once per point and measured by the run machinery into one results file
//! that says what it swept ([`Sweep`]).

use std::collections::HashSet;

use anyhow::{bail, Result};

use crate::cli::{RunArgs, SweepArgs};
use crate::plan::{self, PlannedCell, Selection};
use crate::results::Sweep;
use crate::run::{self, RunSummary};

/// What the command line asks to sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepPlan {
    /// The `--param` items with one value each, as `run` takes them.
    pub fixed: Vec<String>,
    /// The swept parameter and its values (trimmed, in the order given).
    pub param: Option<(String, Vec<String>)>,
    /// The thread counts, when several are given.
    pub threads: Vec<usize>,
}

impl SweepPlan {
    /// What the results file records of this sweep.
    pub fn record(&self) -> Sweep {
        Sweep {
            param: self.param.as_ref().map(|(name, _)| name.clone()),
            values: self
                .param
                .as_ref()
                .map(|(_, values)| values.clone())
                .unwrap_or_default(),
            threads: self.threads.clone(),
            p99_target_ms: None,
        }
    }
}

/// Splits the `--param` items and `--threads` of a sweep into what is fixed and what is
/// swept. The values themselves are checked when the cells are planned.
///
/// # Errors
///
/// An item without `=`, two parameters with lists, a parameter given twice, an empty or
/// repeated value, a repeated thread count, or nothing to sweep.
pub fn parse_sweep(params: &[String], threads: &[u16]) -> Result<SweepPlan> {
    let mut fixed = Vec::new();
    let mut swept: Option<(String, Vec<String>)> = None;
    let mut names: Vec<String> = Vec::new();
    for item in params {
        let Some((name, value)) = item.split_once('=') else {
            bail!("invalid --param `{item}`: expected name=value or name=v1,v2,..., for example n=10,100,1000");
        };
        let name = name.trim().to_string();
        if names.contains(&name) {
            bail!("parameter `{name}` is given twice: give it once (a list of values sweeps it)");
        }
        names.push(name.clone());
        if !value.contains(',') {
            fixed.push(item.clone());
            continue;
        }
        if let Some((other, _)) = &swept {
            bail!(
                "`{other}` and `{name}` both list several values: a sweep varies one parameter \
                 (give the other one value)"
            );
        }
        let values: Vec<String> = value.split(',').map(|v| v.trim().to_string()).collect();
        if values.iter().any(String::is_empty) {
            bail!("invalid --param `{item}`: an empty value in the list");
        }
        if let Some(twice) = values
            .iter()
            .enumerate()
            .find(|(i, v)| values[..*i].contains(v))
        {
            bail!("invalid --param `{item}`: {} is listed twice", twice.1);
        }
        swept = Some((name, values));
    }
    let mut counts: Vec<usize> = Vec::new();
    for t in threads.iter().map(|t| usize::from(*t)) {
        if counts.contains(&t) {
            bail!("--threads lists {t} twice");
        }
        counts.push(t);
    }
    if counts.len() < 2 {
        counts.clear();
    }
    if swept.is_none() && counts.is_empty() {
        bail!(
            "nothing to sweep: give one parameter several values (--param n=10,100,1000) or \
             several thread counts (--threads 1,2,4)"
        );
    }
    Ok(SweepPlan {
        fixed,
        param: swept,
        threads: counts,
    })
}

/// The cells of `sweep` on `selection` (whose `params` it replaces with its own): one plan
/// per value and thread count, each checked as `run` checks its parameters, keeping the
/// cases that have the swept parameter. With several thread
/// counts, a multi-threaded runtime's cell ids end in `/threads=N`; a single-threaded
/// runtime's cells are planned once. The points of each line come one after the other.
///
/// # Errors
///
/// What [`plan::plan`] refuses, or a selected workload without the swept parameter.
pub fn plan_sweep(sweep: &SweepPlan, selection: &Selection) -> Result<Vec<PlannedCell>> {
    let values: Vec<Option<&str>> = match &sweep.param {
        Some((_, values)) => values.iter().map(|v| Some(v.as_str())).collect(),
        None => vec![None],
    };
    let threads: Vec<Option<usize>> = if sweep.threads.is_empty() {
        vec![None]
    } else {
        sweep.threads.iter().copied().map(Some).collect()
    };
    let mut cells: Vec<PlannedCell> = Vec::new();
    let mut ids: HashSet<String> = HashSet::new();
    for count in &threads {
        for value in &values {
            let mut point = selection.clone();
            point.params = sweep.fixed.clone();
            if let (Some((name, _)), Some(value)) = (&sweep.param, value) {
                point.params.push(format!("{name}={value}"));
            }
            if let Some(count) = count {
                point.threads = *count;
            }
            for mut cell in plan::plan(&point)? {
                if let Some(count) = count {
                    if is_multi_threaded(cell.runtime) {
                        cell.id = format!("{}/threads={count}", cell.id);
                    }
                }
                if ids.insert(cell.id.clone()) {
                    cells.push(cell);
                }
            }
        }
    }
    if let Some((name, _)) = &sweep.param {
        // Only the cases along the swept parameter: a variant without it (`spawn`'s
        // `spawn_await` in a sweep of `n`) is not part of the sweep.
        let mut workloads: Vec<String> = Vec::new();
        for cell in &cells {
            if !workloads.contains(&cell.case.workload) {
                workloads.push(cell.case.workload.clone());
            }
        }
        cells.retain(|c| c.case.params.get(name).is_some());
        if let Some(without) = workloads
            .iter()
            .find(|w| !cells.iter().any(|c| &c.case.workload == *w))
        {
            bail!(
                "workload `{without}` has no parameter `{name}`: sweep only workloads that \
                 have it (see `tapbench list`)"
            );
        }
    }
    // The points of one line (runtime, variant, the other parameters) side by side, so that
    // each pass measures them back to back and drift of the machine bends no slope.
    let mut lines: Vec<String> = Vec::new();
    let mut line_of = |cell: &PlannedCell| {
        let mut params = cell.case.params.clone();
        if let Some((name, _)) = &sweep.param {
            params.0.remove(name);
        }
        let key = format!(
            "{}/{}/{}/{params}",
            cell.runtime, cell.case.workload, cell.case.variant
        );
        match lines.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                lines.push(key);
                lines.len() - 1
            }
        }
    };
    let order: Vec<usize> = cells.iter().map(&mut line_of).collect();
    let mut ordered: Vec<(usize, PlannedCell)> = order.into_iter().zip(cells).collect();
    ordered.sort_by_key(|(line, _)| *line);
    let cells: Vec<PlannedCell> = ordered.into_iter().map(|(_, cell)| cell).collect();
    if sweep.param.is_none() && !cells.iter().any(|c| is_multi_threaded(c.runtime)) {
        bail!(
            "--threads sweeps nothing here: every selected runtime is single-threaded (add a \
             multi-threaded one, for example --runtime tokio-mt)"
        );
    }
    Ok(cells)
}

/// The swept values as the planner will read them (`1_000` is `1000`), taken from the first
/// of `workloads` that has the parameter; a value it cannot read is left for the planner
/// to refuse with the reason.
///
/// # Errors
///
/// Two values that are the same number (`1000,1_000`).
fn normalize_values(sweep: &mut SweepPlan, workloads: &[String]) -> Result<()> {
    let Some((name, values)) = &mut sweep.param else {
        return Ok(());
    };
    let Some(spec) = workloads
        .iter()
        .filter_map(|w| tapbench_core::find_workload(w))
        .find_map(|w| w.param(name))
    else {
        return Ok(());
    };
    for value in values.iter_mut() {
        if let Ok(parsed) = spec.parse(value) {
            *value = parsed.to_string();
        }
    }
    if let Some((_, twice)) = values
        .iter()
        .enumerate()
        .find(|(i, v)| values[..*i].contains(v))
    {
        bail!("invalid --param `{name}`: {twice} is listed twice");
    }
    Ok(())
}

fn is_multi_threaded(runtime: &str) -> bool {
    tapbench_runtimes::find(runtime).is_some_and(|r| r.info.multi_threaded)
}

/// Runs the sweep `args` asks for (see [`run::run_planned`]).
///
/// # Errors
///
/// Bad input before anything runs, or a results file that can no longer be written.
pub fn sweep(args: SweepArgs) -> Result<RunSummary> {
    if args.workload.is_empty() {
        bail!("a sweep needs --workload: the workload to sweep, for example --workload interleave");
    }
    let mut plan = parse_sweep(&args.params, &args.threads)?;
    normalize_values(&mut plan, &args.workload)?;
    // The file's `env.threads`: the one count, or the largest of a sweep of them.
    let threads = args.threads.iter().copied().max();
    let run_args = RunArgs {
        matrix: args.matrix,
        workload: args.workload,
        params: plan.fixed.clone(),
        threads,
        out: args.out,
        inject_delay_ns: 0.0,
        inject_allocs: 0,
        resume: args.resume,
    };
    let record = Sweep {
        p99_target_ms: args.p99_target_ms,
        ..plan.record()
    };
    run::run_planned(run_args, Some(record), |selection| {
        let cells = plan_sweep(&plan, selection)?;
        if !plan.threads.is_empty() {
            let mut single: Vec<&str> = cells
                .iter()
                .map(|c| c.runtime)
                .filter(|rt| !is_multi_threaded(rt))
                .collect();
            single.dedup();
            if !single.is_empty() {
                eprintln!(
                    "{}: single-threaded, measured once (1 thread), not once per thread count",
                    single.join(", ")
                );
            }
        }
        let what = plan.record().describe();
        eprintln!("sweeping {what}: {} cells", cells.len());
        Ok(cells)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn err(params: &[&str], threads: &[u16]) -> String {
        parse_sweep(&strings(params), threads)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn one_parameter_with_a_list_is_swept_and_the_others_are_fixed() {
        let plan = parse_sweep(&strings(&["n=10, 100,1000", "op=yield"]), &[]).unwrap();
        assert_eq!(plan.fixed, ["op=yield"]);
        assert_eq!(
            plan.param,
            Some(("n".to_string(), strings(&["10", "100", "1000"])))
        );
        assert!(plan.threads.is_empty());
        let threads = parse_sweep(&strings(&["n=1000"]), &[1, 2, 4]).unwrap();
        assert_eq!(threads.param, None);
        assert_eq!(threads.threads, [1, 2, 4]);
        assert_eq!(
            threads.record().describe(),
            "threads over 1, 2, 4 (single-threaded runtimes once, with 1)"
        );
    }

    #[test]
    fn bad_sweeps_are_refused_with_the_reason() {
        assert!(err(&["n=10,100", "m=1,2"], &[]).contains("`n` and `m` both list"));
        assert!(err(&["n=10,100", "n=5"], &[]).contains("`n` is given twice"));
        assert!(err(&["n=10,,100"], &[]).contains("empty value"));
        assert!(err(&["n=10,100,10"], &[]).contains("10 is listed twice"));
        assert!(err(&["n"], &[]).contains("expected name=value"));
        assert!(err(&["n=10"], &[]).contains("nothing to sweep"));
        assert!(err(&["n=10"], &[4]).contains("nothing to sweep"));
        assert!(err(&[], &[2, 2]).contains("lists 2 twice"));
    }

    fn selection(workloads: &[&str], runtimes: &[&str]) -> Selection {
        Selection {
            workloads: strings(workloads),
            runtimes: strings(runtimes),
            threads: 2,
            ..Default::default()
        }
    }

    #[test]
    fn a_sweep_plans_each_value_with_the_run_planner() {
        let plan = parse_sweep(&strings(&["n=50,200,800"]), &[]).unwrap();
        let cells = plan_sweep(&plan, &selection(&["interleave"], &["tokio-ct"])).unwrap();
        let ids: Vec<&str> = cells.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(cells.len(), 6, "{ids:?}");
        assert_eq!(
            ids[..3],
            [
                "tokio-ct/interleave/repeated_select/n=50",
                "tokio-ct/interleave/repeated_select/n=200",
                "tokio-ct/interleave/repeated_select/n=800"
            ],
            "the points of a line are measured side by side"
        );
        for n in ["50", "200", "800"] {
            for v in ["repeated_select", "futures_unordered"] {
                let id = format!("tokio-ct/interleave/{v}/n={n}");
                assert!(ids.contains(&id.as_str()), "{id} not in {ids:?}");
            }
        }
    }

    #[test]
    fn bad_values_and_unknown_parameters_are_refused_before_anything_runs() {
        let sel = selection(&["interleave"], &["tokio-ct"]);
        let refuse = |params: &[&str]| {
            let plan = parse_sweep(&strings(params), &[]).unwrap();
            plan_sweep(&plan, &sel).unwrap_err().to_string()
        };
        assert!(refuse(&["n=10,0"]).contains("parameter `n`"));
        assert!(refuse(&["n=10,ten"]).contains("parameter `n`"));
        assert!(refuse(&["n=10,2000000"]).contains("parameter `n`"));
        assert!(refuse(&["zzz=1,2"]).contains("`zzz`"));
        // A workload without the swept parameter is refused, not run once per value.
        let single = parse_sweep(&[], &[1, 2]).unwrap();
        let e = plan_sweep(&single, &sel).unwrap_err().to_string();
        assert!(
            e.contains("every selected runtime is single-threaded"),
            "{e}"
        );
        let mut same = parse_sweep(&strings(&["n=1000,1_000"]), &[]).unwrap();
        let e = normalize_values(&mut same, &strings(&["interleave"])).unwrap_err();
        assert!(e.to_string().contains("1000 is listed twice"), "{e}");
        let mut plan = parse_sweep(&strings(&["n=10,1_000"]), &[]).unwrap();
        normalize_values(&mut plan, &strings(&["interleave"])).unwrap();
        assert_eq!(plan.record().values, ["10", "1000"]);
        let mixed = selection(&["interleave", "when_any"], &["tokio-ct"]);
        let e = plan_sweep(&plan, &mixed).unwrap_err().to_string();
        assert!(e.contains("`when_any` has no parameter `n`"), "{e}");
        // Variants without it are left out of the sweep.
        let spawn = plan_sweep(&plan, &selection(&["spawn"], &["tokio-ct"])).unwrap();
        assert!(!spawn.is_empty());
        assert!(spawn.iter().all(|c| c.case.params.get("n").is_some()));
    }

    #[test]
    fn thread_counts_get_ids_of_their_own_and_single_threaded_runtimes_run_once() {
        let plan = parse_sweep(&strings(&["n=100"]), &[1, 2, 4]).unwrap();
        let sel = selection(&["interleave"], &["tokio-mt", "tokio-ct"]);
        let cells = plan_sweep(&plan, &sel).unwrap();
        let of = |rt: &str| cells.iter().filter(|c| c.runtime == rt).count();
        assert_eq!(of("tokio-mt"), 2 * 3);
        assert_eq!(of("tokio-ct"), 2, "once, not once per thread count");
        let mut ids: Vec<&str> = cells.iter().map(|c| c.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), cells.len(), "ids collide: {ids:?}");
        let four = cells
            .iter()
            .find(|c| c.id == "tokio-mt/interleave/repeated_select/n=100/threads=4")
            .unwrap();
        assert_eq!(four.threads, 4);
        assert!(cells
            .iter()
            .filter(|c| c.runtime == "tokio-ct")
            .all(|c| c.threads == 1 && !c.id.contains("threads=")));
    }
}
