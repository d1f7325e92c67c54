//! Framework naming rules: `inference-code-misplaced` (PyTorch), `xgboost-misnamed`.

use super::ctx::Ctx;
use crate::detect::code::Code;
use crate::detect::finding::Finding;
use crate::detect::fix;
use crate::detect::options::Framework;
use crate::detect::sniff::Sniffed;

/// `inference-code-misplaced`: for a PyTorch model (forced, or a sniffed torch zip), an
/// `inference.py` that is not `code/inference.py`.
pub(crate) fn inference_code_misplaced(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    let torch = c.opts.framework == Some(Framework::Pytorch)
        || c.t
            .nodes
            .values()
            .any(|n| matches!(n.sniffed, Some(Sniffed::TorchZip)));
    if !torch {
        return;
    }
    for (p, _) in c
        .t
        .files()
        .filter(|(p, _)| p.file_name() == b"inference.py" && p.as_bytes() != b"code/inference.py")
    {
        out.push(c.finding(
            Code::InferenceCodeMisplaced,
            Some(p.clone()),
            format!("`{p}` is not `code/inference.py`: the PyTorch serving container only loads the handler from code/"),
            fix::INFERENCE_CODE_MISPLACED,
        ));
    }
}

/// `xgboost-misnamed`: sniffed XGBoost models when there is no `xgboost-model` at the root.
pub(crate) fn xgboost_misnamed(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    let xgb_files =
        c.t.nodes
            .iter()
            .filter(|(_, n)| matches!(n.sniffed, Some(Sniffed::Xgboost)))
            .map(|(p, _)| p);
    // With the framework forced and no sniffed model, there is nothing to report.
    if c.t.has(b"xgboost-model") {
        return;
    }
    for p in xgb_files {
        out.push(c.finding(
            Code::XgboostMisnamed,
            Some(p.clone()),
            format!("XGBoost model `{p}` is not named `xgboost-model` at the root: the SageMaker XGBoost container loads that name"),
            fix::XGBOOST_MISNAMED,
        ));
    }
}
