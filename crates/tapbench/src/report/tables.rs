//! The tables every human-readable report shows, as plain rows of text: Markdown and HTML
//! render the same [`Table`]s, so their numbers cannot drift apart.

use tapbench_core::ParamValue;

use super::{runtime_label, Model, Row, Section};
use crate::results::CellResult;
/// A duration given in nanoseconds, in the unit that suits it, three or four significant
/// digits (`379.1 ns`, `15.53 µs`, `48.04 ms`, `5.58 s`).
pub fn format_time(ns: f64) -> String {
    let (value, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    let digits = if value >= 100.0 {
        1
    } else if value >= 10.0 {
        2
    } else {
        3
    };
    format!("{value:.digits$} {unit}")
}

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
    fn new(headers: &[(&str, bool)]) -> Self {
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
            env.threads.to_string(),
        ),
        ("rustc".to_string(), env.rustc.clone()),
        ("runtime crates".to_string(), crates.join(", ")),
        (
            "baseline runtime (Ratio)".to_string(),
            model.baseline.clone(),
        ),
    ];
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
    ids.sort_by_key(|id| super::runtime_rank(id));
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

/// The parameters of a cell as `n=1000, op=yield`.
pub fn params_text(cell: &CellResult) -> String {
    cell.params
        .0
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn opt(value: Option<f64>, digits: usize) -> String {
    value
        .map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "-".into())
}

/// Operations per second in engineering notation (`1.23 M`).
pub fn format_rate(per_s: f64) -> String {
    let (value, unit) = if per_s >= 1e9 {
        (per_s / 1e9, " G")
    } else if per_s >= 1e6 {
        (per_s / 1e6, " M")
    } else if per_s >= 1e3 {
        (per_s / 1e3, " k")
    } else {
        (per_s, " ")
    };
    format!("{value:.2}{unit}").trim_end().to_string()
}

fn row_cells(row: &Row<'_>, with_latency: bool) -> Vec<String> {
    let c = row.cell;
    let t = c.time_ns_per_op.as_ref();
    let mut cells = vec![
        c.variant.clone(),
        params_text(c),
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
        opt(row.ratio, 2),
        c.throughput_ops_per_s
            .map(format_rate)
            .unwrap_or_else(|| "-".into()),
        opt(c.allocs_per_op, 2),
        opt(c.marginal_allocs_per_op, 2),
        opt(c.bytes_per_op, 0),
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
                format!("{}/{}", runtime_label(&c.runtime), super::case_key(c)),
                c.status.as_str().to_string(),
                c.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table
}

/// The "Task vs ValueTask" section: time and allocations per call against `sync_ratio`, one
/// row per runtime and variant, plus sentences on where allocation starts to matter.
pub struct ValueTaskSection {
    /// One row per runtime x variant; a column per sync ratio (time, then allocations).
    pub table: Table,
    /// What the table shows, in sentences with figures.
    pub findings: Vec<String>,
}

/// Builds the Task vs ValueTask section, when the file has `value_task` cells.
pub fn value_task_section(model: &Model<'_>) -> Option<ValueTaskSection> {
    let section = model.sections.iter().find(|s| s.workload == "value_task")?;
    let ratio_of = |c: &CellResult| match c.params.get("sync_ratio") {
        Some(ParamValue::Float(f)) => Some(*f),
        Some(ParamValue::Int(i)) => Some(*i as f64),
        _ => None,
    };
    let mut ratios: Vec<f64> = section
        .rows
        .iter()
        .filter_map(|r| ratio_of(r.cell))
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios.dedup();
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in &section.rows {
        let key = (r.cell.runtime.clone(), r.cell.variant.clone());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let find = |runtime: &str, variant: &str, ratio: f64| {
        section.rows.iter().find(|r| {
            r.cell.runtime == runtime
                && r.cell.variant == variant
                && ratio_of(r.cell) == Some(ratio)
        })
    };
    let mut headers: Vec<(String, bool)> =
        vec![("runtime".into(), false), ("variant".into(), false)];
    for ratio in &ratios {
        headers.push((format!("time/op @ sync {ratio}"), true));
    }
    for ratio in &ratios {
        headers.push((format!("allocs/op @ sync {ratio}"), true));
    }
    let mut table = Table {
        headers: headers.iter().map(|(h, _)| h.clone()).collect(),
        numeric: headers.iter().map(|(_, n)| *n).collect(),
        rows: Vec::new(),
    };
    for (runtime, variant) in &keys {
        let mut row = vec![runtime_label(runtime), variant.clone()];
        for ratio in &ratios {
            row.push(
                find(runtime, variant, *ratio)
                    .and_then(|r| r.median_ns())
                    .map(format_time)
                    .unwrap_or_else(|| "-".into()),
            );
        }
        for ratio in &ratios {
            row.push(opt(
                find(runtime, variant, *ratio).and_then(|r| r.cell.allocs_per_op),
                2,
            ));
        }
        table.rows.push(row);
    }
    let mut findings = Vec::new();
    let mut runtimes: Vec<&String> = Vec::new();
    for (runtime, _) in &keys {
        if !runtimes.contains(&runtime) {
            runtimes.push(runtime);
        }
    }
    for runtime in runtimes {
        let median =
            |variant: &str, ratio: f64| find(runtime, variant, ratio).and_then(|r| r.median_ns());
        let allocs = |variant: &str, ratio: f64| {
            find(runtime, variant, ratio).and_then(|r| r.cell.allocs_per_op)
        };
        let (Some(&top), Some(&bottom)) = (ratios.last(), ratios.first()) else {
            continue;
        };
        let (Some(inline), Some(boxed)) = (median("inline", top), median("boxed", top)) else {
            continue;
        };
        let mut sentence = format!(
            "On {}, at sync_ratio {top} the ValueTask-style `inline` call takes {} and {:.2} \
             allocations, the Task-style `boxed` call {} and {:.2} allocations ({:.1}x the time).",
            runtime_label(runtime),
            format_time(inline),
            allocs("inline", top).unwrap_or(f64::NAN),
            format_time(boxed),
            allocs("boxed", top).unwrap_or(f64::NAN),
            boxed / inline
        );
        // Where the allocation starts to matter: the lowest sync ratio from which on the
        // boxed call is at least 20% slower than the inline one.
        let costly = |ratio: f64| match (median("inline", ratio), median("boxed", ratio)) {
            (Some(i), Some(b)) => b >= i * 1.2,
            _ => false,
        };
        let from = ratios
            .iter()
            .rev()
            .take_while(|r| costly(**r))
            .last()
            .copied();
        match from {
            Some(from) if from > bottom => {
                let below = ratios
                    .iter()
                    .rev()
                    .find(|r| **r < from)
                    .copied()
                    .unwrap_or(bottom);
                sentence.push_str(&format!(
                    " The allocation starts to matter (the boxed call 20% or more slower) from \
                     sync_ratio {from} on; at {below} and below the suspension dominates"
                ));
                if let (Some(i), Some(b)) = (median("inline", bottom), median("boxed", bottom)) {
                    sentence.push_str(&format!(
                        " (at {bottom}: {} inline, {} boxed)",
                        format_time(i),
                        format_time(b)
                    ));
                }
                sentence.push('.');
            }
            Some(_) => sentence
                .push_str(" The boxed call is 20% or more slower at every sync_ratio measured."),
            None => sentence.push_str(" Here the box never costs 20% more than the inline call."),
        }
        findings.push(sentence);
    }
    Some(ValueTaskSection { table, findings })
}
