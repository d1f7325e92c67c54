//! [`Damage`]: a model file cut short or with one byte flipped, as an async save that was not
//! awaited, a full disk or a bad copy leaves it; the writer that applies it as the content
//! streams out.

use std::io::{self, Write};

/// What is wrong with a damaged file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Damage {
    /// Only the first `n` bytes are there (TOML `cut_at = n`).
    Cut(u64),
    /// The byte at this offset is inverted (TOML `flip_at = n`).
    Flip(u64),
}

impl Damage {
    /// The damaged length of content `len` bytes long.
    pub fn len(self, len: u64) -> u64 {
        match self {
            Damage::Cut(n) => n.min(len),
            Damage::Flip(_) => len,
        }
    }
}

/// Applies a [`Damage`] to what is written through it.
pub(super) struct Damaging<'a> {
    pub(super) w: &'a mut dyn Write,
    pub(super) pos: u64,
    pub(super) damage: Damage,
}

impl Write for Damaging<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let start = self.pos;
        self.pos += buf.len() as u64;
        match self.damage {
            Damage::Cut(n) => {
                let keep = n.saturating_sub(start).min(buf.len() as u64) as usize;
                self.w.write_all(&buf[..keep])?;
            }
            Damage::Flip(at) if (start..self.pos).contains(&at) => {
                let mut v = buf.to_vec();
                v[(at - start) as usize] ^= 0xff;
                self.w.write_all(&v)?;
            }
            Damage::Flip(_) => self.w.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}
