//! How the run ended: `source-untouched`, `loud-failure`, and the exit-and-output half of
//! `exit-and-output` (a non-zero exit only where refusing is allowed; exit 0 with a file).

use std::fs::Metadata;

use super::property::{capped, stderr_excerpt, v, Property, Violation};
use crate::layout::{Digest, RawPath};
use crate::packager::{Exit, PackOutcome};
use crate::target::Target;

/// `source-untouched`: the sandbox identical before and after the run.
pub(super) fn check_source_untouched(before: &Digest, after: &Digest, out: &mut Vec<Violation>) {
    let changes = before.changes(after);
    if !changes.is_empty() {
        let mut x = v(
            Property::SourceUntouched,
            None,
            "the sandbox identical before and after the run",
            format!("{} change(s)", changes.len()),
        );
        x.details = capped(changes);
        out.push(x);
    }
}

/// `source-untouched` for the strict rerun: what it changed in the sandbox the first run
/// left (mtimes are not in the digest, so moving them is not a change).
pub(super) fn check_rerun_untouched(
    after_first: &Digest,
    after_rerun: Result<&Digest, &String>,
    out: &mut Vec<Violation>,
) {
    let after_rerun = match after_rerun {
        Ok(d) => d,
        Err(e) => {
            out.push(v(
                Property::SourceUntouched,
                None,
                "a sandbox that can still be walked after the strict rerun",
                e.clone(),
            ));
            return;
        }
    };
    let changes = after_first.changes(after_rerun);
    if !changes.is_empty() {
        let mut x = v(
            Property::SourceUntouched,
            None,
            "the sandbox untouched by the strict rerun too (the packager run again with its inputs varied)",
            format!("{} change(s) made by the second run", changes.len()),
        );
        x.details = capped(changes);
        out.push(x);
    }
}

/// A failed run: `loud-failure` (a timeout, silence, a file left behind), and
/// `exit-and-output` when the model dir has nothing a packager may refuse (`refusable`).
pub(super) fn check_failed_run(
    outcome: &PackOutcome,
    out_meta: Option<&Metadata>,
    refusable: bool,
    target: Target,
    out: &mut Vec<Violation>,
) {
    if matches!(outcome.exit, Exit::TimedOut) {
        out.push(v(
            Property::LoudFailure,
            None,
            "the packager to finish within the timeout",
            format!(
                "it was killed after {:.1} s, the per-run limit; raise the limit with --timeout \
                 SECS (Harness: .timeout(…)) if it is slow rather than hung",
                outcome.duration.as_secs_f64()
            ),
        ));
    } else if outcome.stderr.iter().all(|b| b.is_ascii_whitespace()) {
        out.push(v(
            Property::LoudFailure,
            None,
            "a failing packager to say why on stderr",
            format!("{} and nothing on stderr", outcome.exit),
        ));
    }
    if let Some(meta) = out_meta {
        out.push(v(
            Property::LoudFailure,
            Some(RawPath::from("out/model.tar.gz")),
            "no file at the output path after a failure",
            format!(
                "{} and a {}-byte file left at the output path",
                outcome.exit,
                meta.len()
            ),
        ));
    }
    if !refusable && !matches!(outcome.exit, Exit::TimedOut) {
        let mut x = v(
            Property::ExitAndOutput,
            None,
            format!(
                "exit 0 and an archive: this model dir has nothing a packager may refuse for target `{target}`"
            ),
            outcome.exit.to_string(),
        );
        x.details = stderr_excerpt(&outcome.stderr);
        out.push(x);
    }
}

/// `exit-and-output` after exit 0: a regular file at the output path. False when there is none.
pub(super) fn check_output_file(out_meta: Option<&Metadata>, out: &mut Vec<Violation>) -> bool {
    if out_meta.is_some_and(|m| m.is_file()) {
        return true;
    }
    out.push(v(
        Property::ExitAndOutput,
        Some(RawPath::from("out/model.tar.gz")),
        "exit 0 and a regular file at the output path",
        match out_meta {
            None => "exit 0 and no file: a silent failure".to_string(),
            Some(m) => format!("exit 0 and a {:?} at the output path", m.file_type()),
        },
    ));
    false
}
