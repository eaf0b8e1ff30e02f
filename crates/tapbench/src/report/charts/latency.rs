//! Latency percentiles: a panel per case, a line per runtime from p50 to the maximum.

use anyhow::Result;

use super::axes::Axis;
use super::canvas::Chart;
use super::draw::runtime_legend;
use super::labels::{constant_params, param_pieces, with_constants};
use super::panels::{panel_grid, LinePanel, PanelAxes, Series};
use super::style::{ensure_font, runtime_color, variant_look, wrap, F_LABEL, PAD, WIDTH};
use crate::report::format::format_duration_ns;
use crate::report::model::{CaseCells, Section};
use crate::results::{CellResult, Status};

/// The percentiles on the x axis.
const PERCENTILES: [&str; 5] = ["p50", "p90", "p99", "p99.9", "max"];

/// Whether `cell` was measured with its latency.
fn measured(cell: &CellResult) -> bool {
    cell.status == Status::Ok && cell.latency_ns.is_some()
}

/// Latency percentiles (p50, p90, p99, p99.9, max) of the cells of `section` that measured
/// latency: one panel per case in the model's order, one line per runtime, a shared log
/// axis. `None` when no cell has latency.
///
/// # Errors
///
/// A chart that could not be drawn.
pub fn latency_chart(section: &Section<'_>) -> Result<Option<Chart>> {
    // Layout measures text: the font must be there before the first measurement.
    ensure_font()?;
    let cases: Vec<&CaseCells<'_>> = section
        .cases
        .iter()
        .filter(|case| case.cells.iter().any(|c| measured(c)))
        .collect();
    if cases.is_empty() {
        return Ok(None);
    }
    let params: Vec<&tapbench_core::Params> = cases.iter().map(|c| c.params).collect();
    let constants = constant_params(&params);
    let mut runtimes: Vec<&str> = Vec::new();
    for rt in &section.runtimes {
        if cases.iter().any(|case| {
            case.cells
                .iter()
                .filter(|c| measured(c))
                .any(|c| c.runtime == *rt)
        }) {
            runtimes.push(*rt);
        }
    }
    let values: Vec<f64> = cases
        .iter()
        .flat_map(|case| case.cells.iter().filter(|c| measured(c)))
        .filter_map(|c| c.latency_ns.as_ref())
        .flat_map(|l| [l.p50, l.p90, l.p99, l.p999, l.max])
        .map(|v| v as f64)
        .collect();
    let y = Axis::log(&values, format_duration_ns);
    let x = Axis::categories(&PERCENTILES);
    let columns = 3.min(cases.len());
    let panel_w = (WIDTH - 2 * PAD - (columns as i32 - 1) * 28) / columns.max(1) as i32;
    let panels: Vec<LinePanel> = cases
        .iter()
        .map(|case| {
            let series = case
                .cells
                .iter()
                .filter(|c| measured(c))
                .filter_map(|cell| {
                    let l = cell.latency_ns.as_ref()?;
                    let ys = [l.p50, l.p90, l.p99, l.p999, l.max];
                    Some(Series {
                        color: runtime_color(&cell.runtime),
                        look: variant_look(0),
                        points: ys
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (i as f64, *v as f64))
                            .collect(),
                    })
                })
                .collect();
            let pieces = param_pieces(case.params, &|k| constants.contains_key(k));
            LinePanel {
                title: case.variant.to_string(),
                subtitle: wrap(F_LABEL, &pieces, panel_w),
                series,
            }
        })
        .collect();
    let caption = with_constants(
        format!("{}: latency percentiles per operation", section.workload),
        &constants,
    );
    let axes = PanelAxes {
        x: &x,
        y: &y,
        x_title: "percentile",
        y_title: "latency (log scale)",
    };
    panel_grid(
        &caption,
        &runtime_legend(&runtimes),
        &panels,
        columns,
        230,
        &axes,
    )
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::build_model;
    use crate::results::ResultsFile;

    const FIXTURE: &str = include_str!("../../../tests/fixtures/small-results.json");

    #[test]
    fn only_workloads_that_measured_latency_get_the_chart() {
        let results: ResultsFile = serde_json::from_str(FIXTURE).unwrap();
        let model = build_model(&results, "tokio-mt");
        let by_name = |name: &str| model.sections.iter().find(|s| s.workload == name).unwrap();
        assert!(latency_chart(by_name("when_all")).unwrap().is_none());
        let chart = latency_chart(by_name("producer_consumer"))
            .unwrap()
            .expect("producer_consumer measures latency");
        assert!(chart.svg.starts_with("<svg class=\"chart\""));
        assert!(chart.svg.contains("p99.9") && chart.svg.contains("<text"));
    }
}
