//! Zip (PyTorch `torch.save`, `.keras`), read **sequentially**: each local file header, its
//! data (inflated if deflated) with its CRC-32 checked, its data descriptor, then the central
//! directory, whose every record must match the local one it names (name, CRC, sizes,
//! offset), then the end-of-central-directory record (zip64 too), whose counts and offset
//! must match. A zip reader needs the central directory, so a zip that ends before it is
//! truncated.
//!
//! Why sequential and not the central directory first: `check --archive` reads a tar member
//! as it streams by and cannot seek back; the local headers carry the same facts, so one pass
//! checks everything the central directory would, with memory bounded by the entry count
//! ([`MAX_ZIP_ENTRIES`]) and names (16 MiB), never by the data. The one layout this cannot
//! walk is a *stored* entry with a data descriptor and no sizes in its local header (its end
//! is found only through the central directory): neither `torch.save` nor Python's `zipfile`
//! on a regular file writes it; the report then says what was not verified.
//!
//! Entries whose name ends in `.pkl` (PyTorch's `archive/data.pkl`) are walked by the pickle
//! walker as they inflate; a PyTorch layout (`*/version`, `*/data/N`) without a `*/data.pkl`
//! is corrupt.

use std::io::{self, BufRead, BufReader, Read};

use super::pickle::{self, PickleLimits};
use super::src::Src;
use super::{FileReport, FormatError};

/// The most entries a zip may have.
pub const MAX_ZIP_ENTRIES: usize = 200_000;
/// The most name bytes kept over all entries.
const MAX_NAME_BYTES: usize = 16 << 20;

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const DESCRIPTOR: u32 = 0x0807_4b50;
const EOCD: u32 = 0x0605_4b50;
const EOCD64: u32 = 0x0606_4b50;
const LOCATOR64: u32 = 0x0706_4b50;

/// One local entry, as the central directory must repeat it.
struct Ent {
    name: Vec<u8>,
    crc: u32,
    csize: u64,
    usize: u64,
    offset: u64,
}

/// A [`Src`] over a buffered reader, as a `BufRead` that counts what it hands out and never
/// goes past the source's length.
struct Counted<'a, R>(&'a mut Src<R>);

impl<R: BufRead> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let left = self.0.left();
        let b = self.0.inner().fill_buf()?;
        let n = (b.len() as u64).min(left) as usize;
        Ok(&b[..n])
    }
    fn consume(&mut self, n: usize) {
        self.0.inner().consume(n);
        self.0.advanced(n as u64);
    }
}

/// A reader that CRCs and counts what passes through.
struct Crc<R> {
    r: R,
    h: crc32fast::Hasher,
    n: u64,
}

impl<R: Read> Read for Crc<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.r.read(buf)?;
        self.h.update(&buf[..n]);
        self.n += n as u64;
        Ok(n)
    }
}

/// Checks a zip (see the module doc).
pub(super) fn check<R: Read>(outer: &mut Src<R>) -> Result<FileReport, FormatError> {
    let left = outer.left();
    let mut z = Src::new(BufReader::with_capacity(64 << 10, outer.inner()), left);
    let mut w = Walk {
        ents: Vec::new(),
        name_bytes: 0,
        report: FileReport::default(),
    };
    let r = w.run(&mut z);
    let used = z.pos;
    outer.advanced(used);
    r?;
    w.torch_layout()?;
    Ok(w.report)
}

/// The walk's state.
struct Walk {
    ents: Vec<Ent>,
    name_bytes: usize,
    report: FileReport,
}

/// Reads a record's variable part, bounded by the u16 it was given in.
fn var<R: Read>(z: &mut Src<R>, n: u16, what: &str) -> Result<Vec<u8>, FormatError> {
    z.read_vec(u64::from(n), 1 << 16, what)
}

/// The zip64 extended-information values for the fields that were `0xFFFFFFFF`.
fn zip64(extra: &[u8], wanted: &mut [&mut u64]) {
    let mut i = 0;
    while i + 4 <= extra.len() {
        let id = u16::from_le_bytes([extra[i], extra[i + 1]]);
        let size = usize::from(u16::from_le_bytes([extra[i + 2], extra[i + 3]]));
        let body = extra
            .get(i + 4..(i + 4 + size).min(extra.len()))
            .unwrap_or(&[]);
        if id == 1 {
            let mut at = 0;
            for v in wanted.iter_mut() {
                if **v == 0xFFFF_FFFF {
                    if let Some(b) = body.get(at..at + 8) {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(b);
                        **v = u64::from_le_bytes(a);
                    }
                    at += 8;
                }
            }
        }
        i += 4 + size;
    }
}

/// True when an extra field holds a zip64 extended-information block.
fn has_zip64(extra: &[u8]) -> bool {
    let mut i = 0;
    while i + 4 <= extra.len() {
        if extra[i] == 1 && extra[i + 1] == 0 {
            return true;
        }
        i += 4 + usize::from(u16::from_le_bytes([extra[i + 2], extra[i + 3]]));
    }
    false
}

impl Walk {
    fn run<R: BufRead>(&mut self, z: &mut Src<R>) -> Result<(), FormatError> {
        let mut sig = z.u32("a zip record signature")?;
        while sig == LOCAL {
            if !self.local(z)? {
                return Ok(());
            }
            sig = z.u32("the next zip record (the central directory must follow)")?;
        }
        let cd_start = z.pos - 4;
        let mut i = 0;
        while sig == CENTRAL {
            self.central(z, i)?;
            i += 1;
            sig = z.u32("the next central directory record")?;
        }
        if i != self.ents.len() {
            return Err(FormatError::Corrupt(format!(
                "the central directory lists {i} entries, but {} local entries precede it",
                self.ents.len()
            )));
        }
        if sig == EOCD64 {
            let n = z.u64("the zip64 end record's size")?;
            z.skip(n, "the zip64 end record")?;
            sig = z.u32("the zip64 end locator")?;
            if sig == LOCATOR64 {
                z.skip(16, "the zip64 end locator")?;
                sig = z.u32("the end of central directory record")?;
            }
        }
        if sig != EOCD {
            return Err(FormatError::Corrupt(format!(
                "byte {} holds 0x{sig:08x} where a zip record signature should be: the zip is damaged",
                z.pos - 4
            )));
        }
        self.eocd(z, cd_start)
    }

    /// One local entry and its data. False when the walk cannot go on (see the module doc).
    fn local<R: BufRead>(&mut self, z: &mut Src<R>) -> Result<bool, FormatError> {
        let offset = z.pos - 4;
        let mut h = [0u8; 26];
        z.exact(&mut h, "a zip local file header")?;
        let u16at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let u32at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let (flags, method, crc) = (u16at(2), u16at(4), u32at(10));
        let (mut csize, mut usize) = (u64::from(u32at(14)), u64::from(u32at(18)));
        let name = var(z, u16at(22), "a zip entry name")?;
        let extra = var(z, u16at(24), "a zip entry's extra field")?;
        zip64(&extra, &mut [&mut usize, &mut csize]);
        if self.ents.len() >= MAX_ZIP_ENTRIES || self.name_bytes + name.len() > MAX_NAME_BYTES {
            return Err(FormatError::Corrupt(format!(
                "the zip has more than {MAX_ZIP_ENTRIES} entries (or 16 MiB of names), the reader's bound"
            )));
        }
        let descriptor = flags & 8 != 0;
        if descriptor && method == 0 && csize == 0 {
            self.report.unverified.push(format!(
                "zip from byte {offset}: a stored entry with a data descriptor ends only where the central directory says"
            ));
            return Ok(false);
        }
        let label = String::from_utf8_lossy(&name).into_owned();
        let (got_crc, got_usize, used) = self.data(z, &label, method, descriptor, csize, usize)?;
        let (crc, csize, usize) = if descriptor {
            self.descriptor(z, &label, &extra)?
        } else {
            (crc, csize, usize)
        };
        if used != csize || got_usize != usize {
            return Err(FormatError::Corrupt(format!(
                "zip entry `{label}`: its header says {csize} bytes stored, {usize} bytes unpacked; its data is {used} stored, {got_usize} unpacked"
            )));
        }
        if got_crc != crc {
            return Err(FormatError::Corrupt(format!(
                "zip entry `{label}`: CRC-32 mismatch (header 0x{crc:08x}, data 0x{got_crc:08x}): the bytes changed after they were written"
            )));
        }
        self.name_bytes += name.len();
        self.ents.push(Ent {
            name,
            crc,
            csize,
            usize,
            offset,
        });
        Ok(true)
    }

    /// Reads an entry's data: (CRC, unpacked bytes, stored bytes). `.pkl` entries are walked.
    fn data<R: BufRead>(
        &mut self,
        z: &mut Src<R>,
        label: &str,
        method: u16,
        descriptor: bool,
        csize: u64,
        usize: u64,
    ) -> Result<(u32, u64, u64), FormatError> {
        let start = z.pos;
        if !descriptor {
            z.need(csize, &format!("zip entry `{label}`'s data"))?;
        }
        let limit = if descriptor { u64::MAX } else { csize };
        let stored = io::Read::take(Counted(z), limit);
        let body: Box<dyn Read + '_> = match method {
            0 => Box::new(stored),
            8 => Box::new(flate2::bufread::DeflateDecoder::new(stored)),
            m => {
                return Err(FormatError::Corrupt(format!(
                    "zip entry `{label}` uses compression method {m}; model zips use stored (0) or deflate (8)"
                )))
            }
        };
        let mut c = Crc {
            r: body,
            h: crc32fast::Hasher::new(),
            n: 0,
        };
        let mut pickle_err = None;
        if label.ends_with(".pkl") {
            let len = if descriptor { u64::MAX } else { usize };
            match pickle::scan_pickle(&mut c, len, PickleLimits::default()) {
                Ok(r) => self.report.imports.extend(r.imports),
                Err(e) => pickle_err = Some(e),
            }
        }
        let drained = io::copy(&mut c, &mut io::sink());
        let (crc, n) = (c.h.clone().finalize(), c.n);
        drop(c);
        let used = z.pos - start;
        if let Err(e) = drained {
            if z.left() == 0 {
                return Err(z.short(1, &format!("zip entry `{label}`'s data ({e})")));
            }
            return Err(FormatError::Corrupt(format!(
                "zip entry `{label}` does not inflate: {e}"
            )));
        }
        if !descriptor && used < csize {
            return Err(z.short(csize - used, &format!("zip entry `{label}`'s data")));
        }
        if let Some(e) = pickle_err {
            return Err(FormatError::Corrupt(format!("zip entry `{label}`: {e}")));
        }
        Ok((crc, n, used))
    }

    /// A data descriptor: (CRC, stored size, unpacked size).
    fn descriptor<R: BufRead>(
        &mut self,
        z: &mut Src<R>,
        label: &str,
        extra: &[u8],
    ) -> Result<(u32, u64, u64), FormatError> {
        let what = format!("zip entry `{label}`'s data descriptor");
        let mut crc = z.u32(&what)?;
        if crc == DESCRIPTOR {
            crc = z.u32(&what)?;
        }
        if has_zip64(extra) {
            Ok((crc, z.u64(&what)?, z.u64(&what)?))
        } else {
            Ok((crc, u64::from(z.u32(&what)?), u64::from(z.u32(&what)?)))
        }
    }
}

mod tail;
