//! `tapbench`: which async runtime, and which way of writing a .NET TAP pattern, costs what.
//!
//! ```text
//! tapbench list
//! tapbench run --profile smoke
//! tapbench run --runtime tokio-mt,smol-mt --workload when_all --param n=1000
//! tapbench sweep --workload interleave --param n=10,100,1000,10000
//! ```
//!
//! Exit codes: 0 success; 1 a performance gate found a regression; 2 bad input or an error
//! (including cells that failed or timed out during a run); 3 a performance gate found no
//! regression but could not judge every cell (`--accept-inconclusive` makes it 0); 130 a run
//! stopped by Ctrl-C (everything finished is saved; `--resume` completes it).

mod cli;
mod cmd;
mod compare;
mod env;
mod export;
mod gate;
mod interrupt;
mod judge;
mod launches;
mod list;
mod output;
mod plan;
mod progress;
mod report;
mod rerun;
mod results;
mod run;
mod runner;
mod schedule;
mod store;
mod sweep;
mod table;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;
use tapbench_measure::CountingAlloc;

use crate::cli::{Cli, Command};
use crate::cmd::Done;

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
    let done = match cli.command {
        Command::Cell { lockstep } => return runner::child_main(lockstep),
        Command::List { format } => cmd::list::run(format),
        Command::Run(args) => cmd::run::run(args),
        Command::Sweep(args) => cmd::sweep::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Compare(args) => cmd::compare::run(args),
        Command::Gate(args) => cmd::gate::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Show { file } => cmd::show::run(&file),
    };
    match done {
        Ok(Done::Success) => ExitCode::SUCCESS,
        Ok(Done::Regressed) => ExitCode::from(EXIT_REGRESSION),
        Ok(Done::Inconclusive) => ExitCode::from(EXIT_INCONCLUSIVE),
        Ok(Done::CellsFailed) => ExitCode::from(EXIT_ERROR),
        Ok(Done::Interrupted) => ExitCode::from(EXIT_INTERRUPTED),
        // The reader of our output went away (`| head`): nothing is left to do.
        Err(err) if output::is_closed_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
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
