//! Raw-byte relative paths.
//!
//! Member names and file names on Linux are bytes, not text. [`RawPath`] keeps them as bytes
//! everywhere, and renders them lossily only for humans. In TOML and JSON a path that is valid
//! UTF-8 is a plain string; any other path is a table `{ hex = "…" }` (the split ripgrep's JSON
//! printer uses for `text` and `bytes`).

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A path made of raw bytes, with `/` as the separator.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct RawPath(Vec<u8>);

impl RawPath {
    /// Wraps raw bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        RawPath(bytes.into())
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Consumes the path and returns its bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The path as an OS path (no conversion on Unix).
    pub fn as_path(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.0))
    }

    /// Builds a raw path from an OS path.
    pub fn from_path(path: &Path) -> Self {
        RawPath(path.as_os_str().as_bytes().to_vec())
    }

    /// `base` joined with this path.
    pub fn under(&self, base: &Path) -> PathBuf {
        base.join(self.as_path())
    }

    /// The path's components (split on `/`, empty components dropped).
    pub fn components(&self) -> impl Iterator<Item = &[u8]> {
        self.0.split(|b| *b == b'/').filter(|c| !c.is_empty())
    }

    /// The parent path, or `None` for a single component.
    pub fn parent(&self) -> Option<RawPath> {
        let pos = self.0.iter().rposition(|b| *b == b'/')?;
        Some(RawPath(self.0[..pos].to_vec()))
    }

    /// The last component.
    pub fn file_name(&self) -> &[u8] {
        match self.0.iter().rposition(|b| *b == b'/') {
            Some(pos) => &self.0[pos + 1..],
            None => &self.0,
        }
    }

    /// `self/child`.
    pub fn join(&self, child: &[u8]) -> RawPath {
        if self.0.is_empty() {
            return RawPath(child.to_vec());
        }
        let mut v = self.0.clone();
        v.push(b'/');
        v.extend_from_slice(child);
        RawPath(v)
    }

    /// True when `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &RawPath) -> bool {
        self.0 == other.0
            || (self.0.len() > other.0.len()
                && self.0.starts_with(&other.0)
                && self.0[other.0.len()] == b'/')
    }

    /// The path as UTF-8, if it is.
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// A human rendering: UTF-8 as is, other bytes as `\xNN`, control characters escaped.
    pub fn display(&self) -> String {
        let mut out = String::new();
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                match c {
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\\' => out.push_str("\\\\"),
                    c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
                    c => out.push(c),
                }
            }
            for b in chunk.invalid() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
        out
    }

    /// Lowercase hex of the bytes.
    pub fn to_hex(&self) -> String {
        hex_encode(&self.0)
    }
}

impl fmt::Debug for RawPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.display())
    }
}

impl fmt::Display for RawPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

impl From<&str> for RawPath {
    fn from(s: &str) -> Self {
        RawPath(s.as_bytes().to_vec())
    }
}

impl From<String> for RawPath {
    fn from(s: String) -> Self {
        RawPath(s.into_bytes())
    }
}

impl From<&[u8]> for RawPath {
    fn from(s: &[u8]) -> Self {
        RawPath(s.to_vec())
    }
}

/// Lowercase hex encoding.
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Decodes lowercase or uppercase hex; `None` on odd length or a non-hex digit.
pub(crate) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Repr {
    Text(String),
    Hex {
        /// Raw bytes, hex encoded.
        hex: String,
    },
}

impl Serialize for RawPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => Repr::Text(text.to_owned()).serialize(s),
            Err(_) => Repr::Hex { hex: self.to_hex() }.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for RawPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Repr::deserialize(d).map_err(|_| {
            serde::de::Error::custom("expected a path string or a table `{ hex = \"…\" }`")
        })? {
            Repr::Text(t) => Ok(RawPath(t.into_bytes())),
            Repr::Hex { hex } => hex_decode(&hex)
                .map(RawPath)
                .ok_or_else(|| serde::de::Error::custom(format!("`{hex}` is not valid hex"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_escapes_non_utf8_and_newlines() {
        let p = RawPath::new(b"a\nb\xff.bin".to_vec());
        assert_eq!(p.display(), "a\\nb\\xff.bin");
    }

    #[test]
    fn starts_with_respects_component_boundaries() {
        let a = RawPath::from("a/b");
        assert!(a.starts_with(&RawPath::from("a")));
        assert!(!RawPath::from("ab").starts_with(&RawPath::from("a")));
    }

    #[test]
    fn hex_round_trips() {
        let bytes = vec![0u8, 0xff, 0x10];
        assert_eq!(hex_decode(&hex_encode(&bytes)), Some(bytes));
        assert_eq!(hex_decode("abc"), None);
        assert_eq!(hex_decode("zz"), None);
    }
}
