//! TensorFlow rules: `savedmodel-unversioned`, `savedmodel-incomplete`, `keras-file-only`.

use super::ctx::{is_digits, Ctx};
use crate::detect::code::Code;
use crate::detect::finding::Finding;
use crate::detect::fix::{self, SavedModelHalf};
use crate::detect::options::Framework;
use crate::detect::sniff::Sniffed;

/// `savedmodel-unversioned`: a `saved_model.pb` whose dir is not a numeric version.
pub(crate) fn savedmodel_unversioned(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (p, _) in
        c.t.files()
            .filter(|(p, _)| p.file_name() == b"saved_model.pb")
    {
        let parent = p.parent().unwrap_or_default();
        if !is_digits(parent.file_name()) {
            out.push(c.finding(
                Code::SavedmodelUnversioned,
                Some(p.clone()),
                format!("`{p}` is not under a numeric version dir: TF Serving loads only `<model>/<version>/saved_model.pb` and will find no servable"),
                fix::SAVEDMODEL_UNVERSIONED,
            ));
        }
    }
}

/// `savedmodel-incomplete`: a graph without its `variables/variables.index`, or variables
/// without their `saved_model.pb`.
pub(crate) fn savedmodel_incomplete(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (p, _) in c.t.files() {
        let name = p.file_name();
        if name == b"saved_model.pb" {
            let parent = p.parent().unwrap_or_default();
            if !c
                .t
                .has(parent.join(b"variables/variables.index").as_bytes())
            {
                out.push(c.finding(
                    Code::SavedmodelIncomplete,
                    Some(p.clone()),
                    format!("`{p}` has no `variables/variables.index` beside it: the graph loads without its weights"),
                    fix::savedmodel_incomplete(SavedModelHalf::NoVariables),
                ));
            }
        }
        if name == b"variables.index" {
            let vars = p.parent().unwrap_or_default();
            let base = vars.parent().unwrap_or_default();
            if vars.file_name() == b"variables" && !c.t.has(base.join(b"saved_model.pb").as_bytes())
            {
                out.push(c.finding(
                    Code::SavedmodelIncomplete,
                    Some(p.clone()),
                    format!("`{p}` has no `saved_model.pb` next to its `variables/` dir: the weights have no graph"),
                    fix::savedmodel_incomplete(SavedModelHalf::NoGraph),
                ));
            }
        }
    }
}

/// `keras-file-only`: a Keras file and no SavedModel, unless another framework is forced.
pub(crate) fn keras_file_only(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    let has_savedmodel = c.t.files().any(|(p, _)| p.file_name() == b"saved_model.pb");
    if has_savedmodel || !matches!(c.opts.framework, None | Some(Framework::Tensorflow)) {
        return;
    }
    for (p, n) in c.t.files() {
        if matches!(n.sniffed, Some(Sniffed::Hdf5)) || p.file_name().ends_with(b".keras") {
            out.push(c.finding(
                Code::KerasFileOnly,
                Some(p.clone()),
                format!("`{p}` is a Keras file and there is no SavedModel: TensorFlow Serving (the SageMaker TF container) loads only SavedModels"),
                fix::KERAS_FILE_ONLY,
            ));
        }
    }
}
