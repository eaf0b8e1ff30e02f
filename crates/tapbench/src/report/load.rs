//! Latency under load, for request-driven cells (`service`): each cell's offered and
//! achieved rate, timeouts and latency percentiles; and, along a sweep of the offered rate,
//! the capacity of every runtime and variant: the highest rate it sustains with its p99
//! under a target.

use std::collections::HashMap;

use super::charts::labels::constant_params;
use super::format::{format_duration_ns, format_params, format_rate};
use super::growth::{line_table, lines_along, others_text};
use super::model::{load_cells, rate_param, Section};
use super::tables::Table;
use tapbench_core::Params;

use crate::results::CellResult;

/// The share of the offered rate a runtime must start requests at to sustain it.
pub const SUSTAINED_SHARE: f64 = 0.9;

/// What the table of latency under load shows, in one paragraph.
pub const LOAD_INTRO: &str = "Requests issued at an offered rate. Open loop: each request \
     is due at its intended start time whatever happened before, and its latency runs from \
     that time, so a runtime that stalls is charged for every request it kept waiting \
     (coordinated omission corrected). Closed loop: each client waits for its answer before \
     its next request and measures from the actual send, as most load generators do; a \
     stall then delays the sends instead of showing in the latencies. Achieved: requests \
     started per second (intervals between request starts over their time), as a share of \
     the offered rate. Timed out: requests answered \"timed out\" by their deadline (their \
     latency is counted too). Percentiles cover every launch.";

/// The p99 latency of a cell, nanoseconds.
pub fn p99_ns(cell: &CellResult) -> Option<f64> {
    cell.latency_ns.as_ref().map(|l| l.p99 as f64)
}

fn duration(ns: Option<u64>) -> String {
    ns.map_or_else(
        || "-".to_string(),
        |ns| format_duration_ns(ns as f64, false),
    )
}

/// Open or closed loop, as the tables say it.
fn loop_kind(cell: &CellResult) -> &'static str {
    match cell.load.as_ref().map(|l| l.open_loop) {
        Some(true) => "open",
        Some(false) => "closed",
        None => "-",
    }
}

/// One row per load cell of `section`: offered and achieved rate, timeouts, latency
/// percentiles. `None` when the section has no load cell.
pub fn load_table(section: &Section<'_>) -> Option<Table> {
    let cells = load_cells(section);
    if cells.is_empty() {
        return None;
    }
    let headers = [
        ("variant", false),
        ("params", false),
        ("runtime", false),
        ("loop", false),
        ("offered/s", true),
        ("achieved/s", true),
        ("achieved %", true),
        ("timed out %", true),
        ("requests", true),
        ("p50", true),
        ("p90", true),
        ("p99", true),
        ("p99.9", true),
        ("max", true),
    ];
    let mut table = Table::new(&headers);
    for c in cells {
        let Some(load) = &c.load else { continue };
        let l = c.latency_ns.as_ref();
        table.rows.push(vec![
            c.variant.clone(),
            format_params(&c.params),
            crate::report::model::runtime_label(&c.runtime),
            loop_kind(c).to_string(),
            format_rate(load.offered_per_s),
            load.achieved_per_s
                .map_or_else(|| "-".to_string(), format_rate),
            load.achieved_share()
                .map_or_else(|| "-".to_string(), |s| format!("{:.1}", s * 100.0)),
            format!("{:.2}", load.timed_out_share() * 100.0),
            load.requests.to_string(),
            duration(l.map(|l| l.p50)),
            duration(l.map(|l| l.p90)),
            duration(l.map(|l| l.p99)),
            duration(l.map(|l| l.p999)),
            duration(l.map(|l| l.max)),
        ]);
    }
    Some(table)
}

/// One rate of a line: whether the runtime sustained it, and what it measured.
#[derive(Debug, Clone, PartialEq)]
pub struct RatePoint {
    /// The offered rate, requests per second.
    pub offered_per_s: f64,
    /// Its p99 latency, nanoseconds.
    pub p99_ns: f64,
    /// The achieved rate as a share of the offered one.
    pub achieved_share: f64,
}

impl RatePoint {
    /// Why the point is not sustained under `target_ns`, or `None` when it is.
    pub fn shortfall(&self, target_ns: f64) -> Option<String> {
        let mut why = Vec::new();
        if self.p99_ns > target_ns {
            why.push(format!("p99 {}", format_duration_ns(self.p99_ns, false)));
        }
        if self.achieved_share < SUSTAINED_SHARE {
            why.push(format!("achieved {:.0}%", self.achieved_share * 100.0));
        }
        (!why.is_empty()).then(|| why.join(", "))
    }
}

/// The capacity of one runtime and variant along a sweep of the offered rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    /// Runtime id.
    pub runtime: String,
    /// Variant id.
    pub variant: String,
    /// Whether its requests were issued open loop.
    pub open_loop: bool,
    /// The other parameters of the line, empty when there are none.
    pub others: String,
    /// Every rate measured, lowest first.
    pub points: Vec<RatePoint>,
    /// The highest rate sustained: `None` when no rate was.
    pub sustained: Option<RatePoint>,
    /// The lowest rate above it not sustained, and why: `None` when every rate above it
    /// was (none is above the highest rate measured).
    pub first_failed: Option<(RatePoint, String)>,
    /// Rates below the capacity that were not sustained, and why: a lower rate missed
    /// where a higher one passed is noise at that rate (a p99 from few requests, a busy
    /// moment of the machine), shown rather than hidden.
    pub missed_below: Vec<(RatePoint, String)>,
}

/// The capacity of every line (runtime x variant x the other parameters) of `section`
/// along its offered rate, with the p99 target `target_ns`: a line sustains a rate when its
/// p99 is at most the target and it starts requests at [`SUSTAINED_SHARE`] of the rate or
/// more. Empty when the section has no sweep of the rate (two rates or more on a line).
pub fn capacities(section: &Section<'_>, target_ns: f64) -> Vec<Capacity> {
    let Some(param) = rate_param(section) else {
        return Vec::new();
    };
    let cells = load_cells(section);
    let params: Vec<&Params> = cells.iter().map(|c| &c.params).collect();
    let constants = constant_params(&params);
    let mut lines: Vec<Capacity> = Vec::new();
    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    for c in cells {
        let (Some(load), Some(p99_ns)) = (&c.load, p99_ns(c)) else {
            continue;
        };
        let point = RatePoint {
            offered_per_s: load.offered_per_s,
            p99_ns,
            achieved_share: load.achieved_share().unwrap_or(0.0),
        };
        let others = others_text(&c.params, &param, &constants);
        let key = (c.runtime.clone(), c.variant.clone(), others.clone());
        let at = *index.entry(key).or_insert_with(|| {
            lines.push(Capacity {
                runtime: c.runtime.clone(),
                variant: c.variant.clone(),
                open_loop: load.open_loop,
                others,
                points: Vec::new(),
                sustained: None,
                first_failed: None,
                missed_below: Vec::new(),
            });
            lines.len() - 1
        });
        lines[at].points.push(point);
    }
    lines.retain(|line| line.points.len() >= 2);
    for line in &mut lines {
        line.points
            .sort_by(|a, b| a.offered_per_s.total_cmp(&b.offered_per_s));
        let verdicts: Vec<Option<String>> =
            line.points.iter().map(|p| p.shortfall(target_ns)).collect();
        let best = verdicts.iter().rposition(Option::is_none);
        line.sustained = best.map(|at| line.points[at].clone());
        let above = best.map_or(0, |at| at + 1);
        line.first_failed = line.points[above..]
            .iter()
            .zip(&verdicts[above..])
            .find_map(|(p, why)| Some((p.clone(), why.clone()?)));
        line.missed_below = line.points[..best.unwrap_or(0)]
            .iter()
            .zip(&verdicts)
            .filter_map(|(p, why)| Some((p.clone(), why.clone()?)))
            .collect();
    }
    lines
}

/// The capacity table: one row per line, open loop first, highest capacity first.
pub fn capacity_table(capacities: &[Capacity]) -> Table {
    let mut rows: Vec<&Capacity> = capacities.iter().collect();
    rows.sort_by(|a, b| {
        b.open_loop.cmp(&a.open_loop).then_with(|| {
            let rate = |c: &Capacity| c.sustained.as_ref().map_or(0.0, |p| p.offered_per_s);
            rate(b).total_cmp(&rate(a))
        })
    });
    let mut table = Table::new(&[
        ("runtime", false),
        ("variant", false),
        ("other params", false),
        ("rates measured", true),
        ("capacity (offered/s)", true),
        ("p99 there", true),
        ("achieved % there", true),
        ("first rate missed", true),
        ("why", false),
    ]);
    for c in rows {
        let (low, high) = (
            c.points.first().map_or(0.0, |p| p.offered_per_s),
            c.points.last().map_or(0.0, |p| p.offered_per_s),
        );
        let sustained = c.sustained.as_ref();
        table.rows.push(vec![
            crate::report::model::runtime_label(&c.runtime),
            c.variant.clone(),
            c.others.clone(),
            format!("{} .. {}", format_rate(low), format_rate(high)),
            sustained.map_or_else(
                || format!("< {}", format_rate(low)),
                |p| format_rate(p.offered_per_s),
            ),
            sustained.map_or_else(|| "-".into(), |p| format_duration_ns(p.p99_ns, false)),
            sustained.map_or_else(
                || "-".into(),
                |p| format!("{:.1}", p.achieved_share * 100.0),
            ),
            c.first_failed.as_ref().map_or_else(
                || format!("none up to {}", format_rate(high)),
                |(p, _)| format_rate(p.offered_per_s),
            ),
            why_text(c),
        ]);
    }
    table
}

/// The p99 latency of every line at every offered rate measured: the numbers of the
/// latency-against-load chart. `None` without a sweep of the rate.
pub fn p99_by_rate_table(section: &Section<'_>) -> Option<Table> {
    let param = rate_param(section)?;
    let sweep = lines_along(section, &param, 2, p99_ns);
    if sweep.lines.is_empty() {
        return None;
    }
    Some(line_table(
        &sweep,
        |r| format!("{} /s", format_rate(r)),
        false,
    ))
}

/// Why a line's capacity ends where it does, and which lower rates it missed.
fn why_text(c: &Capacity) -> String {
    let mut why = c
        .first_failed
        .as_ref()
        .map_or_else(String::new, |(_, why)| why.clone());
    if !c.missed_below.is_empty() {
        let missed: Vec<String> = c
            .missed_below
            .iter()
            .map(|(p, why)| format!("{}: {why}", format_rate(p.offered_per_s)))
            .collect();
        if !why.is_empty() {
            why.push_str("; ");
        }
        why.push_str(&format!("also missed {}", missed.join(", ")));
    }
    why
}

/// What the capacity table shows, in one paragraph.
pub fn capacity_intro(target_ns: f64) -> String {
    format!(
        "The highest offered rate each runtime and variant sustains: its p99 latency at most \
         {} and requests started at {:.0}% of the offered rate or more. The capacity is the \
         highest rate measured that passed, not an interpolation: the true limit lies between \
         it and the first rate above it that was missed. A lower rate missed where a higher \
         one passed is listed under why (a p99 from few requests, or a busy moment of the \
         machine). Closed-loop rows measure from the actual send, so their p99 understates a \
         stalled runtime's, and `clients` clients waiting about one latency each cannot offer \
         more than clients / latency.",
        format_duration_ns(target_ns, true),
        SUSTAINED_SHARE * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::build_model;
    use crate::results::{LatencyNs, LoadResult, ResultsFile};
    use tapbench_core::ParamValue;

    const FIXTURE: &str = include_str!("../../tests/fixtures/small-results.json");

    /// A `service`-like cell at `rate` with a p99 of `p99_ms` and `achieved` of the rate.
    fn cell(runtime: &str, variant: &str, rate: i64, p99_ms: f64, achieved: f64) -> CellResult {
        let results: ResultsFile = serde_json::from_str(FIXTURE).unwrap();
        let mut c = results
            .cells
            .into_iter()
            .find(|c| c.status == crate::results::Status::Ok)
            .unwrap();
        c.runtime = runtime.into();
        c.workload = "service".into();
        c.variant = variant.into();
        c.params = Params::from_pairs([
            ("rate", ParamValue::Int(rate as u64)),
            ("timeout_ms", ParamValue::Int(5)),
        ]);
        c.id = format!("{runtime}/service/{variant}/rate={rate}");
        let p99 = (p99_ms * 1e6) as u64;
        c.latency_ns = Some(LatencyNs {
            p50: p99 / 4,
            p90: p99 / 2,
            p99,
            p999: p99 * 2,
            max: p99 * 3,
            count: 1000,
        });
        c.load = Some(LoadResult {
            open_loop: variant == "open_loop",
            offered_per_s: rate as f64,
            achieved_per_s: Some(rate as f64 * achieved),
            requests: 1000,
            answered: 995,
            timed_out: 5,
            intervals: 999,
            started_span_ns: 1,
            launch_p99_ns: vec![p99],
        });
        c
    }

    fn results_of(cells: Vec<CellResult>) -> ResultsFile {
        let mut results: ResultsFile = serde_json::from_str(FIXTURE).unwrap();
        results.cells = cells;
        results
    }

    #[test]
    fn capacity_is_the_highest_rate_passed_with_every_lower_one() {
        let results = results_of(vec![
            cell("tokio-ct", "open_loop", 1000, 3.0, 1.0),
            cell("tokio-ct", "open_loop", 4000, 6.0, 0.99),
            cell("tokio-ct", "open_loop", 16000, 40.0, 0.98),
            cell("tokio-ct", "open_loop", 64000, 5.0, 0.5),
            cell("smol-local", "open_loop", 1000, 3.0, 1.0),
            cell("smol-local", "open_loop", 4000, 3.0, 0.7),
            // A lower rate missed where a higher one passed: noise, listed.
            cell("smol-local", "closed_loop", 1000, 30.0, 1.0),
            cell("smol-local", "closed_loop", 4000, 3.0, 1.0),
            cell("smol-local", "closed_loop", 16000, 30.0, 1.0),
        ]);
        let model = build_model(&results, "tokio-mt");
        let section = model
            .sections
            .iter()
            .find(|s| s.workload == "service")
            .unwrap();
        assert_eq!(rate_param(section).as_deref(), Some("rate"));
        let caps = capacities(section, 10e6);
        let find = |rt: &str, v: &str| {
            caps.iter()
                .find(|c| c.runtime == rt && c.variant == v)
                .unwrap()
        };
        let tokio = find("tokio-ct", "open_loop");
        assert_eq!(tokio.sustained.as_ref().unwrap().offered_per_s, 4000.0);
        let (missed, why) = tokio.first_failed.as_ref().unwrap();
        assert_eq!(
            (missed.offered_per_s, why.as_str()),
            (16000.0, "p99 40.0 ms")
        );
        let smol = find("smol-local", "open_loop");
        assert_eq!(smol.sustained.as_ref().unwrap().offered_per_s, 1000.0);
        assert_eq!(smol.first_failed.as_ref().unwrap().1, "achieved 70%");
        let closed = find("smol-local", "closed_loop");
        assert_eq!(closed.sustained.as_ref().unwrap().offered_per_s, 4000.0);
        assert_eq!(
            closed.first_failed.as_ref().unwrap().0.offered_per_s,
            16000.0
        );
        assert_eq!(closed.missed_below.len(), 1);
        assert_eq!(
            why_text(closed),
            "p99 30.0 ms; also missed 1.00 k: p99 30.0 ms"
        );
        let by_rate = p99_by_rate_table(section).unwrap();
        assert_eq!(by_rate.rows.len(), 3);
        assert_eq!(
            by_rate.headers[3..],
            ["1.00 k /s", "4.00 k /s", "16.00 k /s", "64.00 k /s"]
        );
        let table = capacity_table(&caps);
        assert_eq!(table.rows.len(), 3);
        // Open loop first, highest capacity first.
        assert_eq!(table.rows[0][0], "tokio-ct");
        assert_eq!(table.rows[2][1], "closed_loop");
        // A tighter target lowers the capacity, to none at all.
        let tight = capacities(section, 2e6);
        assert!(tight.iter().all(|c| c.sustained.is_none()));
        assert_eq!(capacity_table(&tight).rows[0][4], "< 1.00 k");
    }

    #[test]
    fn the_load_table_lists_every_load_cell_and_a_section_without_one_has_none() {
        let results = results_of(vec![
            cell("tokio-ct", "open_loop", 1000, 3.0, 0.995),
            cell("tokio-ct", "closed_loop", 1000, 2.0, 1.0),
        ]);
        let model = build_model(&results, "tokio-mt");
        let table = load_table(&model.sections[0]).unwrap();
        assert_eq!(table.rows.len(), 2);
        let open = table.rows.iter().find(|r| r[0] == "open_loop").unwrap();
        assert_eq!(open[3], "open");
        assert_eq!(open[6], "99.5");
        assert_eq!(open[7], "0.50");
        assert_eq!(open[11], "3.00 ms");
        // One rate is no sweep.
        assert!(capacities(&model.sections[0], 10e6).is_empty());

        let fixture: ResultsFile = serde_json::from_str(FIXTURE).unwrap();
        let model = build_model(&fixture, "tokio-mt");
        assert!(model.sections.iter().all(|s| load_table(s).is_none()));
        assert!(model.sections.iter().all(|s| rate_param(s).is_none()));
    }
}
