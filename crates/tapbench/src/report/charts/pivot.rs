//! The chart of a pivot view: time and allocations against the pivot's values, per runtime.

use anyhow::Result;

use super::axes::Axis;
use super::canvas::{render, Chart};
use super::draw::{chart_title, draw_legend, legend_height, Swatch};
use super::panels::{draw_line_panel, panel_header_h, LinePanel, PanelAxes, Series};
use super::style::{ensure_font, variant_color, variant_look, PAD, WIDTH};
use crate::report::format::{format_count, format_duration_ns, sig};
use crate::report::model::runtime_label;
use crate::report::views::{Pivot, PivotLine};

/// The chart of `pivot`: time (log) and allocations (linear) per operation against the
/// pivot's values, one panel per runtime (and other parameters) for each, one line per
/// contrasted variant. The value axis is logarithmic for sizes (whole numbers, all
/// positive), linear for other numbers, and categories for names. `None` when no line has
/// a point.
///
/// # Errors
///
/// A chart that could not be drawn.
pub fn pivot_chart(pivot: &Pivot<'_>) -> Result<Option<Chart>> {
    // Layout measures text: the font must be there before the first measurement.
    ensure_font()?;
    if pivot.lines.is_empty() {
        return Ok(None);
    }
    let param = pivot.view.param;
    let numbers = pivot.numeric_values();
    let log_x = numbers.as_ref().is_some_and(|xs| {
        pivot
            .values
            .iter()
            .all(|v| matches!(v, tapbench_core::ParamValue::Int(i) if *i > 0))
            && xs.len() >= 2
    });
    // The x of the `i`th value, in axis units.
    let x_of = |i: usize| -> f64 {
        match &numbers {
            Some(xs) if log_x => xs[i].log10(),
            Some(xs) => xs[i],
            None => i as f64,
        }
    };
    let labels: Vec<String> = pivot.values.iter().map(|v| v.to_string()).collect();
    let x = match &numbers {
        Some(xs) if log_x => Axis::at_values(xs, true, |v| format_count(v, true)),
        Some(xs) => Axis::at_values(xs, false, |v| sig(v, 3, true)),
        None => Axis::categories(&labels.iter().map(String::as_str).collect::<Vec<_>>()),
    };
    let values = 0..pivot.values.len();
    let times: Vec<f64> = pivot
        .lines
        .iter()
        .flat_map(|l| values.clone().filter_map(|i| l.median_ns(i)))
        .collect();
    let allocs: Vec<f64> = pivot
        .lines
        .iter()
        .flat_map(|l| values.clone().filter_map(|i| l.allocs(i)))
        .collect();
    let y_time = Axis::log(&times, format_duration_ns);
    let y_alloc = Axis::linear(&allocs, true, format_count);
    let variants: Vec<&str> = {
        let mut vs: Vec<&str> = Vec::new();
        for l in &pivot.lines {
            if !vs.contains(&l.variant) {
                vs.push(l.variant);
            }
        }
        vs
    };
    let series = |lines: &[&PivotLine<'_>],
                  value: &dyn Fn(&PivotLine<'_>, usize) -> Option<f64>| {
        lines
            .iter()
            .filter_map(|line| {
                let index = variants
                    .iter()
                    .position(|v| *v == line.variant)
                    .unwrap_or(0);
                let points: Vec<(f64, f64)> = values
                    .clone()
                    .filter_map(|i| Some((x_of(i), value(line, i)?)))
                    .collect();
                (!points.is_empty()).then(|| Series {
                    color: variant_color(index),
                    look: variant_look(index),
                    points,
                })
            })
            .collect::<Vec<Series>>()
    };
    let groups = pivot.groups();
    let panel_title = |runtime: &str, others: &str, what: &str| {
        if others.is_empty() {
            format!("{}: {what}", runtime_label(runtime))
        } else {
            format!("{} ({others}): {what}", runtime_label(runtime))
        }
    };
    let time_panels: Vec<LinePanel> = groups
        .iter()
        .map(|g| LinePanel {
            title: panel_title(g.runtime, g.others, "time per op"),
            subtitle: Vec::new(),
            series: series(&g.lines, &|l, i| l.median_ns(i)),
        })
        .collect();
    let alloc_panels: Vec<LinePanel> = groups
        .iter()
        .map(|g| LinePanel {
            title: panel_title(g.runtime, g.others, "allocations per op"),
            subtitle: Vec::new(),
            series: series(&g.lines, &|l, i| l.allocs(i)),
        })
        .collect();
    let legend: Vec<(Swatch, String)> = variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            (
                Swatch::Line(variant_color(i), variant_look(i)),
                (*v).to_string(),
            )
        })
        .collect();
    let columns = groups.len().clamp(1, 4) as i32;
    let rows_per_kind = (groups.len() as i32 + columns - 1) / columns;
    let gap = 24;
    let panel_w = (WIDTH - 2 * PAD - (columns - 1) * gap) / columns;
    let panel_h = 230;
    let header_h = panel_header_h(&[]);
    let legend_h = legend_height(&legend, WIDTH - 2 * PAD);
    let top = PAD + 26 + legend_h + 10;
    let block = rows_per_kind * (panel_h + header_h + 14);
    let height = top + 2 * block + PAD;
    let caption = format!(
        "{}: time and allocations per operation against {param}",
        pivot.view.title
    );
    let x_title = if log_x {
        format!("{param} (log scale)")
    } else {
        param.to_string()
    };
    let time_axes = PanelAxes {
        x: &x,
        y: &y_time,
        x_title: &x_title,
        y_title: "time per op (log)",
    };
    let alloc_axes = PanelAxes {
        x: &x,
        y: &y_alloc,
        x_title: &x_title,
        y_title: "allocations per op",
    };
    render(WIDTH, height, &caption, |area| {
        chart_title(area, &caption, WIDTH)?;
        draw_legend(area, &legend, (PAD, PAD + 26), WIDTH - 2 * PAD)?;
        for (k, (panels, axes)) in [(&time_panels, &time_axes), (&alloc_panels, &alloc_axes)]
            .into_iter()
            .enumerate()
        {
            for (i, panel) in panels.iter().enumerate() {
                let (col, row) = (i as i32 % columns, i as i32 / columns);
                let px = PAD + col * (panel_w + gap);
                let py = top + k as i32 * block + row * (panel_h + header_h + 14);
                draw_line_panel(
                    area,
                    panel,
                    (px, py, panel_w, panel_h + header_h),
                    header_h,
                    axes,
                )?;
            }
        }
        Ok(())
    })
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::build_model;
    use crate::report::views::{section_views, SectionView};
    use crate::results::ResultsFile;

    const FIXTURE: &str = include_str!("../../../tests/fixtures/small-results.json");

    #[test]
    fn the_value_task_pivot_draws_a_line_per_variant() {
        let results: ResultsFile = serde_json::from_str(FIXTURE).unwrap();
        let model = build_model(&results, "tokio-mt");
        let section = model
            .sections
            .iter()
            .find(|s| s.workload == "value_task")
            .unwrap();
        let views = section_views(&model, section);
        let SectionView::Pivot(pivot) = &views[0];
        let chart = pivot_chart(pivot).unwrap().unwrap();
        assert!(chart.svg.starts_with("<svg class=\"chart\""));
        assert!(chart.caption.starts_with("Task vs ValueTask"));
        for label in [
            "inline",
            "boxed",
            "time per op",
            "allocations per op",
            "sync_ratio",
        ] {
            assert!(chart.svg.contains(label), "{label}");
        }
    }
}
