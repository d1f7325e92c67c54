//! The expected tree against what the consumer extracted: the `fidelity` comparison of
//! the contract, per target.
//!
//! A parent dir that only children imply counts as present (every extractor creates it); an
//! empty dir must be a member, since nothing else makes the consumer create it. Exec bits are
//! compared after the consumer's own mode rules, so a consumer that drops a bit the packager
//! stored faithfully does not blame the packager. Where the consumer keeps directory modes
//! ([`super::DirModes::Kept`]), a dir (the root entry `./` included) must keep every search
//! bit it has in the model dir.

use crate::archive::{DiffItem, DiskKind, MemberKind};
use crate::layout::RawPath;

use super::extract::consumer_mode;
use super::{Expected, VEntry, VTree, Want};

/// One way the consumer's tree falls short of the expected one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gap {
    /// A difference in what was extracted.
    Diff(DiffItem),
    /// The packager should have failed loudly on this path, and did not.
    NotRefused {
        /// The path in the model dir.
        path: RawPath,
        /// What it is on disk.
        kind: DiskKind,
        /// Why it must be refused.
        reason: String,
        /// What the consumer got there instead, if anything.
        found: Option<String>,
    },
}

impl Gap {
    /// The path the gap is about.
    pub fn path(&self) -> &RawPath {
        match self {
            Gap::Diff(d) => d.path(),
            Gap::NotRefused { path, .. } => path,
        }
    }
}

/// A short name of what the consumer got.
pub fn describe(e: &VEntry) -> String {
    match e {
        VEntry::File { .. } => "regular file".into(),
        VEntry::Dir { .. } => "directory".into(),
        VEntry::Symlink { target } => format!("symlink to `{target}`"),
        VEntry::Special { kind, .. } => kind.name(),
    }
}

fn want_kind(w: &Want) -> DiskKind {
    match w {
        Want::File { .. } => DiskKind::File,
        Want::Dir { .. } => DiskKind::Dir,
        Want::Symlink { .. } => DiskKind::Symlink,
        Want::Special { kind } => *kind,
        Want::Refuse { kind, .. } => *kind,
    }
}

fn same_special(k: DiskKind, m: MemberKind) -> bool {
    matches!(
        (k, m),
        (DiskKind::Fifo, MemberKind::Fifo)
            | (DiskKind::CharDevice, MemberKind::CharDevice)
            | (DiskKind::BlockDevice, MemberKind::BlockDevice)
    )
}

/// Every gap between `expected` and the consumer's tree `got`, sorted by path.
pub fn compare(expected: &Expected, got: &VTree) -> Vec<Gap> {
    let target = expected.target;
    let mut gaps = Vec::new();
    let kind_gap = |path: &RawPath, w: &Want, g: &VEntry| {
        Gap::Diff(DiffItem::Kind {
            path: path.clone(),
            expected: want_kind(w),
            found: describe(g),
        })
    };
    for (path, want) in &expected.tree {
        let g = got.entries.get(path);
        match (want, g) {
            (Want::Refuse { kind, reason }, g) => gaps.push(Gap::NotRefused {
                path: path.clone(),
                kind: *kind,
                reason: reason.clone(),
                found: g.map(describe),
            }),
            (w, None) => gaps.push(Gap::Diff(DiffItem::Missing {
                path: path.clone(),
                kind: want_kind(w),
            })),
            (
                Want::File {
                    sha256, size, mode, ..
                },
                Some(VEntry::File {
                    sha256: found,
                    size: found_size,
                    mode: found_mode,
                    ..
                }),
            ) => {
                if sha256 != found || found.is_none() {
                    gaps.push(Gap::Diff(DiffItem::Content {
                        path: path.clone(),
                        expected_size: *size,
                        found_size: *found_size,
                    }));
                }
                let want_exec = consumer_mode(target, MemberKind::File, *mode) & 0o111;
                if want_exec != found_mode & 0o111 {
                    gaps.push(Gap::Diff(DiffItem::ExecBits {
                        path: path.clone(),
                        expected: *mode,
                        found: *found_mode,
                    }));
                }
            }
            (Want::Dir { mode }, Some(VEntry::Dir { stored, .. })) => {
                if let Some(found) = lost_search_bits(target, *mode, *stored) {
                    gaps.push(Gap::Diff(DiffItem::ExecBits {
                        path: path.clone(),
                        expected: *mode,
                        found,
                    }));
                }
            }
            (Want::Symlink { target }, Some(VEntry::Symlink { target: found })) => {
                if target != found {
                    gaps.push(Gap::Diff(DiffItem::LinkTarget {
                        path: path.clone(),
                        expected: target.clone(),
                        found: found.clone(),
                    }));
                }
            }
            (Want::Special { kind }, Some(VEntry::Special { kind: m, .. }))
                if same_special(*kind, *m) => {}
            (w, Some(g)) => gaps.push(kind_gap(path, w, g)),
        }
    }
    let refused: Vec<&RawPath> = expected
        .tree
        .iter()
        .filter(|(_, w)| matches!(w, Want::Refuse { .. }))
        .map(|(p, _)| p)
        .collect();
    for (path, g) in &got.entries {
        if expected.tree.contains_key(path) || refused.iter().any(|r| path.starts_with(r)) {
            continue;
        }
        gaps.push(Gap::Diff(DiffItem::Extra {
            path: path.clone(),
            kind: describe(g),
        }));
    }
    if let Some(want) = expected.root_mode {
        if let Some(found) = lost_search_bits(target, want, got.root) {
            gaps.push(Gap::Diff(DiffItem::ExecBits {
                path: RawPath::from("."),
                expected: want,
                found,
            }));
        }
    }
    gaps.sort_by(|a, b| a.path().cmp(b.path()));
    gaps
}

/// The mode a dir member gave a directory whose model-dir mode is `want`, when the consumer
/// keeps dir modes and a search (exec) bit `want` has is missing from it: a server running as
/// another user can then not enter it. A gained bit is no loss (the reference packager
/// normalizes dirs to 0755), and an implied dir gets the consumer's default mode.
fn lost_search_bits(target: super::Target, want: u32, stored: Option<u32>) -> Option<u32> {
    if target.spec().dir_modes != super::DirModes::Kept {
        return None;
    }
    stored.filter(|s| want & 0o111 & !s != 0)
}
