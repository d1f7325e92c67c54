//! The [`Tree`] view the name-and-type rules run on: a model dir walked with lstat (regular
//! files sniffed), or an archive's members, so `check --archive` on a downloaded
//! `model.tar.gz` applies the same rules as `check --model-dir`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::error::DetectError;
use super::sniff::{read_head, sniff, sniff_name, Sniffed};
use crate::archive::{Manifest, Member, MemberKind};
use crate::layout::RawPath;

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

/// True when the current user may read `path` (and enter it, for a directory).
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

/// A member's path relative to the archive root: one leading `/` dropped.
pub(super) fn member_path(x: &Member) -> RawPath {
    RawPath::new(
        x.path
            .as_bytes()
            .strip_prefix(b"/")
            .unwrap_or(x.path.as_bytes())
            .to_vec(),
    )
}

impl NodeKind {
    /// The kind of an lstat file type.
    fn of(ft: fs::FileType) -> NodeKind {
        if ft.is_file() {
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
        }
    }

    /// The kind of an archive member (hard links and unknown types count as files).
    fn of_member(kind: MemberKind) -> NodeKind {
        match kind {
            MemberKind::File | MemberKind::Hardlink => NodeKind::File,
            MemberKind::Dir => NodeKind::Dir,
            MemberKind::Symlink => NodeKind::Symlink,
            MemberKind::Fifo => NodeKind::Fifo,
            MemberKind::CharDevice | MemberKind::BlockDevice => NodeKind::Device,
            MemberKind::Other(_) => NodeKind::File,
        }
    }
}

impl TreeNode {
    /// A directory known only by name (an unreadable one on disk, an implied one in an
    /// archive): no mode.
    fn bare_dir(readable: bool) -> TreeNode {
        TreeNode {
            kind: NodeKind::Dir,
            size: 0,
            sniffed: None,
            target: None,
            readable,
            mode: None,
        }
    }
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
            match entry {
                Ok(e) => t.add_disk_node(dir, e.path())?,
                Err(e) => t.add_unwalkable(dir, e)?,
            }
        }
        Ok(t)
    }

    /// A walk error: an unreadable directory is recorded and the walk goes on; any other
    /// error stops the scan.
    fn add_unwalkable(&mut self, dir: &Path, e: walkdir::Error) -> Result<(), DetectError> {
        if let Some(rel) = e.path().and_then(|p| p.strip_prefix(dir).ok()) {
            let rel = RawPath::from_path(rel);
            self.nodes
                .entry(rel)
                .or_insert(TreeNode::bare_dir(false))
                .readable = false;
            return Ok(());
        }
        Err(DetectError::Io {
            path: dir.to_owned(),
            source: e.into(),
        })
    }

    /// Adds the node at `path` (below `dir`), lstat'ed: a file's size, readability and
    /// sniffed format, a directory's readability, a symlink's target and whether it resolves.
    fn add_disk_node(&mut self, dir: &Path, path: &Path) -> Result<(), DetectError> {
        let rel = RawPath::from_path(path.strip_prefix(dir).unwrap_or(path));
        let meta = fs::symlink_metadata(path).map_err(|source| DetectError::Io {
            path: path.to_owned(),
            source,
        })?;
        let kind = NodeKind::of(meta.file_type());
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
                    if let Some(set) = self.link_resolves.as_mut() {
                        set.insert(rel.clone());
                    }
                }
            }
            _ => {}
        }
        self.nodes.insert(rel, node);
        Ok(())
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
            let path = member_path(x);
            // Implied parent dirs.
            let mut p = path.parent();
            while let Some(d) = p {
                nodes.entry(d.clone()).or_insert(TreeNode::bare_dir(true));
                p = d.parent();
            }
            let node = member_node(x, &path, &sizes);
            nodes.insert(path, node);
        }
        Tree {
            nodes,
            link_resolves: None,
        }
    }

    /// The regular files (and hard links).
    pub(super) fn files(&self) -> impl Iterator<Item = (&RawPath, &TreeNode)> {
        self.nodes.iter().filter(|(_, n)| n.kind == NodeKind::File)
    }

    /// True when a node has exactly this path.
    pub(super) fn has(&self, p: &[u8]) -> bool {
        self.nodes.contains_key(&RawPath::new(p.to_vec()))
    }
}

/// One member's node: the format its name implies (for a file), and for a hard link the
/// size of the file it names.
fn member_node(x: &Member, path: &RawPath, sizes: &BTreeMap<&RawPath, u64>) -> TreeNode {
    let kind = NodeKind::of_member(x.kind);
    let sniffed = match kind {
        NodeKind::File => sniff_name(path.file_name()),
        _ => None,
    };
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
    }
}

/// Resolves `target` lexically from the directory of `link` (both relative to the model
/// root). `None` when it leaves the root or is absolute.
pub(super) fn resolve_inside(link: &RawPath, target: &[u8]) -> Option<RawPath> {
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
