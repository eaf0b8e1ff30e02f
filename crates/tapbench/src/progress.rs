//! Progress of a run on stderr: a bar on a terminal, one plain line per launch otherwise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::plan::PlannedCell;
use crate::results::CellResult;
use crate::table;

/// Progress on stderr: a bar on a terminal, one plain line per launch otherwise.
pub struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    width: usize,
    launches: usize,
}

impl Progress {
    /// Progress over `total` launches of `cells`, `launches` per cell.
    pub fn new(total: usize, cells: &[PlannedCell], launches: usize) -> Self {
        let width = cells.iter().map(|c| c.id.len()).max().unwrap_or(10).min(80);
        let unit = if launches > 1 { "launches" } else { "cells" };
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{bar:30.cyan/blue}} {{pos}}/{{len}} {unit}  {{elapsed_precise}} (eta \
                     {{eta}})  {{msg}}"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            total,
            done: 0,
            width,
            launches,
        }
    }

    /// `n` launches are still to run.
    pub fn set_remaining(&mut self, n: usize) {
        self.total = self.done + n;
        if let Some(bar) = &self.bar {
            bar.set_length(self.total as u64);
        }
    }

    /// Launch of `cell` started.
    pub fn start(&mut self, cell: &PlannedCell) {
        if let Some(bar) = &self.bar {
            bar.set_message(cell.id.clone());
        }
    }

    /// One launch finished; `result` is the cell so far, `launch` the launch's number.
    pub fn finish(&mut self, result: &CellResult, launch: usize) {
        self.done += 1;
        let of = if self.launches > 1 {
            format!(" launch {launch}/{}", self.launches)
        } else {
            String::new()
        };
        let line = format!(
            "[{}/{}]{of} {}  ({:.1} s)",
            self.done,
            self.total,
            table::line(result, self.width),
            result.wall_s
        );
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }

    /// The run is over (or stopped): clears the bar.
    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
