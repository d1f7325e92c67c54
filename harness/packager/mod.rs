//! Packagers: the [`Packager`] trait, the command adapter, and the reference packager.
//!
//! A packager turns the sandbox's model dir into an archive at the output path. The runner
//! only sees a [`PackOutcome`]: how the packager ended and what it said. In-process packagers
//! report an error as exit status 1 with the message on stderr, exactly as a command would.
//! The command adapter runs its program through [`crate::process`]; how a run ended
//! ([`Exit`], [`PackOutcome`]) and the run's [`CancelToken`] live there and are re-exported
//! here.

mod command;
mod error;
mod partial;
mod reference;
mod walk;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) use command::absolutize;
pub use command::{CommandPackager, CommandParseError};
pub use error::PackError;
pub use partial::remove_partial_outputs;
pub use reference::{ArchiveFormat, MtimeRule, PackOptions, ReferencePackager};
pub use walk::PackStats;

pub use crate::process::{CancelToken, Exit, PackOutcome};

/// What a packager is asked to do, and the job environment it runs in.
#[derive(Clone, Debug)]
pub struct PackJob {
    /// `SM_MODEL_DIR`: the directory to pack.
    pub model_dir: PathBuf,
    /// Where the archive must be written.
    pub output: PathBuf,
    /// The job's working directory (`opt/ml/code`).
    pub cwd: PathBuf,
    /// `SM_OUTPUT_DATA_DIR`.
    pub output_data_dir: PathBuf,
    /// The wall-clock limit; a run past it is killed and reported as [`Exit::TimedOut`].
    pub timeout: Duration,
    /// The run's cancellation: a command packager is killed once it is cancelled.
    pub cancel: CancelToken,
    /// How a command packager's process is set up (umask, environment, CPUs, user): the
    /// strict rerun varies it. In-process packagers cannot honour it (see
    /// [`Packager::runs_as_process`]).
    pub setup: crate::process::ChildSetup,
}

impl PackJob {
    /// The job for a materialized sandbox.
    pub fn for_sandbox(sandbox: &crate::layout::Sandbox, timeout: Duration) -> Self {
        PackJob {
            model_dir: sandbox.model_dir(),
            output: sandbox.output_path(),
            cwd: sandbox.cwd(),
            output_data_dir: sandbox.dir(crate::layout::Root::Output),
            timeout,
            cancel: CancelToken::new(),
            setup: crate::process::ChildSetup::default(),
        }
    }

    /// The same job, cancelled with `cancel`.
    pub fn with_cancel(self, cancel: CancelToken) -> Self {
        PackJob { cancel, ..self }
    }
}

/// How a replay command names a packager (see `outcome::Replay`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// A command template, replayed with `packtest run --packager '<template>'`.
    Command(String),
    /// packtest's own reference packager, which `packtest run` uses when no `--packager` is
    /// given (for the run's `--target`).
    Reference,
    /// Rust code in the caller's process, replayed by rerunning its test with `cargo test`.
    InProcess,
}

/// Anything that turns a model dir into an archive.
///
/// Implementations must be callable from many threads at once, each on its own sandbox.
/// Only command packagers can be killed at [`PackJob::timeout`]; an in-process packager that
/// hangs hangs the run, so in-process implementations must not block on what they read.
pub trait Packager: Send + Sync {
    /// A short name for reports (for example the command line).
    fn name(&self) -> String;

    /// How a replay command names this packager. The default, [`Invocation::InProcess`], is
    /// right for Rust code: its failures replay with `cargo test`, not with the CLI.
    fn invocation(&self) -> Invocation {
        Invocation::InProcess
    }

    /// True when each pack runs in a process of its own that honours [`PackJob::setup`]
    /// (umask, environment, CPUs, user). The default, `false`, is right for Rust code in the
    /// caller's process: those variations are then reported as not varied.
    fn runs_as_process(&self) -> bool {
        false
    }

    /// Packs `job.model_dir` into `job.output`.
    fn pack(&self, job: &PackJob) -> PackOutcome;
}

/// A reference or a box of a packager is that packager.
macro_rules! forward_packager {
    ($($ty:ty),*) => {$(
        impl<P: Packager + ?Sized> Packager for $ty {
            fn name(&self) -> String {
                (**self).name()
            }
            fn invocation(&self) -> Invocation {
                (**self).invocation()
            }
            fn runs_as_process(&self) -> bool {
                (**self).runs_as_process()
            }
            fn pack(&self, job: &PackJob) -> PackOutcome {
                (**self).pack(job)
            }
        }
    )*};
}

forward_packager!(&P, Box<P>);

/// An in-process packager from a closure `Fn(model_dir, output) -> Result<(), String>`.
pub struct FnPackager<F> {
    name: String,
    f: F,
}

impl<F> FnPackager<F>
where
    F: Fn(&Path, &Path) -> Result<(), String> + Send + Sync,
{
    /// Wraps a closure; an `Err` becomes exit code 1 with the message on stderr.
    pub fn new(name: impl Into<String>, f: F) -> Self {
        FnPackager {
            name: name.into(),
            f,
        }
    }
}

impl<F> Packager for FnPackager<F>
where
    F: Fn(&Path, &Path) -> Result<(), String> + Send + Sync,
{
    fn name(&self) -> String {
        self.name.clone()
    }

    fn pack(&self, job: &PackJob) -> PackOutcome {
        let start = std::time::Instant::now();
        let r = (self.f)(&job.model_dir, &job.output);
        PackOutcome {
            exit: Exit::Code(if r.is_ok() { 0 } else { 1 }),
            stdout: Vec::new(),
            stderr: r.err().map(String::into_bytes).unwrap_or_default(),
            duration: start.elapsed(),
        }
    }
}
