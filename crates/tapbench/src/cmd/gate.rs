//! `tapbench gate`: judge a run against a baseline - a stored one, or the baseline's cells
//! run again, alone or interleaved with the baseline's build.

use anyhow::Result;

use super::Done;
use crate::cli::{GateArgs, GateFormat};
use crate::{gate, output, rerun, store};

/// Runs (or reads) the current results, judges them and prints the verdict.
///
/// # Errors
///
/// Bad input (unreadable files, cells measured with other parameters or threads, an
/// unknown runtime), a run that cannot be written, or standard output that cannot be.
pub fn run(args: GateArgs) -> Result<Done> {
    let baseline = store::read_results(&args.baseline)?;
    let inject = tapbench_measure::Injection {
        delay_ns_per_op: args.inject_delay_ns,
        allocs_per_op: args.inject_allocs,
    };
    let (fresh_baseline, current) = match &args.current {
        Some(path) => (None, store::read_results(path)?),
        None => rerun::rerun(
            &baseline,
            rerun::Rerun {
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
    output::print(&match args.format {
        GateFormat::Text => gate::text(&report),
        GateFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
    })?;
    Ok(match report.outcome {
        gate::Outcome::Passed => Done::Success,
        gate::Outcome::Regressed => Done::Regressed,
        gate::Outcome::Inconclusive if args.accept_inconclusive => Done::Success,
        gate::Outcome::Inconclusive => Done::Inconclusive,
    })
}
