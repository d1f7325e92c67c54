//! [`SimError`]: why a simulated job could not be set up or started.

use std::path::PathBuf;

use crate::layout::SandboxError;

/// Why the job could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The command is empty.
    #[error(
        "no training command given; write it after `--`, e.g. `packtest sim -- python3 train.py`"
    )]
    NoCommand,
    /// A channel name is not usable.
    #[error("input channel name `{0}` must be letters, digits, `_` or `-`")]
    BadChannel(String),
    /// An input dir is missing.
    #[error("input channel `{name}`: `{}` is not a directory", path.display())]
    MissingInput {
        /// Channel.
        name: String,
        /// Path.
        path: PathBuf,
    },
    /// The source dir is missing.
    #[error("--source-dir `{}` is not a directory; give the dir holding the training script", .0.display())]
    MissingSourceDir(PathBuf),
    /// A hyperparameter name is not usable.
    #[error("hyperparameter name `{0}` must be non-empty letters, digits, `_`, `-` or `.` (give --hp NAME=VALUE)")]
    BadHyperparameter(String),
    /// The same hyperparameter was given twice.
    #[error("hyperparameter `{0}` is given twice; give each --hp NAME once")]
    DuplicateHyperparameter(String),
    /// Zero hosts, or more than the emulation allows.
    #[error("--hosts must be between 1 and {max}, not {got}")]
    BadHosts {
        /// What was asked.
        got: usize,
        /// The most allowed.
        max: usize,
    },
    /// `--toolkit` needs a Python with `sagemaker-training` installed.
    #[error("--toolkit: `{}` is not a Python with sagemaker-training; run `tests/sim/toolkit-venv.sh` (it creates target/toolkit-venv) or set PACKTEST_TOOLKIT_PYTHON", .0.display())]
    ToolkitMissing(PathBuf),
    /// The command is not an entry point the toolkit can run.
    #[error("--toolkit runs one entry point: give `-- python3 SCRIPT.py` or `-- SCRIPT`, without extra arguments (hyperparameters go in with --hp); got `{0}`")]
    ToolkitEntryPoint(String),
    /// A word of the command names a host path the job's private `/opt/ml` hides.
    #[error("`{0}` is on the host's /opt/ml, which the job does not see (its own is private); copy its dir in with --source-dir DIR and run it by a relative name, or set PACKTEST_SIM_SHARED_PATHS=1")]
    HiddenPath(String),
    /// The sandbox could not be built or filled.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// Copying into, or writing, the job failed.
    #[error("cannot write `{}` into the job: {source}", path.display())]
    Copy {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The command cannot be started.
    #[error("the training command cannot be started: {0}")]
    Spawn(String),
}

impl SimError {
    /// True when the error is the caller's input (exit 2), not the machine failing.
    pub fn is_usage(&self) -> bool {
        !matches!(self, SimError::Sandbox(_))
    }
}
