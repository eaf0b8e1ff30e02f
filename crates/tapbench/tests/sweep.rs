//! `tapbench sweep` end to end: bad sweeps get one line and exit code 2 before anything
//! runs, and a small real sweep of `interleave` finds the growth its two variants are known
//! for - `repeated_select` quadratic in `n`, `futures_unordered` linear - in the results
//! file and in the report.

use std::path::Path;
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

fn tapbench(args: &[&str]) -> Output {
    Command::new(EXE)
        .args(args)
        .env_remove("TAPBENCH_TEST_FAULTS")
        .output()
        .unwrap()
}

/// Exit code 2, one `error:` line on stderr naming `expect`, no panic.
#[track_caller]
fn assert_bad_input(out: &Output, expect: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "a panic reached the user: {err}");
    let lines: Vec<_> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(err.contains(expect), "expected `{expect}` in: {err}");
}

#[test]
fn bad_sweeps_get_one_line_and_exit_2_and_run_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            "--profile",
            "smoke",
            "--runtime",
            "tokio-ct",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        tapbench(&args)
    };
    let interleave = |params: &[&str]| {
        let mut args = vec!["--workload", "interleave"];
        for p in params {
            args.extend(["--param", p]);
        }
        sweep(&args)
    };
    assert_bad_input(&interleave(&["n=10,0,100"]), "parameter `n`");
    assert_bad_input(&interleave(&["n=10,ten"]), "parameter `n`");
    assert_bad_input(&interleave(&["n=10,5000000"]), "parameter `n`");
    assert_bad_input(&interleave(&["n=10,,100"]), "empty value");
    assert_bad_input(&interleave(&["n=10,100,10"]), "10 is listed twice");
    assert_bad_input(&interleave(&["zzz=1,2"]), "`zzz`");
    assert_bad_input(&interleave(&["n=10"]), "nothing to sweep");
    assert_bad_input(&interleave(&[]), "nothing to sweep");
    assert_bad_input(
        &sweep(&[
            "--workload",
            "when_all",
            "--param",
            "n=10,100",
            "--param",
            "op=ready,yield",
        ]),
        "`n` and `op` both list several values",
    );
    assert_bad_input(
        &sweep(&["--workload", "interleave,when_any", "--param", "n=10,100"]),
        "`when_any` has no parameter `n`",
    );
    assert_bad_input(&sweep(&["--param", "n=10,100"]), "needs --workload");
    assert_bad_input(
        &sweep(&["--workload", "interleave", "--threads", "1,0"]),
        "--threads",
    );
    assert_bad_input(
        &sweep(&["--workload", "interleave", "--threads", "2,2"]),
        "lists 2 twice",
    );
    assert_bad_input(
        &sweep(&["--workload", "nope", "--param", "n=10,100"]),
        "unknown workload `nope`",
    );
    assert!(!out.exists(), "a refused sweep wrote a results file");
}

#[test]
fn the_help_shows_the_sweep_and_an_example() {
    let out = tapbench(&["sweep", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for expect in [
        "--param",
        "--threads",
        "--workload",
        "n=10,100,1000",
        "--resume",
    ] {
        assert!(help.contains(expect), "`{expect}` missing from: {help}");
    }
}

/// The least-squares slope of ln(time) against ln(n).
fn fitted_exponent(points: &[(f64, f64)]) -> f64 {
    let logs: Vec<(f64, f64)> = points.iter().map(|(x, y)| (x.ln(), y.ln())).collect();
    let n = logs.len() as f64;
    let mx = logs.iter().map(|p| p.0).sum::<f64>() / n;
    let my = logs.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = logs.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = logs.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    sxy / sxx
}

/// The fastest sample of a cell, ns per operation. Whatever else runs on the machine only
/// adds time, so on a loaded machine the least disturbed sample of each point gives the
/// slope; the medians (what the report fits) move with the load of the moment.
fn fastest_of(cells: &[serde_json::Value], id: &str) -> f64 {
    let cell = cells
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no cell {id}"));
    assert_eq!(cell["status"], "ok", "{cell}");
    cell["time_ns_per_op"]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .fold(f64::INFINITY, f64::min)
}

/// `repeated_select` polls every remaining operation on each of the n wake-ups: about n^2;
/// `futures_unordered` polls only what was woken: about n. Small sizes, wide margins, and
/// the fastest of each point's 30 samples (three launches of ten): with both cores of a
/// 2-core machine kept busy by two other processes, the slopes of the medians ranged from
/// 0.74 to 1.23 for `futures_unordered`; those of the fastest samples stayed at 1.00-1.01
/// (and 1.90-1.93 for `repeated_select`).
#[test]
fn a_small_sweep_of_interleave_grows_quadratically_and_linearly() {
    let _turn = measuring();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sweep.json");
    let runtimes = ["tokio-ct", "smol-local"];
    let out = tapbench(&[
        "sweep",
        "--workload",
        "interleave",
        "--param",
        "n=50,200,800",
        "--runtime",
        &runtimes.join(","),
        "--profile",
        "smoke",
        "--launches",
        "3",
        "--out",
        path.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(results["sweep"]["param"], "n");
    assert_eq!(
        results["sweep"]["values"],
        serde_json::json!(["50", "200", "800"])
    );
    let cells = results["cells"].as_array().unwrap();
    assert_eq!(cells.len(), runtimes.len() * 2 * 3);
    for rt in runtimes {
        let k = |variant: &str| {
            let points: Vec<(f64, f64)> = [50.0, 200.0, 800.0]
                .iter()
                .map(|n| {
                    (
                        *n,
                        fastest_of(cells, &format!("{rt}/interleave/{variant}/n={n}")),
                    )
                })
                .collect();
            let k = fitted_exponent(&points);
            eprintln!("{rt} {variant}: k = {k:.2} from {points:?}");
            k
        };
        let quadratic = k("repeated_select");
        assert!(
            (1.5..2.6).contains(&quadratic),
            "{rt} repeated_select: k = {quadratic}"
        );
        let linear = k("futures_unordered");
        assert!(
            (0.6..1.4).contains(&linear),
            "{rt} futures_unordered: k = {linear}"
        );
    }
    // The report says it is a sweep and fits the same exponents.
    let report = std::fs::read_to_string(dir.path().join("sweep-report/report.md")).unwrap();
    assert!(report.contains("### Cost against n (swept)"), "{report}");
    assert!(report.contains("n over 50, 200, 800"), "{report}");
    assert!(report.contains("### Growth with n"), "{report}");
    assert!(Path::new(&dir.path().join("sweep-report/report.html")).exists());
}

/// A sweep of threads: a multi-threaded runtime's cells at two counts are two cells with ids
/// of their own, a single-threaded runtime's once; resuming with the same flags finds
/// nothing to add, and resuming with other thread counts is refused.
#[test]
fn a_sweep_of_threads_keeps_the_counts_apart_and_resumes() {
    let _turn = measuring();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("threads.json");
    let flags = |threads: &str| {
        vec![
            "sweep".to_string(),
            "--workload=interleave".into(),
            "--variant=repeated_select".into(),
            "--param=n=10".into(),
            "--runtime=tokio-mt,tokio-ct".into(),
            format!("--threads={threads}"),
            "--profile=smoke".into(),
        ]
    };
    let with = |threads: &str, extra: &[&str]| {
        let mut args = flags(threads);
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        tapbench(&args)
    };
    let out = with("1,2", &["--out", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("tokio-ct: single-threaded, measured once"),
        "{err}"
    );
    let read = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    };
    let results = read();
    assert_eq!(results["sweep"]["threads"], serde_json::json!([1, 2]));
    let ids: Vec<(String, u64)> = results["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["threads"].as_u64().unwrap(),
            )
        })
        .collect();
    let want = [
        ("tokio-mt/interleave/repeated_select/n=10/threads=1", 1),
        ("tokio-mt/interleave/repeated_select/n=10/threads=2", 2),
        ("tokio-ct/interleave/repeated_select/n=10", 1),
    ];
    assert_eq!(ids.len(), want.len(), "{ids:?}");
    for (id, threads) in want {
        assert!(
            ids.contains(&(id.to_string(), threads)),
            "{id} not in {ids:?}"
        );
    }
    let report = std::fs::read_to_string(dir.path().join("threads-report/report.md")).unwrap();
    assert!(
        report.contains("### Cost against threads (swept)"),
        "{report}"
    );

    let resumed = with("1,2", &["--resume", path.to_str().unwrap(), "--no-report"]);
    let err = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{err}");
    assert!(err.contains("3 cells already measured, 0 to run"), "{err}");
    assert_eq!(read()["cells"].as_array().unwrap().len(), 3);

    let other = with("1,4", &["--resume", path.to_str().unwrap()]);
    assert_bad_input(&other, "holds a sweep of threads over 1, 2");
}
