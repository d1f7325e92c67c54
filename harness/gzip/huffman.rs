//! A Huffman-only deflate encoder: RFC 1951 dynamic blocks that hold literals only.
//!
//! On float weights LZ matching buys almost nothing (under 0.3%): the whole gain is in Huffman
//! coding the skewed exponent bytes. zlib's Huffman-only strategy still pushes every byte
//! through its generic symbol buffer and rebuilds the trees every 16 K symbols; with zlib-rs
//! that measured about 100-150 MB/s per core, most of the reference packager's time. This
//! encoder codes straight from byte histograms: the input is cut into blocks (32-256 KiB, by
//! [`Effort`]), each with its own table built from the block's histogram or a sample of it, and
//! the literal loop writes as many codes per 64-bit store as the block's longest code allows,
//! with one bounds check per 60 input bytes.
//!
//! The trees are complete, length-limited (15 bits, 7 for the code-length code) and the
//! distance tree has two one-bit codes, as zlib writes them, so every inflater accepts the
//! output. A block that Huffman coding would expand is written as stored blocks.

use std::mem::MaybeUninit;

/// Bytes per deflate block, each with its own Huffman table.
pub const SEGMENT: usize = 32 * 1024;

const MAX_BITS: u8 = 15;
const MAX_BL_BITS: u8 = 7;
const EOB: usize = 256;
const LIT_CODES: usize = 257;
/// The permuted order in which the code-length code lengths are sent (RFC 1951 3.2.7).
const BL_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// An LSB-first bit sink over a byte vector.
struct Bits<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits<'_> {
    /// Appends the low `len` bits of `bits` (`len` at most 32).
    fn put(&mut self, bits: u32, len: u32) {
        self.acc |= (bits as u64) << self.n;
        self.n += len;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// Pads with zero bits to a byte boundary.
    fn align(&mut self) {
        if self.n > 0 {
            self.out.push(self.acc as u8);
            self.acc = 0;
            self.n = 0;
        }
    }

    /// Appends one packed code (`code | len << 16`) per byte of `data`, whose longest code is
    /// `max_len` bits. `total_bits` is the exact number of bits this appends, used to size the
    /// output once.
    fn put_literals(&mut self, data: &[u8], table: &[u32; 256], max_len: u32, total_bits: u64) {
        let pos = self.out.len();
        // Room for every bit plus one 8-byte store past the end, left uninitialised: zeroing
        // it first was about 2.5% of the samples in `perf` of a `pack` of float weights.
        let need = ((self.n as u64 + total_bits).div_ceil(8)) as usize + 8;
        self.out.reserve(need);
        let state = (self.acc, self.n, 0);
        let buf = &mut self.out.spare_capacity_mut()[..need];
        // After a spill fewer than 8 bits are pending, so K codes fit in the 64-bit
        // accumulator when 7 + K * max_len <= 64: 3 codes at 15 bits, 5 at the 10 bits
        // float weights need.
        let (acc, n, written) = match max_len {
            0..=9 => literals::<6>(buf, data, table, state),
            10..=11 => literals::<5>(buf, data, table, state),
            12..=14 => literals::<4>(buf, data, table, state),
            _ => literals::<3>(buf, data, table, state),
        };
        // SAFETY: `written <= need`, within the capacity reserved above, since every store is
        // inside `buf`; and every byte below `written` was initialised: each 8-byte store
        // starts at the write position, which then advances by at most the 8 bytes it stored.
        unsafe { self.out.set_len(pos + written) };
        self.acc = acc;
        self.n = n;
    }
}

/// The literal loop, `K` codes per 64-bit store; picks the BMI2 build (one-instruction
/// variable shifts) when the CPU has it. Returns the accumulator, its bit count and the
/// write position.
fn literals<const K: usize>(
    buf: &mut [MaybeUninit<u8>],
    data: &[u8],
    table: &[u32; 256],
    state: (u64, u32, usize),
) -> (u64, u32, usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("bmi2") {
            // SAFETY: the CPU has BMI2, checked on the line above.
            return unsafe { literals_bmi2::<K>(buf, data, table, state) };
        }
    }
    literals_body::<K>(buf, data, table, state)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2")]
unsafe fn literals_bmi2<const K: usize>(
    buf: &mut [MaybeUninit<u8>],
    data: &[u8],
    table: &[u32; 256],
    state: (u64, u32, usize),
) -> (u64, u32, usize) {
    literals_body::<K>(buf, data, table, state)
}

#[inline(always)]
fn literals_body<const K: usize>(
    buf: &mut [MaybeUninit<u8>],
    data: &[u8],
    table: &[u32; 256],
    (mut acc, mut n, mut pos): (u64, u32, usize),
) -> (u64, u32, usize) {
    // Input bytes per bounds check: a multiple of every K. A chunk writes at most
    // `CHUNK * 15 / 8` whole bytes plus one 8-byte store past them.
    const CHUNK: usize = 60;
    const ROOM: usize = CHUNK * 15 / 8 + 16;
    let mut i = 0;
    while i + CHUNK <= data.len() && pos + ROOM <= buf.len() {
        let out = buf[pos..pos + ROOM].as_mut_ptr();
        let mut off = 0usize;
        for c in data[i..i + CHUNK].chunks_exact(K) {
            // n < 8 here, plus K codes that the caller checked fit: at most 64.
            for &b in c {
                let e = table[b as usize];
                acc |= ((e & 0xffff) as u64) << n;
                n += e >> 16;
            }
            // SAFETY: `off` grows by at most `(7 + K * 15) / 8` per group, so over the
            // chunk it stays under `CHUNK * 15 / 8 + 1`, and `off + 8 <= ROOM`: the store is
            // inside the `ROOM` bytes of `buf` that `out` points to.
            unsafe { out.add(off).cast::<u64>().write_unaligned(acc.to_le()) };
            let bytes = n / 8;
            off += bytes as usize;
            acc >>= bytes * 8;
            n &= 7;
        }
        pos += off;
        i += CHUNK;
    }
    // The tail, near the end of the input or of the room: checked stores, one per code.
    for &b in &data[i..] {
        let e = table[b as usize];
        acc |= ((e & 0xffff) as u64) << n;
        n += e >> 16;
        for (slot, byte) in buf[pos..pos + 8].iter_mut().zip(acc.to_le_bytes()) {
            slot.write(byte);
        }
        let bytes = n / 8;
        pos += bytes as usize;
        acc >>= bytes * 8;
        n &= 7;
    }
    (acc, n, pos)
}

/// Optimal prefix-code lengths for `freq`, limited to `limit` bits. At least two symbols get a
/// code (zlib does the same), so the code is always complete.
pub fn code_lengths(freq: &[u32], limit: u8) -> Vec<u8> {
    let mut f: Vec<u64> = freq.iter().map(|&x| x as u64).collect();
    let mut used = f.iter().filter(|&&x| x > 0).count();
    for slot in f.iter_mut() {
        if used >= 2 {
            break;
        }
        if *slot == 0 {
            *slot = 1;
            used += 1;
        }
    }
    loop {
        let lens = huffman_lengths(&f);
        if lens.iter().all(|&l| l <= limit) {
            return lens;
        }
        // Flatten the distribution and rebuild: the tree gets shallower every round and is
        // balanced (depth <= 9 for 286 symbols) once all weights are 1.
        for x in f.iter_mut().filter(|x| **x > 0) {
            *x = (*x >> 1).max(1);
        }
    }
}

/// Unlimited Huffman code lengths by the two-queue method: leaves sorted by (weight, symbol),
/// internal nodes come out in non-decreasing weight order, so no heap is needed. Ties prefer
/// the leaf, which keeps the result deterministic and the tree shallow.
fn huffman_lengths(f: &[u64]) -> Vec<u8> {
    // (weight, symbol) packed into one key, weight above the symbol's bits: sorting the keys
    // sorts by weight, then symbol, and is several times faster than sorting pairs.
    let shift = usize::BITS - f.len().leading_zeros();
    let mut leaves: Vec<u64> = f
        .iter()
        .enumerate()
        .filter(|(_, &w)| w > 0)
        .map(|(i, &w)| w << shift | i as u64)
        .collect();
    debug_assert!(f.iter().all(|&w| w.leading_zeros() >= shift));
    leaves.sort_unstable();
    let mask = (1u64 << shift) - 1;
    let leaves: Vec<(u64, usize)> = leaves
        .into_iter()
        .map(|k| (k >> shift, (k & mask) as usize))
        .collect();
    let n = leaves.len();
    let mut lens = vec![0u8; f.len()];
    if n < 2 {
        for &(_, s) in &leaves {
            lens[s] = 1;
        }
        return lens;
    }
    // Node ids: leaves 0..n (in sorted order), internal nodes n.. in creation order.
    let mut weight: Vec<u64> = leaves.iter().map(|&(w, _)| w).collect();
    weight.reserve(n - 1);
    let mut parent = vec![usize::MAX; 2 * n - 1];
    let (mut leaf, mut internal) = (0usize, n);
    for next in n..2 * n - 1 {
        let mut pick = || {
            let take_leaf = leaf < n && (internal >= next || weight[leaf] <= weight[internal]);
            if take_leaf {
                leaf += 1;
                leaf - 1
            } else {
                internal += 1;
                internal - 1
            }
        };
        let (a, b) = (pick(), pick());
        parent[a] = next;
        parent[b] = next;
        weight.push(weight[a] + weight[b]);
    }
    // A parent always has a higher id: resolve depths from the root down.
    let mut depth = vec![0u8; 2 * n - 1];
    for i in (0..2 * n - 2).rev() {
        depth[i] = depth[parent[i]].saturating_add(1);
    }
    for (k, &(_, s)) in leaves.iter().enumerate() {
        lens[s] = depth[k];
    }
    lens
}

/// Canonical codes for `lens` (RFC 1951 3.2.2), bit-reversed for LSB-first output.
fn canonical_codes(lens: &[u8]) -> Vec<u32> {
    let mut bl_count = [0u32; 16];
    for &l in lens {
        bl_count[l as usize] += 1;
    }
    bl_count[0] = 0;
    let mut next = [0u32; 16];
    let mut code = 0u32;
    for bits in 1..16 {
        code = (code + bl_count[bits - 1]) << 1;
        next[bits] = code;
    }
    lens.iter()
        .map(|&l| {
            if l == 0 {
                return 0;
            }
            let c = next[l as usize];
            next[l as usize] += 1;
            c.reverse_bits() >> (32 - l as u32)
        })
        .collect()
}

/// Run-length codes of a code-length sequence: (symbol 0-18, extra value, extra bits).
fn rle(lens: &[u8], out: &mut Vec<(u8, u8, u8)>) {
    let mut i = 0;
    while i < lens.len() {
        let l = lens[i];
        let mut run = 1;
        while i + run < lens.len() && lens[i + run] == l {
            run += 1;
        }
        i += run;
        if l == 0 {
            let mut r = run;
            while r >= 11 {
                let k = r.min(138);
                out.push((18, (k - 11) as u8, 7));
                r -= k;
            }
            if r >= 3 {
                out.push((17, (r - 3) as u8, 3));
                r = 0;
            }
            out.extend(std::iter::repeat_n((0, 0, 0), r));
        } else {
            out.push((l, 0, 0));
            let mut r = run - 1;
            while r >= 3 {
                let k = r.min(6);
                out.push((16, (k - 3) as u8, 2));
                r -= k;
            }
            out.extend(std::iter::repeat_n((l, 0, 0), r));
        }
    }
}

/// Everything needed to write one dynamic block, and its exact size.
struct Plan {
    table: [u32; 256],
    eob: (u32, u32),
    rle: Vec<(u8, u8, u8)>,
    bl_lens: Vec<u8>,
    bl_codes: Vec<u32>,
    hclen: usize,
    header_bits: u64,
    literal_bits: u64,
    /// The longest literal code in bits.
    max_len: u32,
    /// Whether the histogram was the data's own (else `literal_bits` is an estimate).
    exact: bool,
}

impl Plan {
    fn new(hist: &[u32; 256]) -> Plan {
        let mut freq = [0u32; LIT_CODES];
        freq[..256].copy_from_slice(hist);
        freq[EOB] = 1;
        let lit_lens = code_lengths(&freq, MAX_BITS);
        let lit_codes = canonical_codes(&lit_lens);
        let mut table = [0u32; 256];
        let mut literal_bits = lit_lens[EOB] as u64;
        for s in 0..256 {
            table[s] = lit_codes[s] | (lit_lens[s] as u32) << 16;
            literal_bits += hist[s] as u64 * lit_lens[s] as u64;
        }
        // Two one-bit distance codes, never used, as zlib sends for literal-only blocks.
        let mut rle_syms = Vec::with_capacity(64);
        rle(&lit_lens, &mut rle_syms);
        rle(&[1, 1], &mut rle_syms);
        let mut bl_freq = [0u32; 19];
        for &(s, _, _) in &rle_syms {
            bl_freq[s as usize] += 1;
        }
        let bl_lens = code_lengths(&bl_freq, MAX_BL_BITS);
        let bl_codes = canonical_codes(&bl_lens);
        let hclen = BL_ORDER
            .iter()
            .rposition(|&s| bl_lens[s] > 0)
            .map_or(4, |p| (p + 1).max(4));
        let mut header_bits = 3 + 5 + 5 + 4 + 3 * hclen as u64;
        for &(s, _, extra) in &rle_syms {
            header_bits += bl_lens[s as usize] as u64 + extra as u64;
        }
        Plan {
            table,
            eob: (lit_codes[EOB], lit_lens[EOB] as u32),
            rle: rle_syms,
            bl_lens,
            bl_codes,
            hclen,
            header_bits,
            literal_bits,
            max_len: lit_lens.iter().copied().max().unwrap_or(0) as u32,
            exact: true,
        }
    }

    /// Marks the plan's histogram as an estimate of the data it will code.
    fn estimated(self) -> Plan {
        Plan {
            exact: false,
            ..self
        }
    }

    fn bits(&self) -> u64 {
        self.header_bits + self.literal_bits
    }

    fn write(&self, data: &[u8], last: bool, w: &mut Bits) {
        w.put(last as u32, 1);
        w.put(2, 2);
        w.put((LIT_CODES - 257) as u32, 5);
        w.put(2 - 1, 5);
        w.put((self.hclen - 4) as u32, 4);
        for &s in &BL_ORDER[..self.hclen] {
            w.put(self.bl_lens[s] as u32, 3);
        }
        for &(s, extra, nbits) in &self.rle {
            w.put(self.bl_codes[s as usize], self.bl_lens[s as usize] as u32);
            if nbits > 0 {
                w.put(extra as u32, nbits as u32);
            }
        }
        // The exact bit count, or a bound when the histogram was sampled.
        let bits = if self.exact {
            self.literal_bits - self.eob.1 as u64
        } else {
            data.len() as u64 * self.max_len as u64
        };
        w.put_literals(data, &self.table, self.max_len, bits);
        w.put(self.eob.0, self.eob.1);
    }
}

/// Byte counts of `data`.
pub fn histogram(data: &[u8]) -> [u32; 256] {
    let mut out = word_counts(data, 1);
    for &b in tail(data) {
        out[b as usize] += 1;
    }
    out
}

/// Byte counts of one 8-byte word in `step` of `data`, the last partial word left out.
fn word_counts(data: &[u8], step: usize) -> [u32; 256] {
    // Eight interleaved tables break the store-to-load dependency on repeats of one byte.
    // Eight, not four: in float32 weights every fourth byte is an exponent byte with few
    // values, and with four tables they all fell in one table, one counter chain (measured:
    // the histogram took 15% of `pack` on weights).
    let mut h = [[0u32; 256]; 8];
    for c in data.chunks_exact(8).step_by(step) {
        let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        for (k, t) in h.iter_mut().enumerate() {
            t[(v >> (8 * k)) as u8 as usize] += 1;
        }
    }
    let mut out = [0u32; 256];
    for (i, o) in out.iter_mut().enumerate() {
        *o = h.iter().map(|t| t[i]).sum();
    }
    out
}

/// The bytes of `data` after its last whole 8-byte word.
fn tail(data: &[u8]) -> &[u8] {
    &data[data.len() - data.len() % 8..]
}

fn write_stored(data: &[u8], last: bool, w: &mut Bits) {
    let mut chunks = data.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        w.put(last as u32, 1);
        w.put(0, 2);
        w.align();
        w.out.extend_from_slice(&[0, 0, 0xff, 0xff]);
        return;
    }
    while let Some(c) = chunks.next() {
        let fin = last && chunks.peek().is_none();
        w.put(fin as u32, 1);
        w.put(0, 2);
        w.align();
        let len = c.len() as u16;
        w.out.extend_from_slice(&len.to_le_bytes());
        w.out.extend_from_slice(&(!len).to_le_bytes());
        w.out.extend_from_slice(c);
    }
}

/// How much work the encoder spends on its tables: the bytes per deflate block (each with its
/// own table), and how much of each block its histogram reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effort {
    /// Bytes per deflate block.
    pub segment: usize,
    /// The histogram reads one 8-byte word in `sample` (1: all of them). Above 1 the counts
    /// are scaled back up and every byte value gets a code, since an unread byte may occur;
    /// the block's size is then exact only once coded, and a block that came out no smaller
    /// than stored is rewritten stored.
    pub sample: usize,
}

impl Effort {
    /// 32 KiB blocks from exact histograms: the smallest output.
    pub const FULL: Effort = Effort {
        segment: SEGMENT,
        sample: 1,
    };

    /// The effort of pack level `level` (1-9): levels 7-9 code 32 KiB blocks from exact
    /// histograms, the default range 2-6 codes 128 KiB blocks from a quarter of the 8-byte
    /// words, and level 1 256 KiB blocks from an eighth of them.
    ///
    /// Measured on 128 MiB of float32 weights, the encoder alone on one core (best of 5):
    ///
    /// | blocks, histogram | time | output |
    /// |---|---|---|
    /// | 32 KiB, exact | 0.374 s | 128,313,109 |
    /// | 64 KiB, exact | 0.337 s | 128,343,481 (+0.02%) |
    /// | 128 KiB, a quarter | 0.142 s | 128,531,221 (+0.17%) |
    /// | 256 KiB, an eighth | 0.130 s | 128,566,074 (+0.20%) |
    ///
    /// The default gives up 0.17% of size to save about 60% of the encoder's time; a whole
    /// `pack` of the weights stays within 1.01x of `tar -czf`'s size (1.0013x; levels 7-9 are
    /// 0.9996x).
    pub fn for_level(level: u32) -> Effort {
        match level {
            0 | 1 => Effort {
                segment: 256 * 1024,
                sample: 8,
            },
            2..=6 => Effort {
                segment: 128 * 1024,
                sample: 4,
            },
            _ => Effort::FULL,
        }
    }
}

/// Byte counts from one 8-byte word in `step` of `data` (and every byte of its last, partial
/// word), scaled by `step`, plus one for every byte value.
fn sampled_histogram(data: &[u8], step: usize) -> [u32; 256] {
    let mut out = word_counts(data, step);
    for o in out.iter_mut() {
        *o = *o * step as u32 + 1;
    }
    for &b in tail(data) {
        out[b as usize] += 1;
    }
    out
}

/// Appends `data` to `out` as Huffman-only raw deflate, byte-aligned at the end, at
/// [`Effort::FULL`]. With `last` the final block ends the stream; otherwise an empty stored
/// block follows (what zlib's `Z_SYNC_FLUSH` writes), so pieces concatenate into one stream.
/// Returns how many of the 32 KiB blocks were stored because Huffman coding would have
/// expanded them.
pub fn deflate_huffman(data: &[u8], last: bool, out: &mut Vec<u8>) -> usize {
    deflate_huffman_with(data, last, out, Effort::FULL)
}

/// [`deflate_huffman`] at `effort`; returns how many of the `effort.segment` blocks were
/// stored.
pub fn deflate_huffman_with(data: &[u8], last: bool, out: &mut Vec<u8>, effort: Effort) -> usize {
    let mut stored = 0;
    // One block per segment, each with its own table: measured on 768 MiB of float weights,
    // 32 KiB blocks came out smallest (769.88 MB; 16 KiB 770.08, 64 KiB 770.06, one table per
    // MiB 771.02, zlib's Huffman-only 770.09), and merging runs of segments on an entropy
    // estimate only made it larger.
    let segment = effort.segment.max(1);
    let step = effort.sample.max(1);
    let mut w = Bits { out, acc: 0, n: 0 };
    if data.is_empty() && last {
        Plan::new(&[0; 256]).write(&[], true, &mut w);
    }
    let count = data.len().div_ceil(segment);
    for (k, piece) in data.chunks(segment).enumerate() {
        let fin = last && k + 1 == count;
        let plan = if step == 1 {
            Plan::new(&histogram(piece))
        } else {
            Plan::new(&sampled_histogram(piece, step)).estimated()
        };
        // A stored block costs the bytes, 5 header bytes per 64 KiB and at most 7 bits of
        // padding to a byte boundary.
        let stored_bits = 8 * (piece.len() as u64 + 5 * piece.len().div_ceil(65_535) as u64) + 7;
        if plan.bits() >= stored_bits {
            write_stored(piece, fin, &mut w);
            stored += 1;
            continue;
        }
        let before = (w.out.len(), w.acc, w.n);
        plan.write(piece, fin, &mut w);
        if plan.exact {
            continue;
        }
        // The table came from a sample: the true size is known only now.
        let bits = (w.out.len() - before.0) as u64 * 8 + w.n as u64 - before.2 as u64;
        if bits >= stored_bits {
            w.out.truncate(before.0);
            (w.acc, w.n) = (before.1, before.2);
            write_stored(piece, fin, &mut w);
            stored += 1;
        }
    }
    if last {
        w.align();
    } else {
        write_stored(&[], false, &mut w);
    }
    stored
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Content, Fill};
    use proptest::prelude::*;
    use std::io::Read;

    fn inflate(raw: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(raw).read_to_end(&mut out)?;
        Ok(out)
    }

    fn encode(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        deflate_huffman(data, true, &mut out);
        out
    }

    fn kraft_is_complete(lens: &[u8]) -> bool {
        let sum: u64 = lens
            .iter()
            .filter(|&&l| l > 0)
            .map(|&l| 1u64 << (15 - l))
            .sum();
        sum == 1 << 15
    }

    #[test]
    fn code_lengths_are_complete_and_limited_even_for_fibonacci_weights() {
        // Fibonacci weights make the unlimited Huffman tree as deep as it gets.
        let mut freq = vec![0u32; 286];
        let (mut a, mut b) = (1u32, 1u32);
        for f in freq.iter_mut().take(30) {
            *f = a;
            (a, b) = (b, a.saturating_add(b));
        }
        let unlimited = huffman_lengths(&freq.iter().map(|&x| x as u64).collect::<Vec<_>>());
        assert!(
            unlimited.iter().any(|&l| l > 15),
            "the test needs a deep tree"
        );
        let lens = code_lengths(&freq, 15);
        assert!(lens.iter().all(|&l| l <= 15));
        assert!(kraft_is_complete(&lens), "{lens:?}");
        let short = code_lengths(&freq[..19], 7);
        assert!(short.iter().all(|&l| l <= 7) && kraft_is_complete(&short));
        // One used symbol still gets a complete two-symbol code.
        let mut one = vec![0u32; 19];
        one[5] = 100;
        let lens = code_lengths(&one, 7);
        assert!(lens[5] == 1 && kraft_is_complete(&lens), "{lens:?}");
    }

    /// Bytes with exactly `counts[s]` copies of each symbol `s`, in a seeded shuffle.
    fn with_counts(counts: &[u32]) -> Vec<u8> {
        let mut v: Vec<u8> = counts
            .iter()
            .enumerate()
            .flat_map(|(s, &c)| std::iter::repeat_n(s as u8, c as usize))
            .collect();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in (1..v.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.swap(i, (x % (i as u64 + 1)) as usize);
        }
        v
    }

    #[test]
    fn every_codes_per_store_width_round_trips_and_both_builds_agree() {
        let uniform = vec![200u32; 100];
        let floats = Content::Seeded {
            seed: 8,
            size: SEGMENT as u64,
            fill: Fill::Floats,
        }
        .to_vec();
        // Halving counts: symbol k has 2^(top-k), so the tree is top + 1 deep (the end-of-block
        // code is the other deepest leaf); 15 symbols fill one segment and reach 15 bits.
        let halving = |top: u32| -> Vec<u32> { (0..=top).map(|k| 1 << (top - k)).collect() };
        let cases = [
            (with_counts(&uniform), 0..=9),
            (floats, 10..=11),
            (with_counts(&halving(12)), 12..=14),
            (with_counts(&halving(14)), 15..=15),
        ];
        for (data, want) in cases {
            let plan = Plan::new(&histogram(&data));
            assert!(
                want.contains(&plan.max_len),
                "max_len {} want {want:?}",
                plan.max_len
            );
            assert_eq!(
                inflate(&encode(&data)).unwrap(),
                data,
                "max_len {}",
                plan.max_len
            );
            // The dispatched loop (BMI2 where the CPU has it) and the portable body write the
            // same bits, for every width and a start with bits already pending.
            let bits = plan.literal_bits - plan.eob.1 as u64;
            let run = |portable: bool| {
                let mut buf = vec![MaybeUninit::new(0u8); (bits as usize + 5).div_ceil(8) + 8];
                let state = (0b101, 3, 0);
                let (acc, n, pos) = match (plan.max_len, portable) {
                    (0..=9, false) => literals::<6>(&mut buf, &data, &plan.table, state),
                    (0..=9, true) => literals_body::<6>(&mut buf, &data, &plan.table, state),
                    (10..=11, false) => literals::<5>(&mut buf, &data, &plan.table, state),
                    (10..=11, true) => literals_body::<5>(&mut buf, &data, &plan.table, state),
                    (12..=14, false) => literals::<4>(&mut buf, &data, &plan.table, state),
                    (12..=14, true) => literals_body::<4>(&mut buf, &data, &plan.table, state),
                    (_, false) => literals::<3>(&mut buf, &data, &plan.table, state),
                    (_, true) => literals_body::<3>(&mut buf, &data, &plan.table, state),
                };
                assert_eq!(pos as u64 * 8 + n as u64, bits + 3, "every bit is counted");
                // SAFETY: every byte was initialised, to 0, when `buf` was made.
                let bytes: Vec<u8> = buf[..pos]
                    .iter()
                    .map(|b| unsafe { b.assume_init() })
                    .collect();
                (bytes, acc, n)
            };
            assert_eq!(run(false), run(true), "max_len {}", plan.max_len);
        }
    }

    #[test]
    fn runs_of_the_longest_codes_fit_the_accumulator_at_every_width() {
        // A tree with one leaf at each depth 1..L-3 and eight at depth L (seven symbols and
        // the end-of-block code), and data that puts the seven deepest symbols side by side:
        // the worst case for `7 + K * max_len <= 64`. One more code per store than the width
        // allows loses bits here.
        for top in [9u32, 11, 14, 15] {
            let mut hist = [0u32; 256];
            // The deepest symbols come first in the data, so the unchecked loop (not the tail,
            // which stores after every code) codes them.
            hist[..7].fill(1);
            for d in 1..=top - 3 {
                hist[10 + d as usize] = 1 << (top - d);
            }
            let data: Vec<u8> = (0..=255u8)
                .flat_map(|s| std::iter::repeat_n(s, hist[s as usize] as usize))
                .collect();
            let plan = Plan::new(&hist);
            let deepest = (0..256)
                .filter(|&s| plan.table[s] >> 16 == plan.max_len)
                .count();
            assert!(
                plan.max_len == top && deepest >= 7,
                "top {top}: max_len {} with {deepest} symbols at it",
                plan.max_len
            );
            let mut clean = Vec::new();
            let mut w = Bits {
                out: &mut clean,
                acc: 0,
                n: 0,
            };
            plan.write(&data, true, &mut w);
            w.align();
            assert_eq!(inflate(&clean).unwrap(), data, "top {top}");
            // Started at every pending bit count, the stream is the same bits shifted.
            for pending in 1..8u32 {
                let mut shifted = Vec::new();
                let mut w = Bits {
                    out: &mut shifted,
                    acc: 0,
                    n: 0,
                };
                w.put(0, pending);
                plan.write(&data, true, &mut w);
                w.align();
                let unshifted: Vec<u8> = (0..clean.len())
                    .map(|i| {
                        let lo = shifted[i] as u16 >> pending;
                        let hi = shifted.get(i + 1).copied().unwrap_or(0) as u16;
                        (lo | hi << (8 - pending)) as u8
                    })
                    .collect();
                assert_eq!(unshifted, clean, "top {top}, {pending} bits pending");
            }
        }
    }

    #[test]
    fn a_sampled_histogram_scales_the_words_it_reads_and_gives_every_byte_a_count() {
        // Words of 8 equal bytes: word k is all k; the sample reads words 0, 4, 8, ...
        let mut data: Vec<u8> = (0..64u8).flat_map(|k| [k; 8]).collect();
        data.extend_from_slice(&[200, 200, 201]);
        let h = sampled_histogram(&data, 4);
        for (b, &got) in h.iter().enumerate() {
            let want = match b {
                _ if b < 64 && b % 4 == 0 => 8 * 4 + 1,
                200 => 2 + 1,
                201 => 1 + 1,
                _ => 1,
            };
            assert_eq!(got, want, "byte {b}");
        }
        assert_eq!(sampled_histogram(&data, 1)[5], 8 + 1);
    }

    #[test]
    fn a_higher_level_never_codes_with_less_effort() {
        // Smaller blocks and more of each block read: never less at a higher level, and the
        // top levels code exactly.
        for level in 1..9 {
            let (lo, hi) = (Effort::for_level(level), Effort::for_level(level + 1));
            assert!(
                hi.segment <= lo.segment && hi.sample <= lo.sample,
                "level {level}: {lo:?}, level {}: {hi:?}",
                level + 1
            );
        }
        assert_eq!(Effort::for_level(9), Effort::FULL);
        assert_eq!(
            Effort::for_level(6).sample,
            4,
            "the default samples a quarter"
        );
    }

    #[test]
    fn a_block_the_sample_misjudged_is_rewritten_stored() {
        // The sampled words (one in four) hold only bytes 0-15, the others any byte: the
        // estimate gives 0-15 short codes and the rest 15-bit ones, which would expand the
        // real block by about half. It must come out stored.
        let effort = Effort::for_level(6);
        assert_eq!(effort.sample, 4);
        let random = Content::Seeded {
            seed: 11,
            size: 2 * effort.segment as u64,
            fill: Fill::Random,
        }
        .to_vec();
        let data: Vec<u8> = random
            .chunks(8)
            .enumerate()
            .flat_map(|(k, w)| {
                if k % 4 == 0 {
                    w.iter().map(|b| b % 16).collect()
                } else {
                    w.to_vec()
                }
            })
            .collect();
        let mut out = Vec::new();
        let stored = deflate_huffman_with(&data, true, &mut out, effort);
        assert_eq!(stored, 2);
        assert!(
            out.len() <= data.len() + 5 * data.len().div_ceil(65_535) + 8,
            "{} for {}",
            out.len(),
            data.len()
        );
        assert_eq!(inflate(&out).unwrap(), data);
        // After pending bits from an earlier piece, too.
        let mut out = Vec::new();
        deflate_huffman_with(&[1, 2, 3], false, &mut out, effort);
        deflate_huffman_with(&data, true, &mut out, effort);
        let mut want = vec![1, 2, 3];
        want.extend_from_slice(&data);
        assert_eq!(inflate(&out).unwrap(), want);
    }

    #[test]
    fn histogram_counts_every_byte_at_every_length() {
        // Period 4 (one exponent byte per float) and lengths around the 8-byte stride.
        for len in (0..=40).chain([1000, 4099]) {
            let data: Vec<u8> = (0..len)
                .map(|i| {
                    if i % 4 == 3 {
                        0x3f
                    } else {
                        (i * 37 % 251) as u8
                    }
                })
                .collect();
            let mut naive = [0u32; 256];
            for &b in &data {
                naive[b as usize] += 1;
            }
            assert_eq!(histogram(&data), naive, "len {len}");
        }
    }

    #[test]
    fn edge_inputs_round_trip() {
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![7],
            vec![0; 200_000],
            (0..=255u8).cycle().take(300_000).collect(),
            Content::Seeded {
                seed: 3,
                size: 300_000,
                fill: Fill::Random,
            }
            .to_vec(),
        ];
        for data in cases {
            assert_eq!(inflate(&encode(&data)).unwrap(), data, "len {}", data.len());
        }
    }

    #[test]
    fn random_data_is_stored_not_expanded() {
        let data = Content::Seeded {
            seed: 4,
            size: 500_000,
            fill: Fill::Random,
        }
        .to_vec();
        let out = encode(&data);
        assert!(
            out.len() <= data.len() + 5 * data.len().div_ceil(SEGMENT) + 8,
            "{}",
            out.len()
        );
    }

    #[test]
    fn sync_flushed_pieces_concatenate_into_one_stream() {
        let data = Content::Seeded {
            seed: 5,
            size: 400_000,
            fill: Fill::Floats,
        }
        .to_vec();
        let mut out = Vec::new();
        for piece in data.chunks(150_001) {
            deflate_huffman(piece, false, &mut out);
        }
        deflate_huffman(&[], true, &mut out);
        assert_eq!(inflate(&out).unwrap(), data);
    }

    #[test]
    fn size_matches_zlib_huffman_only_on_weights_and_text() {
        for fill in [Fill::Floats, Fill::Text] {
            let data = Content::Seeded {
                seed: 6,
                size: 1 << 20,
                fill,
            }
            .to_vec();
            let ours = encode(&data).len() as f64;
            let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
            std::io::Write::write_all(&mut z, &data).unwrap();
            let lz6 = z.finish().unwrap().len() as f64;
            let zlib_huff = zlib_huffman_only(&data) as f64;
            assert!(
                ours <= zlib_huff * 1.002,
                "{fill:?}: {ours} vs zlib {zlib_huff}"
            );
            if fill == Fill::Floats {
                assert!(ours <= lz6 * 1.01, "{ours} vs level 6 {lz6}");
            }
        }
    }

    fn zlib_huffman_only(data: &[u8]) -> usize {
        use zlib_rs::{Deflate, DeflateConfig, DeflateFlush, Strategy};
        let mut d = Deflate::new_with_config(DeflateConfig {
            level: 6,
            window_bits: -15,
            strategy: Strategy::HuffmanOnly,
            ..DeflateConfig::default()
        });
        let mut out = vec![0u8; zlib_rs::compress_bound(data.len()) + 64];
        d.compress(data, &mut out, DeflateFlush::Finish).unwrap();
        d.total_out() as usize
    }

    proptest! {
        #![proptest_config(crate::strategy::ci_config(256, "PROPTEST_RNG_SEED", 1125))]

        /// Any bytes, in any piece sizes, inflate back exactly (flate2's zlib-rs inflater).
        #[test]
        fn any_bytes_round_trip(
            data in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..200_000),
                // Skewed: few symbols, long runs, the shapes that stress tree building.
                proptest::collection::vec(prop_oneof![9 => Just(0u8), 1 => any::<u8>()], 0..200_000),
                proptest::collection::vec(0u8..3, 0..100_000),
            ],
            cut in 1usize..150_000,
            level in 1u32..=9,
        ) {
            // At every level's effort: exact or sampled histograms, 32-256 KiB blocks.
            let effort = Effort::for_level(level);
            let mut out = Vec::new();
            for piece in data.chunks(cut) {
                deflate_huffman_with(piece, false, &mut out, effort);
            }
            deflate_huffman_with(&[], true, &mut out, effort);
            prop_assert_eq!(inflate(&out).unwrap(), data);
        }
    }
}
