//! The differential's corpus: `strategy::job_layout()` plus a piece of hard names on every
//! case. The generator's own odd names (`strategy/names.rs`) come in about one layout in five,
//! and newlines, non-UTF-8 bytes and 4,000-byte paths in about one in 45 each: too few for
//! 512 cases to say much. This piece adds one to four entries per case whose names, link
//! targets and modes stress a tar reader: newlines, non-UTF-8 bytes, control and quoting
//! characters, the ustar 100- and 155-byte boundaries, 4,000-byte paths, symlinks with long
//! or odd targets, hard links between odd names, empty dirs with odd modes.

use packtest::layout::{Content, Entry, Layout, RawPath, Root};
use proptest::collection::vec;
use proptest::prelude::*;

/// The model dir's absolute path in a sandbox is about 35 bytes; a path of 4,050 bytes under
/// it stays below `PATH_MAX` (4,096 with the NUL).
const DEEP_MAX: usize = 4050;

/// One hard entry, before it gets its case-unique prefix.
#[derive(Clone, Debug)]
pub enum Hard {
    /// A regular file.
    File { name: Vec<u8>, mode: u32, size: u64 },
    /// An empty directory.
    Dir { name: Vec<u8>, mode: u32 },
    /// A symlink at the top level to a file it brings along (`dangling`: it does not).
    Symlink {
        name: Vec<u8>,
        target: Vec<u8>,
        dangling: bool,
    },
    /// A hard link to a file it brings along.
    Hardlink { name: Vec<u8>, target: Vec<u8> },
}

/// One path component made of `parts`, at most 255 bytes.
fn component(parts: &[&[u8]]) -> Vec<u8> {
    let mut c = parts.concat();
    c.truncate(255);
    c
}

/// Names that are hard for a tar reader, one path component each (except `deep` ones).
pub fn hard_name() -> BoxedStrategy<Vec<u8>> {
    let stem = "[a-z][a-z0-9]{0,6}";
    prop_oneof![
        // Newlines: inside, trailing, leading, doubled, with a carriage return.
        (stem, 0usize..5).prop_map(|(s, k)| {
            let s = s.as_bytes();
            match k {
                0 => [s, b"\nsecond-line.bin"].concat(),
                1 => [s, b"\n"].concat(),
                2 => [b"\n", s].concat(),
                3 => [s, b"\n\n", s].concat(),
                _ => [s, b"\r\n.txt"].concat(),
            }
        }),
        // Non-UTF-8: a lone high byte, a truncated sequence, a surrogate, an overlong '/'.
        (stem, 0x80u8..=0xff, 0usize..4).prop_map(|(s, b, k)| {
            let bad: Vec<u8> = match k {
                0 => vec![b],
                1 => vec![0xc3, b'('],
                2 => vec![0xed, 0xa0, 0x80],
                _ => vec![0xc0, 0xaf, b],
            };
            [s.as_bytes(), &bad, b".bin"].concat()
        }),
        // Control and quoting characters tar listings escape or misparse.
        (stem, prop::sample::select(QUOTING.to_vec()))
            .prop_map(|(s, q)| component(&[s.as_bytes(), q])),
        // Unicode a byte-oriented reader must pass through untouched.
        (stem, prop::sample::select(UNICODE.to_vec()))
            .prop_map(|(s, u)| component(&[u.as_bytes(), s.as_bytes()])),
        // The ustar name field is 100 bytes, the prefix 155: lengths around both once the
        // 4-byte prefix `unique` adds is counted; a newline or a space in the middle or last.
        (
            prop::sample::select(vec![95usize, 96, 97, 151, 152, 251]),
            prop::sample::select(vec![None, Some(b'\n'), Some(b' ')]),
            any::<bool>()
        )
            .prop_map(|(n, odd, last)| {
                let mut v = vec![b'n'; n];
                if let Some(c) = odd {
                    v[if last { n - 1 } else { n / 2 }] = c;
                }
                v
            }),
        deep_path(),
    ]
    .boxed()
}

const QUOTING: [&[u8]; 14] = [
    b"\ttab",
    b"\x01ctl",
    b"\x1b[31mred",
    b"\x7fdel",
    b"back\\slash",
    b"lit\\nnewline",
    b" -> arrow",
    b" link to x",
    b"trailing ",
    b"\"quote'",
    b"*?[glob]",
    b"%s%n",
    b"\\\\server",
    b"..dots..",
];

const UNICODE: [&str; 6] = [
    "caf\u{e9}-",
    "cafe\u{301}-",
    "\u{202e}gnp.",
    "\u{1f600}-",
    "a\u{ff0f}b-",
    "\u{6a21}\u{578b}-",
];

/// A path of 3,900 to 4,050 bytes in components of up to 255, some with a newline or a
/// non-UTF-8 byte inside.
fn deep_path() -> BoxedStrategy<Vec<u8>> {
    (3900usize..=DEEP_MAX, 0u8..3)
        .prop_map(|(total, odd)| {
            let mut p: Vec<u8> = Vec::new();
            let mut i = 0u8;
            while p.len() + 1 + 255 < total {
                let mut c = vec![b'a' + i % 26; 250];
                match odd {
                    1 => c[100] = b'\n',
                    2 => c[100] = 0xff,
                    _ => {}
                }
                p.extend_from_slice(&c);
                p.push(b'/');
                i += 1;
            }
            p.resize(total, b'z');
            p
        })
        .boxed()
}

fn mode() -> impl Strategy<Value = u32> {
    prop::sample::select(vec![
        0o644, 0o600, 0o755, 0o700, 0o444, 0o640, 0o4755, 0o2750,
    ])
}

/// One hard entry.
pub fn hard() -> BoxedStrategy<Hard> {
    let top = || hard_name().prop_filter("one component", |n| !n.contains(&b'/'));
    prop_oneof![
        4 => (hard_name(), mode(), 0u64..3000).prop_map(|(name, mode, size)| Hard::File { name, mode, size }),
        1 => (hard_name(), prop::sample::select(vec![0o755, 0o700, 0o750, 0o1777]))
            .prop_map(|(name, mode)| Hard::Dir { name, mode }),
        2 => (top(), hard_name(), prop::bool::weighted(0.1))
            .prop_map(|(name, target, dangling)| Hard::Symlink { name, target, dangling }),
        2 => (hard_name(), hard_name()).prop_map(|(name, target)| Hard::Hardlink { name, target }),
    ]
    .boxed()
}

/// `name` under the case-unique first component `H<i>-…`: no generated name starts with an
/// upper-case letter, so these never collide with the rest of the layout.
fn unique(i: usize, tag: &str, name: &[u8]) -> RawPath {
    let mut v = format!("H{i}{tag}-").into_bytes();
    v.extend_from_slice(name);
    v.truncate(DEEP_MAX);
    // A component over 255 bytes (the prefix lengthened a 255-byte name) is cut back.
    let mut out = Vec::new();
    for (k, c) in v.split(|b| *b == b'/').enumerate() {
        if k > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(&c[..c.len().min(255)]);
    }
    while out.last() == Some(&b'/') {
        out.pop();
    }
    RawPath::new(out)
}

/// The entries of the hard piece number `i`.
pub fn entries(i: usize, h: &Hard) -> Vec<Entry> {
    let m = Root::Model;
    let content = |size: u64| Content::random(i as u64 * 7919 + size, size);
    match h {
        Hard::File { name, mode, size } => {
            vec![Entry::file(m, unique(i, "f", name), content(*size)).with_mode(*mode)]
        }
        Hard::Dir { name, mode } => vec![Entry::dir(m, unique(i, "d", name)).with_mode(*mode)],
        Hard::Symlink {
            name,
            target,
            dangling,
        } => {
            let t = unique(i, "t", target);
            let mut v = vec![Entry::symlink(m, unique(i, "s", name), t.clone())];
            if !dangling {
                v.push(Entry::file(m, t, content(100)));
            }
            v
        }
        Hard::Hardlink { name, target } => {
            let t = unique(i, "t", target);
            vec![
                Entry::file(m, t.clone(), content(200)),
                Entry::hardlink(m, unique(i, "h", name), t),
            ]
        }
    }
}

/// A generated job layout with a hard piece of one to four entries added; when the result
/// would not be a valid layout, the job layout alone (counted by the caller).
pub fn layout() -> BoxedStrategy<(Layout, bool)> {
    (packtest::strategy::job_layout(), vec(hard(), 1..=4))
        .prop_map(|(base, hard)| {
            let mut l = base.clone();
            for (i, h) in hard.iter().enumerate() {
                l.entries.extend(entries(i, h));
            }
            match l.validate() {
                Ok(()) => (l, true),
                Err(_) => (base, false),
            }
        })
        .boxed()
}
