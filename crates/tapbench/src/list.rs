//! `tapbench list`: the runtime configurations and the workload catalogue.

use std::fmt::Write;

use serde_json::json;
use tapbench_core::catalogue;

use crate::runtimes;

/// The catalogue for people.
pub fn text() -> String {
    let mut out = String::from("Runtime configurations\n");
    for rt in runtimes::all() {
        let threads = if rt.multi_threaded {
            "--threads"
        } else {
            "1 thread"
        };
        let legacy = if rt.legacy { " (legacy)" } else { "" };
        let _ = writeln!(out, "  {:<14} {:<10} {}{legacy}", rt.id, threads, rt.doc);
    }
    out.push_str(
        "\nWorkloads (variants marked * are runtime-native; skipped where a runtime has none)\n",
    );
    for w in catalogue() {
        let cases = (w.cases)().len();
        let _ = writeln!(
            out,
            "\n  {}  [{}]  one op = {}; {cases} default cases",
            w.id, w.tap, w.op_unit
        );
        for v in w.variants {
            let mark = if v.native { "*" } else { " " };
            let _ = writeln!(out, "    {mark}{:<16} {}", v.id, v.doc);
        }
        for p in w.params {
            let _ = writeln!(out, "     --param {}=<{}>  {}", p.name, p.accepted(), p.doc);
        }
    }
    out
}

/// The catalogue for programs.
pub fn json() -> serde_json::Value {
    let runtimes: Vec<_> = runtimes::all()
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "family": r.family, "doc": r.doc,
                "multi_threaded": r.multi_threaded, "legacy": r.legacy,
            })
        })
        .collect();
    let workloads: Vec<_> = catalogue()
        .iter()
        .map(|w| {
            json!({
                "id": w.id,
                "tap": w.tap,
                "op_unit": w.op_unit,
                "variants": w.variants.iter().map(|v| json!({
                    "id": v.id, "doc": v.doc, "native": v.native,
                })).collect::<Vec<_>>(),
                "params": w.params.iter().map(|p| json!({
                    "name": p.name, "doc": p.doc, "accepted": p.accepted(),
                })).collect::<Vec<_>>(),
                "cases": (w.cases)().iter().map(|c| json!({
                    "variant": c.variant, "params": c.params,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "runtimes": runtimes, "workloads": workloads })
}
