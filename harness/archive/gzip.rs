//! A gzip reader that checks what most readers skip.
//!
//! flate2's `GzDecoder` stops at the first member, and tar readers stop at the tar end marker,
//! so a wrong CRC32, a wrong ISIZE or trailing garbage usually passes unnoticed. This reader
//! parses the gzip framing itself (RFC 1952), inflates each member's raw deflate stream with
//! flate2's `Decompress`, verifies every member's CRC32 and ISIZE, accepts concatenated members
//! (as gzip(1) does), and treats any byte after the last member that does not start a new
//! member as trailing garbage. It must be read to EOF for these checks to run; the manifest
//! reader always does so.

use std::io::{self, BufRead, Read};

use flate2::{Decompress, FlushDecompress, Status};

use super::error::{ArchiveError, GarbageAfter};
use super::parallel::ParallelBody;

/// The compressed input, with bytes the parallel body read past a member's end put back in
/// front.
struct Input<R> {
    front: Vec<u8>,
    pos: usize,
    inner: R,
}

impl<R: BufRead> Input<R> {
    fn push_front(&mut self, mut bytes: Vec<u8>) {
        bytes.extend_from_slice(&self.front[self.pos..]);
        self.front = bytes;
        self.pos = 0;
    }
}

impl<R: BufRead> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Input<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos < self.front.len() {
            Ok(&self.front[self.pos..])
        } else {
            self.inner.fill_buf()
        }
    }

    fn consume(&mut self, n: usize) {
        if self.pos < self.front.len() {
            self.pos += n;
            if self.pos >= self.front.len() {
                self.front = Vec::new();
                self.pos = 0;
            }
        } else {
            self.inner.consume(n);
        }
    }
}

/// The header fields of the first gzip member, for the `normalized` property.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct GzipHeader {
    /// MTIME field (0 means "no timestamp").
    pub mtime: u32,
    /// FNAME, if present.
    pub file_name: Option<Vec<u8>>,
    /// FCOMMENT present.
    pub has_comment: bool,
    /// XFL field.
    pub xfl: u8,
    /// OS field.
    pub os: u8,
    /// FEXTRA subfields, if present (at most 64 KiB by the format).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<Vec<u8>>,
}

enum State {
    Header,
    Body,
    Trailer,
    AfterMember,
    Done,
}

/// Decompresses a (possibly multi-member) gzip stream, verifying each member.
pub struct GzipReader<R> {
    input: Input<R>,
    parallel: Option<ParallelBody>,
    /// A deflate error, reported after the bytes inflated before it.
    pending: Option<ArchiveError>,
    state: State,
    inflate: Decompress,
    crc: crc32fast::Hasher,
    member_out: u64,
    /// Compressed bytes consumed so far.
    pub compressed_offset: u64,
    /// Decompressed bytes produced so far.
    pub total_out: u64,
    /// Members started so far.
    pub members: u32,
    /// The first member's header.
    pub header: Option<GzipHeader>,
    limit: Option<u64>,
}

fn fail(e: ArchiveError) -> io::Error {
    io::Error::other(e)
}

impl<R: BufRead> GzipReader<R> {
    /// Wraps a buffered reader positioned at a gzip header. `limit` caps the total
    /// decompressed size (a bomb guard).
    pub fn new(input: R, limit: Option<u64>) -> Self {
        GzipReader {
            input: Input {
                front: Vec::new(),
                pos: 0,
                inner: input,
            },
            parallel: None,
            pending: None,
            state: State::Header,
            inflate: Decompress::new(false),
            crc: crc32fast::Hasher::new(),
            member_out: 0,
            compressed_offset: 0,
            total_out: 0,
            members: 0,
            header: None,
            limit,
        }
    }

    /// Inflates each member's body with `workers` threads ([`super::parallel`]) where the
    /// stream allows it; 0 or 1 keeps the one-thread decoder. The bytes and the errors read are
    /// the same either way.
    pub(crate) fn with_workers(mut self, workers: usize) -> Self {
        self.parallel = (workers > 1).then(|| ParallelBody::new(workers));
        self
    }

    /// Guesses used, segments read in order and guesses wasted by the parallel body, if any.
    #[cfg(test)]
    pub(crate) fn parallel_stats(&self) -> Option<(u64, u64, u64)> {
        self.parallel
            .as_ref()
            .map(|p| (p.used, p.read_in_order, p.wasted))
    }

    /// Checks and counts bytes just inflated: CRC32, ISIZE, the unpacked limit.
    fn account(&mut self, produced: &[u8]) -> io::Result<()> {
        self.crc.update(produced);
        self.member_out += produced.len() as u64;
        self.total_out += produced.len() as u64;
        if let Some(limit) = self.limit {
            if self.total_out > limit {
                return Err(fail(ArchiveError::UnpackedLimit {
                    limit,
                    compressed_offset: self.compressed_offset,
                }));
            }
        }
        Ok(())
    }

    fn byte(&mut self) -> io::Result<u8> {
        let mut b = [0u8; 1];
        self.exact(&mut b)?;
        Ok(b[0])
    }

    fn exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        match self.input.read_exact(buf) {
            Ok(()) => {
                self.compressed_offset += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                Err(fail(ArchiveError::GzipTruncated {
                    offset: self.compressed_offset,
                    member: self.members,
                }))
            }
            Err(e) => Err(e),
        }
    }

    fn zero_terminated(&mut self) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        loop {
            let b = self.byte()?;
            if b == 0 {
                return Ok(v);
            }
            if v.len() >= 64 * 1024 {
                return Err(fail(ArchiveError::GzipHeader {
                    offset: self.compressed_offset,
                    reason: "the FNAME or FCOMMENT field is longer than 64 KiB".into(),
                }));
            }
            v.push(b);
        }
    }

    fn read_header(&mut self) -> io::Result<()> {
        let start = self.compressed_offset;
        let mut fixed = [0u8; 10];
        self.exact(&mut fixed)?;
        if fixed[0] != 0x1f || fixed[1] != 0x8b {
            if self.members > 0 {
                return Err(fail(ArchiveError::TrailingGarbage {
                    offset: start,
                    len: 10,
                    after: GarbageAfter::LastGzipMember,
                }));
            }
            return Err(fail(ArchiveError::NotGzip { offset: start }));
        }
        if fixed[2] != 8 {
            return Err(fail(ArchiveError::GzipHeader {
                offset: start,
                reason: format!("compression method {} is not deflate (8)", fixed[2]),
            }));
        }
        let flags = fixed[3];
        if flags & 0xe0 != 0 {
            return Err(fail(ArchiveError::GzipHeader {
                offset: start,
                reason: format!("reserved flag bits are set ({flags:#04x})"),
            }));
        }
        let extra = if flags & 0x04 != 0 {
            let mut xlen = [0u8; 2];
            self.exact(&mut xlen)?;
            let mut extra = vec![0u8; u16::from_le_bytes(xlen) as usize];
            self.exact(&mut extra)?;
            Some(extra)
        } else {
            None
        };
        let file_name = if flags & 0x08 != 0 {
            Some(self.zero_terminated()?)
        } else {
            None
        };
        let has_comment = flags & 0x10 != 0;
        if has_comment {
            self.zero_terminated()?;
        }
        if flags & 0x02 != 0 {
            let mut hcrc = [0u8; 2];
            self.exact(&mut hcrc)?;
        }
        if self.header.is_none() {
            self.header = Some(GzipHeader {
                mtime: u32::from_le_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
                file_name,
                has_comment,
                xfl: fixed[8],
                os: fixed[9],
                extra,
            });
        }
        self.members += 1;
        if let Some(p) = self.parallel.as_mut() {
            p.start(self.compressed_offset);
        }
        self.inflate.reset(false);
        self.crc = crc32fast::Hasher::new();
        self.member_out = 0;
        Ok(())
    }

    fn read_trailer(&mut self) -> io::Result<()> {
        let mut t = [0u8; 8];
        self.exact(&mut t)?;
        let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let isize = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        let actual = std::mem::replace(&mut self.crc, crc32fast::Hasher::new()).finalize();
        if crc != actual {
            return Err(fail(ArchiveError::GzipCrc {
                member: self.members,
                expected: crc,
                found: actual,
            }));
        }
        if isize != self.member_out as u32 {
            return Err(fail(ArchiveError::GzipIsize {
                member: self.members,
                expected: isize,
                found: self.member_out as u32,
            }));
        }
        Ok(())
    }
}

impl<R: BufRead> Read for GzipReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match self.state {
                State::Header => {
                    self.read_header()?;
                    self.state = State::Body;
                }
                State::Body => {
                    if let Some(e) = self.pending.take() {
                        return Err(fail(e));
                    }
                    if let Some(p) = self.parallel.as_mut() {
                        let produced = p.read(&mut self.input, out).map_err(fail)?;
                        self.compressed_offset = p.offset;
                        if produced == 0 {
                            if !p.ended {
                                return Err(fail(ArchiveError::GzipTruncated {
                                    offset: self.compressed_offset,
                                    member: self.members,
                                }));
                            }
                            let rest = p.take_leftover();
                            self.input.push_front(rest);
                            self.state = State::Trailer;
                            continue;
                        }
                        self.account(&out[..produced])?;
                        return Ok(produced);
                    }
                    let input = self.input.fill_buf()?;
                    if input.is_empty() {
                        return Err(fail(ArchiveError::GzipTruncated {
                            offset: self.compressed_offset,
                            member: self.members,
                        }));
                    }
                    let (in0, out0) = (self.inflate.total_in(), self.inflate.total_out());
                    let result = self.inflate.decompress(input, out, FlushDecompress::None);
                    let consumed = (self.inflate.total_in() - in0) as usize;
                    let produced = (self.inflate.total_out() - out0) as usize;
                    self.input.consume(consumed);
                    self.compressed_offset += consumed as u64;
                    let status = match result {
                        Ok(status) => status,
                        Err(e) => {
                            // Every byte inflated before the error comes first.
                            let e = ArchiveError::Deflate {
                                offset: self.compressed_offset,
                                reason: e.to_string(),
                            };
                            if produced == 0 {
                                return Err(fail(e));
                            }
                            self.pending = Some(e);
                            self.account(&out[..produced])?;
                            return Ok(produced);
                        }
                    };
                    self.account(&out[..produced])?;
                    if status == Status::StreamEnd {
                        self.state = State::Trailer;
                    } else if consumed == 0 && produced == 0 {
                        return Err(fail(ArchiveError::Deflate {
                            offset: self.compressed_offset,
                            reason: "the deflate stream makes no progress".into(),
                        }));
                    }
                    if produced > 0 {
                        return Ok(produced);
                    }
                }
                State::Trailer => {
                    self.read_trailer()?;
                    self.state = State::AfterMember;
                }
                State::AfterMember => {
                    let rest = self.input.fill_buf()?;
                    if rest.is_empty() {
                        self.state = State::Done;
                    } else if rest[0] == 0x1f {
                        // Another member (gzip(1) concatenation); its header is checked fully.
                        self.state = State::Header;
                    } else {
                        let offset = self.compressed_offset;
                        let mut len = 0u64;
                        loop {
                            let n = self.input.fill_buf()?.len();
                            if n == 0 || len > 1 << 20 {
                                break;
                            }
                            self.input.consume(n);
                            len += n as u64;
                        }
                        return Err(fail(ArchiveError::TrailingGarbage {
                            offset,
                            len,
                            after: GarbageAfter::LastGzipMember,
                        }));
                    }
                }
                State::Done => return Ok(0),
            }
        }
    }
}
