//! How cost grows along a swept parameter (`n`, `threads`, ...): the lines of a sweep
//! (runtime x variant x the other parameters) and, on log axes, each line's growth
//! exponent fitted by least squares - the numbers behind the sweep charts, for every
//! renderer.

use std::collections::{BTreeMap, HashMap};

use tapbench_core::{ParamValue, Params, View, WorkloadSpec};

use super::charts::labels::{constant_params, param_pieces};
use super::format::{format_count, format_duration_ns};
use super::model::{param_number, Section};
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
    /// Every line with two points or more, points sorted by the parameter: (value, median
    /// time per operation in ns).
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

/// Whether two values of parameter `name` already make a sweep: `threads`, and the
/// parameters the workload's views pivot on.
fn swept_from_two(spec: Option<&WorkloadSpec>, name: &str) -> bool {
    name == "threads"
        || spec.is_some_and(|s| {
            s.views.iter().any(|view| match view {
                View::Pivot(pivot) => pivot.param == name,
            })
        })
}

/// Parameters of `section` worth a sweep: numbers with three values or more, those of
/// [`swept_from_two`] with two or more; with whether each is a size (log axis).
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
    values
        .into_iter()
        .filter(|(k, v)| v.len() >= 3 || (swept_from_two(section.spec, k) && v.len() >= 2))
        .map(|(k, v)| {
            let size = all_ints.get(k).copied().unwrap_or(false) && v.iter().all(|x| *x > 0.0);
            (k.to_string(), size)
        })
        .collect()
}

/// The lines of `section` along `param`.
pub fn sweep_lines<'a>(section: &Section<'a>, param: &str) -> SweepLines<'a> {
    let cells: Vec<&'a CellResult> = section
        .rows
        .iter()
        .map(|r| r.cell)
        .filter(|c| c.params.get(param).and_then(param_number).is_some())
        .filter(|c| c.time_ns_per_op.is_some())
        .collect();
    let params: Vec<&Params> = cells.iter().map(|c| &c.params).collect();
    let constants = constant_params(&params);
    let mut lines: Vec<(LineKey<'a>, Vec<(f64, f64)>)> = Vec::new();
    let mut index: HashMap<LineKey<'a>, usize> = HashMap::new();
    for c in &cells {
        let (Some(x), Some(t)) = (
            c.params.get(param).and_then(param_number),
            &c.time_ns_per_op,
        ) else {
            continue;
        };
        let key = (
            c.runtime.as_str(),
            c.variant.as_str(),
            others_text(&c.params, param, &constants),
        );
        match index.get(&key) {
            Some(&i) => lines[i].1.push((x, t.median)),
            None => {
                index.insert(key.clone(), lines.len());
                lines.push((key, vec![(x, t.median)]));
            }
        }
    }
    for (_, points) in &mut lines {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    lines.retain(|(_, p)| p.len() >= 2);
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
}
