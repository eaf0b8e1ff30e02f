//! `tapbench list`: the runtime configurations (from the registry) and the workload
//! catalogue.

use std::fmt::Write;

use serde_json::json;
use tapbench_core::catalogue;

/// The catalogue for people.
pub fn text() -> String {
    let mut out = String::from("Runtime configurations\n");
    for entry in tapbench_runtimes::all() {
        let rt = entry.info;
        let threads = if rt.multi_threaded {
            "--threads"
        } else {
            "1 thread"
        };
        let legacy = if rt.legacy { "  [legacy]" } else { "" };
        let _ = writeln!(out, "\n  {:<14} {:<10} {}{legacy}", rt.id, threads, rt.doc);
        for (what, provider) in rt.uses {
            let _ = writeln!(out, "      {what:<12} {provider}");
        }
        for native in entry.natives() {
            let variant = format!("{}/{}", native.workload, native.variant);
            match native.provided {
                Ok(uses) => {
                    let _ = writeln!(out, "      {variant:<34} {uses}");
                }
                Err(reason) => {
                    let _ = writeln!(out, "      {variant:<34} skipped: {reason}");
                }
            }
        }
    }
    out.push_str(
        "\nWorkloads (variants marked * are runtime-native: each runtime's own idiom, listed \
         above; skipped where a runtime has none)\n",
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
    let runtimes: Vec<_> = tapbench_runtimes::all()
        .iter()
        .map(|entry| {
            let r = entry.info;
            let natives: Vec<_> = entry
                .natives()
                .iter()
                .map(|n| match n.provided {
                    Ok(uses) => json!({
                        "workload": n.workload, "variant": n.variant, "uses": uses,
                    }),
                    Err(reason) => json!({
                        "workload": n.workload, "variant": n.variant, "skipped": reason,
                    }),
                })
                .collect();
            let uses: serde_json::Map<_, _> = r
                .uses
                .iter()
                .map(|(what, provider)| (what.to_string(), json!(provider)))
                .collect();
            json!({
                "id": r.id, "family": r.family, "doc": r.doc,
                "multi_threaded": r.multi_threaded, "legacy": r.legacy,
                "uses": uses, "natives": natives, "crates": r.crates,
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
