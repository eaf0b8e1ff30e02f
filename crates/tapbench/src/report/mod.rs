//! Reports rendered from a results file: one model, a renderer per format (Markdown, HTML, CSV).

pub mod charts;
pub mod csv;
pub mod format;
pub mod growth;
pub mod html;
pub mod load;
pub mod markdown;
pub mod model;
pub mod summary;
pub mod tables;
pub mod views;

use std::path::{Path, PathBuf};

use crate::results::ResultsFile;

/// The default runtime every other runtime is compared with (the Ratio column).
pub const DEFAULT_BASELINE: &str = "tokio-mt";

/// Every renderer, in the order their files are written.
pub fn renderers() -> Vec<Box<dyn model::Renderer>> {
    vec![
        Box::new(markdown::Markdown),
        Box::new(html::Html),
        Box::new(csv::Csv),
    ]
}

/// Renders every report of `results` into `out_dir`, with the capacity tables' p99 target
/// `p99_target_ms` when given (else the file's, see [`load::p99_target_ns`]) (files written by [`crate::store`];
/// renderers only build strings) and returns the files written.
///
/// # Errors
///
/// `baseline` is not a known runtime, a renderer fails, or a file cannot be written.
pub fn write_reports(
    results: &ResultsFile,
    baseline: &str,
    p99_target_ms: Option<f64>,
    out_dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
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
    let results = model::with_threads_as_param(results);
    let mut model = model::build_model(&results, baseline);
    if let Some(ms) = p99_target_ms {
        model.p99_target_ns = ms * 1e6;
    }
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
pub fn default_dir(results: &Path) -> PathBuf {
    let stem = results
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    results.with_file_name(format!("{stem}-report"))
}
