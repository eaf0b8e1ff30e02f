//! Records, at build time, what the results file's `env` reports about the build: the rustc
//! version, the git commit, and the crate versions of `Cargo.lock` (the binary keeps those
//! of the crates the runtime registry names).

use std::path::Path;
use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = command_line(&rustc, &["--version"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=TAPBENCH_RUSTC_VERSION={rustc_version}");

    let commit = command_line("git", &["rev-parse", "--short=12", "HEAD"]).unwrap_or_default();
    let dirty = command_line("git", &["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|s| !s.is_empty());
    let commit = if commit.is_empty() || !dirty {
        commit
    } else {
        format!("{commit}-dirty")
    };
    println!("cargo:rustc-env=TAPBENCH_GIT_COMMIT={commit}");

    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let lock = Path::new(&manifest_dir).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let versions = std::fs::read_to_string(&lock)
        .map(|s| lock_versions(&s))
        .unwrap_or_default();
    println!("cargo:rustc-env=TAPBENCH_LOCKED_CRATES={versions}");

    let git_dir = Path::new(&manifest_dir).join("../../.git");
    if git_dir.exists() {
        println!("cargo:rerun-if-changed={}", git_dir.join("HEAD").display());
        println!("cargo:rerun-if-changed={}", git_dir.join("index").display());
    }
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `name=version` pairs, comma-separated, for every package of the lock file.
fn lock_versions(lock: &str) -> String {
    let mut found = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let Some(v) = line.strip_prefix("version = ") {
            if let Some(n) = name.take() {
                found.push(format!("{n}={}", v.trim_matches('"')));
            }
        }
    }
    found.join(",")
}
