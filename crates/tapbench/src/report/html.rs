//! `report.html`: the Markdown report's content and its charts in one self-contained page.

use std::fmt::Write;

use super::charts::{self, Chart, SweepChart};
use super::format::{escape, format_count, format_duration_ns};
use super::growth::{cost_table, cost_table_intro, growth_table, how_to_read, Growth};
use super::load;
use super::model::{Model, Renderer, Section};
use super::summary::{Summary, HOW_LEADERS_ARE_CHOSEN};
use super::tables::{self, Table};
use super::views::{section_views, SectionView};
use crate::results::Sweep;

/// The HTML report.
pub struct Html;

impl Renderer for Html {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn render(&self, model: &Model<'_>) -> anyhow::Result<String> {
        render(model)
    }
}

/// Escapes `text` and turns Markdown code spans (`` `inline` ``) into `<code>`.
fn prose(text: &str) -> String {
    let escaped = escape(text);
    let mut out = String::with_capacity(escaped.len());
    let mut parts = escaped.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let rest: Vec<&str> = parts.collect();
    // An odd number of backticks leaves the last one as it is.
    let pairs = rest.len() / 2 * 2;
    for (i, part) in rest.iter().enumerate() {
        if i >= pairs {
            out.push('`');
            out.push_str(part);
        } else if i % 2 == 0 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// An id usable in `id` and `#` links.
fn anchor(prefix: &str, name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{prefix}-{slug}")
}

/// A table, numeric columns right-aligned, cells escaped.
fn table(t: &Table) -> String {
    table_of(t, escape)
}

/// A table, numeric columns right-aligned, cells written by `cell_html`.
fn table_of(t: &Table, cell_html: fn(&str) -> String) -> String {
    let mut out = String::from("<div class=\"scroll\"><table>\n<thead><tr>");
    for (i, h) in t.headers.iter().enumerate() {
        let class = if t.numeric.get(i).copied().unwrap_or(false) {
            " class=\"num\""
        } else {
            ""
        };
        let _ = write!(out, "<th{class}>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if t.numeric.get(i).copied().unwrap_or(false) {
                " class=\"num\""
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{}</td>", cell_html(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    out
}

/// A chart; its caption is its title inside the SVG (and its accessible name).
fn figure(chart: &Chart) -> String {
    format!(
        "<figure><div class=\"scroll\">{}</div></figure>\n",
        chart.svg
    )
}

const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1f2328;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 28px; margin: 8px 0 4px; }
h2 { font-size: 22px; margin: 40px 0 6px; padding-top: 12px; border-top: 2px solid #e1e4e8; }
h2 .tap { font-size: 15px; font-weight: normal; color: #5c636e; margin-left: 8px; }
h3 { font-size: 17px; margin: 24px 0 8px; }
p { max-width: 78em; }
a { color: #0550ae; }
code { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  background: #eff1f3; padding: 1px 4px; border-radius: 4px; }
.lede { color: #444c56; }
.scroll { overflow-x: auto; }
figure { margin: 12px 0 20px; }
svg.chart { display: block; max-width: 100%; min-width: 960px; height: auto;
  border: 1px solid #e1e4e8; border-radius: 6px; }
svg.chart text { font-family: "DejaVu Sans", "Bitstream Vera Sans", Verdana, sans-serif; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e1e4e8; text-align: left; vertical-align: top; }
th { background: #f3f5f8; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
table.env th { background: none; font-weight: 600; position: static; white-space: nowrap; }
nav ul { columns: 2; margin: 4px 0; }
.findings li { margin: 4px 0; }
details { margin: 6px 0 16px; }
summary { cursor: pointer; color: #0550ae; }
.status-failed, .status-timeout { color: #b42318; font-weight: 600; }
.status-skipped { color: #5c636e; }
.empty { color: #5c636e; font-style: italic; }
footer { margin-top: 40px; color: #5c636e; font-size: 13px; }
"#;

/// The whole page: no script, no external font, stylesheet or image, and a
/// Content-Security-Policy that lets the browser load nothing else; the same tables as the
/// Markdown report (both come from [`super::tables`]) with the charts of [`super::charts`].
///
/// # Errors
///
/// A chart that could not be drawn.
pub fn render(model: &Model<'_>) -> anyhow::Result<String> {
    let results = model.results;
    let mut out = String::with_capacity(256 * 1024);
    let title = format!(
        "tapbench report: {} profile, {}",
        results.profile, results.created_at
    );
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n\
         <body>\n<main>\n",
        escape(&title)
    );
    out.push_str("<h1>tapbench report</h1>\n");
    out.push_str(&format!(
        "<p class=\"lede\">{} Charts use log scales: equal distances are equal ratios.</p>\n",
        escape(tables::HOW_TO_READ)
    ));

    out.push_str(&summary(model));
    out.push_str(&contents(model));

    out.push_str("<h2 id=\"environment\">Environment</h2>\n<table class=\"env\"><tbody>\n");
    for (label, value) in tables::environment(model) {
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(&label),
            escape(&value)
        );
    }
    out.push_str("</tbody></table>\n");
    out.push_str("<h2 id=\"runtimes\">Runtimes</h2>\n");
    out.push_str(&table(&tables::runtimes_table(model)));

    for section in &model.sections {
        out.push_str(&workload_section(
            section,
            results.sweep.as_ref(),
            model.p99_target_ns,
        )?);
        for v in section_views(model, section) {
            out.push_str(&view(section, &v)?);
        }
    }

    if !model.problems.is_empty() {
        out.push_str("<section id=\"problems\">\n<h2>Cells that did not run</h2>\n");
        out.push_str(&problems_table(&tables::problems_table(model)));
        out.push_str("</section>\n");
    }

    if model.sections.is_empty() && model.problems.is_empty() {
        out.push_str("<p class=\"empty\">The results file holds no cells.</p>\n");
    }

    let _ = write!(
        out,
        "<footer>Rendered by tapbench {} from a results file (schema version {}); nothing was \
         re-run.</footer>\n</main>\n</body>\n</html>\n",
        escape(env!("CARGO_PKG_VERSION")),
        results.schema_version
    );
    Ok(out)
}

/// A list of prose items (Markdown code spans become `<code>`).
fn prose_list(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut out = String::from("<ul class=\"findings\">\n");
    for item in items {
        let _ = writeln!(out, "<li>{}</li>", prose(item));
    }
    out.push_str("</ul>\n");
    out
}

/// The summary: cell counts, leaders, allocation gaps and the cells that did not run.
fn summary(model: &Model<'_>) -> String {
    let summary = Summary::of(model);
    let mut out = String::from("<section id=\"summary\">\n<h2>Summary</h2>\n");
    let _ = writeln!(out, "<p>{}</p>", escape(&summary.status_line()));
    if !summary.workloads.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", escape(HOW_LEADERS_ARE_CHOSEN));
        out.push_str(&table_of(&summary.leaders_table(), prose));
        let gaps = summary.allocation_lines();
        if gaps.is_empty() {
            out.push_str(
                "<p>Allocations per operation are the same on every runtime and variant of a \
                 case (within half an allocation).</p>\n",
            );
        } else {
            out.push_str(
                "<p>Allocations per operation differ by half an allocation or more:</p>\n",
            );
            out.push_str(&prose_list(&gaps));
        }
    }
    let not_run = summary.not_run_lines();
    if !not_run.is_empty() {
        out.push_str("<p><a href=\"#problems\">Cells that did not run</a>, by reason:</p>\n");
        out.push_str(&prose_list(&not_run));
    }
    out.push_str("</section>\n");
    out
}

fn contents(model: &Model<'_>) -> String {
    let mut out = String::from("<nav><h3>Contents</h3>\n<ul>\n");
    for s in &model.sections {
        let _ = writeln!(
            out,
            "<li><a href=\"#{}\">{}</a> ({} cells)</li>",
            anchor("workload", &s.workload),
            escape(&s.workload),
            s.rows.len()
        );
        for v in section_views(model, s) {
            let _ = writeln!(
                out,
                "<li><a href=\"#{}\">{}</a></li>",
                view_anchor(s, &v),
                escape(v.title())
            );
        }
    }
    if !model.problems.is_empty() {
        let _ = writeln!(
            out,
            "<li><a href=\"#problems\">Cells that did not run</a> ({})</li>",
            model.problems.len()
        );
    }
    out.push_str("</ul></nav>\n");
    out
}

/// The id of a view's section.
fn view_anchor(section: &Section<'_>, view: &SectionView<'_>) -> String {
    anchor(&format!("view-{}", section.workload), view.title())
}

/// One view of a workload: its heading, paragraph, findings, chart and table.
fn view(section: &Section<'_>, view: &SectionView<'_>) -> anyhow::Result<String> {
    let mut out = format!(
        "<section id=\"{}\">\n<h2>{}</h2>\n<p>{}</p>\n",
        view_anchor(section, view),
        escape(view.title()),
        prose(view.description())
    );
    match view {
        SectionView::Pivot(pivot) => {
            out.push_str(&prose_list(&pivot.findings()));
            if let Some(chart) = charts::pivot_chart(pivot)? {
                out.push_str(&figure(&chart));
            }
            out.push_str(&table(&pivot.table()));
            for beside in &pivot.beside {
                let _ = write!(
                    out,
                    "<h3>{}</h3>\n<p>{}</p>\n",
                    escape(beside.beside.title),
                    prose(beside.beside.description)
                );
                out.push_str(&prose_list(&beside.findings()));
                out.push_str(&table(&beside.table()));
            }
        }
    }
    out.push_str("</section>\n");
    Ok(out)
}

fn workload_section(
    section: &Section<'_>,
    sweep: Option<&Sweep>,
    p99_target_ns: f64,
) -> anyhow::Result<String> {
    let mut out = String::new();
    let _ = write!(
        out,
        "<section id=\"{}\">\n<h2>{}",
        anchor("workload", &section.workload),
        escape(&section.workload)
    );
    if let Some(spec) = section.spec {
        let _ = write!(
            out,
            "<span class=\"tap\">{}</span></h2>\n<p>One operation: {}.</p>\n",
            escape(spec.tap),
            escape(spec.op_unit)
        );
    } else {
        out.push_str("</h2>\n");
    }
    let variants = tables::variants_table(section);
    if !variants.rows.is_empty() {
        out.push_str(&table(&variants));
    }

    let bars = charts::bar_charts(section)?;
    if !bars.is_empty() {
        out.push_str("<h3>Time and allocations per operation</h3>\n");
        for chart in &bars {
            out.push_str(&figure(chart));
        }
    }
    if let Some(chart) = charts::latency_chart(section)? {
        out.push_str("<h3>Latency percentiles</h3>\n");
        out.push_str(&figure(&chart));
    }
    if let Some(t) = load::load_table(section) {
        let _ = writeln!(
            out,
            "<h3>Latency under load</h3>\n<p>{}</p>",
            escape(load::LOAD_INTRO)
        );
        out.push_str(&table(&t));
    }
    if let Some(chart) = charts::load_chart(section)? {
        out.push_str("<h3>p99 latency against offered load</h3>\n");
        out.push_str(&figure(&chart));
        if let Some(t) = load::p99_by_rate_table(section) {
            out.push_str(&table(&t));
        }
    }
    let capacities = load::capacities(section, p99_target_ns);
    if !capacities.is_empty() {
        let _ = writeln!(
            out,
            "<h3>Capacity</h3>\n<p>{}</p>",
            escape(&load::capacity_intro(p99_target_ns))
        );
        out.push_str(&table(&load::capacity_table(&capacities)));
    }
    for sweep in charts::sweep_charts(section)? {
        let _ = writeln!(out, "<h3>Cost against {}</h3>", escape(&sweep.param));
        out.push_str(&figure(&sweep.chart));
        out.push_str(&growth(&sweep));
    }
    for param in &section.swept {
        if let Some(costs) = cost_table(section, param) {
            let intro = cost_table_intro(param, sweep);
            let _ = writeln!(
                out,
                "<h3>Cost against {} (swept)</h3>\n<p>{}</p>",
                escape(param),
                escape(&intro)
            );
            out.push_str(&table(&costs));
        }
    }
    out.push_str("<h3>All measurements</h3>\n");
    out.push_str(&table(&tables::workload_table(section)));
    out.push_str("</section>\n");
    Ok(out)
}

/// The growth exponents of a log-log sweep: the steepest line in a sentence, every line in
/// a table under it.
fn growth(sweep: &SweepChart) -> String {
    let Some(top) = sweep.growth.first() else {
        return String::new();
    };
    let p = &sweep.param;
    let describe = |g: &Growth| {
        let mut s = format!("{} {}", g.runtime, g.variant);
        if !g.others.is_empty() {
            s.push_str(&format!(" ({})", g.others));
        }
        s
    };
    let mut out = format!(
        "<p>{} Steepest at the largest sizes: <strong>{}</strong>, k = {:.2} between its last \
         two points; from {p} = {} to {} its time per operation goes from {} to {} (k fitted \
         = {:.2}).</p>\n",
        escape(&how_to_read(p)),
        escape(&describe(top)),
        top.last_step,
        format_count(top.from_x, true),
        format_count(top.to_x, true),
        escape(&format_duration_ns(top.from_ns, false)),
        escape(&format_duration_ns(top.to_ns, false)),
        top.exponent,
        p = escape(p),
    );
    let t = growth_table(p, &sweep.growth);
    let _ = write!(
        out,
        "<details><summary>Growth exponent k of every line, steepest first</summary>\n{}</details>\n",
        table(&t)
    );
    out
}

/// The problems table with the status column coloured.
fn problems_table(t: &Table) -> String {
    let status_col = t.headers.iter().position(|h| h == "status");
    let mut out = String::from("<div class=\"scroll\"><table>\n<thead><tr>");
    for h in &t.headers {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            if Some(i) == status_col {
                let class: String = cell.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
                let _ = write!(out, "<td class=\"status-{class}\">{}</td>", escape(cell));
            } else {
                let _ = write!(out, "<td>{}</td>", escape(cell));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{build_model, case_key};
    use crate::results::{CellResult, LatencyNs, ResultsFile, Status, TimeNsPerOp};
    use tapbench_core::{ParamValue, Params};

    const FIXTURE: &str = include_str!("../../tests/fixtures/small-results.json");

    fn fixture() -> ResultsFile {
        serde_json::from_str(FIXTURE).expect("the fixture is a valid results file")
    }

    fn render_file(results: &ResultsFile) -> String {
        render(&build_model(results, "tokio-mt")).expect("the report renders")
    }

    /// Every `<svg ...>...</svg>` element of a page.
    fn svgs(html: &str) -> Vec<&str> {
        html.match_indices("<svg")
            .map(|(start, _)| {
                let end = html[start..]
                    .find("</svg>")
                    .map_or(html.len(), |e| start + e + 6);
                &html[start..end]
            })
            .collect()
    }

    fn assert_self_contained(html: &str) {
        for needle in [
            "http://", "https://", "<script", "<link", "@import", "url(", "src=",
        ] {
            assert!(!html.contains(needle), "the page holds `{needle}`");
        }
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.trim_end().ends_with("</html>"));
    }

    fn cell(
        runtime: &str,
        workload: &str,
        variant: &str,
        params: Params,
        median: f64,
    ) -> CellResult {
        let mut c = fixture().cells[0].clone();
        c.runtime = runtime.into();
        c.workload = workload.into();
        c.variant = variant.into();
        c.params = params;
        c.id = format!("{runtime}/{}", case_key(&c));
        let t = c.time_ns_per_op.as_mut().unwrap();
        t.median = median;
        t.ci95_low = median * 0.9;
        t.ci95_high = median * 1.1;
        t.samples = vec![median; 5];
        c.throughput_ops_per_s = (median > 0.0).then(|| 1e9 / median);
        c
    }

    #[test]
    fn prose_escapes_markup_and_turns_code_spans_into_code() {
        assert_eq!(
            prose("the `inline` call, `x"),
            "the <code>inline</code> call, `x"
        );
        assert_eq!(prose("a <b> `c<d`"), "a &lt;b&gt; <code>c&lt;d</code>");
    }

    #[test]
    fn the_page_is_self_contained() {
        let html = render_file(&fixture());
        assert_self_contained(&html);
        assert!(html.contains("Content-Security-Policy"));
    }

    #[test]
    fn every_chart_is_an_svg_with_content() {
        let html = render_file(&fixture());
        let charts = svgs(&html);
        // when_all: bars + n sweep; cache: bars + its lookups pivot; producer_consumer:
        // bars + latency; value_task: bars + sync_ratio sweep; Task vs ValueTask.
        assert_eq!(
            charts.len(),
            9,
            "{:?}",
            charts.iter().map(|s| &s[..80]).collect::<Vec<_>>()
        );
        for svg in charts {
            assert!(svg.ends_with("</svg>"));
            assert!(svg.contains("role=\"img\"") && svg.contains("<title>"));
            assert!(svg.matches("<rect").count() > 3, "a chart without shapes");
            assert!(svg.matches("<text").count() > 3, "a chart without labels");
            assert!(!svg.contains("xmlns"), "inline SVG needs no namespace URL");
        }
        assert!(html.contains("Latency percentiles"));
        assert!(html.contains("Cost against n"));
        assert!(html.contains("Cost against sync_ratio"));
    }

    #[test]
    fn the_tables_hold_the_fixture_values() {
        let results = fixture();
        let model = build_model(&results, "tokio-mt");
        let html = render(&model).unwrap();
        let mut checked = 0;
        for section in &model.sections {
            for row in tables::workload_table(section).rows {
                for value in row {
                    assert!(html.contains(&escape(&value)), "{value} is missing");
                    checked += 1;
                }
            }
        }
        assert!(checked > 100);
        // The problems and their reasons.
        assert!(html.contains("tokio-ct/fault/wrong_answer"));
        assert!(html.contains("expected 42, saw 41"));
        assert!(html.contains("smol has no task-set type"));
        for (label, value) in tables::environment(&model) {
            assert!(html.contains(&escape(&label)) && html.contains(&escape(&value)));
        }
        let views: Vec<SectionView<'_>> = model
            .sections
            .iter()
            .flat_map(|s| section_views(&model, s))
            .collect();
        // cache's lookups pivot, and value_task's Task vs ValueTask with the cache hit path.
        assert_eq!(views.len(), 2);
        let SectionView::Pivot(pivot) = &views[1];
        assert_eq!(pivot.beside.len(), 1);
        let beside = &pivot.beside[0];
        assert!(html.contains(&format!("<h3>{}</h3>", beside.beside.title)));
        for row in pivot.table().rows.into_iter().chain(beside.table().rows) {
            for value in row {
                assert!(html.contains(&escape(&value)), "{value} is missing");
            }
        }
        for finding in pivot.findings().into_iter().chain(beside.findings()) {
            assert!(html.contains(&prose(&finding)), "{finding} is missing");
        }
        assert!(html.contains("<h2>Task vs ValueTask</h2>"));
        // The summary comes first, with every workload's leaders.
        let summary = Summary::of(&model);
        assert!(html.find("<h2>Summary</h2>") < html.find("id=\"environment\""));
        for row in summary.leaders_table().rows {
            for value in row {
                assert!(html.contains(&prose(&value)), "{value} is missing");
            }
        }
        for line in summary.not_run_lines() {
            assert!(html.contains(&prose(&line)), "{line} is missing");
        }
    }

    #[test]
    fn text_from_the_file_is_escaped() {
        let mut results = fixture();
        results.cells[0].variant = "<b>bold</b>".into();
        results.env.cpu_model = "<script>alert(1)</script>".into();
        let last = results.cells.len() - 1;
        results.cells[last].error = Some("panicked at 'x < y && \"z\"'".into());
        let html = render_file(&results);
        assert!(!html.contains("<script>alert") && html.contains("&lt;script&gt;alert(1)"));
        assert!(!html.contains("<b>bold</b>") && html.contains("&lt;b&gt;bold&lt;/b&gt;"));
        assert!(html.contains("x &lt; y &amp;&amp; &quot;z&quot;"));
        assert_self_contained(&html);
    }

    #[test]
    fn an_empty_file_renders() {
        let mut results = fixture();
        results.cells.clear();
        let html = render_file(&results);
        assert_self_contained(&html);
        assert!(svgs(&html).is_empty());
        assert!(html.contains("holds no cells"));
    }

    #[test]
    fn a_file_of_failed_cells_renders() {
        let mut results = fixture();
        for c in &mut results.cells {
            c.status = Status::Failed;
            c.error = Some("boom".into());
            c.time_ns_per_op = None;
            c.allocs_per_op = None;
            c.latency_ns = None;
        }
        let html = render_file(&results);
        assert_self_contained(&html);
        assert!(svgs(&html).is_empty());
        assert_eq!(
            html.matches("<td class=\"status-failed\">failed</td>")
                .count(),
            results.cells.len()
        );
    }

    #[test]
    fn a_single_cell_renders() {
        let mut results = fixture();
        results.cells.truncate(1);
        let html = render_file(&results);
        assert_self_contained(&html);
        assert!(!svgs(&html).is_empty());
    }

    #[test]
    fn zero_and_extreme_values_render() {
        for value in [0.0, 1e-3, 1e13] {
            let mut results = fixture();
            for c in &mut results.cells {
                if let Some(t) = &mut c.time_ns_per_op {
                    t.median = value;
                    t.ci95_low = value;
                    t.ci95_high = value;
                }
                if c.allocs_per_op.is_some() {
                    c.allocs_per_op = Some(value);
                }
                if let Some(l) = &mut c.latency_ns {
                    *l = LatencyNs {
                        p50: 0,
                        p90: 0,
                        p99: 0,
                        p999: 0,
                        max: value as u64,
                        count: 0,
                    };
                }
            }
            let html = render_file(&results);
            assert_self_contained(&html);
            assert_eq!(svgs(&html).len(), 9);
        }
    }

    #[test]
    fn ok_cells_without_measurements_render() {
        let mut results = fixture();
        for c in &mut results.cells {
            c.time_ns_per_op = None;
            c.allocs_per_op = None;
            c.throughput_ops_per_s = None;
        }
        let html = render_file(&results);
        assert_self_contained(&html);
    }

    #[test]
    fn unknown_runtimes_workloads_and_parameters_render() {
        let mut results = fixture();
        let p = |pairs: &[(&str, ParamValue)]| {
            Params::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
        };
        for (i, threads) in [1u64, 2, 4, 8].into_iter().enumerate() {
            for rt in ["future-rt", "tokio-mt"] {
                let params = p(&[
                    ("threads", ParamValue::Int(threads)),
                    ("mode", ParamValue::Text("a b".into())),
                    ("flag", ParamValue::Bool(i % 2 == 0)),
                ]);
                results.cells.push(cell(
                    rt,
                    "future_workload",
                    "v",
                    params,
                    10.0 * (i + 1) as f64,
                ));
            }
        }
        let html = render_file(&results);
        assert_self_contained(&html);
        assert!(html.contains("future_workload"));
        assert!(html.contains("Cost against threads"));
    }

    #[test]
    fn a_parameter_of_mixed_types_renders() {
        // Only a hand-edited file can hold this; ordering must still be total.
        let mut results = fixture();
        let values = [
            ParamValue::Int(9),
            ParamValue::Text("5x".into()),
            ParamValue::Int(10),
            ParamValue::Float(2.5),
            ParamValue::Bool(true),
            ParamValue::Text("a".into()),
            ParamValue::Int(100),
        ];
        for rt in ["tokio-mt", "smol-mt"] {
            for (i, v) in values.iter().enumerate() {
                for variant in ["a", "b"] {
                    let params = Params::from_pairs([("n", v.clone())]);
                    results
                        .cells
                        .push(cell(rt, "when_all", variant, params, 1.0 + i as f64));
                }
            }
        }
        let html = render_file(&results);
        assert_self_contained(&html);
        assert!(html.contains("n=5x"));
    }

    #[test]
    fn a_quick_sized_matrix_renders_quickly() {
        let mut results = fixture();
        results.cells.clear();
        let runtimes = ["tokio-mt", "tokio-ct", "smol-mt", "smol-local"];
        for rt in runtimes {
            for variant in ["join_all", "spawn_join", "native"] {
                for n in [10u64, 1000, 100_000] {
                    for op in ["ready", "yield", "sleep_1ms"] {
                        let params = Params::from_pairs([
                            ("n", ParamValue::Int(n)),
                            ("op", ParamValue::Text(op.into())),
                        ]);
                        results
                            .cells
                            .push(cell(rt, "when_all", variant, params, n as f64 * 37.0));
                    }
                }
            }
            for variant in ["inline", "boxed", "dyn_trait", "spawned"] {
                for ratio in [0.0, 0.5, 0.9, 1.0] {
                    let params = Params::from_pairs([("sync_ratio", ParamValue::Float(ratio))]);
                    let mut c = cell(rt, "value_task", variant, params, 500.0 * (1.1 - ratio));
                    c.latency_ns = Some(LatencyNs {
                        p50: 10,
                        p90: 20,
                        p99: 40,
                        p999: 80,
                        max: 1000,
                        count: 9,
                    });
                    results.cells.push(c);
                }
            }
        }
        assert_eq!(results.cells.len(), 172);
        let started = std::time::Instant::now();
        let html = render_file(&results);
        let took = started.elapsed();
        assert_self_contained(&html);
        // 3 panels of when_all (split by op) + n sweep, value_task: 4 panels by sync_ratio,
        // latency, sweep; Task vs ValueTask.
        assert_eq!(svgs(&html).len(), 11);
        assert!(took.as_secs_f64() < 5.0, "rendering took {took:?}");
    }

    #[test]
    fn timing_fields_are_not_required_to_be_consistent() {
        // A hand-edited file can hold an interval that does not contain its median.
        let mut results = fixture();
        for c in &mut results.cells {
            if let Some(t) = &mut c.time_ns_per_op {
                *t = TimeNsPerOp {
                    ci95_low: t.median * 10.0,
                    ci95_high: 0.0,
                    ..t.clone()
                };
            }
        }
        assert_self_contained(&render_file(&results));
    }
}
