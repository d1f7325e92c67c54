//! The silent-failure detector (DESIGN §3): findings about a finished job and its archive.
//!
//! It looks at a job's directories (the model dir, and the working dir, `/tmp`-like and
//! output dirs where a model may have been saved by mistake) or at an archive alone, and
//! reports [`Finding`]s with a stable kebab-case code, a severity, the path, an explanation and
//! a one-line fix. Content is **sniffed**, not guessed from names: each regular file's first
//! bytes are read (bounded, `O_NOFOLLOW | O_NONBLOCK`, never a FIFO or device, never through a
//! symlink) and matched against safetensors, PyTorch zip, pickle/joblib, HDF5, TF SavedModel,
//! ONNX and XGBoost signatures. Rules that only need names and types run on a common
//! [`Tree`] view, built either from the disk or from an archive manifest, so `check --archive`
//! on a downloaded `model.tar.gz` applies the same rules as `check --model-dir`.
//!
//! Codes (severity): `empty-model-dir` (error), `model-saved-outside` (error),
//! `savedmodel-unversioned` (error), `savedmodel-incomplete` (error), `symlink-escape`
//! (error), `dangling-symlink` (error), `special-file` (error), `unreadable-file` (error),
//! `archive-mismatch` (error), `nested-model-root` (warning), `hf-incomplete` (warning),
//! `checkpoints-in-model-dir` (warning), `archive-in-model-dir` (warning),
//! `zero-byte-model-file` (warning), `inference-code-misplaced` (warning),
//! `xgboost-misnamed` (warning), `keras-file-only` (warning), `junk-files` (info),
//! `output-data-in-model-dir` (info), `archive-damaged` and `unsafe-member-name` (errors, for
//! archives). `inference-code-misplaced` onward are additions to DESIGN §3's starting set, each for a documented pitfall
//! (sagemaker-pitfalls.md). `junk-files` also covers macOS residue: AppleDouble `._*`
//! sidecars and `__MACOSX/` (P26).
//!
//! `no-model-file` (warning, every target): the tree holds regular files but none that a
//! serving framework loads: no sniffed model format and no model file name (`xgboost-model`,
//! `saved_model.pb`, `*.pt`, `*.bin`, `*.safetensors`, `*.onnx`, `*.h5`, `*.joblib`, `*.pkl`,
//! `*.params`, …; a symlink with such a name counts; macOS residue never does). It never fires
//! with `empty-model-dir`. In an archive, content is not read, so only names count.
//!
//! Codes that depend on the deploy target ([`DetectOptions::target`], `check --target`,
//! DESIGN §2 and §3), read from the target's [`crate::target::TargetSpec`]:
//! - `link-in-archive` (error, archives): `sagemaker` refuses every symlink and hard-link
//!   member (P23). `kserve` refuses a link whose target is absolute or leaves the archive root
//!   (Python's `data` filter); that case reuses this code with a KServe message. `posix`
//!   takes every link. An escaping symlink member also keeps its `symlink-escape`.
//! - `symlink-in-model-dir` (warning, `sagemaker`, model dirs): a symlink whose target
//!   resolves inside the model dir and exists (the Hugging Face cache's
//!   `snapshots/<rev>/x -> ../../blobs/<sha>`, `latest -> checkpoint-500`, `sub/up -> ..`).
//!   Escaping and dangling links keep their error codes and are not also this warning. A link
//!   loop (`a -> b`, `b -> a`) never resolves, so it is `dangling-symlink`.
//! - `unreadable-by-server` (warning, targets whose spec says `needs_world_readable`): a file
//!   without the others-read bit (0600), or a directory without others-read-and-enter (0700),
//!   in the model dir or as an archive member. The model dir itself and the archive's root
//!   entry are not judged. A node this user cannot read is `unreadable-file` instead.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::archive::{Manifest, MemberKind};
use crate::layout::{RawPath, Root, Sandbox};
use crate::target::{LinkRule, Target};

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

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable kebab-case code.
    pub code: &'static str,
    /// Severity.
    pub severity: Severity,
    /// Which directory the path is relative to: `model`, `cwd`, `tmp`, `output`, `archive`.
    pub root: &'static str,
    /// The path involved, if one.
    pub path: Option<RawPath>,
    /// What is wrong and why it matters.
    pub message: String,
    /// What to do instead.
    pub fix: String,
}

/// The serving framework, for framework-specific rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framework {
    /// PyTorch / TorchServe.
    Pytorch,
    /// TensorFlow Serving.
    Tensorflow,
    /// Hugging Face inference toolkit.
    Huggingface,
    /// XGBoost container.
    Xgboost,
    /// scikit-learn container.
    Sklearn,
}

impl std::str::FromStr for Framework {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "pytorch" | "torch" => Ok(Framework::Pytorch),
            "tensorflow" | "tf" => Ok(Framework::Tensorflow),
            "huggingface" | "hf" => Ok(Framework::Huggingface),
            "xgboost" => Ok(Framework::Xgboost),
            "sklearn" | "scikit-learn" => Ok(Framework::Sklearn),
            other => Err(format!(
                "unknown framework `{other}`; valid values: pytorch, tensorflow, huggingface, xgboost, sklearn"
            )),
        }
    }
}

/// Detector settings.
#[derive(Clone, Debug, Default)]
pub struct DetectOptions {
    /// Force framework-specific rules on (they are also on when the content shows the framework).
    pub framework: Option<Framework>,
    /// The deploy target whose consumer unpacks the archive (DESIGN §2); it decides the
    /// target-dependent codes (`link-in-archive`, `symlink-in-model-dir`,
    /// `unreadable-by-server`). Default: SageMaker.
    pub target: Target,
}

/// The directories of a finished job. Only `model_dir` is required.
#[derive(Clone, Debug, Default)]
pub struct JobDirs {
    /// `SM_MODEL_DIR`.
    pub model_dir: PathBuf,
    /// The job's working directory.
    pub cwd: Option<PathBuf>,
    /// `SM_OUTPUT_DATA_DIR`.
    pub output_data_dir: Option<PathBuf>,
    /// The checkpoint dir (never "outside": checkpoints are synced separately).
    pub checkpoints: Option<PathBuf>,
    /// A `/tmp`-like scratch dir.
    pub tmp: Option<PathBuf>,
}

impl JobDirs {
    /// The dirs of a packtest sandbox.
    pub fn from_sandbox(sb: &Sandbox) -> Self {
        Self::from_root(sb.root())
    }

    /// The dirs under a sandbox root or a real `/opt/ml`-style root (`ROOT/opt/ml/…` or
    /// `ROOT/…` when `ROOT` itself is the `ml` dir).
    pub fn from_root(root: &Path) -> Self {
        let ml = if root.join("opt/ml").is_dir() {
            root.join("opt/ml")
        } else {
            root.to_owned()
        };
        let some = |p: PathBuf| p.is_dir().then_some(p);
        JobDirs {
            model_dir: ml.join("model"),
            cwd: some(ml.join("code")),
            output_data_dir: some(ml.join("output/data")),
            checkpoints: some(ml.join("checkpoints")),
            tmp: some(root.join(Root::Tmp.rel_dir())),
        }
    }
}

/// Why detection could not run.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// The model dir is missing or not a directory.
    #[error("model dir `{}` {reason}; pass the directory the job saved its model to (SM_MODEL_DIR)", path.display())]
    BadModelDir {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: &'static str,
    },
    /// Walking a directory failed.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

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
    fn describe(self) -> &'static str {
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

/// The kind of a tree node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// Regular file (or hard link).
    File,
    /// Directory.
    Dir,
    /// Symlink.
    Symlink,
    /// FIFO.
    Fifo,
    /// Socket.
    Socket,
    /// Character or block device.
    Device,
}

/// One node of a [`Tree`].
#[derive(Clone, Debug)]
pub struct TreeNode {
    /// Its kind.
    pub kind: NodeKind,
    /// Size (files).
    pub size: u64,
    /// Sniffed format (files read from disk).
    pub sniffed: Option<Sniffed>,
    /// Symlink target.
    pub target: Option<RawPath>,
    /// False when the current user cannot read it.
    pub readable: bool,
    /// Permission bits (0o7777) when known: from lstat on disk, from the member header in an
    /// archive; `None` for a directory that is only implied by member names.
    pub mode: Option<u32>,
}

/// A model dir or an archive, as the name-and-type rules see it.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    /// Nodes by path relative to the model root.
    pub nodes: BTreeMap<RawPath, TreeNode>,
    /// Symlinks that exist on disk (`fs::metadata` through the link succeeds); `None` for an
    /// archive, where existence is judged from member names.
    pub link_resolves: Option<BTreeSet<RawPath>>,
}

const SNIFF_BYTES: usize = 4096;

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let mut v = Vec::with_capacity(SNIFF_BYTES);
    f.take(SNIFF_BYTES as u64).read_to_end(&mut v)?;
    Ok(v)
}

fn readable(path: &Path, dir: bool) -> bool {
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    let mode = if dir {
        libc::R_OK | libc::X_OK
    } else {
        libc::R_OK
    };
    // SAFETY: `c` is a valid NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), mode) == 0 }
}

impl Tree {
    /// Walks a directory with lstat, sniffing regular files.
    pub fn scan(dir: &Path) -> Result<Tree, DetectError> {
        let mut t = Tree {
            nodes: BTreeMap::new(),
            link_resolves: Some(BTreeSet::new()),
        };
        for entry in walkdir::WalkDir::new(dir)
            .follow_links(false)
            .sort_by_file_name()
            .min_depth(1)
        {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    // An unreadable directory: record it, keep going.
                    if let Some(p) = e.path() {
                        if let Ok(rel) = p.strip_prefix(dir) {
                            let rel = RawPath::from_path(rel);
                            t.nodes
                                .entry(rel)
                                .or_insert(TreeNode {
                                    kind: NodeKind::Dir,
                                    size: 0,
                                    sniffed: None,
                                    target: None,
                                    readable: false,
                                    mode: None,
                                })
                                .readable = false;
                            continue;
                        }
                    }
                    return Err(DetectError::Io {
                        path: dir.to_owned(),
                        source: e.into(),
                    });
                }
            };
            let path = entry.path();
            let rel = RawPath::from_path(path.strip_prefix(dir).unwrap_or(path));
            let meta = fs::symlink_metadata(path).map_err(|source| DetectError::Io {
                path: path.to_owned(),
                source,
            })?;
            let ft = meta.file_type();
            let kind = if ft.is_file() {
                NodeKind::File
            } else if ft.is_dir() {
                NodeKind::Dir
            } else if ft.is_symlink() {
                NodeKind::Symlink
            } else if ft.is_fifo() {
                NodeKind::Fifo
            } else if ft.is_socket() {
                NodeKind::Socket
            } else {
                NodeKind::Device
            };
            let mut node = TreeNode {
                kind,
                size: 0,
                sniffed: None,
                target: None,
                readable: true,
                mode: Some(meta.mode() & 0o7777),
            };
            match kind {
                NodeKind::File => {
                    node.size = meta.len();
                    node.readable = readable(path, false);
                    if node.readable && node.size > 0 {
                        if let Ok(head) = read_head(path) {
                            node.sniffed = sniff(rel.file_name(), &head);
                        }
                    }
                }
                NodeKind::Dir => node.readable = readable(path, true),
                NodeKind::Symlink => {
                    node.target = fs::read_link(path).ok().map(|t| RawPath::from_path(&t));
                    if fs::metadata(path).is_ok() {
                        if let Some(set) = t.link_resolves.as_mut() {
                            set.insert(rel.clone());
                        }
                    }
                }
                _ => {}
            }
            t.nodes.insert(rel, node);
        }
        Ok(t)
    }

    /// The archive's members as a tree (root entries dropped, hard links as files).
    pub fn from_manifest(m: &Manifest) -> Tree {
        let mut nodes = BTreeMap::new();
        // A hard-link member has no data of its own: its size is its target's.
        let sizes: BTreeMap<&RawPath, u64> = m
            .members
            .iter()
            .filter(|x| x.kind == MemberKind::File)
            .map(|x| (&x.path, x.size))
            .collect();
        for x in m.members.iter().filter(|x| !x.is_root_entry()) {
            let path = RawPath::new(
                x.path
                    .as_bytes()
                    .strip_prefix(b"/")
                    .unwrap_or(x.path.as_bytes())
                    .to_vec(),
            );
            // Implied parent dirs.
            let mut p = path.parent();
            while let Some(d) = p {
                nodes.entry(d.clone()).or_insert(TreeNode {
                    kind: NodeKind::Dir,
                    size: 0,
                    sniffed: None,
                    target: None,
                    readable: true,
                    mode: None,
                });
                p = d.parent();
            }
            let kind = match x.kind {
                MemberKind::File | MemberKind::Hardlink => NodeKind::File,
                MemberKind::Dir => NodeKind::Dir,
                MemberKind::Symlink => NodeKind::Symlink,
                MemberKind::Fifo => NodeKind::Fifo,
                MemberKind::CharDevice | MemberKind::BlockDevice => NodeKind::Device,
                MemberKind::Other(_) => NodeKind::File,
            };
            let sniffed = match (kind, path.file_name()) {
                (NodeKind::File, b"saved_model.pb") => Some(Sniffed::SavedModel),
                (NodeKind::File, n) if n.ends_with(b".safetensors") => Some(Sniffed::Safetensors),
                (NodeKind::File, n) if n.ends_with(b".pt") || n.ends_with(b".pth") => {
                    Some(Sniffed::TorchZip)
                }
                (NodeKind::File, n) if n.ends_with(b".joblib") || n.ends_with(b".pkl") => {
                    Some(Sniffed::Pickle)
                }
                (NodeKind::File, n) if n.ends_with(b".h5") || n.ends_with(b".keras") => {
                    Some(Sniffed::Hdf5)
                }
                (NodeKind::File, n) if n.ends_with(b".onnx") => Some(Sniffed::Onnx),
                (NodeKind::File, b"xgboost-model") => Some(Sniffed::Xgboost),
                _ => None,
            };
            nodes.insert(
                path,
                TreeNode {
                    kind,
                    size: match (x.kind, &x.link_target) {
                        (MemberKind::Hardlink, Some(t)) => sizes
                            .get(&crate::archive::normalize_name(t.as_bytes()))
                            .copied()
                            .unwrap_or(x.size),
                        _ => x.size,
                    },
                    sniffed,
                    target: x.link_target.clone(),
                    readable: true,
                    mode: Some(x.mode & 0o7777),
                },
            );
        }
        Tree {
            nodes,
            link_resolves: None,
        }
    }

    fn files(&self) -> impl Iterator<Item = (&RawPath, &TreeNode)> {
        self.nodes.iter().filter(|(_, n)| n.kind == NodeKind::File)
    }

    fn has(&self, p: &[u8]) -> bool {
        self.nodes.contains_key(&RawPath::new(p.to_vec()))
    }
}

/// Resolves `target` lexically from the directory of `link` (both relative to the model
/// root). `None` when it leaves the root or is absolute.
fn resolve_inside(link: &RawPath, target: &[u8]) -> Option<RawPath> {
    if target.starts_with(b"/") {
        return None;
    }
    let parent = link.parent().unwrap_or_default();
    let mut parts: Vec<&[u8]> = parent.components().collect();
    for c in target.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(RawPath::new(parts.join(&b'/')))
}

fn finding(
    code: &'static str,
    severity: Severity,
    root: &'static str,
    path: Option<RawPath>,
    message: String,
    fix: impl Into<String>,
) -> Finding {
    Finding {
        code,
        severity,
        root,
        path,
        message,
        fix: fix.into(),
    }
}

fn is_digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

const WEIGHT_EXTS: [&[u8]; 11] = [
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
const MODEL_FILE_NAMES: [&[u8]; 6] = [
    b"xgboost-model",
    b"saved_model.pb",
    b"saved_model.pbtxt",
    b"variables.index",
    b"model-symbol.json",
    b"model.txt",
];

/// File name endings a serving framework loads (PyTorch, Hugging Face, TF, Keras, ONNX,
/// sklearn, XGBoost UBJ, MXNet, TFLite, GGUF, TensorRT, CatBoost, Flax, Core ML).
const MODEL_FILE_EXTS: [&[u8]; 25] = [
    b".pt",
    b".pth",
    b".bin",
    b".safetensors",
    b".onnx",
    b".h5",
    b".hdf5",
    b".keras",
    b".pb",
    b".joblib",
    b".pkl",
    b".pickle",
    b".ckpt",
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

/// True for a name some serving framework loads by name (see [`MODEL_FILE_NAMES`] and
/// [`MODEL_FILE_EXTS`]), plus `variables.data-*` shards and `xgboost*` names (an XGBoost JSON
/// model in an archive, where content cannot be sniffed).
fn is_model_file_name(name: &[u8]) -> bool {
    MODEL_FILE_NAMES.contains(&name)
        || name.starts_with(b"variables.data-")
        || name.starts_with(b"xgboost")
        || MODEL_FILE_EXTS
            .iter()
            .any(|e| name.len() > e.len() && name.ends_with(e))
}

/// macOS residue (P26): an AppleDouble sidecar `._name`, or anything under `__MACOSX/`.
fn is_mac_residue(p: &RawPath) -> bool {
    p.file_name().starts_with(b"._") || p.components().any(|c| c == b"__MACOSX")
}

/// Name-and-type rules shared by directories and archives. `root` names the tree in findings.
pub fn tree_findings(t: &Tree, root: &'static str, opts: &DetectOptions) -> Vec<Finding> {
    use Severity::*;
    let mut out = Vec::new();
    let in_archive = root == "archive";
    let where_ = if in_archive {
        "the archive"
    } else {
        "the model dir"
    };
    if t.files().next().is_none() {
        out.push(finding(
            "empty-model-dir",
            Error,
            root,
            None,
            format!("{where_} holds no regular file, so model.tar.gz deploys nothing"),
            "save the model under $SM_MODEL_DIR (os.environ['SM_MODEL_DIR']), not the working dir or /tmp, and on every rank that should save",
        ));
    }
    // Symlinks.
    for (p, n) in t.nodes.iter().filter(|(_, n)| n.kind == NodeKind::Symlink) {
        let target = n.target.clone().unwrap_or_default();
        match resolve_inside(p, target.as_bytes()) {
            None => out.push(finding(
                "symlink-escape",
                Error,
                root,
                Some(p.clone()),
                format!("symlink `{p}` points outside {where_} (to `{target}`): a packager that follows it packs foreign bytes (the SageMaker SDK does), one that keeps it ships a link that breaks on the endpoint"),
                format!("copy the real file into the model dir instead of linking it: `cp --dereference {p} …`"),
            )),
            Some(inside) => {
                let exists = match &t.link_resolves {
                    Some(set) => set.contains(p),
                    None => inside.as_bytes().is_empty() || t.nodes.contains_key(&inside),
                };
                if !exists {
                    out.push(finding(
                        "dangling-symlink",
                        Error,
                        root,
                        Some(p.clone()),
                        format!("symlink `{p}` points to `{target}`, which does not exist: SageMaker's create_tar_file crashes on it, other packagers ship a broken link"),
                        "remove the link, or write the file it should point to",
                    ));
                } else if !in_archive && opts.target.spec().symlinks == LinkRule::Refuse {
                    // An archive's link members are `link-in-archive` (detect_archive).
                    let ancestor = inside.as_bytes().is_empty()
                        || p.as_bytes().starts_with(&[inside.as_bytes(), b"/"].concat());
                    let (message, fix) = if ancestor {
                        (
                            format!("symlink `{p}` points to `{target}`, a directory that contains the link itself: a packager that keeps it ships a link that {} cannot extract, and one that dereferences it loops", opts.target),
                            "remove the link: it adds nothing to the model dir".to_string(),
                        )
                    } else {
                        (
                            format!("symlink `{p}` points to `{target}` inside the model dir (the Hugging Face cache writes such links): most packagers keep it as a link, and {} cannot extract an archive that holds one", opts.target),
                            format!("copy the real file instead of linking it (`cp -L`, `shutil.copy`), or pack with `packtest pack --target {}`, which dereferences it", opts.target),
                        )
                    };
                    out.push(finding(
                        "symlink-in-model-dir",
                        Warning,
                        root,
                        Some(p.clone()),
                        message,
                        fix,
                    ));
                }
            }
        }
    }
    // Permissions: the server may run as a non-root user (DESIGN §2).
    if opts.target.spec().needs_world_readable {
        for (p, n) in t.nodes.iter().filter(|(_, n)| n.readable) {
            let Some(mode) = n.mode else { continue };
            let what = match n.kind {
                NodeKind::File if mode & 0o004 == 0 => "file others cannot read",
                NodeKind::Dir if mode & 0o005 != 0o005 => "directory others cannot list or enter",
                _ => continue,
            };
            out.push(finding(
                "unreadable-by-server",
                Warning,
                root,
                Some(p.clone()),
                format!("`{p}` is a {what} (mode {mode:04o}, as written under umask 077): the {} server may run as a non-root user and then cannot load it", opts.target),
                "run `chmod -R a+rX` on the model dir before the job ends, or pack with normalized modes (`packtest pack`)",
            ));
        }
    }
    // Nothing a framework would load (`empty-model-dir` covers no file at all).
    let file_count = t.files().count();
    let loadable = t.nodes.iter().any(|(p, n)| {
        !is_mac_residue(p)
            && match n.kind {
                NodeKind::File => n.sniffed.is_some() || is_model_file_name(p.file_name()),
                NodeKind::Symlink => is_model_file_name(p.file_name()),
                _ => false,
            }
    });
    if file_count > 0 && !loadable {
        out.push(finding(
            "no-model-file",
            Warning,
            root,
            None,
            format!("{where_} holds {file_count} file(s), but none that a serving framework loads: no content is a known model format, and no name is a model file name (xgboost-model, *.pt, *.safetensors, saved_model.pb, *.onnx, *.joblib, …)"),
            "save the model itself into $SM_MODEL_DIR (torch.save, save_pretrained, booster.save_model('xgboost-model'), joblib.dump); if it has a custom name, make sure your inference code loads it",
        ));
    }
    for (p, n) in &t.nodes {
        match n.kind {
            NodeKind::Fifo | NodeKind::Socket | NodeKind::Device => out.push(finding(
                "special-file",
                Error,
                root,
                Some(p.clone()),
                format!("`{p}` is a {} (a logger's pipe or socket?): packagers hang on it, drop it, or fail (SageMaker local mode fails on FIFOs and sockets)", match n.kind { NodeKind::Fifo => "FIFO", NodeKind::Socket => "socket", _ => "device" }),
                "create pipes and sockets outside SM_MODEL_DIR, e.g. under /tmp, and remove them before the job ends",
            )),
            _ if !n.readable => out.push(finding(
                "unreadable-file",
                Error,
                root,
                Some(p.clone()),
                format!("`{p}` cannot be read by this user: the packager will fail on it or skip it"),
                format!("chmod a+r{} `{p}` before the job ends", if n.kind == NodeKind::Dir { "x" } else { "" }),
            )),
            _ => {}
        }
    }
    // TF SavedModel.
    let mut tf = opts.framework == Some(Framework::Tensorflow);
    for (p, _) in t.files() {
        let name = p.file_name();
        if name == b"saved_model.pb" {
            tf = true;
            let parent = p.parent().unwrap_or_default();
            if !is_digits(parent.file_name()) {
                out.push(finding(
                    "savedmodel-unversioned",
                    Error,
                    root,
                    Some(p.clone()),
                    format!("`{p}` is not under a numeric version dir: TF Serving loads only `<model>/<version>/saved_model.pb` and will find no servable"),
                    "export to a numbered dir: model.save(os.path.join(os.environ['SM_MODEL_DIR'], '1'))",
                ));
            }
            if !t.has(parent.join(b"variables/variables.index").as_bytes()) {
                out.push(finding(
                    "savedmodel-incomplete",
                    Error,
                    root,
                    Some(p.clone()),
                    format!("`{p}` has no `variables/variables.index` beside it: the graph loads without its weights"),
                    "save the whole SavedModel directory (saved_model.pb and variables/), e.g. with tf.saved_model.save",
                ));
            }
        }
        if name == b"variables.index" {
            let vars = p.parent().unwrap_or_default();
            let base = vars.parent().unwrap_or_default();
            if vars.file_name() == b"variables" && !t.has(base.join(b"saved_model.pb").as_bytes()) {
                out.push(finding(
                    "savedmodel-incomplete",
                    Error,
                    root,
                    Some(p.clone()),
                    format!("`{p}` has no `saved_model.pb` next to its `variables/` dir: the weights have no graph"),
                    "save the whole SavedModel directory, not only the variables",
                ));
            }
        }
    }
    // One extra top-level folder.
    let top: BTreeSet<&[u8]> = t
        .nodes
        .keys()
        .filter_map(|k| k.components().next())
        .collect();
    if top.len() == 1 {
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
            out.push(finding(
                "nested-model-root",
                Warning,
                root,
                Some(only_path.clone()),
                format!("everything sits under one extra folder `{only_path}/`: serving containers look at the archive root"),
                "save into $SM_MODEL_DIR itself, not a subfolder of it, or pack with `-C` inside that folder",
            ));
        }
    }
    // Hugging Face.
    let mut hf_configs: Vec<&RawPath> = t
        .files()
        .filter(|(p, _)| p.file_name() == b"config.json")
        .map(|(p, _)| p)
        .collect();
    hf_configs.retain(|p| {
        let dir = p.parent();
        let sibling = |n: &[u8]| {
            t.has(
                dir.as_ref()
                    .map_or(n.to_vec(), |d| d.join(n).into_bytes())
                    .as_slice(),
            )
        };
        sibling(b"tokenizer.json")
            || sibling(b"tokenizer_config.json")
            || t.files().any(|(q, _)| {
                q.parent() == dir
                    && (q.file_name().ends_with(b".safetensors")
                        || q.file_name() == b"pytorch_model.bin")
            })
            || opts.framework == Some(Framework::Huggingface)
    });
    for cfg in hf_configs {
        let dir = cfg.parent();
        let in_dir: Vec<&[u8]> = t
            .files()
            .filter(|(q, _)| q.parent() == dir)
            .map(|(q, _)| q.file_name())
            .collect();
        let weights = in_dir.iter().any(|n| {
            n.ends_with(b".safetensors")
                || *n == b"pytorch_model.bin"
                || *n == b"tf_model.h5"
                || n.ends_with(b".index.json")
        });
        let tokenizer = in_dir.iter().any(|n| {
            matches!(
                *n,
                b"tokenizer.json"
                    | b"tokenizer_config.json"
                    | b"vocab.txt"
                    | b"spiece.model"
                    | b"vocab.json"
                    | b"merges.txt"
                    | b"tokenizer.model"
            )
        });
        let mut problems = Vec::new();
        if dir.is_some() {
            problems.push(
                "it is not at the archive root, where the HF inference toolkit loads from"
                    .to_string(),
            );
        }
        if !weights {
            problems.push("there are no weights beside it".to_string());
        }
        if !tokenizer {
            problems.push("there are no tokenizer files beside it".to_string());
        }
        // Sharded weights: every shard the index names must be there.
        for (q, _) in t.files().filter(|(q, _)| {
            q.parent() == dir
                && q.file_name().starts_with(b"model-")
                && q.file_name().ends_with(b".safetensors")
        }) {
            let _ = q;
            if !in_dir.iter().any(|n| *n == b"model.safetensors.index.json") {
                problems.push("sharded weights have no model.safetensors.index.json".to_string());
                break;
            }
        }
        if !problems.is_empty() {
            out.push(finding(
                "hf-incomplete",
                Warning,
                root,
                Some(cfg.clone()),
                format!("Hugging Face `{cfg}`: {}", problems.join("; ")),
                "call model.save_pretrained(SM_MODEL_DIR) and tokenizer.save_pretrained(SM_MODEL_DIR) into the model dir itself",
            ));
        }
    }
    // Bloat, leftovers, naming.
    let mut junk = Vec::new();
    let mut torch = opts.framework == Some(Framework::Pytorch);
    let mut xgb_files = Vec::new();
    for (p, n) in &t.nodes {
        let name = p.file_name();
        let comps: Vec<&[u8]> = p.components().collect();
        let is_ckpt_dir = |c: &[u8]| c.starts_with(b"checkpoint-") || c.starts_with(b"global_step");
        // The first checkpoint dir on the path is reported once; loose training-state files
        // are reported when they are not inside one.
        let ckpt_dir_here = comps.last().is_some_and(|c| is_ckpt_dir(c))
            && !comps[..comps.len() - 1].iter().any(|c| is_ckpt_dir(c));
        let inside_ckpt_dir = comps[..comps.len().saturating_sub(1)]
            .iter()
            .any(|c| is_ckpt_dir(c));
        let state_file = n.kind == NodeKind::File
            && (matches!(name, b"optimizer.pt" | b"scheduler.pt" | b"optimizer.bin")
                || name.starts_with(b"rng_state")
                || name.ends_with(b".ckpt"));
        if ckpt_dir_here || (state_file && !inside_ckpt_dir) {
            out.push(finding(
                "checkpoints-in-model-dir",
                Warning,
                root,
                Some(p.clone()),
                format!("`{p}` is training state (a checkpoint or optimizer state), not the model: it bloats model.tar.gz and slows every deploy"),
                "write checkpoints to /opt/ml/checkpoints (synced separately), or save only the final weights to SM_MODEL_DIR",
            ));
        }
        if n.kind == NodeKind::File
            && (name.ends_with(b".tar.gz") || name.ends_with(b".tgz") || name.ends_with(b".tar"))
        {
            out.push(finding(
                "archive-in-model-dir",
                Warning,
                root,
                Some(p.clone()),
                format!("`{p}` is an archive inside the model dir: it gets packed into model.tar.gz (a nested or self-included archive)"),
                "write archives outside SM_MODEL_DIR; SageMaker packs the model dir itself",
            ));
        }
        if n.kind == NodeKind::File
            && n.size == 0
            && (WEIGHT_EXTS.iter().any(|e| name.ends_with(e)) || name == b"xgboost-model")
        {
            out.push(finding(
                "zero-byte-model-file",
                Warning,
                root,
                Some(p.clone()),
                format!("`{p}` is a model file of 0 bytes: a save that never finished (out of disk, killed, or saved on another rank)"),
                "check the job log for the save; flush and close the file before the script exits",
            ));
        }
        if comps
            .iter()
            .any(|c| matches!(*c, b".ipynb_checkpoints" | b"__pycache__" | b"lost+found"))
            && comps.len()
                == 1 + comps
                    .iter()
                    .position(|c| {
                        matches!(*c, b".ipynb_checkpoints" | b"__pycache__" | b"lost+found")
                    })
                    .unwrap_or(0)
            || name == b".DS_Store"
            || (n.kind == NodeKind::File
                && name.starts_with(b"._")
                && !comps.contains(&&b"__MACOSX"[..]))
            || comps.last() == Some(&&b"__MACOSX"[..])
                && !comps[..comps.len() - 1].contains(&&b"__MACOSX"[..])
        {
            junk.push(p.clone());
        }
        if matches!(n.sniffed, Some(Sniffed::TorchZip)) {
            torch = true;
        }
        if matches!(n.sniffed, Some(Sniffed::Xgboost)) {
            xgb_files.push(p.clone());
        }
        if n.kind == NodeKind::File
            && comps.len() == 1
            && (name.ends_with(b".csv")
                || name.ends_with(b".parquet")
                || name.starts_with(b"eval_results")
                || name == b"metrics.json")
        {
            out.push(finding(
                "output-data-in-model-dir",
                Info,
                root,
                Some(p.clone()),
                format!("`{p}` looks like output data (predictions, metrics): it ships with the model"),
                "write output data to SM_OUTPUT_DATA_DIR (/opt/ml/output/data), which becomes output.tar.gz",
            ));
        }
    }
    for p in junk {
        out.push(finding(
            "junk-files",
            Info,
            root,
            Some(p.clone()),
            if is_mac_residue(&p) {
                format!("`{p}` is macOS residue (an AppleDouble `._*` sidecar or `__MACOSX/`): packed for nothing, and a loader that globs `*.pth` or loads every root file picks it up")
            } else {
                format!("`{p}` is editor or interpreter residue, packed for nothing")
            },
            if is_mac_residue(&p) {
                "delete it, and tar on macOS with COPYFILE_DISABLE=1 (or pack on Linux)"
            } else {
                "delete it before the job ends, or save into a clean directory"
            },
        ));
    }
    if t.has(b"adapter_config.json") && !t.has(b"config.json") {
        out.push(finding(
            "hf-incomplete",
            Warning,
            root,
            Some(RawPath::from("adapter_config.json")),
            "only a PEFT/LoRA adapter is saved: there is no config.json or full weights, so the serving container has no model to load".to_string(),
            "merge before saving: model = model.merge_and_unload(); model.save_pretrained(SM_MODEL_DIR); tokenizer.save_pretrained(SM_MODEL_DIR)",
        ));
    }
    let has_savedmodel = t.files().any(|(p, _)| p.file_name() == b"saved_model.pb");
    for (p, n) in t.files() {
        let keras_file =
            matches!(n.sniffed, Some(Sniffed::Hdf5)) || p.file_name().ends_with(b".keras");
        if keras_file
            && !has_savedmodel
            && matches!(opts.framework, None | Some(Framework::Tensorflow))
        {
            out.push(finding(
                "keras-file-only",
                Warning,
                root,
                Some(p.clone()),
                format!("`{p}` is a Keras file and there is no SavedModel: TensorFlow Serving (the SageMaker TF container) loads only SavedModels"),
                "export a SavedModel as well: model.export(os.path.join(SM_MODEL_DIR, '1')) (Keras 3) or tf.saved_model.save",
            ));
        }
    }
    if torch {
        for (p, _) in t.files().filter(|(p, _)| {
            p.file_name() == b"inference.py" && p.as_bytes() != b"code/inference.py"
        }) {
            out.push(finding(
                "inference-code-misplaced",
                Warning,
                root,
                Some(p.clone()),
                format!("`{p}` is not `code/inference.py`: the PyTorch serving container only loads the handler from code/"),
                "put inference.py (and requirements.txt) in SM_MODEL_DIR/code/",
            ));
        }
    }
    if (opts.framework == Some(Framework::Xgboost) || !xgb_files.is_empty())
        && !t.has(b"xgboost-model")
    {
        for p in xgb_files {
            out.push(finding(
                "xgboost-misnamed",
                Warning,
                root,
                Some(p.clone()),
                format!("XGBoost model `{p}` is not named `xgboost-model` at the root: the SageMaker XGBoost container loads that name"),
                "save with booster.save_model(os.path.join(SM_MODEL_DIR, 'xgboost-model'))",
            ));
        }
    }
    let _ = tf;
    out
}

fn sort(mut v: Vec<Finding>) -> Vec<Finding> {
    v.sort_by(|a, b| {
        (a.severity, a.code, a.root, &a.path).cmp(&(b.severity, b.code, b.root, &b.path))
    });
    v.dedup();
    v
}

/// Findings for a finished job's directories.
pub fn detect(dirs: &JobDirs, opts: &DetectOptions) -> Result<Vec<Finding>, DetectError> {
    match fs::metadata(&dirs.model_dir) {
        Err(_) => {
            return Err(DetectError::BadModelDir {
                path: dirs.model_dir.clone(),
                reason: "does not exist",
            })
        }
        Ok(m) if !m.is_dir() => {
            return Err(DetectError::BadModelDir {
                path: dirs.model_dir.clone(),
                reason: "is not a directory",
            })
        }
        _ => {}
    }
    let model = Tree::scan(&dirs.model_dir)?;
    let mut out = tree_findings(&model, "model", opts);
    // Model files saved outside the model dir, that never reached it.
    let outside: [(&'static str, &Option<PathBuf>); 3] = [
        ("cwd", &dirs.cwd),
        ("tmp", &dirs.tmp),
        ("output", &dirs.output_data_dir),
    ];
    let mut model_hashes: Option<BTreeMap<u64, BTreeSet<[u8; 32]>>> = None;
    for (root, dir) in outside {
        let Some(dir) = dir else { continue };
        if !dir.is_dir() || dir.starts_with(&dirs.model_dir) {
            continue;
        }
        let t = Tree::scan(dir)?;
        for (p, n) in t.files() {
            let Some(fmt) = n.sniffed else { continue };
            // Same size and bytes in the model dir means it was copied: fine.
            let hashes = model_hashes.get_or_insert_with(|| {
                let mut m: BTreeMap<u64, BTreeSet<[u8; 32]>> = BTreeMap::new();
                for (q, qn) in model.files() {
                    if let Ok((h, _)) = crate::layout::hash_file(&q.under(&dirs.model_dir)) {
                        m.entry(qn.size).or_default().insert(h);
                    }
                }
                m
            });
            let copied = hashes.get(&n.size).is_some_and(|set| {
                crate::layout::hash_file(&p.under(dir)).is_ok_and(|(h, _)| set.contains(&h))
            });
            if !copied {
                out.push(finding(
                    "model-saved-outside",
                    Severity::Error,
                    root,
                    Some(p.clone()),
                    format!("{} sits in the job's {} (`{}`), not in the model dir, so it is not in model.tar.gz", fmt.describe(), match root { "cwd" => "working dir", "tmp" => "/tmp", _ => "output data dir" }, p),
                    format!("save it under $SM_MODEL_DIR: e.g. torch.save(model, os.path.join(os.environ['SM_MODEL_DIR'], '{}'))", String::from_utf8_lossy(p.file_name())),
                ));
            }
        }
    }
    Ok(sort(out))
}

/// Findings for an archive alone (for example a `model.tar.gz` downloaded from S3).
pub fn detect_archive(manifest: &Manifest, opts: &DetectOptions) -> Vec<Finding> {
    let mut out = tree_findings(&Tree::from_manifest(manifest), "archive", opts);
    out.extend(link_findings(manifest, opts.target));
    for p in manifest.name_problems() {
        // Escaping symlinks and device nodes have their own findings from the tree rules
        // (`symlink-escape`, `special-file`); every other unsafe member is reported here.
        let kind = manifest.members.get(p.index).map(|m| m.kind);
        if p.class == "device" || (p.class == "link-escape" && kind == Some(MemberKind::Symlink)) {
            continue;
        }
        let fix = match p.class {
            "absolute" | "parent-dir" => "pack with names relative to the model dir (tar -C DIR .)",
            "duplicate" => "pack each path once; extractors keep only the last copy",
            "through-symlink" => "never pack a path below a symlink; pack the real directory",
            "setuid" | "setgid" => "clear the setuid/setgid bits (chmod u-s,g-s) before packing",
            "link-escape" => "hard links must point at an earlier member inside the archive",
            _ => "use portable names: no drive letters, no backslashes",
        };
        out.push(finding(
            "unsafe-member-name",
            Severity::Error,
            "archive",
            Some(p.name.clone()),
            format!("member `{}`: {} ({})", p.name, p.reason, p.class),
            fix,
        ));
    }
    sort(out)
}

/// `link-in-archive`: link members the target's consumer cannot extract. SageMaker refuses
/// every symlink and hard-link member; KServe (Python's `data` filter) refuses a link whose
/// target is absolute or leaves the archive root; POSIX tar takes them all.
pub fn link_findings(manifest: &Manifest, target: Target) -> Vec<Finding> {
    let spec = target.spec();
    let mut out = Vec::new();
    for x in manifest.members.iter().filter(|x| !x.is_root_entry()) {
        let (rule, what) = match x.kind {
            MemberKind::Symlink => (spec.symlinks, "symlink"),
            MemberKind::Hardlink => (spec.hardlinks, "hard link"),
            _ => continue,
        };
        let path = RawPath::new(
            x.path
                .as_bytes()
                .strip_prefix(b"/")
                .unwrap_or(x.path.as_bytes())
                .to_vec(),
        );
        let link_target = x.link_target.clone().unwrap_or_default();
        let (message, fix) = match rule {
            LinkRule::Keep => continue,
            LinkRule::Refuse => (
                format!("member `{path}` is a {what} (to `{link_target}`): {target} cannot extract an archive that holds a link (\"Failed to extract model data archive\" at CreateEndpoint)"),
                format!("pack the real files: `packtest pack --target {target}` dereferences links, or `tar --dereference --hard-dereference`"),
            ),
            LinkRule::KeepInside => {
                // Symlink targets are relative to the link's dir; hard-link targets name a
                // member, relative to the archive root.
                let t = link_target.as_bytes();
                let inside = match x.kind {
                    MemberKind::Symlink => resolve_inside(&path, t),
                    _ => resolve_inside(&RawPath::from("."), t.strip_prefix(b"./").unwrap_or(t)),
                };
                if inside.is_some() {
                    continue;
                }
                (
                    format!("member `{path}` is a {what} to `{link_target}`, which is absolute or leaves the archive: {target}'s storage initializer (tarfile filter=\"data\") refuses it and the download fails"),
                    "make the link relative and inside the model dir, or copy the real file".to_string(),
                )
            }
        };
        out.push(finding(
            "link-in-archive",
            Severity::Error,
            "archive",
            Some(path),
            message,
            fix,
        ));
    }
    out
}

/// `archive-mismatch`: what `target`'s consumer extracts from the archive is not what it
/// must get from the model dir (the contract's `fidelity`, DESIGN §2). Members the consumer
/// refuses are left to `link-in-archive` and the other archive findings, and so is what lies
/// under them.
pub fn check_archive_against(
    dirs: &JobDirs,
    manifest: &Manifest,
    target: crate::target::Target,
) -> Result<Vec<Finding>, DetectError> {
    let (got, gaps) = crate::target::judge_dir(&dirs.model_dir, manifest, target).map_err(|e| {
        DetectError::Io {
            path: dirs.model_dir.clone(),
            source: std::io::Error::other(e.to_string()),
        }
    })?;
    let refused: Vec<&RawPath> = got.refusals.iter().map(|r| &r.name).collect();
    let gaps: Vec<crate::target::Gap> = gaps
        .into_iter()
        .filter(|g| !refused.iter().any(|r| g.path().starts_with(r)))
        .collect();
    let mut out = Vec::new();
    if !gaps.is_empty() {
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
            "archive-mismatch",
            Severity::Error,
            "archive",
            Some(first),
            format!(
                "what {target}'s consumer extracts from the archive does not match the model dir ({} difference(s)):\n{}",
                gaps.len(),
                lines.join("\n")
            ),
            "re-pack from the model dir with `packtest pack --target T`, and check that nothing changed the dir after packing",
        ));
    }
    Ok(out)
}

/// True when any finding is an error.
pub fn has_error(f: &[Finding]) -> bool {
    f.iter().any(|x| x.severity == Severity::Error)
}

#[cfg(test)]
mod tests;
