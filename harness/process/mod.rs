//! Running a child process with packtest's hygiene, as nextest and ripgrep do it, and how a
//! run ended ([`Exit`], [`PackOutcome`]). This module knows nothing about packagers; the
//! command packager and the simulated consumers run their programs through [`run_process`].
//!
//! - the child gets its own process group, stdin from `/dev/null`, the given cwd and extra
//!   environment;
//! - stdout and stderr are drained on threads (no pipe deadlock) and capped at
//!   [`OUTPUT_CAP`] bytes each; the rest is counted and dropped (see `drain`);
//! - past the timeout, or once its [`CancelToken`] is cancelled, the whole group gets SIGTERM, then SIGKILL
//!   after a short grace;
//! - after the child exits, the group is killed too, so a forked child that outlives the
//!   process cannot linger. The leader is not reaped until then (`waitid(WNOWAIT)`), so the
//!   group id cannot have been reused;
//! - descendants that left the group (`setsid`) are found by a `PACKTEST_JOB` marker in their
//!   environment and killed, and a pipe one of them still holds is read only briefly after
//!   the exit (see `hygiene`).
//!
//! - a [`ChildSetup`] sets the umask, environment changes, CPU affinity and user the child
//!   starts with (the strict rerun varies them), and optionally a private user and mount
//!   namespace ([`MountPlan`], `sim`'s own `/opt/ml` and `/tmp`).
//!
//! Child processes are spawned only here.

mod drain;
mod hygiene;
mod namespace;
mod run;
mod setup;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use drain::OUTPUT_CAP;
pub use namespace::{MountOp, MountPlan};
pub use run::{run_process, ProcessSpec};
pub use setup::{allowed_cpus, ChildSetup};

/// A cancellation flag shared by one run: its runner, and every process it starts.
///
/// Cancelling kills the processes that watch the token (with their process groups) and makes
/// the runner start no new case; there is no way back. Clones share the flag; two runs in one
/// process (two `Harness` tests in one `cargo test`) each have their own.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every holder of this token (and of its clones).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once [`CancelToken::cancel`] was called on it or on a clone.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
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
