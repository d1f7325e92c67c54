//! Live progress on stderr while a run goes.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::outcome::{CaseStatus, Event};

/// Live progress on stderr: a bar on a TTY; otherwise, with `verbose`, one line per failure,
/// and (unless quiet) a line whenever no case has finished for a while, so a hung packager
/// is never silent until its timeout.
pub struct Progress {
    bar: Option<ProgressBar>,
    verbose: bool,
    quiet: bool,
    lock: Mutex<()>,
    beat: Arc<Beat>,
    ticker: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// What the stall notice reads: cases finished, the total, and when the last one finished.
struct Beat {
    /// When the run started: the clock of `last_ms`.
    born: Instant,
    done: AtomicU64,
    total: AtomicU64,
    /// Milliseconds since `born`, at the last finished case.
    last_ms: AtomicU64,
    stop: AtomicBool,
}

/// The stall notice: no case has finished for `quiet_for`.
pub fn stall_notice(done: u64, total: u64, quiet_for: Duration, timeout: Duration) -> String {
    format!(
        "packtest: no case has finished for {} s ({done} of {total} done); a packager run is killed after {} s (the per-run limit, --timeout SECS)",
        quiet_for.as_secs(),
        timeout.as_secs_f64()
    )
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
            quiet,
            lock: Mutex::new(()),
            beat: Arc::new(Beat {
                born: Instant::now(),
                done: AtomicU64::new(0),
                total: AtomicU64::new(0),
                last_ms: AtomicU64::new(0),
                stop: AtomicBool::new(false),
            }),
            ticker: Mutex::new(None),
        }
    }

    /// Without a bar (stderr is not a terminal) and unless quiet: prints a stall notice
    /// whenever no case has finished for `every`, until [`Progress::finish`].
    pub fn stall_notices(&self, every: Duration, timeout: Duration) {
        if self.bar.is_some() || self.quiet || every.is_zero() {
            return;
        }
        let beat = Arc::clone(&self.beat);
        let handle = std::thread::spawn(move || {
            let mut told_at = 0u64;
            while !beat.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(200));
                let now = beat.born.elapsed().as_millis() as u64;
                let since = beat.last_ms.load(Ordering::SeqCst).max(told_at);
                if now.saturating_sub(since) >= every.as_millis() as u64 {
                    let quiet_for = Duration::from_millis(
                        now.saturating_sub(beat.last_ms.load(Ordering::SeqCst)),
                    );
                    let line = stall_notice(
                        beat.done.load(Ordering::SeqCst),
                        beat.total.load(Ordering::SeqCst),
                        quiet_for,
                        timeout,
                    );
                    let _ = writeln!(std::io::stderr(), "{line}");
                    told_at = now;
                }
            }
        });
        *self.ticker.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
    }

    /// Handles one runner event.
    pub fn event(&self, e: Event) {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        match e {
            Event::Started { total } => {
                self.beat.total.store(total, Ordering::SeqCst);
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
                self.beat.done.fetch_add(1, Ordering::SeqCst);
                self.beat.last_ms.store(self.beat_clock(), Ordering::SeqCst);
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

    /// Milliseconds since the run started.
    fn beat_clock(&self) -> u64 {
        self.beat.born.elapsed().as_millis() as u64
    }

    /// Clears the bar and stops the stall notices.
    pub fn finish(&self) {
        self.beat.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.ticker.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = h.join();
        }
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
