//! `tapbench`: which async runtime, and which way of writing a .NET TAP pattern, costs what.
//!
//! ```text
//! tapbench list
//! tapbench run --profile smoke
//! tapbench run --runtime tokio-mt,smol-mt --workload when_all --param n=1000
//! ```
//!
//! Exit codes: 0 success; 1 a performance gate found a regression; 2 bad input or an error
//! (including cells that failed or timed out during a run); 3 a performance gate found no
//! regression but could not judge every cell (`--accept-inconclusive` makes it 0); 130 a run
//! stopped by Ctrl-C (everything finished is saved; `--resume` completes it).

mod cli;
mod compare;
mod env;
mod export;
mod gate;
mod interrupt;
mod judge;
mod list;
mod plan;
mod report;
mod results;
mod run;
mod runner;
mod store;
mod table;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;
use tapbench_measure::CountingAlloc;

use crate::cli::{Cli, Command, ListFormat};

// Counts allocations of every thread, runtime workers included (see tapbench-measure).
#[global_allocator]
static ALLOC: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);

const EXIT_ERROR: u8 = 2;
/// A performance gate found a regression.
const EXIT_REGRESSION: u8 = 1;
/// A performance gate found no regression but could not judge every cell (no PASS without a
/// verdict); `--accept-inconclusive` turns it into 0.
const EXIT_INCONCLUSIVE: u8 = 3;
/// The shell's code for "ended by SIGINT": a run stopped by Ctrl-C (after saving).
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    match cli.command {
        Command::Cell { lockstep } => runner::child_main(lockstep),
        Command::List { format } => {
            match format {
                ListFormat::Text => print!("{}", list::text()),
                ListFormat::Json => println!("{:#}", list::json()),
            }
            ExitCode::SUCCESS
        }
        Command::Report(args) => match report_command(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => fail(&err),
        },
        Command::Compare(args) => match compare_command(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => fail(&err),
        },
        Command::Gate(args) => {
            let accept_inconclusive = args.accept_inconclusive;
            match gate_command(args) {
                Ok(gate::Outcome::Passed) => ExitCode::SUCCESS,
                Ok(gate::Outcome::Regressed) => ExitCode::from(EXIT_REGRESSION),
                Ok(gate::Outcome::Inconclusive) if accept_inconclusive => ExitCode::SUCCESS,
                Ok(gate::Outcome::Inconclusive) => ExitCode::from(EXIT_INCONCLUSIVE),
                Err(err) => fail(&err),
            }
        }
        Command::Export(args) => match export_command(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => fail(&err),
        },
        Command::Show { file } => match store::read_results(&file) {
            Ok(results) => {
                println!(
                    "{} profile, {} cells, tapbench {}, {}",
                    results.profile,
                    results.cells.len(),
                    results.tool_version,
                    results.created_at
                );
                print!("{}", table::render(&results.cells));
                ExitCode::SUCCESS
            }
            Err(err) => fail(&err.into()),
        },
        Command::Run(args) => match run::run(args) {
            Ok(summary) if summary.interrupted => ExitCode::from(EXIT_INTERRUPTED),
            Ok(summary) if summary.failed == 0 => ExitCode::SUCCESS,
            Ok(summary) => {
                eprintln!(
                    "error: {} cell(s) failed or timed out; their reasons are in {}",
                    summary.failed,
                    summary.path.display()
                );
                ExitCode::from(EXIT_ERROR)
            }
            Err(err) => fail(&err),
        },
    }
}

fn report_command(args: cli::ReportArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let input = match args.input {
        Some(input) => input,
        None => store::newest_results(std::path::Path::new("results"))?.ok_or_else(|| {
            anyhow::anyhow!("no results file in results/; give one with --input FILE")
        })?,
    };
    let results = store::read_results(&input)?;
    let out_dir = args.out_dir.unwrap_or_else(|| report::default_dir(&input));
    let written = report::write_reports(&results, &args.baseline_runtime, &out_dir)?;
    for path in &written {
        println!("{}", path.display());
    }
    eprintln!(
        "rendered {} reports of {} cells in {:.2} s",
        written.len(),
        results.cells.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn compare_command(args: cli::CompareArgs) -> anyhow::Result<()> {
    let base = store::read_results(&args.base)?;
    let current = store::read_results(&args.current)?;
    let cmp = compare::compare(&base, &current, args.judging.policy())?;
    match args.format {
        cli::CompareFormat::Markdown => print!("{}", compare::markdown(&cmp)),
        cli::CompareFormat::Json => println!("{}", serde_json::to_string_pretty(&cmp)?),
        cli::CompareFormat::Csv => print!("{}", compare::csv(&cmp)),
    }
    Ok(())
}

/// Runs the gate and returns its outcome.
fn gate_command(args: cli::GateArgs) -> anyhow::Result<gate::Outcome> {
    let baseline = store::read_results(&args.baseline)?;
    let inject = tapbench_measure::Injection {
        delay_ns_per_op: args.inject_delay_ns,
        allocs_per_op: args.inject_allocs,
    };
    let (fresh_baseline, current) = match &args.current {
        Some(path) => (None, store::read_results(path)?),
        None => run::rerun(
            &baseline,
            run::Rerun {
                out: args.out.clone(),
                cell_timeout: args.cell_timeout,
                launches: args.launches.map(usize::from),
                profile: args.profile,
                baseline_exe: args.baseline_exe.clone(),
                lockstep: args.lockstep,
                inject,
            },
        )?,
    };
    let baseline = fresh_baseline.unwrap_or(baseline);
    let report = gate::gate(&baseline, &current, args.judging.policy())?;
    if let Some(path) = &args.json_out {
        store::write_text(path, &(serde_json::to_string_pretty(&report)? + "\n"))?;
    }
    match args.format {
        cli::GateFormat::Text => print!("{}", gate::text(&report)),
        cli::GateFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(report.outcome)
}

fn export_command(args: cli::ExportArgs) -> anyhow::Result<()> {
    let results = store::read_results(&args.input)?;
    let text = match args.format {
        cli::ExportFormat::Bmf => serde_json::to_string_pretty(&export::bmf(&results))?,
    };
    match &args.out {
        Some(path) => store::write_text(path, &(text + "\n"))?,
        None => println!("{text}"),
    }
    Ok(())
}

/// One line on stderr, exit code 2.
fn fail(err: &anyhow::Error) -> ExitCode {
    eprintln!("error: {err:#}");
    ExitCode::from(EXIT_ERROR)
}

/// Help and version go to stdout with exit 0; usage errors become one line (plus the
/// accepted values, when clap lists them) and exit 2.
fn usage_error(err: clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            ExitCode::from(EXIT_ERROR)
        }
        _ => {
            let rendered = err.render().to_string();
            let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
            let first = lines.next().unwrap_or("error: invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            let values = lines
                .find(|l| l.starts_with("[possible values"))
                .unwrap_or("");
            let values = if values.is_empty() {
                String::new()
            } else {
                format!(" {values}")
            };
            eprintln!("error: {first}{values} (see `tapbench --help`)");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
