//! The small formats: an HDF5 file's superblock (its end-of-file address against the file's
//! length), and an XGBoost JSON model (the document parses and has a `learner`).

use std::collections::HashMap;
use std::io::{BufReader, Read};

use serde::de::IgnoredAny;

use super::src::Src;
use super::{FileReport, FormatError};

/// The HDF5 format signature.
const HDF5_MAGIC: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
/// The farthest offset a superblock is looked for at (after a user block: 512, 1024, …).
const MAX_USER_BLOCK: u64 = 1 << 20;

/// An HDF5 file: finds the superblock (at 0, 512, 1024, … bytes) and checks that its base
/// address plus its end-of-file address is not past the file's end.
pub(super) fn check_hdf5<R: Read>(s: &mut Src<R>) -> Result<FileReport, FormatError> {
    let mut at = 0u64;
    let mut sig = [0u8; 8];
    loop {
        s.exact(&mut sig, "the HDF5 signature")?;
        if &sig == HDF5_MAGIC {
            break;
        }
        let next = if at == 0 { 512 } else { at * 2 };
        if next > MAX_USER_BLOCK || next + 8 > s.len {
            return Err(FormatError::Corrupt(
                "no HDF5 superblock signature at byte 0, 512, 1024, … : not an HDF5 file".into(),
            ));
        }
        s.skip(next - s.pos, "an HDF5 user block")?;
        at = next;
    }
    let version = s.u8("the HDF5 superblock version")?;
    let (size_offsets, skip_before_base) = match version {
        0 | 1 => {
            let mut h = [0u8; 15];
            s.exact(&mut h, "the HDF5 superblock")?;
            // h[4] is the size of offsets; after the 15 bytes: K values and flags, then (v1)
            // 4 more bytes.
            (h[4], if version == 1 { 4 } else { 0 })
        }
        2 | 3 => {
            let mut h = [0u8; 3];
            s.exact(&mut h, "the HDF5 superblock")?;
            (h[0], 0)
        }
        v => {
            return Err(FormatError::Corrupt(format!(
                "HDF5 superblock version {v}: versions 0 to 3 exist"
            )))
        }
    };
    if !matches!(size_offsets, 2 | 4 | 8) {
        return Err(FormatError::Corrupt(format!(
            "the HDF5 superblock says addresses are {size_offsets} bytes; HDF5 uses 2, 4 or 8"
        )));
    }
    s.skip(skip_before_base, "the HDF5 superblock")?;
    let mut addr = || -> Result<u64, FormatError> {
        let mut b = [0u8; 8];
        let n = usize::from(size_offsets);
        s.exact(&mut b[..n], "an HDF5 superblock address")?;
        Ok(if b[..n].iter().all(|x| *x == 0xff) {
            u64::MAX
        } else {
            u64::from_le_bytes(b)
        })
    };
    // Base address, then (v0/1) free-space info or (v2/3) superblock extension, then EOF.
    let base = addr()?;
    let _ = addr()?;
    let eof = addr()?;
    let base = if base == u64::MAX { at } else { base };
    if eof != u64::MAX {
        let end = base.saturating_add(eof);
        if end > s.len {
            return Err(FormatError::Truncated {
                says: format!("the HDF5 superblock says the file ends at byte {end}"),
                found: format!("it has {} bytes", s.len),
            });
        }
    }
    Ok(FileReport::default())
}

/// A reader that counts what it hands out.
struct Count<R> {
    r: R,
    n: u64,
}

impl<R: Read> Read for Count<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.r.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// An XGBoost JSON model: parses (streamed; values are skipped, not kept) and has a
/// top-level `learner`.
pub(super) fn check_xgboost_json<R: Read>(s: &mut Src<R>) -> Result<FileReport, FormatError> {
    let len = s.len;
    // serde_json reads one byte at a time from its reader, so `Count` sees exactly where it
    // stopped: an error at the last byte is a document cut short.
    let mut r = Count {
        r: BufReader::new(&mut *s),
        n: 0,
    };
    let doc: Result<HashMap<String, IgnoredAny>, _> = serde_json::from_reader(&mut r);
    let at_end = r.n >= len;
    match doc {
        Err(e) if e.is_syntax() && at_end => Err(FormatError::Truncated {
            says: format!("the JSON document is still open at its last byte ({e})"),
            found: format!("the file ends at byte {len}"),
        }),
        Ok(m) if m.contains_key("learner") => Ok(FileReport::default()),
        Ok(_) => Err(FormatError::Corrupt(
            "the JSON document has no top-level `learner`: XGBoost cannot load it".into(),
        )),
        Err(e) if e.is_eof() => Err(FormatError::Truncated {
            says: "the JSON document is still open".into(),
            found: format!("the file ends at byte {len}"),
        }),
        Err(e) if e.is_io() => Err(FormatError::Io(std::io::Error::other(e.to_string()))),
        Err(e) => Err(FormatError::Corrupt(format!(
            "the XGBoost JSON model does not parse: {e}"
        ))),
    }
}
