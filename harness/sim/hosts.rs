//! Several hosts at once, and their model dirs merged into one as the platform does.
//!
//! Each host is one copy of the command in its own sandbox (its own `/opt/ml`, as every
//! instance of a job has its own disk), all started together. At the end SageMaker puts
//! every host's `/opt/ml/model` into the one `model.tar.gz`; AWS only says the hosts "should
//! ensure no file/directory names clash", and which copy of a clashing name survives is not
//! documented. Here the dirs are merged in host order, a later host's file replacing an
//! earlier one's; `multi-host-name-clash` names every such path
//! ([`crate::detect::host_clashes`]), whatever the order.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::job::copy_tree;
use super::SimError;
use crate::layout::{Layout, Sandbox};
use crate::process::{run_process, CancelToken, ChildSetup, MountPlan, PackOutcome, ProcessSpec};

/// One host's process, ready to start.
pub(super) struct HostProcess {
    /// The command.
    pub argv: Vec<OsString>,
    /// Its cwd on the host (the sandbox's code dir).
    pub cwd: PathBuf,
    /// Its environment.
    pub env: Vec<(String, OsString)>,
    /// Its private paths, if any.
    pub mounts: Option<MountPlan>,
}

/// Runs every host's process at once and waits for all of them; outcomes in host order.
pub(super) fn run_all(procs: Vec<HostProcess>, timeout: Option<Duration>) -> Vec<PackOutcome> {
    let cancel = CancelToken::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = procs
            .into_iter()
            .map(|p| {
                let cancel = cancel.clone();
                s.spawn(move || {
                    run_process(&ProcessSpec {
                        argv: p.argv,
                        cwd: p.cwd,
                        env: p.env,
                        timeout,
                        capture: false,
                        cancel,
                        setup: ChildSetup {
                            mounts: p.mounts,
                            ..ChildSetup::default()
                        },
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| PackOutcome {
                    exit: crate::process::Exit::SpawnFailed("the host's thread panicked".into()),
                    stdout: Vec::new(),
                    stderr: Vec::new(),
                    duration: Duration::ZERO,
                })
            })
            .collect()
    })
}

/// A fresh sandbox whose model dir holds every host's model dir, merged in host order.
pub(super) fn merge(hosts: &[&Sandbox]) -> Result<Sandbox, SimError> {
    let merged = Sandbox::materialize(&Layout::new())?;
    for h in hosts {
        copy_tree(&h.model_dir(), &merged.model_dir())?;
    }
    Ok(merged)
}
