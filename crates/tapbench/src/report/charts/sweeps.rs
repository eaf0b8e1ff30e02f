//! Cost against a swept parameter (`n`, `threads`, ...), with growth exponents on log axes.

use std::collections::HashSet;

use anyhow::Result;

use super::axes::Axis;
use super::canvas::Chart;
use super::draw::{runtime_legend, Swatch};
use super::labels::constants_text;
use super::panels::{panel_grid, LinePanel, PanelAxes, Series};
use super::style::{
    ensure_font, fit, runtime_color, variant_look, wrap, F_HEAD, F_LABEL, INK, PAD, WIDTH,
};
use crate::report::format::{format_count, format_duration_ns};
use crate::report::growth::{
    growth_of, others_text, sweep_lines, sweep_params, Growth, SweepLines,
};
use crate::report::model::{compare_params, Section};
use crate::results::CellResult;

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
    for (param, log_x) in sweep_params(section) {
        let sweep = sweep_lines(section, &param);
        if sweep.lines.is_empty() {
            continue;
        }
        let chart = draw_sweep(
            section,
            &param,
            log_x,
            &sweep,
            "median time per operation",
            "time per op (log)",
        )?;
        let lines = sweep.lines;
        let growth = if log_x { growth_of(&lines) } else { Vec::new() };
        out.push(SweepChart {
            param,
            log_x,
            chart,
            growth,
        });
    }
    Ok(out)
}

/// Draws the lines of `sweep` along `param` (log axis when `log_x`): one panel per
/// combination of the other parameters (per variant when that leaves one crowded panel),
/// one line per runtime x variant, `what` (the metric, in the caption) on a shared log axis
/// titled `y_title`.
///
/// # Errors
///
/// A chart that could not be drawn.
pub(super) fn draw_sweep(
    section: &Section<'_>,
    param: &str,
    log_x: bool,
    sweep: &SweepLines<'_>,
    what: &str,
    y_title: &str,
) -> Result<Chart> {
    let variants = &section.variants;
    let runtimes: Vec<&str> = section
        .runtimes
        .iter()
        .copied()
        .filter(|rt| section.rows.iter().any(|r| r.cell.runtime == *rt))
        .collect();
    let (cells, constants, lines) = (&sweep.cells, &sweep.constants, &sweep.lines);
    let others_of = |c: &CellResult| others_text(&c.params, param, constants);
    // Panels by the other parameters, or by variant when that is one crowded panel.
    let line_others: HashSet<&str> = lines.iter().map(|(k, _)| k.2.as_str()).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut panel_cells: Vec<(String, &CellResult)> = Vec::new();
    for c in cells {
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
        "{}: {what} against {param} ({scale_note})",
        section.workload
    );
    let fixed = constants_text(constants);
    if !fixed.is_empty() {
        caption.push_str(&format!(", {fixed}"));
    }
    let x_title = if log_x {
        format!("{param} (log scale)")
    } else {
        param.to_string()
    };
    let axes = PanelAxes {
        x: &x_axis,
        y: &y_axis,
        x_title: &x_title,
        y_title,
    };
    let panel_h = if columns == 1 { 320 } else { 270 };
    panel_grid(&caption, &legend, &panels, columns, panel_h, &axes)
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
