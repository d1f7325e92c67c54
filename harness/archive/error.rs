//! The framing defects and read failures of an archive ([`ArchiveError`]), and what trailing
//! garbage follows ([`GarbageAfter`]).

use std::fmt;
use std::io;

use crate::layout::RawPath;

/// What bytes past the end of the data follow: a typed fact, so the gzip-or-tar decision never
/// reads the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GarbageAfter {
    /// Non-gzip bytes after the last complete gzip member.
    LastGzipMember,
    /// Non-zero bytes after the tar end-of-archive marker.
    TarEndMarker,
    /// Zero padding after the tar end-of-archive marker, longer than any tar record.
    TarZeroPadding,
}

impl GarbageAfter {
    /// True when the garbage belongs to the gzip layer (the `valid-gzip` property).
    pub fn is_gzip_layer(self) -> bool {
        self == GarbageAfter::LastGzipMember
    }
}

impl fmt::Display for GarbageAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GarbageAfter::LastGzipMember => "the last gzip member",
            GarbageAfter::TarEndMarker => "the tar end-of-archive marker",
            GarbageAfter::TarZeroPadding => {
                "the tar end-of-archive marker (zero padding longer than any tar record)"
            }
        })
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
        /// What the garbage follows.
        after: GarbageAfter,
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
        ) || matches!(
            self,
            ArchiveError::TrailingGarbage { after, .. } if after.is_gzip_layer()
        )
    }
}
