//! A Huffman-only deflate encoder: RFC 1951 dynamic blocks that hold literals only.
//!
//! On float weights LZ matching buys almost nothing (under 0.3%): the whole gain is in Huffman
//! coding the skewed exponent bytes. zlib's Huffman-only strategy still pushes every byte
//! through its generic symbol buffer and rebuilds the trees every 16 K symbols; with zlib-rs
//! that measured about 100-150 MB/s per core, most of the reference packager's time. This
//! encoder codes straight from byte histograms: the input is cut into 32 KiB blocks, each with
//! its own table built from the block's histogram, and the literal loop writes three codes per
//! 64-bit flush with no other branch.
//!
//! The trees are complete, length-limited (15 bits, 7 for the code-length code) and the
//! distance tree has two one-bit codes, as zlib writes them, so every inflater accepts the
//! output. A block that Huffman coding would expand is written as stored blocks.

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

    /// Appends one packed code (`code | len << 16`) per byte of `data`. `total_bits` is the
    /// exact number of bits this appends, used to size the output once.
    fn put_literals(&mut self, data: &[u8], table: &[u32; 256], total_bits: u64) {
        let mut pos = self.out.len();
        // Room for every bit plus one 8-byte store past the end.
        let need = ((self.n as u64 + total_bits).div_ceil(8)) as usize + 8;
        self.out.resize(pos + need, 0);
        let buf = self.out.as_mut_slice();
        let (mut acc, mut n) = (self.acc, self.n);
        // Stores all of `acc` unaligned and keeps the bits past the last whole byte.
        let mut spill = |acc: &mut u64, n: &mut u32| {
            buf[pos..pos + 8].copy_from_slice(&acc.to_le_bytes());
            let bytes = *n / 8;
            pos += bytes as usize;
            *acc >>= bytes * 8;
            *n -= bytes * 8;
        };
        let code = |acc: &mut u64, n: &mut u32, b: u8| {
            let e = table[b as usize];
            *acc |= ((e & 0xffff) as u64) << *n;
            *n += e >> 16;
        };
        let mut chunks = data.chunks_exact(3);
        for c in &mut chunks {
            // n < 8 here, plus three codes of at most 15 bits: under 64.
            for &b in c {
                code(&mut acc, &mut n, b);
            }
            spill(&mut acc, &mut n);
        }
        for &b in chunks.remainder() {
            code(&mut acc, &mut n, b);
            spill(&mut acc, &mut n);
        }
        self.out.truncate(pos);
        self.acc = acc;
        self.n = n;
    }
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
    let mut leaves: Vec<(u64, usize)> = f
        .iter()
        .enumerate()
        .filter(|(_, &w)| w > 0)
        .map(|(i, &w)| (w, i))
        .collect();
    leaves.sort_unstable();
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
        w.put_literals(data, &self.table, self.literal_bits - self.eob.1 as u64);
        w.put(self.eob.0, self.eob.1);
    }
}

/// Byte counts of `data`.
pub fn histogram(data: &[u8]) -> [u32; 256] {
    // Four interleaved tables break the store-to-load dependency on runs of one byte.
    let mut h = [[0u32; 256]; 4];
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        h[0][c[0] as usize] += 1;
        h[1][c[1] as usize] += 1;
        h[2][c[2] as usize] += 1;
        h[3][c[3] as usize] += 1;
    }
    for &b in chunks.remainder() {
        h[0][b as usize] += 1;
    }
    let mut out = [0u32; 256];
    for (i, o) in out.iter_mut().enumerate() {
        *o = h[0][i] + h[1][i] + h[2][i] + h[3][i];
    }
    out
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

/// Appends `data` to `out` as Huffman-only raw deflate, byte-aligned at the end. With `last`
/// the final block ends the stream; otherwise an empty stored block follows (what zlib's
/// `Z_SYNC_FLUSH` writes), so pieces concatenate into one stream. Returns how many of the
/// 32 KiB blocks were stored because Huffman coding would have expanded them.
pub fn deflate_huffman(data: &[u8], last: bool, out: &mut Vec<u8>) -> usize {
    let mut stored = 0;
    // One block per segment, each with its own table: measured on 768 MiB of float weights,
    // 32 KiB blocks came out smallest (769.88 MB; 16 KiB 770.08, 64 KiB 770.06, one table per
    // MiB 771.02, zlib's Huffman-only 770.09), and merging runs of segments on an entropy
    // estimate only made it larger.
    let mut w = Bits { out, acc: 0, n: 0 };
    if data.is_empty() && last {
        Plan::new(&[0; 256]).write(&[], true, &mut w);
    }
    let count = data.len().div_ceil(SEGMENT);
    for (k, piece) in data.chunks(SEGMENT).enumerate() {
        let fin = last && k + 1 == count;
        let plan = Plan::new(&histogram(piece));
        // A stored block costs the bytes, 5 header bytes per 64 KiB and at most 7 bits of
        // padding to a byte boundary.
        let stored_bits = 8 * (piece.len() as u64 + 5 * piece.len().div_ceil(65_535) as u64) + 7;
        if plan.bits() < stored_bits {
            plan.write(piece, fin, &mut w);
        } else {
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
        ) {
            let mut out = Vec::new();
            for piece in data.chunks(cut) {
                deflate_huffman(piece, false, &mut out);
            }
            deflate_huffman(&[], true, &mut out);
            prop_assert_eq!(inflate(&out).unwrap(), data);
        }
    }
}
