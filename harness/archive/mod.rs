//! Reading an archive into a [`Manifest`], safely.
//!
//! This module **never extracts**: it streams the archive once, hashing member data on the fly,
//! with constant memory (metadata blocks are capped by [`Limits`]) and an optional cap on the
//! decompressed size (a gzip-bomb guard). It reads the gzip stream to EOF, so CRC32, ISIZE,
//! concatenated members and trailing garbage are all checked (see `gzip`), and it checks tar
//! header checksums and the end-of-archive marker (see `tar`). The gzip layer inflates on its
//! own thread, beside the tar parsing and hashing (see `pipe`), and where the writer left sync
//! points (packtest's own writer, pigz) a member is inflated on several threads, each guess
//! proven before it is used (see `parallel`): the bytes and errors are the one-thread reader's.
//!
//! Framing defects are [`ArchiveError`]s. Unsafe member names (absolute, `..`) are not framing
//! defects: the manifest still reads, and [`Manifest::name_problems`] lists them, so that the
//! contract can report them as `relative-names` failures and `inspect` can show them.

mod diff;
mod error;
mod gzip;
mod header;
mod member;
mod names;
mod parallel;
mod pipe;
mod tar;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use serde::Serialize;

use crate::layout::RawPath;

pub use diff::{Diff, DiffItem, DiskEntry, DiskKind, DiskTree};
pub use error::{ArchiveError, GarbageAfter};
pub use gzip::GzipHeader;
pub use member::{normalize_name, HeaderForm, Member, MemberKind};
pub use names::{NameClass, NameProblem};

/// Bounds on what reading an archive may cost.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Stop with [`ArchiveError::UnpackedLimit`] past this many decompressed bytes.
    pub max_unpacked: Option<u64>,
    /// The largest pax header or GNU long-name block accepted, in bytes.
    pub max_metadata: u64,
    /// Stop with [`ArchiveError::TooManyMembers`] past this many members.
    pub max_members: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_unpacked: None,
            max_metadata: 1 << 20,
            // ~220 bytes of manifest per member: 1M members is ~220 MB, and no model dir has
            // that many files (a 3 MB .tar.gz of empty members can claim millions).
            max_members: Some(1_000_000),
        }
    }
}

/// Sees each regular member's data as the archive streams by, without extracting it (the
/// model-file integrity checks of `check --archive` use it). For each regular member:
/// [`DataTap::start`], then [`DataTap::data`] for each chunk while it returns true, then
/// [`DataTap::end`] if every chunk was taken. A member cut short by a damaged archive gets no
/// `end`.
pub trait DataTap {
    /// A regular member's data starts: its normalized path and its size. False: skip it.
    fn start(&mut self, path: &crate::layout::RawPath, size: u64) -> bool;
    /// The next bytes of its data. False: no more of this member is wanted (and no `end`).
    fn data(&mut self, chunk: &[u8]) -> bool;
    /// All of its data was given.
    fn end(&mut self);
}

/// The compression layer of an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    /// gzip (one or more members).
    Gzip,
    /// Plain tar.
    None,
}

/// Everything read from an archive.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    /// The compression layer.
    pub compression: Compression,
    /// The first gzip member's header, when gzip.
    pub gzip_header: Option<GzipHeader>,
    /// How many gzip members.
    pub gzip_members: u32,
    /// The members in archive order.
    pub members: Vec<Member>,
    /// Decompressed tar size read.
    pub tar_size: u64,
}

/// Opens an archive file without hanging and without reading forever: a FIFO is opened
/// without waiting for a writer (with none, it reads as an empty stream), and directories,
/// devices (`/dev/zero` is an endless stream of end-of-archive blocks) and sockets are refused
/// with an `InvalidInput` error that names the path.
pub fn open_archive(path: &Path) -> io::Result<File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let ft = f.metadata()?.file_type();
    let refused = if ft.is_dir() {
        Some("a directory")
    } else if ft.is_char_device() {
        Some("a character device")
    } else if ft.is_block_device() {
        Some("a block device")
    } else if ft.is_socket() {
        Some("a socket")
    } else {
        None
    };
    if let Some(kind) = refused {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "`{}` is {kind}, not an archive file; pass a .tar.gz or .tar file",
                path.display()
            ),
        ));
    }
    // Back to blocking reads: a FIFO with a writer streams normally.
    // SAFETY: fcntl on an fd this function owns; no memory is passed.
    unsafe {
        let fd = f.as_raw_fd();
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
    Ok(f)
}

#[cfg(test)]
impl Manifest {
    /// A gzipped manifest of `members`, for unit tests that judge hand-made members.
    pub(crate) fn of_members(members: Vec<Member>) -> Manifest {
        Manifest {
            compression: Compression::Gzip,
            gzip_header: None,
            gzip_members: 1,
            members,
            tar_size: 0,
        }
    }
}

impl Manifest {
    /// Reads an archive file (opened with [`open_archive`]). See [`Manifest::read_lenient`]
    /// for partial results.
    pub fn read_path(path: &Path, limits: Limits) -> Result<Manifest, ArchiveError> {
        let f = open_archive(path).map_err(ArchiveError::Io)?;
        Manifest::read(f, limits)
    }

    /// Reads a `.tar.gz`, multi-member gzip, or plain `.tar` stream.
    pub fn read(r: impl Read + Send, limits: Limits) -> Result<Manifest, ArchiveError> {
        let (m, err) = Manifest::read_lenient(r, limits);
        match err {
            Some(e) => Err(e),
            None => Ok(m),
        }
    }

    /// Reads as far as possible: the members read before any defect, and the defect.
    pub fn read_lenient(r: impl Read + Send, limits: Limits) -> (Manifest, Option<ArchiveError>) {
        Manifest::read_into(r, limits, None)
    }

    /// Like [`Manifest::read_lenient`], and also copies each regular member's data into the
    /// file `sink` opens for its index (or nowhere, for `None`). The data is hashed as it is
    /// copied, so the manifest's sha256 is that of the bytes written.
    pub fn read_into(
        r: impl Read + Send,
        limits: Limits,
        sink: Option<&mut dyn FnMut(u64) -> io::Result<Option<File>>>,
    ) -> (Manifest, Option<ArchiveError>) {
        Manifest::read_with(r, limits, sink, None)
    }

    /// Like [`Manifest::read_lenient`], and also shows each regular member's data to `tap`
    /// as it streams by (read once, never extracted).
    pub fn read_tapped(
        r: impl Read + Send,
        limits: Limits,
        tap: &mut dyn DataTap,
    ) -> (Manifest, Option<ArchiveError>) {
        Manifest::read_with(r, limits, None, Some(tap))
    }

    fn read_with(
        r: impl Read + Send,
        limits: Limits,
        sink: Option<&mut dyn FnMut(u64) -> io::Result<Option<File>>>,
        tap: Option<&mut dyn DataTap>,
    ) -> (Manifest, Option<ArchiveError>) {
        let mut input = BufReader::with_capacity(256 * 1024, r);
        let mut manifest = Manifest {
            compression: Compression::None,
            gzip_header: None,
            gzip_members: 0,
            members: Vec::new(),
            tar_size: 0,
        };
        let head = match input.fill_buf() {
            Ok(h) => h,
            Err(e) => return (manifest, Some(ArchiveError::Io(e))),
        };
        if head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b {
            manifest.compression = Compression::Gzip;
            let gz =
                gzip::GzipReader::new(input, limits.max_unpacked).with_workers(inflate_workers());
            let (err, end) = std::thread::scope(|scope| {
                let (mut inflated, inflating) = pipe::spawn(scope, gz);
                let err = read_members(&mut inflated, limits, &mut manifest, sink, tap);
                // Read the gzip layer to EOF: CRC, ISIZE and trailing garbage are only checked
                // there.
                let err = err.or_else(|| drain(&mut inflated).err());
                // Hang up first, so a thread still inflating stops at its next buffer.
                drop(inflated);
                (err, inflating.join())
            });
            match end {
                Ok(end) => {
                    manifest.gzip_header = end.header;
                    manifest.gzip_members = end.members;
                }
                Err(_) => {
                    let e = io::Error::other("the inflating thread panicked");
                    return (manifest, err.or(Some(ArchiveError::Io(e))));
                }
            }
            (manifest, err)
        } else if looks_like_tar(head) {
            let err = read_members(&mut input, limits, &mut manifest, sink, tap);
            (manifest, err)
        } else {
            (manifest, Some(ArchiveError::NotGzip { offset: 0 }))
        }
    }

    /// Members that are unsafe to extract: names that leave the target dir (`absolute`,
    /// `parent-dir`, `windows-drive`, `backslash`), links that point out of the archive root
    /// (`link-escape`), members under an earlier symlink member, which an extractor writes
    /// through the link (`through-symlink`), a path already used by an earlier member, which
    /// the later one silently replaces (`duplicate`), device nodes (`device`), and regular
    /// files with the setuid or setgid bit (`setuid`, `setgid`). In member order; within a
    /// member, in that order.
    pub fn name_problems(&self) -> Vec<NameProblem> {
        names::name_problems(&self.members)
    }

    /// The manifest as it would be without the folder `prefix` (an extra top-level folder,
    /// or the model dir's absolute path): members under it are renamed to their path below
    /// it, the folder itself becomes the root entry, its parents and anything outside it are
    /// dropped, and hard-link targets (archive names) are renamed the same way. Symlink
    /// targets are relative to the link and stay as stored.
    pub fn without_folder(&self, prefix: &RawPath) -> Manifest {
        let strip = |p: &RawPath| -> Option<RawPath> {
            let b = p.as_bytes();
            let b = b.strip_prefix(b"/").unwrap_or(b);
            let pre = prefix.as_bytes();
            if b == pre {
                return Some(RawPath::from("."));
            }
            b.strip_prefix(pre)
                .and_then(|rest| rest.strip_prefix(b"/"))
                .map(RawPath::new)
        };
        let mut out = self.clone();
        out.members = self
            .members
            .iter()
            .filter_map(|x| {
                let path = strip(&x.path)?;
                let mut y = x.clone();
                y.raw_name = path.clone();
                y.path = path;
                if x.kind == MemberKind::Hardlink {
                    y.link_target = x.link_target.as_ref().map(|t| {
                        let n = normalize_name(t.as_bytes());
                        strip(&n).unwrap_or(n)
                    });
                }
                Some(y)
            })
            .collect();
        out
    }
}

/// Threads that inflate a gzip member in parallel where its writer left sync points
/// ([`parallel`]): `PACKTEST_INFLATE_THREADS` if set (0 or 1: one thread), else the cores, at
/// most 4.
fn inflate_workers() -> usize {
    std::env::var("PACKTEST_INFLATE_THREADS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(4)))
}

fn looks_like_tar(head: &[u8]) -> bool {
    if head.len() >= 265 && &head[257..262] == b"ustar" {
        return true;
    }
    // A v7 header or an all-zero (empty) archive: validate the checksum.
    if head.len() >= 512 {
        if head[..512].iter().all(|b| *b == 0) {
            return true;
        }
        let sum = header::header_checksum(&head[..512]);
        let field: String = head[148..156]
            .iter()
            .map(|b| *b as char)
            .filter(|c| c.is_digit(8))
            .collect();
        return u64::from_str_radix(&field, 8).ok() == Some(sum);
    }
    false
}

fn read_members(
    r: &mut dyn Read,
    limits: Limits,
    manifest: &mut Manifest,
    sink: Option<&mut dyn FnMut(u64) -> io::Result<Option<File>>>,
    tap: Option<&mut dyn DataTap>,
) -> Option<ArchiveError> {
    let mut parser = tar::TarParser::new(r, limits);
    if let Some(s) = sink {
        parser = parser.with_sink(s);
    }
    if let Some(t) = tap {
        parser = parser.with_tap(t);
    }
    loop {
        match parser.next_member() {
            Ok(Some(m)) => {
                if let Some(max) = limits.max_members {
                    if manifest.members.len() as u64 >= max {
                        manifest.tar_size = parser.offset;
                        return Some(ArchiveError::TooManyMembers { limit: max });
                    }
                }
                manifest.members.push(m);
            }
            Ok(None) => {
                manifest.tar_size = parser.offset;
                return None;
            }
            Err(e) => {
                manifest.tar_size = parser.offset;
                return Some(e);
            }
        }
    }
}

fn drain(r: &mut dyn Read) -> Result<(), ArchiveError> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ArchiveError::from_io(e)),
        }
    }
}

#[cfg(test)]
mod tests;
