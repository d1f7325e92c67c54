//! A streaming tar parser over 512-byte blocks: ustar, POSIX pax, GNU and v7 forms.
//!
//! It reads headers and hashes member data as it goes; it never writes anything. Every header
//! checksum is verified, numbers may be octal or GNU base-256 (negative or overflowing values are
//! errors, not wrap-arounds), pax `x`/`g` records and GNU `L`/`K` long names apply to the next
//! real header, and metadata blocks are size-capped so a hostile archive cannot make it
//! allocate without bound. After the end-of-archive marker (two zero blocks) only zero padding
//! may follow.

use std::collections::BTreeMap;
use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

use super::{ArchiveError, HeaderForm, Limits, Member, MemberKind};
use crate::layout::RawPath;

const BLOCK: usize = 512;

/// Reads exactly one block; `Ok(false)` at a clean EOF before any byte.
fn read_block(r: &mut dyn Read, buf: &mut [u8; BLOCK]) -> io::Result<bool> {
    let mut got = 0;
    while got < BLOCK {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    match got {
        0 => Ok(false),
        BLOCK => Ok(true),
        _ => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short block")),
    }
}

/// The unsigned header checksum: the sum of all bytes, the checksum field read as spaces.
pub(crate) fn header_checksum(hdr: &[u8]) -> u64 {
    hdr.iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(*b)
            }
        })
        .sum()
}

/// Zero padding accepted after the end-of-archive marker (GNU tar's records are 10 KiB; the
/// largest blocking factors give 1 MiB).
const MAX_ZERO_PADDING: u64 = 16 << 20;

/// The largest numeric value accepted anywhere (sizes and times are signed 64-bit).
const MAX_VALUE: u64 = i64::MAX as u64;

/// Parses a numeric header field: octal text, or GNU base-256 when the high bit is set.
fn parse_number(field: &[u8], name: &'static str, offset: u64) -> Result<u64, ArchiveError> {
    let bad = |reason: String| ArchiveError::BadNumber {
        offset,
        field: name,
        reason,
    };
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        if field[0] == 0xff {
            return Err(bad("negative base-256 value".into()));
        }
        // Sizes and times are signed 64-bit (off_t, time_t); a larger value cannot be real, and
        // padding a size near 2^64 to a block boundary would overflow.
        let too_big = || bad("base-256 value over 2^63-1".into());
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(b)))
                .filter(|v| *v <= MAX_VALUE)
                .ok_or_else(too_big)?;
        }
        return Ok(v);
    }
    let text: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| *b != 0 && *b != b' ')
        .collect();
    if text.is_empty() {
        return Ok(0);
    }
    let s = std::str::from_utf8(&text).map_err(|_| bad("not ASCII octal".into()))?;
    u64::from_str_radix(s, 8).map_err(|_| bad(format!("`{s}` is not octal")))
}

fn cstr(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    &field[..end]
}

/// Pending extended attributes for the next real header.
#[derive(Default)]
struct Pending {
    pax: BTreeMap<String, Vec<u8>>,
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
}

/// Parses pax records `"<len> <key>=<value>\n"`.
fn parse_pax(data: &[u8], offset: u64) -> Result<BTreeMap<String, Vec<u8>>, ArchiveError> {
    let mut out = BTreeMap::new();
    let mut rest = data;
    let bad = |reason: &str| ArchiveError::PaxRecord {
        offset,
        reason: reason.to_owned(),
    };
    while !rest.is_empty() {
        if rest.iter().all(|b| *b == 0) {
            break;
        }
        let sp = rest
            .iter()
            .position(|b| *b == b' ')
            .ok_or_else(|| bad("a record has no length"))?;
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("a record length is not a decimal number"))?;
        if len <= sp + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(bad("a record length does not match its text"));
        }
        let rec = &rest[sp + 1..len - 1];
        let eq = rec
            .iter()
            .position(|b| *b == b'=')
            .ok_or_else(|| bad("a record has no `=`"))?;
        let key = String::from_utf8_lossy(&rec[..eq]).into_owned();
        out.insert(key, rec[eq + 1..].to_vec());
        rest = &rest[len..];
    }
    Ok(out)
}

fn pax_u64(
    pax: &BTreeMap<String, Vec<u8>>,
    key: &'static str,
    offset: u64,
) -> Result<Option<u64>, ArchiveError> {
    match pax.get(key) {
        None => Ok(None),
        Some(v) => std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|v| *v <= MAX_VALUE)
            .map(Some)
            .ok_or_else(|| ArchiveError::PaxRecord {
                offset,
                reason: format!(
                    "`{key}={}` is not an integer from 0 to 2^63-1",
                    String::from_utf8_lossy(v)
                ),
            }),
    }
}

/// Where a regular member's data goes besides the hash: given the member's index, a file to
/// copy it into, or `None` to only hash it (`unpack` uses this; `inspect` never extracts).
pub(crate) type DataSink<'s> = &'s mut dyn FnMut(u64) -> io::Result<Option<std::fs::File>>;

/// Streams members out of a tar byte stream.
pub(crate) struct TarParser<'a> {
    r: &'a mut dyn Read,
    limits: Limits,
    /// Members returned so far.
    count: u64,
    sink: Option<DataSink<'a>>,
    /// Uncompressed offset of the next block.
    pub offset: u64,
    global: BTreeMap<String, Vec<u8>>,
    done: bool,
    buf: Vec<u8>,
}

impl<'a> TarParser<'a> {
    pub(crate) fn new(r: &'a mut dyn Read, limits: Limits) -> Self {
        TarParser {
            r,
            limits,
            offset: 0,
            count: 0,
            sink: None,
            global: BTreeMap::new(),
            done: false,
            buf: vec![0u8; 128 * 1024],
        }
    }

    /// Also copies each regular member's data to the file `sink` opens for it.
    pub(crate) fn with_sink(mut self, sink: DataSink<'a>) -> Self {
        self.sink = Some(sink);
        self
    }

    fn truncated(&self, path: Option<&[u8]>) -> ArchiveError {
        ArchiveError::TarTruncated {
            offset: self.offset,
            member: path.map(RawPath::from),
        }
    }

    fn block(&mut self, buf: &mut [u8; BLOCK], path: Option<&[u8]>) -> Result<bool, ArchiveError> {
        match read_block(self.r, buf) {
            Ok(true) => {
                self.offset += BLOCK as u64;
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(self.truncated(path)),
            Err(e) => Err(ArchiveError::from_io(e)),
        }
    }

    /// Reads `size` data bytes plus padding, hashing them if `hash`.
    fn data(
        &mut self,
        size: u64,
        hash: bool,
        path: &[u8],
    ) -> Result<Option<[u8; 32]>, ArchiveError> {
        let mut h = hash.then(Sha256::new);
        let mut out = match (&mut self.sink, hash) {
            (Some(open), true) => open(self.count).map_err(ArchiveError::Io)?,
            _ => None,
        };
        let padded = size.div_ceil(BLOCK as u64) * BLOCK as u64;
        let mut left = padded;
        while left > 0 {
            let want = left.min(self.buf.len() as u64) as usize;
            let n = match self.r.read(&mut self.buf[..want]) {
                Ok(0) => return Err(self.truncated(Some(path))),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(self.truncated(Some(path)))
                }
                Err(e) => return Err(ArchiveError::from_io(e)),
            };
            if let Some(h) = h.as_mut() {
                let consumed = padded - left;
                let real = size.saturating_sub(consumed).min(n as u64) as usize;
                h.update(&self.buf[..real]);
                if let Some(f) = out.as_mut() {
                    use std::io::Write;
                    f.write_all(&self.buf[..real]).map_err(ArchiveError::Io)?;
                }
            }
            left -= n as u64;
            self.offset += n as u64;
        }
        Ok(h.map(|h| h.finalize().into()))
    }

    /// Reads a metadata block's data (pax or long name) into memory, capped.
    fn meta_data(&mut self, size: u64, what: &'static str) -> Result<Vec<u8>, ArchiveError> {
        if size > self.limits.max_metadata {
            return Err(ArchiveError::MetadataTooLarge {
                offset: self.offset,
                what,
                size,
                limit: self.limits.max_metadata,
            });
        }
        let padded = (size as usize).div_ceil(BLOCK) * BLOCK;
        let mut v = vec![0u8; padded];
        let mut got = 0;
        while got < padded {
            match self.r.read(&mut v[got..]) {
                Ok(0) => return Err(self.truncated(None)),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(self.truncated(None))
                }
                Err(e) => return Err(ArchiveError::from_io(e)),
            }
        }
        self.offset += padded as u64;
        v.truncate(size as usize);
        Ok(v)
    }

    /// The next member, or `None` after the end-of-archive marker and its padding.
    pub(crate) fn next_member(&mut self) -> Result<Option<Member>, ArchiveError> {
        if self.done {
            return Ok(None);
        }
        let mut pending = Pending::default();
        let mut hdr = [0u8; BLOCK];
        loop {
            let header_offset = self.offset;
            if !self.block(&mut hdr, None)? {
                return Err(ArchiveError::MissingEndMarker {
                    offset: self.offset,
                    zero_blocks: 0,
                });
            }
            if hdr.iter().all(|b| *b == 0) {
                if !self
                    .block(&mut hdr, None)
                    .map_err(|_| ArchiveError::MissingEndMarker {
                        offset: self.offset,
                        zero_blocks: 1,
                    })?
                {
                    return Err(ArchiveError::MissingEndMarker {
                        offset: self.offset,
                        zero_blocks: 1,
                    });
                }
                if !hdr.iter().all(|b| *b == 0) {
                    return Err(ArchiveError::MissingEndMarker {
                        offset: header_offset,
                        zero_blocks: 1,
                    });
                }
                self.finish()?;
                return Ok(None);
            }
            // Checksum: sum of all bytes with the checksum field read as spaces.
            // A checksum field that is not a number means "not a tar header" just as a wrong
            // sum does (a nested gzip, random bytes), so it is a checksum error too.
            let stored = parse_number(&hdr[148..156], "chksum", header_offset).ok();
            let unsigned = header_checksum(&hdr);
            let signed: i64 = hdr
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    if (148..156).contains(&i) {
                        32
                    } else {
                        i64::from(*b as i8)
                    }
                })
                .sum();
            if stored != Some(unsigned) && stored.map(|s| s as i64) != Some(signed) {
                return Err(ArchiveError::HeaderChecksum {
                    offset: header_offset,
                    expected: stored,
                    found: unsigned,
                });
            }
            let typeflag = hdr[156];
            let magic = &hdr[257..265];
            let form = if magic == b"ustar  \0" {
                HeaderForm::Gnu
            } else if &magic[..6] == b"ustar\0" {
                HeaderForm::Ustar
            } else {
                HeaderForm::V7
            };
            let mut size = parse_number(&hdr[124..136], "size", header_offset)?;
            match typeflag {
                b'x' | b'g' => {
                    let data = self.meta_data(size, "pax header")?;
                    let recs = parse_pax(&data, header_offset)?;
                    if typeflag == b'g' {
                        self.global.extend(recs);
                    } else {
                        pending.pax.extend(recs);
                    }
                    continue;
                }
                b'L' | b'K' => {
                    let data = self.meta_data(size, "GNU long name")?;
                    let name = cstr(&data).to_vec();
                    if typeflag == b'L' {
                        pending.long_name = Some(name);
                    } else {
                        pending.long_link = Some(name);
                    }
                    continue;
                }
                _ => {}
            }
            // A real header: apply global, then per-member pax, then GNU long names.
            let mut pax = self.global.clone();
            pax.extend(std::mem::take(&mut pending.pax));
            let mut name = cstr(&hdr[0..100]).to_vec();
            if form == HeaderForm::Ustar {
                let prefix = cstr(&hdr[345..500]);
                if !prefix.is_empty() {
                    let mut full = prefix.to_vec();
                    full.push(b'/');
                    full.extend_from_slice(&name);
                    name = full;
                }
            }
            let mut link = cstr(&hdr[157..257]).to_vec();
            let mut used_form = form;
            if let Some(n) = pending.long_name.take() {
                name = n;
                used_form = HeaderForm::GnuLongName;
            }
            if let Some(l) = pending.long_link.take() {
                link = l;
                used_form = HeaderForm::GnuLongName;
            }
            if let Some(p) = pax.get("path") {
                name = p.clone();
                used_form = HeaderForm::Pax;
            }
            if let Some(l) = pax.get("linkpath") {
                link = l.clone();
                used_form = HeaderForm::Pax;
            }
            if !pax.is_empty() {
                used_form = HeaderForm::Pax;
            }
            if let Some(s) = pax_u64(&pax, "size", header_offset)? {
                size = s;
            }
            let mut uid = parse_number(&hdr[108..116], "uid", header_offset)?;
            let mut gid = parse_number(&hdr[116..124], "gid", header_offset)?;
            if let Some(v) = pax_u64(&pax, "uid", header_offset)? {
                uid = v;
            }
            if let Some(v) = pax_u64(&pax, "gid", header_offset)? {
                gid = v;
            }
            let mode = parse_number(&hdr[100..108], "mode", header_offset)? as u32;
            let mut mtime = parse_number(&hdr[136..148], "mtime", header_offset)? as i64;
            if let Some(v) = pax.get("mtime") {
                let s = String::from_utf8_lossy(v);
                mtime = s
                    .split('.')
                    .next()
                    .and_then(|i| i.parse::<i64>().ok())
                    .ok_or_else(|| ArchiveError::PaxRecord {
                        offset: header_offset,
                        reason: format!("`mtime={s}` is not a number"),
                    })?;
            }
            let kind = match typeflag {
                b'0' | 0 | b'7' => MemberKind::File,
                b'1' => MemberKind::Hardlink,
                b'2' => MemberKind::Symlink,
                b'3' => MemberKind::CharDevice,
                b'4' => MemberKind::BlockDevice,
                b'5' => MemberKind::Dir,
                b'6' => MemberKind::Fifo,
                other => MemberKind::Other(other),
            };
            // v7 tar marks directories with a trailing slash on a regular type.
            let kind = if kind == MemberKind::File && name.ends_with(b"/") {
                MemberKind::Dir
            } else {
                kind
            };
            // Data follows regular files, and any other type whose header says it has a size
            // (hard links and directories normally have 0).
            // Old GNU sparse: the sparse map may continue in extension blocks that sit between
            // the header and the data and are not counted in `size`.
            if typeflag == b'S' && form == HeaderForm::Gnu && hdr[482] != 0 {
                self.sparse_extensions(header_offset, &name)?;
            }
            let hash = kind == MemberKind::File;
            let sha256 = self.data(size, hash, &name)?;
            self.count += 1;
            let path = super::normalize_name(&name);
            return Ok(Some(Member {
                path,
                raw_name: RawPath::new(name),
                kind,
                mode: mode & 0o7777,
                uid,
                gid,
                mtime,
                size: if hash { size } else { 0 },
                sha256,
                link_target: (matches!(kind, MemberKind::Symlink | MemberKind::Hardlink))
                    .then(|| RawPath::new(link)),
                device: match kind {
                    MemberKind::CharDevice | MemberKind::BlockDevice => {
                        let n = |r: std::ops::Range<usize>| {
                            parse_number(&hdr[r], "devmajor", header_offset)
                                .ok()
                                .and_then(|v| u32::try_from(v).ok())
                        };
                        n(329..337).zip(n(337..345))
                    }
                    _ => None,
                },
                form: used_form,
                offset: header_offset,
            }));
        }
    }

    /// Skips old-GNU sparse extension blocks (each ends with an `isextended` byte at 504).
    fn sparse_extensions(&mut self, header_offset: u64, name: &[u8]) -> Result<(), ArchiveError> {
        let mut ext = [0u8; BLOCK];
        let mut size = 0u64;
        loop {
            if !self.block(&mut ext, Some(name))? {
                return Err(self.truncated(Some(name)));
            }
            size += BLOCK as u64;
            if size > self.limits.max_metadata {
                return Err(ArchiveError::MetadataTooLarge {
                    offset: header_offset,
                    what: "GNU sparse map",
                    size,
                    limit: self.limits.max_metadata,
                });
            }
            if ext[504] == 0 {
                return Ok(());
            }
        }
    }

    /// After the end marker: only zero padding may follow.
    fn finish(&mut self) -> Result<(), ArchiveError> {
        self.done = true;
        let end = self.offset;
        loop {
            // Records pad with zeros to at most a few hundred KiB; an endless stream of zeros
            // (`/dev/zero` through a pipe, a zero bomb) must not be read forever.
            if self.offset - end > MAX_ZERO_PADDING {
                return Err(ArchiveError::TrailingGarbage {
                    offset: end,
                    len: self.offset - end,
                    after:
                        "the tar end-of-archive marker (zero padding longer than any tar record)",
                });
            }
            let n = match self.r.read(&mut self.buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ArchiveError::from_io(e)),
            };
            if let Some(pos) = self.buf[..n].iter().position(|b| *b != 0) {
                return Err(ArchiveError::TrailingGarbage {
                    offset: self.offset + pos as u64,
                    len: (n - pos) as u64,
                    after: "the tar end-of-archive marker",
                });
            }
            self.offset += n as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_octal_and_base256_and_reject_negatives() {
        assert_eq!(parse_number(b"0000644\0", "mode", 0).unwrap(), 0o644);
        assert_eq!(parse_number(b"   17 \0", "mode", 0).unwrap(), 0o17);
        let mut big = [0u8; 12];
        big[0] = 0x80;
        big[11] = 5;
        big[10] = 1;
        assert_eq!(parse_number(&big, "size", 0).unwrap(), 261);
        let mut neg = [0xffu8; 12];
        neg[11] = 0xfe;
        assert!(matches!(
            parse_number(&neg, "size", 0),
            Err(ArchiveError::BadNumber { .. })
        ));
        assert!(matches!(
            parse_number(b"12x4", "size", 0),
            Err(ArchiveError::BadNumber { .. })
        ));
    }

    #[test]
    fn pax_records_parse_and_reject_lies() {
        let recs = parse_pax(b"12 path=abc\n", 0).unwrap();
        assert_eq!(recs["path"], b"abc");
        assert!(parse_pax(b"99 path=abc\n", 0).is_err());
        assert!(parse_pax(b"x path=abc\n", 0).is_err());
    }
}
