//! Rules on what should not be in the model dir, or not where it is:
//! `checkpoints-in-model-dir`, `archive-in-model-dir`, `zero-byte-model-file`, `junk-files`,
//! `output-data-in-model-dir`, `nested-model-root`.

use std::collections::BTreeSet;

use super::ctx::{is_digits, Ctx};
use crate::detect::code::Code;
use crate::detect::finding::Finding;
use crate::detect::fix;
use crate::detect::sniff::{is_mac_residue, WEIGHT_EXTS};
use crate::detect::tree::{NodeKind, TreeNode};
use crate::layout::RawPath;

/// A checkpoint dir name (`checkpoint-*`, `global_step*`).
fn is_ckpt_dir(c: &[u8]) -> bool {
    c.starts_with(b"checkpoint-") || c.starts_with(b"global_step")
}

/// True for a node reported as training state: the first checkpoint dir on a path (once),
/// and loose optimizer, scheduler, RNG or `.ckpt` files not inside such a dir.
fn is_training_state(p: &RawPath, n: &TreeNode) -> bool {
    let name = p.file_name();
    let comps: Vec<&[u8]> = p.components().collect();
    let ckpt_dir_here = comps.last().is_some_and(|c| is_ckpt_dir(c))
        && !comps[..comps.len() - 1].iter().any(|c| is_ckpt_dir(c));
    let inside_ckpt_dir = comps[..comps.len().saturating_sub(1)]
        .iter()
        .any(|c| is_ckpt_dir(c));
    let state_file = n.kind == NodeKind::File
        && (matches!(name, b"optimizer.pt" | b"scheduler.pt" | b"optimizer.bin")
            || name.starts_with(b"rng_state")
            || name.ends_with(b".ckpt"));
    ckpt_dir_here || (state_file && !inside_ckpt_dir)
}

/// `checkpoints-in-model-dir`: training state, not the model.
pub(crate) fn checkpoints_in_model_dir(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (p, _) in c.t.nodes.iter().filter(|(p, n)| is_training_state(p, n)) {
        out.push(c.finding(
            Code::CheckpointsInModelDir,
            Some(p.clone()),
            format!("`{p}` is training state (a checkpoint or optimizer state), not the model: it bloats model.tar.gz and slows every deploy"),
            fix::CHECKPOINTS_IN_MODEL_DIR,
        ));
    }
}

/// `archive-in-model-dir`: a tar or tar.gz file inside the model dir.
pub(crate) fn archive_in_model_dir(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (p, _) in c.t.files() {
        let name = p.file_name();
        if name.ends_with(b".tar.gz") || name.ends_with(b".tgz") || name.ends_with(b".tar") {
            out.push(c.finding(
                Code::ArchiveInModelDir,
                Some(p.clone()),
                format!("`{p}` is an archive inside the model dir: it gets packed into model.tar.gz (a nested or self-included archive)"),
                fix::ARCHIVE_IN_MODEL_DIR,
            ));
        }
    }
}

/// `zero-byte-model-file`: a weights file of 0 bytes.
pub(crate) fn zero_byte_model_file(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (p, n) in c.t.files() {
        let name = p.file_name();
        if n.size == 0
            && (WEIGHT_EXTS.iter().any(|e| name.ends_with(e)) || name == b"xgboost-model")
        {
            out.push(c.finding(
                Code::ZeroByteModelFile,
                Some(p.clone()),
                format!("`{p}` is a model file of 0 bytes: a save that never finished (out of disk, killed, or saved on another rank)"),
                fix::ZERO_BYTE_MODEL_FILE,
            ));
        }
    }
}

/// A dir name whose whole content is residue.
fn is_junk_dir(c: &[u8]) -> bool {
    matches!(c, b".ipynb_checkpoints" | b"__pycache__" | b"lost+found")
}

/// True for residue reported once: the first junk dir on a path, `.DS_Store`, an
/// AppleDouble `._*` file outside `__MACOSX/`, and the outermost `__MACOSX` dir.
fn is_junk(p: &RawPath, n: &TreeNode) -> bool {
    let name = p.file_name();
    let comps: Vec<&[u8]> = p.components().collect();
    comps.iter().any(|c| is_junk_dir(c))
        && comps.len() == 1 + comps.iter().position(|c| is_junk_dir(c)).unwrap_or(0)
        || name == b".DS_Store"
        || (n.kind == NodeKind::File
            && name.starts_with(b"._")
            && !comps.contains(&&b"__MACOSX"[..]))
        || comps.last() == Some(&&b"__MACOSX"[..])
            && !comps[..comps.len() - 1].contains(&&b"__MACOSX"[..])
}

/// `junk-files`: editor, interpreter and macOS residue.
pub(crate) fn junk_files(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (p, _) in c.t.nodes.iter().filter(|(p, n)| is_junk(p, n)) {
        let (message, fix) = if is_mac_residue(p) {
            (
                format!("`{p}` is macOS residue (an AppleDouble `._*` sidecar or `__MACOSX/`): packed for nothing, and a loader that globs `*.pth` or loads every root file picks it up"),
                fix::junk_files(true),
            )
        } else {
            (
                format!("`{p}` is editor or interpreter residue, packed for nothing"),
                fix::junk_files(false),
            )
        };
        out.push(c.finding(Code::JunkFiles, Some(p.clone()), message, fix));
    }
}

/// `output-data-in-model-dir`: predictions or metrics at the root.
pub(crate) fn output_data_in_model_dir(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (p, _) in c.t.files() {
        let name = p.file_name();
        if p.components().count() == 1
            && (name.ends_with(b".csv")
                || name.ends_with(b".parquet")
                || name.starts_with(b"eval_results")
                || name == b"metrics.json")
        {
            out.push(c.finding(
                Code::OutputDataInModelDir,
                Some(p.clone()),
                format!(
                    "`{p}` looks like output data (predictions, metrics): it ships with the model"
                ),
                fix::OUTPUT_DATA_IN_MODEL_DIR,
            ));
        }
    }
}

/// `nested-model-root`: everything under one extra top-level folder (not a version dir, not
/// `code/`, not a TF model dir `<name>/<version>/saved_model.pb`).
pub(crate) fn nested_model_root(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    let t = c.t;
    let top: BTreeSet<&[u8]> = t
        .nodes
        .keys()
        .filter_map(|k| k.components().next())
        .collect();
    if top.len() != 1 {
        return;
    }
    let only = *top.iter().next().unwrap_or(&&b""[..]);
    let only_path = RawPath::new(only.to_vec());
    let is_dir = t
        .nodes
        .get(&only_path)
        .is_some_and(|n| n.kind == NodeKind::Dir);
    let tf_model_dir = t.nodes.keys().any(|k| {
        let c: Vec<&[u8]> = k.components().collect();
        c.len() >= 3 && c[0] == only && is_digits(c[1]) && c[2] == b"saved_model.pb"
    });
    let has_children = t.nodes.keys().any(|k| k.components().count() > 1);
    if is_dir && has_children && !is_digits(only) && only != b"code" && !tf_model_dir {
        out.push(c.finding(
            Code::NestedModelRoot,
            Some(only_path.clone()),
            format!("everything sits under one extra folder `{only_path}/`: serving containers look at the archive root"),
            fix::nested_model_root(c.root, &only_path.to_string()),
        ));
    }
}
