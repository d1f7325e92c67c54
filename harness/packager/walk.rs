//! The reference packager's walk of the model dir: depth-first with each directory's entries
//! sorted by name bytes, with `lstat` (a symlink is never followed unless the target needs
//! it copied), each entry stored as the deploy target takes it, regular files read through an
//! exact-length reader, and normalized headers. It counts what it stores ([`PackStats`]).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use tar::{EntryType, Header};

use super::error::{unwrap_io, PackError};
use super::reference::MtimeRule;
use crate::gzip::PgzipStats;
use crate::target::Target;

/// What a pack run stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PackStats {
    /// Regular files stored with data.
    pub files: u64,
    /// Directories.
    pub dirs: u64,
    /// Symlinks.
    pub symlinks: u64,
    /// Hard-link entries.
    pub hardlinks: u64,
    /// FIFOs and devices.
    pub specials: u64,
    /// Sockets left out.
    pub sockets_skipped: u64,
    /// File bytes read.
    pub bytes_in: u64,
    /// Archive bytes written.
    pub bytes_out: u64,
    /// How the gzip blocks were encoded.
    pub gzip: PgzipStats,
}

/// A reader that yields exactly `expected` bytes of `file` or fails, naming the path.
struct ExactReader<'a> {
    file: File,
    path: &'a Path,
    left: u64,
    expected: u64,
}

impl Read for ExactReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // The tar stream has its bytes; any more on disk means the file grew.
            let mut probe = [0u8; 1];
            return match self.file.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(PackError::Changed {
                    path: self.path.to_owned(),
                    expected: self.expected,
                    found: "but it grew".into(),
                })),
            };
        }
        let want = (buf.len() as u64).min(self.left) as usize;
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::other(PackError::Changed {
                path: self.path.to_owned(),
                expected: self.expected,
                found: format!("but it ended after {}", self.expected - self.left),
            }));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// The normalized mode: readable by others, exec bits kept exactly, nothing else (no
/// setuid/setgid/sticky, no group or other write), so a server running as any user can load
/// the model and a mode says nothing about the umask it was written under.
fn normal_mode(mode: u32, kind: EntryType) -> u32 {
    match kind {
        EntryType::Directory => 0o755,
        EntryType::Regular | EntryType::Link => (mode & 0o111) | 0o644,
        _ => mode & 0o777,
    }
}

/// A GNU header of `kind` with the normalized mode, owner 0, the given mtime and size 0.
fn base_header(mode: u32, kind: EntryType, mtime: u64) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(normal_mode(mode, kind));
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_size(0);
    h
}

/// How a non-regular file type is named in messages ("FIFO", "character device", …).
pub(super) fn file_kind(ft: &fs::FileType) -> &'static str {
    if ft.is_fifo() {
        "FIFO"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_char_device() {
        "character device"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_dir() {
        "directory"
    } else {
        "special file"
    }
}

/// Writes the entries of `model_dir` into `builder`, in archive order, as `target` takes them.
pub(super) fn write_entries<W: Write>(
    target: Target,
    mtime: MtimeRule,
    model_dir: &Path,
    output: &Path,
    builder: &mut tar::Builder<W>,
    stats: &mut PackStats,
) -> Result<(), PackError> {
    let model_c = fs::canonicalize(model_dir).map_err(|source| PackError::Read {
        action: "resolve",
        path: model_dir.to_owned(),
        source,
    })?;
    let mut w = Walk {
        target,
        mtime,
        model_dir,
        model_c,
        output,
        builder,
        stats,
        inodes: HashMap::new(),
        entries: 0,
    };
    w.dir_children(model_dir, Path::new(""), &mut Vec::new())
}

/// At most this many entries come from dereferencing links (links that multiply each other
/// could otherwise describe an archive larger than any disk).
const MAX_ENTRIES: usize = 2_000_000;

/// One pack's walk: the model dir in depth-first order, each directory's entries sorted by
/// name bytes; dereferenced directories are walked the same way, under the link's name.
struct Walk<'a, W: Write> {
    target: Target,
    /// How member mtimes are stamped.
    mtime: MtimeRule,
    model_dir: &'a Path,
    /// The model dir with every link resolved: what internal links must stay under.
    model_c: PathBuf,
    output: &'a Path,
    builder: &'a mut tar::Builder<W>,
    stats: &'a mut PackStats,
    /// First archive path of each multiply-linked inode (hard links), where the target takes
    /// link entries.
    inodes: HashMap<(u64, u64), PathBuf>,
    entries: usize,
}

impl<W: Write> Walk<'_, W> {
    /// Emits the entries of directory `dir` (on disk) under archive path `rel`. `stack` holds
    /// the real directories of the links being copied, to find directory cycles.
    fn dir_children(
        &mut self,
        dir: &Path,
        rel: &Path,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), PackError> {
        let mut names: Vec<std::ffi::OsString> = fs::read_dir(dir)
            .map_err(|source| PackError::Read {
                action: "list",
                path: dir.to_owned(),
                source,
            })?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(|source| PackError::Read {
                action: "list",
                path: dir.to_owned(),
                source,
            })?;
        names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
        for name in names {
            self.entries += 1;
            if self.entries > MAX_ENTRIES {
                return Err(PackError::TooManyEntries {
                    path: self.model_dir.to_owned(),
                    limit: MAX_ENTRIES,
                });
            }
            let path = dir.join(&name);
            let rel = rel.join(&name);
            self.entry(&path, &rel, stack)?;
        }
        Ok(())
    }

    fn entry(
        &mut self,
        path: &Path,
        rel: &Path,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), PackError> {
        let meta = fs::symlink_metadata(path).map_err(|source| PackError::Read {
            action: "stat",
            path: path.to_owned(),
            source,
        })?;
        let ft = meta.file_type();
        let output = self.output;
        let io = |e: io::Error| unwrap_io(e, output);
        if ft.is_dir() {
            let mut h = base_header(
                meta.mode(),
                EntryType::Directory,
                self.mtime.of(meta.mtime()),
            );
            self.builder
                .append_data(&mut h, rel, io::empty())
                .map_err(io)?;
            self.stats.dirs += 1;
            self.dir_children(path, rel, stack)
        } else if ft.is_symlink() {
            let link = fs::read_link(path).map_err(|source| PackError::Read {
                action: "read the link",
                path: path.to_owned(),
                source,
            })?;
            let keep = match self.target {
                Target::Posix => true,
                Target::Sagemaker => false,
                // Python's data filter takes a relative link that stays inside.
                Target::Kserve => link.is_relative() && self.kserve_keeps(path, &link),
            };
            if keep {
                let mut h = base_header(0o777, EntryType::Symlink, self.mtime.of(meta.mtime()));
                self.builder.append_link(&mut h, rel, &link).map_err(io)?;
                self.stats.symlinks += 1;
                Ok(())
            } else {
                self.dereference(path, rel, &link, stack)
            }
        } else if ft.is_file() {
            self.file(path, rel, &meta)
        } else if ft.is_fifo() || ft.is_char_device() || ft.is_block_device() {
            if self.target != Target::Posix {
                return Err(PackError::Special {
                    path: path.to_owned(),
                    kind: file_kind(&ft),
                    target: self.target,
                });
            }
            let kind = if ft.is_fifo() {
                EntryType::Fifo
            } else if ft.is_char_device() {
                EntryType::Char
            } else {
                EntryType::Block
            };
            let mut h = base_header(meta.mode() & 0o7777, kind, self.mtime.of(meta.mtime()));
            if !ft.is_fifo() {
                let rdev = meta.rdev();
                let _ = h.set_device_major(libc::major(rdev));
                let _ = h.set_device_minor(libc::minor(rdev));
            }
            self.builder
                .append_data(&mut h, rel, io::empty())
                .map_err(io)?;
            self.stats.specials += 1;
            Ok(())
        } else {
            self.stats.sockets_skipped += 1;
            Ok(())
        }
    }

    /// True when the data filter would take this relative link: resolved from the link's
    /// directory, neither its text nor its real target leaves the model dir.
    fn kserve_keeps(&self, path: &Path, link: &Path) -> bool {
        let depth = path
            .strip_prefix(self.model_dir)
            .map_or(0, |r| r.components().count().saturating_sub(1)) as i64;
        let mut d = depth;
        for c in link.components() {
            match c {
                std::path::Component::ParentDir => {
                    d -= 1;
                    if d < 0 {
                        return false;
                    }
                }
                std::path::Component::Normal(_) => d += 1,
                _ => {}
            }
        }
        matches!(fs::canonicalize(path), Ok(r) if r.starts_with(&self.model_c))
    }

    fn link_error(
        &self,
        path: &Path,
        link: &Path,
        problem: String,
        fix: &'static str,
    ) -> PackError {
        PackError::Link {
            path: path.to_owned(),
            link: link.to_owned(),
            problem,
            target: self.target,
            fix,
        }
    }

    /// Stores what the link at `path` points to under `rel`, or refuses it.
    fn dereference(
        &mut self,
        path: &Path,
        rel: &Path,
        link: &Path,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), PackError> {
        let real = match fs::canonicalize(path) {
            Ok(r) => r,
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(self.link_error(
                    path,
                    link,
                    "loops".into(),
                    "point it at the real file, or remove it",
                ))
            }
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || e.raw_os_error() == Some(libc::ENOTDIR) =>
            {
                return Err(self.link_error(
                    path,
                    link,
                    "dangles (its target does not exist)".into(),
                    "remove it, or save the file it should point to",
                ))
            }
            Err(source) => {
                return Err(PackError::Read {
                    action: "resolve the link",
                    path: path.to_owned(),
                    source,
                })
            }
        };
        if !real.starts_with(&self.model_c) {
            return Err(self.link_error(
                path,
                link,
                format!("leaves the model dir (it resolves to `{}`)", real.display()),
                "copy the file into the model dir (cp -L, shutil.copy) if the model needs it, or remove the link",
            ));
        }
        let meta = fs::metadata(&real).map_err(|source| PackError::Read {
            action: "stat",
            path: real.clone(),
            source,
        })?;
        let ft = meta.file_type();
        if ft.is_dir() {
            // The real directories on this archive path so far: the link's own parents, then
            // every directory copied through links. A link to one of them is a cycle.
            let parent = path
                .parent()
                .and_then(|p| fs::canonicalize(p).ok())
                .unwrap_or_else(|| self.model_c.clone());
            if parent.starts_with(&real) || stack.iter().any(|s| s.starts_with(&real)) {
                return Err(self.link_error(
                    path,
                    link,
                    "points to one of its own parent dirs (a directory cycle)".into(),
                    "remove the link; copying it would never end",
                ));
            }
            let mut h = base_header(
                meta.mode(),
                EntryType::Directory,
                self.mtime.of(meta.mtime()),
            );
            let output = self.output;
            self.builder
                .append_data(&mut h, rel, io::empty())
                .map_err(|e| unwrap_io(e, output))?;
            self.stats.dirs += 1;
            stack.push(parent);
            stack.push(real.clone());
            let r = self.dir_children(&real, rel, stack);
            stack.pop();
            stack.pop();
            r
        } else if ft.is_file() {
            self.file(&real, rel, &meta)
        } else if ft.is_socket() {
            self.stats.sockets_skipped += 1;
            Ok(())
        } else {
            Err(PackError::Special {
                path: path.to_owned(),
                kind: file_kind(&ft),
                target: self.target,
            })
        }
    }

    /// Stores the regular file at `path` (never through a link) under `rel`.
    fn file(&mut self, path: &Path, rel: &Path, meta: &fs::Metadata) -> Result<(), PackError> {
        let output = self.output;
        let io = |e: io::Error| unwrap_io(e, output);
        let mode = meta.mode() & 0o7777;
        if meta.nlink() > 1 && self.target != Target::Sagemaker {
            let key = (meta.dev(), meta.ino());
            if let Some(first) = self.inodes.get(&key) {
                let mut h = base_header(mode, EntryType::Link, self.mtime.of(meta.mtime()));
                self.builder.append_link(&mut h, rel, first).map_err(io)?;
                self.stats.hardlinks += 1;
                return Ok(());
            }
            self.inodes.insert(key, rel.to_owned());
        }
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
            .map_err(|source| PackError::Read {
                action: "open",
                path: path.to_owned(),
                source,
            })?;
        let fmeta = file.metadata().map_err(|source| PackError::Read {
            action: "stat",
            path: path.to_owned(),
            source,
        })?;
        if !fmeta.is_file() || fmeta.ino() != meta.ino() {
            return Err(PackError::Replaced {
                path: path.to_owned(),
            });
        }
        let size = fmeta.len();
        let mut h = base_header(mode, EntryType::Regular, self.mtime.of(meta.mtime()));
        h.set_size(size);
        let reader = ExactReader {
            file,
            path,
            left: size,
            expected: size,
        };
        self.builder
            .append_data(&mut h, rel, reader)
            .map_err(|e| match e.kind() {
                _ if e.get_ref().is_some_and(|i| i.is::<PackError>()) => unwrap_io(e, output),
                io::ErrorKind::PermissionDenied | io::ErrorKind::InvalidData => PackError::Read {
                    action: "read",
                    path: path.to_owned(),
                    source: e,
                },
                _ => unwrap_io(e, output),
            })?;
        self.stats.files += 1;
        self.stats.bytes_in += size;
        Ok(())
    }
}
