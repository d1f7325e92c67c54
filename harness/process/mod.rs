//! Running a child process with packtest's hygiene, as nextest and ripgrep do it, and how a
//! run ended ([`Exit`], [`PackOutcome`]). This module knows nothing about packagers; the
//! command packager and the simulated consumers run their programs through [`run_process`].
//!
//! - the child gets its own process group, stdin from `/dev/null`, the given cwd and extra
//!   environment;
//! - stdout and stderr are drained on threads (no pipe deadlock) and capped at
//!   [`OUTPUT_CAP`] bytes each; the rest is counted and dropped (see `drain`);
//! - past the timeout, or after [`cancel_all`], the whole group gets SIGTERM, then SIGKILL
//!   after a short grace;
//! - after the child exits, the group is killed too, so a forked child that outlives the
//!   process cannot linger. The leader is not reaped until then (`waitid(WNOWAIT)`), so the
//!   group id cannot have been reused;
//! - descendants that left the group (`setsid`) are found by a `PACKTEST_JOB` marker in their
//!   environment and killed, and a pipe one of them still holds is read only briefly after
//!   the exit (see `hygiene`).
//!
//! Child processes are spawned only here.

mod drain;
mod hygiene;
mod run;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use drain::OUTPUT_CAP;
pub use run::{run_process, ProcessSpec};

static CANCEL: AtomicBool = AtomicBool::new(false);

/// Kills every running command packager (with its process group) and makes new ones fail
/// fast. Used by the runner's Ctrl-C handler; there is no way back.
pub fn cancel_all() {
    CANCEL.store(true, Ordering::SeqCst);
}

/// True after [`cancel_all`].
pub fn cancelled() -> bool {
    CANCEL.load(Ordering::Relaxed)
}

/// How a run ended (of a packager, or of any process run by [`run_process`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal.
    Signal(i32),
    /// It ran past the timeout and was killed (with its whole process group).
    TimedOut,
    /// It could not be started at all.
    SpawnFailed(String),
}

impl Exit {
    /// True for exit code 0.
    pub fn success(&self) -> bool {
        *self == Exit::Code(0)
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit code {c}"),
            Exit::Signal(s) => write!(f, "killed by signal {s}"),
            Exit::TimedOut => write!(f, "timed out"),
            Exit::SpawnFailed(e) => write!(f, "could not start: {e}"),
        }
    }
}

/// The result of one run: of a packager, or of any process run by [`run_process`].
#[derive(Clone, Debug)]
pub struct PackOutcome {
    /// How it ended.
    pub exit: Exit,
    /// Captured stdout (capped).
    pub stdout: Vec<u8>,
    /// Captured stderr (capped).
    pub stderr: Vec<u8>,
    /// Wall-clock time.
    pub duration: Duration,
}
