//! One trial: a layout materialized, the packager run on it, and the contract judged.

use std::time::Duration;

use crate::archive::Manifest;
use crate::contract::{self, ContractOptions, Evidence, Property, Violation};
use crate::layout::{Layout, Root, Sandbox, SandboxError};
use crate::packager::{Exit, PackJob, Packager};

use super::{ExtraProperty, RunConfig};

/// Outcome of one packager run on one layout.
pub(super) enum Trial {
    /// Every property held.
    Pass,
    /// Some property broke.
    Fail(Vec<Violation>),
    /// The host could not build the layout.
    Reject(String),
    /// The packager could not be started.
    SpawnFailed(String),
}

/// What a trial measured of the packager's first run.
#[derive(Clone, Copy, Default)]
pub(super) struct Ran {
    /// Wall time of the packager run.
    pub(super) took: Duration,
    /// It was killed at the timeout.
    pub(super) timed_out: bool,
}

/// The sandbox's digest before the run and the model tree sliced from it.
fn snapshot(
    sandbox: &Sandbox,
) -> Result<(crate::layout::Digest, crate::archive::DiskTree), SandboxError> {
    let before = sandbox.digest()?;
    // One walk and one hash per file: the model tree is a slice of the digest.
    let tree = crate::archive::DiskTree::from_digest(
        &before,
        &crate::layout::RawPath::from(Root::Model.rel_dir()),
    );
    Ok((before, tree))
}

/// Runs `packager` on `layout` and judges it.
pub(super) fn trial(
    packager: &dyn Packager,
    layout: &Layout,
    cfg: &RunConfig,
    extra: &[ExtraProperty],
) -> (Trial, Ran) {
    let sandbox = match Sandbox::materialize(layout) {
        Ok(s) => s,
        Err(SandboxError::Unsupported { path, reason }) => {
            let why = format!("`{}`: {reason}", path.display());
            return (Trial::Reject(why), Ran::default());
        }
        Err(e) => return (Trial::Reject(e.to_string()), Ran::default()),
    };
    let (before, tree) = match snapshot(&sandbox) {
        Ok(x) => x,
        Err(e) => return (Trial::Reject(e.to_string()), Ran::default()),
    };
    let job = PackJob::for_sandbox(&sandbox, cfg.timeout).with_cancel(cfg.cancel.clone());
    let outcome = packager.pack(&job);
    let ran = Ran {
        took: outcome.duration,
        timed_out: outcome.exit == Exit::TimedOut,
    };
    if let Exit::SpawnFailed(e) = &outcome.exit {
        return (Trial::SpawnFailed(e.clone()), ran);
    }
    let after = match sandbox.digest() {
        Ok(d) => d,
        Err(e) => {
            // The packager broke the sandbox so badly it cannot be walked: that is a change.
            let v = Violation {
                property: Property::SourceUntouched,
                path: None,
                expected: "a sandbox that can still be walked".into(),
                found: e.to_string(),
                details: vec![],
            };
            return (Trial::Fail(vec![v]), ran);
        }
    };
    let second_run = if cfg.strict && outcome.exit.success() && job.output.is_file() {
        Some(second_run(packager, &sandbox, &job))
    } else {
        None
    };
    let ev = Evidence {
        sandbox: &sandbox,
        model_tree: &tree,
        before: &before,
        after: &after,
        outcome: &outcome,
        second_run,
    };
    let options = ContractOptions {
        strict: cfg.strict,
        target: cfg.target,
    };
    let judgement = contract::check(&ev, options);
    let mut violations = judgement.violations;
    if let Some(m) = &judgement.manifest {
        violations.extend(extra_violations(extra, m, &sandbox));
    }
    let _ = sandbox.remove();
    if violations.is_empty() {
        (Trial::Pass, ran)
    } else {
        (Trial::Fail(violations), ran)
    }
}

/// The user-defined properties that do not hold.
fn extra_violations(extra: &[ExtraProperty], m: &Manifest, sandbox: &Sandbox) -> Vec<Violation> {
    extra
        .iter()
        .filter_map(|p| {
            (p.check)(m, sandbox).err().map(|msg| Violation {
                property: Property::Custom(p.name.clone()),
                path: None,
                expected: "the user-defined property to hold".into(),
                found: msg,
                details: vec![],
            })
        })
        .collect()
}

/// Runs the packager a second time with the mtimes moved; returns the output's sha256.
fn second_run(packager: &dyn Packager, sandbox: &Sandbox, job: &PackJob) -> Option<[u8; 32]> {
    let first = job.output.with_extension("first");
    std::fs::rename(&job.output, &first).ok()?;
    let _ = sandbox.shift_mtimes(-86_400 * 3);
    let o = packager.pack(job);
    let h = if o.exit.success() {
        crate::layout::hash_file(&job.output).ok().map(|h| h.0)
    } else {
        None
    };
    let _ = std::fs::remove_file(&job.output);
    let _ = std::fs::rename(&first, &job.output);
    h
}
