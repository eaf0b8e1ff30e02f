//! How cost grows along a swept parameter (`n`, `threads`, ...): the lines of a sweep
//! (runtime x variant x the other parameters) and, on log axes, each line's growth
//! exponent fitted by least squares - the numbers behind the sweep charts, for every
//! renderer.

use std::collections::{BTreeMap, HashMap};

use tapbench_core::{ParamValue, Params, View};

use super::charts::labels::{constant_params, param_pieces};
use super::format::{format_count, format_duration_ns};
use super::model::{param_number, rate_param, runtime_label, Section};
use super::tables::Table;
use crate::results::CellResult;

/// A line of a sweep: runtime, variant, the other parameters.
pub type LineKey<'a> = (&'a str, &'a str, String);

/// The lines of a sweep along one parameter.
pub struct SweepLines<'a> {
    /// The cells measured with a number for the parameter.
    pub cells: Vec<&'a CellResult>,
    /// The parameters with one value in all those cells.
    pub constants: BTreeMap<String, ParamValue>,
    /// Every line with enough points, points sorted by the parameter: (value, the metric:
    /// median time per operation in ns unless asked otherwise).
    pub lines: Vec<(LineKey<'a>, Vec<(f64, f64)>)>,
}

/// The parameters of a line other than the swept one and the constants, as `op=yield`.
pub fn others_text(
    params: &Params,
    param: &str,
    constants: &BTreeMap<String, ParamValue>,
) -> String {
    param_pieces(params, &|k| k == param || constants.contains_key(k)).join(", ")
}

/// Whether two values of parameter `name` already make a sweep: `threads`, the parameters
/// the workload's views pivot on, and those the results file declares swept.
fn swept_from_two(section: &Section<'_>, name: &str) -> bool {
    name == "threads"
        || section.swept.iter().any(|p| p == name)
        || section.spec.is_some_and(|s| {
            s.views.iter().any(|view| match view {
                View::Pivot(pivot) => pivot.param == name,
            })
        })
}

/// Parameters of `section` worth a sweep: numbers with three values or more, those of
/// [`swept_from_two`] (a declared sweep among them) with two or more; with whether each is
/// a size (log axis).
pub fn sweep_params(section: &Section<'_>) -> Vec<(String, bool)> {
    let mut values: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut all_ints: BTreeMap<&str, bool> = BTreeMap::new();
    for row in &section.rows {
        for (k, v) in &row.cell.params.0 {
            if let Some(x) = param_number(v) {
                let list = values.entry(k).or_default();
                if !list.contains(&x) {
                    list.push(x);
                }
                let int = all_ints.entry(k).or_insert(true);
                *int &= matches!(v, ParamValue::Int(_));
            }
        }
    }
    let rate = rate_param(section);
    values
        .into_iter()
        .filter(|(k, _)| rate.as_deref() != Some(*k))
        .filter(|(k, v)| v.len() >= 3 || (swept_from_two(section, k) && v.len() >= 2))
        .map(|(k, v)| {
            let size = all_ints.get(k).copied().unwrap_or(false) && v.iter().all(|x| *x > 0.0);
            (k.to_string(), size)
        })
        .collect()
}

/// What a sweep draws of a cell: the median time per operation, a latency percentile.
pub type Metric = fn(&CellResult) -> Option<f64>;

/// The median time per operation, in nanoseconds.
pub fn median_time(cell: &CellResult) -> Option<f64> {
    cell.time_ns_per_op.as_ref().map(|t| t.median)
}

/// The lines of `section` along `param`: median time per operation.
pub fn sweep_lines<'a>(section: &Section<'a>, param: &str) -> SweepLines<'a> {
    lines_along(section, param, 2, median_time)
}

/// The lines of `section` along `param` with `min_points` points or more of `metric`.
pub fn lines_along<'a>(
    section: &Section<'a>,
    param: &str,
    min_points: usize,
    metric: Metric,
) -> SweepLines<'a> {
    let cells: Vec<&'a CellResult> = section
        .rows
        .iter()
        .map(|r| r.cell)
        .filter(|c| c.params.get(param).and_then(param_number).is_some())
        .filter(|c| metric(c).is_some())
        .collect();
    let params: Vec<&Params> = cells.iter().map(|c| &c.params).collect();
    let constants = constant_params(&params);
    let mut lines: Vec<(LineKey<'a>, Vec<(f64, f64)>)> = Vec::new();
    let mut index: HashMap<LineKey<'a>, usize> = HashMap::new();
    for c in &cells {
        let (Some(x), Some(y)) = (c.params.get(param).and_then(param_number), metric(c)) else {
            continue;
        };
        let key = (
            c.runtime.as_str(),
            c.variant.as_str(),
            others_text(&c.params, param, &constants),
        );
        match index.get(&key) {
            Some(&i) => lines[i].1.push((x, y)),
            None => {
                index.insert(key.clone(), lines.len());
                lines.push((key, vec![(x, y)]));
            }
        }
    }
    for (_, points) in &mut lines {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    lines.retain(|(_, p)| p.len() >= min_points);
    SweepLines {
        cells,
        constants,
        lines,
    }
}

/// The growth of one line of a sweep on log-log axes: cost proportional to `param^exponent`.
#[derive(Debug, Clone, PartialEq)]
pub struct Growth {
    /// Runtime id.
    pub runtime: String,
    /// Variant id.
    pub variant: String,
    /// The other parameters of the line (`op=yield`), empty when there are none.
    pub others: String,
    /// Smallest and largest parameter values of the line.
    pub from_x: f64,
    /// See `from_x`.
    pub to_x: f64,
    /// Median time per operation at `from_x`, nanoseconds.
    pub from_ns: f64,
    /// Median time per operation at `to_x`, nanoseconds.
    pub to_ns: f64,
    /// The exponent fitted by least squares to every point on log-log axes (the slope from
    /// the first to the last point when there are two).
    pub exponent: f64,
    /// Log-log slope between the last two points (the growth at the largest sizes).
    pub last_step: f64,
}

/// The least-squares slope of `ln y` against `ln x` over `points` (all positive).
pub fn fitted_exponent(points: &[(f64, f64)]) -> f64 {
    let logs: Vec<(f64, f64)> = points.iter().map(|(x, y)| (x.ln(), y.ln())).collect();
    let n = logs.len() as f64;
    let mean_x = logs.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = logs.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = logs.iter().map(|(x, y)| (x - mean_x) * (y - mean_y)).sum();
    let sxx: f64 = logs.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    sxy / sxx
}

/// The growth of every line with two positive points or more, steepest last step first.
pub fn growth_of(lines: &[(LineKey<'_>, Vec<(f64, f64)>)]) -> Vec<Growth> {
    let mut growth: Vec<Growth> = lines
        .iter()
        .filter_map(|((rt, variant, others), points)| {
            let positive: Vec<(f64, f64)> = points
                .iter()
                .copied()
                .filter(|(x, y)| *x > 0.0 && *y > 0.0)
                .collect();
            let (&first, &last) = (positive.first()?, positive.last()?);
            let before = positive.get(positive.len().checked_sub(2)?)?;
            (last.0 > first.0).then(|| Growth {
                runtime: (*rt).to_string(),
                variant: (*variant).to_string(),
                others: others.clone(),
                from_x: first.0,
                to_x: last.0,
                from_ns: first.1,
                to_ns: last.1,
                exponent: fitted_exponent(&positive),
                last_step: fitted_exponent(&[*before, last]),
            })
        })
        .filter(|g| g.exponent.is_finite() && g.last_step.is_finite())
        .collect();
    growth.sort_by(|a, b| b.last_step.total_cmp(&a.last_step));
    growth
}

/// The growth exponents of `section` along every swept size parameter: `(param, growth)`.
pub fn section_growth(section: &Section<'_>) -> Vec<(String, Vec<Growth>)> {
    sweep_params(section)
        .into_iter()
        .filter(|(_, log_x)| *log_x)
        .map(|(param, _)| {
            let growth = growth_of(&sweep_lines(section, &param).lines);
            (param, growth)
        })
        .filter(|(_, growth)| !growth.is_empty())
        .collect()
}

/// How to read a growth exponent, in one sentence (`param` is the swept parameter).
pub fn how_to_read(param: &str) -> String {
    format!(
        "On log-log axes a line's slope k says how time per operation grows with {param}: as \
         {param}^k (k = 1 is linear, k = 2 quadratic). k fitted is the least-squares slope over \
         every size measured; k last step the slope between the two largest."
    )
}

/// The table of growth exponents: one row per line, steepest last step first.
pub fn growth_table(param: &str, growth: &[Growth]) -> Table {
    Table {
        headers: vec![
            "runtime".into(),
            "variant".into(),
            "other params".into(),
            format!("{param} range"),
            "time at smallest".into(),
            "time at largest".into(),
            "k fitted".into(),
            "k last step".into(),
        ],
        numeric: vec![false, false, false, true, true, true, true, true],
        rows: growth
            .iter()
            .map(|g| {
                vec![
                    g.runtime.clone(),
                    g.variant.clone(),
                    g.others.clone(),
                    format!(
                        "{} .. {}",
                        format_count(g.from_x, true),
                        format_count(g.to_x, true)
                    ),
                    format_duration_ns(g.from_ns, false),
                    format_duration_ns(g.to_ns, false),
                    format!("{:.2}", g.exponent),
                    format!("{:.2}", g.last_step),
                ]
            })
            .collect(),
    }
}

/// The table of a declared sweep (`tapbench sweep`) along `param`: one row per line
/// (runtime x variant x the other parameters), the median time per operation at every
/// value of `param`, and on a size the fitted growth exponent; a line of one point (a
/// single-threaded runtime in a sweep of threads) is a row too, for reference. `None` when
/// `param` has no line of two points in `section`.
pub fn cost_table(section: &Section<'_>, param: &str) -> Option<Table> {
    if rate_param(section).as_deref() == Some(param) {
        // Time per request along an offered rate is the rate's inverse: the capacity
        // table and the latency chart say what such a sweep found.
        return None;
    }
    let sweep = lines_along(section, param, 1, median_time);
    if sweep.lines.iter().all(|(_, points)| points.len() < 2) {
        return None;
    }
    let size = sweep
        .lines
        .iter()
        .flat_map(|(_, points)| points.iter())
        .all(|(x, _)| *x > 0.0 && x.fract() == 0.0);
    Some(line_table(
        &sweep,
        |x| format!("{param} = {}", format_count(x, true)),
        size,
    ))
}

/// The table of a sweep's lines: one row per runtime, variant and the other parameters,
/// one column per value of the swept parameter (headed by `header`), the metric as a
/// duration in each cell (`-` where the line has no point); with `exponent`, a last column
/// "k fitted" with the line's growth exponent.
pub fn line_table(sweep: &SweepLines<'_>, header: impl Fn(f64) -> String, exponent: bool) -> Table {
    let mut xs: Vec<f64> = sweep
        .lines
        .iter()
        .flat_map(|(_, points)| points.iter().map(|(x, _)| *x))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let mut headers = vec![
        "runtime".to_string(),
        "variant".to_string(),
        "other params".to_string(),
    ];
    headers.extend(xs.iter().map(|x| header(*x)));
    let mut numeric = vec![false, false, false];
    numeric.extend(xs.iter().map(|_| true));
    if exponent {
        headers.push("k fitted".to_string());
        numeric.push(true);
    }
    let rows = sweep
        .lines
        .iter()
        .map(|((rt, variant, others), points)| {
            let mut row = vec![runtime_label(rt), variant.to_string(), others.clone()];
            row.extend(xs.iter().map(|x| {
                points
                    .iter()
                    .find(|(px, _)| px == x)
                    .map_or_else(|| "-".to_string(), |(_, ns)| format_duration_ns(*ns, false))
            }));
            if exponent {
                let growth = growth_of(&[((*rt, *variant, others.clone()), points.clone())]);
                row.push(
                    growth
                        .first()
                        .map_or_else(|| "-".to_string(), |g| format!("{:.2}", g.exponent)),
                );
            }
            row
        })
        .collect();
    Table {
        headers,
        numeric,
        rows,
    }
}

/// What the cost table of a declared sweep shows, in one sentence.
pub fn cost_table_intro(param: &str, sweep: Option<&crate::results::Sweep>) -> String {
    let what = sweep.map(|s| s.describe()).unwrap_or_default();
    format!(
        "This file is a sweep: {what}. Median time per operation at every value of {param}, \
         one row per runtime, variant and the other parameters; k fitted is the growth \
         exponent on log-log axes (time per operation as {param}^k)."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fitted_exponent_is_the_least_squares_slope() {
        let square: Vec<(f64, f64)> = [100.0, 1000.0, 10_000.0]
            .iter()
            .map(|x: &f64| (*x, 3.0 * x * x))
            .collect();
        assert!((fitted_exponent(&square) - 2.0).abs() < 1e-9);
        // A kink: 1 then 2; the fit lies between, the last step says 2.
        let kinked = [(10.0, 10.0), (100.0, 100.0), (1000.0, 10_000.0)];
        let k = fitted_exponent(&kinked);
        assert!(k > 1.2 && k < 1.8, "{k}");
        let key: LineKey<'_> = ("tokio-mt", "v", String::new());
        let growth = growth_of(&[(key, kinked.to_vec())]);
        assert!((growth[0].last_step - 2.0).abs() < 1e-9);
        assert!((growth[0].exponent - k).abs() < 1e-12);
    }

    use crate::report::model::{build_model, with_threads_as_param, Renderer};
    use crate::results::{ResultsFile, Status, Sweep};

    const FIXTURE: &str = include_str!("../../tests/fixtures/small-results.json");

    /// The fixture's header with `interleave` cells: `(runtime, threads, variant, n, ns)`.
    fn file(cells: &[(&str, usize, &str, u64, f64)], sweep: Sweep) -> ResultsFile {
        let mut results: ResultsFile = serde_json::from_str(FIXTURE).unwrap();
        let template = results
            .cells
            .iter()
            .find(|c| c.status == Status::Ok && c.time_ns_per_op.is_some())
            .unwrap()
            .clone();
        results.cells = cells
            .iter()
            .map(|&(runtime, threads, variant, n, ns)| {
                let mut c = template.clone();
                c.runtime = runtime.to_string();
                c.threads = threads;
                c.workload = "interleave".into();
                c.variant = variant.into();
                c.params = Params::from_pairs([("n".to_string(), ParamValue::Int(n))]);
                c.id = format!("{runtime}/interleave/{variant}/n={n}/threads={threads}");
                c.time_ns_per_op.as_mut().unwrap().median = ns;
                c
            })
            .collect();
        results.sweep = Some(sweep);
        results
    }

    #[test]
    fn a_declared_sweep_of_two_values_gets_its_growth_and_cost_table() {
        let cells: Vec<(&str, usize, &str, u64, f64)> = [100u64, 1000]
            .into_iter()
            .flat_map(|n| {
                let x = n as f64;
                [
                    ("tokio-ct", 1, "repeated_select", n, x * x),
                    ("tokio-ct", 1, "futures_unordered", n, 5.0 * x),
                ]
            })
            .collect();
        let sweep = Sweep {
            param: Some("n".into()),
            values: vec!["100".into(), "1000".into()],
            threads: vec![],
            p99_target_ms: None,
        };
        let mut results = file(&cells, sweep);
        let model = build_model(&results, "tokio-mt");
        let growth = section_growth(&model.sections[0]);
        assert_eq!(growth.len(), 1, "the declared n is a sweep from two values");
        let k = |v: &str| {
            growth[0]
                .1
                .iter()
                .find(|g| g.variant == v)
                .unwrap()
                .exponent
        };
        assert!((k("repeated_select") - 2.0).abs() < 1e-9);
        assert!((k("futures_unordered") - 1.0).abs() < 1e-9);
        let costs = cost_table(&model.sections[0], "n").unwrap();
        assert_eq!(costs.rows.len(), 2);
        assert_eq!(costs.headers.last().unwrap(), "k fitted");
        assert_eq!(costs.rows[0].last().unwrap(), "2.00");
        let md = crate::report::markdown::Markdown.render(&model).unwrap();
        assert!(md.contains("### Cost against n (swept)"), "{md}");
        assert!(md.contains("n over 100, 1000"), "{md}");
        assert!(md.contains("### Growth with n"), "{md}");

        // The same two values in a plain run are no sweep.
        results.sweep = None;
        let model = build_model(&results, "tokio-mt");
        assert!(section_growth(&model.sections[0]).is_empty());
    }

    #[test]
    fn a_sweep_of_threads_shows_each_thread_count_as_a_case() {
        let mut cells = Vec::new();
        for threads in [1, 2, 4] {
            cells.push((
                "tokio-mt",
                threads,
                "repeated_select",
                100,
                100.0 / threads as f64,
            ));
        }
        cells.push(("tokio-ct", 1, "repeated_select", 100, 80.0));
        let sweep = Sweep {
            param: None,
            values: vec![],
            threads: vec![1, 2, 4],
            p99_target_ms: None,
        };
        let results = file(&cells, sweep);
        let view = with_threads_as_param(&results);
        let model = build_model(&view, "tokio-mt");
        let section = &model.sections[0];
        assert_eq!(section.swept, ["threads"]);
        assert_eq!(section.cases.len(), 3, "one case per thread count");
        assert!(section.cases.iter().all(|c| c.cells.len() <= 2));
        let costs = cost_table(section, "threads").unwrap();
        assert_eq!(costs.rows.len(), 2, "{:?}", costs.rows);
        assert_eq!(costs.rows[0][0], "tokio-mt");
        assert_eq!(costs.rows[0][6], "-1.00");
        // tokio-ct, single-threaded: one point, for reference, and no exponent.
        assert_eq!(costs.rows[1][0], "tokio-ct");
        assert_eq!(costs.rows[1][4..], ["-", "-", "-"]);
        assert!((growth_of(&sweep_lines(section, "threads").lines)[0].exponent + 1.0).abs() < 1e-9);
        let md = crate::report::markdown::Markdown.render(&model).unwrap();
        assert!(md.contains("### Cost against threads (swept)"), "{md}");
        assert!(md.contains("swept: 1, 2, 4"), "{md}");
        // Ratios divide by the baseline at the same thread count.
        let ct = section
            .rows
            .iter()
            .find(|r| r.cell.runtime == "tokio-ct")
            .unwrap();
        assert!((ct.ratio.unwrap() - 0.8).abs() < 1e-9);
        // The file itself is left as it was.
        assert!(results
            .cells
            .iter()
            .all(|c| c.params.get("threads").is_none()));
    }
}
