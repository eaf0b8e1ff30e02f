//! Standard output of the commands. A reader that stops early (`tapbench show FILE | head
//! -1`) closes the pipe; the command then ends quietly with exit 0 instead of a panic.

use std::io::Write;

/// Standard output was closed by its reader: nothing is left to do.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed by its reader")]
pub struct ClosedPipe;

/// Writes `text` to standard output as it is.
///
/// # Errors
///
/// [`ClosedPipe`] when the reader has gone; any other write error with what was being done.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(ClosedPipe.into()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to standard output")),
    }
}

/// Whether `err` is (or was caused by) a closed standard output.
pub fn is_closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| cause.is::<ClosedPipe>())
}
