//! What the results file records about the machine and build, and about what could have
//! disturbed the run (load average, CPU frequency governor, logical CPUs vs threads used).
//! Reads only system files under `/proc`, `/sys` and `/etc`, never results files.

use std::collections::BTreeMap;

use crate::results::Env;

/// Captures the environment of a run using `threads` worker threads.
pub fn capture(threads: usize) -> Env {
    Env {
        os: os_description(),
        cpu_model: cpu_model().unwrap_or_else(|| "unknown".into()),
        logical_cpus: logical_cpus(),
        threads,
        rustc: env!("TAPBENCH_RUSTC_VERSION").to_string(),
        git_commit: Some(env!("TAPBENCH_GIT_COMMIT").to_string()).filter(|c| !c.is_empty()),
        runtime_crates: runtime_crates(),
        load_average: load_average(),
        cpu_governor: read_trimmed("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
    }
}

/// Logical CPUs available to this process.
pub fn logical_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Memory available to new processes (`MemAvailable` of `/proc/meminfo`), when readable.
pub fn available_memory_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn os_description() -> String {
    let distro = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        });
    let kernel = read_trimmed("/proc/sys/kernel/osrelease");
    let mut parts = vec![format!(
        "{} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )];
    parts.extend(distro);
    parts.extend(kernel.map(|k| format!("kernel {k}")));
    parts.join(", ")
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

fn load_average() -> Option<[f64; 3]> {
    let text = read_trimmed("/proc/loadavg")?;
    let mut it = text.split_whitespace().map(|v| v.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// The locked versions of the crates the runtime registry's configurations are made of.
fn runtime_crates() -> BTreeMap<String, String> {
    let wanted = tapbench_runtimes::crates();
    env!("TAPBENCH_LOCKED_CRATES")
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, _)| wanted.contains(name))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn records_the_runtime_crates_of_the_build() {
        let env = super::capture(2);
        assert!(
            env.runtime_crates.contains_key("tokio"),
            "{:?}",
            env.runtime_crates
        );
        for name in tapbench_runtimes::crates() {
            assert!(
                env.runtime_crates.contains_key(name),
                "{name} is not recorded: {:?}",
                env.runtime_crates
            );
        }
        assert!(env.rustc.starts_with("rustc "));
        assert!(env.logical_cpus >= 1);
    }
}
