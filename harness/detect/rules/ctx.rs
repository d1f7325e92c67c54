//! What every tree rule reads ([`Ctx`]): the tree, which root it is, and the options.

use crate::detect::code::Code;
use crate::detect::finding::{finding, Finding, Where};
use crate::detect::options::DetectOptions;
use crate::detect::tree::Tree;
use crate::layout::RawPath;

/// The input of a tree rule.
pub(crate) struct Ctx<'a> {
    /// The model dir or archive.
    pub t: &'a Tree,
    /// Which root the tree is (names it in findings).
    pub root: Where,
    /// Detector settings.
    pub opts: &'a DetectOptions,
}

impl Ctx<'_> {
    /// True when the tree is an archive's members.
    pub fn in_archive(&self) -> bool {
        self.root == Where::Archive
    }

    /// `the archive` or `the model dir`, for messages.
    pub fn where_(&self) -> &'static str {
        if self.in_archive() {
            "the archive"
        } else {
            "the model dir"
        }
    }

    /// A finding on this tree's root.
    pub fn finding(
        &self,
        code: Code,
        path: Option<RawPath>,
        message: String,
        fix: impl Into<String>,
    ) -> Finding {
        finding(code, self.root, path, message, fix)
    }
}

/// True for a non-empty all-digits name (a TF Serving version dir).
pub(crate) fn is_digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}
