//! The contract's vocabulary: a [`Property`] id and a [`Violation`] that explains itself, with
//! the helpers every property group builds violations with.

use std::fmt;

use serde::Serialize;

use crate::layout::RawPath;

/// A property id, as `packtest contract` lists it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Property {
    /// `exit-and-output`
    ExitAndOutput,
    /// `valid-gzip`
    ValidGzip,
    /// `valid-tar`
    ValidTar,
    /// `relative-names`
    RelativeNames,
    /// `member-types`
    MemberTypes,
    /// `fidelity`
    Fidelity,
    /// `special-files`
    SpecialFiles,
    /// `containment`
    Containment,
    /// `no-duplicates`
    NoDuplicates,
    /// `loud-failure`
    LoudFailure,
    /// `source-untouched`
    SourceUntouched,
    /// `deterministic` (strict)
    Deterministic,
    /// `sorted` (strict)
    Sorted,
    /// `normalized` (strict)
    Normalized,
    /// A user-defined property.
    Custom(String),
}

impl Property {
    /// The default-profile properties.
    pub const DEFAULT: [Property; 11] = [
        Property::ExitAndOutput,
        Property::ValidGzip,
        Property::ValidTar,
        Property::RelativeNames,
        Property::MemberTypes,
        Property::Fidelity,
        Property::SpecialFiles,
        Property::Containment,
        Property::NoDuplicates,
        Property::LoudFailure,
        Property::SourceUntouched,
    ];

    /// The properties `--strict` adds.
    pub const STRICT: [Property; 3] = [
        Property::Deterministic,
        Property::Sorted,
        Property::Normalized,
    ];

    /// The stable kebab-case id.
    pub fn id(&self) -> &str {
        match self {
            Property::ExitAndOutput => "exit-and-output",
            Property::ValidGzip => "valid-gzip",
            Property::ValidTar => "valid-tar",
            Property::RelativeNames => "relative-names",
            Property::MemberTypes => "member-types",
            Property::Fidelity => "fidelity",
            Property::SpecialFiles => "special-files",
            Property::Containment => "containment",
            Property::NoDuplicates => "no-duplicates",
            Property::LoudFailure => "loud-failure",
            Property::SourceUntouched => "source-untouched",
            Property::Deterministic => "deterministic",
            Property::Sorted => "sorted",
            Property::Normalized => "normalized",
            Property::Custom(s) => s,
        }
    }

    /// Parses an id.
    pub fn from_id(id: &str) -> Option<Property> {
        Property::DEFAULT
            .into_iter()
            .chain(Property::STRICT)
            .find(|p| p.id() == id)
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Property {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// One broken property, explained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Which property.
    pub property: Property,
    /// The offending member or path, if one.
    pub path: Option<RawPath>,
    /// What the contract expects.
    pub expected: String,
    /// What was found.
    pub found: String,
    /// A short diff or supporting lines (at most a dozen).
    pub details: Vec<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.property)?;
        if let Some(p) = &self.path {
            write!(f, " `{}`:", elide(&p.display()))?;
        }
        write!(f, " expected {}; found {}", self.expected, self.found)?;
        for d in &self.details {
            write!(f, "\n      {d}")?;
        }
        Ok(())
    }
}

/// A violation with no details.
pub(super) fn v(
    property: Property,
    path: Option<RawPath>,
    expected: impl Into<String>,
    found: impl Into<String>,
) -> Violation {
    Violation {
        property,
        path,
        expected: expected.into(),
        found: found.into(),
        details: Vec::new(),
    }
}

/// The most detail lines (or members) one violation lists.
pub(super) const MAX_DETAILS: usize = 12;

/// Shortens a line past 160 characters, keeping both ends.
pub fn elide(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= 160 {
        return line.to_owned();
    }
    let head: String = chars[..90].iter().collect();
    let tail: String = chars[chars.len() - 50..].iter().collect();
    format!("{head}…[{} chars]…{tail}", chars.len() - 140)
}

/// A packager's stderr as detail lines: its first lines and its last ones, the middle elided
/// and counted. The last line is where a Python traceback names the exception, and the first
/// ones say what the packager was doing; trailing blank lines are dropped.
pub fn stderr_excerpt(stderr: &[u8]) -> Vec<String> {
    const HEAD: usize = 4;
    const TAIL: usize = MAX_DETAILS - HEAD - 1;
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.trim_end().lines().collect();
    if lines.len() <= MAX_DETAILS {
        return lines.into_iter().map(elide).collect();
    }
    let elided = lines.len() - HEAD - TAIL;
    let mut out: Vec<String> = lines[..HEAD].iter().map(|l| elide(l)).collect();
    out.push(format!("… {elided} lines elided …"));
    out.extend(lines[lines.len() - TAIL..].iter().map(|l| elide(l)));
    out
}

/// Elides each line and keeps the first [`MAX_DETAILS`], saying how many more there were.
pub(super) fn capped(lines: impl IntoIterator<Item = String>) -> Vec<String> {
    let all: Vec<String> = lines.into_iter().map(|l| elide(&l)).collect();
    let n = all.len();
    let mut out: Vec<String> = all.into_iter().take(MAX_DETAILS).collect();
    if n > MAX_DETAILS {
        out.push(format!("… and {} more", n - MAX_DETAILS));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_traceback_keeps_its_first_and_last_lines() {
        let mut tb = String::from("Traceback (most recent call last):\n");
        for i in 0..40 {
            tb.push_str(&format!("  File \"pack.py\", line {i}, in f{i}\n"));
        }
        tb.push_str("PermissionError: [Errno 13] Permission denied: 'weights.bin'\n\n");
        let lines = stderr_excerpt(tb.as_bytes());
        assert_eq!(lines.len(), MAX_DETAILS);
        assert_eq!(lines[0], "Traceback (most recent call last):");
        assert_eq!(
            lines.last().map(String::as_str),
            Some("PermissionError: [Errno 13] Permission denied: 'weights.bin'")
        );
        assert!(
            lines.contains(&"… 31 lines elided …".to_string()),
            "{lines:?}"
        );
        // A short stderr is kept whole.
        assert_eq!(stderr_excerpt(b"oops\n"), vec!["oops".to_string()]);
    }
}
