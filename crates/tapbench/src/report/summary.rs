//! What a reader wants first: fastest runtimes and variants, allocation gaps, cells not run.

use std::collections::HashMap;

use super::format::{format_count, format_params, format_times};
use super::model::{case_key, runtime_label, Model, Section};
use super::tables::Table;
use crate::results::Status;

/// Allocations per operation this far apart, or farther, differ.
pub const ALLOCATION_GAP: f64 = 0.5;

/// Most cells a group of cells that did not run names before it says how many more.
const CELLS_NAMED: usize = 3;

/// How the summary's leaders are chosen, in a sentence.
pub const HOW_LEADERS_ARE_CHOSEN: &str = "Fastest by median time per operation: for each \
     runtime (or variant), the geometric mean over the cases that every runtime (or variant) \
     of the workload measured of its time relative to the fastest in the case; ahead of the \
     next by the ratio of the next one's mean to the leader's.";

/// The summary of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Cells in the file.
    pub cells: usize,
    /// Cells per status (statuses without cells left out), `ok` first.
    pub counts: Vec<(Status, usize)>,
    /// One entry per section, in report order.
    pub workloads: Vec<WorkloadSummary>,
    /// Cells that did not run, grouped by status and reason.
    pub not_run: Vec<NotRun>,
}

/// The leaders and allocation gaps of one workload.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadSummary {
    /// Workload id.
    pub workload: String,
    /// The fastest runtime, `None` when no case was measured on every runtime.
    pub runtime: Option<Lead>,
    /// The fastest variant, `None` when no runtime and parameters were measured with every
    /// variant.
    pub variant: Option<Lead>,
    /// Where allocations per operation differ between runtimes of one case.
    pub runtime_allocations: Option<AllocationGap>,
    /// Where allocations per operation differ between variants on one runtime with the
    /// same parameters.
    pub variant_allocations: Option<AllocationGap>,
}

/// The fastest of some runtimes or variants.
#[derive(Debug, Clone, PartialEq)]
pub struct Lead {
    /// Its label.
    pub winner: String,
    /// The next fastest and how many times the leader's time it takes; `None` when there is
    /// only one.
    pub next: Option<(String, f64)>,
    /// Cases in which the leader is fastest.
    pub wins: usize,
    /// Cases compared.
    pub compared: usize,
}

/// Groups of cells whose allocations per operation differ by [`ALLOCATION_GAP`] or more.
#[derive(Debug, Clone, PartialEq)]
pub struct AllocationGap {
    /// Groups that differ.
    pub differing: usize,
    /// Groups with two or more members that measured allocations.
    pub compared: usize,
    /// The group that differs most (largest ratio, then largest difference).
    pub largest_at: String,
    /// Its members and their allocations per operation.
    pub largest: Vec<(String, f64)>,
}

/// Cells that did not run for one reason.
#[derive(Debug, Clone, PartialEq)]
pub struct NotRun {
    /// Their status.
    pub status: Status,
    /// The first line of their error.
    pub reason: String,
    /// The cells, `runtime/workload/variant/params`.
    pub cells: Vec<String>,
}

/// A member of a comparison (a runtime or a variant) and its value in one case.
type Measured<'a> = (&'a str, f64);

/// Cases of one comparison: the members' values in each, with where the case is.
struct Comparison<'a> {
    members: Vec<&'a str>,
    groups: Vec<(String, Vec<Measured<'a>>)>,
}

impl<'a> Comparison<'a> {
    /// Groups the measured cells of `section` by `group_of`, comparing `member_of` with
    /// `value_of`; members in the order of `members`.
    fn of(
        section: &Section<'a>,
        members: Vec<&'a str>,
        group_of: &dyn Fn(&'a crate::results::CellResult) -> String,
        member_of: &dyn Fn(&'a crate::results::CellResult) -> &'a str,
        value_of: &dyn Fn(&'a crate::results::CellResult) -> Option<f64>,
    ) -> Comparison<'a> {
        let mut groups: Vec<(String, Vec<Measured<'a>>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for row in &section.rows {
            let Some(value) = value_of(row.cell) else {
                continue;
            };
            let key = group_of(row.cell);
            let i = *index.entry(key.clone()).or_insert_with(|| {
                groups.push((key, Vec::new()));
                groups.len() - 1
            });
            groups[i].1.push((member_of(row.cell), value));
        }
        Comparison { members, groups }
    }

    /// The fastest member over the groups in which every member was measured.
    fn lead(&self, label: &dyn Fn(&str) -> String) -> Option<Lead> {
        match self.members.as_slice() {
            [] => return None,
            [only] => {
                return Some(Lead {
                    winner: label(only),
                    next: None,
                    wins: self.groups.len(),
                    compared: self.groups.len(),
                })
            }
            _ => {}
        }
        let complete: Vec<&Vec<Measured<'a>>> = self
            .groups
            .iter()
            .map(|(_, g)| g)
            .filter(|g| {
                self.members
                    .iter()
                    .all(|m| g.iter().any(|(x, t)| x == m && *t > 0.0))
            })
            .collect();
        if complete.is_empty() {
            return None;
        }
        let mut scores: Vec<(&str, f64)> = self
            .members
            .iter()
            .map(|m| {
                let mean_log = complete
                    .iter()
                    .map(|g| {
                        let best = g.iter().map(|(_, t)| *t).fold(f64::INFINITY, f64::min);
                        let own = g.iter().find(|(x, _)| x == m).map_or(best, |(_, t)| *t);
                        (own / best).ln()
                    })
                    .sum::<f64>()
                    / complete.len() as f64;
                (*m, mean_log.exp())
            })
            .collect();
        // A stable sort keeps the members' order among equals.
        scores.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (winner, best) = scores[0];
        let (next, next_score) = scores[1];
        let wins = complete
            .iter()
            .filter(|g| {
                let fastest = g.iter().map(|(_, t)| *t).fold(f64::INFINITY, f64::min);
                g.iter().any(|(x, t)| *x == winner && *t <= fastest)
            })
            .count();
        Some(Lead {
            winner: label(winner),
            next: Some((label(next), next_score / best)),
            wins,
            compared: complete.len(),
        })
    }

    /// Where the members' values differ by [`ALLOCATION_GAP`] or more.
    fn allocation_gap(&self, label: &dyn Fn(&str) -> String) -> Option<AllocationGap> {
        let mut compared = 0;
        let mut differing = 0;
        let mut largest: Option<(f64, f64, usize)> = None;
        for (i, (_, group)) in self.groups.iter().enumerate() {
            if group.len() < 2 {
                continue;
            }
            compared += 1;
            let min = group.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
            let max = group
                .iter()
                .map(|(_, v)| *v)
                .fold(f64::NEG_INFINITY, f64::max);
            if max - min < ALLOCATION_GAP {
                continue;
            }
            differing += 1;
            let ratio = if min > 0.0 { max / min } else { f64::INFINITY };
            let larger = match largest {
                None => true,
                Some((r, d, _)) => (ratio, max - min) > (r, d),
            };
            if larger {
                largest = Some((ratio, max - min, i));
            }
        }
        let (_, _, i) = largest?;
        let (at, group) = &self.groups[i];
        let mut members: Vec<(String, f64)> = Vec::new();
        for m in &self.members {
            if let Some((_, v)) = group.iter().find(|(x, _)| x == m) {
                members.push((label(m), *v));
            }
        }
        Some(AllocationGap {
            differing,
            compared,
            largest_at: at.clone(),
            largest: members,
        })
    }
}

impl Summary {
    /// The summary of `model`.
    pub fn of(model: &Model<'_>) -> Summary {
        let cells = &model.results.cells;
        let counts = [Status::Ok, Status::Failed, Status::Timeout, Status::Skipped]
            .into_iter()
            .map(|s| (s, cells.iter().filter(|c| c.status == s).count()))
            .filter(|(_, n)| *n > 0)
            .collect();
        let workloads = model.sections.iter().map(workload_summary).collect();
        let mut not_run: Vec<NotRun> = Vec::new();
        for status in [Status::Failed, Status::Timeout, Status::Skipped] {
            for cell in model.problems.iter().filter(|c| c.status == status) {
                let reason = cell
                    .error
                    .as_deref()
                    .and_then(|e| e.lines().next())
                    .unwrap_or("")
                    .to_string();
                let name = format!("{}/{}", runtime_label(&cell.runtime), case_key(cell));
                match not_run
                    .iter_mut()
                    .find(|g| g.status == status && g.reason == reason)
                {
                    Some(group) => group.cells.push(name),
                    None => not_run.push(NotRun {
                        status,
                        reason,
                        cells: vec![name],
                    }),
                }
            }
        }
        Summary {
            cells: cells.len(),
            counts,
            workloads,
            not_run,
        }
    }

    /// `31 cells: 29 ok, 1 failed, 1 skipped.`
    pub fn status_line(&self) -> String {
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|(s, n)| format!("{n} {}", s.as_str()))
            .collect();
        if counts.is_empty() {
            format!("{} cells.", self.cells)
        } else {
            format!("{} cells: {}.", self.cells, counts.join(", "))
        }
    }

    /// One row per workload: its fastest runtime and variant, each with its lead.
    pub fn leaders_table(&self) -> Table {
        let mut table = Table::new(&[
            ("workload", false),
            ("fastest runtime", false),
            ("ahead of the next", true),
            ("fastest variant", false),
            ("ahead of the next", true),
        ]);
        for w in &self.workloads {
            let (runtime, runtime_lead) = lead_cells(w.runtime.as_ref(), "runtime");
            let (variant, variant_lead) = lead_cells(w.variant.as_ref(), "variant");
            table.rows.push(vec![
                w.workload.clone(),
                runtime,
                runtime_lead,
                variant,
                variant_lead,
            ]);
        }
        table
    }

    /// One sentence per workload and comparison where allocations per operation differ,
    /// or one saying that they never do.
    pub fn allocation_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for w in &self.workloads {
            for (between, gap) in [
                ("runtimes", &w.runtime_allocations),
                ("variants", &w.variant_allocations),
            ] {
                let Some(gap) = gap else {
                    continue;
                };
                let values: Vec<String> = gap
                    .largest
                    .iter()
                    .map(|(m, v)| format!("{m} {}", format_count(*v, false)))
                    .collect();
                lines.push(format!(
                    "`{}`: between {between} in {} of {} cases; most at {}: {}.",
                    w.workload,
                    gap.differing,
                    gap.compared,
                    gap.largest_at,
                    values.join(", ")
                ));
            }
        }
        lines
    }

    /// One line per group of cells that did not run: status, count, reason and cells.
    pub fn not_run_lines(&self) -> Vec<String> {
        self.not_run
            .iter()
            .map(|g| {
                let more = g.cells.len().saturating_sub(CELLS_NAMED);
                let more_text = format!("and {more} more");
                let mut cells: Vec<&str> = g
                    .cells
                    .iter()
                    .take(CELLS_NAMED)
                    .map(String::as_str)
                    .collect();
                if more > 0 {
                    cells.push(&more_text);
                }
                let reason = if g.reason.is_empty() {
                    "no reason given"
                } else {
                    &g.reason
                };
                format!(
                    "{} {}: {reason} ({})",
                    g.cells.len(),
                    g.status.as_str(),
                    cells.join(", ")
                )
            })
            .collect()
    }
}

/// The leader's cell (`tokio-ct (3 of 5 cases)`) and its lead (`1.09x over tokio-mt`).
fn lead_cells(lead: Option<&Lead>, what: &str) -> (String, String) {
    match lead {
        None => (format!("- (no case measured on every {what})"), "-".into()),
        Some(Lead {
            winner, next: None, ..
        }) => (format!("{winner} (the only {what})"), "-".into()),
        Some(Lead {
            winner,
            next: Some((next, ratio)),
            wins,
            compared,
        }) => (
            format!("{winner} (fastest in {wins} of {compared})"),
            format!("{} over {next}", format_times(*ratio)),
        ),
    }
}

/// The leaders and allocation gaps of one section.
fn workload_summary(section: &Section<'_>) -> WorkloadSummary {
    let mut runtimes: Vec<&str> = Vec::new();
    for row in &section.rows {
        if !runtimes.contains(&row.cell.runtime.as_str()) {
            runtimes.push(&row.cell.runtime);
        }
    }
    runtimes.sort_by_key(|r| section.runtimes.iter().position(|x| x == r));
    let time = |c: &crate::results::CellResult| c.time_ns_per_op.as_ref().map(|t| t.median);
    let allocs = |c: &crate::results::CellResult| c.allocs_per_op;
    let case_of = |c: &crate::results::CellResult| {
        let params = format_params(&c.params);
        if params.is_empty() {
            format!("`{}`", c.variant)
        } else {
            format!("`{}` {params}", c.variant)
        }
    };
    let runtime_of = |c: &crate::results::CellResult| {
        let params = format_params(&c.params);
        if params.is_empty() {
            runtime_label(&c.runtime)
        } else {
            format!("{} {params}", runtime_label(&c.runtime))
        }
    };
    let by_case = |value: &dyn Fn(&crate::results::CellResult) -> Option<f64>| {
        Comparison::of(
            section,
            runtimes.clone(),
            &case_of,
            &|c| c.runtime.as_str(),
            value,
        )
    };
    let by_runtime = |value: &dyn Fn(&crate::results::CellResult) -> Option<f64>| {
        Comparison::of(
            section,
            section.variants.clone(),
            &runtime_of,
            &|c| c.variant.as_str(),
            value,
        )
    };
    let variant_label = |v: &str| format!("`{v}`");
    WorkloadSummary {
        workload: section.workload.clone(),
        runtime: by_case(&time).lead(&runtime_label),
        variant: by_runtime(&time).lead(&variant_label),
        runtime_allocations: by_case(&allocs).allocation_gap(&runtime_label),
        variant_allocations: by_runtime(&allocs).allocation_gap(&variant_label),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::build_model;
    use crate::results::{CellResult, ResultsFile};
    use tapbench_core::{ParamValue, Params};

    const FIXTURE: &str = include_str!("../../tests/fixtures/small-results.json");

    fn fixture() -> ResultsFile {
        serde_json::from_str(FIXTURE).expect("the fixture is a valid results file")
    }

    fn cell(
        template: &CellResult,
        runtime: &str,
        variant: &str,
        n: u64,
        median: f64,
    ) -> CellResult {
        let mut c = template.clone();
        c.runtime = runtime.into();
        c.workload = "when_all".into();
        c.variant = variant.into();
        c.params = Params::from_pairs([
            ("n", ParamValue::Int(n)),
            ("op", ParamValue::Text("yield".into())),
        ]);
        c.id = format!("{runtime}/{}", case_key(&c));
        if let Some(t) = c.time_ns_per_op.as_mut() {
            t.median = median;
        }
        c.allocs_per_op = Some(if variant == "spawn_join" {
            n as f64
        } else {
            2.0
        });
        c
    }

    #[test]
    fn the_leaders_and_gaps_of_a_small_model_are_known() {
        let mut results = fixture();
        let template = results.cells[0].clone();
        results.cells = vec![
            // smol-mt is twice as fast as tokio-mt everywhere; join_all ten times as fast
            // as spawn_join.
            cell(&template, "tokio-mt", "join_all", 10, 200.0),
            cell(&template, "smol-mt", "join_all", 10, 100.0),
            cell(&template, "tokio-mt", "spawn_join", 10, 2000.0),
            cell(&template, "smol-mt", "spawn_join", 10, 1000.0),
            cell(&template, "tokio-mt", "join_all", 1000, 20_000.0),
            cell(&template, "smol-mt", "join_all", 1000, 10_000.0),
        ];
        // Two cells of a measured case that timed out change no leader.
        let mut failed = results.cells[0].clone();
        failed.status = Status::Timeout;
        failed.error = Some("ran past its budget\nsecond line".into());
        failed.id = "x".into();
        results.cells.push(failed.clone());
        failed.runtime = "smol-mt".into();
        results.cells.push(failed);
        let model = build_model(&results, "tokio-mt");
        let summary = Summary::of(&model);
        assert_eq!(summary.status_line(), "8 cells: 6 ok, 2 timeout.");
        let w = &summary.workloads[0];
        assert_eq!(
            w.runtime,
            Some(Lead {
                winner: "smol-mt".into(),
                next: Some(("tokio-mt".into(), 2.0)),
                wins: 3,
                compared: 3,
            })
        );
        // Only n=10 ran with both variants, on two runtimes.
        let variant = w.variant.as_ref().unwrap();
        assert_eq!(variant.winner, "`join_all`");
        assert_eq!((variant.wins, variant.compared), (2, 2));
        let (next, ratio) = variant.next.as_ref().unwrap();
        assert_eq!(next, "`spawn_join`");
        assert!((ratio - 10.0).abs() < 1e-9, "{ratio}");
        assert_eq!(w.runtime_allocations, None, "runtimes allocate alike");
        let gap = w.variant_allocations.as_ref().unwrap();
        assert_eq!((gap.differing, gap.compared), (2, 2));
        assert_eq!(gap.largest_at, "tokio-mt n=10, op=yield");
        assert_eq!(
            gap.largest,
            [
                ("`join_all`".to_string(), 2.0),
                ("`spawn_join`".to_string(), 10.0)
            ]
        );
        let table = summary.leaders_table();
        assert_eq!(
            table.rows[0],
            [
                "when_all",
                "smol-mt (fastest in 3 of 3)",
                "2.00x over tokio-mt",
                "`join_all` (fastest in 2 of 2)",
                "10.0x over `spawn_join`"
            ]
        );
        assert_eq!(
            summary.not_run_lines(),
            [
                "2 timeout: ran past its budget (tokio-mt/when_all/join_all/n=10,op=yield, \
              smol-mt/when_all/join_all/n=10,op=yield)"
            ]
        );
    }

    #[test]
    fn one_runtime_or_no_common_case_is_said_so() {
        let mut results = fixture();
        let template = results.cells[0].clone();
        results.cells = vec![
            cell(&template, "tokio-mt", "join_all", 10, 200.0),
            cell(&template, "tokio-mt", "spawn_join", 1000, 2000.0),
        ];
        let model = build_model(&results, "tokio-mt");
        let summary = Summary::of(&model);
        let row = &summary.leaders_table().rows[0];
        assert_eq!(row[1], "tokio-mt (the only runtime)");
        assert_eq!(row[3], "- (no case measured on every variant)");
        assert!(summary.not_run_lines().is_empty());
    }
}
