//! The `tapbench` binary end to end: bad input gets one line and exit code 2, misbehaving
//! cells end as `timeout` or `failed` while the run goes on, a killed or interrupted run
//! leaves a valid results file that `--resume` completes, and no damaged results file makes
//! a reader panic.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_tapbench");

fn tapbench(args: &[&str]) -> Output {
    Command::new(EXE)
        .args(args)
        .env_remove("TAPBENCH_TEST_FAULTS")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit code 2, one `error:` line on stderr, no panic.
#[track_caller]
fn assert_bad_input(out: &Output, expect: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "a panic reached the user: {err}");
    let lines: Vec<_> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(err.contains(expect), "expected `{expect}` in: {err}");
    // Each cause once: "x.json: cannot read: No such file or directory (os error 2)", not
    // the OS error twice.
    let clauses: Vec<&str> = lines[0].split(": ").collect();
    for pair in clauses.windows(2) {
        assert_ne!(pair[0], pair[1], "a cause repeats itself: {err}");
    }
}

fn results(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn cells(path: &Path) -> Vec<serde_json::Value> {
    results(path)["cells"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn cell<'a>(cells: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    cells
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no cell {id}"))
}

#[test]
fn bad_command_lines_get_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let out = out.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--profile", "smoke", "--out", out];
        args.extend_from_slice(extra);
        tapbench(&args)
    };
    assert_bad_input(
        &run(&["--runtime", "tokyo-mt"]),
        "unknown runtime `tokyo-mt`",
    );
    assert_bad_input(
        &run(&["--workload", "when_any_of"]),
        "unknown workload `when_any_of`",
    );
    assert_bad_input(
        &run(&["--workload", "noop", "--variant", "join_all"]),
        "unknown variant",
    );
    assert_bad_input(&run(&["--param", "n=0"]), "parameter `n`");
    assert_bad_input(&run(&["--param", "n=lots"]), "parameter `n`");
    assert_bad_input(
        &run(&["--param", "sync_ratio=1.5"]),
        "parameter `sync_ratio`",
    );
    assert_bad_input(
        &run(&["--param", "fanout=3"]),
        "no selected workload has a parameter",
    );
    assert_bad_input(
        &run(&["--workload", "noop", "--param", "n=5"]),
        "parameter `n`",
    );
    assert_bad_input(
        &run(&["--workload", "when_all", "--param", "n=4000000000"]),
        "needs about",
    );
    // A workload whose range stops below it says so first.
    assert_bad_input(&run(&["--param", "n=4000000000"]), "parameter `n`");
    assert_bad_input(&tapbench(&["run", "--profile", "fast"]), "possible values");
    assert_bad_input(&run(&["--threads", "0"]), "--threads");
    assert_bad_input(&run(&["--cell-timeout", "soon"]), "--cell-timeout");
    assert_bad_input(&tapbench(&["run", "--bogus"]), "--bogus");
    assert_bad_input(&tapbench(&["frobnicate"]), "frobnicate");
    assert!(
        !Path::new(out).exists(),
        "nothing runs, nothing is written on bad input"
    );

    // An output path that cannot be written.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let under_file = file.join("r.json");
    assert_bad_input(
        &tapbench(&[
            "run",
            "--workload",
            "noop",
            "--out",
            under_file.to_str().unwrap(),
        ]),
        "plain-file",
    );
    assert_bad_input(
        &tapbench(&[
            "run",
            "--workload",
            "noop",
            "--out",
            dir.path().to_str().unwrap(),
        ]),
        "is a directory",
    );
}

#[test]
fn unreadable_results_files_get_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let missing = path("missing.json");
    assert_bad_input(
        &tapbench(&["show", missing.to_str().unwrap()]),
        "missing.json",
    );
    assert_bad_input(
        &tapbench(&["run", "--resume", missing.to_str().unwrap()]),
        "missing.json: cannot read",
    );
    let cases = [
        ("empty.json", "", "not valid JSON"),
        ("text.json", "hello", "not valid JSON"),
        ("array.json", "[1, 2]", "schema_version"),
        (
            "future.json",
            r#"{"schema_version": 6, "cells": []}"#,
            "unknown schema_version 6",
        ),
        (
            "old.json",
            r#"{"schema_version": 0}"#,
            "unknown schema_version 0",
        ),
    ];
    for (name, text, expect) in cases {
        std::fs::write(path(name), text).unwrap();
        assert_bad_input(&tapbench(&["show", path(name).to_str().unwrap()]), expect);
        assert_bad_input(&tapbench(&["show", path(name).to_str().unwrap()]), name);
    }
}

/// A small real results file: noop on two runtimes.
fn small_results(dir: &Path) -> PathBuf {
    let path = dir.join("small.json");
    let out = tapbench(&[
        "run",
        "--profile",
        "smoke",
        "--workload",
        "noop",
        "--runtime",
        "tokio-ct,smol-local",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    path
}

#[test]
fn hand_edited_files_name_the_field_and_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_results(dir.path());
    let mut value = results(&path);
    value["cells"][1]
        .as_object_mut()
        .unwrap()
        .remove("verified");
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, serde_json::to_string(&value).unwrap()).unwrap();
    let out = tapbench(&["show", edited.to_str().unwrap()]);
    assert_bad_input(&out, "missing field `verified`");
    assert_bad_input(&out, "cell 1 (`smol-local/noop/batch`)");

    let mut value = results(&path);
    value["cells"][0]["status"] = "great".into();
    std::fs::write(&edited, serde_json::to_string(&value).unwrap()).unwrap();
    assert_bad_input(
        &tapbench(&["show", edited.to_str().unwrap()]),
        "unknown variant `great`",
    );
}

#[test]
fn damaged_results_files_never_make_a_reader_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_results(dir.path());
    let original = std::fs::read(&path).unwrap();
    let damaged = dir.path().join("damaged.json");
    let mut variants: Vec<Vec<u8>> = Vec::new();
    // Truncated at many points.
    let step = (original.len() / 60).max(1);
    for cut in (0..original.len()).step_by(step) {
        variants.push(original[..cut].to_vec());
    }
    // Single bytes replaced by characters that break JSON or change values.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..60 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut bytes = original.clone();
        let at = (seed as usize) % bytes.len();
        bytes[at] = b"\"{}[],:-9x0 \n"[(seed >> 32) as usize % 13];
        variants.push(bytes);
    }
    // Values of the wrong type, negative, huge or null, field by field.
    let value = results(&path);
    let fields = ["schema_version", "profile", "env", "cells", "created_at"];
    let cell_fields = [
        "status",
        "params",
        "ops",
        "time_ns_per_op",
        "latency_ns",
        "threads",
        "id",
    ];
    for replacement in [
        serde_json::json!(null),
        serde_json::json!(-1),
        serde_json::json!("x"),
    ] {
        for field in fields {
            let mut v = value.clone();
            v[field] = replacement.clone();
            variants.push(serde_json::to_vec(&v).unwrap());
        }
        for field in cell_fields {
            let mut v = value.clone();
            v["cells"][0][field] = replacement.clone();
            variants.push(serde_json::to_vec(&v).unwrap());
        }
    }
    let mut rejected = 0;
    for bytes in &variants {
        std::fs::write(&damaged, bytes).unwrap();
        let damaged = damaged.to_str().unwrap();
        // `--resume` with the same selection as the file: a valid file has nothing to run.
        let readers: [&[&str]; 2] = [
            &["show", damaged],
            &[
                "run",
                "--workload",
                "noop",
                "--runtime",
                "tokio-ct,smol-local",
                "--resume",
                damaged,
            ],
        ];
        for args in readers {
            let out = tapbench(args);
            let err = stderr(&out);
            assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
            match out.status.code() {
                Some(0) => {}
                Some(2) => {
                    rejected += 1;
                    assert_bad_input(&out, "damaged.json");
                }
                other => panic!("{args:?} exited with {other:?}: {err}"),
            }
        }
    }
    assert!(
        rejected > variants.len(),
        "most damaged files must be refused ({rejected})"
    );
}

fn spawn_run(args: &[&str]) -> Child {
    Command::new(EXE)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the results file at `path` holds at least `n` cells.
fn wait_for_cells(path: &Path, n: usize, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let count = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["cells"].as_array().map(|c| c.len()))
            .unwrap_or(0);
        if count >= n {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before {n} cells"
        );
        assert!(Instant::now() < deadline, "no {n} cells after two minutes");
        std::thread::sleep(Duration::from_millis(20));
    }
}

const SELECTION: [&str; 8] = [
    "--profile",
    "smoke",
    "--workload",
    "value_task",
    "--runtime",
    "tokio-ct,smol-local",
    "--variant",
    "inline,boxed",
];
const SELECTED_CELLS: usize = 16;

fn assert_complete(path: &Path) {
    let cells = cells(path);
    assert_eq!(cells.len(), SELECTED_CELLS);
    let mut ids: Vec<_> = cells
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        SELECTED_CELLS,
        "a resumed cell was measured twice"
    );
    assert!(cells
        .iter()
        .all(|c| c["status"] == "ok" && c["verified"] == true));
}

/// Resumes the run in `path` with the selection it was started with, and checks that it
/// completed.
fn resume(path: &Path) -> Output {
    let mut args = vec!["run", "--resume", path.to_str().unwrap()];
    args.extend_from_slice(&SELECTION[2..]);
    let resumed = tapbench(&args);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_complete(path);
    resumed
}

#[test]
fn a_run_killed_halfway_leaves_a_valid_file_that_resume_completes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.json");
    let mut args = vec!["run", "--out", path.to_str().unwrap()];
    args.extend_from_slice(&SELECTION);
    let mut child = spawn_run(&args);
    wait_for_cells(&path, 3, &mut child);
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();

    let show = tapbench(&["show", path.to_str().unwrap()]);
    assert!(show.status.success(), "{}", stderr(&show));
    let kept = cells(&path).len();
    assert!((3..SELECTED_CELLS).contains(&kept), "{kept} cells survived");

    let resumed = resume(&path);
    assert!(stderr(&resumed).contains(&format!("{kept} cells already measured")));
}

/// Launches of a cell: the length of its launch medians, or one.
fn launches_of(cell: &serde_json::Value) -> usize {
    cell["time_ns_per_op"]["launch_medians"]
        .as_array()
        .map_or(1, |m| m.len())
}

#[test]
fn launches_run_pass_by_pass_and_resume_completes_the_missing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("launches.json");
    let mut args = vec!["run", "--out", path.to_str().unwrap(), "--launches", "3"];
    args.extend_from_slice(&SELECTION);
    let mut child = spawn_run(&args);
    wait_for_cells(&path, SELECTED_CELLS, &mut child);
    // Kill the run in its second pass.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !cells(&path).iter().any(|c| launches_of(c) == 2) {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(
            Instant::now() < deadline,
            "no second launch after two minutes"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // Pass by pass: in file order, launch counts never rise and differ by at most one.
    let partial: Vec<usize> = cells(&path).iter().map(launches_of).collect();
    assert!(
        partial.windows(2).all(|w| w[0] >= w[1]) && partial[0] <= partial[partial.len() - 1] + 1,
        "launches not taken pass by pass: {partial:?}"
    );
    assert!(partial.iter().any(|&n| n < 3));
    assert_eq!(results(&path)["launches"], 3);

    let p = path.to_str().unwrap();
    assert_bad_input(
        &tapbench(&["run", "--resume", p, "--launches", "2"]),
        "conflicting",
    );
    resume(&path);
    for cell in cells(&path) {
        assert_eq!(launches_of(&cell), 3, "{cell}");
        // Ten smoke samples per launch, pooled; the allocation samples likewise; one
        // machine-speed probe time per launch.
        let t = &cell["time_ns_per_op"];
        assert_eq!(t["samples"].as_array().unwrap().len(), 30, "{cell}");
        assert_eq!(cell["allocs_per_op_samples"].as_array().unwrap().len(), 30);
        assert_eq!(t["probe_ns"].as_array().unwrap().len(), 3, "{cell}");
    }
}

#[test]
fn ctrl_c_stops_after_the_current_cell_saves_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("interrupted.json");
    let mut args = vec!["run", "--out", path.to_str().unwrap()];
    args.extend_from_slice(&SELECTION);
    let mut child = spawn_run(&args);
    wait_for_cells(&path, 2, &mut child);
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("--resume"), "{err}");
    let kept = cells(&path);
    assert!((2..SELECTED_CELLS).contains(&kept.len()));
    assert!(
        kept.iter().all(|c| c["status"] == "ok"),
        "the current cell finished normally"
    );
    // Every launch that finished (one progress line each) is in the file.
    assert_eq!(kept.len(), finished_launches(&err), "{err}");

    // Conflicting flags are refused before anything runs.
    let p = path.to_str().unwrap();
    assert_bad_input(&tapbench(&["run", "--resume", p, "--out", p]), "--out");
    assert_bad_input(
        &tapbench(&["run", "--resume", p, "--profile", "quick"]),
        "conflicting",
    );
    assert_bad_input(
        &tapbench(&["run", "--resume", p, "--threads", "7"]),
        "conflicting",
    );

    resume(&path);
}

/// Launches a run reported finished on stderr: one progress line each.
fn finished_launches(stderr: &str) -> usize {
    stderr.lines().filter(|l| l.starts_with('[')).count()
}

#[test]
fn ctrl_c_keeps_every_finished_launch_of_a_multi_launch_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("interrupted.json");
    let mut args = vec!["run", "--out", path.to_str().unwrap(), "--launches", "3"];
    args.extend_from_slice(&SELECTION);
    let mut child = spawn_run(&args);
    // The file is saved once a second, not after every launch: wait for the first save
    // that holds a launch, then interrupt the run between two saves.
    wait_for_cells(&path, 1, &mut child);
    std::thread::sleep(Duration::from_millis(300));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    let saved: usize = cells(&path).iter().map(launches_of).sum();
    assert_eq!(saved, finished_launches(&err), "{err}");
    assert!(
        saved < 3 * SELECTED_CELLS,
        "the run was not interrupted: {err}"
    );
}

#[test]
fn hanging_and_panicking_cells_are_recorded_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("faults.json");
    let out = Command::new(EXE)
        .args(["run", "--profile", "smoke", "--runtime", "tokio-mt,smol-mt"])
        .args(["--workload", "fault,noop", "--cell-timeout", "2"])
        .args(["--out", path.to_str().unwrap()])
        .env("TAPBENCH_TEST_FAULTS", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "failed cells make the run exit 2"
    );
    assert!(stderr(&out).contains("failed or timed out"));
    let cells = cells(&path);
    assert_eq!(cells.len(), 10, "every cell is recorded");
    for rt in ["tokio-mt", "smol-mt"] {
        for hang in ["hang", "hang_blocking"] {
            let c = cell(&cells, &format!("{rt}/fault/{hang}"));
            assert_eq!(c["status"], "timeout");
            assert!(c["error"].as_str().unwrap().contains("time budget of 2 s"));
            assert_eq!(c["verified"], false);
        }
        let panicked = cell(&cells, &format!("{rt}/fault/panic"));
        assert_eq!(panicked["status"], "failed");
        assert!(panicked["error"]
            .as_str()
            .unwrap()
            .contains("panicked on purpose"));
        let wrong = cell(&cells, &format!("{rt}/fault/wrong_answer"));
        assert_eq!(wrong["status"], "failed");
        assert!(wrong["error"]
            .as_str()
            .unwrap()
            .contains("expected 42, saw 41"));
        let noop = cell(&cells, &format!("{rt}/noop/batch"));
        assert_eq!(noop["status"], "ok", "cells after the faults still run");
        assert_eq!(noop["verified"], true);
    }
}

#[test]
fn results_files_have_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pc.json");
    let out = tapbench(&[
        "run",
        "--profile",
        "smoke",
        "--runtime",
        "smol-mt",
        "--workload",
        "producer_consumer,when_all",
        "--variant",
        "tcs_queue,native",
        "--param",
        "producers=1",
        "--param",
        "n=10",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = results(&path);
    for field in [
        "schema_version",
        "tool_version",
        "created_at",
        "profile",
        "env",
        "cells",
    ] {
        assert!(!v[field].is_null(), "missing {field}");
    }
    assert_eq!(v["schema_version"], 5);
    for field in ["os", "cpu_model", "logical_cpus", "rustc", "runtime_crates"] {
        assert!(!v["env"][field].is_null(), "missing env.{field}");
    }
    assert!(v["env"]["runtime_crates"]["smol"].is_string());
    let cells = v["cells"].as_array().unwrap();
    let measured = cells
        .iter()
        .find(|c| c["workload"] == "producer_consumer")
        .unwrap();
    assert_eq!(measured["status"], "ok");
    assert_eq!(measured["verified"], true);
    assert!(measured["error"].is_null());
    assert!(measured["ops"].as_u64().unwrap() >= 1000);
    let t = &measured["time_ns_per_op"];
    for field in ["median", "ci95_low", "ci95_high", "cv"] {
        assert!(t[field].as_f64().is_some(), "time_ns_per_op.{field}");
    }
    assert_eq!(t["samples"].as_array().unwrap().len(), 10);
    assert_eq!(t["probe_ns"].as_array().unwrap().len(), 1);
    assert!(measured["throughput_ops_per_s"].as_f64().unwrap() > 0.0);
    assert!(measured["allocs_per_op"].as_f64().is_some());
    assert!(measured["marginal_allocs_per_op"].as_f64().is_some());
    assert!(measured["bytes_per_op"].as_f64().is_some());
    for field in ["p50", "p90", "p99", "p999", "max", "count"] {
        assert!(
            measured["latency_ns"][field].as_u64().is_some(),
            "latency_ns.{field}"
        );
    }
    let skipped = cells.iter().find(|c| c["variant"] == "native").unwrap();
    assert_eq!(skipped["status"], "skipped");
    assert!(skipped["error"]
        .as_str()
        .unwrap()
        .contains("no task-set type"));
    assert!(skipped["latency_ns"].is_null() && skipped["time_ns_per_op"].is_null());
}

/// A reader that stops early (`tapbench show FILE | head -1`) closes the pipe: the command
/// ends quietly with exit 0, without a panic.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    // A table far larger than a pipe's buffer, so the writer is still writing when the
    // reader goes away.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small-results.json");
    let mut big: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let cells = big["cells"].as_array().unwrap().clone();
    let mut many = Vec::new();
    for copy in 0..100 {
        for cell in &cells {
            let mut cell = cell.clone();
            let id = format!("{}/copy={copy}", cell["id"].as_str().unwrap());
            cell["id"] = id.into();
            many.push(cell);
        }
    }
    big["cells"] = many.into();
    let path = dir.path().join("big.json");
    std::fs::write(&path, big.to_string()).unwrap();
    for args in [
        vec!["show", path.to_str().unwrap()],
        vec!["compare", path.to_str().unwrap(), path.to_str().unwrap()],
    ] {
        let mut child = Command::new(EXE)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{args:?}");
        // The reader (and with it the pipe) is gone here.
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.trim().is_empty(), "{args:?}: {err}");
    }
}

/// `compare` and `gate` write the threshold the same way, as the percentage given.
#[test]
fn compare_and_gate_write_the_threshold_as_a_percentage() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small-results.json");
    let f = fixture.to_str().unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        let out = tapbench(args);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    };
    let compared = json(&["compare", f, f, "--threshold", "7", "--format", "json"]);
    let gated = json(&[
        "gate",
        "--baseline",
        f,
        "--current",
        f,
        "--threshold",
        "7",
        "--format",
        "json",
    ]);
    assert_eq!(compared["policy"]["threshold_pct"], 7.0, "{compared:#}");
    assert_eq!(gated["options"]["threshold_pct"], 7.0, "{gated:#}");
}

/// Latency percentiles of a cell measured in ten launches cover all ten: the launches'
/// histograms are merged, not the first one kept.
#[test]
fn latency_percentiles_cover_every_launch() {
    let dir = tempfile::tempdir().unwrap();
    let measure = |launches: &str| -> serde_json::Value {
        let path = dir.path().join(format!("pc-{launches}.json"));
        let out = tapbench(&[
            "run",
            "--profile",
            "smoke",
            "--runtime",
            "tokio-ct",
            "--workload",
            "producer_consumer",
            "--variant",
            "tcs_queue",
            "--param",
            "producers=1",
            "--param",
            "consumers=1",
            "--param",
            "bounded=false",
            "--launches",
            launches,
            "--no-report",
            "--out",
            path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let cells = cells(&path);
        assert_eq!(cells.len(), 1, "{cells:?}");
        cells[0].clone()
    };
    let one = measure("1");
    let ten = measure("10");
    let count = |cell: &serde_json::Value| cell["latency_ns"]["count"].as_u64().unwrap();
    // Each launch records about as many latencies as the single one (batch sizes differ a
    // little from launch to launch): ten launches hold far more than five launches' worth.
    assert!(
        count(&ten) > 5 * count(&one),
        "{} vs {}",
        count(&ten),
        count(&one)
    );
    assert_eq!(
        ten["time_ns_per_op"]["launch_medians"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    // The merged histogram is in the file, and holds what the percentiles say.
    assert!(ten["latency_histogram"]
        .as_str()
        .is_some_and(|h| h.len() > 16));
    let p = &ten["latency_ns"];
    assert!(p["p50"].as_u64() <= p["p99"].as_u64() && p["p99"].as_u64() <= p["max"].as_u64());
}
