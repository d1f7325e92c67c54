//! Seeded byte streams: the [`Fill`] shapes, the SplitMix64 generator behind them, and
//! streaming `size` seeded bytes into a writer in 64 KiB chunks.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

/// The shape of seeded bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Fill {
    /// Uniform random bytes: incompressible.
    #[default]
    Random,
    /// All zeros: maximally compressible.
    Zeros,
    /// Little-endian float32 weights: random mantissas, realistic exponents.
    Floats,
    /// Word-like ASCII text with newlines.
    Text,
}

/// SplitMix64: tiny, fast, and good enough for test data.
#[derive(Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    /// A generator for `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed ^ 0x5851_f42d_4c95_7f2d)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The words text fills are made of.
pub(super) const WORDS: [&str; 16] = [
    "the",
    "model",
    "weights",
    "tensor",
    "layer",
    "epoch",
    "loss",
    "gradient",
    "token",
    "batch",
    "learning",
    "rate",
    "attention",
    "head",
    "bias",
    "norm",
];

/// Fills `buf` with the next bytes of a seeded stream.
struct Filler {
    rng: SplitMix,
    fill: Fill,
    /// Carry-over bytes for fills whose unit is larger than the buffer tail.
    pending: Vec<u8>,
}

impl Filler {
    fn new(seed: u64, fill: Fill) -> Self {
        Filler {
            rng: SplitMix::new(seed),
            fill,
            pending: Vec::new(),
        }
    }

    fn fill(&mut self, buf: &mut [u8]) {
        match self.fill {
            Fill::Zeros => buf.fill(0),
            Fill::Random => {
                for chunk in buf.chunks_mut(8) {
                    let v = self.rng.next_u64().to_le_bytes();
                    chunk.copy_from_slice(&v[..chunk.len()]);
                }
            }
            Fill::Floats => {
                // float32 with a random sign and mantissa and an exponent in [2^-12, 2^0):
                // the exponent byte is what gzip's Huffman coding can squeeze.
                for chunk in buf.chunks_mut(4) {
                    let r = self.rng.next_u64();
                    let mantissa = (r as u32) & 0x007f_ffff;
                    let exp = 115 + ((r >> 32) % 12) as u32;
                    let sign = ((r >> 40) as u32 & 1) << 31;
                    let v = (sign | (exp << 23) | mantissa).to_le_bytes();
                    chunk.copy_from_slice(&v[..chunk.len()]);
                }
            }
            Fill::Text => {
                let mut i = 0;
                while i < buf.len() {
                    if self.pending.is_empty() {
                        let r = self.rng.next_u64();
                        self.pending
                            .extend_from_slice(WORDS[(r % 16) as usize].as_bytes());
                        self.pending
                            .push(if (r >> 8) % 12 == 0 { b'\n' } else { b' ' });
                    }
                    let n = self.pending.len().min(buf.len() - i);
                    buf[i..i + n].copy_from_slice(&self.pending[..n]);
                    self.pending.drain(..n);
                    i += n;
                }
            }
        }
    }
}

/// Writes `size` seeded bytes to `w` in 64 KiB chunks.
pub(super) fn write_seeded(w: &mut dyn Write, seed: u64, size: u64, fill: Fill) -> io::Result<()> {
    let mut filler = Filler::new(seed, fill);
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = size;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        filler.fill(&mut buf[..n]);
        w.write_all(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}
