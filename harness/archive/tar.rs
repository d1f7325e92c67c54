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

use super::error::{ArchiveError, GarbageAfter};
use super::header::{
    cstr, device_numbers, header_form, member_kind, parse_number, parse_pax, resolve_names,
    verify_checksum, Attrs, Pending, BLOCK,
};
use super::member::{normalize_name, HeaderForm, Member, MemberKind};
use super::{DataTap, Limits};
use crate::layout::RawPath;

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

/// Zero padding accepted after the end-of-archive marker (GNU tar's records are 10 KiB; the
/// largest blocking factors give 1 MiB).
const MAX_ZERO_PADDING: u64 = 16 << 20;

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
    tap: Option<&'a mut dyn DataTap>,
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
            tap: None,
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

    /// Also shows each regular member's data to `tap` as it streams by.
    pub(crate) fn with_tap(mut self, tap: &'a mut dyn DataTap) -> Self {
        self.tap = Some(tap);
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
        let mut tapping = match (&mut self.tap, hash) {
            (Some(t), true) => t.start(&normalize_name(path), size),
            _ => false,
        };
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
                if let (true, Some(t)) = (tapping, self.tap.as_mut()) {
                    tapping = t.data(&self.buf[..real]);
                }
            }
            left -= n as u64;
            self.offset += n as u64;
        }
        if let (true, Some(t)) = (tapping, self.tap.as_mut()) {
            t.end();
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
                self.end_marker(&mut hdr, header_offset)?;
                return Ok(None);
            }
            verify_checksum(&hdr, header_offset)?;
            let typeflag = hdr[156];
            let form = header_form(&hdr);
            let size = parse_number(&hdr[124..136], "size", header_offset)?;
            if self.metadata_entry(typeflag, size, header_offset, &mut pending)? {
                continue;
            }
            return self
                .real_member(&hdr, header_offset, form, size, pending)
                .map(Some);
        }
    }

    /// After a first zero block: the second one, then the padding; or the missing marker.
    fn end_marker(
        &mut self,
        hdr: &mut [u8; BLOCK],
        header_offset: u64,
    ) -> Result<(), ArchiveError> {
        if !self
            .block(hdr, None)
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
        self.finish()
    }

    /// Reads a pax (`x`, `g`) or GNU long-name (`L`, `K`) entry into `pending` (or the global
    /// records); `false` for any other type flag.
    fn metadata_entry(
        &mut self,
        typeflag: u8,
        size: u64,
        header_offset: u64,
        pending: &mut Pending,
    ) -> Result<bool, ArchiveError> {
        match typeflag {
            b'x' | b'g' => {
                let data = self.meta_data(size, "pax header")?;
                let recs = parse_pax(&data, header_offset)?;
                if typeflag == b'g' {
                    self.global.extend(recs);
                } else {
                    pending.pax.extend(recs);
                }
                Ok(true)
            }
            b'L' | b'K' => {
                let data = self.meta_data(size, "GNU long name")?;
                let name = cstr(&data).to_vec();
                if typeflag == b'L' {
                    pending.long_name = Some(name);
                } else {
                    pending.long_link = Some(name);
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// A real header: applies global, then per-member pax, then GNU long names, and reads the
    /// member's data.
    fn real_member(
        &mut self,
        hdr: &[u8; BLOCK],
        header_offset: u64,
        form: HeaderForm,
        size: u64,
        mut pending: Pending,
    ) -> Result<Member, ArchiveError> {
        let typeflag = hdr[156];
        let mut pax = self.global.clone();
        pax.extend(std::mem::take(&mut pending.pax));
        let names = resolve_names(hdr, form, &mut pending, &pax);
        let attrs = Attrs::read(hdr, header_offset, size, &pax)?;
        let kind = member_kind(typeflag, &names.name);
        // Data follows regular files, and any other type whose header says it has a size
        // (hard links and directories normally have 0).
        // Old GNU sparse: the sparse map may continue in extension blocks that sit between
        // the header and the data and are not counted in `size`.
        if typeflag == b'S' && form == HeaderForm::Gnu && hdr[482] != 0 {
            self.sparse_extensions(header_offset, &names.name)?;
        }
        let hash = kind == MemberKind::File;
        let sha256 = self.data(attrs.size, hash, &names.name)?;
        self.count += 1;
        let path = normalize_name(&names.name);
        Ok(Member {
            path,
            raw_name: RawPath::new(names.name),
            kind,
            mode: attrs.mode & 0o7777,
            uid: attrs.uid,
            gid: attrs.gid,
            mtime: attrs.mtime,
            size: if hash { attrs.size } else { 0 },
            sha256,
            link_target: (matches!(kind, MemberKind::Symlink | MemberKind::Hardlink))
                .then(|| RawPath::new(names.link)),
            device: device_numbers(hdr, kind, header_offset),
            form: names.form,
            offset: header_offset,
            uname: owner_name(hdr, form, &pax, "uname", 265),
            gname: owner_name(hdr, form, &pax, "gname", 297),
            pax,
        })
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
                    after: GarbageAfter::TarZeroPadding,
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
                    after: GarbageAfter::TarEndMarker,
                });
            }
            self.offset += n as u64;
        }
    }
}

/// The owner or group name: its pax record, else the 32-byte ustar/GNU field at `at` (v7
/// headers have none).
fn owner_name(
    hdr: &[u8; BLOCK],
    form: HeaderForm,
    pax: &BTreeMap<String, Vec<u8>>,
    key: &str,
    at: usize,
) -> Vec<u8> {
    if let Some(v) = pax.get(key) {
        return v.clone();
    }
    if form == HeaderForm::V7 {
        return Vec::new();
    }
    cstr(&hdr[at..at + 32]).to_vec()
}
