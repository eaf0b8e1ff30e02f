//! The counting allocator against an external tool: valgrind's DHAT counts every heap block
//! the process allocates. Running the probe with two call counts, the difference of DHAT's
//! block totals must equal the difference of the counter's totals (the calls' own
//! allocations, made on a tokio worker thread), so the counter misses nothing a real heap
//! profiler sees. Skipped, with a message, when valgrind is not installed.

use std::process::Command;

const PROBE: &str = env!("CARGO_BIN_EXE_alloc-probe");

/// `(counted allocations, DHAT blocks)` of one probe run under DHAT.
fn run_under_dhat(calls: u64) -> (u64, u64) {
    let dir = tempfile_dir();
    let out_file = dir.join(format!("dhat-{calls}.json"));
    let out = Command::new("valgrind")
        .arg("--tool=dhat")
        .arg(format!("--dhat-out-file={}", out_file.display()))
        .arg(PROBE)
        .arg(calls.to_string())
        .output()
        .expect("valgrind runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "probe under DHAT failed: {stderr}");
    let counted = stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix("counted_allocs="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no count in: {stdout}"));
    // "==123== Total:     1,234 bytes in 56 blocks"
    let blocks = stderr
        .lines()
        .find(|l| l.contains("Total:"))
        .and_then(|l| l.split(" in ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .map(|n| n.replace(',', ""))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no DHAT total in: {stderr}"));
    (counted, blocks)
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tapbench-dhat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn counter_agrees_with_dhat() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("skipped: valgrind is not installed (apt-get install valgrind)");
        return;
    }
    let (counted_small, dhat_small) = run_under_dhat(1_000);
    let (counted_large, dhat_large) = run_under_dhat(5_000);
    let counted = counted_large as i64 - counted_small as i64;
    let dhat = dhat_large as i64 - dhat_small as i64;
    eprintln!(
        "1000 calls: counted {counted_small}, DHAT {dhat_small} blocks; 5000 calls: counted \
         {counted_large}, DHAT {dhat_large} blocks; differences: counted {counted}, DHAT {dhat}"
    );
    // 4000 more boxed calls: 4000 more allocations, give or take a few made by the runtime
    // itself (a worker parking one more time, say) in one run and not the other.
    assert!(
        (counted - 4000).abs() <= 40,
        "the counter saw {counted} more allocations"
    );
    assert!(
        (dhat - counted).abs() <= 40,
        "DHAT saw {dhat} more blocks, the counter {counted}"
    );
    // DHAT also sees the C library's own allocations, which bypass Rust's allocator.
    assert!(
        counted_small <= dhat_small,
        "{counted_small} counted > {dhat_small} in DHAT"
    );
    let _ = std::fs::remove_dir_all(tempfile_dir());
}
