//! The finding codes ([`Code`]), their severities ([`Severity`]) and what each one means.
//!
//! A code is a stable kebab-case id (its [`Code::id`]): it is what the JSON output, the text
//! report, the scenarios' `expect.codes` and the snapshots show. Every code has one fixed
//! severity ([`Code::severity`]), except `nested-model-root`, a warning in a model dir and an
//! error in an archive ([`Code::severity_at`]); the deploy target decides only *whether* the
//! target-dependent codes fire, never how bad they are.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The archive is wrong or will not deploy.
    Error,
    /// Likely wrong, or wasteful.
    Warning,
    /// Worth knowing.
    Info,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// What a finding is about: one variant per stable kebab-case code, each documented with what
/// it means and its severity. Every code stands for a documented pitfall; the scenario library
/// (`packtest scenarios list`) holds a real case, with its public sources, for most of them.
///
/// Ordering follows the id strings, so findings sort as they did when codes were strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// `empty-model-dir` (error): the model dir (or the archive) holds no regular file, so
    /// `model.tar.gz` deploys nothing.
    EmptyModelDir,
    /// `model-saved-outside` (error): a file whose content sniffs as a model sits in the job's
    /// working dir, `/tmp` or output data dir, and no byte-identical copy is in the model dir,
    /// so it is not in `model.tar.gz`.
    ModelSavedOutside,
    /// `multi-host-name-clash` (error, `sim --hosts N`): two hosts of one job wrote the same
    /// path in their model dirs with different content (or a different kind of node); the
    /// platform packs every host's model dir into the one `model.tar.gz`, so one copy
    /// silently replaces the other (P18).
    MultiHostNameClash,
    /// `savedmodel-unversioned` (error): a `saved_model.pb` that is not under a numeric version
    /// dir; TF Serving loads only `<model>/<version>/saved_model.pb`.
    SavedmodelUnversioned,
    /// `savedmodel-incomplete` (error): a `saved_model.pb` without `variables/variables.index`
    /// beside it, or a `variables/variables.index` without its `saved_model.pb`.
    SavedmodelIncomplete,
    /// `symlink-escape` (error): a symlink whose target is absolute or leaves the model dir
    /// (or the archive root). In an archive, an escaping symlink member also gets
    /// `link-in-archive` when the target refuses links.
    SymlinkEscape,
    /// `dangling-symlink` (error): a symlink whose target does not exist. A link loop
    /// (`a -> b`, `b -> a`) never resolves, so it is this code.
    DanglingSymlink,
    /// `special-file` (error): a FIFO, socket or device node; packagers hang on it, drop it or
    /// fail.
    SpecialFile,
    /// `unreadable-file` (error): a file or directory the current user cannot read.
    UnreadableFile,
    /// `archive-mismatch` (error): what the target's consumer extracts from the archive is not
    /// what it must get from the model dir (the contract's `fidelity`).
    ArchiveMismatch,
    /// `archive-damaged` (error, archives): the archive could not be read to its end. Reported
    /// by `check --archive`, which reads the archive before the detector runs.
    ArchiveDamaged,
    /// `unsafe-member-name` (error, archives): a member name or header an extractor must not
    /// trust (absolute, `..`, duplicate, below a symlink, setuid/setgid, an escaping hard link,
    /// non-portable). Escaping symlinks and device nodes keep their own codes instead.
    UnsafeMemberName,
    /// `link-in-archive` (error, archives; depends on the deploy target): a link member the
    /// target's consumer cannot extract. `sagemaker` refuses every symlink and hard-link
    /// member (P23). `kserve` refuses a link whose target is absolute or leaves the archive
    /// root (Python's `data` filter), with a KServe message. `posix` takes every link. An
    /// escaping symlink member also keeps its `symlink-escape`.
    LinkInArchive,
    /// `model-file-truncated` (error): a model file whose own framing says it is longer than
    /// it is (P21, an async save not awaited; a full disk): a safetensors header whose
    /// tensors run past the end, a zip (PyTorch, `.keras`) that ends before its central
    /// directory, a pickle without its `STOP`, an HDF5 file shorter than its end-of-file
    /// address, a protobuf field past the end, a SavedModel `variables.data-*` shard or a
    /// sharded safetensors shard that is missing, ONNX external data missing or short.
    ModelFileTruncated,
    /// `model-file-corrupt` (error): a model file whose framing is there but does not parse:
    /// a bad safetensors header, gaps or overlapping tensors, a zip CRC or central directory
    /// mismatch, a damaged pickle stream, an XGBoost JSON model that does not parse or has no
    /// `learner`, a sharded index mapping a tensor to a shard that lacks it.
    ModelFileCorrupt,
    /// `unsafe-pickle` (warning): a pickle (a PyTorch zip's `data.pkl`, joblib, `.pkl`, a
    /// legacy `torch.save`) imports a global outside the safe list (`os.system`,
    /// `builtins.eval`, anything not vetted): loading it runs that code. Advisory, as
    /// picklescan is.
    UnsafePickle,
    /// `nested-model-root` (warning in a model dir, error in an archive): everything sits
    /// under one extra top-level folder, while serving containers look at the archive root.
    /// In an archive this is what `run` fails under `relative-names`: the same verdict.
    NestedModelRoot,
    /// `hf-incomplete` (warning): a Hugging Face `config.json` not at the root, or without
    /// weights or tokenizer files beside it, or sharded weights without their index; or only
    /// a PEFT/LoRA adapter is saved.
    HfIncomplete,
    /// `checkpoints-in-model-dir` (warning): training state (a `checkpoint-*`/`global_step*`
    /// dir, optimizer, scheduler or RNG state, `*.ckpt`) that bloats `model.tar.gz`.
    CheckpointsInModelDir,
    /// `archive-in-model-dir` (warning): a `.tar.gz`, `.tgz` or `.tar` inside the model dir.
    ArchiveInModelDir,
    /// `zero-byte-model-file` (warning): a weights file of 0 bytes, a save that never finished.
    ZeroByteModelFile,
    /// `inference-code-misplaced` (warning): a PyTorch model's `inference.py` that is not
    /// `code/inference.py`, the only place the PyTorch serving container loads it from.
    InferenceCodeMisplaced,
    /// `xgboost-misnamed` (warning): an XGBoost model not named `xgboost-model` at the root.
    XgboostMisnamed,
    /// `keras-file-only` (warning): a Keras file and no SavedModel; TensorFlow Serving loads
    /// only SavedModels.
    KerasFileOnly,
    /// `no-model-file` (warning, every target): the tree holds regular files but none that a
    /// serving framework loads: no sniffed model format and no model file name
    /// (`xgboost-model`, `saved_model.pb`, `*.pt`, `*.bin`, `*.safetensors`, `*.onnx`, `*.h5`,
    /// `*.joblib`, `*.pkl`, `*.params`, …; a symlink with such a name counts; macOS residue
    /// never does). It never fires with `empty-model-dir`. In an archive, content is not read,
    /// so only names count.
    NoModelFile,
    /// `symlink-in-model-dir` (warning, `sagemaker`, model dirs; depends on the deploy
    /// target): a symlink whose target resolves inside the model dir and exists (the Hugging
    /// Face cache's `snapshots/<rev>/x -> ../../blobs/<sha>`, `latest -> checkpoint-500`,
    /// `sub/up -> ..`). Escaping and dangling links keep their error codes and are not also
    /// this warning.
    SymlinkInModelDir,
    /// `unreadable-by-server` (warning, targets whose spec says `needs_world_readable`;
    /// depends on the deploy target): a file without the others-read bit (0600), or a
    /// directory without others-read-and-enter (0700), in the model dir or as an archive
    /// member. The model dir itself and the archive's root entry are not judged. A node this
    /// user cannot read is `unreadable-file` instead.
    UnreadableByServer,
    /// `junk-files` (info): editor or interpreter residue (`.ipynb_checkpoints`,
    /// `__pycache__`, `lost+found`, `.DS_Store`), and macOS residue: AppleDouble `._*`
    /// sidecars and `__MACOSX/` (P26).
    JunkFiles,
    /// `output-data-in-model-dir` (info): output data (predictions, metrics) at the model dir's
    /// root, which ships with the model.
    OutputDataInModelDir,
}

/// A string that is not a finding code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown finding code `{0}`")]
pub struct UnknownCode(pub String);

impl Code {
    /// Every code, in declaration order.
    pub const ALL: &'static [Code] = &[
        Code::EmptyModelDir,
        Code::ModelSavedOutside,
        Code::MultiHostNameClash,
        Code::SavedmodelUnversioned,
        Code::SavedmodelIncomplete,
        Code::SymlinkEscape,
        Code::DanglingSymlink,
        Code::SpecialFile,
        Code::UnreadableFile,
        Code::ArchiveMismatch,
        Code::ArchiveDamaged,
        Code::UnsafeMemberName,
        Code::LinkInArchive,
        Code::ModelFileTruncated,
        Code::ModelFileCorrupt,
        Code::UnsafePickle,
        Code::NestedModelRoot,
        Code::HfIncomplete,
        Code::CheckpointsInModelDir,
        Code::ArchiveInModelDir,
        Code::ZeroByteModelFile,
        Code::InferenceCodeMisplaced,
        Code::XgboostMisnamed,
        Code::KerasFileOnly,
        Code::NoModelFile,
        Code::SymlinkInModelDir,
        Code::UnreadableByServer,
        Code::JunkFiles,
        Code::OutputDataInModelDir,
    ];

    /// The stable kebab-case id, as shown in reports and JSON.
    pub const fn id(self) -> &'static str {
        match self {
            Code::EmptyModelDir => "empty-model-dir",
            Code::ModelSavedOutside => "model-saved-outside",
            Code::MultiHostNameClash => "multi-host-name-clash",
            Code::SavedmodelUnversioned => "savedmodel-unversioned",
            Code::SavedmodelIncomplete => "savedmodel-incomplete",
            Code::SymlinkEscape => "symlink-escape",
            Code::DanglingSymlink => "dangling-symlink",
            Code::SpecialFile => "special-file",
            Code::UnreadableFile => "unreadable-file",
            Code::ArchiveMismatch => "archive-mismatch",
            Code::ArchiveDamaged => "archive-damaged",
            Code::UnsafeMemberName => "unsafe-member-name",
            Code::LinkInArchive => "link-in-archive",
            Code::ModelFileTruncated => "model-file-truncated",
            Code::ModelFileCorrupt => "model-file-corrupt",
            Code::UnsafePickle => "unsafe-pickle",
            Code::NestedModelRoot => "nested-model-root",
            Code::HfIncomplete => "hf-incomplete",
            Code::CheckpointsInModelDir => "checkpoints-in-model-dir",
            Code::ArchiveInModelDir => "archive-in-model-dir",
            Code::ZeroByteModelFile => "zero-byte-model-file",
            Code::InferenceCodeMisplaced => "inference-code-misplaced",
            Code::XgboostMisnamed => "xgboost-misnamed",
            Code::KerasFileOnly => "keras-file-only",
            Code::NoModelFile => "no-model-file",
            Code::SymlinkInModelDir => "symlink-in-model-dir",
            Code::UnreadableByServer => "unreadable-by-server",
            Code::JunkFiles => "junk-files",
            Code::OutputDataInModelDir => "output-data-in-model-dir",
        }
    }

    /// The code's severity where it is found: [`Code::severity`], except that
    /// `nested-model-root` in an archive is an error (DESIGN §3: `run` fails that archive
    /// under `relative-names`, and `check` gives the same verdict).
    pub fn severity_at(self, root: super::finding::Where) -> Severity {
        match (self, root) {
            (Code::NestedModelRoot, super::finding::Where::Archive) => Severity::Error,
            _ => self.severity(),
        }
    }

    /// The code's severity in a model dir, the same on every target.
    pub fn severity(self) -> Severity {
        match self {
            Code::EmptyModelDir
            | Code::ModelSavedOutside
            | Code::MultiHostNameClash
            | Code::SavedmodelUnversioned
            | Code::SavedmodelIncomplete
            | Code::SymlinkEscape
            | Code::DanglingSymlink
            | Code::SpecialFile
            | Code::UnreadableFile
            | Code::ArchiveMismatch
            | Code::ArchiveDamaged
            | Code::UnsafeMemberName
            | Code::LinkInArchive
            | Code::ModelFileTruncated
            | Code::ModelFileCorrupt => Severity::Error,
            Code::NestedModelRoot
            | Code::HfIncomplete
            | Code::CheckpointsInModelDir
            | Code::ArchiveInModelDir
            | Code::ZeroByteModelFile
            | Code::InferenceCodeMisplaced
            | Code::XgboostMisnamed
            | Code::KerasFileOnly
            | Code::NoModelFile
            | Code::SymlinkInModelDir
            | Code::UnreadableByServer
            | Code::UnsafePickle => Severity::Warning,
            Code::JunkFiles | Code::OutputDataInModelDir => Severity::Info,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Code {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, UnknownCode> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.id() == s)
            .ok_or_else(|| UnknownCode(s.to_string()))
    }
}

impl PartialOrd for Code {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Code {
    fn cmp(&self, other: &Self) -> Ordering {
        self.id().cmp(other.id())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for &c in Code::ALL {
            assert_eq!(c.id().parse::<Code>(), Ok(c));
            assert_eq!(c.to_string(), c.id());
            assert!(seen.insert(c.id()), "{c} twice");
        }
        assert_eq!(
            "no-such-code".parse::<Code>(),
            Err(UnknownCode("no-such-code".into()))
        );
    }

    #[test]
    fn serializes_as_the_id() {
        let j = serde_json::to_string(&Code::JunkFiles).unwrap_or_default();
        assert_eq!(j, "\"junk-files\"");
    }
}
