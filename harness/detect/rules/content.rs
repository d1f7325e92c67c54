//! Rules on whether there is a model at all: `empty-model-dir`, `no-model-file`.

use super::ctx::Ctx;
use crate::detect::code::Code;
use crate::detect::finding::Finding;
use crate::detect::fix;
use crate::detect::sniff::{is_mac_residue, is_model_file_name};
use crate::detect::tree::NodeKind;

/// `empty-model-dir`: no regular file at all.
pub(crate) fn empty_model_dir(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    if c.t.files().next().is_none() {
        out.push(c.finding(
            Code::EmptyModelDir,
            None,
            format!(
                "{} holds no regular file, so model.tar.gz deploys nothing",
                c.where_()
            ),
            fix::empty_model_dir(c.root),
        ));
    }
}

/// `no-model-file`: files, but nothing a framework would load (`empty-model-dir` covers no
/// file at all).
pub(crate) fn no_model_file(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    let file_count = c.t.files().count();
    let loadable = c.t.nodes.iter().any(|(p, n)| {
        !is_mac_residue(p)
            && match n.kind {
                NodeKind::File => n.sniffed.is_some() || is_model_file_name(p.file_name()),
                NodeKind::Symlink => is_model_file_name(p.file_name()),
                _ => false,
            }
    });
    if file_count > 0 && !loadable {
        out.push(c.finding(
            Code::NoModelFile,
            None,
            format!("{} holds {file_count} file(s), but none that a serving framework loads: no content is a known model format, and no name is a model file name (xgboost-model, *.pt, *.safetensors, saved_model.pb, *.onnx, *.joblib, …)", c.where_()),
            fix::NO_MODEL_FILE,
        ));
    }
}
