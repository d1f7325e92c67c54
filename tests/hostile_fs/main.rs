//! Hostile filesystems for the reference packager (issue 7, part 2), through the library
//! (`ReferencePackager::pack_dir`) and the binary (`packtest pack`).
//!
//! Every case holds the packager to the same invariants (DESIGN §2 `loud-failure`,
//! `source-untouched`; hostile-inputs §4.2 N1–N7):
//! - either a correct archive (it reads cleanly and its diff against the model dir is empty),
//!   or a non-zero exit (1, or 2 for bad usage) whose message names the offending path;
//! - after a failure, no file at the output path (or the previous archive, byte-identical),
//!   and no `.packtest-*.partial` temp file left behind (except after SIGKILL);
//! - the sandbox (model dir, working dir, `outside/`) is unchanged (tree digest).
//!
//! The static cases are a table ([`cases`]); the ones that need a thread, a signal, a mount or
//! a resource limit are their own tests ([`dynamic`]). Permission cases run the binary as
//! uid/gid 65534 with `setpriv` (as root they would prove nothing) and are skipped, with the
//! reason printed, when that is impossible. `HOSTILE_FS_CASE=name` runs one table case.

mod cases;
mod dynamic;
mod support;

#[path = "../common/unavailable.rs"]
mod unavailable;

use std::time::Duration;

use packtest::target::Target;
use packtest::ReferencePackager;

use cases::{cases, Expect};
use support::*;

#[test]
fn the_table_has_at_least_22_uniquely_named_cases() {
    let all = cases();
    let names: std::collections::BTreeSet<&str> = all.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), all.len(), "duplicate case names");
    assert!(all.len() >= 22, "only {} cases", all.len());
}

/// Every case under `posix` (links and special files stored as they are) and under the default
/// `sagemaker` (links copied or refused, special files refused).
fn both_targets() -> Vec<(cases::Case, Target)> {
    [Target::Posix, Target::Sagemaker]
        .into_iter()
        .flat_map(|t| cases().into_iter().map(move |c| (c, t)))
        .collect()
}

#[test]
fn every_case_keeps_the_invariants_through_the_library() {
    let only = std::env::var("HOSTILE_FS_CASE").ok();
    let mut failures = Vec::new();
    for (c, target) in both_targets() {
        if only.as_deref().is_some_and(|o| o != c.name) {
            continue;
        }
        if c.as_nobody {
            // In-process calls run as root, which reads mode-000 files: no test at all.
            continue;
        }
        let Some(fx) = prepare(&c) else { continue };
        let before = fx.state();
        let r = ReferencePackager::for_target(target).pack_dir(&fx.model, &fx.output);
        let outcome = match r {
            Ok(_) => Outcome::Packed,
            Err(e) => Outcome::Failed {
                code: if e.is_usage() { 2 } else { 1 },
                message: e.to_string(),
            },
        };
        if let Err(e) = fx.judge(&c, target, &outcome, &before) {
            failures.push(format!("{} [{target}] ({}): {e}", c.name, c.about));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) broke an invariant:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_case_keeps_the_invariants_through_packtest_pack() {
    let only = std::env::var("HOSTILE_FS_CASE").ok();
    let mut failures = Vec::new();
    let mut ran = 0;
    for (c, target) in both_targets() {
        if only.as_deref().is_some_and(|o| o != c.name) {
            continue;
        }
        if c.as_nobody {
            if let Err(why) = nobody_available() {
                unavailable::unavailable(c.name, &why);
                continue;
            }
        }
        let Some(fx) = prepare(&c) else { continue };
        let before = fx.state();
        let r = run_pack(
            &fx.model,
            &fx.output,
            &fx.sandbox.cwd(),
            &RunOpts {
                as_nobody: c.as_nobody,
                timeout: Duration::from_secs(60),
                target: Some(target.id()),
                ..RunOpts::default()
            },
        );
        let outcome = match (r.code, r.signal) {
            (Some(0), _) => Outcome::Packed,
            (Some(code), _) if code != 101 => Outcome::Failed {
                code,
                message: String::from_utf8_lossy(&r.stderr).into_owned(),
            },
            _ => {
                failures.push(format!("{}: {}", c.name, r.ending()));
                continue;
            }
        };
        ran += 1;
        if let Err(e) = fx.judge(&c, target, &outcome, &before) {
            failures.push(format!("{} [{target}] ({}): {e}", c.name, c.about));
        }
    }
    assert!(ran > 0 || only.is_some(), "no case ran");
    assert!(
        failures.is_empty(),
        "{} case(s) broke an invariant:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The outcome of one pack, however it was run.
#[derive(Debug)]
enum Outcome {
    Packed,
    Failed { code: i32, message: String },
}

impl Fixture {
    /// Checks the invariants for `c` after `outcome`.
    fn judge(
        &self,
        c: &cases::Case,
        target: Target,
        outcome: &Outcome,
        before: &TreeState,
    ) -> Result<(), String> {
        let mut bad = Vec::new();
        match (&c.expect_for(target), outcome) {
            (Expect::Packed, Outcome::Packed) => {
                if let Err(e) = archive_matches_model_for(&self.output, &self.model, target) {
                    bad.push(e);
                }
                let strays = partials(&self.out_dir());
                if !strays.is_empty() {
                    bad.push(format!("temp files left after success: {strays:?}"));
                }
            }
            (Expect::Fails { code, names }, Outcome::Failed { code: got, message }) => {
                if got != code {
                    bad.push(format!("exit {got}, expected {code}: {message}"));
                }
                let named = self.sandbox.root().join(names);
                let want = named.to_string_lossy();
                // Very long paths are checked by their first 200 bytes.
                let want = &want[..want.len().min(200)];
                if !message.contains(want) {
                    bad.push(format!("the message does not name `{want}`: {message}"));
                }
                match &self.previous {
                    Some(old) => {
                        if std::fs::read(&self.output).ok().as_ref() != Some(old) {
                            bad.push("the previous archive at the output path changed".into());
                        }
                    }
                    None => {
                        if let Some(kind) = c.output_kind_before {
                            // Something that is not ours sat at the output path: it must be
                            // left exactly as it was.
                            if file_kind(&self.output) != Some(kind) {
                                bad.push(format!(
                                    "the output path was a {kind}, now {:?}",
                                    file_kind(&self.output)
                                ));
                            }
                        } else if std::fs::symlink_metadata(&self.output).is_ok() {
                            bad.push("a file was left at the output path".into());
                        }
                    }
                }
                let strays = partials(&self.out_dir());
                if !strays.is_empty() {
                    bad.push(format!("temp files left after a clean failure: {strays:?}"));
                }
            }
            (want, got) => bad.push(format!("expected {want:?}, got {got:?}")),
        }
        let after = self.state();
        if after != *before {
            bad.push(format!(
                "the sandbox changed: {}",
                before.changes(&after).join("; ")
            ));
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(bad.join("; "))
        }
    }
}
