//! Cost against a swept parameter (`n`, `threads`, ...), with growth exponents on log axes.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Result;
use tapbench_core::{ParamValue, View, WorkloadSpec};

use super::axes::Axis;
use super::canvas::Chart;
use super::draw::{runtime_legend, Swatch};
use super::labels::{constant_params, constants_text, param_pieces};
use super::panels::{panel_grid, LinePanel, PanelAxes, Series};
use super::style::{
    ensure_font, fit, runtime_color, variant_look, wrap, F_HEAD, F_LABEL, INK, PAD, WIDTH,
};
use crate::report::format::{format_count, format_duration_ns};
use crate::report::model::{compare_params, param_number, Section};
use crate::results::CellResult;

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
    /// Log-log slope from the first to the last point.
    pub exponent: f64,
    /// Log-log slope between the last two points (the growth at the largest sizes).
    pub last_step: f64,
}

/// A chart of cost against one swept parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepChart {
    /// The swept parameter.
    pub param: String,
    /// Whether the parameter axis is logarithmic (a size).
    pub log_x: bool,
    /// The chart.
    pub chart: Chart,
    /// Growth exponents of every line with two points or more, steepest last step first
    /// (log axes only; empty on a linear parameter axis).
    pub growth: Vec<Growth>,
}

/// A line of a sweep: runtime, variant, the other parameters.
type LineKey<'a> = (&'a str, &'a str, String);

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

/// Parameters of `section` worth a sweep chart: numbers with three values or more, those of
/// [`swept_from_two`] with two or more; with whether each is a size (log axis).
fn sweep_params(section: &Section<'_>) -> Vec<(String, bool)> {
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

/// Cost against each swept parameter of `section` (see [`SweepChart`]): one panel per
/// combination of the other parameters (per variant when that leaves one crowded panel),
/// one line per runtime x variant, a shared log axis of time per operation.
///
/// # Errors
///
/// A chart that could not be drawn.
pub fn sweep_charts(section: &Section<'_>) -> Result<Vec<SweepChart>> {
    // Layout measures text: the font must be there before the first measurement.
    ensure_font()?;
    let mut out = Vec::new();
    let variants = &section.variants;
    let runtimes: Vec<&str> = section
        .runtimes
        .iter()
        .copied()
        .filter(|rt| section.rows.iter().any(|r| r.cell.runtime == *rt))
        .collect();
    for (param, log_x) in sweep_params(section) {
        let cells: Vec<&CellResult> = section
            .rows
            .iter()
            .map(|r| r.cell)
            .filter(|c| c.params.get(&param).and_then(param_number).is_some())
            .filter(|c| c.time_ns_per_op.is_some())
            .collect();
        let params: Vec<&tapbench_core::Params> = cells.iter().map(|c| &c.params).collect();
        let constants = constant_params(&params);
        let others_of = |c: &CellResult| {
            param_pieces(&c.params, &|k| k == param || constants.contains_key(k)).join(", ")
        };
        // Lines: (runtime, variant, others) -> points.
        let mut lines: Vec<(LineKey<'_>, Vec<(f64, f64)>)> = Vec::new();
        let mut index: HashMap<LineKey<'_>, usize> = HashMap::new();
        for c in &cells {
            let (Some(x), Some(t)) = (
                c.params.get(&param).and_then(param_number),
                &c.time_ns_per_op,
            ) else {
                continue;
            };
            let key = (c.runtime.as_str(), c.variant.as_str(), others_of(c));
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
        if lines.is_empty() {
            continue;
        }
        // Panels by the other parameters, or by variant when that is one crowded panel.
        let line_others: HashSet<&str> = lines.iter().map(|(k, _)| k.2.as_str()).collect();
        let mut seen: HashSet<String> = HashSet::new();
        let mut panel_cells: Vec<(String, &CellResult)> = Vec::new();
        for c in &cells {
            let others = others_of(c);
            if line_others.contains(others.as_str()) && seen.insert(others.clone()) {
                panel_cells.push((others, c));
            }
        }
        panel_cells.sort_by(|(_, a), (_, b)| {
            compare_params(section.spec, &a.params, &b.params, &|k| k == param)
        });
        let panel_keys: Vec<String> = panel_cells.into_iter().map(|(o, _)| o).collect();
        let by_variant = panel_keys.len() == 1 && lines.len() > 8;
        let panel_of = |(_, variant, others): &(&str, &str, String)| {
            if by_variant {
                (*variant).to_string()
            } else {
                others.clone()
            }
        };
        let panel_names: Vec<String> = if by_variant {
            variants
                .iter()
                .filter(|v| lines.iter().any(|(k, _)| k.1 == **v))
                .map(|v| v.to_string())
                .collect()
        } else {
            panel_keys
        };
        let xs: Vec<f64> = lines
            .iter()
            .flat_map(|(_, p)| p.iter().map(|(x, _)| *x))
            .collect();
        let ys: Vec<f64> = lines
            .iter()
            .flat_map(|(_, p)| p.iter().map(|(_, y)| *y))
            .collect();
        let x_axis = Axis::at_values(&xs, log_x, |v| format_count(v, true));
        let y_axis = Axis::log(&ys, format_duration_ns);
        let columns = match panel_names.len() {
            0 | 1 => 1,
            2 | 4 => 2,
            _ => 3,
        };
        let panel_w = (WIDTH - 2 * PAD - (columns as i32 - 1) * 28) / columns as i32;
        let panels: Vec<LinePanel> = panel_names
            .iter()
            .map(|name| {
                let series = lines
                    .iter()
                    .filter(|(k, _)| panel_of(k) == *name)
                    .map(|((rt, variant, _), points)| {
                        let index = variants.iter().position(|v| v == variant).unwrap_or(0);
                        Series {
                            color: runtime_color(rt),
                            look: variant_look(index),
                            points: points
                                .iter()
                                .map(|(x, y)| (if log_x { x.log10() } else { *x }, *y))
                                .collect(),
                        }
                    })
                    .collect();
                let (title, subtitle) = if by_variant {
                    (name.clone(), Vec::new())
                } else if name.is_empty() {
                    ("all cases".to_string(), Vec::new())
                } else {
                    let pieces: Vec<String> = name.split(", ").map(str::to_string).collect();
                    (
                        fit(F_HEAD, &pieces[0], panel_w),
                        wrap(F_LABEL, &pieces[1..], panel_w),
                    )
                };
                LinePanel {
                    title,
                    subtitle,
                    series,
                }
            })
            .collect();
        let mut legend = runtime_legend(&runtimes);
        let line_variants: Vec<&str> = variants
            .iter()
            .copied()
            .filter(|v| lines.iter().any(|(k, _)| k.1 == *v))
            .collect();
        for v in &line_variants {
            let index = variants.iter().position(|x| x == v).unwrap_or(0);
            legend.push((Swatch::Line(INK, variant_look(index)), (*v).to_string()));
        }
        let scale_note = if log_x { "log-log" } else { "log time" };
        let mut caption = format!(
            "{}: median time per operation against {param} ({scale_note})",
            section.workload
        );
        let fixed = constants_text(&constants);
        if !fixed.is_empty() {
            caption.push_str(&format!(", {fixed}"));
        }
        let x_title = if log_x {
            format!("{param} (log scale)")
        } else {
            param.clone()
        };
        let axes = PanelAxes {
            x: &x_axis,
            y: &y_axis,
            x_title: &x_title,
            y_title: "time per op (log)",
        };
        let panel_h = if columns == 1 { 320 } else { 270 };
        let chart = panel_grid(&caption, &legend, &panels, columns, panel_h, &axes)?;
        let mut growth: Vec<Growth> = if log_x {
            lines
                .iter()
                .filter_map(|((rt, variant, others), points)| {
                    let positive: Vec<(f64, f64)> = points
                        .iter()
                        .copied()
                        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
                        .collect();
                    let (&first, &last) = (positive.first()?, positive.last()?);
                    let before = positive.get(positive.len().checked_sub(2)?)?;
                    let slope = |a: (f64, f64), b: (f64, f64)| {
                        (b.1.ln() - a.1.ln()) / (b.0.ln() - a.0.ln())
                    };
                    (last.0 > first.0).then(|| Growth {
                        runtime: (*rt).to_string(),
                        variant: (*variant).to_string(),
                        others: others.clone(),
                        from_x: first.0,
                        to_x: last.0,
                        from_ns: first.1,
                        to_ns: last.1,
                        exponent: slope(first, last),
                        last_step: slope(*before, last),
                    })
                })
                .filter(|g| g.exponent.is_finite() && g.last_step.is_finite())
                .collect()
        } else {
            Vec::new()
        };
        growth.sort_by(|a, b| b.last_step.total_cmp(&a.last_step));
        out.push(SweepChart {
            param,
            log_x,
            chart,
            growth,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::build_model;
    use crate::results::ResultsFile;

    const FIXTURE: &str = include_str!("../../../tests/fixtures/small-results.json");

    #[test]
    fn sizes_get_log_log_sweeps_with_growth_and_pivots_a_linear_one() {
        let results: ResultsFile = serde_json::from_str(FIXTURE).unwrap();
        let model = build_model(&results, "tokio-mt");
        let by_name = |name: &str| model.sections.iter().find(|s| s.workload == name).unwrap();

        let sweeps = sweep_charts(by_name("when_all")).unwrap();
        assert_eq!(sweeps.len(), 1);
        assert_eq!(sweeps[0].param, "n");
        assert!(sweeps[0].log_x);
        assert!(sweeps[0].chart.svg.starts_with("<svg class=\"chart\""));
        // join_all with op=yield on three runtimes, n = 10, 1000, 100000; steepest first.
        assert_eq!(sweeps[0].growth.len(), 3);
        assert!(sweeps[0]
            .growth
            .windows(2)
            .all(|w| w[0].last_step >= w[1].last_step));
        assert!(sweeps[0]
            .growth
            .iter()
            .all(|g| g.exponent > 0.5 && g.exponent < 1.5));

        assert!(sweep_charts(by_name("producer_consumer"))
            .unwrap()
            .is_empty());

        // Two values of a parameter a view pivots on make a sweep.
        let sweeps = sweep_charts(by_name("value_task")).unwrap();
        assert_eq!(sweeps.len(), 1);
        assert_eq!(sweeps[0].param, "sync_ratio");
        assert!(!sweeps[0].log_x && sweeps[0].growth.is_empty());
    }
}
