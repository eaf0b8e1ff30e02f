//! `report.md`: the environment, then per workload a table in the manner of
//! BenchmarkDotNet, the Task vs ValueTask section, and the cells that did not run.

use std::fmt::Write;

use super::tables::{self, Table};
use super::{Model, Renderer};

/// The Markdown report.
pub struct Markdown;

impl Renderer for Markdown {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn render(&self, model: &Model<'_>) -> anyhow::Result<String> {
        Ok(render(model))
    }
}

/// Escapes the characters that would break a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A GitHub-flavoured Markdown table.
pub fn table(t: &Table) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| {} |",
        t.headers
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let aligns: Vec<&str> = t
        .numeric
        .iter()
        .map(|n| if *n { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "|{}|", aligns.join("|"));
    for row in &t.rows {
        let _ = writeln!(
            out,
            "| {} |",
            row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
        );
    }
    out
}

fn render(model: &Model<'_>) -> String {
    let mut out = String::from("# tapbench report\n\n");
    out.push_str(tables::HOW_TO_READ);
    out.push_str("\n\n");
    out.push_str("## Environment\n\n| | |\n|---|---|\n");
    for (label, value) in tables::environment(model) {
        let _ = writeln!(out, "| {} | {} |", cell(&label), cell(&value));
    }
    out.push('\n');
    out.push_str("## Runtimes\n\n");
    out.push_str(&table(&tables::runtimes_table(model)));
    out.push('\n');
    for section in &model.sections {
        let _ = write!(out, "## {}", section.workload);
        if let Some(spec) = section.spec {
            let _ = write!(out, " ({})\n\nOne operation: {}.", spec.tap, spec.op_unit);
        }
        out.push_str("\n\n");
        out.push_str(&table(&tables::workload_table(section)));
        out.push('\n');
    }
    if let Some(vt) = tables::value_task_section(model) {
        out.push_str("## Task vs ValueTask\n\n");
        out.push_str(
            "Time and allocations per call of `value_task` against the share of calls that \
             complete synchronously: `inline` is the ValueTask path (the future stays on the \
             stack), `boxed` and `dyn_trait` the Task path (one heap object per call), \
             `spawned` a task per call.\n\n",
        );
        out.push_str(&table(&vt.table));
        out.push('\n');
        for finding in &vt.findings {
            let _ = writeln!(out, "- {finding}");
        }
        if !vt.findings.is_empty() {
            out.push('\n');
        }
    }
    if !model.problems.is_empty() {
        out.push_str("## Cells that did not run\n\n");
        out.push_str(&table(&tables::problems_table(model)));
    }
    out
}
