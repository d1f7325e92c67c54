//! Raw archive construction: 512-byte tar headers with correct (or deliberately wrong)
//! checksums, pax and GNU long-name records, and gzip framing with controllable defects.
//!
//! Nothing here uses the `tar` crate's builder: it refuses most of what a hostile archive
//! needs (`..` names, lying sizes, bad checksums), so every byte is placed by hand.

use std::io::Write;

pub const BLOCK: usize = 512;

/// The header form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Ustar,
    Gnu,
    V7,
}

/// One 512-byte tar header, built field by field.
#[derive(Clone)]
pub struct Hdr {
    b: [u8; BLOCK],
    form: Form,
    checksum_delta: i64,
}

/// A header for `name` with type `typeflag` and an octal `size`.
pub fn hdr(name: &[u8], typeflag: u8, size: u64) -> Hdr {
    let mut h = Hdr {
        b: [0u8; BLOCK],
        form: Form::Ustar,
        checksum_delta: 0,
    };
    h.b[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    h.octal(100, 8, 0o644);
    h.octal(108, 8, 0);
    h.octal(116, 8, 0);
    h.octal(124, 12, size);
    h.octal(136, 12, 1_700_000_000);
    h.b[156] = typeflag;
    h
}

impl Hdr {
    fn octal(&mut self, at: usize, len: usize, v: u64) {
        let s = format!("{v:0w$o}\0", w = len - 1);
        self.b[at..at + len].copy_from_slice(&s.as_bytes()[s.len() - len..]);
    }

    /// Sets the permission bits.
    pub fn mode(mut self, mode: u32) -> Self {
        self.octal(100, 8, u64::from(mode));
        self
    }

    /// Sets the link target field (100 bytes max).
    pub fn link(mut self, target: &[u8]) -> Self {
        self.b[157..257].fill(0);
        self.b[157..157 + target.len()].copy_from_slice(target);
        self
    }

    /// GNU magic (`ustar  \0`).
    pub fn gnu(mut self) -> Self {
        self.form = Form::Gnu;
        self
    }

    /// No magic at all (v7).
    pub fn v7(mut self) -> Self {
        self.form = Form::V7;
        self
    }

    /// Device numbers.
    pub fn dev(mut self, major: u64, minor: u64) -> Self {
        self.octal(329, 8, major);
        self.octal(337, 8, minor);
        self
    }

    /// The raw 12 bytes of the size field (base-256, garbage, …).
    pub fn size_raw(mut self, field: [u8; 12]) -> Self {
        self.b[124..136].copy_from_slice(&field);
        self
    }

    /// Writes raw bytes at an offset (after the magic is set, before the checksum).
    pub fn raw_at(mut self, at: usize, bytes: &[u8]) -> Self {
        self.b[at..at + bytes.len()].copy_from_slice(bytes);
        self
    }

    /// Stores a checksum that is off by `delta`.
    pub fn bad_checksum(mut self, delta: i64) -> Self {
        self.checksum_delta = delta;
        self
    }

    /// The finished block.
    pub fn block(&self) -> [u8; BLOCK] {
        let mut b = self.b;
        match self.form {
            Form::Ustar => {
                b[257..263].copy_from_slice(b"ustar\0");
                b[263..265].copy_from_slice(b"00");
            }
            Form::Gnu => b[257..265].copy_from_slice(b"ustar  \0"),
            Form::V7 => {}
        }
        b[148..156].fill(b' ');
        let sum: i64 = b.iter().map(|x| i64::from(*x)).sum::<i64>() + self.checksum_delta;
        b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        b
    }
}

/// A base-256 (GNU binary) 12-byte numeric field holding `v`.
pub fn base256(v: u128, negative: bool) -> [u8; 12] {
    let mut f = [0u8; 12];
    let bytes = v.to_be_bytes();
    f[1..].copy_from_slice(&bytes[bytes.len() - 11..]);
    f[0] = if negative { 0xff } else { 0x80 };
    if negative {
        for x in &mut f[1..] {
            *x = !*x;
        }
    }
    f
}

/// One pax record, `"<len> key=value\n"`, with its self-inclusive length computed.
pub fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = 1 + key.len() + 1 + value.len() + 1;
    let mut len = body + 1;
    while len.to_string().len() + body != len {
        len = body + len.to_string().len();
    }
    let mut v = format!("{len} {key}=").into_bytes();
    v.extend_from_slice(value);
    v.push(b'\n');
    assert_eq!(v.len(), len);
    v
}

/// Pads to a block boundary with zeros.
pub fn pad(mut v: Vec<u8>) -> Vec<u8> {
    v.resize(v.len().div_ceil(BLOCK) * BLOCK, 0);
    v
}

/// A tar stream under construction.
#[derive(Clone, Default)]
pub struct Tar(pub Vec<u8>);

impl Tar {
    pub fn new() -> Self {
        Tar(Vec::new())
    }

    /// A header followed by `data` (padded). The header's size is whatever it says.
    pub fn entry(mut self, h: Hdr, data: &[u8]) -> Self {
        self.0.extend_from_slice(&h.block());
        self.0.extend(pad(data.to_vec()));
        self
    }

    /// A ustar regular file with honest size.
    pub fn file(self, name: &[u8], data: &[u8]) -> Self {
        self.entry(hdr(name, b'0', data.len() as u64), data)
    }

    /// A directory.
    pub fn dir(self, name: &[u8]) -> Self {
        self.entry(hdr(name, b'5', 0).mode(0o755), b"")
    }

    /// A symlink.
    pub fn symlink(self, name: &[u8], target: &[u8]) -> Self {
        self.entry(hdr(name, b'2', 0).mode(0o777).link(target), b"")
    }

    /// A hard link.
    pub fn hardlink(self, name: &[u8], target: &[u8]) -> Self {
        self.entry(hdr(name, b'1', 0).link(target), b"")
    }

    /// A pax `x` (or `g`) header holding `records` verbatim.
    pub fn pax_raw(self, typeflag: u8, records: &[u8]) -> Self {
        self.entry(
            hdr(b"././@PaxHeader", typeflag, records.len() as u64),
            records,
        )
    }

    /// A pax `x` header with well-formed records.
    pub fn pax(self, records: &[(&str, &[u8])]) -> Self {
        let data: Vec<u8> = records.iter().flat_map(|(k, v)| pax_record(k, v)).collect();
        self.pax_raw(b'x', &data)
    }

    /// A GNU `././@LongLink` record of type `L` (name) or `K` (link target), NUL-terminated.
    pub fn gnu_long(self, typeflag: u8, value: &[u8]) -> Self {
        let mut data = value.to_vec();
        data.push(0);
        self.entry(
            hdr(b"././@LongLink", typeflag, data.len() as u64).gnu(),
            &data,
        )
    }

    /// Raw bytes.
    pub fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    /// The two zero blocks.
    pub fn end(self) -> Self {
        self.raw(&[0u8; 2 * BLOCK])
    }

    pub fn bytes(self) -> Vec<u8> {
        self.0
    }
}

/// One gzip member of `data` at the default level.
pub fn gz(data: &[u8]) -> Vec<u8> {
    gz_level(data, 6)
}

/// One gzip member of `data` at `level`.
pub fn gz_level(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(data).expect("in-memory write");
    e.finish().expect("in-memory finish")
}

/// One gzip member of `n` zero bytes, streamed (never holds `n` bytes in memory).
pub fn gz_zeros(prefix: &[u8], n: u64, suffix: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(prefix).expect("in-memory write");
    let chunk = vec![0u8; 1 << 20];
    let mut left = n;
    while left > 0 {
        let k = left.min(chunk.len() as u64) as usize;
        e.write_all(&chunk[..k]).expect("in-memory write");
        left -= k as u64;
    }
    e.write_all(suffix).expect("in-memory write");
    e.finish().expect("in-memory finish")
}

/// `n` seeded pseudo-random bytes (xorshift; incompressible).
pub fn random(seed: u64, n: usize) -> Vec<u8> {
    let mut x: u64 = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A minimal valid tar: one file and the end marker.
pub fn small_tar() -> Vec<u8> {
    Tar::new()
        .file(b"model.pt", b"weights")
        .file(b"code/inference.py", b"def model_fn(d): pass\n")
        .end()
        .bytes()
}
