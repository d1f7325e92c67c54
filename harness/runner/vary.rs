//! The strict rerun's variations, in the manner of reprotest: what differs between the first
//! run of a packager and its rerun, and the bisection that names which variation changes the
//! output.
//!
//! The first run of a strict trial gets a fixed setup ([`first_run_setup`]); the rerun
//! changes every [`Variation`] that can be varied here at once. When the two outputs differ,
//! [`bisect`] runs the packager again with nothing varied (if that differs too, the packager
//! is nondeterministic by itself), then with each variation alone, and names each one that
//! changes the output by itself.

use std::path::{Path, PathBuf};

use crate::layout::{Layout, ReorderedModel, Sandbox, SandboxError};
use crate::packager::{PackJob, Packager};
use crate::process::ChildSetup;

/// How far the strict rerun moves every mtime in the model dir (three days back).
pub(super) const MTIME_SHIFT: i64 = -86_400 * 3;

/// The uid and gid the rerun runs as, when packtest is root (`nobody`).
const OTHER_USER: (u32, u32) = (65_534, 65_534);

/// The `SOURCE_DATE_EPOCH` the rerun sets (2023-11-14); the first run has none.
const SOURCE_DATE_EPOCH: &str = "1700000000";

/// One thing the strict rerun changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variation {
    /// Every mtime in the model dir moved three days back.
    Mtimes,
    /// The model dir rebuilt in reverse creation order.
    ReaddirOrder,
    /// umask 022, then 077.
    Umask,
    /// `TZ` UTC, then UTC+14.
    Timezone,
    /// `LC_ALL`/`LANG` C.UTF-8, then tr_TR.UTF-8.
    Locale,
    /// `SOURCE_DATE_EPOCH` unset, then set.
    SourceDateEpoch,
    /// All of packtest's CPUs, then one.
    Cpus,
    /// `HOME` one directory, then another.
    Home,
    /// root, then `nobody` (only when packtest runs as root).
    User,
}

impl Variation {
    /// Every variation, in the order they are tried.
    pub const ALL: [Variation; 9] = [
        Variation::Mtimes,
        Variation::ReaddirOrder,
        Variation::Umask,
        Variation::Timezone,
        Variation::Locale,
        Variation::SourceDateEpoch,
        Variation::Cpus,
        Variation::Home,
        Variation::User,
    ];

    /// The stable id named in reports.
    pub fn id(self) -> &'static str {
        match self {
            Variation::Mtimes => "mtimes",
            Variation::ReaddirOrder => "readdir-order",
            Variation::Umask => "umask",
            Variation::Timezone => "tz",
            Variation::Locale => "locale",
            Variation::SourceDateEpoch => "source-date-epoch",
            Variation::Cpus => "cpus",
            Variation::Home => "home",
            Variation::User => "uid",
        }
    }

    /// What differs between the two runs.
    pub fn describe(self) -> &'static str {
        match self {
            Variation::Mtimes => "model dir mtimes moved 3 days back",
            Variation::ReaddirOrder => {
                "model dir created in reverse order, so directories list differently"
            }
            Variation::Umask => "umask 022, then 077",
            Variation::Timezone => "TZ=UTC0, then TZ=<+14>-14",
            Variation::Locale => "LC_ALL/LANG C.UTF-8, then tr_TR.UTF-8",
            Variation::SourceDateEpoch => "SOURCE_DATE_EPOCH unset, then 1700000000",
            Variation::Cpus => "all CPUs, then 1 CPU (sched_setaffinity)",
            Variation::Home => "HOME=out/home, then out/home-rerun",
            Variation::User => "uid 0, then uid 65534 (sandbox chowned)",
        }
    }

    /// Why it cannot be varied for this packager here, if it cannot.
    fn unavailable(self, in_process: bool) -> Option<&'static str> {
        match self {
            Variation::Mtimes | Variation::ReaddirOrder => None,
            _ if in_process => Some("the packager runs in packtest's own process"),
            // SAFETY: geteuid has no preconditions.
            Variation::User if unsafe { libc::geteuid() } != 0 => Some("packtest is not root"),
            Variation::Cpus if crate::process::allowed_cpus() < 2 => {
                Some("packtest may use only one CPU")
            }
            _ => None,
        }
    }

    /// The rerun's side of a process variation.
    fn rerun_setup(self, sandbox: &Sandbox) -> ChildSetup {
        let env = |pairs: &[(&str, &str)]| ChildSetup {
            env: pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            ..ChildSetup::default()
        };
        match self {
            Variation::Umask => ChildSetup {
                umask: Some(0o077),
                ..ChildSetup::default()
            },
            Variation::Timezone => env(&[("TZ", "<+14>-14")]),
            Variation::Locale => env(&[("LC_ALL", "tr_TR.UTF-8"), ("LANG", "tr_TR.UTF-8")]),
            Variation::SourceDateEpoch => env(&[("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)]),
            Variation::Cpus => ChildSetup {
                cpus: Some(1),
                ..ChildSetup::default()
            },
            Variation::Home => ChildSetup {
                env: vec![("HOME".into(), home(sandbox, true).into_os_string())],
                ..ChildSetup::default()
            },
            Variation::User => ChildSetup {
                user: Some(OTHER_USER),
                ..ChildSetup::default()
            },
            Variation::Mtimes | Variation::ReaddirOrder => ChildSetup::default(),
        }
    }
}

/// The `HOME` of the first run, or of the rerun: a directory under `out/`, which the sandbox
/// digest leaves out.
fn home(sandbox: &Sandbox, rerun: bool) -> PathBuf {
    sandbox
        .root()
        .join(if rerun { "out/home-rerun" } else { "out/home" })
}

/// The setup of a strict trial's first run: umask 022, UTC, the C.UTF-8 locale, no
/// `SOURCE_DATE_EPOCH`, `HOME` under `out/` (created here).
pub(super) fn first_run_setup(sandbox: &Sandbox) -> ChildSetup {
    for rerun in [false, true] {
        let _ = std::fs::create_dir_all(home(sandbox, rerun));
    }
    ChildSetup {
        umask: Some(0o022),
        env: vec![
            ("TZ".into(), "UTC0".into()),
            ("LC_ALL".into(), "C.UTF-8".into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("HOME".into(), home(sandbox, false).into_os_string()),
        ],
        env_remove: vec!["SOURCE_DATE_EPOCH".into()],
        cpus: None,
        user: None,
        mounts: None,
    }
}

/// The variations that can be varied for `packager` here, and why each other one cannot (or
/// can only in part: the rerun's locale, when it is not installed, changes `LANG` and
/// `LC_ALL` but not what the C library does).
pub(super) fn plan(packager: &dyn Packager) -> (Vec<Variation>, Vec<(Variation, &'static str)>) {
    let in_process = !packager.runs_as_process();
    let mut on = Vec::new();
    let mut off = Vec::new();
    for v in Variation::ALL {
        match v.unavailable(in_process) {
            None => on.push(v),
            Some(why) => off.push((v, why)),
        }
    }
    if on.contains(&Variation::Locale) && !locale_installed("tr_TR.utf8") {
        off.push((
            Variation::Locale,
            "only in part: tr_TR.UTF-8 is not installed, so LANG and LC_ALL change but the C library stays in C",
        ));
    }
    (on, off)
}

/// True when glibc has the locale `name` (its directory, or its name in the locale archive);
/// read once per process.
fn locale_installed(name: &'static str) -> bool {
    static CACHE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CACHE.get_or_init(|| {
        Path::new("/usr/lib/locale").join(name).is_dir()
            || std::fs::read("/usr/lib/locale/locale-archive")
                .is_ok_and(|a| a.windows(name.len()).any(|w| w == name.as_bytes()))
    })
}

/// What one rerun produced.
pub(super) struct Rerun {
    /// The sha256 of its output, if it produced one.
    pub(super) output: Option<[u8; 32]>,
    /// The sandbox digest right after it, before the variations were undone.
    pub(super) after: Result<crate::layout::Digest, String>,
    /// The readdir-order variation was asked for and no directory listed differently.
    pub(super) order_not_varied: bool,
}

/// Runs `packager` again with `vary` applied (sandbox changes and process setup on top of
/// `base`), keeps its output at `keep` (when given, else deletes it) and undoes the
/// variations. `Err` when a variation could not be applied or undone: then the rerun proves
/// nothing.
pub(super) fn rerun(
    packager: &dyn Packager,
    sandbox: &Sandbox,
    layout: &Layout,
    job: &PackJob,
    vary: &[Variation],
    keep: Option<&Path>,
) -> Result<Rerun, String> {
    let mut setup = job.setup.clone();
    for v in vary {
        setup = setup.merged(&v.rerun_setup(sandbox));
    }
    let reordered: Option<ReorderedModel> = if vary.contains(&Variation::ReaddirOrder) {
        Some(
            sandbox
                .reorder_model_dir(layout)
                .map_err(|e| format!("the model dir could not be rebuilt in another order: {e}"))?,
        )
    } else {
        None
    };
    let order_not_varied = reordered.as_ref().is_some_and(|r| !r.lists_differently);
    let applied = apply_sandbox(sandbox, vary);
    let result = applied.map(|()| {
        let j = PackJob {
            setup,
            ..job.clone()
        };
        let o = packager.pack(&j);
        let output = if o.exit.success() {
            crate::layout::hash_file(&job.output).ok().map(|h| h.0)
        } else {
            None
        };
        let after = sandbox.digest().map_err(|e| e.to_string());
        match keep {
            Some(k) if output.is_some() => {
                let _ = std::fs::rename(&job.output, k);
            }
            _ => {
                let _ = std::fs::remove_file(&job.output);
            }
        }
        Rerun {
            output,
            after,
            order_not_varied,
        }
    });
    let undone = undo_sandbox(sandbox, vary);
    let restored = reordered.map_or(Ok(()), ReorderedModel::restore);
    let r = result.map_err(|e| format!("a variation could not be applied: {e}"))?;
    undone.map_err(|e| format!("a variation could not be undone: {e}"))?;
    restored.map_err(|e| format!("the model dir could not be put back: {e}"))?;
    Ok(r)
}

/// Applies the sandbox side of the variations: mtimes moved, owners changed.
fn apply_sandbox(sandbox: &Sandbox, vary: &[Variation]) -> Result<(), SandboxError> {
    if vary.contains(&Variation::Mtimes) {
        sandbox.shift_mtimes(MTIME_SHIFT)?;
    }
    if vary.contains(&Variation::User) {
        sandbox.chown_all(OTHER_USER.0, OTHER_USER.1)?;
    }
    Ok(())
}

/// Undoes [`apply_sandbox`].
fn undo_sandbox(sandbox: &Sandbox, vary: &[Variation]) -> Result<(), SandboxError> {
    if vary.contains(&Variation::User) {
        // Everything in a sandbox was made by packtest, as the user it runs as.
        // SAFETY: geteuid and getegid have no preconditions.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        sandbox.chown_all(uid, gid)?;
    }
    if vary.contains(&Variation::Mtimes) {
        sandbox.shift_mtimes(-MTIME_SHIFT)?;
    }
    Ok(())
}

/// Which variations change the output, found by rerunning with one at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Bisection {
    /// The output changes with nothing varied: the packager is nondeterministic by itself.
    Unvaried,
    /// These variations each change the output alone.
    Causes(Vec<Variation>),
    /// No single variation does; only some combination of them.
    Combination,
    /// A rerun could not be made as specified.
    Failed(String),
}

/// Reruns with nothing varied, then with each of `on` alone, comparing with `first`.
pub(super) fn bisect(
    packager: &dyn Packager,
    sandbox: &Sandbox,
    layout: &Layout,
    job: &PackJob,
    on: &[Variation],
    first: Option<[u8; 32]>,
) -> Bisection {
    match rerun(packager, sandbox, layout, job, &[], None) {
        Ok(r) if r.output != first => return Bisection::Unvaried,
        Ok(_) => {}
        Err(e) => return Bisection::Failed(e),
    }
    let mut causes = Vec::new();
    for v in on {
        match rerun(packager, sandbox, layout, job, &[*v], None) {
            Ok(r) if r.output != first && !r.order_not_varied => causes.push(*v),
            Ok(_) => {}
            Err(e) => return Bisection::Failed(e),
        }
    }
    if causes.is_empty() {
        Bisection::Combination
    } else {
        Bisection::Causes(causes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_variation_is_described() {
        let ids: std::collections::BTreeSet<&str> = Variation::ALL.iter().map(|v| v.id()).collect();
        assert_eq!(ids.len(), Variation::ALL.len());
        assert!(Variation::ALL.iter().all(|v| !v.describe().is_empty()));
    }

    #[test]
    fn in_process_packagers_get_only_the_sandbox_variations() {
        assert_eq!(
            Variation::Umask.unavailable(true),
            Some("the packager runs in packtest's own process")
        );
        assert_eq!(Variation::Mtimes.unavailable(true), None);
        assert_eq!(Variation::ReaddirOrder.unavailable(true), None);
        assert_eq!(Variation::Umask.unavailable(false), None);
    }
}
