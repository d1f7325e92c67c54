//! Reading an archive into a [`Manifest`], safely.
//!
//! This module **never extracts**: it streams the archive once, hashing member data on the fly,
//! with constant memory (metadata blocks are capped by [`Limits`]) and an optional cap on the
//! decompressed size (a gzip-bomb guard). It reads the gzip stream to EOF, so CRC32, ISIZE,
//! concatenated members and trailing garbage are all checked (see `gzip`), and it checks tar
//! header checksums and the end-of-archive marker (see `tar`).
//!
//! Framing defects are [`ArchiveError`]s. Unsafe member names (absolute, `..`) are not framing
//! defects: the manifest still reads, and [`Manifest::name_problems`] lists them, so that the
//! contract can report them as `relative-names` failures and `inspect` can show them.

mod diff;
mod gzip;
mod tar;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use serde::Serialize;

use crate::layout::RawPath;

pub use diff::{Diff, DiffItem, DiskEntry, DiskKind, DiskTree};
pub use gzip::GzipHeader;

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

/// A framing defect or a read failure. Every variant says where.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The input is neither gzip nor tar.
    #[error("not a gzip or tar archive (the first bytes at offset {offset} match neither format); pass a `.tar.gz` or `.tar` file")]
    NotGzip {
        /// Byte offset.
        offset: u64,
    },
    /// A gzip header is malformed.
    #[error("bad gzip header at byte {offset}: {reason}")]
    GzipHeader {
        /// Byte offset.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The deflate data is corrupt.
    #[error("corrupt deflate data near compressed byte {offset}: {reason}")]
    Deflate {
        /// Compressed byte offset.
        offset: u64,
        /// The decoder's message.
        reason: String,
    },
    /// The gzip stream ends early.
    #[error("the gzip stream is truncated at compressed byte {offset} (member {member}): the archive was cut short")]
    GzipTruncated {
        /// Compressed byte offset.
        offset: u64,
        /// 1-based member number.
        member: u32,
    },
    /// A member's CRC32 does not match its data.
    #[error("gzip member {member}: CRC32 in the trailer is {expected:#010x} but the data hashes to {found:#010x}")]
    GzipCrc {
        /// 1-based member number.
        member: u32,
        /// The trailer's value.
        expected: u32,
        /// The data's CRC32.
        found: u32,
    },
    /// A member's ISIZE does not match its data.
    #[error("gzip member {member}: ISIZE in the trailer is {expected} but the member inflates to {found} bytes (mod 2^32)")]
    GzipIsize {
        /// 1-based member number.
        member: u32,
        /// The trailer's value.
        expected: u32,
        /// The actual size mod 2^32.
        found: u32,
    },
    /// Bytes follow the end of the data.
    #[error("{len} byte(s) of trailing garbage at offset {offset}, after {after}")]
    TrailingGarbage {
        /// Offset (compressed for gzip, tar offset for tar).
        offset: u64,
        /// How many bytes (at least).
        len: u64,
        /// After what.
        after: &'static str,
    },
    /// The tar stream ends inside a header or member data.
    #[error("the tar stream is truncated at byte {offset}{}", member.as_ref().map(|m| format!(", inside `{m}`")).unwrap_or_default())]
    TarTruncated {
        /// Tar offset.
        offset: u64,
        /// The member being read.
        member: Option<RawPath>,
    },
    /// The tar stream ends without two zero blocks.
    #[error("no end-of-archive marker: the tar stream stops at byte {offset} after {zero_blocks} zero block(s) instead of 2; a packager that crashes mid-write leaves exactly this")]
    MissingEndMarker {
        /// Tar offset.
        offset: u64,
        /// Zero blocks seen.
        zero_blocks: u8,
    },
    /// A header checksum is wrong.
    #[error("bad tar header checksum at byte {offset}: {}, the bytes sum to {found}; this block is not a valid tar header", expected.map_or_else(|| "the checksum field is not a number".to_owned(), |e| format!("the header says {e}")))]
    HeaderChecksum {
        /// Tar offset of the header.
        offset: u64,
        /// The stored checksum; `None` when the field is not a number (random bytes, another
        /// format such as a nested gzip).
        expected: Option<u64>,
        /// The computed checksum.
        found: u64,
    },
    /// A numeric field cannot be parsed.
    #[error("bad `{field}` field in the tar header at byte {offset}: {reason}")]
    BadNumber {
        /// Tar offset of the header.
        offset: u64,
        /// Field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A pax record is malformed.
    #[error("bad pax record in the header at byte {offset}: {reason}")]
    PaxRecord {
        /// Tar offset.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A metadata block is over the limit.
    #[error("{what} at byte {offset} is {size} bytes, over the {limit}-byte limit")]
    MetadataTooLarge {
        /// Tar offset.
        offset: u64,
        /// What kind of block.
        what: &'static str,
        /// Its declared size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Decompressed size over the limit (a gzip bomb?).
    #[error("stopped after {limit} decompressed bytes (at compressed byte {compressed_offset}): over the `--max-unpacked` limit; raise it if this archive is trusted")]
    UnpackedLimit {
        /// The limit.
        limit: u64,
        /// Compressed bytes read.
        compressed_offset: u64,
    },
    /// Too many members.
    #[error("more than {limit} members; stopped reading")]
    TooManyMembers {
        /// The limit.
        limit: u64,
    },
    /// An I/O error from the underlying reader.
    #[error("cannot read the archive: {0}")]
    Io(#[source] io::Error),
}

impl ArchiveError {
    /// Unwraps an `ArchiveError` carried inside an `io::Error`, or wraps a plain one.
    pub(crate) fn from_io(e: io::Error) -> ArchiveError {
        if e.get_ref().is_some_and(|inner| inner.is::<ArchiveError>()) {
            if let Some(inner) = e.into_inner() {
                if let Ok(a) = inner.downcast::<ArchiveError>() {
                    return *a;
                }
            }
            return ArchiveError::Io(io::Error::other("unreadable archive error"));
        }
        ArchiveError::Io(e)
    }

    /// A stable kebab-case class name for reports and tests.
    pub fn class(&self) -> &'static str {
        match self {
            ArchiveError::NotGzip { .. } => "not-an-archive",
            ArchiveError::GzipHeader { .. } => "gzip-header",
            ArchiveError::Deflate { .. } => "deflate-corrupt",
            ArchiveError::GzipTruncated { .. } => "gzip-truncated",
            ArchiveError::GzipCrc { .. } => "gzip-crc",
            ArchiveError::GzipIsize { .. } => "gzip-isize",
            ArchiveError::TrailingGarbage { .. } => "trailing-garbage",
            ArchiveError::TarTruncated { .. } => "tar-truncated",
            ArchiveError::MissingEndMarker { .. } => "missing-end-marker",
            ArchiveError::HeaderChecksum { .. } => "header-checksum",
            ArchiveError::BadNumber { .. } => "bad-number",
            ArchiveError::PaxRecord { .. } => "pax-record",
            ArchiveError::MetadataTooLarge { .. } => "metadata-too-large",
            ArchiveError::UnpackedLimit { .. } => "unpacked-limit",
            ArchiveError::TooManyMembers { .. } => "too-many-members",
            ArchiveError::Io(_) => "io",
        }
    }

    /// True for defects of the gzip layer (the `valid-gzip` property).
    pub fn is_gzip_layer(&self) -> bool {
        matches!(
            self,
            ArchiveError::GzipHeader { .. }
                | ArchiveError::Deflate { .. }
                | ArchiveError::GzipTruncated { .. }
                | ArchiveError::GzipCrc { .. }
                | ArchiveError::GzipIsize { .. }
                | ArchiveError::NotGzip { .. }
        ) || matches!(self, ArchiveError::TrailingGarbage { after, .. } if after.contains("gzip"))
    }
}

/// The type of a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemberKind {
    /// Regular file (`0`, `\0`, `7`).
    File,
    /// Directory (`5`).
    Dir,
    /// Symbolic link (`2`).
    Symlink,
    /// Hard link (`1`).
    Hardlink,
    /// Character device (`3`).
    CharDevice,
    /// Block device (`4`).
    BlockDevice,
    /// FIFO (`6`).
    Fifo,
    /// Any other type flag (GNU sparse `S`, volume label `V`, …).
    Other(u8),
}

impl MemberKind {
    /// A stable name: `file`, `dir`, `symlink`, `hardlink`, `char-device`, `block-device`,
    /// `fifo`, or `type-X`.
    pub fn name(self) -> String {
        match self {
            MemberKind::File => "file".into(),
            MemberKind::Dir => "dir".into(),
            MemberKind::Symlink => "symlink".into(),
            MemberKind::Hardlink => "hardlink".into(),
            MemberKind::CharDevice => "char-device".into(),
            MemberKind::BlockDevice => "block-device".into(),
            MemberKind::Fifo => "fifo".into(),
            MemberKind::Other(b) => format!("type-{}", (b as char).escape_default()),
        }
    }
}

impl Serialize for MemberKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

/// The header form a member was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeaderForm {
    /// Pre-POSIX v7 header (no magic).
    V7,
    /// POSIX ustar.
    Ustar,
    /// GNU (`ustar  \0` magic).
    Gnu,
    /// GNU with `././@LongLink` (`L`/`K`) entries.
    GnuLongName,
    /// ustar with pax extended records.
    Pax,
}

/// One archive member, as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    /// The normalized path: one leading `./` and trailing `/` removed; `.` is the root entry.
    pub path: RawPath,
    /// The name exactly as stored (after pax / GNU long-name resolution).
    pub raw_name: RawPath,
    /// The type.
    pub kind: MemberKind,
    /// Permission bits (0o7777).
    pub mode: u32,
    /// Owner id.
    pub uid: u64,
    /// Group id.
    pub gid: u64,
    /// Modification time, seconds.
    pub mtime: i64,
    /// Data size (0 for non-files).
    pub size: u64,
    /// sha256 of the data, for regular files.
    #[serde(serialize_with = "ser_sha")]
    pub sha256: Option<[u8; 32]>,
    /// Link target, for symlinks and hard links.
    pub link_target: Option<RawPath>,
    /// Device major and minor numbers, for character and block devices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<(u32, u32)>,
    /// The header form.
    pub form: HeaderForm,
    /// Offset of the member's header in the tar stream.
    pub offset: u64,
}

fn ser_sha<S: serde::Serializer>(v: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(h) => s.serialize_str(&crate::layout::RawPath::new(h.to_vec()).to_hex()),
        None => s.serialize_none(),
    }
}

impl Member {
    /// True for the optional root entry (`.`, `./`, `/`, or empty).
    pub fn is_root_entry(&self) -> bool {
        matches!(self.path.as_bytes(), b"" | b"." | b"/")
    }
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

/// A member name that is unsafe to extract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NameProblem {
    /// Index into `members`.
    pub index: usize,
    /// The name as stored.
    pub name: RawPath,
    /// Stable class: `absolute`, `parent-dir`, `windows-drive`, `backslash`, `link-escape`,
    /// `through-symlink`, `duplicate`, `device`, `setuid`, `setgid`.
    pub class: &'static str,
    /// A human explanation.
    pub reason: String,
}

/// A member name as packtest compares it: strips one leading `./` and trailing slashes; maps `./`, `.` and `` to `.`.
pub fn normalize_name(name: &[u8]) -> RawPath {
    let mut n = name;
    if let Some(rest) = n.strip_prefix(b"./") {
        n = rest;
    }
    while n.len() > 1 && n.ends_with(b"/") {
        n = &n[..n.len() - 1];
    }
    if n.is_empty() || n == b"." {
        return RawPath::from(".");
    }
    RawPath::new(n.to_vec())
}

/// True when `target`, resolved from the directory of `link_path`, climbs above the root.
fn escapes(link_dir_depth: usize, target: &[u8]) -> bool {
    if target.starts_with(b"/") {
        return true;
    }
    let mut depth = link_dir_depth as i64;
    for c in target.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
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

impl Manifest {
    /// Reads an archive file (opened with [`open_archive`]). See [`Manifest::read_lenient`]
    /// for partial results.
    pub fn read_path(path: &Path, limits: Limits) -> Result<Manifest, ArchiveError> {
        let f = open_archive(path).map_err(ArchiveError::Io)?;
        Manifest::read(f, limits)
    }

    /// Reads a `.tar.gz`, multi-member gzip, or plain `.tar` stream.
    pub fn read(r: impl Read, limits: Limits) -> Result<Manifest, ArchiveError> {
        let (m, err) = Manifest::read_lenient(r, limits);
        match err {
            Some(e) => Err(e),
            None => Ok(m),
        }
    }

    /// Reads as far as possible: the members read before any defect, and the defect.
    pub fn read_lenient(r: impl Read, limits: Limits) -> (Manifest, Option<ArchiveError>) {
        Manifest::read_into(r, limits, None)
    }

    /// Like [`Manifest::read_lenient`], and also copies each regular member's data into the
    /// file `sink` opens for its index (or nowhere, for `None`). The data is hashed as it is
    /// copied, so the manifest's sha256 is that of the bytes written.
    pub fn read_into(
        r: impl Read,
        limits: Limits,
        sink: Option<&mut dyn FnMut(u64) -> io::Result<Option<File>>>,
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
            let mut gz = gzip::GzipReader::new(input, limits.max_unpacked);
            let err = read_members(&mut gz, limits, &mut manifest, sink);
            // Read the gzip layer to EOF: CRC, ISIZE and trailing garbage are only checked there.
            let err = err.or_else(|| drain(&mut gz).err());
            manifest.gzip_header = gz.header.clone();
            manifest.gzip_members = gz.members;
            (manifest, err)
        } else if looks_like_tar(head) {
            let err = read_members(&mut input, limits, &mut manifest, sink);
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
        let mut out = Vec::new();
        let mut symlinks: HashSet<&[u8]> = HashSet::new();
        let mut seen: HashMap<&[u8], usize> = HashMap::new();
        for (index, m) in self.members.iter().enumerate() {
            let raw = m.raw_name.as_bytes();
            let mut push = |class: &'static str, reason: String| {
                out.push(NameProblem {
                    index,
                    name: m.raw_name.clone(),
                    class,
                    reason,
                })
            };
            if raw.starts_with(b"/") {
                if raw != b"/" {
                    push(
                        "absolute",
                        "the name is absolute; extracting it writes outside the target dir".into(),
                    );
                }
            } else if raw.split(|b| *b == b'/').any(|c| c == b"..") {
                push(
                    "parent-dir",
                    "the name has a `..` component; extracting it can write outside the target dir"
                        .into(),
                );
            }
            if raw.len() >= 2 && raw[0].is_ascii_alphabetic() && raw[1] == b':' {
                push(
                    "windows-drive",
                    "the name starts with a Windows drive letter".into(),
                );
            }
            if raw.contains(&b'\\') {
                push(
                    "backslash",
                    "the name has a backslash, a path separator on Windows".into(),
                );
            }
            if let Some(t) = &m.link_target {
                let escaped = match m.kind {
                    // A symlink resolves from its own directory.
                    MemberKind::Symlink => {
                        escapes(m.path.components().count().saturating_sub(1), t.as_bytes())
                    }
                    // A hard link names another archive path.
                    _ => escapes(0, normalize_name(t.as_bytes()).as_bytes()),
                };
                if escaped && !m.is_root_entry() {
                    push(
                        "link-escape",
                        format!(
                            "the {} target `{t}` points outside the archive root",
                            m.kind.name()
                        ),
                    );
                }
            }
            let path = m.path.as_bytes();
            let through = path
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'/')
                .map(|(i, _)| trim_slashes(&path[..i]))
                .find(|prefix| symlinks.contains(prefix));
            if let Some(link) = through {
                push(
                    "through-symlink",
                    format!(
                        "it lies under `{}`, an earlier symlink member: extracting it writes through the link",
                        RawPath::from(link)
                    ),
                );
            }
            if !m.is_root_entry() {
                if let Some(prev) = seen.insert(path, index) {
                    push(
                        "duplicate",
                        format!(
                            "member {} has the same path: extracting keeps only this later one",
                            prev + 1
                        ),
                    );
                }
            }
            if m.kind == MemberKind::Symlink {
                symlinks.insert(path);
            } else {
                symlinks.remove(path);
            }
            if matches!(m.kind, MemberKind::CharDevice | MemberKind::BlockDevice) {
                push(
                    "device",
                    format!(
                        "a {}: extracting it as root creates a device node",
                        m.kind.name()
                    ),
                );
            }
            if matches!(m.kind, MemberKind::File | MemberKind::Hardlink) {
                if m.mode & 0o4000 != 0 {
                    push(
                        "setuid",
                        format!(
                            "mode {:04o} has the setuid bit: extracting it as root keeps it",
                            m.mode
                        ),
                    );
                }
                if m.mode & 0o2000 != 0 {
                    push(
                        "setgid",
                        format!(
                            "mode {:04o} has the setgid bit: extracting it as root keeps it",
                            m.mode
                        ),
                    );
                }
            }
        }
        out
    }
}

fn trim_slashes(mut p: &[u8]) -> &[u8] {
    while p.len() > 1 && p.ends_with(b"/") {
        p = &p[..p.len() - 1];
    }
    p
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
        let sum = tar::header_checksum(&head[..512]);
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
) -> Option<ArchiveError> {
    let mut parser = tar::TarParser::new(r, limits);
    if let Some(s) = sink {
        parser = parser.with_sink(s);
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
