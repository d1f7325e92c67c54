//! The model dir as a packager should see it, and its diff against a manifest.
//!
//! [`DiskTree::scan`] walks the model dir with `lstat` (never following a symlink), hashing
//! regular files. [`DiskTree::diff`] compares that tree with a manifest under the `fidelity`
//! rules of the contract's `fidelity`: every directory present, identical bytes, identical symlink targets,
//! matching executable bits, and a hard link stored either as a link entry or as a full copy.
//! Sockets on disk may be left out of the archive.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::{normalize_name, Manifest, Member, MemberKind};
use crate::layout::{RawPath, SandboxError};

/// The type of an object on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiskKind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link.
    Symlink,
    /// FIFO.
    Fifo,
    /// Socket.
    Socket,
    /// Character device.
    CharDevice,
    /// Block device.
    BlockDevice,
}

impl DiskKind {
    /// A FIFO or a device: never read, stored as its type or refused.
    pub fn is_special(self) -> bool {
        matches!(
            self,
            DiskKind::Fifo | DiskKind::CharDevice | DiskKind::BlockDevice
        )
    }

    /// The archive member kind this disk kind should become.
    pub fn member_kind(self) -> Option<MemberKind> {
        match self {
            DiskKind::File => Some(MemberKind::File),
            DiskKind::Dir => Some(MemberKind::Dir),
            DiskKind::Symlink => Some(MemberKind::Symlink),
            DiskKind::Fifo => Some(MemberKind::Fifo),
            DiskKind::CharDevice => Some(MemberKind::CharDevice),
            DiskKind::BlockDevice => Some(MemberKind::BlockDevice),
            DiskKind::Socket => None,
        }
    }
}

/// One object under the model dir.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiskEntry {
    /// Its type.
    pub kind: DiskKind,
    /// Permission bits.
    pub mode: u32,
    /// Size (files).
    pub size: u64,
    /// Content hash (files).
    #[serde(skip)]
    pub sha256: Option<[u8; 32]>,
    /// Symlink target.
    pub target: Option<RawPath>,
}

/// The model dir's tree, by relative path.
#[derive(Clone, Debug, Default)]
pub struct DiskTree {
    /// The entries, by path relative to the model dir.
    pub entries: BTreeMap<RawPath, DiskEntry>,
}

/// One difference between the model dir and the archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "diff", rename_all = "kebab-case")]
pub enum DiffItem {
    /// On disk, not in the archive.
    Missing {
        /// The path.
        path: RawPath,
        /// Its kind on disk.
        kind: DiskKind,
    },
    /// In the archive, not on disk.
    Extra {
        /// The normalized member path.
        path: RawPath,
        /// The member kind.
        kind: String,
    },
    /// Different types.
    Kind {
        /// The path.
        path: RawPath,
        /// On disk.
        expected: DiskKind,
        /// In the archive.
        found: String,
    },
    /// A regular file's bytes differ.
    Content {
        /// The path.
        path: RawPath,
        /// Size on disk.
        expected_size: u64,
        /// Size in the archive.
        found_size: u64,
    },
    /// The executable bits differ.
    ExecBits {
        /// The path.
        path: RawPath,
        /// Mode on disk.
        expected: u32,
        /// Mode in the archive.
        found: u32,
    },
    /// A symlink's target differs.
    LinkTarget {
        /// The path.
        path: RawPath,
        /// Target on disk.
        expected: RawPath,
        /// Target in the archive.
        found: RawPath,
    },
}

impl DiffItem {
    /// The path the difference is about.
    pub fn path(&self) -> &RawPath {
        match self {
            DiffItem::Missing { path, .. }
            | DiffItem::Extra { path, .. }
            | DiffItem::Kind { path, .. }
            | DiffItem::Content { path, .. }
            | DiffItem::ExecBits { path, .. }
            | DiffItem::LinkTarget { path, .. } => path,
        }
    }
}

impl std::fmt::Display for DiffItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiffItem::Missing { path, kind } => write!(f, "- {path} ({kind:?} on disk, missing from the archive)"),
            DiffItem::Extra { path, kind } => write!(f, "+ {path} ({kind} in the archive, not in the model dir)"),
            DiffItem::Kind { path, expected, found } => {
                write!(f, "~ {path}: {expected:?} on disk, {found} in the archive")
            }
            DiffItem::Content { path, expected_size, found_size } => write!(
                f,
                "~ {path}: content differs ({expected_size} bytes on disk, {found_size} in the archive)"
            ),
            DiffItem::ExecBits { path, expected, found } => {
                write!(f, "~ {path}: mode {expected:04o} on disk, {found:04o} in the archive (exec bits differ)")
            }
            DiffItem::LinkTarget { path, expected, found } => {
                write!(f, "~ {path}: symlink to `{expected}` on disk, to `{found}` in the archive")
            }
        }
    }
}

/// The list of differences; empty means the archive is faithful.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// The differences, sorted by path.
    pub items: Vec<DiffItem>,
}

impl Diff {
    /// True when there is no difference.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl DiskTree {
    /// Walks `model_dir` with lstat (never following a symlink), hashing regular files.
    pub fn scan(model_dir: &Path) -> Result<DiskTree, SandboxError> {
        let digest = crate::layout::Digest::of_tree(model_dir, None)?;
        Ok(DiskTree::from_digest(&digest, &RawPath::default()))
    }

    /// The tree under `prefix` (for example `opt/ml/model`) of an already computed digest,
    /// so the runner hashes each file once instead of walking the model dir twice.
    pub fn from_digest(digest: &crate::layout::Digest, prefix: &RawPath) -> DiskTree {
        use crate::layout::Node;
        let mut entries = BTreeMap::new();
        let skip = if prefix.as_bytes().is_empty() {
            0
        } else {
            prefix.as_bytes().len() + 1
        };
        for (path, node) in &digest.nodes {
            if !prefix.as_bytes().is_empty() && (path == prefix || !path.starts_with(prefix)) {
                continue;
            }
            let rel = RawPath::new(path.as_bytes()[skip..].to_vec());
            let (kind, mode, size, sha256, target) = match node {
                Node::File { mode, size, sha256 } => {
                    (DiskKind::File, *mode, *size, Some(*sha256), None)
                }
                Node::Dir { mode } => (DiskKind::Dir, *mode, 0, None, None),
                Node::Symlink { target } => {
                    (DiskKind::Symlink, 0o777, 0, None, Some(target.clone()))
                }
                Node::Fifo { mode } => (DiskKind::Fifo, *mode, 0, None, None),
                Node::Socket => (DiskKind::Socket, 0o755, 0, None, None),
                Node::Device { block, mode, .. } => (
                    if *block {
                        DiskKind::BlockDevice
                    } else {
                        DiskKind::CharDevice
                    },
                    *mode,
                    0,
                    None,
                    None,
                ),
            };
            entries.insert(
                rel,
                DiskEntry {
                    kind,
                    mode,
                    size,
                    sha256,
                    target,
                },
            );
        }
        DiskTree { entries }
    }

    /// Compares the archive with this tree under the `fidelity` rules.
    pub fn diff(&self, manifest: &Manifest) -> Diff {
        // Last occurrence wins, as on extraction; duplicates are `no-duplicates`' business.
        let mut members: BTreeMap<&RawPath, &Member> = BTreeMap::new();
        for m in &manifest.members {
            if !m.is_root_entry() {
                members.insert(&m.path, m);
            }
        }
        let resolve = |m: &Member| -> Option<[u8; 32]> {
            match m.kind {
                MemberKind::File => m.sha256,
                MemberKind::Hardlink => {
                    let t = normalize_name(m.link_target.as_ref()?.as_bytes());
                    members
                        .get(&t)
                        .filter(|t| t.kind == MemberKind::File)
                        .and_then(|t| t.sha256)
                }
                _ => None,
            }
        };
        let mut items = Vec::new();
        for (path, d) in &self.entries {
            let Some(m) = members.get(path) else {
                if d.kind != DiskKind::Socket {
                    items.push(DiffItem::Missing {
                        path: path.clone(),
                        kind: d.kind,
                    });
                }
                continue;
            };
            let kind_ok = match d.kind {
                DiskKind::File => matches!(m.kind, MemberKind::File | MemberKind::Hardlink),
                other => other.member_kind() == Some(m.kind),
            };
            if !kind_ok {
                items.push(DiffItem::Kind {
                    path: path.clone(),
                    expected: d.kind,
                    found: m.kind.name(),
                });
                continue;
            }
            match d.kind {
                DiskKind::File => {
                    if resolve(m) != d.sha256 {
                        items.push(DiffItem::Content {
                            path: path.clone(),
                            expected_size: d.size,
                            found_size: m.size,
                        });
                    }
                    let exec_found = if m.kind == MemberKind::Hardlink {
                        let t = m.link_target.as_ref().map(|t| normalize_name(t.as_bytes()));
                        t.and_then(|t| members.get(&t).map(|t| t.mode))
                            .unwrap_or(m.mode)
                    } else {
                        m.mode
                    };
                    if d.mode & 0o111 != exec_found & 0o111 {
                        items.push(DiffItem::ExecBits {
                            path: path.clone(),
                            expected: d.mode,
                            found: exec_found,
                        });
                    }
                }
                DiskKind::Symlink => {
                    let found = m.link_target.clone().unwrap_or_default();
                    if Some(&found) != d.target.as_ref() {
                        items.push(DiffItem::LinkTarget {
                            path: path.clone(),
                            expected: d.target.clone().unwrap_or_default(),
                            found,
                        });
                    }
                }
                _ => {}
            }
        }
        for (path, m) in &members {
            if !self.entries.contains_key(*path) {
                items.push(DiffItem::Extra {
                    path: (*path).clone(),
                    kind: m.kind.name(),
                });
            }
        }
        Diff { items }
    }
}
