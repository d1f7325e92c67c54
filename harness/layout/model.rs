//! Entry kinds, roots, and the well-formedness rules of a layout.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::bytes::RawPath;
use super::content::Content;

/// Where in the job sandbox an entry lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Root {
    /// `opt/ml/model`, `SM_MODEL_DIR`: what gets packaged.
    Model,
    /// `opt/ml/code`: the job's working directory.
    Cwd,
    /// `opt/ml/checkpoints`: synced separately, never packaged.
    Checkpoints,
    /// `opt/ml/output/data`, `SM_OUTPUT_DATA_DIR`.
    Output,
    /// `opt/ml/input/data/train`, `SM_CHANNEL_TRAIN`: the training data channel.
    Input,
    /// `tmp`: the emulated `/tmp` of the container.
    Tmp,
    /// `outside`: files outside the job, the targets of escaping symlinks.
    Outside,
}

impl Root {
    /// Every root, in sandbox order.
    pub const ALL: [Root; 7] = [
        Root::Model,
        Root::Cwd,
        Root::Checkpoints,
        Root::Output,
        Root::Input,
        Root::Tmp,
        Root::Outside,
    ];

    /// The root's directory, relative to the sandbox.
    pub fn rel_dir(self) -> &'static str {
        match self {
            Root::Model => "opt/ml/model",
            Root::Cwd => "opt/ml/code",
            Root::Checkpoints => "opt/ml/checkpoints",
            Root::Output => "opt/ml/output/data",
            Root::Input => "opt/ml/input/data/train",
            Root::Tmp => "tmp",
            Root::Outside => "outside",
        }
    }

    /// The name used in TOML and reports.
    pub fn name(self) -> &'static str {
        match self {
            Root::Model => "model",
            Root::Cwd => "cwd",
            Root::Checkpoints => "checkpoints",
            Root::Output => "output",
            Root::Input => "input",
            Root::Tmp => "tmp",
            Root::Outside => "outside",
        }
    }
}

impl fmt::Display for Root {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kind of one filesystem object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File {
        /// What the file holds.
        content: Content,
        /// Permission bits (for example `0o644`).
        mode: u32,
    },
    /// A directory, possibly empty.
    Dir {
        /// Permission bits.
        mode: u32,
    },
    /// A symbolic link; the target is stored verbatim (it may dangle, be absolute, or escape).
    Symlink {
        /// The link target, raw bytes.
        target: RawPath,
    },
    /// A hard link to another regular-file entry of the layout.
    Hardlink {
        /// The root of the linked entry.
        target_root: Root,
        /// The path of the linked entry, relative to `target_root`.
        target: RawPath,
    },
    /// A named pipe.
    Fifo {
        /// Permission bits.
        mode: u32,
    },
    /// A Unix socket node (as a logger or a server leaves behind).
    Socket,
}

impl EntryKind {
    /// A short kind name: `file`, `dir`, `symlink`, `hardlink`, `fifo`, `socket`.
    pub fn name(&self) -> &'static str {
        match self {
            EntryKind::File { .. } => "file",
            EntryKind::Dir { .. } => "dir",
            EntryKind::Symlink { .. } => "symlink",
            EntryKind::Hardlink { .. } => "hardlink",
            EntryKind::Fifo { .. } => "fifo",
            EntryKind::Socket => "socket",
        }
    }
}

/// One object in the sandbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The root it lives under.
    pub root: Root,
    /// The path relative to the root; never empty, absolute, or containing `.`/`..`.
    pub path: RawPath,
    /// What it is.
    pub kind: EntryKind,
}

impl Entry {
    /// A regular file with mode 0644.
    pub fn file(root: Root, path: impl Into<RawPath>, content: Content) -> Self {
        Entry {
            root,
            path: path.into(),
            kind: EntryKind::File {
                content,
                mode: 0o644,
            },
        }
    }

    /// A directory with mode 0755.
    pub fn dir(root: Root, path: impl Into<RawPath>) -> Self {
        Entry {
            root,
            path: path.into(),
            kind: EntryKind::Dir { mode: 0o755 },
        }
    }

    /// A symlink.
    pub fn symlink(root: Root, path: impl Into<RawPath>, target: impl Into<RawPath>) -> Self {
        Entry {
            root,
            path: path.into(),
            kind: EntryKind::Symlink {
                target: target.into(),
            },
        }
    }

    /// A hard link to `target` in the same root.
    pub fn hardlink(root: Root, path: impl Into<RawPath>, target: impl Into<RawPath>) -> Self {
        Entry {
            root,
            path: path.into(),
            kind: EntryKind::Hardlink {
                target_root: root,
                target: target.into(),
            },
        }
    }

    /// A FIFO with mode 0644.
    pub fn fifo(root: Root, path: impl Into<RawPath>) -> Self {
        Entry {
            root,
            path: path.into(),
            kind: EntryKind::Fifo { mode: 0o644 },
        }
    }

    /// A socket node.
    pub fn socket(root: Root, path: impl Into<RawPath>) -> Self {
        Entry {
            root,
            path: path.into(),
            kind: EntryKind::Socket,
        }
    }

    /// Sets the mode of a file, dir or FIFO (no effect on other kinds).
    pub fn with_mode(mut self, new: u32) -> Self {
        match &mut self.kind {
            EntryKind::File { mode, .. } | EntryKind::Dir { mode } | EntryKind::Fifo { mode } => {
                *mode = new
            }
            _ => {}
        }
        self
    }
}

/// The label of an injected pitfall, in kebab-case (for example `stray-save-cwd`).
///
/// Labels that equal a detector code ([`crate::detect::Code`]) promise that the detector reports that code.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Label(pub String);

impl Label {
    /// Builds a label.
    pub fn new(s: impl Into<String>) -> Self {
        Label(s.into())
    }

    /// The label text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A whole job sandbox, as a value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// The labels of the pitfalls injected into this layout, sorted and unique.
    pub labels: BTreeSet<Label>,
    /// The entries, in creation order.
    pub entries: Vec<Entry>,
}

/// Why a layout is not well formed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LayoutError {
    /// The path is empty.
    #[error("entry {index}: the path is empty (give a relative path such as `model.pt`)")]
    EmptyPath {
        /// Index of the entry.
        index: usize,
    },
    /// The path is absolute.
    #[error("entry {index}: `{path}` is absolute; layout paths are relative to their root")]
    AbsolutePath {
        /// Index of the entry.
        index: usize,
        /// The path.
        path: RawPath,
    },
    /// The path has `.` or `..` or an empty component.
    #[error(
        "entry {index}: `{path}` has a `.`, `..` or empty component; write the normalized path"
    )]
    UnnormalizedPath {
        /// Index of the entry.
        index: usize,
        /// The path.
        path: RawPath,
    },
    /// The path has a NUL byte.
    #[error("entry {index}: `{path}` contains a NUL byte, which no filesystem allows")]
    NulInPath {
        /// Index of the entry.
        index: usize,
        /// The path.
        path: RawPath,
    },
    /// Two entries at one path.
    #[error("entries {first} and {second} are both at `{root}:{path}`; keep one of them")]
    Duplicate {
        /// Index of the first entry.
        first: usize,
        /// Index of the second entry.
        second: usize,
        /// Their root.
        root: Root,
        /// Their path.
        path: RawPath,
    },
    /// An entry lies under something that is not a directory.
    #[error("entry {index}: `{root}:{path}` lies under `{parent}`, which is a {parent_kind}, not a directory")]
    UnderNonDir {
        /// Index of the entry.
        index: usize,
        /// Its root.
        root: Root,
        /// Its path.
        path: RawPath,
        /// The offending ancestor.
        parent: RawPath,
        /// The ancestor's kind.
        parent_kind: &'static str,
    },
    /// A hard link names no regular-file entry.
    #[error("entry {index}: hard link `{path}` targets `{target_root}:{target}`, which is not a regular-file entry of the layout")]
    BadHardlink {
        /// Index of the entry.
        index: usize,
        /// The link path.
        path: RawPath,
        /// The target root.
        target_root: Root,
        /// The target path.
        target: RawPath,
    },
    /// A symlink with an empty target.
    #[error("entry {index}: symlink `{path}` has an empty target")]
    EmptyTarget {
        /// Index of the entry.
        index: usize,
        /// The link path.
        path: RawPath,
    },
    /// A mode with bits outside 0o7777.
    #[error("entry {index}: mode {mode:#o} of `{path}` has bits outside 0o7777")]
    BadMode {
        /// Index of the entry.
        index: usize,
        /// The path.
        path: RawPath,
        /// The mode.
        mode: u32,
    },
}

impl Layout {
    /// An empty layout.
    pub fn new() -> Self {
        Layout::default()
    }

    /// Adds an entry (builder style).
    pub fn with(mut self, entry: Entry) -> Self {
        self.entries.push(entry);
        self
    }

    /// Adds a label (builder style).
    pub fn labeled(mut self, label: &str) -> Self {
        self.labels.insert(Label::new(label));
        self
    }

    /// True when the layout carries `label`.
    pub fn has_label(&self, label: &str) -> bool {
        self.labels.iter().any(|l| l.0 == label)
    }

    /// The entries under `root`.
    pub fn in_root(&self, root: Root) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(move |e| e.root == root)
    }

    /// Checks that the layout can be materialized exactly.
    ///
    /// Rules: relative, normalized, NUL-free paths; one entry per path; nothing under a
    /// non-directory; hard links name a regular-file entry; modes within 0o7777.
    pub fn validate(&self) -> Result<(), LayoutError> {
        let mut seen: BTreeMap<(Root, &RawPath), usize> = BTreeMap::new();
        for (index, e) in self.entries.iter().enumerate() {
            let bytes = e.path.as_bytes();
            if bytes.is_empty() {
                return Err(LayoutError::EmptyPath { index });
            }
            if bytes[0] == b'/' {
                return Err(LayoutError::AbsolutePath {
                    index,
                    path: e.path.clone(),
                });
            }
            if bytes.contains(&0) {
                return Err(LayoutError::NulInPath {
                    index,
                    path: e.path.clone(),
                });
            }
            if bytes
                .split(|b| *b == b'/')
                .any(|c| c.is_empty() || c == b"." || c == b"..")
            {
                return Err(LayoutError::UnnormalizedPath {
                    index,
                    path: e.path.clone(),
                });
            }
            match &e.kind {
                EntryKind::File { mode, .. }
                | EntryKind::Dir { mode }
                | EntryKind::Fifo { mode }
                    if *mode > 0o7777 =>
                {
                    return Err(LayoutError::BadMode {
                        index,
                        path: e.path.clone(),
                        mode: *mode,
                    });
                }
                EntryKind::Symlink { target } if target.as_bytes().is_empty() => {
                    return Err(LayoutError::EmptyTarget {
                        index,
                        path: e.path.clone(),
                    });
                }
                _ => {}
            }
            if let Some(first) = seen.insert((e.root, &e.path), index) {
                return Err(LayoutError::Duplicate {
                    first,
                    second: index,
                    root: e.root,
                    path: e.path.clone(),
                });
            }
        }
        for (index, e) in self.entries.iter().enumerate() {
            let mut parent = e.path.parent();
            while let Some(p) = parent {
                if let Some(&pi) = seen.get(&(e.root, &p)) {
                    let pk = &self.entries[pi].kind;
                    if !matches!(pk, EntryKind::Dir { .. }) {
                        return Err(LayoutError::UnderNonDir {
                            index,
                            root: e.root,
                            path: e.path.clone(),
                            parent: p,
                            parent_kind: pk.name(),
                        });
                    }
                }
                parent = p.parent();
            }
            if let EntryKind::Hardlink {
                target_root,
                target,
            } = &e.kind
            {
                let ok = seen
                    .get(&(*target_root, target))
                    .is_some_and(|&ti| matches!(self.entries[ti].kind, EntryKind::File { .. }));
                if !ok {
                    return Err(LayoutError::BadHardlink {
                        index,
                        path: e.path.clone(),
                        target_root: *target_root,
                        target: target.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Content {
        Content::Text(s.into())
    }

    #[test]
    fn rejects_dotdot_absolute_and_empty_components() {
        for bad in ["../x", "a/../b", "/abs", "a//b", "./a", "a/"] {
            let l = Layout::new().with(Entry::file(Root::Model, bad, text("x")));
            assert!(l.validate().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn rejects_two_entries_at_one_path() {
        let l = Layout::new()
            .with(Entry::file(Root::Model, "a", text("1")))
            .with(Entry::dir(Root::Model, "a"));
        assert!(matches!(l.validate(), Err(LayoutError::Duplicate { .. })));
    }

    #[test]
    fn same_path_in_two_roots_is_fine() {
        let l = Layout::new()
            .with(Entry::file(Root::Model, "a", text("1")))
            .with(Entry::file(Root::Cwd, "a", text("1")));
        assert_eq!(l.validate(), Ok(()));
    }

    #[test]
    fn rejects_a_file_under_a_file_or_symlink() {
        let l = Layout::new()
            .with(Entry::file(Root::Model, "a", text("1")))
            .with(Entry::file(Root::Model, "a/b", text("2")));
        assert!(matches!(l.validate(), Err(LayoutError::UnderNonDir { .. })));
        let l = Layout::new()
            .with(Entry::symlink(Root::Model, "a", "x"))
            .with(Entry::file(Root::Model, "a/b/c", text("2")));
        assert!(matches!(l.validate(), Err(LayoutError::UnderNonDir { .. })));
    }

    #[test]
    fn hardlinks_must_name_a_file_entry() {
        let l = Layout::new().with(Entry::hardlink(Root::Model, "h", "missing"));
        assert!(matches!(l.validate(), Err(LayoutError::BadHardlink { .. })));
        let l = Layout::new()
            .with(Entry::file(Root::Model, "f", text("1")))
            .with(Entry::hardlink(Root::Model, "h", "f"));
        assert_eq!(l.validate(), Ok(()));
    }
}
