//! One trial: a layout materialized, the packager run on it, and the contract judged.

use std::time::Duration;

use crate::archive::Manifest;
use crate::contract::{self, ContractOptions, Evidence, Property, SecondRun, Violation};
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
    let mut unproven = None;
    let second_run = if cfg.strict && outcome.exit.success() && job.output.is_file() {
        match second_run(packager, &sandbox, &job, &|s| s.shift_mtimes(MTIME_SHIFT)) {
            Ok(r) => Some(r),
            Err(why) => {
                unproven = Some(why);
                None
            }
        }
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
    (verdict(violations, unproven), ran)
}

/// The trial's outcome. A strict rerun that could not be made as specified proves nothing,
/// and the host, not the packager, is at fault: the case is rejected (counted and shown, never
/// a pass), unless the evidence already gathered shows a violation.
fn verdict(violations: Vec<Violation>, unproven: Option<String>) -> Trial {
    match unproven {
        _ if !violations.is_empty() => Trial::Fail(violations),
        Some(why) => Trial::Reject(format!(
            "the strict rerun proves nothing, so `deterministic` was not checked: {why}"
        )),
        None => Trial::Pass,
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

/// How far the strict rerun moves every mtime in the model dir (three days back).
const MTIME_SHIFT: i64 = -86_400 * 3;

/// How the strict rerun moves the mtimes (injected, so a test can make it fail).
type Shift<'a> = &'a dyn Fn(&Sandbox) -> Result<(), SandboxError>;

/// Runs the packager a second time with the mtimes moved (by `shift`): its output's sha256 and
/// the sandbox digest after it. `Err` when the rerun could not be set up (the first output
/// could not be set aside, or the mtimes could not be moved): then it would prove nothing.
fn second_run(
    packager: &dyn Packager,
    sandbox: &Sandbox,
    job: &PackJob,
    shift: Shift<'_>,
) -> Result<SecondRun, String> {
    let first = job.output.with_extension("first");
    std::fs::rename(&job.output, &first)
        .map_err(|e| format!("the first output could not be set aside: {e}"))?;
    if let Err(e) = shift(sandbox) {
        let _ = std::fs::rename(&first, &job.output);
        return Err(format!("the mtimes could not be moved: {e}"));
    }
    let o = packager.pack(job);
    let output = if o.exit.success() {
        crate::layout::hash_file(&job.output).ok().map(|h| h.0)
    } else {
        None
    };
    let _ = std::fs::remove_file(&job.output);
    let _ = std::fs::rename(&first, &job.output);
    let after = sandbox.digest().map_err(|e| e.to_string());
    Ok(SecondRun { output, after })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::packager::{FnPackager, ReferencePackager};

    fn strict() -> RunConfig {
        RunConfig {
            strict: true,
            ..RunConfig::default()
        }
    }

    fn reference(model: &Path, out: &Path) -> Result<(), String> {
        ReferencePackager::new()
            .pack_dir(model, out)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_reference_packager_passes_strict_on_the_baseline() {
        let p = FnPackager::new("reference", reference);
        let (t, _) = trial(&p, &super::super::baseline_layout(), &strict(), &[]);
        assert!(matches!(t, Trial::Pass), "{:?}", violations(&t));
    }

    #[test]
    fn a_rerun_that_writes_into_the_model_dir_breaks_source_untouched() {
        let runs = AtomicUsize::new(0);
        let p = FnPackager::new("writes on its second run", |model: &Path, out: &Path| {
            if runs.fetch_add(1, Ordering::SeqCst) == 1 {
                std::fs::write(model.join("model.pth"), b"overwritten")
                    .map_err(|e| e.to_string())?;
            }
            reference(model, out)
        });
        let (t, _) = trial(&p, &super::super::baseline_layout(), &strict(), &[]);
        let v = violations(&t);
        assert!(
            v.iter()
                .any(|x| x.property == Property::SourceUntouched && x.found.contains("second run")),
            "{v:?}"
        );
    }

    #[test]
    fn a_rerun_whose_mtimes_cannot_be_moved_is_an_error_and_leaves_the_output() {
        let layout = super::super::baseline_layout();
        let sandbox = Sandbox::materialize(&layout).unwrap();
        let job = PackJob::for_sandbox(&sandbox, Duration::from_secs(60));
        reference(&job.model_dir, &job.output).unwrap();
        let p = FnPackager::new("reference", reference);
        let fail: Shift<'_> = &|_| {
            Err(SandboxError::Unsupported {
                path: "opt/ml/model".into(),
                reason: "read-only file system".into(),
            })
        };
        let r = second_run(&p, &sandbox, &job, fail);
        assert!(r.is_err_and(|why| why.contains("mtimes")));
        assert!(job.output.is_file(), "the first output is put back");
        assert!(second_run(&p, &sandbox, &job, &|s| s.shift_mtimes(MTIME_SHIFT)).is_ok());
    }

    #[test]
    fn an_unproven_rerun_rejects_a_clean_case_and_never_hides_a_violation() {
        assert!(matches!(
            verdict(vec![], Some("why".into())),
            Trial::Reject(r) if r.contains("why")
        ));
        assert!(matches!(verdict(vec![], None), Trial::Pass));
        let v = Violation {
            property: Property::Sorted,
            path: None,
            expected: String::new(),
            found: String::new(),
            details: vec![],
        };
        assert!(matches!(
            verdict(vec![v], Some("why".into())),
            Trial::Fail(_)
        ));
    }

    fn violations(t: &Trial) -> Vec<Violation> {
        match t {
            Trial::Fail(v) => v.clone(),
            Trial::Reject(r) | Trial::SpawnFailed(r) => panic!("not run: {r}"),
            Trial::Pass => vec![],
        }
    }
}
