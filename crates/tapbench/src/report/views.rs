//! The views each workload declares in the catalogue, computed from its section for renderers.

use std::collections::HashMap;

use tapbench_core::{Beside, ParamValue, Params, PivotView, View, WorkloadSpec};

use super::format::{format_fixed, format_params, format_time, format_times};
use super::model::{
    compare_params, compare_runtimes, compare_values, compare_variants, param_number,
    runtime_label, Model, Section,
};
use super::tables::Table;
use crate::results::CellResult;

/// How much faster the leading variant must be than every other for the findings to say
/// that it leads.
const CLEAR_LEAD: f64 = 1.2;

/// One declared view of a section, with what it shows.
#[derive(Debug)]
pub enum SectionView<'a> {
    /// See [`Pivot`].
    Pivot(Pivot<'a>),
}

impl SectionView<'_> {
    /// The view's heading.
    pub fn title(&self) -> &'static str {
        match self {
            SectionView::Pivot(p) => p.view.title,
        }
    }

    /// The view's paragraph.
    pub fn description(&self) -> &'static str {
        match self {
            SectionView::Pivot(p) => p.view.description,
        }
    }
}

/// Every view the catalogue declares for `section` (a section of `model`) that has
/// something to show, in the catalogue's order.
pub fn section_views<'a>(model: &'a Model<'a>, section: &'a Section<'a>) -> Vec<SectionView<'a>> {
    let Some(spec) = section.spec else {
        return Vec::new();
    };
    spec.views
        .iter()
        .filter_map(|view| match view {
            View::Pivot(pivot) => Pivot::of(section, *pivot).map(|mut p| {
                p.beside = pivot
                    .beside
                    .iter()
                    .filter_map(|b| BesideRows::of(model, *b))
                    .collect();
                SectionView::Pivot(p)
            }),
        })
        .collect()
}

/// A pivot of one section: contrasted variants against the values of one parameter.
#[derive(Debug)]
pub struct Pivot<'a> {
    /// The declaration.
    pub view: PivotView,
    /// The workload's catalogue entry.
    pub spec: Option<&'static WorkloadSpec>,
    /// The values pivoted on, in report order.
    pub values: Vec<&'a ParamValue>,
    /// One line per variant, other parameters and runtime, in that order.
    pub lines: Vec<PivotLine<'a>>,
    /// The measured cells of other workloads the view declares beside it.
    pub beside: Vec<BesideRows<'a>>,
}

/// One contrasted variant on one runtime (with the other parameters fixed) across the
/// pivot's values.
#[derive(Debug)]
pub struct PivotLine<'a> {
    /// Runtime id.
    pub runtime: &'a str,
    /// Variant id.
    pub variant: &'a str,
    /// The parameters other than the pivot's (`n=10, op=yield`), empty when there are none.
    pub others: String,
    /// The cell at each of the pivot's values, when measured.
    pub cells: Vec<Option<&'a CellResult>>,
    others_params: Params,
}

impl PivotLine<'_> {
    /// Median time per operation at the `i`th value.
    pub fn median_ns(&self, i: usize) -> Option<f64> {
        self.cells
            .get(i)
            .copied()
            .flatten()
            .and_then(|c| c.time_ns_per_op.as_ref().map(|t| t.median))
    }

    /// Allocations per operation at the `i`th value.
    pub fn allocs(&self, i: usize) -> Option<f64> {
        self.cells
            .get(i)
            .copied()
            .flatten()
            .and_then(|c| c.allocs_per_op)
    }
}

/// The lines of one runtime with the same other parameters: what one panel of the chart
/// and one finding compare.
#[derive(Debug)]
pub struct PivotGroup<'p, 'a> {
    /// Runtime id.
    pub runtime: &'a str,
    /// The other parameters, empty when there are none.
    pub others: &'p str,
    /// One line per contrasted variant, in catalogue order.
    pub lines: Vec<&'p PivotLine<'a>>,
}

impl<'a> Pivot<'a> {
    /// The pivot of `section`, `None` when no measured cell of a contrasted variant has the
    /// parameter.
    pub fn of(section: &'a Section<'a>, view: PivotView) -> Option<Pivot<'a>> {
        let spec = section.spec;
        let cells: Vec<&'a CellResult> = section
            .rows
            .iter()
            .map(|r| r.cell)
            .filter(|c| view.contrasts(&c.variant) && c.params.get(view.param).is_some())
            .collect();
        if cells.is_empty() {
            return None;
        }
        let mut values: Vec<&'a ParamValue> = Vec::new();
        for c in &cells {
            if let Some(v) = c.params.get(view.param) {
                if !values.contains(&v) {
                    values.push(v);
                }
            }
        }
        values.sort_by(|a, b| compare_values(spec, view.param, a, b));
        let mut lines: Vec<PivotLine<'a>> = Vec::new();
        let mut index: HashMap<(&str, &str, String), usize> = HashMap::new();
        for c in &cells {
            let Some(at) = c
                .params
                .get(view.param)
                .and_then(|v| values.iter().position(|x| *x == v))
            else {
                continue;
            };
            let mut others_params = c.params.clone();
            others_params.0.remove(view.param);
            let others = format_params(&others_params);
            let key = (c.runtime.as_str(), c.variant.as_str(), others.clone());
            let i = *index.entry(key).or_insert_with(|| {
                lines.push(PivotLine {
                    runtime: &c.runtime,
                    variant: &c.variant,
                    others,
                    cells: vec![None; values.len()],
                    others_params,
                });
                lines.len() - 1
            });
            lines[i].cells[at] = Some(c);
        }
        lines.sort_by(|a, b| {
            compare_variants(spec, a.variant, b.variant)
                .then_with(|| compare_params(spec, &a.others_params, &b.others_params, &|_| false))
                .then_with(|| compare_runtimes(a.runtime, b.runtime))
        });
        Some(Pivot {
            view,
            spec,
            values,
            lines,
            beside: Vec::new(),
        })
    }

    /// The values as numbers, when every one is a number.
    pub fn numeric_values(&self) -> Option<Vec<f64>> {
        self.values.iter().map(|v| param_number(v)).collect()
    }

    /// Whether any line has parameters besides the pivot's.
    pub fn has_others(&self) -> bool {
        self.lines.iter().any(|l| !l.others.is_empty())
    }

    /// The lines grouped by runtime and other parameters: runtimes in registry order, then
    /// other parameters in report order.
    pub fn groups(&self) -> Vec<PivotGroup<'_, 'a>> {
        let mut groups: Vec<PivotGroup<'_, 'a>> = Vec::new();
        let mut firsts: Vec<&PivotLine<'a>> = Vec::new();
        for line in &self.lines {
            match groups
                .iter_mut()
                .find(|g| g.runtime == line.runtime && g.others == line.others)
            {
                Some(group) => group.lines.push(line),
                None => {
                    firsts.push(line);
                    groups.push(PivotGroup {
                        runtime: line.runtime,
                        others: &line.others,
                        lines: vec![line],
                    });
                }
            }
        }
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order.sort_by(|&a, &b| {
            compare_runtimes(groups[a].runtime, groups[b].runtime).then_with(|| {
                compare_params(
                    self.spec,
                    &firsts[a].others_params,
                    &firsts[b].others_params,
                    &|_| false,
                )
            })
        });
        let mut slots: Vec<Option<PivotGroup<'_, 'a>>> = groups.into_iter().map(Some).collect();
        order
            .into_iter()
            .filter_map(|i| slots.get_mut(i).and_then(Option::take))
            .collect()
    }

    /// One row per line, a column per value for the time, then one per value for the
    /// allocations.
    pub fn table(&self) -> Table {
        let param = self.view.param;
        let with_others = self.has_others();
        let mut headers: Vec<(String, bool)> =
            vec![("runtime".into(), false), ("variant".into(), false)];
        if with_others {
            headers.push(("other params".into(), false));
        }
        for v in &self.values {
            headers.push((format!("time/op @ {param}={v}"), true));
        }
        for v in &self.values {
            headers.push((format!("allocs/op @ {param}={v}"), true));
        }
        let mut table = Table {
            headers: headers.iter().map(|(h, _)| h.clone()).collect(),
            numeric: headers.iter().map(|(_, n)| *n).collect(),
            rows: Vec::new(),
        };
        for line in &self.lines {
            let mut row = vec![runtime_label(line.runtime), line.variant.to_string()];
            if with_others {
                row.push(line.others.clone());
            }
            for i in 0..self.values.len() {
                row.push(
                    line.median_ns(i)
                        .map(format_time)
                        .unwrap_or_else(|| "-".into()),
                );
            }
            for i in 0..self.values.len() {
                row.push(format_fixed(line.allocs(i), 2));
            }
            table.rows.push(row);
        }
        table
    }

    /// For each runtime (and other parameters), which contrasted variant is fastest at the
    /// highest and at the lowest value, by how much over the next, with their allocations;
    /// and from which value on the leader at the highest one leads clearly.
    pub fn findings(&self) -> Vec<String> {
        let param = self.view.param;
        let Some(top) = self.values.len().checked_sub(1) else {
            return Vec::new();
        };
        let mut findings = Vec::new();
        for group in self.groups() {
            let mut clauses = Vec::new();
            let mut extremes = vec![top];
            if top > 0 {
                extremes.push(0);
            }
            for &at in &extremes {
                if let Some(clause) = leader_clause(&group, at, param, self.values[at]) {
                    clauses.push(clause);
                }
            }
            if clauses.is_empty() {
                continue;
            }
            let mut sentence = format!("On {}", runtime_label(group.runtime));
            if !group.others.is_empty() {
                sentence.push_str(&format!(" ({})", group.others));
            }
            sentence.push_str(", ");
            sentence.push_str(&clauses.join("; "));
            sentence.push('.');
            if let Some(lead) = clear_lead(&group, top, param, &self.values) {
                sentence.push(' ');
                sentence.push_str(&lead);
            }
            findings.push(sentence);
        }
        findings
    }
}

/// Cells with their median time per operation.
type Measured<'c> = Vec<(&'c CellResult, f64)>;

/// The measured cells of another workload that a view declares beside it (see [`Beside`]).
#[derive(Debug)]
pub struct BesideRows<'a> {
    /// The declaration.
    pub beside: Beside,
    /// The cells whose selecting parameter has the declared value, of the declared
    /// variants: in the declaration's variant order, then by other parameters, then by
    /// runtime in registry order.
    pub cells: Vec<&'a CellResult>,
}

impl<'a> BesideRows<'a> {
    /// The rows `beside` selects from `model`, `None` when none was measured (or this build
    /// does not know the workload or the value).
    pub fn of(model: &'a Model<'a>, beside: Beside) -> Option<BesideRows<'a>> {
        let spec = tapbench_core::find_workload(beside.workload)?;
        let value = spec.param(beside.param)?.parse(beside.value).ok()?;
        let section = model
            .sections
            .iter()
            .find(|s| s.workload == beside.workload)?;
        let rank = |variant: &str| beside.contrast.iter().position(|v| *v == variant);
        let mut cells: Vec<&'a CellResult> = section
            .rows
            .iter()
            .map(|r| r.cell)
            .filter(|c| rank(&c.variant).is_some() && c.params.get(beside.param) == Some(&value))
            .collect();
        if cells.is_empty() {
            return None;
        }
        cells.sort_by(|a, b| {
            rank(&a.variant)
                .cmp(&rank(&b.variant))
                .then_with(|| compare_params(Some(spec), &a.params, &b.params, &|_| false))
                .then_with(|| compare_runtimes(&a.runtime, &b.runtime))
        });
        Some(BesideRows { beside, cells })
    }

    /// The cell's parameters other than the selecting one (`m=64, keys=1000`).
    fn others(&self, cell: &CellResult) -> String {
        let mut others = cell.params.clone();
        others.0.remove(self.beside.param);
        format_params(&others)
    }

    /// One row per cell: runtime, variant, other parameters, time and allocations per op.
    pub fn table(&self) -> Table {
        let headers = ["runtime", "variant", "other params", "time/op", "allocs/op"];
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            numeric: vec![false, false, false, true, true],
            rows: self
                .cells
                .iter()
                .map(|c| {
                    vec![
                        runtime_label(&c.runtime),
                        c.variant.clone(),
                        self.others(c),
                        c.time_ns_per_op
                            .as_ref()
                            .map(|t| format_time(t.median))
                            .unwrap_or_else(|| "-".into()),
                        format_fixed(c.allocs_per_op, 2),
                    ]
                })
                .collect(),
        }
    }

    /// For each runtime (and other parameters), the variants fastest first with their time
    /// and allocations, and how much faster the first is than the second.
    pub fn findings(&self) -> Vec<String> {
        let mut groups: Vec<(&str, String, Measured<'_>)> = Vec::new();
        for c in &self.cells {
            let Some(t) = c.time_ns_per_op.as_ref().map(|t| t.median) else {
                continue;
            };
            let others = self.others(c);
            match groups
                .iter_mut()
                .find(|(rt, o, _)| *rt == c.runtime && *o == others)
            {
                Some((_, _, measured)) => measured.push((c, t)),
                None => groups.push((&c.runtime, others, vec![(c, t)])),
            }
        }
        groups.sort_by(|a, b| compare_runtimes(a.0, b.0));
        let mut findings = Vec::new();
        for (runtime, _, mut measured) in groups {
            if measured.len() < 2 {
                continue;
            }
            measured.sort_by(|a, b| a.1.total_cmp(&b.1));
            let (first, first_ns) = measured[0];
            let (_, next_ns) = measured[1];
            let rest: Vec<String> = measured
                .iter()
                .map(|(c, t)| {
                    format!(
                        "`{}` {} ({} allocations)",
                        c.variant,
                        format_time(*t),
                        format_fixed(c.allocs_per_op, 2)
                    )
                })
                .collect();
            findings.push(format!(
                "On {}, {}: `{}` is {} faster than the next.",
                runtime_label(runtime),
                rest.join(", "),
                first.variant,
                if first_ns > 0.0 {
                    format_times(next_ns / first_ns)
                } else {
                    "-".into()
                },
            ));
        }
        findings
    }
}

/// The lines of `group` measured at the `at`th value, fastest first.
fn ranked<'p, 'a>(group: &PivotGroup<'p, 'a>, at: usize) -> Vec<(&'p PivotLine<'a>, f64)> {
    let mut measured: Vec<(&PivotLine<'a>, f64)> = group
        .lines
        .iter()
        .filter_map(|l| l.median_ns(at).map(|t| (*l, t)))
        .collect();
    measured.sort_by(|a, b| a.1.total_cmp(&b.1));
    measured
}

/// `at sync_ratio=1 `inline` is fastest: 6.702 ns and 0.00 allocations per op, 5.65x
/// faster than `boxed` (37.90 ns, 1.00 allocations)`.
fn leader_clause(
    group: &PivotGroup<'_, '_>,
    at: usize,
    param: &str,
    value: &ParamValue,
) -> Option<String> {
    let measured = ranked(group, at);
    let (first, first_ns) = *measured.first()?;
    let (next, next_ns) = *measured.get(1)?;
    Some(format!(
        "at {param}={value} `{}` is fastest: {} and {} allocations per op, {} faster than `{}` \
         ({}, {} allocations)",
        first.variant,
        format_time(first_ns),
        format_fixed(first.allocs(at), 2),
        if first_ns > 0.0 {
            format_times(next_ns / first_ns)
        } else {
            "-".into()
        },
        next.variant,
        format_time(next_ns),
        format_fixed(next.allocs(at), 2),
    ))
}

/// From which value on (going down from the highest) the leader at the highest value is
/// [`CLEAR_LEAD`] times faster than every other variant, when it is at the highest.
fn clear_lead(
    group: &PivotGroup<'_, '_>,
    top: usize,
    param: &str,
    values: &[&ParamValue],
) -> Option<String> {
    let leader = ranked(group, top).first()?.0.variant;
    let leads_at = |at: usize| {
        let measured = ranked(group, at);
        match (measured.first(), measured.get(1)) {
            (Some((first, t)), Some((_, next))) => {
                first.variant == leader && *next >= *t * CLEAR_LEAD
            }
            _ => false,
        }
    };
    let from = (0..=top).rev().take_while(|&at| leads_at(at)).last()?;
    let percent = ((CLEAR_LEAD - 1.0) * 100.0).round();
    Some(if from == 0 {
        format!("`{leader}` leads by {percent}% or more at every {param} measured.")
    } else {
        format!(
            "`{leader}` leads by {percent}% or more from {param}={} on.",
            values[from]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::build_model;
    use crate::results::ResultsFile;

    const FIXTURE: &str = include_str!("../../tests/fixtures/small-results.json");

    fn fixture() -> ResultsFile {
        serde_json::from_str(FIXTURE).expect("the fixture is a valid results file")
    }

    #[test]
    fn every_declared_view_names_its_own_parameters_and_variants() {
        for workload in tapbench_core::catalogue() {
            assert_eq!(workload.check_views(), Ok(()));
            for view in workload.views {
                let View::Pivot(pivot) = view;
                for beside in pivot.beside {
                    let other =
                        tapbench_core::find_workload(beside.workload).unwrap_or_else(|| {
                            panic!("{}: no workload {}", workload.id, beside.workload)
                        });
                    assert_eq!(beside.check(other), Ok(()), "{}", workload.id);
                }
            }
        }
    }

    /// The view of `workload` in the fixture's report.
    fn pivot_of<'a>(model: &'a Model<'a>, workload: &str) -> Pivot<'a> {
        let section = model
            .sections
            .iter()
            .find(|s| s.workload == workload)
            .expect("the fixture has the workload");
        match section_views(model, section).into_iter().next() {
            Some(SectionView::Pivot(pivot)) => pivot,
            None => panic!("{workload} declares a view"),
        }
    }

    #[test]
    fn the_task_vs_value_task_view_shows_the_cache_hit_path_beside_it() {
        let results = fixture();
        let model = build_model(&results, "tokio-mt");
        let pivot = pivot_of(&model, "value_task");
        assert_eq!(pivot.beside.len(), 1);
        let hits = &pivot.beside[0];
        assert_eq!(hits.beside.title, "The cache hit path");
        let table = hits.table();
        let keys: Vec<(&str, &str)> = table
            .rows
            .iter()
            .map(|r| (r[0].as_str(), r[1].as_str()))
            .collect();
        // Hits only (the cold cell is left out), in the declared variant order, then by
        // runtime.
        assert_eq!(
            keys,
            [
                ("tokio-mt", "ready_fast_path"),
                ("tokio-ct", "ready_fast_path"),
                ("tokio-mt", "shared_future"),
                ("tokio-ct", "shared_future"),
                ("tokio-mt", "moka"),
            ]
        );
        assert_eq!(table.rows[0][2], "factory=yield, keys=1000, m=64, skew=1");
        assert_eq!(table.rows[0][3], "12.00 ns");
        assert_eq!(table.rows[4][4], "1.09");
        let findings = hits.findings();
        assert_eq!(
            findings,
            [
                "On tokio-mt, `ready_fast_path` 12.00 ns (0.00 allocations), `shared_future` \
                 31.00 ns (0.00 allocations), `moka` 150.0 ns (1.09 allocations): \
                 `ready_fast_path` is 2.58x faster than the next.",
                "On tokio-ct, `ready_fast_path` 10.00 ns (0.00 allocations), `shared_future` \
                 27.00 ns (0.00 allocations): `ready_fast_path` is 2.70x faster than the next.",
            ]
        );
    }

    #[test]
    fn value_task_declares_a_pivot_on_sync_ratio() {
        let results = fixture();
        let model = build_model(&results, "tokio-mt");
        let pivot = pivot_of(&model, "value_task");
        assert_eq!(pivot.view.param, "sync_ratio");
        assert_eq!(pivot.values.len(), 2);
        let table = pivot.table();
        assert_eq!(
            table.headers,
            [
                "runtime",
                "variant",
                "time/op @ sync_ratio=0",
                "time/op @ sync_ratio=1",
                "allocs/op @ sync_ratio=0",
                "allocs/op @ sync_ratio=1"
            ]
        );
        // Variant, then runtime.
        let keys: Vec<(&str, &str)> = table
            .rows
            .iter()
            .map(|r| (r[0].as_str(), r[1].as_str()))
            .collect();
        assert_eq!(keys[0], ("tokio-mt", "inline"));
        assert_eq!(keys[3], ("tokio-mt", "boxed"));
        assert_eq!(table.rows[0][3], "6.702 ns");
        let findings = pivot.findings();
        assert_eq!(findings.len(), 3, "one per runtime");
        assert!(
            findings[0].starts_with(
                "On tokio-mt, at sync_ratio=1 `inline` is fastest: 6.702 ns and 0.00 \
                 allocations per op, 5.65x faster than `boxed` (37.90 ns, 1.00 allocations); \
                 at sync_ratio=0 `boxed` is fastest"
            ),
            "{}",
            findings[0]
        );
        assert!(findings[0].ends_with("`inline` leads by 20% or more from sync_ratio=1 on."));
    }
}
