//! `packtest sim`: run a real training command in an emulated SageMaker training job.
//!
//! The job gets a fresh sandbox (the directories of a SageMaker training job) and the training toolkit's environment:
//! `SM_MODEL_DIR`, `SM_OUTPUT_DATA_DIR`, `SM_OUTPUT_DIR`, `SM_INPUT_DIR`, one
//! `SM_CHANNEL_<NAME>` per `--input NAME=DIR` (copied into `opt/ml/input/data/NAME`),
//! `SM_CHANNELS`, `SM_HPS`, `SM_NUM_GPUS=0`, `SM_CURRENT_HOST=algo-1`, `SM_HOSTS`, and
//! `TMPDIR` pointing at the sandbox's `tmp/`. Every path it hands the script is inside the
//! sandbox. The command runs with cwd = `opt/ml/code`, stdin closed, in its own process group,
//! its output going to the terminal. No Docker, no AWS account.
//!
//! A non-zero exit is the job failing; its exit code and the `opt/ml/output/failure` file (the
//! toolkit's convention for the failure reason) are reported.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::layout::{Layout, Root, Sandbox, SandboxError};
use crate::process::{run_process, Exit, PackOutcome, ProcessSpec};

/// What to run.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// The training command.
    pub argv: Vec<String>,
    /// Input channels: name and the local directory to copy in.
    pub inputs: Vec<(String, PathBuf)>,
    /// Kill the job after this long.
    pub timeout: Option<Duration>,
}

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
    /// The sandbox could not be built or filled.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// Copying an input failed.
    #[error("cannot copy `{}` into the job: {source}", path.display())]
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

/// How the job ended.
pub struct SimJob {
    /// The sandbox (kept alive; call `keep()` to leave it on disk).
    pub sandbox: Sandbox,
    /// How the training command ended.
    pub outcome: PackOutcome,
    /// The content of `opt/ml/output/failure`, if the script wrote one.
    pub failure: Option<String>,
}

fn copy_tree(src: &Path, dst: &Path) -> Result<(), SimError> {
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| SimError::Copy { path, source }
    };
    for e in walkdir::WalkDir::new(src).follow_links(false) {
        let e = e.map_err(|e| SimError::Copy {
            path: src.to_owned(),
            source: e.into(),
        })?;
        let rel = e.path().strip_prefix(src).unwrap_or(e.path());
        let to = dst.join(rel);
        let ft = e.file_type();
        if ft.is_dir() {
            fs::create_dir_all(&to).map_err(err(e.path()))?;
        } else if ft.is_symlink() {
            let t = fs::read_link(e.path()).map_err(err(e.path()))?;
            std::os::unix::fs::symlink(t, &to).map_err(err(e.path()))?;
        } else if ft.is_file() {
            fs::copy(e.path(), &to).map_err(err(e.path()))?;
        }
    }
    Ok(())
}

/// Builds the sandbox, runs the command, and returns how it ended.
pub fn run_job(opts: &SimOptions) -> Result<SimJob, SimError> {
    if opts.argv.is_empty() {
        return Err(SimError::NoCommand);
    }
    for (name, path) in &opts.inputs {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(SimError::BadChannel(name.clone()));
        }
        if !path.is_dir() {
            return Err(SimError::MissingInput {
                name: name.clone(),
                path: path.clone(),
            });
        }
    }
    let sandbox = Sandbox::materialize(&Layout::new())?;
    let ml = sandbox.root().join("opt/ml");
    let mut channels = Vec::new();
    let mut env: Vec<(String, OsString)> = Vec::new();
    for (name, path) in &opts.inputs {
        let dst = ml.join("input/data").join(name);
        fs::create_dir_all(&dst).map_err(|source| SimError::Copy {
            path: dst.clone(),
            source,
        })?;
        copy_tree(path, &dst)?;
        env.push((
            format!("SM_CHANNEL_{}", name.to_ascii_uppercase().replace('-', "_")),
            dst.into_os_string(),
        ));
        channels.push(format!("\"{name}\""));
    }
    if opts.inputs.is_empty() {
        env.push((
            "SM_CHANNEL_TRAIN".into(),
            sandbox.dir(Root::Input).into_os_string(),
        ));
        channels.push("\"train\"".into());
    }
    env.extend([
        ("SM_MODEL_DIR".into(), sandbox.model_dir().into_os_string()),
        (
            "SM_OUTPUT_DATA_DIR".into(),
            sandbox.dir(Root::Output).into_os_string(),
        ),
        ("SM_OUTPUT_DIR".into(), ml.join("output").into_os_string()),
        ("SM_INPUT_DIR".into(), ml.join("input").into_os_string()),
        (
            "SM_CHECKPOINT_DIR".into(),
            sandbox.dir(Root::Checkpoints).into_os_string(),
        ),
        (
            "SM_CHANNELS".into(),
            format!("[{}]", channels.join(",")).into(),
        ),
        ("SM_HPS".into(), "{}".into()),
        ("SM_NUM_GPUS".into(), "0".into()),
        ("SM_CURRENT_HOST".into(), "algo-1".into()),
        ("SM_HOSTS".into(), "[\"algo-1\"]".into()),
        ("TMPDIR".into(), sandbox.dir(Root::Tmp).into_os_string()),
    ]);
    let here = std::env::current_dir().ok();
    let argv: Vec<OsString> = opts
        .argv
        .iter()
        .enumerate()
        .map(|(i, w)| crate::packager::absolutize(i, w.clone(), here.as_deref()).into())
        .collect();
    let outcome = run_process(&ProcessSpec {
        argv,
        cwd: sandbox.cwd(),
        env,
        timeout: opts.timeout,
        capture: false,
        cancel: crate::process::CancelToken::new(),
        setup: Default::default(),
    });
    if let Exit::SpawnFailed(e) = &outcome.exit {
        return Err(SimError::Spawn(e.clone()));
    }
    let failure = fs::read_to_string(ml.join("output/failure")).ok();
    Ok(SimJob {
        sandbox,
        outcome,
        failure,
    })
}
