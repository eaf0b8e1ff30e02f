//! Reports and comparisons of a small fixed results file, end to end through the binary:
//! Markdown and CSV against golden files (regenerate with `UPDATE_GOLDEN=1 cargo test`),
//! the HTML's presence, and `compare`'s output and errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXE: &str = env!("CARGO_BIN_EXE_tapbench");

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small-results.json")
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn tapbench(args: &[&str]) -> Output {
    Command::new(EXE).args(args).output().unwrap()
}

#[track_caller]
fn assert_matches_golden(rendered: &Path, name: &str) {
    let text = std::fs::read_to_string(rendered).unwrap();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(golden(name), &text).unwrap();
    }
    let expected = std::fs::read_to_string(golden(name)).unwrap_or_default();
    assert!(
        text == expected,
        "{name} differs from tests/golden/{name}; if the change is intended, run \
         UPDATE_GOLDEN=1 cargo test -p tapbench --test report and review the diff"
    );
}

#[test]
fn markdown_and_csv_match_the_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = tapbench(&[
        "report",
        "--input",
        fixture().to_str().unwrap(),
        "--out-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_matches_golden(&dir.path().join("report.md"), "report.md");
    assert_matches_golden(&dir.path().join("report.csv"), "report.csv");
    assert!(dir.path().join("report.html").exists());
}

#[test]
fn markdown_has_what_a_reader_needs() {
    let md = std::fs::read_to_string(golden("report.md")).unwrap();
    for needle in [
        "## Summary",
        "| workload | fastest runtime | ahead of the next | fastest variant | ahead of the next |",
        "Cells that did not run, by reason:",
        "1 skipped: smol has no task-set type",
        "## Environment",
        "| runtime crates | async-channel",
        "## when_all (Task.WhenAll)",
        "| variant | params | runtime | median time/op | 95% CI | CV % | Ratio |",
        "p99 latency ns",
        "## Task vs ValueTask",
        "| runtime | variant | time/op @ sync_ratio=0 | time/op @ sync_ratio=1 |",
        "## Cells that did not run",
        "smol has no task-set type",
        "expected 42, saw 41",
    ] {
        assert!(md.contains(needle), "report.md lacks `{needle}`");
    }
    // What a reader wants first comes first; a workload's views follow its table.
    let at = |s: &str| md.find(s).unwrap();
    assert!(at("## Summary") < at("## Environment"));
    assert!(at("## value_task") < at("## Task vs ValueTask"));
    assert!(at("## Task vs ValueTask\n") < at("### The cache hit path"));
    assert!(at("### The cache hit path") < at("## Cells that did not run\n"));
    // The baseline's own rows have ratio 1.00; times carry their unit.
    assert!(md.contains(
        "| join_all | n=10, op=ready | tokio-mt | 379.1 ns | 297.2 ns .. 411.7 ns | 13.7 | 1.00 |"
    ));
    assert!(md.contains("| 48.04 ms |"), "large times are shown in ms");
    let csv = std::fs::read_to_string(golden("report.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.contains("median_ns_per_op") && header.contains("bytes_per_op"));
    assert_eq!(lines.count(), 37, "one row per cell");
}

#[test]
fn an_unknown_baseline_or_a_bad_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixture();
    let f = fixture.to_str().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = tapbench(&[
        "report",
        "--input",
        f,
        "--out-dir",
        d,
        "--baseline-runtime",
        "node",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown baseline runtime `node`"));
    let missing = dir.path().join("none.json");
    let out = tapbench(&[
        "report",
        "--input",
        missing.to_str().unwrap(),
        "--out-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("none.json"));
}

#[test]
fn compare_reports_every_cell_and_refuses_disjoint_files() {
    let f = fixture();
    let f = f.to_str().unwrap();
    let same = tapbench(&["compare", f, f]);
    assert!(same.status.success());
    let md = String::from_utf8_lossy(&same.stdout);
    assert!(
        // One launch a side: the same at single-launch resolution, like the gate.
        md.contains(
            "37 cells in both files (measured at different times). Time: 0 faster, 0 \
                     slower, 35 same, 0 not judged, 2 not comparable"
        ),
        "{md}"
    );
    let json = tapbench(&["compare", f, f, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["cells"].as_array().unwrap().len(), 37);
    assert!(v["cells"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["verdict"] != "slower"));

    let dir = tempfile::tempdir().unwrap();
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture()).unwrap()).unwrap();
    for cell in other["cells"].as_array_mut().unwrap() {
        let id = cell["id"].as_str().unwrap().to_string();
        cell["id"] = format!("x-{id}").into();
    }
    let disjoint = dir.path().join("disjoint.json");
    std::fs::write(&disjoint, serde_json::to_string(&other).unwrap()).unwrap();
    let out = tapbench(&["compare", f, disjoint.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no cell in common"));
    let out = tapbench(&["compare", f, f, "--threshold", "-3"]);
    assert_eq!(out.status.code(), Some(2));
}
