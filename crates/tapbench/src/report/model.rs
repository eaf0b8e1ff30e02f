//! What every report shows, built once from a results file, in the one order of cases.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use tapbench_core::{find_workload, ParamKind, ParamValue, Params, WorkloadSpec};

use crate::results::{CellResult, ResultsFile, Status};

/// An output format.
pub trait Renderer {
    /// The file name the report is written to (`report.md`, ...).
    fn file_name(&self) -> &'static str;

    /// The whole report.
    ///
    /// # Errors
    ///
    /// A chart that could not be drawn.
    fn render(&self, model: &Model<'_>) -> anyhow::Result<String>;
}

/// What every report shows, computed once from a results file.
#[derive(Debug)]
pub struct Model<'a> {
    /// The results file.
    pub results: &'a ResultsFile,
    /// The runtime the Ratio column divides by.
    pub baseline: String,
    /// One section per workload with a measured cell, in catalogue order.
    pub sections: Vec<Section<'a>>,
    /// Cells that did not end `ok`, in file order.
    pub problems: Vec<&'a CellResult>,
    /// The p99 latency under which a request-driven cell sustains its offered rate, in
    /// nanoseconds (the capacity tables' criterion).
    pub p99_target_ns: f64,
}

/// The cells of one workload.
#[derive(Debug)]
pub struct Section<'a> {
    /// Workload id.
    pub workload: String,
    /// Its catalogue entry, when this build knows it.
    pub spec: Option<&'static WorkloadSpec>,
    /// Measured (`ok`) cells, case by case in the order of `cases`, then by runtime.
    pub rows: Vec<Row<'a>>,
    /// Every case of the workload, measured or not, in report order (see [`compare_cases`]).
    pub cases: Vec<CaseCells<'a>>,
    /// The runtimes of the workload's cells, measured or not, in registry order.
    pub runtimes: Vec<&'a str>,
    /// The variants of the workload's measured cells, in catalogue order.
    pub variants: Vec<&'a str>,
    /// The parameters the results file declares swept (`tapbench sweep`): its parameter,
    /// and `threads` in a sweep of thread counts (see [`with_threads_as_param`]).
    pub swept: Vec<String>,
}

/// One case (a variant with its parameters) and its cells on every runtime.
#[derive(Debug)]
pub struct CaseCells<'a> {
    /// `workload/variant/params`, see [`case_key`].
    pub key: String,
    /// The variant.
    pub variant: &'a str,
    /// The parameters.
    pub params: &'a Params,
    /// One cell per runtime, in registry order: measured ones and those that did not run.
    pub cells: Vec<&'a CellResult>,
}

/// One measured cell with what the report derives from it.
#[derive(Debug)]
pub struct Row<'a> {
    /// The cell.
    pub cell: &'a CellResult,
    /// Median time per op over the baseline runtime's median for the same case.
    pub ratio: Option<f64>,
}

impl Row<'_> {
    /// The runtime's label: its id, with "(legacy)" for discontinued runtimes.
    pub fn runtime_label(&self) -> String {
        runtime_label(&self.cell.runtime)
    }
}

/// A runtime id with "(legacy)" appended for discontinued runtimes.
pub fn runtime_label(id: &str) -> String {
    tapbench_runtimes::find(id).map_or_else(|| id.to_string(), |r| r.info.label())
}

/// The case of a cell without its runtime: `workload/variant/params`.
pub fn case_key(cell: &CellResult) -> String {
    let params = cell.params.to_string();
    if params.is_empty() {
        format!("{}/{}", cell.workload, cell.variant)
    } else {
        format!("{}/{}/{params}", cell.workload, cell.variant)
    }
}

/// A runtime's place in the registry (unknown runtimes last).
pub fn runtime_rank(id: &str) -> usize {
    tapbench_runtimes::all()
        .iter()
        .position(|r| r.info.id == id)
        .unwrap_or(usize::MAX)
}

/// Orders runtime ids by registry, then by name.
pub fn compare_runtimes(a: &str, b: &str) -> Ordering {
    runtime_rank(a).cmp(&runtime_rank(b)).then_with(|| a.cmp(b))
}

/// A variant's place in the catalogue entry (unknown variants last).
fn variant_rank(spec: Option<&WorkloadSpec>, variant: &str) -> usize {
    spec.and_then(|s| s.variants.iter().position(|v| v.id == variant))
        .unwrap_or(usize::MAX)
}

/// Orders variant ids by catalogue, then by name.
pub fn compare_variants(spec: Option<&WorkloadSpec>, a: &str, b: &str) -> Ordering {
    variant_rank(spec, a)
        .cmp(&variant_rank(spec, b))
        .then_with(|| a.cmp(b))
}

/// A parameter value as a number, when it is one.
pub fn param_number(v: &ParamValue) -> Option<f64> {
    match v {
        ParamValue::Int(i) => Some(*i as f64),
        ParamValue::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

/// The order in which values of parameter `name` are shown: the catalogue's order for
/// choices (`ready`, `yield`, `sleep_1ms`), numeric order for numbers, text order otherwise
/// (numbers first). A total order even for a hand-edited file that mixes types.
pub fn compare_values(
    spec: Option<&WorkloadSpec>,
    name: &str,
    a: &ParamValue,
    b: &ParamValue,
) -> Ordering {
    let choices: &[&str] = match spec.and_then(|s| s.param(name)).map(|p| p.kind) {
        Some(ParamKind::Choice(names)) => names,
        _ => &[],
    };
    let rank = |v: &ParamValue| match v {
        ParamValue::Text(t) => choices.iter().position(|c| c == t).unwrap_or(usize::MAX),
        _ => 0,
    };
    rank(a)
        .cmp(&rank(b))
        .then_with(|| match (param_number(a), param_number(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.to_string().cmp(&b.to_string()),
        })
}

/// Orders parameter sets by name, each parameter's values as [`compare_values`] does;
/// parameters for which `skip` is true are ignored.
pub fn compare_params(
    spec: Option<&WorkloadSpec>,
    a: &Params,
    b: &Params,
    skip: &dyn Fn(&str) -> bool,
) -> Ordering {
    let names: BTreeSet<&String> = a.0.keys().chain(b.0.keys()).collect();
    for name in names.into_iter().filter(|n| !skip(n)) {
        let ord = match (a.get(name), b.get(name)) {
            (Some(x), Some(y)) => compare_values(spec, name, x, y),
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// The one order of cases of every table and chart: variant in catalogue order, then
/// parameters (numbers numerically, choices in catalogue order).
pub fn compare_cases(
    spec: Option<&WorkloadSpec>,
    a: &CaseCells<'_>,
    b: &CaseCells<'_>,
) -> Ordering {
    compare_variants(spec, a.variant, b.variant)
        .then_with(|| compare_params(spec, a.params, b.params, &|_| false))
}

/// Builds the model of `results`, with ratios against `baseline`.
pub fn build_model<'a>(results: &'a ResultsFile, baseline: &str) -> Model<'a> {
    let mut baseline_medians: HashMap<String, f64> = HashMap::new();
    for cell in &results.cells {
        if cell.runtime == baseline && cell.status == Status::Ok {
            if let Some(t) = &cell.time_ns_per_op {
                baseline_medians.insert(case_key(cell), t.median);
            }
        }
    }
    let catalogue_rank = |workload: &str| {
        tapbench_core::catalogue()
            .iter()
            .position(|w| w.id == workload)
            .unwrap_or(usize::MAX)
    };
    let mut by_workload: BTreeMap<(usize, &str), Vec<&CellResult>> = BTreeMap::new();
    for cell in &results.cells {
        by_workload
            .entry((catalogue_rank(&cell.workload), cell.workload.as_str()))
            .or_default()
            .push(cell);
    }
    let mut swept: Vec<String> = Vec::new();
    if let Some(sweep) = &results.sweep {
        swept.extend(sweep.param.clone());
        if !sweep.threads.is_empty() {
            swept.push(THREADS.to_string());
        }
    }
    let sections = by_workload
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| c.status == Status::Ok))
        .map(|((_, workload), cells)| {
            let mut section = build_section(workload, &cells, &baseline_medians);
            section.swept = swept
                .iter()
                .filter(|p| section.rows.iter().any(|r| r.cell.params.get(p).is_some()))
                .cloned()
                .collect();
            section
        })
        .collect();
    let problems = results
        .cells
        .iter()
        .filter(|c| c.status != Status::Ok)
        .collect();
    Model {
        results,
        baseline: baseline.to_string(),
        sections,
        problems,
        p99_target_ns: results.p99_target_ns(),
    }
}

/// The section of one workload from all its cells (at least one of them measured).
fn build_section<'a>(
    workload: &str,
    cells: &[&'a CellResult],
    baseline_medians: &HashMap<String, f64>,
) -> Section<'a> {
    let spec = find_workload(workload);
    let mut cases: Vec<CaseCells<'a>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for &cell in cells {
        let key = case_key(cell);
        match index.get(&key) {
            Some(&i) => cases[i].cells.push(cell),
            None => {
                index.insert(key.clone(), cases.len());
                cases.push(CaseCells {
                    key,
                    variant: &cell.variant,
                    params: &cell.params,
                    cells: vec![cell],
                });
            }
        }
    }
    cases.sort_by(|a, b| compare_cases(spec, a, b));
    for case in &mut cases {
        case.cells
            .sort_by(|a, b| compare_runtimes(&a.runtime, &b.runtime));
    }
    let rows = cases
        .iter()
        .flat_map(|case| {
            case.cells
                .iter()
                .filter(|c| c.status == Status::Ok)
                .map(|&cell| {
                    let ratio = match (baseline_medians.get(&case.key), &cell.time_ns_per_op) {
                        (Some(base), Some(t)) if *base > 0.0 => Some(t.median / base),
                        _ => None,
                    };
                    Row { cell, ratio }
                })
        })
        .collect();
    let mut runtimes: Vec<&str> = Vec::new();
    let mut variants: Vec<&str> = Vec::new();
    for cell in cells {
        if !runtimes.contains(&cell.runtime.as_str()) {
            runtimes.push(&cell.runtime);
        }
        if cell.status == Status::Ok && !variants.contains(&cell.variant.as_str()) {
            variants.push(&cell.variant);
        }
    }
    runtimes.sort_by(|a, b| compare_runtimes(a, b));
    variants.sort_by(|a, b| compare_variants(spec, a, b));
    Section {
        workload: workload.to_string(),
        spec,
        rows,
        cases,
        runtimes,
        variants,
        swept: Vec::new(),
    }
}

/// The name under which a sweep of thread counts shows the threads among the parameters.
pub const THREADS: &str = "threads";

/// The file a report renders: `results` itself, or, for a sweep of thread counts, a copy
/// in which every cell's thread count is also a parameter (`threads=4`), so that cells of
/// one case at two thread counts are two cases in every table, and the sweep charts and
/// growth tables run along the threads as along any parameter. The file is not changed.
pub fn with_threads_as_param(results: &ResultsFile) -> Cow<'_, ResultsFile> {
    let swept = results
        .sweep
        .as_ref()
        .is_some_and(|s| !s.threads.is_empty());
    if !swept {
        return Cow::Borrowed(results);
    }
    let mut view = results.clone();
    for cell in &mut view.cells {
        if cell.params.get(THREADS).is_none() {
            cell.params
                .0
                .insert(THREADS.to_string(), ParamValue::Int(cell.threads as u64));
        }
    }
    Cow::Owned(view)
}

/// The measured cells of `section` with a load (request-driven workloads).
pub fn load_cells<'a>(section: &Section<'a>) -> Vec<&'a CellResult> {
    section
        .rows
        .iter()
        .map(|r| r.cell)
        .filter(|c| c.load.is_some())
        .collect()
}

/// The parameter that sets the offered rate of `section`'s load cells: the one whose value
/// is the cell's offered rate in every one of them (`rate`). `None` without load cells.
pub fn rate_param(section: &Section<'_>) -> Option<String> {
    let cells = load_cells(section);
    let first = cells.first()?;
    let offered = |c: &CellResult| c.load.as_ref().map_or(f64::NAN, |l| l.offered_per_s);
    first
        .params
        .0
        .keys()
        .find(|name| {
            cells.iter().all(|c| {
                c.params
                    .get(name)
                    .and_then(param_number)
                    .is_some_and(|v| (v - offered(c)).abs() <= 1e-9 * v.abs().max(1.0))
            })
        })
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/small-results.json");

    fn fixture() -> ResultsFile {
        serde_json::from_str(FIXTURE).expect("the fixture is a valid results file")
    }

    #[test]
    fn sections_follow_the_catalogue_and_rows_the_case_order() {
        let results = fixture();
        let model = build_model(&results, "tokio-mt");
        let names: Vec<&str> = model.sections.iter().map(|s| s.workload.as_str()).collect();
        // `fault` has no measured cell: it is only among the problems.
        assert_eq!(
            names,
            ["when_all", "cache", "producer_consumer", "value_task"]
        );
        assert_eq!(model.problems.len(), 2);
        let when_all = &model.sections[0];
        assert_eq!(when_all.runtimes, ["tokio-mt", "tokio-ct", "smol-mt"]);
        assert_eq!(when_all.variants, ["join_all", "native"]);
        // The skipped smol cell belongs to its case, after the measured runtimes.
        let native = when_all.cases.last().unwrap();
        assert_eq!(native.variant, "native");
        assert_eq!(native.cells.len(), 3);
        assert_eq!(native.cells[2].status, Status::Skipped);
        // Rows are the measured cells of the cases, in the cases' order.
        let from_cases: Vec<&str> = when_all
            .cases
            .iter()
            .flat_map(|c| &c.cells)
            .filter(|c| c.status == Status::Ok)
            .map(|c| c.id.as_str())
            .collect();
        let rows: Vec<&str> = when_all.rows.iter().map(|r| r.cell.id.as_str()).collect();
        assert_eq!(rows, from_cases);
        assert_eq!(when_all.rows[0].ratio, Some(1.0));
    }

    #[test]
    fn choices_follow_the_catalogue_and_numbers_their_value() {
        let spec = find_workload("when_all");
        let text = |t: &str| ParamValue::Text(t.into());
        let mut ops = vec![text("sleep_1ms"), text("yield"), text("ready")];
        ops.sort_by(|a, b| compare_values(spec, "op", a, b));
        assert_eq!(ops, [text("ready"), text("yield"), text("sleep_1ms")]);
        let mut ns = vec![ParamValue::Int(1000), ParamValue::Int(10), text("x")];
        ns.sort_by(|a, b| compare_values(spec, "n", a, b));
        assert_eq!(ns, [ParamValue::Int(10), ParamValue::Int(1000), text("x")]);
    }
}
