//! The tables of the human-readable reports as rows of text, shared by Markdown and HTML.

use super::format::{format_fixed, format_params, format_rate, format_time};
use super::model::{case_key, compare_runtimes, runtime_label, Model, Row, Section};

/// What every report says first: how to read its numbers.
pub const HOW_TO_READ: &str = "Time per operation is the median of the samples (pooled over \
     the cell's launches, its separate processes) with its distribution-free 95% interval; Ratio divides by the baseline runtime's median for the \
     same case; allocations and bytes are per operation over all threads. Every measured cell \
     had its answer checked. Same parameters and thread count on every runtime; the measured \
     loop runs inside the runtime; runtimes are built outside the timing.";

/// A table of text cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column headers, units included.
    pub headers: Vec<String>,
    /// Whether each column is numeric (right-aligned).
    pub numeric: Vec<bool>,
    /// The rows, one text per column.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these `(header, numeric)` columns.
    pub fn new(headers: &[(&str, bool)]) -> Self {
        Table {
            headers: headers.iter().map(|(h, _)| h.to_string()).collect(),
            numeric: headers.iter().map(|(_, n)| *n).collect(),
            rows: Vec::new(),
        }
    }
}

/// `(label, value)` lines of the environment header.
pub fn environment(model: &Model<'_>) -> Vec<(String, String)> {
    let r = model.results;
    let env = &r.env;
    let crates: Vec<String> = env
        .runtime_crates
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let mut lines = vec![
        ("tapbench".to_string(), r.tool_version.clone()),
        ("date".to_string(), r.created_at.clone()),
        ("profile".to_string(), r.profile.clone()),
        ("launches per cell".to_string(), r.launches.to_string()),
        ("OS".to_string(), env.os.clone()),
        ("CPU".to_string(), env.cpu_model.clone()),
        ("logical CPUs".to_string(), env.logical_cpus.to_string()),
        (
            "threads (multi-threaded runtimes)".to_string(),
            match r.sweep.as_ref().filter(|s| !s.threads.is_empty()) {
                Some(sweep) => format!(
                    "swept: {}",
                    sweep
                        .threads
                        .iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => env.threads.to_string(),
            },
        ),
        ("rustc".to_string(), env.rustc.clone()),
        ("runtime crates".to_string(), crates.join(", ")),
        (
            "baseline runtime (Ratio)".to_string(),
            model.baseline.clone(),
        ),
    ];
    if let Some(sweep) = &r.sweep {
        lines.push(("sweep (tapbench sweep)".to_string(), sweep.describe()));
    }
    if let Some(injected) = &r.injected {
        lines.push((
            "INJECTED REGRESSION (calibration run)".to_string(),
            format!(
                "+{} ns and +{} allocations per operation",
                injected.delay_ns_per_op, injected.allocs_per_op
            ),
        ));
    }
    if let Some(commit) = &env.git_commit {
        lines.push(("git commit".to_string(), commit.clone()));
    }
    if let Some([one, five, fifteen]) = env.load_average {
        lines.push((
            "load average at start".to_string(),
            format!("{one} {five} {fifteen}"),
        ));
    }
    if let Some(governor) = &env.cpu_governor {
        lines.push(("CPU governor".to_string(), governor.clone()));
    }
    lines
}

/// The runtimes of the results and what each uses for every primitive and native
/// variant (from the runtime registry of this build; a runtime it does not know is listed
/// as such): the report says which crate stands in where a runtime has no primitive.
pub fn runtimes_table(model: &Model<'_>) -> Table {
    let mut table = Table::new(&[
        ("runtime", false),
        ("join handles", false),
        ("timers", false),
        ("yield", false),
        ("blocking work", false),
        ("native variants", false),
    ]);
    let mut ids: Vec<&str> = Vec::new();
    for cell in &model.results.cells {
        if !ids.contains(&cell.runtime.as_str()) {
            ids.push(&cell.runtime);
        }
    }
    ids.sort_by(|a, b| compare_runtimes(a, b));
    for id in ids {
        let Some(entry) = tapbench_runtimes::find(id) else {
            let mut row = vec![id.to_string(), "(not a runtime of this build)".to_string()];
            row.resize(table.headers.len(), String::new());
            table.rows.push(row);
            continue;
        };
        let uses = |what: &str| {
            entry
                .info
                .uses
                .iter()
                .find(|(w, _)| *w == what)
                .map_or_else(String::new, |(_, provider)| provider.to_string())
        };
        let natives: Vec<String> = entry
            .natives()
            .iter()
            .map(|n| match n.provided {
                Ok(uses) => format!("{}/{}: {uses}", n.workload, n.variant),
                Err(_) => format!("{}/{}: skipped", n.workload, n.variant),
            })
            .collect();
        table.rows.push(vec![
            entry.info.label(),
            uses("join handle"),
            uses("timer"),
            uses("yield"),
            uses("blocking"),
            natives.join("; "),
        ]);
    }
    table
}

/// The variants of a workload section and what each is (from the catalogue of this build),
/// native ones marked: what the report's variant names stand for. Empty for a workload
/// this build does not know.
pub fn variants_table(section: &Section<'_>) -> Table {
    let mut table = Table::new(&[("variant", false), ("what it is", false)]);
    let Some(spec) = section.spec else {
        return table;
    };
    for variant in spec.variants {
        let native = if variant.native {
            " Native: each runtime's own idiom (see Runtimes), or skipped with a reason."
        } else {
            ""
        };
        table.rows.push(vec![
            variant.id.to_string(),
            format!("{}.{native}", variant.doc),
        ]);
    }
    table
}

fn row_cells(row: &Row<'_>, with_latency: bool) -> Vec<String> {
    let c = row.cell;
    let t = c.time_ns_per_op.as_ref();
    let mut cells = vec![
        c.variant.clone(),
        format_params(&c.params),
        row.runtime_label(),
        t.map(|t| format_time(t.median))
            .unwrap_or_else(|| "-".into()),
        t.map(|t| {
            format!(
                "{} .. {}",
                format_time(t.ci95_low),
                format_time(t.ci95_high)
            )
        })
        .unwrap_or_else(|| "-".into()),
        t.map(|t| format!("{:.1}", t.cv * 100.0))
            .unwrap_or_else(|| "-".into()),
        format_fixed(row.ratio, 2),
        c.throughput_ops_per_s
            .map(format_rate)
            .unwrap_or_else(|| "-".into()),
        format_fixed(c.allocs_per_op, 2),
        format_fixed(c.marginal_allocs_per_op, 2),
        format_fixed(c.bytes_per_op, 0),
    ];
    if with_latency {
        let l = c.latency_ns.as_ref();
        cells.push(l.map(|l| l.p50.to_string()).unwrap_or_else(|| "-".into()));
        cells.push(l.map(|l| l.p99.to_string()).unwrap_or_else(|| "-".into()));
    }
    cells
}

/// The BenchmarkDotNet-style table of one workload: one row per runtime x variant x params.
pub fn workload_table(section: &Section<'_>) -> Table {
    let with_latency = section.rows.iter().any(|r| r.cell.latency_ns.is_some());
    let mut headers = vec![
        ("variant", false),
        ("params", false),
        ("runtime", false),
        ("median time/op", true),
        ("95% CI", true),
        ("CV %", true),
        ("Ratio", true),
        ("ops/s", true),
        ("allocs/op", true),
        ("marginal allocs/op", true),
        ("bytes/op", true),
    ];
    if with_latency {
        headers.push(("p50 latency ns", true));
        headers.push(("p99 latency ns", true));
    }
    let mut table = Table::new(&headers);
    table.rows = section
        .rows
        .iter()
        .map(|r| row_cells(r, with_latency))
        .collect();
    table
}

/// Cells that did not end `ok`, with their reasons.
pub fn problems_table(model: &Model<'_>) -> Table {
    let mut table = Table::new(&[("cell", false), ("status", false), ("reason", false)]);
    table.rows = model
        .problems
        .iter()
        .map(|c| {
            vec![
                format!("{}/{}", runtime_label(&c.runtime), case_key(c)),
                c.status.as_str().to_string(),
                c.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table
}
