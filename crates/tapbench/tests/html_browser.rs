//! The HTML report in a real browser: the fixture's report, rendered by the binary, loaded by
//! `scripts/check-html-report.sh` in headless Chromium (installed by the script when absent
//! and possible), must show no console error, request nothing outside the file and show
//! every chart. Where no browser can be had, the script says "skipped: ..." and so does
//! this test, which then passes.
//!
//! `TAPBENCH_REPORT_SCREENSHOT=FILE.png` also keeps a full-page screenshot to look at.

use std::path::{Path, PathBuf};
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_tapbench");

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small-results.json")
}

fn check_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check-html-report.sh")
}

#[test]
fn the_html_report_loads_in_a_browser_without_errors_and_shows_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(EXE)
        .args(["report", "--input"])
        .arg(fixture())
        .arg("--out-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tapbench report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = dir.path().join("report.html");
    let html = std::fs::read_to_string(&report).unwrap();
    let charts = html.matches("<svg").count();
    assert!(charts > 0, "the fixture's report has no chart");

    let mut check = Command::new("bash");
    check
        .arg(check_script())
        .arg(&report)
        .args(["--min-charts", &charts.to_string()]);
    if let Some(shot) = std::env::var_os("TAPBENCH_REPORT_SCREENSHOT") {
        check.arg("--screenshot").arg(shot);
    }
    let out = check.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if let Some(line) = stdout.lines().find(|l| l.starts_with("skipped:")) {
        println!("browser check {line}");
        assert!(out.status.success());
        return;
    }
    assert!(
        out.status.success(),
        "the browser check failed (exit {:?}):\n{stdout}\n{stderr}",
        out.status.code()
    );
    assert!(stdout.contains(&format!("{charts} charts")), "{stdout}");
    assert!(stdout.contains("ok: no console errors"), "{stdout}");
}
