//! The short table `tapbench run` prints on stdout.

use std::fmt::Write;

use crate::results::{CellResult, Status};

pub use crate::report::format::format_ns;

/// Renders one line per cell: id, status, median time per op with its 95% interval, CV,
/// allocations per op and p99 latency.
pub fn render(cells: &[CellResult]) -> String {
    let width = cells
        .iter()
        .map(|c| c.id.len())
        .max()
        .unwrap_or(4)
        .clamp(4, 80);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:<7}  {:>12}  {:>21}  {:>6}  {:>10}  {:>10}",
        "cell", "status", "ns/op", "95% CI", "cv%", "allocs/op", "p99 ns"
    );
    for cell in cells {
        let _ = writeln!(out, "{}", line(cell, width));
    }
    out
}

/// One cell's line (also used for progress output).
pub fn line(cell: &CellResult, width: usize) -> String {
    let (median, ci, cv) = match &cell.time_ns_per_op {
        Some(t) => (
            format_ns(t.median),
            format!("[{} .. {}]", format_ns(t.ci95_low), format_ns(t.ci95_high)),
            format!("{:.1}", t.cv * 100.0),
        ),
        None => ("-".into(), "-".into(), "-".into()),
    };
    let allocs = cell
        .allocs_per_op
        .map(|a| format!("{a:.2}"))
        .unwrap_or_else(|| "-".into());
    let p99 = cell
        .latency_ns
        .as_ref()
        .map(|l| l.p99.to_string())
        .unwrap_or_else(|| "-".into());
    let mut text = format!(
        "{:<width$}  {:<7}  {:>12}  {:>21}  {:>6}  {:>10}  {:>10}",
        cell.id,
        cell.status.as_str(),
        median,
        ci,
        cv,
        allocs,
        p99
    );
    if cell.status != Status::Ok {
        if let Some(error) = &cell.error {
            let _ = write!(text, "  {error}");
        }
    }
    text
}
