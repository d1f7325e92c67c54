//! Live progress on stderr while a run goes.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use crate::outcome::{CaseStatus, Event};

/// Live progress on stderr: a bar on a TTY; otherwise, with `verbose`, one line per failure.
pub struct Progress {
    bar: Option<ProgressBar>,
    verbose: bool,
    lock: Mutex<()>,
}

impl Progress {
    /// Chooses the display from whether stderr is a terminal: nothing when `quiet`; the
    /// failures as they happen only when `verbose`.
    pub fn new(quiet: bool, verbose: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new(0);
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} cases {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        });
        Progress {
            bar,
            verbose: verbose && !quiet,
            lock: Mutex::new(()),
        }
    }

    /// Handles one runner event.
    pub fn event(&self, e: Event) {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        match e {
            Event::Started { total } => {
                if let Some(b) = &self.bar {
                    b.set_length(total);
                }
            }
            Event::Shrinking { name } => {
                if let Some(b) = &self.bar {
                    b.set_message(format!("shrinking {name}"));
                }
            }
            Event::CaseFinished(c) => {
                let line = match &c.status {
                    CaseStatus::Failed { .. } => {
                        let props: Vec<&str> = c.broken().iter().map(|p| p.id()).collect();
                        Some(format!("FAIL {}: {}", c.name, props.join(", ")))
                    }
                    _ => None,
                };
                match (&self.bar, line) {
                    (Some(b), Some(l)) if self.verbose => {
                        b.println(l);
                        b.inc(1);
                    }
                    (Some(b), _) => b.inc(1),
                    (None, Some(l)) if self.verbose => {
                        let _ = writeln!(std::io::stderr(), "{l}");
                    }
                    _ => {}
                }
            }
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
