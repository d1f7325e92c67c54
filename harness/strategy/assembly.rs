//! Assembling pieces into a layout and its ground truth ([`Case`]): collision handling, the
//! optional extra top folder, and the labels and promises derived from the whole layout
//! (`empty-model-dir`, `no-model-file`).

use crate::detect::{Code, Where};
use crate::layout::{Content, Entry, EntryKind, Layout, ModelFormat, RawPath, Root};

use super::piece::Piece;
use super::truth::{Promise, Truth, When};

/// A generated layout and what the detector must find on it.
#[derive(Clone, Debug)]
pub struct Case {
    /// The layout.
    pub layout: Layout,
    /// The findings its pieces promise, by (code, path).
    pub truth: Truth,
}

/// Puts every model-dir entry under `dir/`, fixing escaping relative symlink targets.
pub(super) fn nest(layout: &mut Layout, dir: &str) {
    for e in layout.entries.iter_mut().filter(|e| e.root == Root::Model) {
        e.path = RawPath::from(dir).join(e.path.as_bytes());
        match &mut e.kind {
            EntryKind::Symlink { target } if target.as_bytes().starts_with(b"../") => {
                // One level deeper: an escaping target needs one more `..`, unless it only
                // climbed within the model dir (`../x.dat` from `links/`).
                let depth = e.path.components().count() - 1;
                let ups = target.as_bytes().windows(3).filter(|w| w == b"../").count();
                if ups >= depth {
                    *target = RawPath::new([b"../".as_slice(), target.as_bytes()].concat());
                }
            }
            EntryKind::Hardlink {
                target_root: Root::Model,
                target,
            } => {
                *target = RawPath::from(dir).join(target.as_bytes());
            }
            _ => {}
        }
    }
}

/// Assembles pieces into a layout. Pieces that collide with earlier ones are dropped whole.
pub fn assemble(
    profile: Option<Piece>,
    pitfalls: Vec<Piece>,
    nest_under: Option<String>,
) -> Layout {
    assemble_case(profile, pitfalls, nest_under).layout
}

/// Assembles pieces into a layout and its ground truth: the promises of the pieces kept
/// (a piece that collides is dropped whole, promises included), nested with the model dir.
pub fn assemble_case(
    profile: Option<Piece>,
    pitfalls: Vec<Piece>,
    nest_under: Option<String>,
) -> Case {
    let mut truth = Truth::default();
    let mut layout = Layout::new().with(Entry::file(
        Root::Cwd,
        "train.py",
        Content::Text("import os\nmodel_dir = os.environ['SM_MODEL_DIR']\n".into()),
    ));
    for p in profile.into_iter().chain(pitfalls) {
        let mut trial = layout.clone();
        trial.entries.extend(p.entries.iter().cloned());
        if trial.validate().is_ok() {
            for l in &p.labels {
                trial.labels.insert(crate::layout::Label::new(*l));
            }
            truth.promises.extend(p.promises.iter().cloned());
            layout = trial;
        }
    }
    if let Some(dir) = nest_under {
        if layout.in_root(Root::Model).next().is_some() {
            nest(&mut layout, &dir);
            truth.nest(&dir);
            layout
                .labels
                .insert(crate::layout::Label::new("extra-top-folder"));
        }
    }
    let has_file = layout
        .in_root(Root::Model)
        .any(|e| matches!(e.kind, EntryKind::File { .. } | EntryKind::Hardlink { .. }));
    let derived = if !has_file {
        Some(Code::EmptyModelDir)
    } else if !layout.in_root(Root::Model).any(loads_as_model) {
        Some(Code::NoModelFile)
    } else {
        None
    };
    if let Some(code) = derived {
        layout.labels.insert(crate::layout::Label::new(code.id()));
        truth
            .promises
            .push(Promise::new(code, Where::Model, None, When::Always));
    }
    Case { layout, truth }
}

/// Names the generator writes that a framework loads (the `no-model-file` label contract).
const MODEL_NAMES: [&str; 3] = ["xgboost-model", "saved_model.pb", "variables.index"];
/// Name endings the generator writes that a framework loads.
const MODEL_EXTS: [&str; 9] = [
    ".bin",
    ".pt",
    ".pth",
    ".safetensors",
    ".onnx",
    ".h5",
    ".keras",
    ".joblib",
    ".pkl",
];

/// True when a model-dir entry is something a serving framework would load, by the
/// generator's own account: a file written as a model format, or a file or symlink with a
/// model file name; never macOS residue. Random bytes are judged by what they start with.
pub fn loads_as_model(e: &Entry) -> bool {
    let name = e.path.file_name();
    if name.starts_with(b"._") || e.path.components().any(|c| c == b"__MACOSX") {
        return false;
    }
    let by_name = MODEL_NAMES.iter().any(|n| name == n.as_bytes())
        || MODEL_EXTS
            .iter()
            .any(|x| name.len() > x.len() && name.ends_with(x.as_bytes()));
    match &e.kind {
        EntryKind::File { content, .. } => {
            by_name
                || match content {
                    Content::Format { format, .. } => !matches!(
                        format,
                        ModelFormat::HfConfig
                            | ModelFormat::HfTokenizer
                            | ModelFormat::HfTokenizerConfig
                    ),
                    other if other.is_empty() => false,
                    other => {
                        let bytes = other.to_vec();
                        crate::detect::sniff(name, &bytes[..bytes.len().min(4096)]).is_some()
                    }
                }
        }
        EntryKind::Symlink { .. } => by_name,
        _ => false,
    }
}
