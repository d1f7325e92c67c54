//! The tree digest: one [`Node`] per path (type, mode, symlink target, size, content hash),
//! so two digests of the same tree can say what changed.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use sha2::{Digest as _, Sha256};

use super::error::{io_err, walk_err, SandboxError};
use crate::layout::bytes::RawPath;

/// One node of a tree digest.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// A regular file: mode, size, sha256.
    File {
        /// Permission bits.
        mode: u32,
        /// Size in bytes.
        size: u64,
        /// Content hash.
        sha256: [u8; 32],
    },
    /// A directory.
    Dir {
        /// Permission bits.
        mode: u32,
    },
    /// A symlink and its raw target.
    Symlink {
        /// The target.
        target: RawPath,
    },
    /// A FIFO.
    Fifo {
        /// Permission bits.
        mode: u32,
    },
    /// A socket.
    Socket,
    /// A character or block device.
    Device {
        /// The device number.
        rdev: u64,
        /// True for a block device.
        block: bool,
        /// Permission bits.
        mode: u32,
    },
}

/// The digest of a tree: one [`Node`] per path, so two digests can say what changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digest {
    /// The nodes, by path relative to the tree root.
    pub nodes: BTreeMap<RawPath, Node>,
}

/// Streams a file into sha256, returning the hash and the byte count.
pub(crate) fn hash_file(path: &Path) -> io::Result<([u8; 32], u64)> {
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let hint = f.metadata().map_or(0, |m| m.len());
    hash_reader_sized(&mut f, hint)
}

/// Streams a reader into sha256, with a buffer sized for `hint` bytes (a small file gets a
/// small buffer rather than 128 KiB zeroed per file).
fn hash_reader_sized(r: &mut dyn Read, hint: u64) -> io::Result<([u8; 32], u64)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; (hint.saturating_add(1)).clamp(4096, 128 * 1024) as usize];
    let mut n = 0u64;
    loop {
        let k = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((h.finalize().into(), n))
}

impl Digest {
    /// Digests the tree under `root`, skipping the relative path `exclude`.
    pub fn of_tree(root: &Path, exclude: Option<&Path>) -> Result<Digest, SandboxError> {
        let mut nodes = BTreeMap::new();
        let skip = exclude.map(|e| root.join(e));
        let walker = walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name()
            .min_depth(1)
            .into_iter()
            .filter_entry(|e| skip.as_deref() != Some(e.path()));
        for entry in walker {
            let entry = entry.map_err(walk_err)?;
            let path = entry.path();
            let rel = RawPath::from_path(path.strip_prefix(root).unwrap_or(path));
            let meta = fs::symlink_metadata(path).map_err(io_err("stat", path))?;
            let mode = meta.mode() & 0o7777;
            let ft = meta.file_type();
            use std::os::unix::fs::FileTypeExt;
            let node = if ft.is_file() {
                let (sha256, size) = hash_file(path).map_err(io_err("read", path))?;
                Node::File { mode, size, sha256 }
            } else if ft.is_dir() {
                Node::Dir { mode }
            } else if ft.is_symlink() {
                let t = fs::read_link(path).map_err(io_err("read link", path))?;
                Node::Symlink {
                    target: RawPath::from_path(&t),
                }
            } else if ft.is_fifo() {
                Node::Fifo { mode }
            } else if ft.is_socket() {
                Node::Socket
            } else {
                Node::Device {
                    rdev: meta.rdev(),
                    block: ft.is_block_device(),
                    mode,
                }
            };
            nodes.insert(rel, node);
        }
        Ok(Digest { nodes })
    }

    /// One line per path that differs between `self` (before) and `after`.
    pub fn changes(&self, after: &Digest) -> Vec<String> {
        let mut out = Vec::new();
        for (p, n) in &self.nodes {
            match after.nodes.get(p) {
                None => out.push(format!("removed `{p}`")),
                Some(m) if m != n => out.push(format!("changed `{p}`: {n:?} -> {m:?}")),
                _ => {}
            }
        }
        for p in after.nodes.keys() {
            if !self.nodes.contains_key(p) {
                out.push(format!("added `{p}`"));
            }
        }
        out
    }
}
