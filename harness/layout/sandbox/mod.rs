//! Materializing a layout into a job sandbox, and the sandbox's tree digest.
//!
//! The sandbox has the fixed skeleton of a SageMaker training job (every [`Root`] directory plus `out/`).
//! Materializing is exact: each entry becomes one filesystem object with the layout's mode,
//! implied parent directories are created with mode 0755 regardless of the umask, and nothing
//! else is written. File content is streamed, so a multi-GiB file costs a 64 KiB buffer.
//!
//! A layout the host cannot build (a path over `PATH_MAX`, a filesystem that refuses a name)
//! is [`SandboxError::Unsupported`]: the runner counts it as a reject, never as a packager
//! failure.
//!
//! Submodules: `error` ([`SandboxError`] and the I/O error mapping), `digest` (the tree
//! digest, [`Digest`] and [`Node`]), which uses `error`, and `vary` (what the strict rerun
//! changes in a sandbox: the model dir rebuilt in another creation order, owners).

mod digest;
mod error;
#[cfg(test)]
mod tests;
mod vary;

use std::collections::HashSet;
use std::ffi::CString;
use std::fs::{self, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::layout::bytes::RawPath;
use crate::layout::model::{EntryKind, Layout, Root};

pub(crate) use digest::hash_file;
pub use digest::{Digest, Node};
pub use error::SandboxError;
pub use vary::ReorderedModel;

use error::{cstring, io_err, walk_err};

/// A materialized job sandbox. The directory is removed on drop unless [`Sandbox::keep`] is
/// called.
#[derive(Debug)]
pub struct Sandbox {
    temp: Option<tempfile::TempDir>,
    root: PathBuf,
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
        self.build_entries(layout, None, false)
    }

    /// Builds the entries of `layout` (only those under `only`, when given). Parents come
    /// before children and hard links after their targets; `reverse` creates siblings in
    /// descending name order instead of ascending (a filesystem that lists in creation order
    /// then lists them the other way).
    fn build_entries(
        &self,
        layout: &Layout,
        only: Option<Root>,
        reverse: bool,
    ) -> Result<(), SandboxError> {
        let mut known = HashSet::new();
        for r in Root::ALL {
            ensure_dir(&self.root, &RawPath::from(r.rel_dir()), &mut known)?;
        }
        ensure_dir(&self.root, &RawPath::from("out"), &mut known)?;
        // Parents before children (`ensure_dir` makes a parent a reversed order reaches
        // late); hard links after their targets; modes last, deepest directory first, so a
        // read-only directory does not block its own contents.
        let mut order: Vec<usize> = (0..layout.entries.len())
            .filter(|&i| only.is_none_or(|r| layout.entries[i].root == r))
            .collect();
        order.sort_by(|&a, &b| {
            let (ea, eb) = (&layout.entries[a], &layout.entries[b]);
            let link = |e: &EntryKind| matches!(e, EntryKind::Hardlink { .. });
            let by_path = if reverse {
                eb.path.cmp(&ea.path)
            } else {
                ea.path.cmp(&eb.path)
            };
            (link(&ea.kind), ea.root)
                .cmp(&(link(&eb.kind), eb.root))
                .then(by_path)
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
            let entry = entry.map_err(walk_err)?;
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
