//! The generator's ground truth by (code, path): every finding a piece promises the detector
//! reports, with the root its path is relative to ([`Where`]) and the targets it holds on.
//!
//! A [`Promise`] is carried next to a piece's labels ([`super::Piece::promises`]) and gathered
//! into a [`Truth`] when pieces are assembled ([`super::assemble_case`]), nested under the same
//! extra top folder as the model dir. Paths in the model dir are relative to it (`Where::Model`);
//! a model saved outside names its own dir (`Where::Cwd`, `Where::Tmp`, `Where::Output`); an
//! archive finding (`link-in-archive`) names the member a POSIX-faithful packager stores for
//! the model-dir entry, relative to the archive root (`Where::Archive`): the same path, since
//! member names are the model dir's relative paths.
//!
//! Promises are exact: under a target, the detector's findings of a [`PROMISED`] code are the
//! promises that hold on that target, one finding each.

use std::fmt;

use crate::detect::{Code, Where};
use crate::layout::RawPath;
use crate::target::{LinkRule, Target};

/// Every code a [`Truth`] speaks for: its findings are promised exactly, on every target.
pub const PROMISED: [Code; 15] = [
    Code::DanglingSymlink,
    Code::EmptyModelDir,
    Code::ModelSavedOutside,
    Code::SavedmodelIncomplete,
    Code::SavedmodelUnversioned,
    Code::SpecialFile,
    Code::SymlinkEscape,
    Code::SymlinkInModelDir,
    Code::UnreadableByServer,
    Code::NoModelFile,
    Code::JunkFiles,
    Code::UnreadableFile,
    Code::LinkInArchive,
    Code::ModelFileTruncated,
    Code::ModelFileCorrupt,
];

/// One finding as the ground truth compares it: its code, its root and its path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CodePath {
    /// The finding's code.
    pub code: Code,
    /// The directory its path is relative to.
    pub root: Where,
    /// Its path (`None` for a finding about the whole tree).
    pub path: Option<RawPath>,
}

impl fmt::Display for CodePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{} {}:{:?}", self.code, self.root, p),
            None => write!(f, "{} {}", self.code, self.root),
        }
    }
}

/// On which targets a promise holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum When {
    /// On every target.
    Always,
    /// On targets whose consumer refuses symlink members (`symlink-in-model-dir`).
    SymlinksRefused,
    /// On targets whose server needs what it loads readable by others (`unreadable-by-server`).
    WorldReadable,
    /// A symlink member, on targets that refuse it (`link-in-archive`): every symlink under
    /// [`LinkRule::Refuse`], one that is absolute or leaves the root under
    /// [`LinkRule::KeepInside`].
    SymlinkMember {
        /// The link's target is absolute or leaves the archive root.
        escapes: bool,
    },
    /// A hard-link member to a member inside the archive, on targets that refuse hard links.
    HardlinkMember,
}

impl When {
    /// True when a promise of this kind holds on `target`.
    pub fn holds(self, target: Target) -> bool {
        let spec = target.spec();
        let refused = |rule: LinkRule, escapes: bool| match rule {
            LinkRule::Refuse => true,
            LinkRule::Keep => false,
            LinkRule::KeepInside => escapes,
        };
        match self {
            When::Always => true,
            When::SymlinksRefused => spec.symlinks == LinkRule::Refuse,
            When::WorldReadable => spec.needs_world_readable,
            When::SymlinkMember { escapes } => refused(spec.symlinks, escapes),
            When::HardlinkMember => refused(spec.hardlinks, false),
        }
    }
}

/// A finding a piece promises, and the targets it holds on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Promise {
    /// The promised finding.
    pub at: CodePath,
    /// Where it holds.
    pub when: When,
}

impl Promise {
    /// `code` at `path` in the model dir, on every target.
    pub fn model(code: Code, path: impl Into<RawPath>) -> Self {
        Promise::new(code, Where::Model, Some(path.into()), When::Always)
    }

    /// Any promise.
    pub fn new(code: Code, root: Where, path: Option<RawPath>, when: When) -> Self {
        Promise {
            at: CodePath { code, root, path },
            when,
        }
    }

    /// The model-dir symlink at `path`, whose target resolves inside the model dir:
    /// `symlink-in-model-dir` there and `link-in-archive` on its member, where they apply.
    pub fn inside_link(path: impl Into<RawPath>) -> [Promise; 2] {
        let path = path.into();
        [
            Promise::new(
                Code::SymlinkInModelDir,
                Where::Model,
                Some(path.clone()),
                When::SymlinksRefused,
            ),
            Promise::link_member(path, false),
        ]
    }

    /// `link-in-archive` on the symlink member at `path`, where it applies.
    pub fn link_member(path: impl Into<RawPath>, escapes: bool) -> Promise {
        Promise::new(
            Code::LinkInArchive,
            Where::Archive,
            Some(path.into()),
            When::SymlinkMember { escapes },
        )
    }
}

/// Every promise of a generated layout.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Truth {
    /// The promises, in piece order.
    pub promises: Vec<Promise>,
}

impl Truth {
    /// The findings promised on `target`, in the model-dir view (`archive == false`: the
    /// model dir and the dirs a model may be saved to by mistake) or the archive view.
    pub fn expected(&self, target: Target, archive: bool) -> Vec<CodePath> {
        let mut v: Vec<CodePath> = self
            .promises
            .iter()
            .filter(|p| p.when.holds(target) && (p.at.root == Where::Archive) == archive)
            .map(|p| p.at.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// True when some promise has `code`.
    pub fn promises_code(&self, code: Code) -> bool {
        self.promises.iter().any(|p| p.at.code == code)
    }

    /// Puts every model-dir and archive path under `dir/`, as nesting the model dir does.
    pub(super) fn nest(&mut self, dir: &str) {
        for p in &mut self.promises {
            if matches!(p.at.root, Where::Model | Where::Archive) {
                if let Some(path) = &mut p.at.path {
                    *path = RawPath::from(dir).join(path.as_bytes());
                }
            }
        }
    }
}

impl fmt::Display for Truth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.promises {
            writeln!(f, "{} ({:?})", p.at, p.when)?;
        }
        Ok(())
    }
}
