//! `report.md`: summary, environment, a table per workload with its views, cells not run.

use std::fmt::Write;

use super::growth::{cost_table, cost_table_intro, growth_table, how_to_read, section_growth};
use super::load;
use super::model::{Model, Renderer, Section};
use super::summary::{Summary, HOW_LEADERS_ARE_CHOSEN};
use super::tables::{self, Table};
use super::views::{section_views, SectionView};

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

/// A bulleted list, followed by a blank line (nothing when `items` is empty).
fn list(out: &mut String, items: &[String]) {
    for item in items {
        let _ = writeln!(out, "- {item}");
    }
    if !items.is_empty() {
        out.push('\n');
    }
}

/// The summary: cell counts, leaders, allocation gaps and the cells that did not run.
fn summary(out: &mut String, model: &Model<'_>) {
    let summary = Summary::of(model);
    out.push_str("## Summary\n\n");
    let _ = writeln!(out, "{}\n", summary.status_line());
    if !summary.workloads.is_empty() {
        let _ = writeln!(out, "{HOW_LEADERS_ARE_CHOSEN}\n");
        out.push_str(&table(&summary.leaders_table()));
        out.push('\n');
        let gaps = summary.allocation_lines();
        if gaps.is_empty() {
            out.push_str(
                "Allocations per operation are the same on every runtime and variant of a case \
                 (within half an allocation).\n\n",
            );
        } else {
            out.push_str("Allocations per operation differ by half an allocation or more:\n\n");
            list(out, &gaps);
        }
    }
    let not_run = summary.not_run_lines();
    if !not_run.is_empty() {
        out.push_str("Cells that did not run, by reason:\n\n");
        list(out, &not_run);
    }
}

/// One view of a workload, under its own heading.
fn view(out: &mut String, view: &SectionView<'_>) {
    let _ = writeln!(out, "## {}\n", view.title());
    let _ = writeln!(out, "{}\n", view.description());
    match view {
        SectionView::Pivot(pivot) => {
            out.push_str(&table(&pivot.table()));
            out.push('\n');
            list(out, &pivot.findings());
            for beside in &pivot.beside {
                let _ = writeln!(out, "### {}\n", beside.beside.title);
                let _ = writeln!(out, "{}\n", beside.beside.description);
                out.push_str(&table(&beside.table()));
                out.push('\n');
                list(out, &beside.findings());
            }
        }
    }
}

/// Latency under load, the p99 against the offered rate and the capacity table, where the
/// section has them.
fn load_tables(out: &mut String, model: &Model<'_>, section: &Section<'_>) {
    if let Some(t) = load::load_table(section) {
        let _ = writeln!(out, "### Latency under load\n\n{}\n", load::LOAD_INTRO);
        out.push_str(&table(&t));
        out.push('\n');
    }
    if let Some(t) = load::p99_by_rate_table(section) {
        out.push_str("### p99 latency against offered load\n\n");
        out.push_str(&table(&t));
        out.push('\n');
    }
    let capacities = load::capacities(section, model.p99_target_ns);
    if !capacities.is_empty() {
        let _ = writeln!(
            out,
            "### Capacity\n\n{}\n",
            load::capacity_intro(model.p99_target_ns)
        );
        out.push_str(&table(&load::capacity_table(&capacities)));
        out.push('\n');
    }
}

fn render(model: &Model<'_>) -> String {
    let mut out = String::from("# tapbench report\n\n");
    out.push_str(tables::HOW_TO_READ);
    out.push_str("\n\n");
    summary(&mut out, model);
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
        let variants = tables::variants_table(section);
        if !variants.rows.is_empty() {
            out.push_str(&table(&variants));
            out.push('\n');
        }
        out.push_str(&table(&tables::workload_table(section)));
        out.push('\n');
        load_tables(&mut out, model, section);
        for v in section_views(model, section) {
            view(&mut out, &v);
        }
        for param in &section.swept {
            if let Some(costs) = cost_table(section, param) {
                let sweep = model.results.sweep.as_ref();
                let _ = writeln!(
                    out,
                    "### Cost against {param} (swept)\n\n{}\n",
                    cost_table_intro(param, sweep)
                );
                out.push_str(&table(&costs));
                out.push('\n');
            }
        }
        for (param, growth) in section_growth(section) {
            let _ = writeln!(out, "### Growth with {param}\n\n{}\n", how_to_read(&param));
            out.push_str(&table(&growth_table(&param, &growth)));
            out.push('\n');
        }
    }
    if !model.problems.is_empty() {
        out.push_str("## Cells that did not run\n\n");
        out.push_str(&table(&tables::problems_table(model)));
    }
    out
}
