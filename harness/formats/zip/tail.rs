//! The zip's tail: central directory records matched against the local entries, the end
//! record's counts and offset, and the PyTorch layout rule.

use std::io::BufRead;

use super::{var, zip64, Walk, EOCD};
use crate::formats::src::Src;
use crate::formats::FormatError;

impl Walk {
    /// Central directory record `i`, which must repeat local entry `i`.
    pub(super) fn central<R: BufRead>(
        &mut self,
        z: &mut Src<R>,
        i: usize,
    ) -> Result<(), FormatError> {
        let mut h = [0u8; 42];
        z.exact(&mut h, "a central directory record")?;
        let u16at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let u32at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let crc = u32at(12);
        let (mut csize, mut usize) = (u64::from(u32at(16)), u64::from(u32at(20)));
        let mut offset = u64::from(u32at(38));
        let name = var(z, u16at(24), "a central directory name")?;
        let extra = var(z, u16at(26), "a central directory extra field")?;
        var(z, u16at(28), "a central directory comment")?;
        zip64(&extra, &mut [&mut usize, &mut csize, &mut offset]);
        let Some(e) = self.ents.get(i) else {
            return Err(FormatError::Corrupt(format!(
                "the central directory names `{}`, which no local entry holds",
                String::from_utf8_lossy(&name)
            )));
        };
        let same = e.name == name
            && e.crc == crc
            && e.csize == csize
            && e.usize == usize
            && e.offset == offset;
        if !same {
            return Err(FormatError::Corrupt(format!(
                "central directory record {i} (`{}`, CRC 0x{crc:08x}, {csize}/{usize} bytes at {offset}) does not match local entry `{}` (CRC 0x{:08x}, {}/{} bytes at {})",
                String::from_utf8_lossy(&name),
                String::from_utf8_lossy(&e.name),
                e.crc,
                e.csize,
                e.usize,
                e.offset
            )));
        }
        Ok(())
    }

    /// The end of central directory record (its signature read).
    pub(super) fn eocd<R: BufRead>(
        &mut self,
        z: &mut Src<R>,
        cd_start: u64,
    ) -> Result<(), FormatError> {
        let at = z.pos - 4;
        let _ = EOCD;
        let mut h = [0u8; 18];
        z.exact(&mut h, "the end of central directory record")?;
        let total = u16::from_le_bytes([h[6], h[7]]);
        let offset = u32::from_le_bytes([h[12], h[13], h[14], h[15]]);
        let comment = u16::from_le_bytes([h[16], h[17]]);
        let n = self.ents.len();
        let count_ok = usize::from(total) == n || (total == 0xFFFF && n >= 0xFFFF);
        let offset_ok = u64::from(offset) == cd_start || offset == 0xFFFF_FFFF;
        if !count_ok || !offset_ok {
            return Err(FormatError::Corrupt(format!(
                "the end record at byte {at} says {total} entries with the central directory at byte {offset}; the zip has {n} entries and its central directory at byte {cd_start}"
            )));
        }
        z.skip(u64::from(comment), "the zip comment")?;
        if z.left() > 0 {
            self.report.unverified.push(format!(
                "{} bytes after the zip's end record: not read",
                z.left()
            ));
        }
        Ok(())
    }

    /// A PyTorch layout (`<dir>/version`, `<dir>/data/<n>`) must hold `<dir>/data.pkl`.
    pub(super) fn torch_layout(&self) -> Result<(), FormatError> {
        let torchy = self.ents.iter().find(|e| {
            let n = &e.name;
            n.ends_with(b"/version")
                || n.ends_with(b"/byteorder")
                || n.windows(6).any(|w| w == b"/data/")
        });
        let Some(e) = torchy else { return Ok(()) };
        let has_pkl = self.ents.iter().any(|e| {
            e.name.ends_with(b"/data.pkl") && e.name.iter().filter(|b| **b == b'/').count() == 1
        });
        if !has_pkl {
            return Err(FormatError::Corrupt(format!(
                "a PyTorch zip (it holds `{}`) without `<dir>/data.pkl`: torch.load has no object to load",
                String::from_utf8_lossy(&e.name)
            )));
        }
        Ok(())
    }
}
