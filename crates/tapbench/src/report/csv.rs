//! `report.csv`: one row per cell, every numeric field, units in the header.

use std::collections::HashMap;

use super::model::{Model, Renderer};
use crate::results::CellResult;

/// The CSV report.
pub struct Csv;

/// The header row.
pub const HEADER: &[&str] = &[
    "id",
    "runtime",
    "workload",
    "variant",
    "params",
    "threads",
    "status",
    "verified",
    "ops_per_sample",
    "samples",
    "median_ns_per_op",
    "ci95_low_ns_per_op",
    "ci95_high_ns_per_op",
    "cv",
    "outliers",
    "ratio_to_baseline",
    "throughput_ops_per_s",
    "allocs_per_op",
    "marginal_allocs_per_op",
    "bytes_per_op",
    "latency_p50_ns",
    "latency_p90_ns",
    "latency_p99_ns",
    "latency_p999_ns",
    "latency_max_ns",
    "latency_count",
    "load_loop",
    "offered_per_s",
    "achieved_per_s",
    "requests",
    "timed_out",
    "wall_s",
    "error",
];

impl Renderer for Csv {
    fn file_name(&self) -> &'static str {
        "report.csv"
    }

    fn render(&self, model: &Model<'_>) -> anyhow::Result<String> {
        let ratios: HashMap<*const CellResult, f64> = model
            .sections
            .iter()
            .flat_map(|s| &s.rows)
            .filter_map(|r| Some((std::ptr::from_ref(r.cell), r.ratio?)))
            .collect();
        let ratio_of = |cell: &CellResult| ratios.get(&std::ptr::from_ref(cell)).copied();
        let mut out = HEADER.join(",");
        out.push('\n');
        for cell in &model.results.cells {
            let t = cell.time_ns_per_op.as_ref();
            let l = cell.latency_ns.as_ref();
            let load = cell.load.as_ref();
            let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
            let int = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
            let fields = [
                cell.id.clone(),
                cell.runtime.clone(),
                cell.workload.clone(),
                cell.variant.clone(),
                cell.params.to_string(),
                cell.threads.to_string(),
                cell.status.as_str().to_string(),
                cell.verified.to_string(),
                int(cell.ops),
                int(t.map(|t| t.samples.len() as u64)),
                num(t.map(|t| t.median)),
                num(t.map(|t| t.ci95_low)),
                num(t.map(|t| t.ci95_high)),
                num(t.map(|t| t.cv)),
                int(t.map(|t| t.outliers as u64)),
                num(ratio_of(cell)),
                num(cell.throughput_ops_per_s),
                num(cell.allocs_per_op),
                num(cell.marginal_allocs_per_op),
                num(cell.bytes_per_op),
                int(l.map(|l| l.p50)),
                int(l.map(|l| l.p90)),
                int(l.map(|l| l.p99)),
                int(l.map(|l| l.p999)),
                int(l.map(|l| l.max)),
                int(l.map(|l| l.count)),
                load.map(|l| if l.open_loop { "open" } else { "closed" })
                    .unwrap_or_default()
                    .to_string(),
                num(load.map(|l| l.offered_per_s)),
                num(load.and_then(|l| l.achieved_per_s)),
                int(load.map(|l| l.requests)),
                int(load.map(|l| l.timed_out)),
                format!("{}", cell.wall_s),
                cell.error.clone().unwrap_or_default(),
            ];
            let line: Vec<String> = fields.iter().map(|f| quote(f)).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
        Ok(out)
    }
}

/// RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled.
pub fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}
