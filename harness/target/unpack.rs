//! `packtest unpack`: extract an archive exactly as a target's consumer would, into a new or
//! empty directory, never writing outside it.
//!
//! It is the executable form of [`super::extract`](mod@super::extract). The archive is read twice: the first pass
//! builds the manifest (every CRC, checksum and the end marker verified) and runs the
//! consumer's model on it; a consumer that refuses the archive (SageMaker and KServe fail the
//! whole deploy on one refused member) gets nothing written. The second pass streams each
//! file's bytes straight to its final place. Nothing is written through a link: directories
//! and files are created first at paths the model has already resolved (no link exists yet,
//! files are opened with `O_CREAT | O_EXCL | O_NOFOLLOW`), symlinks come last, then modes.
//! GNU tar skips the members it refuses and extracts the rest; so does `--target posix`.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::archive::{open_archive, ArchiveError, Limits, Manifest, MemberKind};
use crate::layout::RawPath;

use super::{extract, Refusal, Target, VEntry};

/// Why `unpack` did not produce the consumer's tree.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// The input is not an archive, or cannot be opened (exit 2).
    #[error("cannot read `{}`: {source}", path.display())]
    BadArchive {
        /// The archive path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: ArchiveError,
    },
    /// The archive is damaged; every consumer fails on it (exit 1).
    #[error("`{}` is damaged ({source}); {target}'s consumer would fail to extract it", path.display())]
    Damaged {
        /// The archive path.
        path: PathBuf,
        /// The target.
        target: Target,
        /// The defect.
        #[source]
        source: ArchiveError,
    },
    /// The consumer refuses the archive as a whole (exit 1); nothing was written.
    #[error("{target}'s consumer refuses this archive ({} member{}); first: `{}`: {}; nothing was written", refusals.len(), if refusals.len() == 1 { "" } else { "s" }, refusals[0].name, refusals[0].message)]
    Refused {
        /// The target.
        target: Target,
        /// Every refused member (at least one).
        refusals: Vec<Refusal>,
    },
    /// The destination is not a new or empty directory (exit 2).
    #[error("the destination `{}` {reason}; give a new or empty directory", path.display())]
    Destination {
        /// The destination.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Writing the tree failed (exit 1); what was written stays in the destination.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Write {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

impl UnpackError {
    /// True when the error is the caller's input (exit 2), not the consumer's refusal.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            UnpackError::BadArchive { .. } | UnpackError::Destination { .. }
        )
    }
}

/// What `unpack` wrote.
#[derive(Clone, Debug, Default, Serialize)]
pub struct UnpackReport {
    /// The target.
    pub target: Target,
    /// Regular files written.
    pub files: u64,
    /// Directories created.
    pub dirs: u64,
    /// Symlinks created.
    pub symlinks: u64,
    /// FIFOs and devices created.
    pub specials: u64,
    /// Members the consumer skipped (GNU tar's per-member errors; empty on success).
    pub refusals: Vec<Refusal>,
}

/// Checks the destination without creating it: a new path in an existing dir, or an empty,
/// writable directory (never a symlink).
fn check_dest(dest: &Path) -> Result<bool, UnpackError> {
    let bad = |reason: String| UnpackError::Destination {
        path: dest.to_owned(),
        reason,
    };
    match fs::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_symlink() => Err(bad(
            "is a symlink; packtest never extracts through one".into(),
        )),
        Ok(m) if !m.is_dir() => Err(bad("exists and is not a directory".into())),
        Ok(_) => {
            let mut it = fs::read_dir(dest).map_err(|e| bad(format!("cannot be listed ({e})")))?;
            if it.next().is_some() {
                return Err(bad("is not empty".into()));
            }
            probe(dest).map_err(|e| bad(format!("is not writable ({e})")))?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let parent = match dest.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            if !parent.is_dir() {
                return Err(bad(format!(
                    "cannot be created: `{}` is not a directory",
                    parent.display()
                )));
            }
            probe(parent).map_err(|e| bad(format!("cannot be created ({e})")))?;
            Ok(false)
        }
        Err(e) => Err(bad(format!("cannot be examined ({e})"))),
    }
}

/// Can a file be created in `dir`? (Creates one and removes it at once.)
fn probe(dir: &Path) -> io::Result<()> {
    let p = dir.join(format!(".packtest-unpack-probe-{}", std::process::id()));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&p)?;
    fs::remove_file(&p)
}

fn under(dest: &Path, p: &RawPath) -> PathBuf {
    dest.join(p.as_path())
}

fn mknod(path: &Path, kind: MemberKind, mode: u32, device: Option<(u32, u32)>) -> io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
    let perm = (mode & 0o7777) as libc::mode_t;
    let (major, minor) = device.unwrap_or((0, 0));
    let dev = libc::makedev(major, minor);
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    let rc = unsafe {
        match kind {
            MemberKind::Fifo => libc::mkfifo(c.as_ptr(), perm),
            MemberKind::CharDevice => libc::mknod(c.as_ptr(), libc::S_IFCHR | perm, dev),
            _ => libc::mknod(c.as_ptr(), libc::S_IFBLK | perm, dev),
        }
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // The umask applied at creation; the consumer (root GNU tar) sets the mode exactly.
    fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o7777))
}

/// Opens the archive for one of the two reads.
fn open_input(p: &Path) -> Result<fs::File, UnpackError> {
    open_archive(p).map_err(|e| UnpackError::BadArchive {
        path: p.to_owned(),
        source: ArchiveError::Io(e),
    })
}

/// The error for a failed write step on `path`.
fn write_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> UnpackError {
    let path = path.to_owned();
    move |source: io::Error| UnpackError::Write {
        action,
        path,
        source,
    }
}

/// The first pass: a regular file read to its end, every check verified.
fn read_manifest(archive: &Path, target: Target, limits: Limits) -> Result<Manifest, UnpackError> {
    let f = open_input(archive)?;
    if !f.metadata().map(|m| m.is_file()).unwrap_or(false) {
        return Err(UnpackError::BadArchive {
            path: archive.to_owned(),
            source: ArchiveError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file (unpack reads the archive twice)",
            )),
        });
    }
    match Manifest::read(f, limits) {
        Ok(m) => Ok(m),
        Err(e @ ArchiveError::NotGzip { offset: 0 }) | Err(e @ ArchiveError::Io(_)) => {
            Err(UnpackError::BadArchive {
                path: archive.to_owned(),
                source: e,
            })
        }
        Err(e) => Err(UnpackError::Damaged {
            path: archive.to_owned(),
            target,
            source: e,
        }),
    }
}

/// Extracts `archive` into `dest` as `target`'s consumer would.
pub fn unpack(
    archive: &Path,
    dest: &Path,
    target: Target,
    limits: Limits,
) -> Result<UnpackReport, UnpackError> {
    let exists = check_dest(dest)?;
    let manifest = read_manifest(archive, target, limits)?;
    let ex = extract(&manifest, target);
    if ex.fatal() {
        return Err(UnpackError::Refused {
            target,
            refusals: ex.refusals,
        });
    }
    if !exists {
        fs::create_dir(dest).map_err(|e| UnpackError::Destination {
            path: dest.to_owned(),
            reason: format!("cannot be created ({e})"),
        })?;
    }
    let mut report = UnpackReport {
        target,
        refusals: ex.refusals.clone(),
        ..UnpackReport::default()
    };
    let tree = &ex.tree.entries;
    create_dirs(dest, tree, &mut report)?;
    // Files by the member that supplies their bytes (a hard link copies another's).
    let mut by_member: BTreeMap<u64, Vec<&RawPath>> = BTreeMap::new();
    for (p, e) in tree {
        if let VEntry::File { member, .. } = e {
            by_member.entry(*member as u64).or_default().push(p);
        }
    }
    stream_files(archive, dest, target, limits, &manifest, &by_member)?;
    link_copies(dest, &by_member, &mut report)?;
    finish_files_and_specials(dest, tree, &mut report)?;
    create_symlinks(dest, tree, &mut report)?;
    set_dir_modes(dest, tree)?;
    Ok(report)
}

/// Directories first, parents before children (byte order puts `a` before `a/b`), owner-only
/// until the end.
fn create_dirs(
    dest: &Path,
    tree: &BTreeMap<RawPath, VEntry>,
    report: &mut UnpackReport,
) -> Result<(), UnpackError> {
    for (p, e) in tree {
        if let VEntry::Dir { .. } = e {
            let at = under(dest, p);
            fs::create_dir(&at).map_err(write_err("create the directory", &at))?;
            fs::set_permissions(&at, fs::Permissions::from_mode(0o700))
                .map_err(write_err("set the mode of", &at))?;
            report.dirs += 1;
        }
    }
    Ok(())
}

/// The second pass: each data member's bytes streamed to the first path that holds them,
/// checking that the archive did not change since the first.
fn stream_files(
    archive: &Path,
    dest: &Path,
    target: Target,
    limits: Limits,
    manifest: &Manifest,
    by_member: &BTreeMap<u64, Vec<&RawPath>>,
) -> Result<(), UnpackError> {
    let mut sink = |index: u64| -> io::Result<Option<fs::File>> {
        let Some(paths) = by_member.get(&index) else {
            return Ok(None);
        };
        let at = under(dest, paths[0]);
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(0o600)
            .open(&at)
            .map(Some)
            .map_err(|e| io::Error::new(e.kind(), format!("`{}`: {e}", at.display())))
    };
    let f = open_input(archive)?;
    let (second, err) = Manifest::read_into(f, limits, Some(&mut sink));
    if let Some(e) = err {
        return Err(UnpackError::Damaged {
            path: archive.to_owned(),
            target,
            source: e,
        });
    }
    if second.members.len() != manifest.members.len()
        || second
            .members
            .iter()
            .zip(&manifest.members)
            .any(|(a, b)| a.sha256 != b.sha256 || a.path != b.path)
    {
        return Err(UnpackError::Write {
            action: "read again",
            path: archive.to_owned(),
            source: io::Error::other("the archive changed between the two reads"),
        });
    }
    Ok(())
}

/// Several paths with one member's bytes are hard links (only a hard-link member names
/// another member's data), and every extractor links them.
fn link_copies(
    dest: &Path,
    by_member: &BTreeMap<u64, Vec<&RawPath>>,
    report: &mut UnpackReport,
) -> Result<(), UnpackError> {
    for paths in by_member.values() {
        let src = under(dest, paths[0]);
        for p in &paths[1..] {
            let at = under(dest, p);
            fs::hard_link(&src, &at).map_err(write_err("hard link", &at))?;
        }
        report.files += paths.len() as u64;
    }
    Ok(())
}

/// Files with no data member (a type the reader does not hash) as empty files, every file's
/// mode, and FIFOs and devices.
fn finish_files_and_specials(
    dest: &Path,
    tree: &BTreeMap<RawPath, VEntry>,
    report: &mut UnpackReport,
) -> Result<(), UnpackError> {
    for (p, e) in tree {
        match e {
            VEntry::File { mode, .. } => {
                let at = under(dest, p);
                if fs::symlink_metadata(&at).is_err() {
                    OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .custom_flags(libc::O_NOFOLLOW)
                        .open(&at)
                        .map_err(write_err("create", &at))?;
                    report.files += 1;
                }
                fs::set_permissions(&at, fs::Permissions::from_mode(*mode & 0o7777))
                    .map_err(write_err("set the mode of", &at))?;
            }
            VEntry::Special {
                kind, mode, device, ..
            } => {
                let at = under(dest, p);
                mknod(&at, *kind, *mode, *device)
                    .map_err(write_err("create the special file", &at))?;
                report.specials += 1;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Symlinks last of all objects, so nothing is written through one.
fn create_symlinks(
    dest: &Path,
    tree: &BTreeMap<RawPath, VEntry>,
    report: &mut UnpackReport,
) -> Result<(), UnpackError> {
    for (p, e) in tree {
        if let VEntry::Symlink { target } = e {
            let at = under(dest, p);
            std::os::unix::fs::symlink(target.as_path(), &at)
                .map_err(write_err("create the symlink", &at))?;
            report.symlinks += 1;
        }
    }
    Ok(())
}

/// Directory modes last, deepest first, so a read-only dir does not block its children.
fn set_dir_modes(dest: &Path, tree: &BTreeMap<RawPath, VEntry>) -> Result<(), UnpackError> {
    for (p, e) in tree.iter().rev() {
        if let VEntry::Dir { mode, .. } = e {
            let at = under(dest, p);
            fs::set_permissions(&at, fs::Permissions::from_mode(*mode & 0o7777))
                .map_err(write_err("set the mode of", &at))?;
        }
    }
    Ok(())
}
