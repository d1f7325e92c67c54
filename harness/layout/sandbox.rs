//! Materializing a layout into a job sandbox, and the sandbox's tree digest.
//!
//! The sandbox has the fixed skeleton of DESIGN §1 (every [`Root`] directory plus `out/`).
//! Materializing is exact: each entry becomes one filesystem object with the layout's mode,
//! implied parent directories are created with mode 0755 regardless of the umask, and nothing
//! else is written. File content is streamed, so a multi-GiB file costs a 64 KiB buffer.
//!
//! A layout the host cannot build (a path over `PATH_MAX`, a filesystem that refuses a name)
//! is [`SandboxError::Unsupported`]: the runner counts it as a reject, never as a packager
//! failure.

use std::collections::{BTreeMap, HashSet};
use std::ffi::CString;
use std::fs::{self, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::bytes::RawPath;
use super::model::{EntryKind, Layout, LayoutError, Root};

/// A materialized job sandbox. The directory is removed on drop unless [`Sandbox::keep`] is
/// called.
#[derive(Debug)]
pub struct Sandbox {
    temp: Option<tempfile::TempDir>,
    root: PathBuf,
}

/// Why a sandbox could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The layout is not well formed.
    #[error("the layout is not well formed: {0}")]
    Layout(#[from] LayoutError),
    /// The host filesystem cannot hold this layout (a reject, not a failure).
    #[error("the host cannot build `{path}`: {reason}")]
    Unsupported {
        /// The path on disk.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The filesystem under the sandbox has too little room for the layout's file data.
    #[error("the layout needs {need} bytes but `{path}` has {free} free; free some space or build it on a bigger filesystem (PACKTEST_TMPDIR for sandboxes)")]
    NoSpace {
        /// Where the sandbox would go.
        path: PathBuf,
        /// Bytes the layout's files hold (plus 4 KiB per entry).
        need: u64,
        /// Bytes available to an unprivileged writer there.
        free: u64,
    },
    /// Any other I/O error.
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path on disk.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> SandboxError + 'a {
    move |source| match source.raw_os_error() {
        Some(libc::ENAMETOOLONG) | Some(libc::EILSEQ) | Some(libc::EOVERFLOW) => {
            SandboxError::Unsupported {
                path: path.to_owned(),
                reason: source.to_string(),
            }
        }
        _ => SandboxError::Io {
            action,
            path: path.to_owned(),
            source,
        },
    }
}

fn cstring(path: &Path) -> Result<CString, SandboxError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| SandboxError::Unsupported {
        path: path.to_owned(),
        reason: "the path has a NUL byte".into(),
    })
}

/// Where sandboxes go by default; see [`Sandbox::materialize`].
pub fn default_parent() -> PathBuf {
    if let Some(p) = std::env::var_os("PACKTEST_TMPDIR") {
        return PathBuf::from(p);
    }
    static SHM: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    SHM.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let c = CString::new("/dev/shm").ok()?;
        // SAFETY: `c` is NUL-terminated.
        let writable = unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0;
        let free = free_bytes(shm)?;
        (writable && shm.is_dir() && free >= 4 << 30).then(|| shm.to_path_buf())
    })
    .clone()
    .unwrap_or_else(std::env::temp_dir)
}

/// Bytes available to an unprivileged writer on the filesystem holding `path`, when known.
fn free_bytes(path: &Path) -> Option<u64> {
    let c = CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: a zeroed statvfs is a valid out-parameter; `c` is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointers.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// What building `layout` writes, roughly: its file data plus 4 KiB per entry.
fn space_needed(layout: &Layout) -> u64 {
    layout
        .entries
        .iter()
        .map(|e| match &e.kind {
            EntryKind::File { content, .. } => content.len().saturating_add(4096),
            _ => 4096,
        })
        .fold(0u64, u64::saturating_add)
}

/// Refuses, before writing anything, a layout that cannot fit under `parent` (a TOML can ask
/// for any size, and `/dev/shm` is memory).
fn check_space(parent: &Path, layout: &Layout) -> Result<(), SandboxError> {
    let need = space_needed(layout);
    match free_bytes(parent) {
        Some(free) if need > free => Err(SandboxError::NoSpace {
            path: parent.to_owned(),
            need,
            free,
        }),
        _ => Ok(()),
    }
}

/// Creates `path` and any missing ancestors below `base`, each with mode 0755.
/// Directories in `known` (made or checked earlier in this build) are skipped and the ones
/// it makes are added: a layout of many files in few directories stats each directory once,
/// not once per file.
fn ensure_dir(
    base: &Path,
    rel: &RawPath,
    known: &mut HashSet<PathBuf>,
) -> Result<(), SandboxError> {
    let mut cur = base.to_path_buf();
    for comp in rel.components() {
        cur.push(std::ffi::OsStr::from_bytes(comp));
        if known.contains(&cur) {
            continue;
        }
        known.insert(cur.clone());
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => {
                return Err(SandboxError::Io {
                    action: "create directory",
                    path: cur,
                    source: io::Error::from_raw_os_error(libc::ENOTDIR),
                })
            }
            Err(_) => {
                fs::create_dir(&cur).map_err(io_err("create directory", &cur))?;
                fs::set_permissions(&cur, fs::Permissions::from_mode(0o755))
                    .map_err(io_err("chmod", &cur))?;
            }
        }
    }
    Ok(())
}

impl Sandbox {
    /// Builds `layout` in a fresh temporary directory: under `$PACKTEST_TMPDIR` when set,
    /// else in `/dev/shm` when it is a writable tmpfs with at least 4 GiB free (sandboxes are
    /// small and short-lived, and tmpfs makes the runner about 3x faster), else in the system
    /// temp dir. A layout too big for `/dev/shm` goes to the system temp dir instead.
    pub fn materialize(layout: &Layout) -> Result<Sandbox, SandboxError> {
        let parent = default_parent();
        let can_fall_back =
            std::env::var_os("PACKTEST_TMPDIR").is_none() && parent != std::env::temp_dir();
        match Self::materialize_in(&parent, layout) {
            Err(SandboxError::NoSpace { .. }) if can_fall_back => {
                Self::materialize_in(&std::env::temp_dir(), layout)
            }
            r => r,
        }
    }

    /// Builds `layout` in a fresh directory under `parent`.
    pub fn materialize_in(parent: &Path, layout: &Layout) -> Result<Sandbox, SandboxError> {
        layout.validate()?;
        check_space(parent, layout)?;
        let temp = tempfile::Builder::new()
            .prefix("packtest-")
            .tempdir_in(parent)
            .map_err(io_err("create a sandbox in", parent))?;
        let root = temp.path().to_path_buf();
        let sandbox = Sandbox {
            temp: Some(temp),
            root,
        };
        sandbox.build(layout)?;
        Ok(sandbox)
    }

    fn build(&self, layout: &Layout) -> Result<(), SandboxError> {
        let mut known = HashSet::new();
        for r in Root::ALL {
            ensure_dir(&self.root, &RawPath::from(r.rel_dir()), &mut known)?;
        }
        ensure_dir(&self.root, &RawPath::from("out"), &mut known)?;
        // Parents before children; hard links after their targets; modes last, deepest
        // directory first, so a read-only directory does not block its own contents.
        let mut order: Vec<usize> = (0..layout.entries.len()).collect();
        order.sort_by(|&a, &b| {
            let (ea, eb) = (&layout.entries[a], &layout.entries[b]);
            let link = |e: &EntryKind| matches!(e, EntryKind::Hardlink { .. });
            (link(&ea.kind), ea.root, &ea.path).cmp(&(link(&eb.kind), eb.root, &eb.path))
        });
        let mut dirs = Vec::new();
        for &i in &order {
            let e = &layout.entries[i];
            let base = self.dir(e.root);
            if let Some(parent) = e.path.parent() {
                ensure_dir(&base, &parent, &mut known)?;
            }
            let path = e.path.under(&base);
            match &e.kind {
                EntryKind::Dir { mode } => {
                    if !path.is_dir() {
                        fs::create_dir(&path).map_err(io_err("create directory", &path))?;
                    }
                    dirs.push((path, *mode));
                }
                EntryKind::File { content, mode } => {
                    let f = OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o600)
                        .open(&path)
                        .map_err(io_err("create file", &path))?;
                    let mut w = BufWriter::with_capacity(64 * 1024, f);
                    content
                        .write_to(&mut w)
                        .and_then(|_| w.flush())
                        .map_err(io_err("write file", &path))?;
                    drop(w);
                    fs::set_permissions(&path, fs::Permissions::from_mode(*mode))
                        .map_err(io_err("chmod", &path))?;
                }
                EntryKind::Symlink { target } => {
                    std::os::unix::fs::symlink(target.as_path(), &path)
                        .map_err(io_err("create symlink", &path))?;
                }
                EntryKind::Hardlink {
                    target_root,
                    target,
                } => {
                    let src = target.under(&self.dir(*target_root));
                    fs::hard_link(&src, &path).map_err(io_err("create hard link", &path))?;
                }
                EntryKind::Fifo { mode } => {
                    let c = cstring(&path)?;
                    // SAFETY: `c` is a valid NUL-terminated path.
                    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
                        return Err(io_err("create fifo", &path)(io::Error::last_os_error()));
                    }
                    fs::set_permissions(&path, fs::Permissions::from_mode(*mode))
                        .map_err(io_err("chmod", &path))?;
                }
                EntryKind::Socket => {
                    // mknod(S_IFSOCK) makes a socket node without binding, so the path is not
                    // limited to sun_path's 108 bytes.
                    let c = cstring(&path)?;
                    // SAFETY: `c` is a valid NUL-terminated path.
                    if unsafe { libc::mknod(c.as_ptr(), libc::S_IFSOCK | 0o755, 0) } != 0 {
                        return Err(io_err("create socket", &path)(io::Error::last_os_error()));
                    }
                }
            }
        }
        dirs.sort_by_key(|d| std::cmp::Reverse(d.0.as_os_str().len()));
        for (path, mode) in dirs {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                .map_err(io_err("chmod", &path))?;
        }
        Ok(())
    }

    /// Builds `layout` in `dir`, which must be empty or absent; the result is never deleted.
    /// For hand debugging (`packtest materialize`) and benchmarks.
    pub fn materialize_at(dir: &Path, layout: &Layout) -> Result<Sandbox, SandboxError> {
        layout.validate()?;
        if dir.exists()
            && fs::read_dir(dir)
                .map_err(io_err("read", dir))?
                .next()
                .is_some()
        {
            return Err(SandboxError::Io {
                action: "build a sandbox in",
                path: dir.to_owned(),
                source: io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "the directory is not empty; give a new or empty one",
                ),
            });
        }
        // Checked on the nearest existing ancestor, before anything is created.
        let existing = dir
            .ancestors()
            .find(|a| a.exists())
            .unwrap_or(Path::new("."));
        check_space(existing, layout)?;
        fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
        let sandbox = Sandbox {
            temp: None,
            root: dir.to_owned(),
        };
        sandbox.build(layout)?;
        Ok(sandbox)
    }

    /// Adopts an existing directory as a sandbox (for `check --sandbox`); it is never deleted.
    pub fn existing(root: impl Into<PathBuf>) -> Sandbox {
        Sandbox {
            temp: None,
            root: root.into(),
        }
    }

    /// The sandbox root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of `root`.
    pub fn dir(&self, root: Root) -> PathBuf {
        self.root.join(root.rel_dir())
    }

    /// `opt/ml/model`.
    pub fn model_dir(&self) -> PathBuf {
        self.dir(Root::Model)
    }

    /// `opt/ml/code`, the job's working directory.
    pub fn cwd(&self) -> PathBuf {
        self.dir(Root::Cwd)
    }

    /// `out/model.tar.gz`, where the packager must write.
    pub fn output_path(&self) -> PathBuf {
        self.root.join("out/model.tar.gz")
    }

    /// Keeps the directory on disk after drop and returns its path.
    pub fn keep(mut self) -> PathBuf {
        if let Some(t) = self.temp.take() {
            let _ = t.keep();
        }
        self.root.clone()
    }

    /// Removes the sandbox now, making read-only directories writable first.
    pub fn remove(mut self) -> io::Result<()> {
        match self.temp.take() {
            Some(t) => {
                make_writable(t.path());
                t.close()
            }
            None => Ok(()),
        }
    }

    /// The tree digest of the whole sandbox except `out/`: types, modes, symlink targets,
    /// sizes and content hashes. Mtimes are not covered.
    pub fn digest(&self) -> Result<Digest, SandboxError> {
        Digest::of_tree(&self.root, Some(Path::new("out")))
    }

    /// Moves every mtime under the model dir by `secs` seconds (symlinks themselves included,
    /// never their targets), so that a packager that records mtimes shows it.
    pub fn shift_mtimes(&self, secs: i64) -> Result<(), SandboxError> {
        for entry in walkdir::WalkDir::new(self.model_dir()).follow_links(false) {
            let entry = entry.map_err(|e| SandboxError::Io {
                action: "walk",
                path: e.path().map(Path::to_path_buf).unwrap_or_default(),
                source: e.into(),
            })?;
            let path = entry.path();
            let meta = entry.metadata().map_err(|e| SandboxError::Io {
                action: "stat",
                path: path.to_owned(),
                source: e.into(),
            })?;
            let t = libc::timespec {
                tv_sec: (meta.mtime() + secs) as libc::time_t,
                tv_nsec: 0,
            };
            let c = cstring(path)?;
            // SAFETY: valid path and a two-element timespec array.
            let rc = unsafe {
                libc::utimensat(
                    libc::AT_FDCWD,
                    c.as_ptr(),
                    [t, t].as_ptr(),
                    libc::AT_SYMLINK_NOFOLLOW,
                )
            };
            if rc != 0 {
                return Err(io_err("set mtime of", path)(io::Error::last_os_error()));
            }
        }
        Ok(())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(t) = &self.temp {
            make_writable(t.path());
        }
    }
}

/// Best effort: lets removal descend into directories a layout made read-only.
fn make_writable(root: &Path) {
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .flatten()
    {
        if entry.file_type().is_dir() {
            let _ = fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o755));
        }
    }
}

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
            let entry = entry.map_err(|e| SandboxError::Io {
                action: "walk",
                path: e.path().map(Path::to_path_buf).unwrap_or_default(),
                source: e.into(),
            })?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Content, Entry, ModelFormat};
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn a_layout_bigger_than_the_disk_is_refused_before_anything_is_written() {
        let huge = Layout::new().with(Entry::file(
            Root::Model,
            "model.safetensors",
            Content::Seeded {
                seed: 1,
                size: 1 << 60,
                fill: crate::layout::Fill::Floats,
            },
        ));
        let parent = tempfile::tempdir().unwrap();
        match Sandbox::materialize_in(parent.path(), &huge) {
            Err(SandboxError::NoSpace { need, free, .. }) => assert!(need > free),
            Err(e) => panic!("wrong error: {e}"),
            Ok(_) => panic!("a 1 EiB layout was accepted"),
        }
        assert_eq!(fs::read_dir(parent.path()).unwrap().count(), 0);
        let target = parent.path().join("box");
        assert!(matches!(
            Sandbox::materialize_at(&target, &huge),
            Err(SandboxError::NoSpace { .. })
        ));
        assert!(!target.exists());
        // The default place falls back from /dev/shm to the temp dir, then refuses too.
        assert!(matches!(
            Sandbox::materialize(&huge),
            Err(SandboxError::NoSpace { .. })
        ));
        // A small layout still builds.
        let small = Layout::new().with(Entry::file(Root::Model, "a", Content::random(1, 10)));
        assert!(Sandbox::materialize_in(parent.path(), &small).is_ok());
    }

    #[test]
    fn every_entry_kind_materializes_as_itself() {
        let layout = Layout::new()
            .with(
                Entry::file(
                    Root::Model,
                    "d/w.safetensors",
                    Content::format(ModelFormat::Safetensors, 1, 64),
                )
                .with_mode(0o751),
            )
            .with(Entry::dir(Root::Model, "empty").with_mode(0o700))
            .with(Entry::symlink(Root::Model, "link", "../../../outside/x"))
            .with(Entry::hardlink(Root::Model, "hl", "d/w.safetensors"))
            .with(Entry::fifo(Root::Model, "pipe").with_mode(0o600))
            .with(Entry::socket(Root::Model, "sock"))
            .with(Entry::file(
                Root::Cwd,
                RawPath::new(b"bad\xff".to_vec()),
                Content::Text("x".into()),
            ));
        let sb = Sandbox::materialize(&layout).unwrap();
        let m = sb.model_dir();
        let meta = fs::symlink_metadata(m.join("d/w.safetensors")).unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.mode() & 0o7777, 0o751);
        assert_eq!(
            meta.len(),
            Content::format(ModelFormat::Safetensors, 1, 64).len()
        );
        assert_eq!(meta.nlink(), 2);
        let meta = fs::symlink_metadata(m.join("empty")).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.mode() & 0o7777, 0o700);
        assert_eq!(
            fs::read_link(m.join("link")).unwrap(),
            Path::new("../../../outside/x")
        );
        let hl = fs::symlink_metadata(m.join("hl")).unwrap();
        assert_eq!(
            hl.ino(),
            fs::symlink_metadata(m.join("d/w.safetensors"))
                .unwrap()
                .ino()
        );
        let fifo = fs::symlink_metadata(m.join("pipe")).unwrap();
        assert!(fifo.file_type().is_fifo());
        assert_eq!(fifo.mode() & 0o7777, 0o600);
        assert!(fs::symlink_metadata(m.join("sock"))
            .unwrap()
            .file_type()
            .is_socket());
        assert!(sb
            .cwd()
            .join(std::ffi::OsStr::from_bytes(b"bad\xff"))
            .is_file());
        assert_eq!(
            fs::symlink_metadata(m.join("d")).unwrap().mode() & 0o7777,
            0o755
        );
    }

    #[test]
    fn materialize_refuses_a_malformed_layout() {
        let l = Layout::new().with(Entry::dir(Root::Model, "../up"));
        assert!(matches!(
            Sandbox::materialize(&l),
            Err(SandboxError::Layout(_))
        ));
    }

    #[test]
    fn digest_sees_content_mode_and_target_changes_but_not_mtimes() {
        let l = Layout::new()
            .with(Entry::file(Root::Model, "a", Content::Text("1".into())))
            .with(Entry::symlink(Root::Model, "s", "a"));
        let sb = Sandbox::materialize(&l).unwrap();
        let d0 = sb.digest().unwrap();
        sb.shift_mtimes(-1000).unwrap();
        assert_eq!(d0, sb.digest().unwrap());
        fs::write(sb.output_path(), b"ignored").unwrap();
        assert_eq!(d0, sb.digest().unwrap(), "out/ is excluded");
        fs::set_permissions(sb.model_dir().join("a"), fs::Permissions::from_mode(0o755)).unwrap();
        let d1 = sb.digest().unwrap();
        assert_ne!(d0, d1);
        assert_eq!(d0.changes(&d1).len(), 1);
        fs::write(sb.model_dir().join("a"), b"2").unwrap();
        assert_ne!(d1, sb.digest().unwrap());
        fs::remove_file(sb.model_dir().join("s")).unwrap();
        std::os::unix::fs::symlink("b", sb.model_dir().join("s")).unwrap();
        assert!(sb
            .digest()
            .unwrap()
            .changes(&d1)
            .iter()
            .any(|c| c.contains("`opt/ml/model/s`")));
    }

    #[test]
    fn a_sandbox_is_removed_on_drop_even_with_read_only_dirs() {
        let l = Layout::new()
            .with(Entry::dir(Root::Model, "ro").with_mode(0o500))
            .with(Entry::file(Root::Model, "ro/f", Content::Text("x".into())).with_mode(0o400));
        let sb = Sandbox::materialize(&l).unwrap();
        let root = sb.root().to_path_buf();
        drop(sb);
        assert!(!root.exists());
    }
}
