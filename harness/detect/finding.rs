//! One detector result ([`Finding`]), the tree it is about ([`Where`]), and the sort order
//! findings are reported in.

use std::cmp::Ordering;
use std::fmt;

use serde::{Serialize, Serializer};

use super::code::{Code, Severity};
use crate::layout::RawPath;

/// Which directory a finding's path is relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Where {
    /// `model`: the model dir (`SM_MODEL_DIR`).
    Model,
    /// `cwd`: the job's working dir.
    Cwd,
    /// `tmp`: a `/tmp`-like scratch dir.
    Tmp,
    /// `output`: the output data dir (`SM_OUTPUT_DATA_DIR`).
    Output,
    /// `archive`: the archive's root.
    Archive,
}

impl Where {
    /// `model`, `cwd`, `tmp`, `output` or `archive`.
    pub fn id(self) -> &'static str {
        match self {
            Where::Model => "model",
            Where::Cwd => "cwd",
            Where::Tmp => "tmp",
            Where::Output => "output",
            Where::Archive => "archive",
        }
    }
}

impl fmt::Display for Where {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl PartialOrd for Where {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders as the id strings do, so findings sort as they did when roots were strings.
impl Ord for Where {
    fn cmp(&self, other: &Self) -> Ordering {
        self.id().cmp(other.id())
    }
}

impl Serialize for Where {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable code; serialized as its kebab-case id.
    pub code: Code,
    /// Severity (always `code.severity_at(root)` for the detector's own findings).
    pub severity: Severity,
    /// Which directory the path is relative to.
    pub root: Where,
    /// The path involved, if one.
    pub path: Option<RawPath>,
    /// What is wrong and why it matters.
    pub message: String,
    /// What to do instead.
    pub fix: String,
}

/// Codes that report something missing or incomplete: a truncated archive or a job that
/// died before saving shows all of them without any packaging mistake.
const ABSENCE: [Code; 6] = [
    Code::EmptyModelDir,
    Code::NoModelFile,
    Code::HfIncomplete,
    Code::SavedmodelIncomplete,
    Code::ZeroByteModelFile,
    Code::ArchiveMismatch,
];

/// Marks the findings that may only follow from `cause` (a damaged archive, a failed job):
/// each says so and its fix becomes "fix that first", since the usual fix (save the model
/// under `$SM_MODEL_DIR`…) does not apply. `cause` reads after "because", e.g.
/// "the archive is damaged". Other findings are left as they are.
pub fn after_failure(findings: &mut [Finding], cause: &str, first: &str) {
    for f in findings.iter_mut().filter(|f| ABSENCE.contains(&f.code)) {
        f.message = format!(
            "{} (this may only follow from the failure above: {cause})",
            f.message
        );
        f.fix = format!(
            "{first}, then check again; until then this finding says nothing about packaging"
        );
    }
}

/// A finding with its code's severity.
pub(super) fn finding(
    code: Code,
    root: Where,
    path: Option<RawPath>,
    message: String,
    fix: impl Into<String>,
) -> Finding {
    Finding {
        code,
        severity: code.severity_at(root),
        root,
        path,
        message,
        fix: fix.into(),
    }
}

/// Sorts by severity, code, root and path (stable), and drops exact repeats.
pub(super) fn sort(mut v: Vec<Finding>) -> Vec<Finding> {
    v.sort_by(|a, b| {
        (a.severity, a.code, a.root, &a.path).cmp(&(b.severity, b.code, b.root, &b.path))
    });
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absence_findings_are_blamed_on_the_failure() {
        let f = |code| finding(code, Where::Model, None, "m".into(), "the usual fix");
        let mut v = vec![f(Code::EmptyModelDir), f(Code::SymlinkEscape)];
        after_failure(&mut v, "the archive is damaged", "re-create the archive");
        assert!(v[0]
            .message
            .contains("follow from the failure above: the archive is damaged"));
        assert!(v[0]
            .fix
            .starts_with("re-create the archive, then check again"));
        assert!(!v[0].fix.contains("the usual fix"));
        assert_eq!(v[1].fix, "the usual fix");
    }
}
