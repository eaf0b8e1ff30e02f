//! Ctrl-C during a run: the first one lets the current cell finish, saves, and ends the run
//! with exit code 130; a second one stops the current cell at once (it is not recorded, so
//! `--resume` runs it again).
//!
//! Cells run in process groups of their own, so a Ctrl-C typed at the terminal reaches only
//! the parent, which decides what happens to the cell.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use anyhow::{anyhow, Result};

static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);

/// Installs the SIGINT handler, once per process: later calls return the first one's
/// outcome.
///
/// # Errors
///
/// A handler could not be installed.
pub fn install() -> Result<()> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            ctrlc::set_handler(|| {
                let before = INTERRUPTS.fetch_add(1, Ordering::SeqCst);
                if before == 0 {
                    eprintln!(
                        "\ninterrupted: stopping after the current cell (Ctrl-C again to stop \
                         it now)"
                    );
                }
            })
            .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| anyhow!("cannot install the Ctrl-C handler: {e}"))
}

/// Whether the run should stop before its next cell.
pub fn requested() -> bool {
    INTERRUPTS.load(Ordering::SeqCst) >= 1
}

/// Whether the current cell should be stopped now.
pub fn urgent() -> bool {
    INTERRUPTS.load(Ordering::SeqCst) >= 2
}
