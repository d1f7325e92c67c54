//! Model-file integrity: small, bounded, streaming readers, one per format, that say whether a
//! model file is whole, without loading it and without trusting a length it read.
//!
//! Every reader takes the file as `impl Read` plus its length as the filesystem or the tar
//! header states it ([`check`]), so `check --model-dir` passes an open file and
//! `check --archive` passes a tar member's data as it streams by, never extracting. A length
//! read from the file is compared with what is left before anything is read or allocated; a
//! claim past the end is [`FormatError::Truncated`], a claim past a fixed cap (safetensors
//! header 100 MB, as Hugging Face's reader; pickle opcodes, memo and nesting; zip entries) is
//! [`FormatError::Corrupt`]. A reader may stop before the end of its input; the caller drains.
//!
//! Formats ([`Kind`]): `safetensors` (header rules and the sharded index), `pickle` (an opcode
//! walker that lists imports and never executes), `zip` (PyTorch `torch.save`, `.keras`: a
//! sequential walk of local headers, data and CRCs, then the central directory, cross-checked,
//! so that it works on a stream), `proto` (SavedModel `saved_model.pb`, ONNX and its
//! `external_data`), `small` (HDF5 superblock, XGBoost JSON) and `ubj` (XGBoost UBJSON). Findings across files (a
//! missing shard, external data left behind) are judged by the detector from the
//! [`FileReport`]s.
//!
//! This module uses only std, serde and serde_json; the detector uses it, never the reverse.

mod pickle;
mod proto;
mod safetensors;
mod small;
mod src;
mod ubj;
mod zip;

use std::io::Read;

pub use pickle::{classify_import, scan_pickle, Import, ImportVerdict, PickleLimits};
pub use proto::ExternalData;
pub use safetensors::{read_index, ShardIndex, MAX_HEADER};
pub use zip::MAX_ZIP_ENTRIES;

/// A model file format the readers know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A safetensors file.
    Safetensors,
    /// A zip: PyTorch `torch.save`, a `.keras` archive.
    Zip,
    /// A pickle (joblib, `.pkl`, a legacy non-zip `torch.save`).
    Pickle,
    /// HDF5 (Keras `.h5`).
    Hdf5,
    /// An ONNX model (a `ModelProto`).
    Onnx,
    /// A TF SavedModel graph (`saved_model.pb`).
    SavedModelPb,
    /// An XGBoost JSON model.
    XgboostJson,
    /// An XGBoost UBJSON model (`.ubj`).
    XgboostUbj,
}

impl Kind {
    /// Every format, in declaration order.
    pub const ALL: [Kind; 8] = [
        Kind::Safetensors,
        Kind::Zip,
        Kind::Pickle,
        Kind::Hdf5,
        Kind::Onnx,
        Kind::SavedModelPb,
        Kind::XgboostJson,
        Kind::XgboostUbj,
    ];

    /// The reader for a file, from its name (the last path component) and its first bytes
    /// (up to 4 KiB; fewer if the file is shorter). `None`: not a model format the readers
    /// check. A name decides when the bytes cannot (a safetensors file cut inside its first
    /// 8 bytes is still a safetensors file).
    pub fn guess(name: &[u8], head: &[u8]) -> Option<Kind> {
        let ext = name.rsplit(|b| *b == b'.').next().unwrap_or(b"");
        let has_ext = name.contains(&b'.');
        if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            return Some(Kind::Zip);
        }
        if head.starts_with(b"\x89HDF\r\n\x1a\n") {
            return Some(Kind::Hdf5);
        }
        match (has_ext, ext) {
            (true, b"safetensors") => return Some(Kind::Safetensors),
            (true, b"pkl" | b"pickle" | b"joblib") => return Some(Kind::Pickle),
            (true, b"h5" | b"hdf5") => return Some(Kind::Hdf5),
            (true, b"onnx") => return Some(Kind::Onnx),
            (true, b"keras") => return Some(Kind::Zip),
            _ => {}
        }
        if name == b"saved_model.pb" {
            return Some(Kind::SavedModelPb);
        }
        // A pickle by its PROTO opcode alone only under a name PyTorch or pickle writers use
        // (a legacy `torch.save`'s `.bin`, `.pt`): two bytes are weak evidence elsewhere.
        let pickle_name = matches!(ext, b"bin" | b"pt" | b"pth" | b"ckpt" | b"model");
        if has_ext && pickle_name && head.len() >= 16 && head[0] == 0x80 && head[1] <= 5 {
            return Some(Kind::Pickle);
        }
        if head.len() >= 9 && head[8] == b'{' {
            let n = u64::from_le_bytes([
                head[0], head[1], head[2], head[3], head[4], head[5], head[6], head[7],
            ]);
            if n > 1 && n <= MAX_HEADER {
                return Some(Kind::Safetensors);
            }
        }
        // UBJSON: an object whose first key's length is an integer marker (JSON has `"`).
        let ubj_head =
            head.first() == Some(&b'{') && head.get(1).is_some_and(|m| b"iUIlL#$".contains(m));
        if (has_ext && ext == b"ubj") || (name == b"xgboost-model" && ubj_head) {
            return Some(Kind::XgboostUbj);
        }
        let json_named = name == b"xgboost-model" || (has_ext && ext == b"json");
        if json_named && head.first() == Some(&b'{') && memfind(head, b"\"learner\"") {
            return Some(Kind::XgboostJson);
        }
        if name == b"xgboost-model" && head.first() == Some(&b'{') {
            return Some(Kind::XgboostJson);
        }
        None
    }

    /// A short name for messages: `safetensors`, `zip`, …
    pub fn name(self) -> &'static str {
        match self {
            Kind::Safetensors => "safetensors",
            Kind::Zip => "zip",
            Kind::Pickle => "pickle",
            Kind::Hdf5 => "HDF5",
            Kind::Onnx => "ONNX",
            Kind::SavedModelPb => "SavedModel protobuf",
            Kind::XgboostJson => "XGBoost JSON",
            Kind::XgboostUbj => "XGBoost UBJSON",
        }
    }
}

/// True when `needle` occurs in `hay`.
fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Why a file does not read as whole.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file's own framing says it is longer than it is.
    #[error("{says}, but {found}")]
    Truncated {
        /// What the framing says ("the header says the tensors end at byte 4096").
        says: String,
        /// What is there ("the file has 2000 bytes").
        found: String,
    },
    /// The framing is there but does not parse, or breaks a bound.
    #[error("{0}")]
    Corrupt(String),
    /// Reading failed (not a property of the file's content).
    #[error("read error: {0}")]
    Io(#[source] std::io::Error),
}

/// What a reader learned about a whole file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    /// Globals a pickle imports (a zip's `data.pkl` too), each once, in first-seen order.
    pub imports: Vec<Import>,
    /// A safetensors file's tensor names (for the sharded index's cross-check).
    pub tensors: Vec<String>,
    /// ONNX tensors stored outside the model file.
    pub external: Vec<ExternalData>,
    /// What the reader did not verify, for messages (a stored zip entry with a data
    /// descriptor, a joblib file's inline arrays).
    pub unverified: Vec<String>,
}

impl FileReport {
    /// The imports outside the safe list.
    pub fn unsafe_imports(&self) -> impl Iterator<Item = &Import> {
        self.imports
            .iter()
            .filter(|i| i.verdict != ImportVerdict::Safe)
    }
}

/// Reads a whole file of format `kind`, `len` bytes long, from `r`, and says whether its
/// framing holds. Memory is bounded by the caps in each reader, whatever `len` is.
pub fn check(kind: Kind, r: impl Read, len: u64) -> Result<FileReport, FormatError> {
    let mut s = src::Src::new(r, len);
    match kind {
        Kind::Safetensors => safetensors::check(&mut s),
        Kind::Zip => zip::check(&mut s),
        Kind::Pickle => pickle::check_file(&mut s),
        Kind::Hdf5 => small::check_hdf5(&mut s),
        Kind::Onnx => proto::check_onnx(&mut s),
        Kind::SavedModelPb => proto::check_saved_model(&mut s),
        Kind::XgboostJson => small::check_xgboost_json(&mut s),
        Kind::XgboostUbj => ubj::check_xgboost_ubj(&mut s),
    }
}

#[cfg(test)]
mod tests;
