//! What `--level N` means to the gzip writer: the per-block choice of encoding, made at every
//! level, and the LZ effort a level buys where LZ pays.
//!
//! Every block of 64 KiB or more is judged on a deterministic 16 KiB sample from its middle,
//! the same way at every level from 1 to 9:
//! - **Huffman-only** when the sample's byte entropy is above 7.9 bits, or when the fastest LZ
//!   buys less than 1% over Huffman-only on the sample (float weights: the gain is all in the
//!   exponent bytes). [`super::huffman`]'s encoder stores any 32 KiB piece that coding would
//!   expand (random or already-compressed data), so such a block is counted as stored;
//! - **fast LZ** (zlib-rs level 2) when it is within 1% of the level's own LZ on the sample;
//! - **the level's LZ** ([`lz_level`]) otherwise (text, JSON, code).
//!
//! The level only sets the LZ effort. zlib-rs levels are not zlib's: its level 1 is zlib-ng's
//! `deflate_quick`, which writes static Huffman codes only (1.43x the size of `gzip -1` on small
//! text files), and its levels 3-5 match less than zlib's. [`lz_level`] maps each pack level to
//! the cheapest zlib-rs level that is no larger than `gzip -N` (measured on the 20,000 text
//! files of `benches/compare.sh`). Level 0 stores every block. No timing is ever used.

use std::io;

use zlib_rs::{Deflate, DeflateConfig, DeflateFlush, Status};

/// Bytes of the previous input that prime each block's LZ window.
pub const DICT: usize = 32 * 1024;
/// Bytes of the sample that decides a block's encoding.
pub const SAMPLE: usize = 16 * 1024;
/// The zlib-rs level of fast LZ: zlib-ng's `deflate_fast` with zlib's level-1 parameters
/// (good 4, lazy 4, nice 8, chain 4) and dynamic Huffman codes.
pub const FAST_LZ: i32 = 2;
/// The highest pack level.
pub const MAX_LEVEL: u32 = 9;

/// How one block was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Stored (no compression).
    Stored,
    /// Huffman coding only, no LZ matching.
    Huffman,
    /// LZ at the fast level ([`FAST_LZ`]).
    Fast,
    /// LZ at the requested level's effort ([`lz_level`]).
    Normal,
}

/// The zlib-rs level that LZ blocks are coded at for pack level `level` (0 stores; above 9
/// counts as 9).
///
/// Sizes on the 20,000 4 KiB text files (92 MB of tar), zlib-rs level against `gzip -N`:
/// zlib-rs 2 is 0.97x `gzip -1` (zlib-rs 1 was 1.43x), zlib-rs 3 is 0.95x `gzip -2` (zlib-rs 2
/// would be 1.03x), zlib-rs 4 is 0.95x `gzip -3` (zlib-rs 3 would be 1.09x); from level 4 on,
/// zlib-rs level N is within 1% of `gzip -N` or smaller.
pub fn lz_level(level: u32) -> i32 {
    match level {
        0 => 0,
        1 => FAST_LZ,
        2 => 3,
        3 => 4,
        n => n.min(MAX_LEVEL) as i32,
    }
}

/// LZ at `level`'s effort, named as the writer's statistics count it.
fn lz_encoding(level: u32) -> Encoding {
    if lz_level(level) == FAST_LZ {
        Encoding::Fast
    } else {
        Encoding::Normal
    }
}

fn entropy_bits(data: &[u8]) -> f64 {
    let h = super::huffman::histogram(data);
    let n = data.len() as f64;
    h.iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Raw deflate of `data` at zlib-rs `level`, primed with `dict`, ended with a sync flush (or
/// the stream's end with `last`) so that blocks concatenate into one stream.
pub fn deflate_raw(data: &[u8], dict: &[u8], level: i32, last: bool) -> io::Result<Vec<u8>> {
    let mut d = Deflate::new_with_config(DeflateConfig {
        level,
        window_bits: -15,
        ..DeflateConfig::default()
    });
    if !dict.is_empty() && level > 0 {
        d.set_dictionary(dict)
            .map_err(|e| io::Error::other(format!("deflate dictionary: {}", e.as_str())))?;
    }
    let mut out = vec![0u8; zlib_rs::compress_bound(data.len()) + 64];
    let flush = if last {
        DeflateFlush::Finish
    } else {
        DeflateFlush::SyncFlush
    };
    let status = d
        .compress(data, &mut out, flush)
        .map_err(|e| io::Error::other(format!("deflate: {}", e.as_str())))?;
    let complete = if last {
        status == Status::StreamEnd
    } else {
        d.total_in() as usize == data.len()
    };
    if !complete {
        return Err(io::Error::other(
            "deflate did not finish the block in one call",
        ));
    }
    out.truncate(d.total_out() as usize);
    Ok(out)
}

/// The encoding for a block at pack `level`, chosen from the content only (see the module
/// documentation). `dict` is the input that precedes the block.
pub fn choose(data: &[u8], dict: &[u8], level: u32) -> Encoding {
    if level == 0 {
        return Encoding::Stored;
    }
    if data.len() < 4 * SAMPLE {
        // Sampling would cost about as much as coding the whole (short, often last) block.
        return lz_encoding(level);
    }
    // The sample: the block's middle (past any header), with its own preceding bytes as the
    // dictionary, exactly as the block will be coded.
    let start = (data.len() / 2).saturating_sub(SAMPLE / 2);
    let sample = &data[start..(start + SAMPLE).min(data.len())];
    if entropy_bits(sample) > 7.9 {
        return Encoding::Huffman;
    }
    let pre = if start > 0 {
        &data[start.saturating_sub(DICT)..start]
    } else {
        dict
    };
    let size = |lvl| deflate_raw(sample, pre, lvl, false).map_or(usize::MAX, |v| v.len());
    let huff = {
        let mut v = Vec::with_capacity(sample.len() + 64);
        super::huffman::deflate_huffman(sample, false, &mut v);
        v.len()
    };
    let fast = size(FAST_LZ);
    if fast as f64 >= huff as f64 * 0.99 {
        return Encoding::Huffman;
    }
    if lz_level(level) == FAST_LZ {
        return Encoding::Fast;
    }
    let normal = size(lz_level(level));
    if fast as f64 <= normal as f64 * 1.01 {
        Encoding::Fast
    } else {
        Encoding::Normal
    }
}
