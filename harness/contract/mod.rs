//! The packager contract, per deploy target: every property, with its stable id. The contract
//! itself follows this introduction; `packtest contract` prints the same text, which
//! [`crate::target::contract_text`] renders (a unit test keeps this page equal to it).
//!
//! [`check`] judges one packager run from the evidence the runner collected: the sandbox, the
//! tree digest before and after, the model dir as scanned before the run, and the outcome. It
//! reads the archive itself (never extracting) and returns [`Violation`]s, each explaining
//! itself: the property id, the offending member or path, what was expected and what was
//! found, and a short diff. The same function serves packtest's own tests, the runner, and a
//! platform team's `cargo test`. Each property group is one file: `outcome` (exit, output,
//! loud failure, source untouched), `framing` (valid gzip and tar), `names` (relative names,
//! duplicates), `containment`, `fidelity` (member types, fidelity, special files) and `strict`.
//!
//! The archive is judged by its consumer ([`crate::target`]): `member-types` lists the members
//! the target's consumer refuses, and `fidelity` compares what that consumer extracts with the
//! tree it must end up with, derived from the model dir ([`crate::target::expected()`]).
//!
//! Each judgement also carries its [`Diagnosed`] root causes ([`Diagnosis`] is the registry of
//! what a packager did wrong, in its own terms, with the fix per tool), each naming the
//! violations it explains.
//!
//! Attribution rules, so a defect is reported under the property that names it:
//! - a member the consumer refuses is `member-types`, and its path is not also `fidelity`;
//! - a FIFO or device that is missing or stored as another type is `special-files`, not
//!   `fidelity`;
//! - an archive whose members all sit under one extra folder (or the model dir's absolute
//!   path) is `relative-names` (wrong root); the rest of the contract then judges the names
//!   with that folder removed, so the mistake is reported once;
//! - archive content that equals a file outside the model dir, or a member that is not in the
//!   model dir and holds the start of the output archive (judged by content, never by name),
//!   is `containment` (and the member is not repeated as `fidelity`).
//! - a non-zero exit is acceptable (`loud-failure` then applies) only when the model dir holds
//!   something the target lets or makes a packager refuse (for `sagemaker`: a link that
//!   escapes, dangles or loops, a FIFO, a device; for every target: a socket, and a model
//!   dir with no regular file at all). Failing on any other layout is an `exit-and-output`
//!   violation;
//! - succeeding on a model dir that the target requires refusing is `special-files` for a FIFO
//!   or device and `fidelity` for a link, unless the archive already breaks `member-types` or
//!   `containment` at that path.
//!
#![doc = include_str!("CONTRACT.md")]

mod containment;
mod diagnosis;
mod fidelity;
mod framing;
mod names;
mod outcome;
mod property;
mod strict;
#[cfg(test)]
mod tests;

use std::fs;
use std::path::Path;

use crate::archive::{DiskTree, Manifest};
use crate::layout::{Digest, RawPath, Sandbox};
use crate::packager::PackOutcome;
use crate::target::{Expected, Target, World};

pub use diagnosis::{unexplained, Diagnosed, Diagnosis, Fix, Info};
pub use property::{elide, stderr_excerpt, Property, Violation};

use diagnosis::Facts;

/// Which profile and which deploy target to check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContractOptions {
    /// Also check `deterministic`, `sorted` and `normalized`.
    pub strict: bool,
    /// The consumer the archive is judged by (see `packtest contract`).
    pub target: Target,
}

/// What the runner observed for one packager run.
pub struct Evidence<'a> {
    /// The sandbox the packager ran in.
    pub sandbox: &'a Sandbox,
    /// The model dir as scanned before the run.
    pub model_tree: &'a DiskTree,
    /// The sandbox digest before the run.
    pub before: &'a Digest,
    /// The sandbox digest after the run.
    pub after: &'a Digest,
    /// How the packager ended.
    pub outcome: &'a PackOutcome,
    /// The strict rerun (with its variations), when one was made.
    pub second_run: Option<SecondRun>,
}

/// What the strict rerun observed: its output for `deterministic`, and the sandbox after it
/// for `source-untouched` (a rerun that writes into the model dir breaks it too), with what
/// it varied and, when the output differed, which variations change it.
#[derive(Clone, Debug)]
pub struct SecondRun {
    /// The sha256 of the second run's output, if it produced one.
    pub output: Option<[u8; 32]>,
    /// The second run's archive, kept for the diff, if it produced one.
    pub output_file: Option<std::path::PathBuf>,
    /// The sandbox digest after the second run, or why the sandbox could not be walked.
    pub after: Result<Digest, String>,
    /// What the rerun varied (`id: description`).
    pub varied: Vec<String>,
    /// What it could not vary here (`id (why)`).
    pub not_varied: Vec<String>,
    /// The ids of the variations that change the output alone (`none` when a run with
    /// nothing varied differs too); empty when not bisected.
    pub causes: Vec<String>,
    /// The bisection's finding, in a sentence.
    pub attribution: Option<String>,
}

/// The result of judging one run: the violations, what caused them, and the manifest (when
/// one was read).
pub struct Judgement {
    /// Broken properties; empty means the case passed.
    pub violations: Vec<Violation>,
    /// The root causes found, each with the violations (indices) it explains.
    pub diagnoses: Vec<Diagnosed>,
    /// The archive's manifest, when the output could be read.
    pub manifest: Option<Manifest>,
}

/// The tree `target`'s consumer must end up with, for the sandbox the evidence describes:
/// links resolve in the whole sandbox, as the kernel would resolve them for a packager.
pub fn expected_for(ev: &Evidence<'_>, target: Target) -> Expected {
    use std::os::unix::ffi::OsStrExt;
    let world = DiskTree::from_digest(ev.before, &RawPath::default());
    let model = RawPath::from(crate::layout::Root::Model.rel_dir());
    let abs = ev.sandbox.root().as_os_str().as_bytes();
    let w = World {
        entries: &world.entries,
        model: &model,
        abs_root: Some(abs),
    };
    crate::target::expected(&w, target)
}

/// True when a loud failure is an acceptable answer to this model dir: it holds something the
/// target lets or makes a packager refuse, or no regular file at all (refusing to ship an
/// empty model is what the user wants; DESIGN §2 `exit-and-output`).
fn refusable(expected: &Expected, model_tree: &DiskTree) -> bool {
    expected.refusable()
        || !model_tree
            .entries
            .values()
            .any(|e| e.kind == crate::archive::DiskKind::File)
}

/// Judges one run against the contract.
pub fn check(ev: &Evidence<'_>, opts: ContractOptions) -> Judgement {
    let mut out = Vec::new();
    let output = ev.sandbox.output_path();
    let expected = expected_for(ev, opts.target);
    let mut facts = Facts::new(opts.target, ev.model_tree, &expected, ev.outcome);
    facts.second_run = ev.second_run.as_ref();
    outcome::check_source_untouched(ev.before, ev.after, &mut out);
    if let Some(r) = &ev.second_run {
        outcome::check_rerun_untouched(ev.after, r.after.as_ref(), &mut out);
    }
    let out_meta = fs::symlink_metadata(&output).ok();
    if !ev.outcome.exit.success() {
        facts.refusable = refusable(&expected, ev.model_tree);
        facts.output_left = out_meta.as_ref().map(fs::Metadata::len);
        outcome::check_failed_run(
            ev.outcome,
            out_meta.as_ref(),
            facts.refusable,
            opts.target,
            &mut out,
        );
        return Judgement::unread(out, &facts);
    }
    if !outcome::check_output_file(out_meta.as_ref(), &mut out) {
        return Judgement::unread(out, &facts);
    }
    let Some((manifest, err)) = framing::read_output(&output, ev.before, &mut out) else {
        return Judgement::unread(out, &facts);
    };
    framing::check_framing(&manifest, err.as_ref(), &mut out);
    let wrong_root =
        names::check_names(&manifest, ev.model_tree, &ev.sandbox.model_dir(), &mut out);
    names::check_duplicates(&manifest, &mut out);
    // Under a wrong root, the rest judges the names with that folder removed: one mistake is
    // reported once, and what else is wrong still shows.
    let judged = match &wrong_root {
        Some(root) => manifest.without_folder(root.path()),
        None => manifest.clone(),
    };
    let extraction = crate::target::extract(&judged, opts.target);
    let mut blamed = fidelity::check_member_types(&extraction, &mut out);
    blamed.extend(fidelity::check_link_order(&judged, &extraction, &mut out));
    let contained =
        containment::check_containment(&judged, ev.before, &output, ev.model_tree, &mut out);
    blamed.extend(contained.blamed());
    if err.is_none() {
        facts.gaps = fidelity::check_fidelity(&expected, &extraction, &blamed, &mut out);
    }
    if opts.strict {
        check_strict(&manifest, &output, ev.second_run.as_ref(), &mut out);
    }
    facts.wrong_root = wrong_root;
    facts.refusals = &extraction.refusals;
    facts.contained = contained;
    let diagnoses = diagnosis::diagnose(&facts, &out);
    Judgement {
        violations: out,
        diagnoses,
        manifest: Some(manifest),
    }
}

/// The `--strict` properties; `deterministic` only when a second run was made.
fn check_strict(
    manifest: &Manifest,
    output: &Path,
    second_run: Option<&SecondRun>,
    out: &mut Vec<Violation>,
) {
    strict::check_sorted(manifest, out);
    strict::check_normalized(manifest, out);
    if let Some(second) = second_run {
        strict::check_deterministic(output, second, out);
    }
}

impl Judgement {
    /// A judgement with no manifest: the run ended before there was an archive to read.
    fn unread(violations: Vec<Violation>, facts: &Facts<'_>) -> Judgement {
        Judgement {
            diagnoses: diagnosis::diagnose(facts, &violations),
            violations,
            manifest: None,
        }
    }
}

/// Scans the model dir for [`Evidence::model_tree`].
pub fn scan_model_dir(model_dir: &Path) -> Result<DiskTree, crate::layout::SandboxError> {
    DiskTree::scan(model_dir)
}

#[cfg(test)]
mod doc_tests {
    use crate::target::{contract_text, Target};

    /// `CONTRACT.md` is this module's rustdoc; regenerate it with
    /// `cargo run -q -- contract > harness/contract/CONTRACT.md`.
    #[test]
    fn the_rustdoc_contract_is_the_printed_contract() {
        assert_eq!(
            include_str!("CONTRACT.md"),
            contract_text(&Target::ALL),
            "harness/contract/CONTRACT.md is stale: run `cargo run -q -- contract > harness/contract/CONTRACT.md`"
        );
    }
}
