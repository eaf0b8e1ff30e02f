//! Bar charts of time and allocations per operation: a group per case, a bar per runtime.

use anyhow::Result;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::RGBColor;
use tapbench_core::{ParamValue, WorkloadSpec};

use super::axes::Axis;
use super::canvas::{render, Area, Chart, Drawn};
use super::draw::{chart_title, fill_rect, line, text, x_grid};
use super::labels::{constant_params, param_pieces, with_constants};
use super::style::{
    ensure_font, fit, runtime_color, text_width, wrap, Font, FRAME, F_HEAD, F_LABEL, F_NOTE,
    F_SMALL, INK, LINE_H, MUTED, PAD, WIDTH, ZEBRA,
};
use crate::report::format::{format_count, format_duration_ns};
use crate::report::model::{compare_values, param_number, runtime_label, CaseCells, Section};
use crate::results::{CellResult, Status};

/// Most cases one bar panel holds before the workload is split by a parameter.
const MAX_GROUPS_PER_PANEL: usize = 12;
/// Height of one bar's row.
const ROW_H: i32 = 16;
/// Space above and below a group of bars.
const GROUP_PAD: i32 = 5;
/// Widest a group's label may be.
const LABEL_MAX: i32 = 300;

/// One runtime's row in a group of bars.
struct BarRow {
    runtime_id: String,
    runtime: String,
    time_ns: Option<f64>,
    ci_ns: Option<(f64, f64)>,
    allocs: Option<f64>,
    /// Why there is no measurement (`skipped: ...`), for cells that did not end `ok`.
    note: Option<String>,
}

impl BarRow {
    fn of(cell: &CellResult) -> BarRow {
        if cell.status == Status::Ok {
            let t = cell.time_ns_per_op.as_ref();
            return BarRow {
                runtime_id: cell.runtime.clone(),
                runtime: runtime_label(&cell.runtime),
                time_ns: t.map(|t| t.median),
                ci_ns: t.map(|t| (t.ci95_low, t.ci95_high)),
                allocs: cell.allocs_per_op,
                note: None,
            };
        }
        let reason = cell
            .error
            .as_deref()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("");
        BarRow {
            runtime_id: cell.runtime.clone(),
            runtime: runtime_label(&cell.runtime),
            time_ns: None,
            ci_ns: None,
            allocs: None,
            note: Some(if reason.is_empty() {
                cell.status.as_str().to_string()
            } else {
                format!("{}: {reason}", cell.status.as_str())
            }),
        }
    }
}

/// One case: a variant with its parameters, a row per runtime.
struct BarGroup {
    variant: String,
    params: Vec<String>,
    rows: Vec<BarRow>,
}

/// The parameter to split `cases` into panels by, when there are too many for one panel:
/// one every case has, with 2 to 6 values; names (`op`) and flags before numbers, fewer
/// values first.
fn split_param(
    spec: Option<&WorkloadSpec>,
    cases: &[CaseCells<'_>],
) -> Option<(String, Vec<ParamValue>)> {
    if cases.len() <= MAX_GROUPS_PER_PANEL {
        return None;
    }
    let first = cases.first()?;
    let mut best: Option<(bool, usize, String, Vec<ParamValue>)> = None;
    for name in first.params.0.keys() {
        if !cases.iter().all(|c| c.params.get(name).is_some()) {
            continue;
        }
        let mut values: Vec<ParamValue> = Vec::new();
        for c in cases {
            if let Some(v) = c.params.get(name) {
                if !values.contains(v) {
                    values.push(v.clone());
                }
            }
        }
        if !(2..=6).contains(&values.len()) {
            continue;
        }
        let numeric = values.iter().any(|v| param_number(v).is_some());
        let better = match &best {
            None => true,
            Some((b_numeric, b_len, _, _)) => (numeric, values.len()) < (*b_numeric, *b_len),
        };
        if better {
            values.sort_by(|a, b| compare_values(spec, name, a, b));
            best = Some((numeric, values.len(), name.clone(), values));
        }
    }
    best.map(|(_, _, name, values)| (name, values))
}

/// The bar charts of a workload: median time per operation (with its 95% interval) beside
/// allocations per operation, one group of bars per case in the model's order, one bar per
/// runtime; split into panels by one parameter when the workload has many cases. Cells that
/// did not end `ok` appear in their group with their status instead of a bar.
///
/// # Errors
///
/// A chart that could not be drawn.
pub fn bar_charts(section: &Section<'_>) -> Result<Vec<Chart>> {
    // Layout measures text: the font must be there before the first measurement.
    ensure_font()?;
    let cases = &section.cases;
    if section.rows.is_empty() || cases.is_empty() {
        return Ok(Vec::new());
    }
    let all_params: Vec<&tapbench_core::Params> = cases.iter().map(|c| c.params).collect();
    let constants = constant_params(&all_params);
    let split = split_param(section.spec, cases);

    // Shared axes, so that panels of one workload compare directly.
    let times: Vec<f64> = section
        .rows
        .iter()
        .filter_map(|r| r.cell.time_ns_per_op.as_ref())
        .flat_map(|t| [t.median, t.ci95_low, t.ci95_high])
        .collect();
    let allocs: Vec<f64> = section
        .rows
        .iter()
        .filter_map(|r| r.cell.allocs_per_op)
        .collect();
    let time_axis = Axis::log(&times, format_duration_ns);
    let alloc_axis = Axis::log(&allocs, format_count);

    let group_of = |case: &CaseCells<'_>, skip: &dyn Fn(&str) -> bool| BarGroup {
        variant: case.variant.to_string(),
        params: param_pieces(case.params, skip),
        rows: case.cells.iter().map(|c| BarRow::of(c)).collect(),
    };

    let workload = &section.workload;
    let mut charts = Vec::new();
    match split {
        None => {
            let skip = |k: &str| constants.contains_key(k);
            let groups: Vec<BarGroup> = cases.iter().map(|c| group_of(c, &skip)).collect();
            let caption = with_constants(
                format!("{workload}: median time and allocations per operation"),
                &constants,
            );
            charts.push(bar_chart(&caption, &groups, &time_axis, &alloc_axis)?);
        }
        Some((name, values)) => {
            for value in &values {
                let skip = |k: &str| k == name || constants.contains_key(k);
                let groups: Vec<BarGroup> = cases
                    .iter()
                    .filter(|c| c.params.get(&name) == Some(value))
                    .map(|c| group_of(c, &skip))
                    .collect();
                let caption = with_constants(
                    format!(
                        "{workload}, {name}={value}: median time and allocations per operation"
                    ),
                    &constants,
                );
                charts.push(bar_chart(&caption, &groups, &time_axis, &alloc_axis)?);
            }
        }
    }
    Ok(charts)
}

fn bar_chart(caption: &str, groups: &[BarGroup], time: &Axis, allocs: &Axis) -> Result<Chart> {
    // Label lines of every group: the variant, then its parameters wrapped.
    let labels: Vec<Vec<(String, Font)>> = groups
        .iter()
        .map(|g| {
            let mut lines = vec![(fit(F_HEAD, &g.variant, LABEL_MAX), F_HEAD)];
            lines.extend(
                wrap(F_LABEL, &g.params, LABEL_MAX)
                    .into_iter()
                    .map(|l| (l, F_LABEL)),
            );
            lines
        })
        .collect();
    let label_w = labels
        .iter()
        .flatten()
        .map(|(l, f)| text_width(*f, l))
        .max()
        .unwrap_or(0)
        .max(60);
    let runtime_w = groups
        .iter()
        .flat_map(|g| &g.rows)
        .map(|r| text_width(F_SMALL, &r.runtime))
        .max()
        .unwrap_or(0);
    let time_values: Vec<String> = groups
        .iter()
        .flat_map(|g| &g.rows)
        .filter_map(|r| r.time_ns.map(|v| format_duration_ns(v, false)))
        .collect();
    let alloc_values: Vec<String> = groups
        .iter()
        .flat_map(|g| &g.rows)
        .filter_map(|r| r.allocs.map(|v| format_count(v, false)))
        .collect();
    let widest = |v: &[String]| v.iter().map(|s| text_width(F_SMALL, s)).max().unwrap_or(0);
    let time_value_w = widest(&time_values) + 14;
    let alloc_value_w = widest(&alloc_values) + 14;

    let x_runtime_right = PAD + label_w + 14 + runtime_w;
    let t0 = x_runtime_right + 8;
    let facet_gap = 30;
    let alloc_plot_w = 250;
    let fixed = t0 + time_value_w + facet_gap + alloc_plot_w + alloc_value_w + PAD;
    let time_plot_w = (WIDTH - fixed).max(320);
    let t1 = t0 + time_plot_w;
    let a0 = t1 + time_value_w + facet_gap;
    let a1 = a0 + alloc_plot_w;
    let width = a1 + alloc_value_w + PAD;

    // Vertical layout.
    let title_h = 24;
    let facet_title_y = PAD + title_h;
    let plot_top = facet_title_y + 20 + 18;
    let mut heights = Vec::with_capacity(groups.len());
    for (g, l) in groups.iter().zip(&labels) {
        let rows_h = g.rows.len().max(1) as i32 * ROW_H;
        let label_h = l.len() as i32 * LINE_H;
        heights.push(rows_h.max(label_h) + 2 * GROUP_PAD);
    }
    let plot_bottom = plot_top + heights.iter().sum::<i32>();
    let height = plot_bottom + 22 + PAD;

    render(width, height, caption, |area| {
        chart_title(area, caption, width)?;
        text(
            area,
            "median time per operation, 95% interval (log scale)",
            (t0, facet_title_y + 4),
            F_HEAD,
            INK,
            HPos::Left,
            VPos::Top,
        )?;
        text(
            area,
            "allocations per operation (log scale)",
            (a0, facet_title_y + 4),
            F_HEAD,
            INK,
            HPos::Left,
            VPos::Top,
        )?;
        // Zebra stripes, one per other group.
        let mut y = plot_top;
        for (i, h) in heights.iter().enumerate() {
            if i % 2 == 1 {
                fill_rect(area, (PAD - 4, y), (width - PAD + 4, y + h), ZEBRA)?;
            }
            y += h;
        }
        x_grid(area, time, (t0, t1), (plot_top, plot_bottom), true, true)?;
        x_grid(area, allocs, (a0, a1), (plot_top, plot_bottom), true, true)?;
        line(area, vec![(t0, plot_top), (t0, plot_bottom)], FRAME, 1)?;
        line(area, vec![(a0, plot_top), (a0, plot_bottom)], FRAME, 1)?;

        let mut y = plot_top;
        for ((group, lines), h) in groups.iter().zip(&labels).zip(&heights) {
            let rows_h = group.rows.len() as i32 * ROW_H;
            let label_h = lines.len() as i32 * LINE_H;
            let rows_top = y + GROUP_PAD + (h - 2 * GROUP_PAD - rows_h) / 2;
            let label_top = y + GROUP_PAD + (h - 2 * GROUP_PAD - label_h) / 2;
            for (i, (l, f)) in lines.iter().enumerate() {
                let color = if f.bold { INK } else { MUTED };
                let ly = label_top + i as i32 * LINE_H + LINE_H / 2;
                text(area, l, (PAD, ly), *f, color, HPos::Left, VPos::Center)?;
            }
            for (i, row) in group.rows.iter().enumerate() {
                let ry = rows_top + i as i32 * ROW_H;
                let cy = ry + ROW_H / 2;
                text(
                    area,
                    &row.runtime,
                    (x_runtime_right, cy),
                    F_SMALL,
                    MUTED,
                    HPos::Right,
                    VPos::Center,
                )?;
                let color = runtime_color(&row.runtime_id);
                if let Some(note) = &row.note {
                    let note = fit(F_NOTE, note, t1 + time_value_w - t0 - 8);
                    text(
                        area,
                        &note,
                        (t0 + 6, cy),
                        F_NOTE,
                        MUTED,
                        HPos::Left,
                        VPos::Center,
                    )?;
                    text(
                        area,
                        "-",
                        (a0 + 6, cy),
                        F_SMALL,
                        MUTED,
                        HPos::Left,
                        VPos::Center,
                    )?;
                    continue;
                }
                bar(
                    area,
                    time,
                    (t0, t1),
                    (ry, cy),
                    row.time_ns,
                    row.ci_ns,
                    color,
                    format_duration_ns,
                )?;
                bar(
                    area,
                    allocs,
                    (a0, a1),
                    (ry, cy),
                    row.allocs,
                    None,
                    color,
                    format_count,
                )?;
            }
            y += h;
        }
        Ok(())
    })
}

/// One bar from the start of the axis to `value`, its interval as a whisker, and its value
/// after it; zero (which a log axis cannot show) and missing values are written instead.
#[allow(clippy::too_many_arguments)]
fn bar(
    area: &Area<'_>,
    axis: &Axis,
    (x0, x1): (i32, i32),
    (row_top, cy): (i32, i32),
    value: Option<f64>,
    interval: Option<(f64, f64)>,
    color: RGBColor,
    fmt: fn(f64, bool) -> String,
) -> Drawn {
    let Some(v) = value else {
        return text(
            area,
            "-",
            (x0 + 6, cy),
            F_SMALL,
            MUTED,
            HPos::Left,
            VPos::Center,
        );
    };
    let Some(end) = axis.scale.px(v, x0, x1) else {
        // Zero (or below the axis): no bar, the value written at the axis.
        return text(
            area,
            &fmt(v, false),
            (x0 + 6, cy),
            F_SMALL,
            INK,
            HPos::Left,
            VPos::Center,
        );
    };
    let end = end.clamp(x0 + 1, x1);
    fill_rect(area, (x0, row_top + 2), (end, row_top + ROW_H - 2), color)?;
    let mut label_x = end + 5;
    if let Some((lo, hi)) = interval {
        if let (Some(a), Some(b)) = (axis.scale.px(lo, x0, x1), axis.scale.px(hi, x0, x1)) {
            let (a, b) = (a.clamp(x0, x1), b.clamp(x0, x1));
            if b - a >= 3 {
                line(area, vec![(a, cy), (b, cy)], INK, 1)?;
                line(area, vec![(a, cy - 3), (a, cy + 3)], INK, 1)?;
                line(area, vec![(b, cy - 3), (b, cy + 3)], INK, 1)?;
                label_x = label_x.max(b + 5);
            }
        }
    }
    text(
        area,
        &fmt(v, false),
        (label_x, cy),
        F_SMALL,
        INK,
        HPos::Left,
        VPos::Center,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::sweeps::sweep_charts;
    use crate::report::model::{build_model, case_key};
    use crate::report::tables::workload_table;
    use crate::results::ResultsFile;

    const FIXTURE: &str = include_str!("../../../tests/fixtures/small-results.json");

    fn fixture() -> ResultsFile {
        serde_json::from_str(FIXTURE).expect("the fixture is a valid results file")
    }

    fn assert_svg(chart: &Chart) {
        assert!(
            chart.svg.starts_with("<svg class=\"chart\""),
            "{}",
            &chart.svg[..60]
        );
        assert!(chart.svg.trim_end().ends_with("</svg>"));
        assert!(!chart.svg.contains("http"));
        assert!(chart.svg.contains("<rect") && chart.svg.contains("<text"));
    }

    /// `when_all` cells of every variant, `n` and `op` given, on two runtimes.
    fn when_all(variants: &[&str], ns: &[u64], ops: &[&str]) -> ResultsFile {
        let mut results = fixture();
        let template = results
            .cells
            .iter()
            .find(|c| c.workload == "when_all")
            .unwrap()
            .clone();
        results.cells.clear();
        for variant in variants {
            for n in ns {
                // Written in an order the report must not keep.
                for op in ops.iter().rev() {
                    for rt in ["smol-mt", "tokio-mt"] {
                        let mut c = template.clone();
                        c.runtime = rt.into();
                        c.variant = (*variant).into();
                        c.params = tapbench_core::Params::from_pairs([
                            ("n", ParamValue::Int(*n)),
                            ("op", ParamValue::Text((*op).into())),
                        ]);
                        c.id = format!("{rt}/{}", case_key(&c));
                        results.cells.push(c);
                    }
                }
            }
        }
        results
    }

    #[test]
    fn the_fixture_gets_one_panel_with_the_skipped_cell_in_its_group() {
        let results = fixture();
        let model = build_model(&results, "tokio-mt");
        let bars = bar_charts(&model.sections[0]).unwrap();
        assert_eq!(bars.len(), 1, "five cases fit one panel");
        assert_svg(&bars[0]);
        assert!(bars[0].svg.contains("skipped: smol has no task-set type"));
    }

    #[test]
    fn tables_and_charts_list_the_cases_of_a_section_in_the_same_order() {
        let ops = ["ready", "yield", "sleep_1ms"];
        let results = when_all(&["join_all"], &[10], &ops);
        let model = build_model(&results, "tokio-mt");
        let section = &model.sections[0];
        // The table: one row per runtime, cases in the catalogue's order of `op`.
        let table = workload_table(section);
        let mut table_ops: Vec<String> = Vec::new();
        for row in &table.rows {
            let op = row[1].split("op=").nth(1).unwrap_or_default().to_string();
            if table_ops.last() != Some(&op) {
                table_ops.push(op);
            }
        }
        assert_eq!(table_ops, ops);
        assert_eq!(table.rows[0][2], "tokio-mt", "runtimes in registry order");
        // The chart: one group per case, in the same order.
        let bars = bar_charts(section).unwrap();
        assert_eq!(bars.len(), 1);
        let at = |s: &str| bars[0].svg.find(&format!("\nop={s}\n")).unwrap();
        assert!(at("ready") < at("yield") && at("yield") < at("sleep_1ms"));
    }

    #[test]
    fn many_cases_are_split_into_panels_by_a_named_parameter() {
        let results = when_all(
            &["join_all", "spawn_join", "native"],
            &[10, 1000, 100_000],
            &["ready", "yield", "sleep_1ms"],
        );
        let model = build_model(&results, "tokio-mt");
        let charts = bar_charts(&model.sections[0]).unwrap();
        let captions: Vec<&str> = charts.iter().map(|c| c.caption.as_str()).collect();
        // Split by `op`, in the catalogue's order of its values.
        assert_eq!(charts.len(), 3, "{captions:?}");
        assert!(captions[0].contains("op=ready"));
        assert!(captions[1].contains("op=yield"));
        assert!(captions[2].contains("op=sleep_1ms"));
        for c in &charts {
            assert_svg(c);
        }
        // The sweep over n has one panel per op, in the same order.
        let sweeps = sweep_charts(&model.sections[0]).unwrap();
        let svg = &sweeps[0].chart.svg;
        let at = |s: &str| svg.find(s).unwrap();
        assert!(at("op=ready") < at("op=yield") && at("op=yield") < at("op=sleep_1ms"));
    }

    #[test]
    fn charts_are_deterministic() {
        let results = fixture();
        let model = build_model(&results, "tokio-mt");
        let a = bar_charts(&model.sections[0]).unwrap();
        let b = bar_charts(&model.sections[0]).unwrap();
        assert_eq!(a, b);
    }
}
