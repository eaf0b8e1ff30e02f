//! The gate measured on this machine, on small cells so it takes seconds. As the CI job
//! does, the baseline's build and this build run interleaved, launch by launch
//! (`--baseline-exe`; here a copy of this very binary plays the baseline's build): the same
//! code against itself (A/A) passes the gate; a delay injected into every operation, and one
//! injected allocation per operation, fail it for the affected cells. Nothing is retried: a
//! flaky gate is the bug.
//!
//! The injected delay is 20% of the cell's median and each side gets the interleaved
//! default of 60 launches, spread pass by pass and judged in pairs by the sign test:
//! measured with `scripts/gate-sensitivity.py`, that catches far smaller slowdowns in 10 of
//! 10 gates on every small cell tried, with no false alarm in 20 A/A gates (see the
//! README's gate section).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

const EXE: &str = env!("CARGO_BIN_EXE_tapbench");

/// Tests that measure take turns: two of them measuring at once on a 2-core machine would
/// disturb each other's figures (the harness runs a file's tests in parallel).
static MEASURING: Mutex<()> = Mutex::new(());

/// The turn to measure, held for the whole test (a test that failed still hands it on).
fn measuring() -> MutexGuard<'static, ()> {
    MEASURING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A small cell with steady launches: spawn and await one task on smol's local executor.
const SELECTION: [&str; 8] = [
    "--profile",
    "smoke",
    "--runtime",
    "smol-local",
    "--workload",
    "spawn",
    "--variant",
    "spawn_await",
];
const CELLS: [&str; 1] = ["smol-local/spawn/spawn_await"];

/// The stored baseline (it says which cells to run) and a copy of the binary as the
/// baseline's build.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let baseline = run_into(&dir.join("baseline.json"), &SELECTION, &[]);
    let old_exe = dir.join("tapbench-baseline");
    std::fs::copy(EXE, &old_exe).unwrap();
    (baseline, old_exe)
}

/// Runs `selection` (plus `extra` flags) into `path`, without a report, and returns `path`.
fn run_into(path: &Path, selection: &[&str], extra: &[&str]) -> PathBuf {
    let out = Command::new(EXE)
        .arg("run")
        .args(selection)
        .args(["--no-report", "--out", path.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path.to_path_buf()
}

/// Gates this build against the baseline's build, interleaved, with `extra` flags; returns
/// the exit status and the JSON verdict.
fn gate(
    dir: &Path,
    baseline: &Path,
    old_exe: &Path,
    extra: &[&str],
) -> (Output, serde_json::Value) {
    let current = dir.join("current.json");
    let out = Command::new(EXE)
        .args(["gate", "--baseline", baseline.to_str().unwrap()])
        .args(["--baseline-exe", old_exe.to_str().unwrap()])
        .args(["--out", current.to_str().unwrap(), "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out, json)
}

fn verdict<'a>(json: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    json["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
}

fn median(path: &Path, id: &str) -> f64 {
    let text = std::fs::read_to_string(path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cell = v["cells"]
        .as_array()
        .and_then(|cells| cells.iter().find(|c| c["id"] == id));
    let cell = cell.unwrap_or_else(|| panic!("no cell {id} in {}: {text}", path.display()));
    cell["time_ns_per_op"]["median"].as_f64().unwrap()
}

#[test]
fn the_gate_passes_a_a_and_catches_injected_regressions() {
    let _turn = measuring();
    let dir = tempfile::tempdir().unwrap();
    let (baseline, old_exe) = setup(dir.path());

    // A/A: the same code against itself passes.
    let (out, json) = gate(dir.path(), &baseline, &old_exe, &[]);
    assert_eq!(out.status.code(), Some(0), "A/A failed the gate:\n{json:#}");
    assert_eq!(json["regressions"], 0);
    assert_eq!(json["options"]["interleaved"], true);

    // One allocation more per operation: an allocation regression in every cell. (smol's
    // executor allocates a queue block per 31 scheduled tasks, so this cell's count varies
    // from sample to sample, and the gate judges it by the rank test and the baseline's own
    // range rather than exactly.)
    let (out, json) = gate(dir.path(), &baseline, &old_exe, &["--inject-allocs", "1"]);
    assert_eq!(out.status.code(), Some(1), "{json:#}");
    for id in CELLS {
        let v = verdict(&json, id);
        assert_eq!(v["allocs"], "regression", "{v}");
        let (base, current) = (
            v["base_allocs_per_op"].as_f64().unwrap(),
            v["current_allocs_per_op"].as_f64().unwrap(),
        );
        assert!((current - base - 1.0).abs() < 0.05, "{v}");
    }

    // A delay of 20% of each cell's median in every operation: a time regression.
    let fresh = dir.path().join("current-baseline.json");
    let medians: Vec<f64> = CELLS.iter().map(|id| median(&fresh, id)).collect();
    for (id, median) in CELLS.iter().zip(medians) {
        let delay = (median * 0.2).ceil() as u64;
        let mut one: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
        let cells: Vec<_> = one["cells"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["id"] == *id)
            .cloned()
            .collect();
        one["cells"] = cells.into();
        let one_path = dir.path().join("one.json");
        std::fs::write(&one_path, one.to_string()).unwrap();
        let delay = delay.to_string();
        let (out, json) = gate(
            dir.path(),
            &one_path,
            &old_exe,
            &["--inject-delay-ns", &delay],
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "a {delay} ns (20%) slowdown passed:\n{json:#}"
        );
        let v = verdict(&json, id);
        assert_eq!(v["time"], "regression", "{v}");
        assert_eq!(v["compared"], "paired launches");
        assert_eq!(v["allocs"], "unchanged");
    }
}

/// In lock-step both builds' processes of a launch pair are alive at once and take turns,
/// warm-up and then sample by sample: A/A passes, a 50% slowdown is a regression judged on
/// the launch pairs, both files say how they were measured (so that `compare` and `gate
/// --current` judge them in pairs later), and every launch took all its samples - the turns
/// neither deadlock nor cut a side short. A baseline build that does not know the protocol
/// is refused in one line.
#[test]
fn lockstep_pairs_take_turns_and_are_judged_in_pairs() {
    let _turn = measuring();
    let dir = tempfile::tempdir().unwrap();
    let (baseline, old_exe) = setup(dir.path());
    let lockstep = ["--lockstep", "--launches", "10"];
    let (out, json) = gate(dir.path(), &baseline, &old_exe, &lockstep);
    assert_eq!(out.status.code(), Some(0), "A/A failed the gate:\n{json:#}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("in lock-step"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in ["current.json", "current-baseline.json"] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["interleaved"]["lockstep"], true, "{file}");
        let time = &v["cells"][0]["time_ns_per_op"];
        assert_eq!(
            time["launch_medians"].as_array().unwrap().len(),
            10,
            "{file}"
        );
        // Smoke takes ten samples per launch.
        assert_eq!(time["samples"].as_array().unwrap().len(), 100, "{file}");
    }
    // The two files judged later, as stored files: still in pairs.
    let out = Command::new(EXE)
        .args(["compare", "--format", "json"])
        .arg(dir.path().join("current-baseline.json"))
        .arg(dir.path().join("current.json"))
        .output()
        .unwrap();
    let cmp: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cmp["interleaved"], true);
    assert_eq!(cmp["cells"][0]["compared"], "paired launches");

    let median = median(&dir.path().join("current-baseline.json"), CELLS[0]);
    let delay = format!("{:.1}", median * 0.5);
    // Twelve pairs: with ten, one pair that a loaded machine turns around leaves p = 0.021,
    // above the gate's 0.01; with twelve, one such pair still leaves the slowdown judged.
    let mut args = vec!["--lockstep", "--launches", "12"];
    args.extend(["--inject-delay-ns", &delay]);
    let (out, json) = gate(dir.path(), &baseline, &old_exe, &args);
    assert_eq!(out.status.code(), Some(1), "{json:#}");
    let v = verdict(&json, CELLS[0]);
    assert_eq!(v["time"], "regression", "{v}");
    assert_eq!(v["compared"], "paired launches");

    // A build from before the protocol rejects `__cell --lockstep` as clap does.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let old = dir.path().join("old-tapbench");
        std::fs::write(
            &old,
            "#!/bin/sh\necho \"error: unexpected argument '--lockstep' found\" >&2\nexit 2\n",
        )
        .unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
        let (out, _) = gate(dir.path(), &baseline, &old, &lockstep);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.trim().lines().last().unwrap_or("");
        assert!(
            last.starts_with("error: the baseline's build")
                && last.contains("does not support --lockstep"),
            "{stderr}"
        );
    }
}

/// Two stored smoke runs, one launch per cell: the gate cannot tell a 2x change from
/// launch-to-launch noise there, but a delay of 200 ns per operation on cells of a few
/// nanoseconds is far beyond the single-launch bound and is named as a regression, while
/// the same code against itself passes at single-launch resolution (exit 0).
#[test]
fn stored_single_launch_runs_are_judged_beyond_the_single_launch_bound() {
    let _turn = measuring();
    let dir = tempfile::tempdir().unwrap();
    let selection = [
        "--profile",
        "smoke",
        "--runtime",
        "tokio-ct,smol-local",
        "--workload",
        "value_task",
        "--variant",
        "inline",
        "--param",
        "sync_ratio=1",
    ];
    let run = |name: &str, extra: &[&str]| run_into(&dir.path().join(name), &selection, extra);
    let (a, b) = (run("a.json", &[]), run("b.json", &[]));
    let slow = run("slow.json", &["--inject-delay-ns", "200"]);
    let gate = |current: &Path, extra: &[&str]| -> (Output, serde_json::Value) {
        let out = Command::new(EXE)
            .args(["gate", "--baseline", a.to_str().unwrap()])
            .args(["--current", current.to_str().unwrap(), "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        (out, json)
    };
    let (out, json) = gate(&slow, &[]);
    assert_eq!(out.status.code(), Some(1), "{json:#}");
    for id in [
        "tokio-ct/value_task/inline/sync_ratio=1",
        "smol-local/value_task/inline/sync_ratio=1",
    ] {
        let v = verdict(&json, id);
        assert_eq!(v["time"], "regression", "{v}");
        assert!(
            v["note"].as_str().unwrap().contains("single-launch bound"),
            "{v}"
        );
    }
    let (out, json) = gate(&b, &[]);
    assert_eq!(out.status.code(), Some(0), "{json:#}");
    assert_eq!(json["regressions"], 0);
    assert_eq!(json["outcome"], "passed");
    assert_eq!(
        (json["judged"].as_u64(), json["one_launch"].as_u64()),
        (Some(2), Some(2))
    );
    for id in [
        "tokio-ct/value_task/inline/sync_ratio=1",
        "smol-local/value_task/inline/sync_ratio=1",
    ] {
        let v = verdict(&json, id);
        assert_eq!(v["time"], "unchanged", "{v}");
        // What a single launch can detect: nothing below the bound.
        let detects = v["detectable_ns"].as_f64().unwrap() / v["base_median_ns"].as_f64().unwrap();
        assert!(detects >= 3.0 - 1e-9, "{v}");
    }
}

#[test]
fn bad_gate_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small-results.json");
    let f = fixture.to_str().unwrap();
    let missing = dir.path().join("missing.json");
    for args in [
        vec![
            "gate",
            "--baseline",
            missing.to_str().unwrap(),
            "--current",
            f,
        ],
        vec![
            "gate",
            "--baseline",
            f,
            "--current",
            f,
            "--threshold",
            "lots",
        ],
        vec!["gate", "--baseline", f, "--current", f, "--noise-ns", "-1"],
        vec!["gate", "--current", f],
    ] {
        let out = Command::new(EXE).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // Disjoint files: nothing in common to judge.
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    for cell in other["cells"].as_array_mut().unwrap() {
        let id = cell["id"].as_str().unwrap().to_string();
        cell["id"] = format!("other/{id}").into();
    }
    // The same cell measured with another thread count: refused, naming the cell.
    let mut threads: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    threads["cells"][0]["threads"] = 7.into();
    let first = threads["cells"][0]["id"].as_str().unwrap().to_string();
    let other_threads = dir.path().join("threads.json");
    std::fs::write(&other_threads, threads.to_string()).unwrap();
    for command in ["gate", "compare"] {
        let args = if command == "gate" {
            vec![
                "gate",
                "--baseline",
                f,
                "--current",
                other_threads.to_str().unwrap(),
            ]
        } else {
            vec!["compare", f, other_threads.to_str().unwrap()]
        };
        let out = Command::new(EXE).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&first) && stderr.contains("different thread counts"),
            "{stderr}"
        );
    }
    let disjoint = dir.path().join("disjoint.json");
    std::fs::write(&disjoint, other.to_string()).unwrap();
    let out = Command::new(EXE)
        .args([
            "gate",
            "--baseline",
            f,
            "--current",
            disjoint.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no cell in common"));
    // The fixture against itself: its cells ran one launch each, so they are judged at
    // single-launch resolution - a pass that says so.
    let out = Command::new(EXE)
        .args(["gate", "--baseline", f, "--current", f])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("PASS: no regression in 35 judged cells; 35 of them had one launch"),
        "{stdout}"
    );
    // A cell that failed in the baseline and measures now has nothing to be judged
    // against: no regression, but not a pass either - inconclusive, exit 3 - and the
    // verdict is saved as JSON on request.
    let mut failed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    let cell = &mut failed["cells"][0];
    assert_eq!(cell["status"], "ok");
    cell["status"] = "failed".into();
    cell["error"] = "the workload's check failed".into();
    cell["time_ns_per_op"] = serde_json::Value::Null;
    let failed_path = dir.path().join("failed.json");
    std::fs::write(&failed_path, failed.to_string()).unwrap();
    let failed_path = failed_path.to_str().unwrap();
    let verdict = dir.path().join("verdict.json");
    let out = Command::new(EXE)
        .args(["gate", "--baseline", failed_path, "--current", f])
        .args(["--json-out", verdict.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("INCONCLUSIVE") && !stdout.contains("PASS"),
        "{stdout}"
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&verdict).unwrap()).unwrap();
    assert_eq!(saved["regressions"], 0);
    assert_eq!(saved["outcome"], "inconclusive");
    assert_eq!(
        (saved["judged"].as_u64(), saved["not_judged"].as_u64()),
        (Some(34), Some(1))
    );
    // CI may choose to accept it.
    let out = Command::new(EXE)
        .args(["gate", "--baseline", failed_path, "--current", f])
        .arg("--accept-inconclusive")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn export_writes_bencher_metric_format() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small-results.json");
    let out = Command::new(EXE)
        .args([
            "export",
            "--format",
            "bmf",
            "--input",
            fixture.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let bmf: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cell = &bmf["tokio-ct/value_task/inline/sync_ratio=1"];
    assert!(cell["latency"]["value"].as_f64().unwrap() > 0.0);
    assert_eq!(cell["allocations"]["value"], 0.0);
}
