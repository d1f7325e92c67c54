//! One trial: a layout materialized, the packager run on it, and the contract judged.

use std::time::Duration;

use crate::archive::Manifest;
use crate::contract::{self, ContractOptions, Diagnosed, Evidence, Property, SecondRun, Violation};
use crate::layout::{Layout, Root, Sandbox, SandboxError};
use crate::packager::{Exit, PackJob, Packager};

use super::vary::{self, Bisection, Variation};
use super::{ExtraProperty, RunConfig};

/// What a failing trial found: the broken properties and their diagnosed causes.
#[derive(Clone, Debug, Default)]
pub(super) struct Failure {
    /// The violations.
    pub violations: Vec<Violation>,
    /// The root causes, each naming the violations it explains.
    pub diagnoses: Vec<Diagnosed>,
}

impl Failure {
    /// A failure no diagnosis explains.
    fn raw(violations: Vec<Violation>) -> Failure {
        Failure {
            violations,
            diagnoses: Vec::new(),
        }
    }

    /// As a case status.
    pub(super) fn status(self) -> crate::outcome::CaseStatus {
        crate::outcome::CaseStatus::Failed {
            violations: self.violations,
            diagnoses: self.diagnoses,
        }
    }
}

/// Outcome of one packager run on one layout.
pub(super) enum Trial {
    /// Every property held.
    Pass,
    /// Some property broke.
    Fail(Failure),
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

/// Whether a strict trial whose rerun differs also bisects the variations (up to one more
/// packager run per variation). A run bisects once per cause, on its minimal layout, not on
/// every failing case and shrink candidate: for a packager that takes seconds per run, that
/// is the difference between minutes and an hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Bisect {
    /// Name the variations that change the output.
    Yes,
    /// Only say that the output differs.
    No,
}

/// Runs `packager` on `layout` and judges it.
pub(super) fn trial(
    packager: &dyn Packager,
    layout: &Layout,
    cfg: &RunConfig,
    extra: &[ExtraProperty],
    bisect: Bisect,
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
    let mut job = PackJob::for_sandbox(&sandbox, cfg.timeout).with_cancel(cfg.cancel.clone());
    if cfg.strict && packager.runs_as_process() {
        job.setup = vary::first_run_setup(&sandbox);
    }
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
            return (Trial::Fail(Failure::raw(vec![v])), ran);
        }
    };
    let mut unproven = None;
    let second_run = if cfg.strict && outcome.exit.success() && job.output.is_file() {
        match second_run(packager, &sandbox, layout, &job, bisect) {
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
    let found = Failure {
        violations,
        diagnoses: judgement.diagnoses,
    };
    (verdict(found, unproven), ran)
}

/// The trial's outcome. A strict rerun that could not be made as specified proves nothing,
/// and the host, not the packager, is at fault: the case is rejected (counted and shown, never
/// a pass), unless the evidence already gathered shows a violation.
fn verdict(found: Failure, unproven: Option<String>) -> Trial {
    match unproven {
        _ if !found.violations.is_empty() => Trial::Fail(found),
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

/// Runs the packager a second time with every variation that can be varied here (see
/// `vary`); when the output differs, bisects to name the variations that change it. Its
/// output is kept beside the first (`model.tar.rerun`) for the diff. `Err` when the rerun
/// could not be set up (the first output could not be set aside, a variation could not be
/// applied or undone): then it would prove nothing.
fn second_run(
    packager: &dyn Packager,
    sandbox: &Sandbox,
    layout: &Layout,
    job: &PackJob,
    bisect: Bisect,
) -> Result<SecondRun, String> {
    let (on, off) = vary::plan(packager);
    let first = job.output.with_extension("first");
    let kept = job.output.with_extension("rerun");
    std::fs::rename(&job.output, &first)
        .map_err(|e| format!("the first output could not be set aside: {e}"))?;
    let put_back = || std::fs::rename(&first, &job.output);
    let (mut on, mut off) = (on, off);
    let mut r = match vary::rerun(packager, sandbox, layout, job, &on, Some(&kept)) {
        Ok(r) => r,
        Err(e) => {
            let _ = put_back();
            return Err(e);
        }
    };
    if r.output.is_none() && on.contains(&Variation::User) {
        // A packager that cannot run as another user at all (its program under a 0700 home)
        // says nothing about reproducibility: the rerun is made again without that variation.
        let without: Vec<Variation> = on
            .iter()
            .copied()
            .filter(|v| *v != Variation::User)
            .collect();
        match vary::rerun(packager, sandbox, layout, job, &without, Some(&kept)) {
            Ok(r2) if r2.output.is_some() => {
                off.push((
                    Variation::User,
                    "the packager produced no archive as uid 65534 (can that user read and run it?)",
                ));
                on = without;
                r = r2;
            }
            Ok(_) => {}
            Err(e) => {
                let _ = put_back();
                return Err(e);
            }
        }
    }
    let first_hash = crate::layout::hash_file(&first).ok().map(|h| h.0);
    let mut not_varied: Vec<String> = off
        .iter()
        .map(|(v, why)| format!("{} ({why})", v.id()))
        .collect();
    if r.order_not_varied {
        not_varied.push(format!(
            "{} (no directory of this layout lists differently on this filesystem)",
            Variation::ReaddirOrder.id()
        ));
    }
    let mut second = SecondRun {
        output: r.output,
        output_file: r.output.map(|_| kept.clone()),
        after: r.after,
        varied: on
            .iter()
            .filter(|v| !(r.order_not_varied && **v == Variation::ReaddirOrder))
            .map(|v| format!("{}: {}", v.id(), v.describe()))
            .collect(),
        not_varied,
        causes: Vec::new(),
        attribution: None,
    };
    if r.output.is_some() && r.output != first_hash {
        if bisect == Bisect::Yes {
            wait_for_the_next_clock_second(&first);
            let b = vary::bisect(packager, sandbox, layout, job, &on, first_hash);
            attribute(&mut second, b);
        } else {
            second.attribution = Some(
                "not bisected on this case: the variation that changes the output is named once per cause, on its minimal layout".into(),
            );
        }
    }
    put_back().map_err(|e| format!("the first output could not be put back: {e}"))?;
    Ok(second)
}

/// Waits until the wall clock is past the second in which the first output was written.
///
/// Tar and gzip stamp whole seconds. A packager that stamps the clock (a gzip header mtime
/// from `time.time()`, as `tarfile.open(mode="w:gz")` does) changes its output once a second;
/// without the wait, the bisection's control run (nothing varied) can fall in the first run's
/// second and match it, and every variation whose run fell in a later second is blamed. With
/// it, such a packager shows as nondeterministic by itself. Usually free: the rerun itself
/// took most of the second.
fn wait_for_the_next_clock_second(first_output: &std::path::Path) {
    let written = std::fs::metadata(first_output).and_then(|m| m.modified());
    if let Ok(written) = written {
        let past = written + std::time::Duration::from_millis(1_050);
        if let Ok(left) = past.duration_since(std::time::SystemTime::now()) {
            std::thread::sleep(left);
        }
    }
}

/// Writes what the bisection found into the rerun's evidence.
fn attribute(second: &mut SecondRun, b: Bisection) {
    second.attribution = Some(match b {
        Bisection::Unvaried => {
            second.causes.push("none".into());
            "a third run with nothing varied, in a later second, differs too: the packager stamps the clock or is nondeterministic by itself (a random name, thread timing)".into()
        }
        Bisection::Causes(vs) => {
            second.causes = vs.iter().map(|v| v.id().to_owned()).collect();
            let named: Vec<String> = vs
                .iter()
                .map(|v| format!("`{}` ({})", v.id(), v.describe()))
                .collect();
            format!(
                "varied alone, each of these changes the output: {}",
                named.join("; ")
            )
        }
        Bisection::Combination => {
            "no variation alone changes the output; only several together do".into()
        }
        Bisection::Failed(e) => format!("the bisection could not finish: {e}"),
    });
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

    /// A strict trial of `p` on the baseline layout, bisecting.
    fn strict_baseline(p: &dyn Packager) -> Trial {
        trial(
            p,
            &super::super::baseline_layout(),
            &strict(),
            &[],
            Bisect::Yes,
        )
        .0
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
        let t = strict_baseline(&p);
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
        let t = strict_baseline(&p);
        let v = violations(&t);
        assert!(
            v.iter()
                .any(|x| x.property == Property::SourceUntouched && x.found.contains("second run")),
            "{v:?}"
        );
    }

    #[test]
    fn a_rerun_whose_variations_cannot_be_applied_is_an_error_and_leaves_the_output() {
        let layout = super::super::baseline_layout();
        let sandbox = Sandbox::materialize(&layout).unwrap();
        let job = PackJob::for_sandbox(&sandbox, Duration::from_secs(60));
        reference(&job.model_dir, &job.output).unwrap();
        let p = FnPackager::new("reference", reference);
        assert!(second_run(&p, &sandbox, &layout, &job, Bisect::Yes).is_ok());
        assert!(job.output.is_file(), "the first output is put back");
        // With the model dir gone, it cannot be rebuilt in another order nor its mtimes moved.
        std::fs::remove_dir_all(&job.model_dir).unwrap();
        let r = second_run(&p, &sandbox, &layout, &job, Bisect::Yes);
        assert!(r.is_err_and(|why| why.contains("could not be")));
        assert!(job.output.is_file(), "the first output is put back");
    }

    #[test]
    fn a_packager_that_differs_with_nothing_varied_is_called_nondeterministic_by_itself() {
        // Writes a run counter: every run differs, whatever is varied.
        let runs = AtomicUsize::new(0);
        let p = FnPackager::new("counter", |_m: &Path, out: &Path| {
            let n = runs.fetch_add(1, Ordering::SeqCst);
            std::fs::write(out, n.to_string()).map_err(|e| e.to_string())
        });
        let layout = super::super::baseline_layout();
        let sandbox = Sandbox::materialize(&layout).unwrap();
        let job = PackJob::for_sandbox(&sandbox, Duration::from_secs(60));
        assert!(matches!(p.pack(&job).exit, crate::packager::Exit::Code(0)));
        let second = second_run(&p, &sandbox, &layout, &job, Bisect::Yes).unwrap();
        assert_eq!(second.causes, ["none"], "{second:?}");
        assert!(second
            .attribution
            .is_some_and(|a| a.contains("nondeterministic by itself")));
    }

    #[test]
    fn a_packager_that_lists_in_readdir_order_is_blamed_on_the_order() {
        // Stores the model dir's top-level files in the order the filesystem lists them.
        let p = FnPackager::new("readdir order", |model: &Path, out: &Path| {
            let names: Vec<String> = std::fs::read_dir(model)
                .map_err(|e| e.to_string())?
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            std::fs::write(out, names.join("\n")).map_err(|e| e.to_string())
        });
        let layout = super::super::baseline_layout();
        let sandbox = Sandbox::materialize(&layout).unwrap();
        let job = PackJob::for_sandbox(&sandbox, Duration::from_secs(60));
        assert!(matches!(p.pack(&job).exit, crate::packager::Exit::Code(0)));
        let second = second_run(&p, &sandbox, &layout, &job, Bisect::Yes).unwrap();
        // tmpfs lists in creation order, so there the order must vary; elsewhere (ext4 lists
        // in hash order) it may be reported as not varied.
        let c = std::ffi::CString::new(sandbox.root().as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a zeroed statfs is a valid out-parameter; `c` is NUL-terminated.
        let tmpfs = unsafe {
            let mut st: libc::statfs = std::mem::zeroed();
            libc::statfs(c.as_ptr(), &mut st) == 0 && st.f_type == libc::TMPFS_MAGIC
        };
        if !tmpfs
            && second
                .not_varied
                .iter()
                .any(|n| n.starts_with("readdir-order"))
        {
            crate::unavailable::unavailable(
                "the readdir-order bisection",
                "this filesystem lists the same whatever the creation order",
            );
            return;
        }
        assert_eq!(second.causes, ["readdir-order"], "{second:?}");
    }

    #[test]
    fn an_unproven_rerun_rejects_a_clean_case_and_never_hides_a_violation() {
        assert!(matches!(
            verdict(Failure::default(), Some("why".into())),
            Trial::Reject(r) if r.contains("why")
        ));
        assert!(matches!(verdict(Failure::default(), None), Trial::Pass));
        let v = Violation {
            property: Property::Sorted,
            path: None,
            expected: String::new(),
            found: String::new(),
            details: vec![],
        };
        assert!(matches!(
            verdict(Failure::raw(vec![v]), Some("why".into())),
            Trial::Fail(_)
        ));
    }

    fn violations(t: &Trial) -> Vec<Violation> {
        match t {
            Trial::Fail(f) => f.violations.clone(),
            Trial::Reject(r) | Trial::SpawnFailed(r) => panic!("not run: {r}"),
            Trial::Pass => vec![],
        }
    }
}
