//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::plan::Profile;

/// Benchmark the .NET Task-based Asynchronous Pattern, re-created in Rust, across async
/// runtimes: time, allocations and latency per operation.
#[derive(Debug, Parser)]
#[command(name = "tapbench", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List runtime configurations, workloads, variants and parameters.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// Measure the matrix (or a selection of it) and write a results file.
    Run(RunArgs),
    /// Measure cost along one parameter (`--param n=10,100,1000`) or along worker threads
    /// (`--threads 1,2,4`) into one results file; its report fits each line's growth.
    Sweep(SweepArgs),
    /// Render a results file as report.md, report.html and report.csv (reads the file only).
    Report(ReportArgs),
    /// Compare two results files cell by cell: ratio of medians, rank test, allocations.
    Compare(CompareArgs),
    /// Gate a run against a baseline: exit 1 when a cell regressed in time or allocations.
    Gate(GateArgs),
    /// Export a results file for other tools (`--format bmf`: Bencher Metric Format).
    Export(ExportArgs),
    /// Print the table of a results file (reads the file only, runs nothing).
    Show {
        /// The results file.
        file: PathBuf,
    },
    /// Run one cell and print its result (used by `run`; not for people).
    #[command(name = "__cell", hide = true)]
    Cell {
        /// Take the request as the first line of stdin and then wait for a `go` line
        /// before the warm-up and before every sample, announcing each wait with a `ready`
        /// line on stdout (see `gate --lockstep`).
        #[arg(long)]
        lockstep: bool,
    },
}

/// Formats of `list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// For people.
    Text,
    /// For programs.
    Json,
}

/// The flags `run` and `sweep` share: which cells of the matrix, sampled how.
#[derive(Debug, clap::Args)]
pub struct MatrixArgs {
    /// Sampling profile [default: quick, or the profile of the file given to --resume].
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,
    /// Runtime configurations to run, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub runtime: Vec<String>,
    /// Variants to run, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub variant: Vec<String>,
    /// Processes per cell (help generated from the profiles: `plan::launches_help`).
    #[arg(
        long,
        value_parser = clap::value_parser!(u16).range(1..=100),
        help = crate::plan::launches_help(),
        long_help = None
    )]
    pub launches: Option<u16>,
    /// Time budget of one launch (help generated from the profiles:
    /// `plan::cell_timeout_help`).
    #[arg(
        long,
        value_name = "SECS",
        value_parser = clap::value_parser!(u64).range(1..=86_400),
        help = crate::plan::cell_timeout_help(),
        long_help = None
    )]
    pub cell_timeout: Option<u64>,
    /// Do not render the report next to the results file.
    #[arg(long)]
    pub no_report: bool,
}

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// What to run and how: profile, runtimes, variants, launches, budget, report.
    #[command(flatten)]
    pub matrix: MatrixArgs,
    /// Workloads to run, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub workload: Vec<String>,
    /// Override a parameter, `name=value` (repeatable), for example `--param n=1000`.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Worker threads for multi-threaded runtimes (default: logical CPUs).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Results file (default: results/<profile>-<UTC time>.json).
    #[arg(long, conflicts_with = "resume")]
    pub out: Option<PathBuf>,
    /// Calibration: busy-spin this many nanoseconds per measured operation (a known slowdown,
    /// to prove what a gate detects).
    /// Fractions are kept (0.2 adds 1 us to a batch of 5,000 operations).
    #[arg(long, value_name = "NS", default_value_t = 0.0, value_parser = parse_delay)]
    pub inject_delay_ns: f64,
    /// Calibration: make this many extra heap allocations per measured operation.
    #[arg(long, value_name = "K", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=1000))]
    pub inject_allocs: u64,
    /// Complete an interrupted run: measure only the selected cells missing from FILE, and
    /// the launches its cells still lack, and add them to it (same profile, threads and
    /// launches as the file).
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
}

/// Arguments of `sweep`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  tapbench sweep --workload interleave --param n=10,100,1000,10000
  tapbench sweep --workload when_all --variant spawn_join --param n=1000 --threads 1,2,4 \\
      --runtime tokio-mt,smol-mt,tokio-ct")]
pub struct SweepArgs {
    /// What to run and how: profile, runtimes, variants, launches, budget, report.
    #[command(flatten)]
    pub matrix: MatrixArgs,
    /// Workloads to sweep, comma-separated (required; each must have the swept parameter).
    #[arg(long, value_delimiter = ',')]
    pub workload: Vec<String>,
    /// A parameter, `name=value` (repeatable). Exactly one may list several values,
    /// `name=v1,v2,...`: the swept parameter, checked against its range or choices like any
    /// value; the others are fixed as in `run`.
    #[arg(long = "param", value_name = "NAME=VALUE[,VALUE...]")]
    pub params: Vec<String>,
    /// Worker threads of the multi-threaded runtimes, comma-separated: several counts sweep
    /// them too (single-threaded runtimes run once, with 1) [default: logical CPUs].
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Vec<u16>,
    /// Results file (default: results/sweep-<parameter>-<UTC time>.json).
    #[arg(long, conflicts_with = "resume")]
    pub out: Option<PathBuf>,
    /// Complete an interrupted sweep: the same flags, and the file it was writing.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// The p99 latency, in milliseconds, under which a request-driven workload (`service`)
    /// sustains an offered rate: the criterion of the capacity table of a sweep of `rate`
    /// [default: 10].
    #[arg(long, value_name = "MS", value_parser = positive_ms)]
    pub p99_target_ms: Option<f64>,
}

/// A positive, finite number of milliseconds.
fn positive_ms(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(ms) if ms.is_finite() && ms > 0.0 => Ok(ms),
        _ => Err(format!("`{text}` is not a positive number of milliseconds")),
    }
}

/// Arguments of `report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Results file (default: the newest results/*.json).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Directory for the reports (default: beside the input, `<input name>-report/`).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Runtime the Ratio column divides by.
    #[arg(long, default_value = crate::report::DEFAULT_BASELINE)]
    pub baseline_runtime: String,
    /// The p99 latency, in milliseconds, of the capacity table of a sweep of `rate`
    /// [default: the one the sweep recorded, else 10].
    #[arg(long, value_name = "MS", value_parser = positive_ms)]
    pub p99_target_ms: Option<f64>,
}

/// Arguments of `compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The results file to compare against.
    pub base: PathBuf,
    /// The results file being judged.
    pub current: PathBuf,
    /// The judging thresholds (the same as `gate`'s).
    #[command(flatten)]
    pub judging: JudgingArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: CompareFormat,
}

/// The thresholds of the judging engine, shared by `compare` and `gate` so that the two
/// judge the same two files alike.
#[derive(Debug, clap::Args)]
pub struct JudgingArgs {
    /// Smallest change of the median, in percent, that counts as a change.
    #[arg(long, default_value_t = 5.0, value_parser = parse_threshold)]
    pub threshold: f64,
    /// Smallest absolute change of the median, in nanoseconds, that counts as a change.
    #[arg(long, default_value_t = 1.0, value_parser = parse_non_negative)]
    pub noise_ns: f64,
    /// Allocations per operation that may be added before it counts as a regression.
    #[arg(long, default_value_t = 0.0, value_parser = parse_non_negative)]
    pub alloc_tolerance: f64,
}

impl JudgingArgs {
    /// The engine's policy.
    pub fn policy(&self) -> crate::judge::Policy {
        crate::judge::Policy {
            threshold_pct: self.threshold,
            noise_ns: self.noise_ns,
            alloc_tolerance: self.alloc_tolerance,
        }
    }
}

/// Formats of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    /// A Markdown table for people.
    Markdown,
    /// JSON for machines.
    Json,
    /// CSV for spreadsheets.
    Csv,
}

fn parse_threshold(raw: &str) -> Result<f64, String> {
    match raw.trim_end_matches('%').parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=1000.0).contains(&v) => Ok(v),
        _ => Err(format!("`{raw}` is not a percentage from 0 to 1000")),
    }
}

/// Arguments of `gate`.
#[derive(Debug, clap::Args)]
pub struct GateArgs {
    /// The baseline results file.
    #[arg(long)]
    pub baseline: PathBuf,
    /// The results to judge; without it, the baseline's cells are run now (same profile,
    /// parameters and threads) and judged.
    #[arg(long)]
    pub current: Option<PathBuf>,
    /// Where the fresh run goes when there is no --current (default:
    /// results/gate-<UTC time>.json).
    #[arg(long, conflicts_with = "current")]
    pub out: Option<PathBuf>,
    /// The baseline's build of tapbench: its launches alternate with this build's, cell by
    /// cell, so that drift of a shared machine hits both sides alike (the baseline file then
    /// only says which cells to run).
    #[arg(long, value_name = "EXE", conflicts_with = "current")]
    pub baseline_exe: Option<PathBuf>,
    /// Launches per cell for the fresh run (default: the baseline's; 60 with --baseline-exe).
    #[arg(long, conflicts_with = "current", value_parser = clap::value_parser!(u16).range(1..=100))]
    pub launches: Option<u16>,
    /// Sampling profile of the interleaved runs (default: the baseline's). Only with
    /// --baseline-exe, where both sides are measured now: `smoke` makes each launch short,
    /// and the launches, not the samples inside one, carry the noise the gate must see.
    #[arg(long, value_enum, requires = "baseline_exe")]
    pub profile: Option<Profile>,
    /// With --baseline-exe: run each launch pair's two processes at once, in lock-step -
    /// warm-up and every sample of one build alternating with the other's, one running
    /// while the other waits - so that each sample has a neighbour of the other build a few
    /// milliseconds away (both builds must support it).
    #[arg(long, requires = "baseline_exe")]
    pub lockstep: bool,
    /// Calibration: busy-spin nanoseconds added to every operation of this build's run.
    #[arg(long, value_name = "NS", default_value_t = 0.0, conflicts_with = "current",
          value_parser = parse_delay)]
    pub inject_delay_ns: f64,
    /// Calibration: allocations added to every operation of this build's run.
    #[arg(long, value_name = "K", default_value_t = 0, conflicts_with = "current",
          value_parser = clap::value_parser!(u64).range(0..=1000))]
    pub inject_allocs: u64,
    /// The judging thresholds (the same as `compare`'s).
    #[command(flatten)]
    pub judging: JudgingArgs,
    /// Time budget of one launch of a cell in seconds, for the fresh run.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub cell_timeout: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: GateFormat,
    /// Also write the verdict as JSON to this file (for CI artifacts), whatever --format is.
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
    /// Exit 0 rather than 3 when no cell regressed but some could not be judged
    /// (multimodal, different machine states, not measured now).
    #[arg(long)]
    pub accept_inconclusive: bool,
}

/// Formats of `gate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GateFormat {
    /// Tables for people.
    Text,
    /// JSON for machines.
    Json,
}

/// Arguments of `export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The results file.
    #[arg(long)]
    pub input: PathBuf,
    /// Export format.
    #[arg(long, value_enum, default_value = "bmf")]
    pub format: ExportFormat,
    /// Write here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Bencher Metric Format JSON.
    Bmf,
}

fn parse_non_negative(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{raw}` is not a non-negative number")),
    }
}

/// An injected delay per operation: a number of nanoseconds from 0 to one second.
fn parse_delay(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=1e9).contains(&v) => Ok(v),
        _ => Err(format!("`{raw}` is not a delay from 0 to 1000000000 ns")),
    }
}
