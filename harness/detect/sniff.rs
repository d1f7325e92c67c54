//! Content sniffing ([`Sniffed`], [`sniff`]) and the name tables the rules match file names
//! against. A regular file's first bytes are read bounded, with `O_NOFOLLOW | O_NONBLOCK`,
//! never from a FIFO or device and never through a symlink, and matched against safetensors,
//! PyTorch zip, pickle/joblib, HDF5, TF SavedModel, ONNX and XGBoost signatures.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::layout::RawPath;

/// A sniffed model format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sniffed {
    /// safetensors.
    Safetensors,
    /// PyTorch zip (`torch.save`).
    TorchZip,
    /// A pickle: joblib, legacy torch, sklearn.
    Pickle,
    /// HDF5 (Keras).
    Hdf5,
    /// TF SavedModel protobuf (`saved_model.pb`).
    SavedModel,
    /// ONNX.
    Onnx,
    /// XGBoost JSON or UBJ.
    Xgboost,
}

impl Sniffed {
    /// What the format is, for messages ("a PyTorch model (torch.save zip)").
    pub(super) fn describe(self) -> &'static str {
        match self {
            Sniffed::Safetensors => "a safetensors weights file",
            Sniffed::TorchZip => "a PyTorch model (torch.save zip)",
            Sniffed::Pickle => "a pickled model (joblib/pickle)",
            Sniffed::Hdf5 => "a Keras HDF5 model",
            Sniffed::SavedModel => "a TensorFlow SavedModel",
            Sniffed::Onnx => "an ONNX model",
            Sniffed::Xgboost => "an XGBoost model",
        }
    }
}

/// Identifies a model format from a file's name and first bytes.
pub fn sniff(name: &[u8], head: &[u8]) -> Option<Sniffed> {
    let ext = name.rsplit(|b| *b == b'.').next().unwrap_or(b"");
    if head.len() >= 9 {
        let n = u64::from_le_bytes(head[..8].try_into().ok()?);
        if n > 1 && n < 100 << 20 && head[8] == b'{' {
            return Some(Sniffed::Safetensors);
        }
    }
    if head.starts_with(b"PK\x03\x04") {
        let torchy = head
            .windows(8)
            .any(|w| w == b"data.pkl" || w == b"/version" || w == b"archive/")
            || matches!(ext, b"pt" | b"pth" | b"bin" | b"ckpt");
        return torchy.then_some(Sniffed::TorchZip);
    }
    if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
        return Some(Sniffed::Pickle);
    }
    if head.starts_with(b"\x89HDF\r\n\x1a\n") {
        return Some(Sniffed::Hdf5);
    }
    if name == b"saved_model.pb" && head.first() == Some(&0x08) {
        return Some(Sniffed::SavedModel);
    }
    if ext == b"onnx" && head.first() == Some(&0x08) {
        return Some(Sniffed::Onnx);
    }
    if head.first() == Some(&b'{') && head.windows(9).any(|w| w == b"\"learner\"") {
        return Some(Sniffed::Xgboost);
    }
    if ext == b"ubj" && head.first() == Some(&b'{') {
        return Some(Sniffed::Xgboost);
    }
    None
}

/// How many leading bytes [`read_head`] reads.
const SNIFF_BYTES: usize = 4096;

/// The first [`SNIFF_BYTES`] of a file, never through a symlink and never blocking on a FIFO.
pub(super) fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let mut v = Vec::with_capacity(SNIFF_BYTES);
    f.take(SNIFF_BYTES as u64).read_to_end(&mut v)?;
    Ok(v)
}

/// The format an archive member's name implies (its content is not read).
pub(super) fn sniff_name(name: &[u8]) -> Option<Sniffed> {
    match name {
        b"saved_model.pb" => Some(Sniffed::SavedModel),
        n if n.ends_with(b".safetensors") => Some(Sniffed::Safetensors),
        n if n.ends_with(b".pt") || n.ends_with(b".pth") => Some(Sniffed::TorchZip),
        n if n.ends_with(b".joblib") || n.ends_with(b".pkl") => Some(Sniffed::Pickle),
        n if n.ends_with(b".h5") || n.ends_with(b".keras") => Some(Sniffed::Hdf5),
        n if n.ends_with(b".onnx") => Some(Sniffed::Onnx),
        b"xgboost-model" => Some(Sniffed::Xgboost),
        _ => None,
    }
}

/// Weight file endings: a file with one of them and 0 bytes is `zero-byte-model-file`.
pub(super) const WEIGHT_EXTS: [&[u8]; 11] = [
    b".pt",
    b".pth",
    b".bin",
    b".safetensors",
    b".onnx",
    b".h5",
    b".keras",
    b".pb",
    b".joblib",
    b".pkl",
    b".ckpt",
];

/// File names a serving framework loads by name alone, whatever the bytes: exact names.
pub(super) const MODEL_FILE_NAMES: [&[u8]; 6] = [
    b"xgboost-model",
    b"saved_model.pb",
    b"saved_model.pbtxt",
    b"variables.index",
    b"model-symbol.json",
    b"model.txt",
];

/// File name endings a serving framework loads (PyTorch, Hugging Face, TF, Keras, ONNX,
/// sklearn, XGBoost UBJ, MXNet, TFLite, GGUF, TensorRT, CatBoost, Flax, Core ML): these and
/// [`WEIGHT_EXTS`].
pub(super) const MORE_MODEL_FILE_EXTS: [&[u8]; 14] = [
    b".hdf5",
    b".pickle",
    b".params",
    b".ubj",
    b".model",
    b".gguf",
    b".tflite",
    b".engine",
    b".plan",
    b".cbm",
    b".msgpack",
    b".mlmodel",
    b".torchscript",
    b".mar",
];

/// True for a name some serving framework loads by name (see [`MODEL_FILE_NAMES`],
/// [`WEIGHT_EXTS`] and [`MORE_MODEL_FILE_EXTS`]), plus `variables.data-*` shards and
/// `xgboost*` names (an XGBoost JSON model in an archive, where content cannot be sniffed).
pub(super) fn is_model_file_name(name: &[u8]) -> bool {
    MODEL_FILE_NAMES.contains(&name)
        || name.starts_with(b"variables.data-")
        || name.starts_with(b"xgboost")
        || WEIGHT_EXTS
            .iter()
            .chain(&MORE_MODEL_FILE_EXTS)
            .any(|e| name.len() > e.len() && name.ends_with(e))
}

/// macOS residue (P26): an AppleDouble sidecar `._name`, or anything under `__MACOSX/`.
pub(super) fn is_mac_residue(p: &RawPath) -> bool {
    p.file_name().starts_with(b"._") || p.components().any(|c| c == b"__MACOSX")
}
