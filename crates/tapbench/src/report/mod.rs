//! Reports rendered from a results file - never from a live run - in the manner of
//! criterion's reporting: one [`Model`] built once from the file, and a [`Renderer`] per
//! output format (Markdown, HTML with charts, CSV).
//!
//! Files are written by [`crate::store`]; renderers only build strings.

pub mod charts;
pub mod csv;
pub mod html;
pub mod markdown;
pub mod tables;

use std::collections::BTreeMap;

use tapbench_core::{find_workload, WorkloadSpec};

use crate::results::{CellResult, ResultsFile, Status};

/// The default runtime every other runtime is compared with (the Ratio column).
pub const DEFAULT_BASELINE: &str = "tokio-mt";

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

/// Every renderer, in the order their files are written.
pub fn renderers() -> Vec<Box<dyn Renderer>> {
    vec![
        Box::new(markdown::Markdown),
        Box::new(html::Html),
        Box::new(csv::Csv),
    ]
}

/// What every report shows, computed once from a results file.
#[derive(Debug)]
pub struct Model<'a> {
    /// The results file.
    pub results: &'a ResultsFile,
    /// The runtime the Ratio column divides by.
    pub baseline: String,
    /// One section per workload present in the file, in catalogue order.
    pub sections: Vec<Section<'a>>,
    /// Cells that did not end `ok`, in file order.
    pub problems: Vec<&'a CellResult>,
}

/// The rows of one workload.
#[derive(Debug)]
pub struct Section<'a> {
    /// Workload id.
    pub workload: String,
    /// Its catalogue entry, when this build knows it.
    pub spec: Option<&'static WorkloadSpec>,
    /// Measured (`ok`) cells, ordered by variant (catalogue order), parameters, runtime.
    pub rows: Vec<Row<'a>>,
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
    /// Median nanoseconds per operation.
    pub fn median_ns(&self) -> Option<f64> {
        self.cell.time_ns_per_op.as_ref().map(|t| t.median)
    }

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

pub(crate) fn runtime_rank(id: &str) -> usize {
    tapbench_runtimes::all()
        .iter()
        .position(|r| r.info.id == id)
        .unwrap_or(usize::MAX)
}

fn variant_rank(spec: Option<&WorkloadSpec>, variant: &str) -> usize {
    spec.and_then(|s| s.variants.iter().position(|v| v.id == variant))
        .unwrap_or(usize::MAX)
}

/// Orders parameter values numerically where they are numbers.
fn params_key(cell: &CellResult) -> Vec<(String, f64, String)> {
    use tapbench_core::ParamValue;
    cell.params
        .0
        .iter()
        .map(|(k, v)| match v {
            ParamValue::Int(i) => (k.clone(), *i as f64, String::new()),
            ParamValue::Float(f) => (k.clone(), *f, String::new()),
            ParamValue::Bool(b) => (k.clone(), f64::from(u8::from(*b)), String::new()),
            ParamValue::Text(t) => (k.clone(), 0.0, t.clone()),
        })
        .collect()
}

/// Renders every report of `results` into `out_dir` and returns the files written.
///
/// # Errors
///
/// `baseline` is not a known runtime, a renderer fails, or a file cannot be written.
pub fn write_reports(
    results: &ResultsFile,
    baseline: &str,
    out_dir: &std::path::Path,
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    if tapbench_runtimes::find(baseline).is_none() {
        anyhow::bail!(
            "unknown baseline runtime `{baseline}` (known: {})",
            tapbench_runtimes::all()
                .iter()
                .map(|r| r.info.id)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let model = build_model(results, baseline);
    let mut written = Vec::new();
    for renderer in renderers() {
        let text = renderer.render(&model)?;
        let path = out_dir.join(renderer.file_name());
        crate::store::write_text(&path, &text)?;
        written.push(path);
    }
    Ok(written)
}

/// Where the report of the results file `results` goes by default: `<name>-report/` beside it.
pub fn default_dir(results: &std::path::Path) -> std::path::PathBuf {
    let stem = results
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    results.with_file_name(format!("{stem}-report"))
}

/// Builds the model of `results`, with ratios against `baseline`.
pub fn build_model<'a>(results: &'a ResultsFile, baseline: &str) -> Model<'a> {
    let mut baseline_medians: BTreeMap<String, f64> = BTreeMap::new();
    for cell in &results.cells {
        if cell.runtime == baseline && cell.status == Status::Ok {
            if let Some(t) = &cell.time_ns_per_op {
                baseline_medians.insert(case_key(cell), t.median);
            }
        }
    }
    let mut by_workload: BTreeMap<(usize, String), Vec<&CellResult>> = BTreeMap::new();
    for cell in results.cells.iter().filter(|c| c.status == Status::Ok) {
        let rank = tapbench_core::catalogue()
            .iter()
            .position(|w| w.id == cell.workload)
            .unwrap_or(usize::MAX);
        by_workload
            .entry((rank, cell.workload.clone()))
            .or_default()
            .push(cell);
    }
    let sections = by_workload
        .into_iter()
        .map(|((_, workload), mut cells)| {
            let spec = find_workload(&workload);
            cells.sort_by(|a, b| {
                variant_rank(spec, &a.variant)
                    .cmp(&variant_rank(spec, &b.variant))
                    .then_with(|| a.variant.cmp(&b.variant))
                    .then_with(|| {
                        params_key(a)
                            .partial_cmp(&params_key(b))
                            .unwrap_or(std::cmp::Ordering::Equal)
                    })
                    .then_with(|| runtime_rank(&a.runtime).cmp(&runtime_rank(&b.runtime)))
            });
            let rows = cells
                .into_iter()
                .map(|cell| {
                    let ratio = match (baseline_medians.get(&case_key(cell)), &cell.time_ns_per_op)
                    {
                        (Some(base), Some(t)) if *base > 0.0 => Some(t.median / base),
                        _ => None,
                    };
                    Row { cell, ratio }
                })
                .collect();
            Section {
                workload,
                spec,
                rows,
            }
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
    }
}
