//! `packtest sim`: run a real training command in an emulated SageMaker training job.
//!
//! Every host of the job gets a fresh sandbox laid out as the platform lays out an instance
//! (`job`): the source dir copied into `opt/ml/code` (the command's cwd), the input
//! channels in `opt/ml/input/data/NAME`, `hyperparameters.json`, `resourceconfig.json` and
//! `inputdataconfig.json` in `opt/ml/input/config/`, and the training toolkit's environment
//! (`SM_MODEL_DIR`, `SM_CHANNEL_<NAME>`, `SM_HPS`, `SM_HP_<NAME>`, `SM_CURRENT_HOST`,
//! `SM_HOSTS`, …, `TMPDIR`). Where the kernel allows it, the command runs in a user and
//! mount namespace in which `/opt/ml` and `/tmp` are the sandbox's ([`namespace`]), so
//! literal paths behave as in the container; otherwise the `SM_*` paths point into the
//! sandbox and the report says the literal ones do not. `--toolkit` runs the entry point
//! through the real `sagemaker-training` package instead ([`toolkit`]). Several hosts run at
//! once and their model dirs are merged as the platform merges them (`hosts`).
//!
//! The command runs with stdin closed, in its own process group, its output going to the
//! terminal. No Docker, no AWS account; no GPU, S3 or network is emulated.
//!
//! A non-zero exit is the job failing; its exit code and the `opt/ml/output/failure` file (the
//! toolkit's convention for the failure reason) are reported.

mod deploy;
mod error;
mod hosts;
mod job;
pub mod namespace;
pub mod toolkit;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::layout::Sandbox;
use crate::process::{Exit, PackOutcome};

pub use deploy::{endpoint_view, EndpointView};
pub use error::SimError;
pub use job::INSTANCE_TYPE;
pub use namespace::Paths;

/// The most hosts one emulated job may have.
pub const MAX_HOSTS: usize = 16;

/// What to run.
#[derive(Clone, Debug, Default)]
pub struct SimOptions {
    /// The training command.
    pub argv: Vec<String>,
    /// Input channels: name and the local directory to copy in.
    pub inputs: Vec<(String, PathBuf)>,
    /// Kill the job after this long.
    pub timeout: Option<Duration>,
    /// Copied into `opt/ml/code`, where the command runs.
    pub source_dir: Option<PathBuf>,
    /// `--hp NAME=VALUE`, in order.
    pub hyperparameters: Vec<(String, String)>,
    /// How many hosts (instances); 0 means 1.
    pub hosts: usize,
    /// Run the entry point through `sagemaker-training` with this Python.
    pub toolkit: Option<PathBuf>,
}

/// One host of a finished job.
pub struct HostRun {
    /// `algo-1` …
    pub name: String,
    /// Its sandbox (kept alive; call `keep()` to leave it on disk).
    pub sandbox: Sandbox,
    /// How its command ended.
    pub outcome: PackOutcome,
    /// The content of its `opt/ml/output/failure`, if the script wrote one.
    pub failure: Option<String>,
}

/// How the job ended.
pub struct SimJob {
    /// Every host, in order.
    pub hosts: Vec<HostRun>,
    /// With several hosts: a sandbox whose model dir is the hosts' model dirs merged.
    pub merged: Option<Sandbox>,
    /// Whether `/opt/ml` and `/tmp` were private.
    pub paths: Paths,
}

impl SimJob {
    /// The sandbox whose model dir is packed: the merged one, or the only host's.
    pub fn packed(&self) -> &Sandbox {
        self.merged.as_ref().unwrap_or(&self.hosts[0].sandbox)
    }

    /// True when every host's command exited 0.
    pub fn succeeded(&self) -> bool {
        self.hosts.iter().all(|h| h.outcome.exit.success())
    }
}

fn validate(opts: &SimOptions) -> Result<(), SimError> {
    if opts.argv.is_empty() {
        return Err(SimError::NoCommand);
    }
    let word_ok = |s: &str, extra: &[u8]| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || extra.contains(&b))
    };
    for (name, path) in &opts.inputs {
        if !word_ok(name, b"-") {
            return Err(SimError::BadChannel(name.clone()));
        }
        if !path.is_dir() {
            return Err(SimError::MissingInput {
                name: name.clone(),
                path: path.clone(),
            });
        }
    }
    for (i, (k, _)) in opts.hyperparameters.iter().enumerate() {
        if !word_ok(k, b"-.") {
            return Err(SimError::BadHyperparameter(k.clone()));
        }
        if opts.hyperparameters[..i].iter().any(|(o, _)| o == k) {
            return Err(SimError::DuplicateHyperparameter(k.clone()));
        }
    }
    if let Some(d) = &opts.source_dir {
        if !d.is_dir() {
            return Err(SimError::MissingSourceDir(d.clone()));
        }
    }
    if opts.hosts > MAX_HOSTS {
        return Err(SimError::BadHosts {
            got: opts.hosts,
            max: MAX_HOSTS,
        });
    }
    Ok(())
}

/// The command as run, its source dir, and the toolkit's extra hyperparameters.
type Prepared = (Vec<String>, Option<PathBuf>, Vec<(String, String)>);

/// Resolves the command against the caller's cwd, or, with the toolkit, turns it into the
/// toolkit's command and entry point.
fn prepare_command(opts: &SimOptions, here: Option<&Path>) -> Result<Prepared, SimError> {
    let Some(python) = &opts.toolkit else {
        // With a source dir, the command's words are relative to it (the job's cwd).
        let argv = if opts.source_dir.is_some() {
            opts.argv.clone()
        } else {
            (opts.argv.iter().enumerate())
                .map(|(i, w)| crate::packager::absolutize(i, w.clone(), here))
                .collect()
        };
        return Ok((argv, opts.source_dir.clone(), Vec::new()));
    };
    let (program, dir) = toolkit::entry_point(&opts.argv)?;
    let source = match &opts.source_dir {
        Some(d) => d.clone(),
        None => here.map(|h| h.join(&dir)).unwrap_or(dir),
    };
    if !source.join(&program).is_file() {
        return Err(SimError::ToolkitEntryPoint(format!(
            "{} (no `{program}` in `{}`)",
            opts.argv.join(" "),
            source.display()
        )));
    }
    let params = vec![(
        "sagemaker_program".to_owned(),
        serde_json::Value::String(program).to_string(),
    )];
    Ok((toolkit::command(python)?, Some(source), params))
}

/// Refuses a command word naming an existing host path under `/opt/ml`: the job's private
/// one hides it, and the command would fail with a confusing "no such file". (Paths under the
/// host's `/tmp` stay visible: see [`namespace::kept_tmp_entries`].)
fn hidden_word(argv: &[String]) -> Result<(), SimError> {
    for w in argv {
        let p = Path::new(w);
        if p.starts_with("/opt/ml") && p.exists() {
            return Err(SimError::HiddenPath(w.clone()));
        }
    }
    Ok(())
}

/// Builds every host's sandbox, runs the command on all of them at once, and returns how
/// they ended (with the hosts' model dirs merged when there are several).
pub fn run_job(opts: &SimOptions) -> Result<SimJob, SimError> {
    validate(opts)?;
    let here = std::env::current_dir().ok();
    let (argv, source_dir, mut framework_params) = prepare_command(opts, here.as_deref())?;
    let names: Vec<String> = (1..=opts.hosts.max(1))
        .map(|i| format!("algo-{i}"))
        .collect();
    let mut sandboxes = Vec::new();
    let mut procs = Vec::new();
    let mut paths = Paths::Private;
    let keep = namespace::kept_tmp_entries(&argv);
    for name in &names {
        let mut spec = job::JobSpec {
            inputs: &opts.inputs,
            source_dir: source_dir.as_deref(),
            hyperparameters: &opts.hyperparameters,
            framework_params: framework_params.clone(),
            hosts: names.clone(),
        };
        // Each host gets its own plan; once one falls back, the rest follow.
        let sandbox = job::build_host(&spec, name)?;
        let (p, mounts) = if paths == Paths::Private {
            namespace::choose(sandbox.root(), &names, &keep)
        } else {
            (paths.clone(), None)
        };
        let (ml, tmp) = match &mounts {
            Some(_) => (PathBuf::from("/opt/ml"), PathBuf::from("/tmp")),
            None => (sandbox.root().join("opt/ml"), sandbox.root().join("tmp")),
        };
        paths = p;
        if mounts.is_some() && opts.toolkit.is_none() {
            hidden_word(&argv)?;
        }
        if opts.toolkit.is_some() {
            let submit = serde_json::Value::String(ml.join("code").display().to_string());
            framework_params.retain(|(k, _)| k != "sagemaker_submit_directory");
            framework_params.push(("sagemaker_submit_directory".into(), submit.to_string()));
            spec.framework_params = framework_params.clone();
            job::write_hyperparameters(&spec, &sandbox)?;
        }
        // The toolkit sets the job's environment itself; it gets only where the job is.
        let env = match (&opts.toolkit, &mounts) {
            (None, _) => job::environment(&spec, name, &ml, &tmp),
            (Some(_), Some(_)) => vec![("TMPDIR".into(), tmp.into_os_string())],
            // Without the private /etc/hosts the host names do not resolve: the toolkit's
            // own switch skips its wait for them.
            (Some(_), None) => vec![
                ("TMPDIR".into(), tmp.into_os_string()),
                ("SAGEMAKER_BASE_DIR".into(), ml.clone().into_os_string()),
                ("SM_STUDIO_LOCAL_MODE".into(), "true".into()),
            ],
        };
        procs.push(hosts::HostProcess {
            argv: argv.iter().map(OsString::from).collect(),
            cwd: sandbox.cwd(),
            env,
            mounts,
        });
        sandboxes.push(sandbox);
    }
    let outcomes = hosts::run_all(procs, opts.timeout);
    for sandbox in &sandboxes {
        namespace::unkeep(sandbox.root(), &keep);
    }
    if let Some(Exit::SpawnFailed(e)) = outcomes.first().map(|o| &o.exit) {
        return Err(SimError::Spawn(e.clone()));
    }
    let runs: Vec<HostRun> = (names.into_iter().zip(sandboxes).zip(outcomes))
        .map(|((name, sandbox), outcome)| {
            let failure = fs::read_to_string(sandbox.root().join("opt/ml/output/failure")).ok();
            HostRun {
                name,
                sandbox,
                outcome,
                failure,
            }
        })
        .collect();
    let merged = if runs.len() > 1 {
        Some(hosts::merge(
            &runs.iter().map(|h| &h.sandbox).collect::<Vec<_>>(),
        )?)
    } else {
        None
    };
    Ok(SimJob {
        hosts: runs,
        merged,
        paths,
    })
}
