//! The views each workload declares in the catalogue, computed from its section for renderers.

use std::collections::HashMap;

use tapbench_core::{ParamValue, Params, PivotView, View, WorkloadSpec};

use super::format::{format_fixed, format_params, format_time, format_times};
use super::model::{
    compare_params, compare_runtimes, compare_values, compare_variants, param_number,
    runtime_label, Section,
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

/// Every view the catalogue declares for `section` that has something to show, in the
/// catalogue's order.
pub fn section_views<'a>(section: &'a Section<'a>) -> Vec<SectionView<'a>> {
    let Some(spec) = section.spec else {
        return Vec::new();
    };
    spec.views
        .iter()
        .filter_map(|view| match view {
            View::Pivot(pivot) => Pivot::of(section, *pivot).map(SectionView::Pivot),
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
        }
    }

    #[test]
    fn value_task_declares_a_pivot_on_sync_ratio() {
        let results = fixture();
        let model = build_model(&results, "tokio-mt");
        let views: Vec<SectionView<'_>> = model.sections.iter().flat_map(section_views).collect();
        assert_eq!(views.len(), 1, "only value_task declares a view");
        let SectionView::Pivot(pivot) = &views[0];
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
