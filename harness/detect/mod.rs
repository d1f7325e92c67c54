//! The silent-failure detector: findings about a finished job and its archive.
//!
//! It looks at a job's directories (the model dir, and the working dir, `/tmp`-like and
//! output dirs where a model may have been saved by mistake) or at an archive alone, and
//! reports [`Finding`]s with a stable [`Code`] (each variant documents what it means, its
//! severity, and whether it depends on the deploy target), the path, an explanation and a
//! one-line fix. Content is **sniffed**, not guessed from names ([`sniff`]). Rules that only
//! need names and types run on a common [`Tree`] view, built either from the disk or from an
//! archive manifest, so `check --archive` on a downloaded `model.tar.gz` applies the same
//! rules as `check --model-dir`.
//!
//! Codes that depend on the deploy target ([`DetectOptions::target`], `check --target`,
//! see [`crate::target`]) read it from the target's [`crate::target::TargetSpec`]:
//! [`Code::LinkInArchive`], [`Code::SymlinkInModelDir`], [`Code::UnreadableByServer`].
//!
//! Layout: `code` (codes, severities), `finding` ([`Finding`], [`Where`]), `options` (what to
//! look at and how), `error`, `sniff`, `tree`, and `rules` (one function per rule); this file
//! holds the entry points and lists the tree rules in [`tree_findings`].

mod code;
mod error;
mod finding;
mod fix;
mod integrity;
mod options;
mod rules;
mod sniff;
mod tree;

use crate::archive::{Manifest, MemberKind};
use crate::layout::RawPath;
use crate::target::{LinkRule, Target};

pub use code::{Code, Severity, UnknownCode};
pub use error::DetectError;
pub use finding::{after_failure, Finding, Where};
pub use integrity::{scan_dir, IntegrityTap, Scans};
pub use options::{DetectOptions, Framework, JobDirs};
pub use sniff::{sniff, Sniffed};
pub use tree::{NodeKind, Tree, TreeNode};

use finding::{finding, sort};
use rules::Ctx;
use tree::{member_path, resolve_inside};

/// Name-and-type rules shared by directories and archives. `root` names the tree in
/// findings. In rule order, each rule's findings in path order (unsorted).
pub fn tree_findings(t: &Tree, root: Where, opts: &DetectOptions) -> Vec<Finding> {
    use rules::{content, frameworks, huggingface, leftovers, links, nodes, tensorflow};
    let c = Ctx { t, root, opts };
    let rules: [fn(&Ctx<'_>, &mut Vec<Finding>); 21] = [
        content::empty_model_dir,
        links::symlink_escape,
        links::dangling_symlink,
        links::symlink_in_model_dir,
        nodes::unreadable_by_server,
        content::no_model_file,
        nodes::special_file,
        nodes::unreadable_file,
        tensorflow::savedmodel_unversioned,
        tensorflow::savedmodel_incomplete,
        leftovers::nested_model_root,
        huggingface::hf_incomplete,
        leftovers::checkpoints_in_model_dir,
        leftovers::archive_in_model_dir,
        leftovers::zero_byte_model_file,
        leftovers::output_data_in_model_dir,
        leftovers::junk_files,
        huggingface::hf_adapter_only,
        tensorflow::keras_file_only,
        frameworks::inference_code_misplaced,
        frameworks::xgboost_misnamed,
    ];
    let mut out = Vec::new();
    for rule in rules {
        rule(&c, &mut out);
    }
    out
}

/// Findings for a finished job's directories.
pub fn detect(dirs: &JobDirs, opts: &DetectOptions) -> Result<Vec<Finding>, DetectError> {
    let reason = match std::fs::metadata(&dirs.model_dir) {
        Err(_) => Some("does not exist"),
        Ok(m) if !m.is_dir() => Some("is not a directory"),
        _ => None,
    };
    if let Some(reason) = reason {
        return Err(DetectError::BadModelDir {
            path: dirs.model_dir.clone(),
            reason,
        });
    }
    let model = Tree::scan(&dirs.model_dir)?;
    let mut out = tree_findings(&model, Where::Model, opts);
    let scans = scan_dir(&dirs.model_dir, &model);
    rules::integrity::integrity(Where::Model, &model, &scans, &mut out);
    rules::outside::model_saved_outside(dirs, &model, &mut out)?;
    Ok(sort(out))
}

/// `multi-host-name-clash`: every path that two of a job's hosts wrote into their own model
/// dirs with different content. `hosts` is each host's name and model dir, in host order.
pub fn host_clashes(hosts: &[(String, std::path::PathBuf)]) -> Result<Vec<Finding>, DetectError> {
    rules::hosts::host_clashes(hosts).map(sort)
}

/// Findings for an archive alone (for example a `model.tar.gz` downloaded from S3).
pub fn detect_archive(manifest: &Manifest, opts: &DetectOptions) -> Vec<Finding> {
    let mut out = tree_findings(&Tree::from_manifest(manifest), Where::Archive, opts);
    out.extend(link_findings(manifest, opts.target));
    rules::archive::unsafe_member_names(manifest, &mut out);
    sort(out)
}

/// Model-file integrity findings for an archive, from the members its [`IntegrityTap`] read
/// as the archive streamed by.
pub fn archive_integrity(manifest: &Manifest, scans: &Scans) -> Vec<Finding> {
    let mut out = Vec::new();
    rules::integrity::integrity(
        Where::Archive,
        &Tree::from_manifest(manifest),
        scans,
        &mut out,
    );
    sort(out)
}

/// `link-in-archive`: link members the target's consumer cannot extract. SageMaker refuses
/// every symlink and hard-link member; KServe (Python's `data` filter) refuses a link whose
/// target is absolute or leaves the archive root; POSIX tar takes them all.
pub fn link_findings(manifest: &Manifest, target: Target) -> Vec<Finding> {
    let spec = target.spec();
    let tree = Tree::from_manifest(manifest);
    let mut out = Vec::new();
    for x in manifest.members.iter().filter(|x| !x.is_root_entry()) {
        let (rule, what) = match x.kind {
            MemberKind::Symlink => (spec.symlinks, "symlink"),
            MemberKind::Hardlink => (spec.hardlinks, "hard link"),
            _ => continue,
        };
        let path = member_path(x);
        let link_target = x.link_target.clone().unwrap_or_default();
        // Symlink targets are relative to the link's dir; hard-link targets name a member,
        // relative to the archive root.
        let t = link_target.as_bytes();
        let link = if x.kind == MemberKind::Symlink {
            match resolve_inside(&path, t) {
                None => fix::LinkMember::SymlinkOut,
                Some(q) if q.as_bytes().is_empty() || tree.nodes.contains_key(&q) => {
                    fix::LinkMember::SymlinkInside
                }
                Some(_) => fix::LinkMember::SymlinkDangling,
            }
        } else {
            match resolve_inside(&RawPath::from("."), t.strip_prefix(b"./").unwrap_or(t)) {
                None => fix::LinkMember::HardlinkOut,
                Some(_) => fix::LinkMember::HardlinkInside,
            }
        };
        let out_of_root = matches!(
            link,
            fix::LinkMember::SymlinkOut | fix::LinkMember::HardlinkOut
        );
        let message = match rule {
            LinkRule::Keep => continue,
            LinkRule::Refuse => format!("member `{path}` is a {what} (to `{link_target}`): {target} cannot extract an archive that holds a link (\"Failed to extract model data archive\" at CreateEndpoint)"),
            LinkRule::KeepInside if !out_of_root => continue,
            LinkRule::KeepInside => format!("member `{path}` is a {what} to `{link_target}`, which is absolute or leaves the archive: {target}'s storage initializer (tarfile filter=\"data\") refuses it and the download fails"),
        };
        let fix = fix::link_in_archive(link, target);
        out.push(finding(
            Code::LinkInArchive,
            Where::Archive,
            Some(path),
            message,
            fix,
        ));
    }
    out
}

/// `archive-mismatch`: what `target`'s consumer extracts from the archive is not what it
/// must get from the model dir (the contract's `fidelity`). Members the consumer
/// refuses are left to `link-in-archive` and the other archive findings, and so is what lies
/// under them.
pub fn check_archive_against(
    dirs: &JobDirs,
    manifest: &Manifest,
    target: crate::target::Target,
) -> Result<Vec<Finding>, DetectError> {
    let gaps = mismatches(dirs, manifest, target)?;
    let mut out = Vec::new();
    if gaps.is_empty() {
        return Ok(out);
    }
    // Every member under one extra folder: when removing it leaves no difference, that
    // folder is the whole difference, and the finding says so instead of listing every path.
    if let Some(folder) = extra_folder(manifest) {
        if mismatches(dirs, &manifest.without_folder(&folder), target)?.is_empty() {
            out.push(finding(
                Code::ArchiveMismatch,
                Where::Archive,
                Some(folder.clone()),
                format!(
                    "every member is under `{folder}/`: {target}'s consumer extracts the model dir's files into `{folder}/`, not where the server looks (with that folder removed, the archive matches the model dir)"
                ),
                fix::archive_mismatch(&fix::Mismatch::Folder(folder.to_string()), target),
            ));
            return Ok(out);
        }
    }
    let first = gaps[0].path().clone();
    let lines: Vec<String> = gaps
        .iter()
        .take(12)
        .map(|g| match g {
            crate::target::Gap::Diff(d) => d.to_string(),
            crate::target::Gap::NotRefused { path, reason, .. } => {
                format!("! {path}: packed, but a packager must refuse it: {reason}")
            }
        })
        .collect();
    out.push(finding(
        Code::ArchiveMismatch,
        Where::Archive,
        Some(first),
        format!(
            "what {target}'s consumer extracts from the archive does not match the model dir ({} difference(s)):\n{}",
            gaps.len(),
            lines.join("\n")
        ),
        fix::archive_mismatch(&fix::Mismatch::Other, target),
    ));
    Ok(out)
}

/// The differences between what `target`'s consumer extracts from `manifest` and what it must
/// get from the model dir, less those under members it refuses (left to `link-in-archive` and
/// the other archive findings).
fn mismatches(
    dirs: &JobDirs,
    manifest: &Manifest,
    target: crate::target::Target,
) -> Result<Vec<crate::target::Gap>, DetectError> {
    let (got, gaps) = crate::target::judge_dir(&dirs.model_dir, manifest, target).map_err(|e| {
        DetectError::Io {
            path: dirs.model_dir.clone(),
            source: std::io::Error::other(e.to_string()),
        }
    })?;
    // A hard link to a member not extracted yet has no archive finding: its gap stays.
    let refused: Vec<&RawPath> = (got.refusals.iter())
        .filter(|r| r.kind != crate::target::extract::RefusalKind::LinkMissing)
        .map(|r| &r.name)
        .collect();
    Ok(gaps
        .into_iter()
        .filter(|g| !refused.iter().any(|r| g.path().starts_with(r)))
        .collect())
}

/// The deepest folder (one or more components, such as `model` or the model dir's absolute
/// path `opt/ml/model`) that every member is in, is, or is a parent of, with at least one
/// member inside it. `None` when the members do not all share one.
fn extra_folder(manifest: &Manifest) -> Option<RawPath> {
    let names: Vec<RawPath> = manifest
        .members
        .iter()
        .filter(|x| !x.is_root_entry())
        .map(member_path)
        .collect();
    let deepest = names.iter().max_by_key(|n| n.components().count())?;
    let comps: Vec<&[u8]> = deepest.components().collect();
    let fits = |folder: &[u8]| {
        let under = [folder, b"/"].concat();
        let inside = names.iter().any(|n| n.as_bytes().starts_with(&under));
        let all = names.iter().all(|n| {
            let n = n.as_bytes();
            n.starts_with(&under)
                || folder.starts_with(n) && folder.get(n.len()).is_none_or(|c| *c == b'/')
        });
        inside && all
    };
    (1..comps.len())
        .rev()
        .map(|k| comps[..k].join(&b'/'))
        .find(|f| fits(f))
        .map(RawPath::new)
}

/// The `archive-damaged` finding: the archive could not be read to its end, for the reason
/// `message` gives.
pub fn archive_damaged(message: String) -> Finding {
    finding(
        Code::ArchiveDamaged,
        Where::Archive,
        None,
        message,
        fix::ARCHIVE_DAMAGED,
    )
}

/// True when any finding is an error.
pub fn has_error(f: &[Finding]) -> bool {
    f.iter().any(|x| x.severity == Severity::Error)
}

#[cfg(test)]
mod tests;
